"""The reference (fitparse, gpxpy) decode of each real watch file, made once per test session.

fitparse takes about 30 s for the real FIT files, so every module that compares with the
reference reads it from here instead of decoding again.
"""

from __future__ import annotations

from functools import lru_cache

from gaitrisk.records import DecodeResult

from .paths import real_data_or_skip


@lru_cache(maxsize=None)
def decode_real(rel: str) -> DecodeResult:
    """The reference decode of ``rel`` (a path below the real-data folder)."""
    from gaitrisk.ingest.decoders import REFERENCE

    path = real_data_or_skip() / rel
    return REFERENCE.decode(path.suffix.lstrip(".").lower(), path.read_bytes(), str(path))


@lru_cache(maxsize=None)
def decode_real_fast(rel: str) -> DecodeResult:
    """The fast decode of ``rel``: for listing a file's legs in parameter lists, never as an oracle.

    Parameter lists are built at collection, which every run pays, even one filtered with
    ``-m "not slow"``; the fast decoder gives the reference's activities on every real file
    (tests/test_fit_fast.py, tests/test_gpx_fast.py) in about a second instead of fitparse's ~30 s.
    """
    from gaitrisk.ingest.decoders import FAST

    path = real_data_or_skip() / rel
    return FAST.decode(path.suffix.lstrip(".").lower(), path.read_bytes(), str(path))
