"""A Strava bulk export's ``activities.csv``: activity names and types keyed by file path."""

from __future__ import annotations

import csv
import io
import os
import posixpath
from collections.abc import Mapping
from types import MappingProxyType

from .items import SourceProblem


STRAVA_INDEX = "activities.csv"
_STRAVA_COLUMNS = {
    "activity id": "activity_id",
    "activity date": "activity_date",
    "activity name": "activity_name",
    "activity type": "activity_type",
    "filename": "filename",
}


def relative_key(member: str) -> str:
    """Normalise an archive-relative path for matching against activities.csv."""
    return posixpath.normpath(member.replace("\\", "/")).casefold()


def path_key(path: str) -> str:
    """Normalise a filesystem path for matching against activities.csv."""
    return os.path.normpath(path).replace(os.sep, "/").casefold()


def parse_activities_csv(data: bytes, where: str) -> tuple[dict[str, Mapping[str, str]], list[SourceProblem]]:
    """Map each row's normalised "Filename" to its activity details.

    Real exports have dozens of columns, some with duplicated names, and
    multi-line quoted descriptions; only the first column of each wanted name
    is used, and short rows read as empty cells.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    index: dict[str, Mapping[str, str]] = {}
    try:
        columns = _strava_columns(next(reader, []))
        if "filename" not in columns:
            return {}, [SourceProblem(where, "activities.csv has no 'Filename' column; activity names "
                                             "and types are not attached")]
        for row in reader:
            filename = _cell(row, columns["filename"])
            if filename:
                index[relative_key(filename)] = MappingProxyType(
                    {key: _cell(row, col) for key, col in columns.items() if key != "filename"})
    except csv.Error as err:
        return index, [SourceProblem(where, f"activities.csv is malformed near line {reader.line_num} "
                                            f"({err}); details of later activities are not attached")]
    return index, []


def _strava_columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for col, title in enumerate(header):
        key = _STRAVA_COLUMNS.get(title.strip().casefold())
        if key is not None:
            columns.setdefault(key, col)  # first of duplicated headers wins
    return columns


def _cell(row: list[str], col: int) -> str:
    return row[col].strip() if col < len(row) else ""
