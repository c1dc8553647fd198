"""One nightly run per database at a time: an OS file lock beside the database.

The lock is ``fcntl``/``LockFileEx`` based (the ``filelock`` library), so the operating
system releases it when the holder dies -- a run killed with SIGKILL never leaves a
stale lock behind for the next night.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(RuntimeError):
    """Another nightly run holds the lock of this database."""


class LockUnavailable(RuntimeError):
    """The lock file cannot be created beside the database (the path cannot hold a store either)."""


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(str(db_path) + ".nightly.lock")


@contextmanager
def nightly_lock(db_path: str | os.PathLike, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold the database's nightly lock; wait up to ``wait_s`` seconds, else raise :class:`LockBusy`."""
    from filelock import FileLock, Timeout

    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created here, not by the lock library: that one reads an unusable place (/proc, a file as
        # the folder) as "held by someone else" and would wait for nobody.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        why = "a part of the path is a file, not a folder" if isinstance(exc, (FileExistsError, NotADirectoryError)) \
            else (exc.strerror or str(exc))
        raise LockUnavailable(f"{db_path}: cannot create the lock file {path.name} beside it ({why})") from exc
    lock = FileLock(path, timeout=max(wait_s, 0.0), mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        waited = f"after waiting {wait_s:g} s" if wait_s > 0 else "(pass --wait SECONDS to wait for it)"
        raise LockBusy(f"another gaitrisk nightly run is working on {db_path} (lock {path}) {waited}") from None
    try:
        yield path
    finally:
        lock.release()
