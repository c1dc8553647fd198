"""What the source walk yields: the files found, the problems met, and the limits it keeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .names import strip_gz


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


def empty_meta() -> Mapping[str, str]:
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
    meta: Mapping[str, str] = field(default_factory=empty_meta, hash=False)

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
    meta: Mapping[str, str] = field(default_factory=empty_meta, hash=False)


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
        return strip_gz(self.name)


Item = SourceFile | SourceProblem | SourcePath | DiskFile
