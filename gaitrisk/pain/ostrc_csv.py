"""Weekly OSTRC answers from a CSV file (columns documented in docs/pain_csv.md).

Like the pain diary's reader (:mod:`gaitrisk.pain.csvio`), errors are values: nothing is
stored here, each bad row becomes a :class:`~gaitrisk.pain.csvio.RowError`, and a file
that cannot be read as a whole sets ``fatal``.  The caller stores all good rows in one
transaction, or none (``--strict``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from ..plausible import day_problem
from .csvio import MAX_BYTES, RowError, read_rows
from .entry_input import parse_date
from .ostrc import OstrcWeek, build_week

REQUIRED = ("week", "area", "participation")
OPTIONAL = ("training", "performance", "symptoms", "note")
COLUMNS = REQUIRED + OPTIONAL
_ALIASES = {"date": "week", "week_start": "week", "region": "area", "notes": "note", "comment": "note"}


@dataclass
class OstrcImport:
    weeks: list[tuple[int, OstrcWeek]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fatal: str | None = None


def read_ostrc_file(path: str | os.PathLike, athlete: str) -> OstrcImport:
    """:func:`read_ostrc_csv` of a file, whose size is checked first.  Raises ``OSError`` when unreadable."""
    size = os.stat(path).st_size
    if size > MAX_BYTES:
        return OstrcImport(fatal=f"{size} bytes is too large for weekly answers (limit {MAX_BYTES // 2**20} MB)")
    with open(path, "rb") as f:
        return read_ostrc_csv(f.read(), athlete)


def read_ostrc_csv(data: bytes, athlete: str) -> OstrcImport:
    out = OstrcImport()
    table = read_rows(data, REQUIRED, OPTIONAL, _ALIASES)
    out.fatal, out.errors = table.fatal, table.errors
    if table.fatal:
        return out
    seen: dict[tuple[dt.date, str], int] = {}
    for start, f in table.rows:
        try:
            day = parse_date(f["week"])
            if (why := day_problem(day)) is not None:
                raise ValueError(f"week {why}")
            week = build_week(athlete, day=day, area=f["area"], participation=f["participation"],
                              training=f.get("training"), performance=f.get("performance"),
                              symptoms=f.get("symptoms"), note=f.get("note"))
        except ValueError as exc:
            out.errors.append(RowError(start, str(exc)))
            continue
        key = (week.week, week.area)
        if key in seen:
            # Two answers for one week and area in one file: which one stands would be a guess.
            out.errors.append(RowError(start, f"a second answer for the week of {week.week} and area {week.area} "
                                              f"(the first is on line {seen[key]})"))
            continue
        seen[key] = start
        out.weeks.append((start, week))
    out.errors.sort(key=lambda e: e.line)   # one list in file order, whichever check found the row
    if not out.weeks and not out.errors:
        out.fatal = "no data rows below the header"
    return out
