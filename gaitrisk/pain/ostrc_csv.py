"""Weekly OSTRC answers from a CSV file (columns documented in docs/pain_csv.md).

Like the pain diary's reader (:mod:`gaitrisk.pain.csvio`), errors are values: nothing is
stored here, each bad row becomes a :class:`~gaitrisk.pain.csvio.RowError`, and a file
that cannot be read as a whole sets ``fatal``.  The caller stores all good rows in one
transaction, or none (``--strict``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field

from ..plausible import day_problem
from .csvio import MAX_BYTES, RowError
from .model import parse_date
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
    try:
        text = data.decode("utf-8-sig")  # spreadsheet programs write a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        out.fatal = f"not UTF-8 text (line {line}); save the file as 'CSV UTF-8' and import it again"
        return out
    if not text.strip():
        out.fatal = f"empty file: expected a header line with the columns {', '.join(COLUMNS)}"
        return out
    try:
        # Only the start of the header line: the sniffer is quadratic in a long line.
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0][:1024], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except csv.Error as exc:
        out.fatal = f"line 1: unreadable header ({exc})"
        return out
    names = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [h for h, n in zip(header, names) if n not in COLUMNS]
    repeated = sorted({n for n in names if names.count(n) > 1 and n in COLUMNS})
    problems = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
        ([f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []) + \
        ([f"repeated column(s) {', '.join(repeated)}"] if repeated else [])
    if problems:
        out.fatal = (f"line 1: wrong header: {'; '.join(problems)} "
                     f"(expected {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)})")
        return out
    seen: dict[tuple[dt.date, str], int] = {}
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.errors.append(RowError(start, f"unreadable CSV ({exc})"))
            break  # the csv module cannot resynchronise after e.g. an unclosed quote
        last_line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            out.errors.append(RowError(start, f"{len(row)} fields, the header has {len(names)}"))
            continue
        f = dict(zip(names, row))
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
    if not out.weeks and not out.errors:
        out.fatal = "no data rows below the header"
    return out
