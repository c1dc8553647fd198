"""Report file names from athlete names: safe on every file system, one per athlete."""

from __future__ import annotations

import hashlib
import re

STEM_MAX = 50   # characters of a name kept in a file name: 4-byte UTF-8 ones stay below the 255-byte limit
HASH_CHARS = 8
_HASHED = re.compile(rf"-[0-9a-f]{{{HASH_CHARS}}}$")


def safe_file_stem(athlete: str) -> str:
    """An athlete name as a file name, unique per athlete: no path separators or leading dots.

    Names are user input, so characters other than letters, digits, ``-``, ``_`` and ``.``
    become ``_``.  That maps several names to one (``ann b`` and ``ann_b``), so whenever
    the name had to change, a short hash of the real name is appended (``ann_b-1a2b3c4d``)
    and two athletes never share a report file.  A name that needs no change is kept as it
    is, unless it already ends like such a hash.
    """
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in athlete).lstrip(".")[:STEM_MAX]
    if stem and stem == athlete and not _HASHED.search(stem):
        return stem
    digest = hashlib.sha256(athlete.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{stem or 'athlete'}-{digest}"
