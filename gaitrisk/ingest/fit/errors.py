"""The fast FIT decoder's exceptions, and fitparse's errors in fitparse's own words.

:class:`Unsupported` hands a file to fitparse; the others carry where and why
fitparse's reader would stop, so that problems read the same whichever decoder ran.
"""

from __future__ import annotations

from fitparse.utils import FitCRCError, FitEOFError


class Unsupported(Exception):
    """A file feature the fast path does not reproduce exactly; fitparse reads the file instead."""


class ReferenceFailed(Exception):
    """fitparse's own parse/render/type-processor code raised on a message's values.

    fitparse's reader stops at such a message as at any damage (it reads messages in
    order), so the fast path stops there too, with the very same exception.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class StopAt(Exception):
    """Message ``index`` (in file order) is where fitparse's reader would stop, with ``error``."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


def eof_error(size: int, got: int) -> FitEOFError:
    # fitparse's wording, so that problems read the same whichever decoder ran
    return FitEOFError("Tried to read %d bytes from .FIT file but got %d" % (size, max(got, 0)))


def need(n: int, pos: int, size: int) -> None:
    if n - pos < size:
        raise eof_error(size, n - pos)


def crc_error(computed: int, read: int) -> FitCRCError:
    return FitCRCError("CRC Mismatch [computed: 0x%04X, read: 0x%04X]" % (computed, read))

