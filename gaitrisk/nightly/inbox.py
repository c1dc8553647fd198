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
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
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


def scan(inbox: Path, default_athlete: str, *, flat: bool = False, exclude: Iterable[Path] = (),
         min_age_s: float = 0.0, now: float | None = None) -> list[InboxFile]:
    """Every file waiting in ``inbox``, sorted by athlete then path.

    Hidden entries, symlinks, files still being written (``.part`` and the like) and
    files modified less than ``min_age_s`` seconds ago are left alone; folders in
    ``exclude`` (an archive or report folder inside the inbox) are not entered.
    """
    now = time.time() if now is None else now
    skip = {p.resolve() for p in exclude}
    found: list[InboxFile] = []
    for path in _walk(inbox, skip):
        rel = path.relative_to(inbox)
        if path.name.endswith(_IN_PROGRESS):
            continue
        try:
            if now - path.lstat().st_mtime < min_age_s:
                log.info("%s: modified %.0f s ago, left for the next run (still being copied?)", rel,
                         now - path.lstat().st_mtime)
                continue
        except FileNotFoundError:
            continue
        athlete = default_athlete
        if not flat and len(rel.parts) > 1 and rel.parts[0] != PAIN_FOLDER:
            athlete = rel.parts[0]
        found.append(InboxFile(path, rel, athlete, PAIN if _is_pain(rel) else ACTIVITY))
    return sorted(found, key=lambda f: (f.athlete, str(f.rel)))


def _is_pain(rel: Path) -> bool:
    name = rel.name.lower()
    return name.endswith(PAIN_SUFFIX) or (name.endswith(".csv") and rel.parent.name.lower() == PAIN_FOLDER)


def _walk(root: Path, skip: set[Path]) -> Iterator[Path]:
    """Regular files below ``root``, depth first in sorted order; no symlinks, no hidden entries."""
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
            if entry.is_dir(follow_symlinks=False):
                if path.resolve() not in skip:
                    stack.append(path)
            elif entry.is_file(follow_symlinks=False):
                yield path


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
    private_dirs(target.parent)
    for cand in candidates(target):
        if cand.exists():
            if _same_bytes(src, cand):
                log.info("%s: already at %s (an earlier run was interrupted); removing the inbox copy", src, cand)
                src.unlink()
                return cand
            continue
        if reason is not None:
            _write_text(cand.with_name(cand.name + REASON_SUFFIX), reason.replace("\n", " ").strip() + "\n")
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
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
        shutil.copy2(src, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
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


def _write_text(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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
