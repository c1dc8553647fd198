"""Typed records that cross module borders (ingest -> store -> features -> ...).

Readers return :class:`DecodeResult` -- data plus a list of problems, never an
exception for bad input -- so that one damaged file cannot abort a batch
(the errors-as-values design of fitdecode / garmin-fit-sdk).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
