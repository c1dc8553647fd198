"""How raw user input becomes a pain record (:class:`~gaitrisk.records.PainEntry`); ``ValueError`` with one line."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from .. import vocab
from ..plausible import day_problem
from ..records import PainEntry
from ..times import TimeZoneError, to_utc


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
