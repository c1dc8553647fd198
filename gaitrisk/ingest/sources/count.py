"""Counts by name only, for progress bars and the summary of files passed over."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator, Mapping

from .items import Limits
from .names import format_from_name, is_activity_name, is_zip_name
from .strava import STRAVA_INDEX
from .walk import entry_kind


def estimate_count(paths: Iterable[str | os.PathLike[str]], limits: Limits = Limits()) -> int:
    """About how many activity files :func:`iter_sources` will yield, for a progress bar.

    Counts by name only: folder entries, and the members listed in a top-level
    zip's central directory (a nested zip counts as one).  Nothing is
    decompressed, so this costs a directory walk (the folders :func:`iter_sources`
    enters: an explicit stack, so no depth of folders can exhaust the call stack);
    errors count as one file.
    """
    total = 0
    for raw in paths:
        path = os.fsdecode(raw)
        if not os.path.isdir(path):
            total += max(_counts(path), 1)
            continue
        total += sum(_counts(entry.path) for entry in _folder_files(path, limits))
    return total


def _folder_files(path: str, limits: Limits) -> Iterator[os.DirEntry]:
    """The files below folder ``path`` as :func:`iter_sources` walks them (hidden entries left out,
    no deeper than ``limits.max_folder_depth``; an explicit stack, so no depth exhausts the call
    stack; an unreadable folder is passed over)."""
    stack = [(path, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = [e for e in listing if not e.name.startswith(".")]
        except OSError:
            continue
        for entry in entries:
            kind = entry_kind(entry)
            if kind == "dir" and depth < limits.max_folder_depth:
                stack.append((entry.path, depth + 1))
            elif kind == "file":
                yield entry


def ignored_files(paths: Iterable[str | os.PathLike[str]], limits: Limits = Limits()) -> dict[str, int]:
    """The files inside the folders of ``paths`` that :func:`iter_sources` passes over silently
    (photos, PDFs, notes: not FIT/GPX/TCX, ``.gz`` or ``.zip``), counted by lower-case extension
    ("" for none).  A Strava ``activities.csv`` is read, so it is not counted; hidden entries are
    not counted either, as the walk does not see them."""
    counts: dict[str, int] = {}
    for raw in paths:
        path = os.fsdecode(raw)
        if not os.path.isdir(path):
            continue
        for entry in _folder_files(path, limits):
            if not is_activity_name(entry.name) and entry.name.lower() != STRAVA_INDEX:
                ext = os.path.splitext(entry.name)[1].lower()
                counts[ext] = counts.get(ext, 0) + 1
    return counts


def describe_ignored(ignored: Mapping[str, int]) -> str:
    """``{".jpg": 12, ".pdf": 3}`` as "15 files ignored: not FIT/GPX/TCX/zip/gz (12 .jpg, 3 .pdf)"; the
    three commonest extensions are named, and "..." stands for the rest."""
    n = sum(ignored.values())
    kinds = sorted(ignored.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{c} {ext or 'without extension'}" for ext, c in kinds[:3]) + (", ..." if len(kinds) > 3 else "")
    return f"{n} file{'' if n == 1 else 's'} ignored: not FIT/GPX/TCX/zip/gz ({shown})"


def _counts(path: str) -> int:
    if format_from_name(path):
        return 1
    if not is_zip_name(path):
        return 0
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(1 for n in zf.namelist() if format_from_name(n) or is_zip_name(n))
    except (OSError, zipfile.BadZipFile):
        return 1
