"""A vectorised FIT decoder that gives exactly what the fitparse reader gives, much faster.

The work is split by job: :mod:`.walk` finds every data message's position in file
order (in C where setup.py could build ``_fitwalk.c``), parsing :mod:`.definitions`
on the way (cached across files by their bytes); :mod:`.assembly` decodes the few
summary messages one by one (:mod:`.messages`) and the records in bulk
(:mod:`.record_columns`).  Everything after the byte work is shared with the
reference reader (:func:`.common.decode_with`).

The fast path raises :class:`.errors.Unsupported` for what it does not reproduce
exactly (odd field sizes, developer fields declared in an earlier file, ...);
:func:`decode_fit_fast` then reads the file with fitparse and logs why.
"""

from __future__ import annotations

import logging

from ...records import DecodeResult
from .assembly import assemble
from .common import FitMessages, decode_with
from .errors import StopAt, Unsupported
from .reference import decode_fit
from .walk import walk_messages

log = logging.getLogger(__name__)


def read_fast(data: bytes, check_crc: bool) -> tuple[FitMessages, Exception | None]:
    """Read FIT bytes into the shared column form; raises :class:`.errors.Unsupported` (or a bug) for fallback."""
    walk = walk_messages(data, check_crc)
    try:
        return assemble(data, walk), walk.error
    except StopAt as stop:  # earlier in the file than any error the walk met
        walk.cut(stop.index)
        walk.error = stop.error
        return assemble(data, walk), walk.error


# Prefix of the error a no-fallback decode returns for a file the fast path refuses on purpose.
UNSUPPORTED_PREFIX = "fast FIT decoder cannot read this file exactly"


def decode_fit_fast(data: bytes, name: str = "<fit>", fallback: bool = True) -> DecodeResult:
    """Decode FIT bytes like :func:`.reference.decode_fit`, falling back to it where the fast path cannot.

    Every fallback is logged (INFO) with the file name and reason.  ``fallback=False``
    is for the fuzzers, which must see the fast path's own behaviour: a deliberate
    :class:`Unsupported` becomes a one-line error result, and any other exception (a
    bug that the fallback would hide) propagates.
    """
    try:
        return decode_with(read_fast, bytes(data))
    except Unsupported as exc:
        reason = str(exc)
        if not fallback:
            return DecodeResult(error=f"{UNSUPPORTED_PREFIX} ({reason.splitlines()[0] if reason else 'unsupported'})")
    except Exception as exc:  # a fast-path bug must cost speed, never a file
        if not fallback:
            raise
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    log.info("fast FIT decoder fell back to fitparse for %s: %s", name, reason)
    return decode_fit(data, name)
