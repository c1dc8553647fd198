"""One non-record FIT message as fitparse sees it: the few summary messages and developer field descriptions.

Of the messages the activity builder reads as dicts (file_id, session, lap, event,
sport, activity) only the fields behind the keys it reads (:data:`.profile.DICT_FIELDS`)
are decoded, with fitparse's profile objects (subfields, components, render,
scale/offset) and its type processors, without building fitparse's objects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

from fitparse.processors import FitFileDataProcessor
from fitparse.profile import FIELD_TYPE_TIMESTAMP
from fitparse.records import BASE_TYPES, DevField

from . import profile as P
from .common import FitMessages, device_name
from .definitions import CACHE_MAX, Def, DevTypes
from .errors import ReferenceFailed, Unsupported


@dataclass(frozen=True)
class _Plan:
    """Which fields of a definition one message decode needs (all, or those behind some names)."""

    process: tuple[int, ...]            # field indices whose values are produced, in field order
    parse: tuple[int, ...]              # field indices whose raw values are read (process + subfield refs)
    unpackers: tuple[Any, ...]          # struct.Struct per field index in ``parse``
    timestamp: bool                     # whether a compressed header's timestamp is wanted
    # per field in ``process``: (name, profile field, type processor) for a device field
    # without subfields or components (most of a summary message), else None
    plain: tuple[tuple[str, Any, Callable[[Any], None] | None] | None, ...] = ()


def _profile_names(prof: Any, mesg_type: Any) -> set[str]:
    """Every name a field can appear under in ``get_values()``: itself, its subfields, its components."""
    names = {prof.name}
    for variant in (prof, *(prof.subfields or ())):
        names.add(variant.name)
        for comp in variant.components or ():
            target = mesg_type.fields.get(comp.def_num) if mesg_type else None
            if target is not None:
                names |= {target.name, *(sub.name for sub in target.subfields or ())}
    return names


def _plan(d: Def, only: frozenset[str] | None) -> _Plan:
    cached = d.plans.get(only)
    if cached is not None:
        return cached
    every = d.fields + d.dev_fields
    if only is None:
        process = tuple(range(len(every)))
    else:
        process = tuple(i for i, f in enumerate(every) if f.profile is not None and (
            f.profile.name in only if f.dev_index is not None else _profile_names(f.profile, d.mesg_type) & only))
    refs = {ref.def_num for i in process if every[i].dev_index is None
            for sub in (every[i].profile.subfields or ()) for ref in sub.ref_fields}
    parse = tuple(sorted(set(process) | {i for i, f in enumerate(d.fields) if f.num in refs}))
    unpackers = tuple(struct.Struct(f"{d.endian}{every[i].count}{every[i].base.fitparse.fmt}") for i in parse)
    plain = tuple((prof.name, prof, _type_processor(prof.type.name))
                  if prof is not None and every[i].dev_index is None and not prof.subfields and not prof.components
                  else None for i, prof in ((i, every[i].profile) for i in process))
    plan = _Plan(process, parse, unpackers, only is None or "timestamp" in only, plain)
    d.plans[only] = plan
    return plan


def _raw_values(buf: bytes, pos: int, d: Def, plan: _Plan) -> list[Any]:
    """Raw values of one message (None where the plan does not need them), parsed exactly as fitparse parses them."""
    every = d.fields + d.dev_fields
    raws: list[Any] = [None] * len(every)
    for i, unpacker in zip(plan.parse, plan.unpackers):
        f = every[i]
        bt = f.base.fitparse
        got = unpacker.unpack_from(buf, pos + f.offset)
        try:
            if bt.name == "byte":
                raws[i] = bt.parse(got)
            elif len(got) > 1:
                raws[i] = tuple(bt.parse(v) for v in got)
            else:
                raws[i] = bt.parse(got[0])
        except Exception as exc:  # fitparse's parser on these bytes (e.g. a string it cannot decode)
            raise ReferenceFailed(exc) from exc
    return raws


def _resolve_subfield(prof: Any, d: Def, raws: list[Any]) -> tuple[Any, Any]:
    for sub in prof.subfields or ():
        for ref in sub.ref_fields:
            for f, raw in zip(d.fields, raws):
                if f.num == ref.def_num and ref.raw_value == raw:
                    return sub, prof
    return prof, None


def _scale_offset(prof: Any, raw: Any) -> Any:
    if isinstance(raw, tuple):
        return tuple(_scale_offset(prof, x) for x in raw)
    if isinstance(raw, (int, float)):
        if prof.scale:
            raw = float(raw) / prof.scale
        if prof.offset:
            raw = raw - prof.offset
    return raw


def _type_processor(type_name: str) -> Callable[[Any], None] | None:
    """fitparse's data-processor method for a field type (date_time, bool, ...), None when it has none.

    The default FitFileDataProcessor only has type processors (no field or unit ones),
    and they read and write just ``value`` and ``units``.
    """
    if type_name not in _TYPE_PROCESSORS:
        _TYPE_PROCESSORS[type_name] = getattr(_PROCESSOR, "process_type_%s" % type_name, None)
    return _TYPE_PROCESSORS[type_name]


class _Value:
    """What a fitparse type processor touches of a FieldData."""

    __slots__ = ("value", "units")

    def __init__(self, value: Any) -> None:
        self.value, self.units = value, None


_PROCESSOR = FitFileDataProcessor()
_TYPE_PROCESSORS: dict[str, Callable[[Any], None] | None] = {}


def _processed(prof: Any, value: Any) -> Any:
    fn = _type_processor(prof.type.name)
    return value if fn is None else _run_processor(fn, value)


def _run_processor(fn: Callable[[Any], None], value: Any) -> Any:
    holder = _Value(value)
    try:
        fn(holder)
    except Exception as exc:  # e.g. a date_time beyond datetime's range
        raise ReferenceFailed(exc) from exc
    return holder.value


def message_values(buf: bytes, pos: int, d: Def, timestamp: int | None, name: str) -> dict[str, Any]:
    """``get_values()`` of a dict message, restricted to the keys the activity builder reads.

    The same steps as :func:`_message` (subfields, components, render, scale/offset,
    fitparse's type processors) without building fitparse's objects, for only the
    fields behind the wanted names; tests compare both decoders on every real file.
    """
    only = P.DICT_FIELDS[name]
    plan = _plan(d, only)
    raws = _raw_values(buf, pos, d, plan)
    every = d.fields + d.dev_fields
    pairs: list[tuple[str, Any]] = []  # in fitparse's FieldData order: later names win
    for i, plain in zip(plan.process, plan.plain):
        f, raw = every[i], raws[i]
        if plain is not None:  # the general steps below, with nothing to resolve
            field_name, prof, fn = plain
            value = _scale_offset(prof, prof.render(raw))
            pairs.append((field_name, value if fn is None else _run_processor(fn, value)))
            continue
        prof = f.profile
        if f.dev_index is not None:
            pairs.append((prof.name, _processed(prof, raw)))
            continue
        prof, _parent = _resolve_subfield(prof, d, raws)
        for comp in prof.components or ():
            try:
                craw = comp.render(raw)
            except ValueError:  # fitparse skips the component
                continue
            except Exception as exc:  # e.g. an array with invalid (None) elements: fitparse stops here
                raise ReferenceFailed(exc) from exc
            if comp.accumulate and craw is not None:
                raise Unsupported("accumulated component outside record messages")
            cprof, _ = _resolve_subfield(d.mesg_type.fields[comp.def_num], d, raws)
            pairs.append((cprof.name, _processed(cprof, cprof.render(_scale_offset(comp, craw)))))
        pairs.append((prof.name, _processed(prof, _scale_offset(prof, prof.render(raw)))))
    if timestamp is not None and plan.timestamp:
        pairs.append((FIELD_TYPE_TIMESTAMP.name,
                      _processed(FIELD_TYPE_TIMESTAMP, FIELD_TYPE_TIMESTAMP.render(timestamp))))
    return {k: v for k, v in pairs if k in only}


_DEV_NAMES = frozenset({"developer_data_index", "field_definition_number", "fit_base_type_id", "field_name",
                        "units", "native_field_num"})


def _raw_by_name(buf: bytes, pos: int, d: Def, names: frozenset[str]) -> dict[str, Any]:
    """fitparse's ``get_raw_value(name)`` for each of ``names`` (the first field of that name)."""
    plan = _plan(d, names)
    raws = _raw_values(buf, pos, d, plan)
    every = d.fields + d.dev_fields
    out: dict[str, Any] = {}
    for i in plan.process:
        out.setdefault(every[i].profile.name, raws[i])
    return out


# Developer field descriptions already read: (definition, message bytes) -> raw values.
# The definition is a cached, never mutated Def (hashed by identity), so the bytes decide.
_DEV_RAW_CACHE: dict[tuple[Def, bytes], dict[str, Any]] = {}
_DEV_FIELDS: dict[tuple[Any, ...], Any] = {}


def register_developer_field(buf: bytes, pos: int, d: Def, dev_types: DevTypes) -> None:
    """fitparse's add_dev_data_id / add_dev_field_description, on this file's own registry."""
    key = (d, bytes(buf[pos:pos + d.size]))
    raw = _DEV_RAW_CACHE.get(key)
    try:
        if raw is None:
            raw = _raw_by_name(buf, pos, d, _DEV_NAMES)
            if len(_DEV_RAW_CACHE) >= CACHE_MAX:
                _DEV_RAW_CACHE.clear()
            _DEV_RAW_CACHE[key] = raw
    except ReferenceFailed as exc:  # fitparse stops here; the walk has no message order to cut at yet
        raise Unsupported(f"fitparse fails on a developer field description: {exc}") from exc
    index = raw.get("developer_data_index")
    if d.mesg_num == P.MESG_DEVELOPER_DATA_ID:
        dev_types[index] = {}
        return
    num = raw.get("field_definition_number")
    base_id = raw.get("fit_base_type_id")
    if index is None or index not in dev_types or base_id not in BASE_TYPES:
        raise Unsupported("developer field description fitparse would reject or resolve from earlier files")
    if not isinstance(num, int):  # an array of field numbers: fitparse fails on it (a TypeError)
        raise Unsupported(f"developer field description with field number {num!r}")
    name = raw.get("field_name") or "unnamed_dev_field_%s" % num
    value = (index, num, base_id, name, raw.get("units"), raw.get("native_field_num"))
    prof = _DEV_FIELDS.get(value)
    if prof is None:  # one object per description, so the definitions cached by value share it
        if len(_DEV_FIELDS) >= CACHE_MAX:
            _DEV_FIELDS.clear()
        prof = _DEV_FIELDS[value] = DevField(dev_data_index=index, def_num=num, type=BASE_TYPES[base_id],
                                             name=name, units=value[4], native_field_num=value[5])
    dev_types[index][num] = prof


def take_dict_message(msgs: FitMessages, name: str, v: dict[str, Any]) -> None:
    """What the activity builder keeps of a non-record message (the same rules as the fitparse reader)."""
    if name == "event":
        if v.get("event") == "timer" and v.get("timestamp") is not None:
            msgs.timer_events.append((v["timestamp"], str(v.get("event_type"))))
    elif name == "session":
        msgs.sessions.append(v)
    elif name == "lap":
        msgs.laps.append(v)
    elif name == "file_id" and msgs.file_type is None:
        msgs.file_type = str(v.get("type")) if v.get("type") is not None else None
        msgs.device = device_name(v)
    elif name == "sport" and msgs.sport is None:
        msgs.sport = v
    elif name == "activity":
        msgs.activity = v

