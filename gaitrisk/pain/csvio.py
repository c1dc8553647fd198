"""Pain log CSV import (columns documented in docs/pain_csv.md).

Errors are values: :func:`read_pain_csv` never stores anything and never raises
for bad input.  It returns the valid entries with their line numbers, one
:class:`RowError` per bad row, and a ``fatal`` reason when the file as a whole
cannot be read (empty, not UTF-8, wrong header) -- then no row is usable.
Whether good rows are stored next to bad ones (default) or nothing is stored
(``strict``) is the caller's decision, made before the single write transaction.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .entry_input import PainEntry, build_entry

REQUIRED = ("date", "score", "region", "side", "when")
OPTIONAL = ("time", "behaviour", "note")
COLUMNS = REQUIRED + OPTIONAL
_ALIASES = {"behavior": "behaviour", "notes": "note", "comment": "note"}
MAX_BYTES = 5 * 1024 * 1024  # a pain diary is a few kB; anything bigger is the wrong file
_SNIFF_CHARS = 1024  # a real header is < 100 characters


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based physical line in the file where the row starts
    reason: str


@dataclass
class CsvImport:
    entries: list[tuple[int, PainEntry]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fatal: str | None = None


def _too_large(size: int) -> str:
    return f"{size} bytes is too large for a pain log (limit {MAX_BYTES // 2**20} MB)"


def read_pain_file(path: str | os.PathLike, athlete: str, zone: ZoneInfo) -> CsvImport:
    """:func:`read_pain_csv` of a file, whose size is checked before a byte is read.

    Raises ``OSError`` when the file cannot be read.
    """
    size = os.stat(path).st_size
    if size > MAX_BYTES:  # a pain diary is kilobytes: a huge file is the wrong file, never read
        return CsvImport(fatal=_too_large(size))
    with open(path, "rb") as f:
        return read_pain_csv(f.read(), athlete, zone)


@dataclass
class CsvRows:
    """The data rows of a CSV table with checked columns: ``(line, {column: text})`` each, plus one
    :class:`RowError` per row that is not a row of the table, or ``fatal`` when the file is not one."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fatal: str | None = None


def read_rows(data: bytes, required: tuple[str, ...], optional: tuple[str, ...],
              aliases: dict[str, str]) -> CsvRows:
    """The rows of a CSV file whose header must name ``required`` and may name ``optional`` columns
    (header names are case-blind; ``aliases`` maps other names to them).  Separator: comma,
    semicolon or tab, whichever the header line uses; blank lines are layout, not data."""
    out = CsvRows()
    columns = required + optional
    try:
        # utf-8-sig: spreadsheet programs write a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        out.fatal = (f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                     "save the file as 'CSV UTF-8' and import it again")
        return out
    if not text.strip():
        out.fatal = f"empty file: expected a header line with the columns {', '.join(columns)}"
        return out
    try:
        # Only the start of the header line: the sniffer is quadratic in a long line (a hang).
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0][:_SNIFF_CHARS], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column or an odd header: let the header check explain
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except csv.Error as exc:
        out.fatal = f"line 1: unreadable header ({exc})"
        return out
    names = [aliases.get(h.strip().lower(), h.strip().lower()) for h in header]
    problems = []
    missing = [c for c in required if c not in names]
    unknown = [h for h, n in zip(header, names) if n not in columns]
    repeated = sorted({n for n in names if names.count(n) > 1 and n in columns})
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        out.fatal = (f"line 1: wrong header: {'; '.join(problems)} "
                     f"(expected {', '.join(required)} and optionally {', '.join(optional)})")
        return out
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
            continue  # blank lines are layout, not data
        if len(row) != len(names):
            out.errors.append(RowError(start, f"{len(row)} fields, the header has {len(names)}"))
            continue
        out.rows.append((start, dict(zip(names, row))))
    return out


def read_pain_csv(data: bytes, athlete: str, zone: ZoneInfo) -> CsvImport:
    """Parse and validate a pain CSV (bytes as read from disk)."""
    out = CsvImport()
    if len(data) > MAX_BYTES:
        out.fatal = _too_large(len(data))
        return out
    table = read_rows(data, REQUIRED, OPTIONAL, _ALIASES)
    out.fatal, out.errors = table.fatal, table.errors
    if table.fatal:
        return out
    for start, fields in table.rows:
        try:
            entry = build_entry(athlete, zone, date=fields["date"], time=fields.get("time"), score=fields["score"],
                                region=fields["region"], side=fields["side"], when=fields["when"],
                                behaviour=fields.get("behaviour"), note=fields.get("note"))
        except ValueError as exc:
            out.errors.append(RowError(start, str(exc)))
            continue
        out.entries.append((start, entry))
    out.errors.sort(key=lambda e: e.line)   # one list in file order, whichever check found the row
    if not out.entries and not out.errors:
        out.fatal = "no data rows below the header"
    return out
