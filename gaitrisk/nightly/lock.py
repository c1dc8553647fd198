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


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(str(db_path) + ".nightly.lock")


@contextmanager
def nightly_lock(db_path: str | os.PathLike, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold the database's nightly lock; wait up to ``wait_s`` seconds, else raise :class:`LockBusy`."""
    from filelock import FileLock, Timeout

    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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
