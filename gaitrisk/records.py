"""Typed records that cross module borders (ingest -> store -> features -> ...).

Readers return :class:`DecodeResult` -- data plus a list of problems, never an
exception for bad input -- so that one damaged file cannot abort a batch
(the errors-as-values design of fitdecode / garmin-fit-sdk).

The athlete's own records live here too: pain entries, declared data gaps, weekly OSTRC
answers and an activity's review.  Each validates itself, so no path (CLI, CSV, store)
can build an invalid one.  This module imports only the pain log's vocabulary
(:mod:`gaitrisk.vocab`): the store sits directly on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import vocab

if TYPE_CHECKING:  # pandas is imported lazily to keep the CLI's cold start fast
    import pandas as pd


@dataclass(frozen=True)
class Lap:
    """One lap as the device recorded it (seconds, metres)."""

    start_time: dt.datetime
    elapsed_s: float | None
    timer_s: float | None
    distance_m: float | None


@dataclass(frozen=True)
class DeviceSummary:
    """The device's own session summary: an oracle independent of our sample maths.

    Cadence is already converted to steps/min; ``None`` where the file has no value.
    """

    sport: str | None = None
    sub_sport: str | None = None
    start_time: dt.datetime | None = None
    total_distance_m: float | None = None
    total_elapsed_s: float | None = None
    total_timer_s: float | None = None
    avg_speed_mps: float | None = None
    avg_heart_rate_bpm: float | None = None
    avg_cadence_spm: float | None = None
    avg_stance_time_ms: float | None = None
    total_ascent_m: float | None = None
    total_descent_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if self.start_time is not None:
            out["start_time"] = self.start_time.isoformat()
        return out


@dataclass
class DecodedActivity:
    """One activity (or one leg of a multisport file) as a reader produced it."""

    fmt: str
    sport: str
    sub_sport: str | None
    device: str | None
    start_time: dt.datetime
    samples: "pd.DataFrame"
    laps: tuple[Lap, ...] = ()
    summary: DeviceSummary | None = None
    leg_index: int = 0
    name: str | None = None


@dataclass
class DecodeResult:
    """What a reader got out of one file.

    ``problems`` are one-line, human-readable notes.  ``partial`` says the file
    was damaged and only what precedes the damage (or what could be read
    without verification) was kept.  ``skipped_reason`` is set when the file
    was readable but holds nothing to import (a settings file, a route).
    """

    activities: list[DecodedActivity] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    partial: bool = False
    skipped_reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ActivityRecord:
    """An activity as the store holds it: the contract for every later stage.

    Times are UTC; durations in seconds; distance in metres; cadence in steps/min.
    """

    id: str
    athlete: str
    fmt: str
    sport: str
    sub_sport: str | None
    device: str | None
    name: str | None
    start_time: dt.datetime
    duration_s: float
    moving_time_s: float
    distance_m: float | None
    avg_cadence_spm: float | None
    avg_stance_time_ms: float | None
    partial: bool
    sources: tuple[str, ...]
    laps: tuple[Lap, ...] = ()
    summary: DeviceSummary | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class PainEntry:
    """One pain report.  ``time_utc`` is aware UTC; ``date_only`` entries are stored at local noon.

    ``zone`` is the IANA zone the time was entered in (kept so the entry can be shown
    as the user wrote it).  ``when`` and ``region``/``side``/``behaviour`` hold
    vocabulary codes (:mod:`gaitrisk.vocab`).  ``id`` is ``None`` until stored.
    """

    athlete: str
    time_utc: dt.datetime
    score: int
    region: str
    side: str
    when: str
    behaviour: str | None = None
    note: str | None = None
    date_only: bool = False
    zone: str = "UTC"
    id: int | None = None

    def __post_init__(self) -> None:
        # The store and the CLI both build entries; validating here means no path can
        # store a score of 11 or a region outside the list.
        if self.time_utc.tzinfo is None:
            raise ValueError("time_utc must be timezone-aware")
        vocab.score(self.score)
        if self.region not in vocab.REGIONS:
            raise ValueError(f"unknown region {self.region!r}")
        if self.side not in vocab.SIDES:
            raise ValueError(f"unknown side {self.side!r}")
        if self.when not in vocab.WHENS:
            raise ValueError(f"unknown when {self.when!r}")
        if self.behaviour is not None and self.behaviour not in vocab.BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}")

    def local_time(self) -> dt.datetime:
        return self.time_utc.astimezone(ZoneInfo(self.zone))

    def with_id(self, id_: int) -> "PainEntry":
        return replace(self, id=id_)


@dataclass(frozen=True)
class DataGap:
    """User-declared local calendar days ``first_day`` .. ``last_day`` (both inclusive) without data.

    A day inside a gap is "no data" (NaN) in the daily series, never 0 km: a rest
    day and a day the watch stayed at home look the same in the store, and only the
    user can tell them apart.
    """

    athlete: str
    first_day: dt.date
    last_day: dt.date
    reason: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"gap ends ({self.last_day}) before it starts ({self.first_day})")

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


# The OSTRC-O2 answers (Clarsen 2020; the questions are in gaitrisk.pain.ostrc): four
# questions, options 0-3 scored 0, 8, 17 and 25; question 1's first and last options end
# the questionnaire.
OSTRC_SCORES: tuple[int, ...] = (0, 8, 17, 25)
FULL_PARTICIPATION, NO_PARTICIPATION = 0, 3   # question 1's options that end the questionnaire
SEVERITY_MAX = 100
SUBSTANTIAL_FROM = 2   # "to a moderate extent" on training (question 2) or performance (question 3)


def skips_rest(participation: int) -> bool:
    """Whether question 1's answer ends the questionnaire (questions 2-4 are then not asked)."""
    return participation in (FULL_PARTICIPATION, NO_PARTICIPATION)


def severity(participation: int, training: int | None, performance: int | None, symptoms: int | None) -> int:
    """The 0-100 severity score of one week's answers (option indices)."""
    if participation == FULL_PARTICIPATION:
        return 0
    if participation == NO_PARTICIPATION:
        return SEVERITY_MAX
    if training is None or performance is None or symptoms is None:
        raise ValueError("questions 2-4 need an answer unless question 1 ends the questionnaire")
    return sum(OSTRC_SCORES[a] for a in (participation, training, performance, symptoms))


def substantial(participation: int, training: int | None, performance: int | None) -> bool:
    """A substantial problem: could not participate, or training or performance reduced moderately or more."""
    return (participation == NO_PARTICIPATION or (training or 0) >= SUBSTANTIAL_FROM
            or (performance or 0) >= SUBSTANTIAL_FROM)


@dataclass(frozen=True)
class OstrcWeek:
    """One week's answers for one area.  ``week`` is a Monday; answers are option indices 0-3.

    One answer per athlete, week and area: storing another replaces it.
    ``entered_at`` is aware UTC.  ``id`` is ``None`` until stored.
    """

    athlete: str
    week: dt.date
    area: str
    participation: int
    training: int | None
    performance: int | None
    symptoms: int | None
    entered_at: dt.datetime
    note: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        # Every path (CLI, CSV, store) builds these: validating here means none can store
        # a fifth option or a week keyed by a Wednesday.
        if self.week.weekday() != 0:
            raise ValueError(f"week {self.week} is not a Monday")
        if self.area not in vocab.REGIONS:
            raise ValueError(f"unknown area {self.area!r}")
        if self.entered_at.tzinfo is None:
            raise ValueError("entered_at must be timezone-aware")
        if self.participation not in range(4):
            raise ValueError(f"participation {self.participation!r} is not an option 0-3")
        rest = (self.training, self.performance, self.symptoms)
        if skips_rest(self.participation):
            if any(a is not None for a in rest):
                raise ValueError(f"participation {self.participation} ends the questionnaire: "
                                 "training, performance and symptoms are not asked")
        elif any(a not in range(4) for a in rest):
            raise ValueError("training, performance and symptoms each need an option 0-3")

    @property
    def severity(self) -> int:
        return severity(self.participation, self.training, self.performance, self.symptoms)

    @property
    def substantial(self) -> bool:
        return substantial(self.participation, self.training, self.performance)

    @property
    def answers(self) -> tuple[int | None, ...]:
        return (self.participation, self.training, self.performance, self.symptoms)


# Whether an activity counts as a run (gaitrisk.review): the screening's verdict or the user's word.
SCREENED_RUN = "run"
NOT_A_RUN = "not_a_run"
INCLUDED = "included"
EXCLUDED = "excluded"
# Statuses the screening may set and replace; None = not screened yet.
AUTOMATIC = (None, SCREENED_RUN, NOT_A_RUN)
STATUSES = (SCREENED_RUN, NOT_A_RUN, INCLUDED, EXCLUDED)
LABELS = {None: "", SCREENED_RUN: "", NOT_A_RUN: "not a run?", INCLUDED: "included", EXCLUDED: "excluded"}


@dataclass(frozen=True)
class Review:
    """An activity's status (one of :data:`STATUSES`, ``None`` = not screened) and why."""

    status: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"unknown review status {self.status!r}")

    @property
    def label(self) -> str:
        return LABELS[self.status]
