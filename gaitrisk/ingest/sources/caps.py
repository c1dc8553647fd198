"""Reading under hard output caps: one file or entry, the decompression ratio, one archive's totals.

Declared sizes are never trusted: every read stops one byte past the smallest cap.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from .items import Limits, SourceProblem
from .names import SNIFF_BYTES, describe_size, format_from_name, is_gz


_CHUNK_BYTES = 1 << 20
# Below this size an entry cannot hurt memory, and tiny files (mostly headers
# or padding) compress unpredictably well, so the ratio limit would only
# produce false alarms there.
RATIO_FLOOR_BYTES = 1 << 20
GZIP_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class Cap:
    """An upper bound on decompressed bytes, and what to say when it is hit.

    A cap with ``stop`` set belongs to the whole archive: hitting it ends the
    archive with that problem instead of skipping one entry.
    """

    limit: int
    why: str
    stop: SourceProblem | None = None


class ArchiveStopped(Exception):
    """Raised deep inside an archive walk to abandon the top-level archive."""

    def __init__(self, problem: SourceProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem
_XML_FORMATS = ("gpx", "tcx")


def entry_limit(limits: Limits, fmt: str | None) -> tuple[int, str]:
    """The most bytes one entry of this format may hold, and the limit's name for messages."""
    if fmt in _XML_FORMATS and limits.max_xml_bytes < limits.max_entry_bytes:
        return limits.max_xml_bytes, "max_xml_bytes, for one GPX or TCX file"
    return limits.max_entry_bytes, "max_entry_bytes"


def size_cap(limits: Limits, fmt: str | None = None) -> Cap:
    limit, what = entry_limit(limits, fmt)
    return Cap(limit, f"decompresses to more than {describe_size(limit)} ({what})")


def ratio_cap(compressed_size: int, limits: Limits) -> Cap:
    limit = max(RATIO_FLOOR_BYTES, int(compressed_size * limits.max_ratio))
    return Cap(limit, f"decompresses to more than {limits.max_ratio:g}x its compressed size "
                       f"(compression ratio over max_ratio)")


def pump(src: IO[bytes], caps: list[Cap], write: Callable[[bytes], object]) -> int | Cap:
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


def read_capped(src: IO[bytes], caps: list[Cap]) -> bytes | Cap:
    parts: list[bytes] = []
    result = pump(src, caps, parts.append)
    return result if isinstance(result, Cap) else b"".join(parts)


def over_cap(cap: Cap, name: str, subject: str, suffix: str) -> SourceProblem:
    if cap.stop is not None:
        raise ArchiveStopped(cap.stop)
    return SourceProblem(name, f"{subject} {cap.why}; {suffix}")


class Budget:
    """Running totals for one top-level archive, including nested zips."""

    def __init__(self, archive: str, limits: Limits) -> None:
        self._archive = archive
        self._limits = limits
        self._bytes = 0
        self._entries = 0

    def count_entries(self, count: int, where: str) -> None:
        self._entries += count
        if self._entries > self._limits.max_entries:
            raise ArchiveStopped(SourceProblem(
                where, f"archive holds more than {self._limits.max_entries} entries counting "
                       f"nested zips (max_entries); stopped reading it (possible zip bomb)"))

    def check_declared(self, size: int) -> None:
        """Stop early when an entry's declared size alone would break the total."""
        if self._bytes + size > self._limits.max_total_bytes:
            raise ArchiveStopped(self._total_problem())

    def cap(self) -> Cap:
        return Cap(self._limits.max_total_bytes - self._bytes, "", stop=self._total_problem())

    def charge(self, size: int) -> None:
        self._bytes += size

    def _total_problem(self) -> SourceProblem:
        return SourceProblem(
            self._archive,
            f"archive expands to more than {describe_size(self._limits.max_total_bytes)} in total "
            f"(max_total_bytes); stopped reading it (possible zip bomb)")


def read_local(path: str, limits: Limits, *, head_only: bool = False,
                fmt: str | None = None) -> bytes | SourceProblem:
    """Read a file from disk, gunzipping ``.gz``, under the entry and ratio caps.

    ``fmt``: the activity format when the name does not say it (a sniffed file).
    """
    gz = is_gz(path)
    limit, what = entry_limit(limits, fmt or format_from_name(path))
    try:
        raw = open(path, "rb")
    except OSError as err:
        return SourceProblem(path, f"cannot read the file ({err.strerror or err}); skipped")
    with raw:
        size = os.fstat(raw.fileno()).st_size
        if not gz and not head_only and size > limit:
            return SourceProblem(path, f"file is {describe_size(size)}, over the {describe_size(limit)} limit "
                                       f"({what}); skipped")
        src: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        caps = [size_cap(limits, fmt or format_from_name(path))] + ([ratio_cap(size, limits)] if gz else [])
        try:
            result = src.read(SNIFF_BYTES) if head_only else read_capped(src, caps)
        except GZIP_ERRORS as err:
            what = "not a valid gzip file, or it is damaged or truncated" if gz else "cannot read the file"
            return SourceProblem(path, f"{what} ({err}); skipped")
    if isinstance(result, Cap):
        kind = "gzip data" if gz else "file"
        return over_cap(result, path, kind, "skipped (possible gzip bomb)" if gz else "skipped")
    return result
