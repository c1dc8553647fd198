"""The walk over user-given paths: files, folders (with a Strava index) and archives, in order."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from .archive import iter_top_zip
from .caps import read_local
from .items import DiskFile, Item, Limits, SourceFile, SourcePath, SourceProblem, empty_meta
from .names import format_from_name, is_gz, is_zip_name, sniff_format, strip_gz
from .strava import STRAVA_INDEX, parse_activities_csv, path_key

logger = logging.getLogger(__name__)

_UNSUPPORTED = ("not a supported file kind (expected .fit, .gpx or .tcx, optionally "
                "gzipped as .gz, or a .zip archive); skipped")


@dataclass(frozen=True)
class _Options:
    limits: Limits
    on_disk: Callable[[DiskFile], bool] | None = None
    defer_plain: bool = False


def read_plain(path: str, limits: Limits = Limits()) -> bytes | SourceProblem:
    """The bytes of a plain activity file (``.gz`` decompressed), under ``limits``; a problem if refused."""
    return read_local(path, limits)


def iter_sources(paths: Iterable[str | os.PathLike[str]],
                 limits: Limits = Limits(), *,
                 on_disk: Callable[[DiskFile], bool] | None = None,
                 defer_plain: bool = False) -> Iterator[Item]:
    """Yield every activity file found under ``paths``, and a problem for each skip.

    Each path may be an activity file (``.fit``, ``.gpx``, ``.tcx``, each
    optionally ``.gz``), a ``.zip`` archive (nested zips are opened) or a
    folder (walked recursively in sorted order, hidden entries and symlinked
    folders skipped).  Inside folders and archives, files of other kinds are
    silently ignored; a path given explicitly that is of no supported kind
    (by extension, or failing that by content) is reported.  Bad input never
    raises: it becomes a :class:`SourceProblem` and iteration goes on.

    ``on_disk`` (optional) is asked about every file on disk before it is read; when it
    returns True the file is not read and a ``DiskFile(known=True)`` stands in for its
    items; otherwise a ``DiskFile`` follows the file's items.  ``defer_plain`` yields
    plain (not gzipped) activity files as :class:`SourcePath` without reading them.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        # Iterating a single str would walk its characters: a caller bug.
        raise TypeError("iter_sources() takes an iterable of paths, not a single path")
    opts = _Options(limits, on_disk, defer_plain)
    for raw_path in paths:
        for item in _iter_path(os.fsdecode(raw_path), opts):
            if isinstance(item, SourceProblem):
                logger.info("skipped %s: %s", item.name, item.reason)
            yield item


def _iter_path(path: str, opts: _Options) -> Iterator[Item]:
    if os.path.isdir(path):
        yield from _iter_folder(path, opts)
    elif os.path.isfile(path):
        yield from _iter_file(path, opts, explicit=True, meta=empty_meta())
    elif os.path.islink(path):
        yield SourceProblem(path, "no such file or folder (broken symbolic link)")
    elif os.path.lexists(path):
        yield SourceProblem(path, "not a regular file or folder (device, pipe or socket); skipped")
    else:
        yield SourceProblem(path, "no such file or folder")


def _iter_file(path: str, opts: _Options, *, explicit: bool,
               meta: Mapping[str, str]) -> Iterator[Item]:
    archive = is_zip_name(path)
    if opts.on_disk is None or not (archive or explicit or format_from_name(path)):
        yield from _iter_file_items(path, opts, explicit=explicit, meta=meta)
        return
    try:
        st = os.stat(path)
    except OSError:  # reading it will say what is wrong
        yield from _iter_file_items(path, opts, explicit=explicit, meta=meta)
        return
    # The stat is taken before reading: a file changed while we read it looks changed next time.
    disk = DiskFile(path, os.path.abspath(path), st.st_size, st.st_mtime_ns, archive, stat_ns=time.time_ns())
    if opts.on_disk(disk):
        yield replace(disk, known=True)
        return
    yield from _iter_file_items(path, opts, explicit=explicit, meta=meta)
    yield disk


def _iter_file_items(path: str, opts: _Options, *, explicit: bool,
                     meta: Mapping[str, str]) -> Iterator[Item]:
    limits = opts.limits
    if is_zip_name(path):
        yield from iter_top_zip(path, limits)
        return
    fmt = format_from_name(path)
    if fmt is None:
        if explicit:
            yield _sniffed_file(path, limits)
        else:
            logger.debug("ignoring %s: not an activity file", path)
        return
    if opts.defer_plain and not is_gz(path):
        yield SourcePath(path, fmt, path, meta)
        return
    data = read_local(path, limits)
    yield data if isinstance(data, SourceProblem) else SourceFile(strip_gz(path), fmt, data, meta)


def _sniffed_file(path: str, limits: Limits) -> Item:
    """An explicit path without a known extension: accept it only if its content says so."""
    head = read_local(path, limits, head_only=True)
    if isinstance(head, SourceProblem):
        return head
    fmt = sniff_format(head)
    if fmt is None:
        return SourceProblem(path, _UNSUPPORTED)
    logger.info("%s has no activity-file extension; its content looks like %s", path, fmt)
    data = read_local(path, limits, fmt=fmt)
    return data if isinstance(data, SourceProblem) else SourceFile(strip_gz(path), fmt, data)


def _iter_folder(root: str, opts: _Options) -> Iterator[Item]:
    """Depth-first walk in sorted order, using an explicit stack (no recursion limit)."""
    meta_index: dict[str, Mapping[str, str]] = {}
    pending: list[Iterator[os.DirEntry[str]]] = []
    yield from _enter_folder(root, pending, meta_index, opts.limits)
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        if entry.name.startswith("."):
            continue
        kind = entry_kind(entry)
        if kind == "dir" and len(pending) > opts.limits.max_folder_depth:
            yield _too_deep(entry.path, len(pending), opts.limits)
        elif kind == "dir":
            yield from _enter_folder(entry.path, pending, meta_index, opts.limits)
        elif kind == "file":
            meta = meta_index.get(path_key(entry.path), empty_meta())
            yield from _iter_file(entry.path, opts, explicit=False, meta=meta)


def _too_deep(folder: str, depth: int, limits: Limits) -> SourceProblem:
    return SourceProblem(folder, f"folder nested {depth} levels deep, over the limit of {limits.max_folder_depth} "
                                 f"(max_folder_depth); skipped with everything in it")


def entry_kind(entry: os.DirEntry[str]) -> str:
    """Classify a folder entry as "dir", "file" or "skip" (symlinked folders: avoids loops)."""
    try:
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        if entry.is_symlink() and entry.is_dir():
            logger.debug("not following symlinked folder %s", entry.path)
            return "skip"
        # is_file() is False for pipes and devices, which could block a read.
        return "file" if entry.is_file() else "skip"
    except OSError:
        return "skip"


def _enter_folder(folder: str, pending: list[Iterator[os.DirEntry[str]]],
                  meta_index: dict[str, Mapping[str, str]], limits: Limits) -> Iterator[Item]:
    """List a folder, index its activities.csv if any, and queue its entries."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as err:
        yield SourceProblem(folder, f"cannot read the folder ({err.strerror or err}); skipped")
        return
    # Indexed before any entry is visited: "activities/" sorts before "activities.csv".
    for entry in entries:
        if entry.name.casefold() == STRAVA_INDEX and entry_kind(entry) == "file":
            yield from _index_strava_folder(entry.path, folder, meta_index, limits)
    pending.append(iter(entries))


def _index_strava_folder(csv_path: str, folder: str, meta_index: dict[str, Mapping[str, str]],
                         limits: Limits) -> Iterator[SourceProblem]:
    data = read_local(csv_path, limits)
    if isinstance(data, SourceProblem):
        yield data
        return
    rows, problems = parse_activities_csv(data, csv_path)
    meta_index.update({path_key(os.path.join(folder, rel)): meta for rel, meta in rows.items()})
    yield from problems
