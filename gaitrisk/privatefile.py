"""Writing health data to disk: atomically, readable by the user only.

One helper for every file gaitrisk writes whole (reports, the model and its card, the
nightly state): a temp file in the same folder, created 0600 by ``mkstemp``, flushed to
disk, then renamed over the target.  A reader never sees half a file, and a crash leaves
the previous version in place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, mode 0600; returns the path."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600 from the start
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # an existing target's looser mode is not inherited: the new inode is ours
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
