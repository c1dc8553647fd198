"""The pain record and how raw user input becomes one (errors as values for the CSV path)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from ..times import TimeZoneError, to_utc
from ..plausible import day_problem
from . import vocab


@dataclass(frozen=True)
class PainEntry:
    """One pain report.  ``time_utc`` is aware UTC; ``date_only`` entries are stored at local noon.

    ``zone`` is the IANA zone the time was entered in (kept so the entry can be shown
    as the user wrote it).  ``when`` and ``region``/``side``/``behaviour`` hold
    vocabulary codes (:mod:`gaitrisk.pain.vocab`).  ``id`` is ``None`` until stored.
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


def parse_date(text: str) -> dt.date:
    s = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        raise ValueError(f"date {s!r} is not YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"date {s!r} does not exist") from None


def parse_time(text: str) -> dt.time:
    """``HH:MM`` or ``HH:MM:SS``, optionally with a UTC offset (``07:30+02:00``, ``05:30Z``)."""
    s = text.strip()
    if not re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?", s):
        raise ValueError(f"time {s!r} is not HH:MM (optionally with an offset such as +02:00)")
    try:
        return dt.time.fromisoformat(s.zfill(len(s) + (1 if s[1] == ":" else 0)))
    except ValueError:
        raise ValueError(f"time {s!r} does not exist") from None


def build_entry(athlete: str, zone: ZoneInfo, *, date: str, time: str | None, score: str | int, region: str,
                side: str, when: str, behaviour: str | None = None, note: str | None = None) -> PainEntry:
    """Validate raw text fields into a :class:`PainEntry`; raises ``ValueError`` with a one-line reason."""
    day = parse_date(date)
    if (why := day_problem(day)) is not None:
        raise ValueError(f"date {why}")
    clock = parse_time(time) if time and time.strip() else None
    try:
        utc, date_only = to_utc(day, clock, zone)
    except TimeZoneError as exc:
        raise ValueError(str(exc)) from None
    return PainEntry(
        athlete=athlete, time_utc=utc, score=vocab.score(score), region=vocab.region(region),
        side=vocab.side(side), when=vocab.when(when),
        behaviour=vocab.behaviour(behaviour) if behaviour and behaviour.strip() else None,
        note=note.strip() if note and note.strip() else None, date_only=date_only, zone=zone.key)
