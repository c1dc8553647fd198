"""The decoder seam: format -> function(bytes, name) -> DecodeResult.

fitparse/gpxpy are the reference decoders; the pipeline uses :data:`DEFAULT`
(the fast ones, proven equal on every real file) and never names a library.
A decoder bug on one hostile file must not abort a batch, so :func:`decode`
turns any exception into an error result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from ..records import DecodeResult

log = logging.getLogger(__name__)

DecodeFn = Callable[[bytes, str], DecodeResult]


def _fit(data: bytes, name: str) -> DecodeResult:
    from .fit.reference import decode_fit

    return decode_fit(data, name)


def _fit_fast(data: bytes, name: str) -> DecodeResult:
    from .fit.fast import decode_fit_fast

    return decode_fit_fast(data, name)


def _gpx(data: bytes, name: str) -> DecodeResult:
    from .xml.gpx import decode_gpx

    return decode_gpx(data, name)


def _tcx(data: bytes, name: str) -> DecodeResult:
    from .xml.tcx import decode_tcx

    return decode_tcx(data, name)


@dataclass(frozen=True)
class Decoders:
    """One decode function per format; module-level functions so they pickle to worker processes."""

    fit: DecodeFn = _fit
    gpx: DecodeFn = _gpx
    tcx: DecodeFn = _tcx

    def decode(self, fmt: str, data: bytes, name: str) -> DecodeResult:
        fn = getattr(self, fmt, None)
        if fn is None:
            return DecodeResult(error=f"unsupported format {fmt!r}")
        try:
            return fn(data, name)
        except MemoryError:
            return DecodeResult(error="file too large to decode in memory")
        except Exception as exc:  # a reader bug must cost one file, not the batch
            log.exception("decoder crashed on %s", name)
            return DecodeResult(error=f"decoder error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def _gpx_fast(data: bytes, name: str) -> DecodeResult:
    from .xml.gpx_fast import decode_gpx_fast

    return decode_gpx_fast(data, name)


# fitparse and gpxpy: the reference readers the tests compare the fast ones with.
REFERENCE = Decoders()
# The vectorised FIT decoder and the ElementTree GPX reader: results identical to the
# reference on every real file (tests/test_fit_fast.py, tests/test_gpx_fast.py); the
# FIT one falls back to fitparse for what it cannot read exactly.  TCX has one reader.
FAST = Decoders(fit=_fit_fast, gpx=_gpx_fast)
# What the pipeline and the CLI use unless told otherwise.
DEFAULT = FAST
# ``gaitrisk import --decoder NAME``
BY_NAME: dict[str, Decoders] = {"fast": FAST, "fitparse": REFERENCE}
