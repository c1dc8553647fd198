"""FIT definition messages: the layout of the data messages that follow them.

A definition is parsed once per distinct layout: layouts are cached across files by
their bytes (every file of one watch repeats its definitions), together with what
fitparse would do differently with such messages (:attr:`Def.unreadable`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fitparse.utils import FitParseError

from . import profile as P
from .errors import Unsupported, need

# developer data index -> field number -> fitparse DevField: one file's descriptions
DevTypes = dict[int, dict[int, Any]]


# Type processors that do arithmetic on the value (fitparse's FitFileDataProcessor):
# they raise for an array, a string, and can overflow for 64-bit or float values.
_ARITHMETIC_TYPES = frozenset({"date_time", "local_date_time", "localtime_into_day"})


def _processor_may_fail(prof: Any, base: P.BaseInfo, count: int) -> bool:
    """Whether fitparse's type processor could raise on this field's values, in any message type.

    Checked per definition, so fitparse's failure on such messages (which the fast path
    does not otherwise decode) is reproduced exactly by handing the file to fitparse.
    """
    if prof is None or not (base.is_array_type or base.is_float or base.size == 8 or count > 1):
        return False
    return any(v.type.name in _ARITHMETIC_TYPES for v in (prof, *(prof.subfields or ())))


@dataclass(frozen=True)
class Field:
    num: int
    size: int
    base: P.BaseInfo
    offset: int            # from the message's header byte
    profile: Any | None    # fitparse Field, or DevField for developer fields
    dev_index: int | None = None

    @property
    def count(self) -> int:
        return self.size // self.base.size


@dataclass(eq=False)
class Def:
    """One definition message: the layout of the data messages that use its local number."""

    mesg_num: int
    endian: str
    fields: tuple[Field, ...]
    dev_fields: tuple[Field, ...]
    size: int                     # whole data message, header byte included
    unreadable: str | None = None  # why fitparse would read these messages differently
    def_size: int = 0              # the definition message itself, without its header byte
    _dtype: np.dtype | None = None
    # decode plans by the names wanted (None: every field), built on first use
    plans: dict[frozenset[str] | None, Any] = field(default_factory=dict)
    # record decoding steps and accumulated components, built on first use: a cached
    # definition is met again in every file of one watch, so this is per-watch work
    # (record_columns.py builds and reads these)
    record_steps: tuple[Any, ...] | None = None
    accumulated: tuple[Any, ...] | None = None
    small_plan: tuple[Any, ...] | None = None  # (struct.Struct of the message, steps by field index)

    @property
    def mesg_type(self) -> Any | None:
        return P.message_type(self.mesg_num)

    @property
    def dtype(self) -> np.dtype:
        """A structured dtype for the whole message (header byte at offset 0)."""
        if self._dtype is None:
            names, formats, offsets = [], [], []
            for i, f in enumerate(self.fields + self.dev_fields):
                code = self.endian + f.base.kind
                shape = (f.size,) if f.base.is_array_type else ((f.count,) if f.count > 1 else ())
                names.append(f"f{i}")
                formats.append((code, shape) if shape else code)
                offsets.append(f.offset)
            self._dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": self.size})
        return self._dtype


# Definition layouts already parsed (key: the definition's bytes after the header and
# reserved byte), shared across files: a definition without developer fields depends
# on its bytes alone, and Def carries no per-file state.  A definition with developer
# fields also depends on the descriptions the file registered for them, so its key adds
# those (by value: every file of one app repeats the same descriptions).
_DEF_CACHE: dict[Any, tuple[Def, tuple[int, ...]]] = {}
CACHE_MAX = 4096


def clear_cache() -> None:
    """Forget every parsed layout (the next file parses its definitions as the first file of a watch does)."""
    _DEF_CACHE.clear()


def dev_key(prof: Any) -> tuple[Any, ...]:
    """A developer field description by value (what a decode depends on)."""
    return (prof.dev_data_index, prof.def_num, prof.type.identifier, prof.name, prof.units, prof.native_field_num)


def _cache_key(buf: bytes, pos: int, header: int, fields_end: int, dev_types: DevTypes) -> Any:
    """The definition's cache key, or None when it is cut off or uses an undescribed developer field."""
    n = len(buf)
    if fields_end > n:
        return None
    if not header & 0x20:
        return bytes(buf[pos + 2:fields_end])
    if fields_end >= n:
        return None
    dev_end = fields_end + 1 + 3 * buf[fields_end]
    if dev_end > n:
        return None
    profs = []
    for j in range(fields_end + 1, dev_end, 3):
        prof = dev_types.get(buf[j + 2], {}).get(buf[j])
        if prof is None:
            return None
        profs.append(dev_key(prof))
    return (bytes(buf[pos + 2:dev_end]), tuple(profs))


def parse_definition(buf: bytes, pos: int, header: int, dev_types: DevTypes) -> tuple[Def, int, tuple[int, ...]]:
    """Parse a definition message at ``pos``.

    Returns the definition, the position after it, and the record components whose
    accumulation restarts here (fitparse restarts it at every definition that has one).
    ``dev_types`` are the developer field descriptions the file registered so far.
    """
    n = len(buf)
    q = pos + 1
    need(n, q, 2)
    endian = ">" if buf[q + 1] else "<"
    q += 2
    need(n, q, 3)
    mesg_num, n_fields = struct.unpack_from(endian + "HB", buf, q)
    q += 3
    key = _cache_key(buf, pos, header, q + 3 * n_fields, dev_types)
    cached = _DEF_CACHE.get(key) if key is not None else None
    if cached is not None:  # the same layout again (every file of one watch repeats its definitions)
        d, resets = cached
        return d, pos + 1 + d.def_size, resets
    mesg_type = P.message_type(mesg_num)
    fields: list[Field] = []
    offset = 1
    unreadable = None
    restarts: list[int] = []
    for _ in range(n_fields):
        need(n, q, 3)
        num, size, base_num = buf[q], buf[q + 1], buf[q + 2]
        q += 3
        base = P.base_info(base_num)
        if size % base.size:
            raise FitParseError("Invalid field size %d for type '%s' (expected a multiple of %d)"
                                % (size, base.fitparse.name, base.size))
        if size == 0:
            unreadable = "zero-size field"
        prof = mesg_type.fields.get(num) if mesg_type else None
        if _processor_may_fail(prof, base, size // base.size):
            unreadable = unreadable or f"field {prof.name}: a date/time of {size} byte(s) of {base.fitparse.name}"
        if prof is not None and mesg_num == P.MESG_RECORD:
            for comp in prof.components or ():
                if comp.accumulate:
                    restarts.append(comp.def_num)
        fields.append(Field(num, size, base, offset, prof))
        offset += size
    dev_fields: list[Field] = []
    if header & 0x20:
        need(n, q, 1)
        n_dev = buf[q]
        q += 1
        for _ in range(n_dev):
            need(n, q, 3)
            num, size, dev_index = buf[q], buf[q + 1], buf[q + 2]
            q += 3
            prof = dev_types.get(dev_index, {}).get(num)
            if prof is None:  # fitparse would look it up in state left by earlier files
                raise Unsupported(f"developer field {dev_index}/{num} used before its description")
            base = P.base_info(prof.type.identifier)
            if size == 0 or size % base.size:
                unreadable = "developer field size is not a multiple of its base type"
            dev_fields.append(Field(num, size, base, offset, prof, dev_index))
            offset += size
    d = Def(mesg_num, endian, tuple(fields), tuple(dev_fields), offset, unreadable, def_size=q - pos - 1)
    if key is not None:
        if len(_DEF_CACHE) >= CACHE_MAX:
            _DEF_CACHE.clear()
        _DEF_CACHE[key] = (d, tuple(restarts))
    return d, q, tuple(restarts)

