"""The inbox folder of the nightly run: what is in it, and where each file goes afterwards.

Layout (docs/nightly.md): ``inbox/<athlete>/...`` holds one athlete's files (any depth);
files directly in the inbox belong to the default athlete (``--athlete``).  With
``flat=True`` every file belongs to the default athlete.  Pain diaries are ``*.pain.csv``
anywhere, or ``*.csv`` inside a folder named ``pain`` (the top-level ``pain/`` folder is
the default athlete's, never an athlete called "pain").  Everything else is handed to
the importer, which refuses what it cannot read with a reason.

Moves never overwrite: a name already taken in the archive gets a ``~1``, ``~2``, ...
suffix before its extension.  When the taken name holds the very same bytes, the move
was already done by a run that was killed before it could remove the inbox copy, so the
inbox copy is removed instead of being archived twice.

The archive and the quarantine hold health data and sit where other users may reach: their
folders are made user-only (0700, loose existing ones tightened), and nothing in them is
written through a symbolic link -- a link below them is never followed, and a file is only
ever created new (``O_EXCL``/``O_NOFOLLOW``), never opened to be truncated.
"""

from __future__ import annotations

import errno
import filecmp
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ACTIVITY = "activity"
PAIN = "pain"
PAIN_FOLDER = "pain"
PAIN_SUFFIX = ".pain.csv"
REASON_SUFFIX = ".reason.txt"
# Names that are still being written by a browser, rsync or a sync client: leave them for the next run.
_IN_PROGRESS = (".part", ".partial", ".crdownload", ".download", ".tmp", "~")
# Suffixes kept together when a name gets a ~N suffix (run.gpx.gz -> run~1.gpx.gz).
_COMPOUND = (".pain.csv", ".fit.gz", ".gpx.gz", ".tcx.gz")


@dataclass(frozen=True)
class InboxFile:
    """One file of the inbox: ``rel`` is its path below the inbox (kept in the archive)."""

    path: Path
    rel: Path
    athlete: str
    kind: str  # ACTIVITY or PAIN


@dataclass(frozen=True)
class LeftEntry:
    """An inbox entry that is not taken (a symbolic link, a socket, ...), with the reason."""

    rel: Path
    athlete: str
    reason: str


@dataclass(frozen=True)
class InboxScan:
    files: list[InboxFile]
    left: list[LeftEntry]
    young: int = 0  # files modified less than min_age_s ago: taken by a later run


def scan(inbox: Path, default_athlete: str, *, flat: bool = False, exclude: Iterable[Path] = (),
         min_age_s: float = 0.0, now: float | None = None) -> list[InboxFile]:
    """The files of :func:`scan_inbox`."""
    return scan_inbox(inbox, default_athlete, flat=flat, exclude=exclude, min_age_s=min_age_s, now=now).files


def scan_inbox(inbox: Path, default_athlete: str, *, flat: bool = False, exclude: Iterable[Path] = (),
         min_age_s: float = 0.0, now: float | None = None) -> InboxScan:
    """Every file waiting in ``inbox``, sorted by athlete then path, and the entries left alone with why.

    Hidden entries, files still being written (``.part`` and the like) and files modified
    less than ``min_age_s`` seconds ago are left alone silently; symbolic links and special
    files are left alone with a reason (a link may point anywhere, even at another user's
    files); folders in ``exclude`` (an archive or report folder inside the inbox) are not
    entered.
    """
    now = time.time() if now is None else now
    skip = {p.resolve() for p in exclude}
    found: list[InboxFile] = []
    left: list[LeftEntry] = []
    young = 0
    for path, why in _walk(inbox, skip):
        rel = path.relative_to(inbox)
        if why is not None:
            log.warning("%s: left in the inbox, %s", path, why)
            left.append(LeftEntry(rel, _athlete_of(rel, default_athlete, flat), why))
            continue
        if path.name.endswith(_IN_PROGRESS):
            continue
        try:
            if now - path.lstat().st_mtime < min_age_s:
                log.info("%s: modified %.0f s ago, left for the next run (still being copied?)", rel,
                         now - path.lstat().st_mtime)
                young += 1
                continue
        except FileNotFoundError:
            continue
        athlete = _athlete_of(rel, default_athlete, flat)
        found.append(InboxFile(path, rel, athlete, PAIN if _is_pain(rel) else ACTIVITY))
    return InboxScan(sorted(found, key=lambda f: (f.athlete, str(f.rel))),
                     sorted(left, key=lambda e: (e.athlete, str(e.rel))), young)


def _athlete_of(rel: Path, default_athlete: str, flat: bool) -> str:
    if not flat and len(rel.parts) > 1 and rel.parts[0] != PAIN_FOLDER:
        return rel.parts[0]
    return default_athlete


def _is_pain(rel: Path) -> bool:
    name = rel.name.lower()
    return name.endswith(PAIN_SUFFIX) or (name.endswith(".csv") and rel.parent.name.lower() == PAIN_FOLDER)


def _walk(root: Path, skip: set[Path]) -> Iterator[tuple[Path, str | None]]:
    """Entries below ``root``, depth first in sorted order, no hidden ones: (path, None) for a
    regular file, (path, why it is not taken) for a symbolic link or a special file."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            log.warning("%s: cannot list the folder (%s)", folder, exc.strerror or exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                yield path, "a symbolic link, not followed (put the file itself in the inbox)"
            elif entry.is_dir(follow_symlinks=False):
                if path.resolve() not in skip:
                    stack.append(path)
            elif entry.is_file(follow_symlinks=False):
                yield path, None
            else:
                yield path, "not a regular file (a socket, pipe or device)"


def _split(name: str) -> tuple[str, str]:
    lower = name.lower()
    for ext in _COMPOUND:
        if lower.endswith(ext) and len(name) > len(ext):
            return name[:-len(ext)], name[-len(ext):]
    stem, dot, ext = name.rpartition(".")
    return (stem, dot + ext) if stem else (name, "")


def candidates(target: Path) -> Iterator[Path]:
    """``target``, then ``stem~1.ext``, ``stem~2.ext``, ..."""
    yield target
    stem, ext = _split(target.name)
    n = 1
    while True:
        yield target.with_name(f"{stem}~{n}{ext}")
        n += 1


def move_unique(src: Path, dest_root: Path, rel: Path, *, reason: str | None = None) -> Path:
    """Move ``src`` to ``dest_root/rel`` without overwriting anything; returns where it went.

    With ``reason`` (quarantine), ``<final name>.reason.txt`` holding the one-line reason is
    written first, so a file never sits in the quarantine without its reason.
    """
    target = dest_root / rel
    private_tree(dest_root, rel.parent)
    for cand in candidates(target):
        note = cand.with_name(cand.name + REASON_SUFFIX) if reason is not None else None
        if cand.is_symlink() or (note is not None and note.is_symlink()):
            log.warning("%s: a symbolic link is in the way; not followed, the next free name is used", cand)
            continue
        if cand.exists():
            if _same_bytes(src, cand):
                log.info("%s: already at %s (an earlier run was interrupted); removing the inbox copy", src, cand)
                src.unlink()
                return cand
            continue
        if note is not None:
            write_new_text(note, reason.replace("\n", " ").strip() + "\n")
        if _place(src, cand):
            return cand
    raise AssertionError("unreachable")  # pragma: no cover - candidates() never ends


def private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parent user-only (0700): archived files are health data."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        f.mkdir(mode=0o700, exist_ok=True)


def private_tree(root: Path, sub: Path) -> Path:
    """``root/sub`` as a user-only folder tree; returns it.

    ``root`` is created (with its parents) when missing; ``root`` and every folder below it
    on the way to ``sub`` are created 0700, or tightened to 0700 when they exist with group
    or other access.  A symbolic link or another user's folder below ``root`` is refused
    (``OSError`` naming it): files would land where this user does not decide who reads them.
    """
    private_dirs(root)
    folder = root
    _tighten(folder, os.stat(folder))  # the root may be a link the user chose; what it points at is tightened
    for part in sub.parts:
        folder = folder / part
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        st = os.lstat(folder)
        if stat.S_ISLNK(st.st_mode):
            raise OSError(errno.ELOOP, "a symbolic link, refused (files are never written through links)", str(folder))
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
        _tighten(folder, st)
    return folder


def _tighten(folder: Path, st: os.stat_result) -> None:
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise PermissionError(errno.EPERM, "owned by another user, refused", str(folder))
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(folder, 0o700)
        log.warning("%s: was open to other users (mode %03o); made user-only (0700)", folder,
                    stat.S_IMODE(st.st_mode))


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _place(src: Path, dst: Path) -> bool:
    """Put ``src`` at ``dst`` only if ``dst`` is free (False when it was taken meanwhile)."""
    try:
        os.link(src, dst)  # atomic and never overwrites
    except FileExistsError:
        return False
    except OSError:  # another file system, or one without hard links: copy, then claim the name
        fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)  # new, 0600
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f, open(src, "rb") as s:
                shutil.copyfileobj(s, f)
                f.flush()
                os.fsync(f.fileno())
            shutil.copystat(src, tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        try:
            os.link(tmp, dst)
        except FileExistsError:
            tmp.unlink()
            return False
        except OSError:
            if dst.exists():
                tmp.unlink()
                return False
            os.replace(tmp, dst)
        else:
            tmp.unlink()
    src.unlink()
    return True


def write_new_text(path: Path, text: str) -> None:
    """Write ``path`` as a new user-only file; never through a link, never into an existing file.

    A regular file already there (from a run killed after writing it) is replaced, not
    truncated: another name of the same file (a hard link) keeps its bytes.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise OSError(errno.EEXIST, "a link or special file is in the way, refused", str(path)) from None
        os.unlink(path)
        fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def prune_empty(inbox: Path, below: Iterable[Path]) -> None:
    """Remove folders left empty by the moves, up to (not including) the athlete folders and the inbox."""
    keep = {inbox.resolve()} | {p.resolve() for p in inbox.iterdir() if p.is_dir()} if inbox.is_dir() else set()
    for folder in sorted({p.resolve() for p in below}, key=lambda p: len(p.parts), reverse=True):
        while folder not in keep and inbox.resolve() in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
