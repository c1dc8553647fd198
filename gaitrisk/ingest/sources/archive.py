"""Zip archives, nested ones included, read member by member without extracting anything to disk.

Archives are treated as hostile until proven otherwise: member names that try to escape the
archive are refused, and every member is read under the caps of :mod:`.caps`.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import IO

from .caps import GZIP_ERRORS, RATIO_FLOOR_BYTES, ArchiveStopped, Budget, Cap, entry_limit, over_cap, pump, \
    ratio_cap, read_capped, size_cap
from .items import Item, Limits, SourceFile, SourceProblem, empty_meta
from .names import describe_size, format_from_name, is_gz, is_zip_name, strip_gz
from .strava import STRAVA_INDEX, parse_activities_csv, relative_key


# A nested zip stays in memory up to this size, then spills to a temp file.
_SPOOL_MEMORY_BYTES = 16 << 20
# zipfile caps deflate output per read call, but decompresses bzip2 and LZMA
# chunks without a bound, so a small lying entry could still blow up memory
# before our own cap sees a byte: such methods are refused outright.
_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_METHOD_NAMES = {9: "deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 99: "AES"}
_ZIP_FLAG_ENCRYPTED = 0x1
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
# What zipfile and its decompressors raise for damaged or crafted data.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
               OSError, ValueError, struct.error, zlib.error)


def iter_top_zip(path: str, limits: Limits) -> Iterator[Item]:
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
                yield from _iter_zip(archive, path, 0, Budget(path, limits), limits)
            except ArchiveStopped as stop:
                yield stop.problem


def _open_zip(file: IO[bytes], name: str) -> zipfile.ZipFile | SourceProblem:
    try:
        return zipfile.ZipFile(file)
    except _ZIP_ERRORS as err:
        return SourceProblem(name, f"not a zip archive, or the archive is damaged ({err}); skipped")


def _iter_zip(archive: zipfile.ZipFile, display: str, nesting: int, budget: Budget,
              limits: Limits) -> Iterator[Item]:
    infos = archive.infolist()
    budget.count_entries(len(infos), display)
    # activities.csv first, whatever its position, so its details can be
    # attached to activity files listed before it.
    meta_index, problems = _index_strava_zip(archive, infos, display, budget, limits)
    yield from problems
    for info in infos:
        yield from _iter_member(archive, info, display, nesting, budget, limits, meta_index)


def _iter_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str, nesting: int,
                 budget: Budget, limits: Limits, meta_index: Mapping[str, Mapping[str, str]]) -> Iterator[Item]:
    name = f"{display}!{info.filename}"
    # Hostile names are reported whatever their extension: they say something
    # about the whole archive, even though we never extract to disk.
    hostile = _hostile_member_reason(info)
    if hostile is not None:
        yield SourceProblem(name, hostile)
        return
    if info.is_dir() or _is_hidden_member(info.filename):
        return
    if is_zip_name(info.filename):
        yield from _iter_nested_zip(archive, info, name, nesting + 1, budget, limits)
        return
    fmt = format_from_name(info.filename)
    if fmt is None:
        return
    data = _load_member(archive, info, name, budget, limits)
    if isinstance(data, SourceProblem):
        yield data
        return
    meta = meta_index.get(relative_key(info.filename), empty_meta())
    yield SourceFile(strip_gz(name), fmt, data, meta)


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
    limit, what = entry_limit(limits, format_from_name(info.filename))
    if info.file_size > limit:
        return (f"{subject} declares {describe_size(info.file_size)} uncompressed, over the "
                f"{describe_size(limit)} limit ({what}); skipped"
                + (" (possible zip bomb)" if limit == limits.max_entry_bytes else ""))
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > info.compress_size * limits.max_ratio:
        ratio = info.file_size / max(info.compress_size, 1)
        return (f"{subject} has a compression ratio of {ratio:.0f}x, over the {limits.max_ratio:g}x "
                f"limit (max_ratio); skipped (possible zip bomb)")
    return None


def _pump_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: Budget,
                 limits: Limits, write: Callable[[bytes], object]) -> SourceProblem | None:
    """Decompress one entry into ``write`` under all caps; a problem if refused."""
    refusal = _member_refusal(info, limits)
    if refusal is not None:
        return SourceProblem(name, refusal)
    budget.check_declared(info.file_size)
    caps = [size_cap(limits, format_from_name(info.filename)), ratio_cap(info.compress_size, limits),
            budget.cap()]
    try:
        with archive.open(info) as src:
            result = pump(src, caps, write)
    except _ZIP_ERRORS as err:
        return SourceProblem(name, f"zip entry {info.filename!r} cannot be read: it is damaged or its "
                                   f"header does not match its data ({err}); skipped")
    if isinstance(result, Cap):
        return over_cap(result, name, f"zip entry {info.filename!r}", "skipped (possible zip bomb)")
    budget.charge(result)
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: Budget,
                 limits: Limits) -> bytes | SourceProblem:
    parts: list[bytes] = []
    problem = _pump_member(archive, info, name, budget, limits, parts.append)
    return problem if problem is not None else b"".join(parts)


def _load_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: Budget,
                 limits: Limits) -> bytes | SourceProblem:
    raw = _read_member(archive, info, name, budget, limits)
    if isinstance(raw, SourceProblem) or not is_gz(info.filename):
        return raw
    return _gunzip_member(raw, name, budget, limits)


def _gunzip_member(raw: bytes, name: str, budget: Budget, limits: Limits) -> bytes | SourceProblem:
    caps = [size_cap(limits, format_from_name(name)), ratio_cap(len(raw), limits), budget.cap()]
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as src:
            result = read_capped(src, caps)
    except GZIP_ERRORS as err:
        return SourceProblem(name, f"gzip data is not valid, or it is damaged or truncated ({err}); skipped")
    if isinstance(result, Cap):
        return over_cap(result, name, "gzip data", "skipped (possible gzip bomb)")
    budget.charge(len(result))
    return result


def _iter_nested_zip(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, nesting: int,
                     budget: Budget, limits: Limits) -> Iterator[Item]:
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
                      budget: Budget, limits: Limits) -> tuple[dict[str, Mapping[str, str]], list[SourceProblem]]:
    """Activity details from every activities.csv in this archive, keyed by member path."""
    index: dict[str, Mapping[str, str]] = {}
    problems: list[SourceProblem] = []
    for info in infos:
        prefix, _, base = info.filename.rpartition("/")
        if (base.casefold() != STRAVA_INDEX or info.is_dir() or _is_hidden_member(info.filename)
                or _hostile_member_reason(info) is not None):  # reported by the main pass
            continue
        name = f"{display}!{info.filename}"
        data = _read_member(archive, info, name, budget, limits)
        if isinstance(data, SourceProblem):
            problems.append(data)
            continue
        rows, csv_problems = parse_activities_csv(data, name)
        problems.extend(csv_problems)
        index.update({relative_key(posixpath.join(prefix, rel)): meta for rel, meta in rows.items()})
    return index, problems
