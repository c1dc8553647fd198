"""Turn user-given paths into a stream of candidate activity files, safely.

People hand us whatever their watch vendor exported: single ``.fit``/``.gpx``/
``.tcx`` files (possibly ``.gz``), folders of them, a Garmin "export all data"
archive (zips inside a zip) or a Strava bulk export (a zip with an
``activities.csv`` index).  :func:`iter_sources` walks all of these and yields
one :class:`SourceFile` per activity file, or a :class:`SourceProblem` for each
thing it had to skip, and never raises on bad input.

Archives are treated as hostile until proven otherwise: nothing is extracted to
disk, member names that try to escape the archive are refused, and every
decompression runs under a hard output cap (:class:`Limits`) rather than
trusting the sizes an archive declares about itself.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import posixpath
import re
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import IO

__all__ = ["DiskFile", "Limits", "SourceFile", "SourcePath", "SourceProblem", "iter_sources", "read_plain"]

logger = logging.getLogger("gaitrisk.ingest.sources")

_FORMATS = {".fit": "fit", ".gpx": "gpx", ".tcx": "tcx"}
_UNSUPPORTED = ("not a supported file kind (expected .fit, .gpx or .tcx, optionally "
                "gzipped as .gz, or a .zip archive); skipped")
_CHUNK_BYTES = 1 << 20
_SNIFF_BYTES = 8192
# Below this size an entry cannot hurt memory, and tiny files (mostly headers
# or padding) compress unpredictably well, so the ratio limit would only
# produce false alarms there.
_RATIO_FLOOR_BYTES = 1 << 20
# A nested zip stays in memory up to this size, then spills to a temp file.
_SPOOL_MEMORY_BYTES = 16 << 20
_STRAVA_INDEX = "activities.csv"
_STRAVA_COLUMNS = {
    "activity id": "activity_id",
    "activity date": "activity_date",
    "activity name": "activity_name",
    "activity type": "activity_type",
    "filename": "filename",
}
# zipfile caps deflate output per read call, but decompresses bzip2 and LZMA
# chunks without a bound, so a small lying entry could still blow up memory
# before our own cap sees a byte: such methods are refused outright.
_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_METHOD_NAMES = {9: "deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 99: "AES"}
_ZIP_FLAG_ENCRYPTED = 0x1
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_XML_PREAMBLE = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.S)
_XML_ROOT = re.compile(rb"\s*<(?:[\w.-]+:)?([\w.-]+)")
# What zipfile and its decompressors raise for damaged or crafted data.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
               OSError, ValueError, struct.error, zlib.error)
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class Limits:
    """Resource limits that keep hostile or broken input from exhausting memory.

    ``max_ratio`` is only enforced once an entry exceeds 1 MiB uncompressed:
    smaller entries cannot hurt and compress unpredictably well.
    ``max_depth`` counts zips inside zips: 0 refuses any nested zip, the
    default 3 opens a zip inside a zip inside a zip inside the outer zip.
    ``max_folder_depth`` counts folders below a folder given: a Garmin or Strava export is a
    few levels deep, a deeper folder is skipped with a reason.
    """

    max_entry_bytes: int = 512 * 1024**2  # uncompressed size of one entry/file
    # One GPX or TCX file: parsing XML takes ~9x the file in memory (a 38 MiB GPX peaks at
    # 400 MiB, a 500 MB one at 4.4 GB); 128 MiB holds a 4-day recording at 1 s with heart rate
    # and cadence, the longest activity the import accepts.
    max_xml_bytes: int = 128 * 1024**2
    max_total_bytes: int = 8 * 1024**3  # total uncompressed bytes read from one top-level archive
    max_ratio: float = 200.0  # uncompressed/compressed ratio of one zip entry or .gz
    max_entries: int = 100_000  # entries in one archive (counting nested)
    max_depth: int = 3  # nested zip depth
    max_folder_depth: int = 64  # folders inside a folder given

    def __post_init__(self) -> None:
        for name in ("max_entry_bytes", "max_xml_bytes", "max_total_bytes", "max_ratio", "max_entries",
                     "max_folder_depth"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Limits.{name} must be positive, got {getattr(self, name)!r}")
        if self.max_depth < 0:
            raise ValueError(f"Limits.max_depth must be >= 0, got {self.max_depth!r}")


def _empty_meta() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class SourceFile:
    """One candidate activity file, already decompressed.

    ``name`` is what a person recognises: the file path, or for archive
    members ``"export.zip!DI_CONNECT/.../x.fit"`` ("!" joins nesting levels),
    always without a trailing ``.gz``.  ``fmt`` is ``"fit"``, ``"gpx"`` or
    ``"tcx"``.  ``meta`` carries extra details such as a Strava export's
    activity name and type; it is read-only and empty when nothing is known.
    """

    name: str
    fmt: str
    data: bytes = field(repr=False)
    meta: Mapping[str, str] = field(default_factory=_empty_meta, hash=False)

    def __post_init__(self) -> None:
        # Frozen means frozen: a caller's dict must not change us afterwards.
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))


@dataclass(frozen=True)
class SourceProblem:
    """Something that was skipped, with a one-line reason a person can act on."""

    name: str
    reason: str


@dataclass(frozen=True)
class SourcePath:
    """A plain activity file on disk, not read yet (``iter_sources(..., defer_plain=True)``).

    Whoever decodes it reads it with :func:`read_plain`, under the same limits: on a
    cluster with shared storage a worker reads the file itself instead of receiving
    its bytes.
    """

    name: str
    fmt: str
    path: str
    meta: Mapping[str, str] = field(default_factory=_empty_meta, hash=False)


@dataclass(frozen=True)
class DiskFile:
    """One file on disk that :func:`iter_sources` opened (only with ``on_disk=``).

    ``key`` is the absolute path; ``size`` and ``mtime_ns`` come from one ``stat`` taken
    before reading.  Yielded after all the items read from the file, or alone with
    ``known=True`` when ``on_disk`` recognised it (then the file was not read at all).
    ``archive`` says whether the items' names are ``name + "!" + member``.  ``stat_ns`` lets a
    caller tell files modified just before the stat (whose next change may keep the same mtime).
    """

    name: str
    key: str
    size: int
    mtime_ns: int
    archive: bool
    known: bool = False
    stat_ns: int = 0  # when the stat was taken (time.time_ns())

    @property
    def item_name(self) -> str:
        """The name a plain file's :class:`SourceFile` has (without ``.gz``)."""
        return _strip_gz(self.name)


_Item = SourceFile | SourceProblem | SourcePath | DiskFile


@dataclass(frozen=True)
class _Options:
    limits: Limits
    on_disk: Callable[[DiskFile], bool] | None = None
    defer_plain: bool = False


def read_plain(path: str, limits: Limits = Limits()) -> bytes | SourceProblem:
    """The bytes of a plain activity file (``.gz`` decompressed), under ``limits``; a problem if refused."""
    return _read_local(path, limits)


def iter_sources(paths: Iterable[str | os.PathLike[str]],
                 limits: Limits = Limits(), *,
                 on_disk: Callable[[DiskFile], bool] | None = None,
                 defer_plain: bool = False) -> Iterator[_Item]:
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


# --------------------------------------------------------------------------
# Names and formats


def _is_gz(name: str) -> bool:
    return name.lower().endswith(".gz")


def _strip_gz(name: str) -> str:
    return name[:-3] if _is_gz(name) else name


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _format_from_name(name: str) -> str | None:
    """Activity format implied by the extension (after any ``.gz``), if any."""
    return _FORMATS.get(os.path.splitext(_strip_gz(name))[1].lower())


def _sniff_format(head: bytes) -> str | None:
    """Recognise FIT or GPX/TCX from the first bytes of a file."""
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    head = head.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while (preamble := _XML_PREAMBLE.match(head, pos)) is not None:
        pos = preamble.end()
    root = _XML_ROOT.match(head, pos)
    if root is None:
        return None
    return {b"gpx": "gpx", b"TrainingCenterDatabase": "tcx"}.get(root.group(1))


def _fmt_bytes(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.4g} {unit}"
        size /= 1024
    return f"{size:.4g} TiB"


def _relative_key(member: str) -> str:
    """Normalise an archive-relative path for matching against activities.csv."""
    return posixpath.normpath(member.replace("\\", "/")).casefold()


def _path_key(path: str) -> str:
    """Normalise a filesystem path for matching against activities.csv."""
    return os.path.normpath(path).replace(os.sep, "/").casefold()


# --------------------------------------------------------------------------
# Capped reading


@dataclass(frozen=True)
class _Cap:
    """An upper bound on decompressed bytes, and what to say when it is hit.

    A cap with ``stop`` set belongs to the whole archive: hitting it ends the
    archive with that problem instead of skipping one entry.
    """

    limit: int
    why: str
    stop: SourceProblem | None = None


class _ArchiveStopped(Exception):
    """Raised deep inside an archive walk to abandon the top-level archive."""

    def __init__(self, problem: SourceProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


_XML_FORMATS = ("gpx", "tcx")


def _entry_limit(limits: Limits, fmt: str | None) -> tuple[int, str]:
    """The most bytes one entry of this format may hold, and the limit's name for messages."""
    if fmt in _XML_FORMATS and limits.max_xml_bytes < limits.max_entry_bytes:
        return limits.max_xml_bytes, "max_xml_bytes, for one GPX or TCX file"
    return limits.max_entry_bytes, "max_entry_bytes"


def _size_cap(limits: Limits, fmt: str | None = None) -> _Cap:
    limit, what = _entry_limit(limits, fmt)
    return _Cap(limit, f"decompresses to more than {_fmt_bytes(limit)} ({what})")


def _ratio_cap(compressed_size: int, limits: Limits) -> _Cap:
    limit = max(_RATIO_FLOOR_BYTES, int(compressed_size * limits.max_ratio))
    return _Cap(limit, f"decompresses to more than {limits.max_ratio:g}x its compressed size "
                       f"(compression ratio over max_ratio)")


def _pump(src: IO[bytes], caps: list[_Cap], write: Callable[[bytes], object]) -> int | _Cap:
    """Copy ``src`` to ``write`` until EOF; return the byte count, or the cap it broke.

    Never trusts declared sizes: reads at most the smallest cap plus one byte.
    """
    cap = min(caps, key=lambda c: c.limit)
    total = 0
    while chunk := src.read(min(_CHUNK_BYTES, cap.limit + 1 - total)):
        total += len(chunk)
        if total > cap.limit:
            return cap
        write(chunk)
    return total


def _read_capped(src: IO[bytes], caps: list[_Cap]) -> bytes | _Cap:
    parts: list[bytes] = []
    result = _pump(src, caps, parts.append)
    return result if isinstance(result, _Cap) else b"".join(parts)


def _over_cap(cap: _Cap, name: str, subject: str, suffix: str) -> SourceProblem:
    if cap.stop is not None:
        raise _ArchiveStopped(cap.stop)
    return SourceProblem(name, f"{subject} {cap.why}; {suffix}")


class _Budget:
    """Running totals for one top-level archive, including nested zips."""

    def __init__(self, archive: str, limits: Limits) -> None:
        self._archive = archive
        self._limits = limits
        self._bytes = 0
        self._entries = 0

    def count_entries(self, count: int, where: str) -> None:
        self._entries += count
        if self._entries > self._limits.max_entries:
            raise _ArchiveStopped(SourceProblem(
                where, f"archive holds more than {self._limits.max_entries} entries counting "
                       f"nested zips (max_entries); stopped reading it (possible zip bomb)"))

    def check_declared(self, size: int) -> None:
        """Stop early when an entry's declared size alone would break the total."""
        if self._bytes + size > self._limits.max_total_bytes:
            raise _ArchiveStopped(self._total_problem())

    def cap(self) -> _Cap:
        return _Cap(self._limits.max_total_bytes - self._bytes, "", stop=self._total_problem())

    def charge(self, size: int) -> None:
        self._bytes += size

    def _total_problem(self) -> SourceProblem:
        return SourceProblem(
            self._archive,
            f"archive expands to more than {_fmt_bytes(self._limits.max_total_bytes)} in total "
            f"(max_total_bytes); stopped reading it (possible zip bomb)")


# --------------------------------------------------------------------------
# Paths, files and folders


def _iter_path(path: str, opts: _Options) -> Iterator[_Item]:
    if os.path.isdir(path):
        yield from _iter_folder(path, opts)
    elif os.path.isfile(path):
        yield from _iter_file(path, opts, explicit=True, meta=_empty_meta())
    elif os.path.islink(path):
        yield SourceProblem(path, "no such file or folder (broken symbolic link)")
    elif os.path.lexists(path):
        yield SourceProblem(path, "not a regular file or folder (device, pipe or socket); skipped")
    else:
        yield SourceProblem(path, "no such file or folder")


def _iter_file(path: str, opts: _Options, *, explicit: bool,
               meta: Mapping[str, str]) -> Iterator[_Item]:
    archive = _is_zip_name(path)
    if opts.on_disk is None or not (archive or explicit or _format_from_name(path)):
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
                     meta: Mapping[str, str]) -> Iterator[_Item]:
    limits = opts.limits
    if _is_zip_name(path):
        yield from _iter_top_zip(path, limits)
        return
    fmt = _format_from_name(path)
    if fmt is None:
        if explicit:
            yield _sniffed_file(path, limits)
        else:
            logger.debug("ignoring %s: not an activity file", path)
        return
    if opts.defer_plain and not _is_gz(path):
        yield SourcePath(path, fmt, path, meta)
        return
    data = _read_local(path, limits)
    yield data if isinstance(data, SourceProblem) else SourceFile(_strip_gz(path), fmt, data, meta)


def _sniffed_file(path: str, limits: Limits) -> _Item:
    """An explicit path without a known extension: accept it only if its content says so."""
    head = _read_local(path, limits, head_only=True)
    if isinstance(head, SourceProblem):
        return head
    fmt = _sniff_format(head)
    if fmt is None:
        return SourceProblem(path, _UNSUPPORTED)
    logger.info("%s has no activity-file extension; its content looks like %s", path, fmt)
    data = _read_local(path, limits, fmt=fmt)
    return data if isinstance(data, SourceProblem) else SourceFile(_strip_gz(path), fmt, data)


def _read_local(path: str, limits: Limits, *, head_only: bool = False,
                fmt: str | None = None) -> bytes | SourceProblem:
    """Read a file from disk, gunzipping ``.gz``, under the entry and ratio caps.

    ``fmt``: the activity format when the name does not say it (a sniffed file).
    """
    gz = _is_gz(path)
    limit, what = _entry_limit(limits, fmt or _format_from_name(path))
    try:
        raw = open(path, "rb")
    except OSError as err:
        return SourceProblem(path, f"cannot read the file ({err.strerror or err}); skipped")
    with raw:
        size = os.fstat(raw.fileno()).st_size
        if not gz and not head_only and size > limit:
            return SourceProblem(path, f"file is {_fmt_bytes(size)}, over the {_fmt_bytes(limit)} limit ({what}); "
                                       f"skipped")
        src: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        caps = [_size_cap(limits, fmt or _format_from_name(path))] + ([_ratio_cap(size, limits)] if gz else [])
        try:
            result = src.read(_SNIFF_BYTES) if head_only else _read_capped(src, caps)
        except _GZIP_ERRORS as err:
            what = "not a valid gzip file, or it is damaged or truncated" if gz else "cannot read the file"
            return SourceProblem(path, f"{what} ({err}); skipped")
    if isinstance(result, _Cap):
        kind = "gzip data" if gz else "file"
        return _over_cap(result, path, kind, "skipped (possible gzip bomb)" if gz else "skipped")
    return result


def _iter_folder(root: str, opts: _Options) -> Iterator[_Item]:
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
        kind = _entry_kind(entry)
        if kind == "dir" and len(pending) > opts.limits.max_folder_depth:
            yield _too_deep(entry.path, len(pending), opts.limits)
        elif kind == "dir":
            yield from _enter_folder(entry.path, pending, meta_index, opts.limits)
        elif kind == "file":
            meta = meta_index.get(_path_key(entry.path), _empty_meta())
            yield from _iter_file(entry.path, opts, explicit=False, meta=meta)


def _too_deep(folder: str, depth: int, limits: Limits) -> SourceProblem:
    return SourceProblem(folder, f"folder nested {depth} levels deep, over the limit of {limits.max_folder_depth} "
                                 f"(max_folder_depth); skipped with everything in it")


def _entry_kind(entry: os.DirEntry[str]) -> str:
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
                  meta_index: dict[str, Mapping[str, str]], limits: Limits) -> Iterator[_Item]:
    """List a folder, index its activities.csv if any, and queue its entries."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as err:
        yield SourceProblem(folder, f"cannot read the folder ({err.strerror or err}); skipped")
        return
    # Indexed before any entry is visited: "activities/" sorts before "activities.csv".
    for entry in entries:
        if entry.name.casefold() == _STRAVA_INDEX and _entry_kind(entry) == "file":
            yield from _index_strava_folder(entry.path, folder, meta_index, limits)
    pending.append(iter(entries))


def _index_strava_folder(csv_path: str, folder: str, meta_index: dict[str, Mapping[str, str]],
                         limits: Limits) -> Iterator[SourceProblem]:
    data = _read_local(csv_path, limits)
    if isinstance(data, SourceProblem):
        yield data
        return
    rows, problems = _parse_activities_csv(data, csv_path)
    meta_index.update({_path_key(os.path.join(folder, rel)): meta for rel, meta in rows.items()})
    yield from problems


# --------------------------------------------------------------------------
# Strava activities.csv


def _parse_activities_csv(data: bytes, where: str) -> tuple[dict[str, Mapping[str, str]], list[SourceProblem]]:
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
                index[_relative_key(filename)] = MappingProxyType(
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


# --------------------------------------------------------------------------
# Zip archives


def _iter_top_zip(path: str, limits: Limits) -> Iterator[_Item]:
    try:
        raw = open(path, "rb")
    except OSError as err:
        yield SourceProblem(path, f"cannot read the file ({err.strerror or err}); skipped")
        return
    # zipfile reads members on demand from the open file: the archive is
    # never loaded into memory as a whole.
    with raw:
        archive = _open_zip(raw, path)
        if isinstance(archive, SourceProblem):
            yield archive
            return
        with archive:
            try:
                yield from _iter_zip(archive, path, 0, _Budget(path, limits), limits)
            except _ArchiveStopped as stop:
                yield stop.problem


def _open_zip(file: IO[bytes], name: str) -> zipfile.ZipFile | SourceProblem:
    try:
        return zipfile.ZipFile(file)
    except _ZIP_ERRORS as err:
        return SourceProblem(name, f"not a zip archive, or the archive is damaged ({err}); skipped")


def _iter_zip(archive: zipfile.ZipFile, display: str, nesting: int, budget: _Budget,
              limits: Limits) -> Iterator[_Item]:
    infos = archive.infolist()
    budget.count_entries(len(infos), display)
    # activities.csv first, whatever its position, so its details can be
    # attached to activity files listed before it.
    meta_index, problems = _index_strava_zip(archive, infos, display, budget, limits)
    yield from problems
    for info in infos:
        yield from _iter_member(archive, info, display, nesting, budget, limits, meta_index)


def _iter_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str, nesting: int,
                 budget: _Budget, limits: Limits, meta_index: Mapping[str, Mapping[str, str]]) -> Iterator[_Item]:
    name = f"{display}!{info.filename}"
    # Hostile names are reported whatever their extension: they say something
    # about the whole archive, even though we never extract to disk.
    hostile = _hostile_member_reason(info)
    if hostile is not None:
        yield SourceProblem(name, hostile)
        return
    if info.is_dir() or _is_hidden_member(info.filename):
        return
    if _is_zip_name(info.filename):
        yield from _iter_nested_zip(archive, info, name, nesting + 1, budget, limits)
        return
    fmt = _format_from_name(info.filename)
    if fmt is None:
        return
    data = _load_member(archive, info, name, budget, limits)
    if isinstance(data, SourceProblem):
        yield data
        return
    meta = meta_index.get(_relative_key(info.filename), _empty_meta())
    yield SourceFile(_strip_gz(name), fmt, data, meta)


def _hostile_member_reason(info: zipfile.ZipInfo) -> str | None:
    member = info.filename
    if not member:  # zipfile's is_dir() would raise on it
        return "zip entry with an empty name; skipped"
    traversal = None
    if member.startswith(("/", "\\")):
        traversal = "absolute path"
    elif _DRIVE_LETTER.match(member):
        traversal = "drive letter"
    elif ".." in re.split(r"[\\/]", member):
        traversal = "'..' component"
    if traversal is not None:
        return f"zip entry {member!r} escapes the archive (path traversal: {traversal}); skipped"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"zip entry {member!r} is a symbolic link, which could point outside the archive; skipped"
    return None


def _is_hidden_member(member: str) -> bool:
    """Dot-files and folders, notably macOS "__MACOSX/._x.fit" resource forks, which are not activities."""
    return any(part.startswith(".") and part not in (".", "..") for part in member.split("/"))


def _member_refusal(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Reasons to refuse an entry from its header alone, before reading a byte."""
    subject = f"zip entry {info.filename!r}"
    if info.flag_bits & _ZIP_FLAG_ENCRYPTED:
        return f"{subject} is encrypted (password-protected); skipped, export it again without a password"
    if info.compress_type not in _READABLE_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        return f"{subject} uses {method} compression, which is not read (only stored or deflate); skipped"
    limit, what = _entry_limit(limits, _format_from_name(info.filename))
    if info.file_size > limit:
        return (f"{subject} declares {_fmt_bytes(info.file_size)} uncompressed, over the "
                f"{_fmt_bytes(limit)} limit ({what}); skipped"
                + (" (possible zip bomb)" if limit == limits.max_entry_bytes else ""))
    if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > info.compress_size * limits.max_ratio:
        ratio = info.file_size / max(info.compress_size, 1)
        return (f"{subject} has a compression ratio of {ratio:.0f}x, over the {limits.max_ratio:g}x "
                f"limit (max_ratio); skipped (possible zip bomb)")
    return None


def _pump_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: _Budget,
                 limits: Limits, write: Callable[[bytes], object]) -> SourceProblem | None:
    """Decompress one entry into ``write`` under all caps; a problem if refused."""
    refusal = _member_refusal(info, limits)
    if refusal is not None:
        return SourceProblem(name, refusal)
    budget.check_declared(info.file_size)
    caps = [_size_cap(limits, _format_from_name(info.filename)), _ratio_cap(info.compress_size, limits),
            budget.cap()]
    try:
        with archive.open(info) as src:
            result = _pump(src, caps, write)
    except _ZIP_ERRORS as err:
        return SourceProblem(name, f"zip entry {info.filename!r} cannot be read: it is damaged or its "
                                   f"header does not match its data ({err}); skipped")
    if isinstance(result, _Cap):
        return _over_cap(result, name, f"zip entry {info.filename!r}", "skipped (possible zip bomb)")
    budget.charge(result)
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: _Budget,
                 limits: Limits) -> bytes | SourceProblem:
    parts: list[bytes] = []
    problem = _pump_member(archive, info, name, budget, limits, parts.append)
    return problem if problem is not None else b"".join(parts)


def _load_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: _Budget,
                 limits: Limits) -> bytes | SourceProblem:
    raw = _read_member(archive, info, name, budget, limits)
    if isinstance(raw, SourceProblem) or not _is_gz(info.filename):
        return raw
    return _gunzip_member(raw, name, budget, limits)


def _gunzip_member(raw: bytes, name: str, budget: _Budget, limits: Limits) -> bytes | SourceProblem:
    caps = [_size_cap(limits, _format_from_name(name)), _ratio_cap(len(raw), limits), budget.cap()]
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as src:
            result = _read_capped(src, caps)
    except _GZIP_ERRORS as err:
        return SourceProblem(name, f"gzip data is not valid, or it is damaged or truncated ({err}); skipped")
    if isinstance(result, _Cap):
        return _over_cap(result, name, "gzip data", "skipped (possible gzip bomb)")
    budget.charge(len(result))
    return result


def _iter_nested_zip(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, nesting: int,
                     budget: _Budget, limits: Limits) -> Iterator[_Item]:
    if nesting > limits.max_depth:
        yield SourceProblem(name, f"zip archive nested inside {nesting} other zip(s), over the limit "
                                  f"of {limits.max_depth} (max_depth); skipped")
        return
    # zipfile needs to seek within the nested archive; seeking a compressed
    # member means decompressing it again, so copy it out once (capped).
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY_BYTES) as spool:
        problem = _pump_member(archive, info, name, budget, limits, spool.write)
        if problem is not None:
            yield problem
            return
        spool.seek(0)
        inner = _open_zip(spool, name)  # type: ignore[arg-type]
        if isinstance(inner, SourceProblem):
            yield inner
            return
        with inner:
            yield from _iter_zip(inner, name, nesting, budget, limits)


def _index_strava_zip(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], display: str,
                      budget: _Budget, limits: Limits) -> tuple[dict[str, Mapping[str, str]], list[SourceProblem]]:
    """Activity details from every activities.csv in this archive, keyed by member path."""
    index: dict[str, Mapping[str, str]] = {}
    problems: list[SourceProblem] = []
    for info in infos:
        prefix, _, base = info.filename.rpartition("/")
        if (base.casefold() != _STRAVA_INDEX or info.is_dir() or _is_hidden_member(info.filename)
                or _hostile_member_reason(info) is not None):  # reported by the main pass
            continue
        name = f"{display}!{info.filename}"
        data = _read_member(archive, info, name, budget, limits)
        if isinstance(data, SourceProblem):
            problems.append(data)
            continue
        rows, csv_problems = _parse_activities_csv(data, name)
        problems.extend(csv_problems)
        index.update({_relative_key(posixpath.join(prefix, rel)): meta for rel, meta in rows.items()})
    return index, problems


# --------------------------------------------------------------------------
# A cheap size estimate for progress bars


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
            kind = _entry_kind(entry)
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
            if not is_activity_name(entry.name) and entry.name.lower() != _STRAVA_INDEX:
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


def is_activity_name(name: str) -> bool:
    """Whether a folder walk reads a file of this name (FIT/GPX/TCX, optionally .gz, or a .zip)."""
    return _format_from_name(name) is not None or _is_zip_name(name)


def activity_format(name: str | None, data: bytes) -> str | None:
    """The activity format (fit, gpx, tcx) of one plain file's bytes: by the extension of ``name``
    when it has one of theirs, else by its first bytes; ``None`` for anything else."""
    return (_format_from_name(name) if name else None) or _sniff_format(data[:_SNIFF_BYTES])


def _counts(path: str) -> int:
    if _format_from_name(path):
        return 1
    if not _is_zip_name(path):
        return 0
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(1 for n in zf.namelist() if _format_from_name(n) or _is_zip_name(n))
    except (OSError, zipfile.BadZipFile):
        return 1
