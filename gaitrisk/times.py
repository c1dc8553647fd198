"""Time in gaitrisk: instants as stored ISO text, and calendar days in the athlete's local time zone.

Instants are stored as UTC ISO 8601 text with a ``Z`` (:func:`iso`, :func:`parse_iso`).
Load windows are counted in *calendar days* (rolling 7 / 21 / 28 / 30-day
windows as in Nielsen 2014 and Frandsen 2025, not ISO weeks).  A day is a local date, so
the series is indexed by naive dates: a DST change makes one day 23 or 25 hours long
but never changes how many days a 7-day window holds.  A run belongs to the day on
which it *started* (a run from 23:30 to 00:40 is the earlier day's run).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


log = logging.getLogger(__name__)


# The IANA aliases of UTC: a machine set to Etc/UTC and a user who typed UTC read the same name.
_UTC_ALIASES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


def zone_name(key: str) -> str:
    """The zone's name as the reports and tables print it: the IANA key, with every alias of UTC as "UTC"."""
    return "UTC" if key in _UTC_ALIASES else key


def iso(t: dt.datetime) -> str:
    """An aware instant as UTC ISO 8601 text (``2024-03-01T06:30:00.25Z``): the form the store keeps."""
    # isoformat, not strftime: strftime("%Y") writes year 224 as "224", which no ISO parser reads.
    utc = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds").rstrip("0").rstrip(".") + "Z"


_UNPADDED_YEAR = re.compile(r"(\d{1,3})-")


def parse_iso(s: str) -> dt.datetime:
    """ISO 8601 text as an aware datetime; ``Z`` means UTC."""
    # Stores written before years were zero-padded may hold "224-01-03T...": read it as 0224.
    if (m := _UNPADDED_YEAR.match(s)) is not None:
        s = m.group(1).zfill(4) + s[m.end(1):]
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


class TimeZoneError(ValueError):
    """An unknown time zone name, or a local time that does not exist / is ambiguous."""


def resolve_zone(name: str | None = None) -> ZoneInfo:
    """The IANA zone ``name``, else ``$TZ``, else the machine's zone, else UTC (with a warning).

    A fixed UTC offset (what ``datetime.now().astimezone()`` gives) is not enough: it
    would put every day of the other half of the year one hour off across DST.
    """
    if name:
        return _zone(name)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return _zone(env)
        except TimeZoneError:
            log.warning("TZ=%r is not an IANA zone name; trying the system zone", env)
    system = _system_zone_name()
    if system:
        try:
            return _zone(system)
        except TimeZoneError:
            pass
    log.warning("could not determine the local time zone; using UTC (pass --tz Europe/Berlin or similar)")
    return ZoneInfo("UTC")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeZoneError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from exc


def _system_zone_name() -> str | None:
    link = Path("/etc/localtime")
    try:
        target = str(link.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        return Path("/etc/timezone").read_text().strip() or None
    except OSError:
        return None


def to_utc(day: dt.date, time: dt.time | None, zone: ZoneInfo) -> tuple[dt.datetime, bool]:
    """A local date (and optional time) as an aware UTC datetime, and whether it was date-only.

    A date without a time is stored as local noon: noon is at least 11 hours from
    either midnight, so the entry stays on its calendar day even when it is later
    viewed in a neighbouring zone.  A time that carries its own UTC offset
    (``02:30+01:00``) is taken as written.  A wall-clock time that does not exist
    (skipped by a spring-forward DST change) or exists twice (fall-back) is refused
    rather than guessed: the user can add an offset to say which one was meant.
    """
    if time is None:
        local = dt.datetime.combine(day, dt.time(12, 0), tzinfo=zone)
        return local.astimezone(dt.timezone.utc), True
    if time.tzinfo is not None:
        return dt.datetime.combine(day, time).astimezone(dt.timezone.utc), False
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # zoneinfo resolves both folds differently only in a gap or an overlap.
        round_trip = first.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
        if round_trip != naive:
            raise TimeZoneError(f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (clocks jumped forward); "
                                f"give the offset, e.g. {time:%H:%M}{_fmt_offset(first.utcoffset())}")
        raise TimeZoneError(f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks went back); add the "
                            f"offset: {time:%H:%M}{_fmt_offset(first.utcoffset())} or "
                            f"{time:%H:%M}{_fmt_offset(second.utcoffset())}")
    return first.astimezone(dt.timezone.utc), False


def _fmt_offset(off: dt.timedelta | None) -> str:
    minutes = int((off or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_day(t: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The calendar day in ``zone`` of an aware instant."""
    return t.astimezone(zone).date()


def today(zone: ZoneInfo) -> dt.date:
    return dt.datetime.now(zone).date()
