"""A fast GPX reader: the defusedxml tree walked directly into arrays, gpxpy's results.

:func:`.gpx_reader.decode_gpx` parses every file twice (defusedxml for safety, then
gpxpy on the text) and builds a Python object per point.  This reader walks the
tree defusedxml already built (so the safety guarantees are the same: no DTD, no
entities) and reads each point the way gpxpy 1.1 does: the first child of each
name, ``float`` for coordinates and elevation, gpxpy's own ``parse_time`` for
times that are not plain UTC (plain ``...Z`` times are parsed in one numpy call),
and TrackPointExtension ``hr``/``cad`` as the reference reader finds them.

Anything it does not reproduce exactly (GPX 1.0, non-UTF-8 text, a value gpxpy
would reject, ...) raises :class:`Unsupported` and the file is read with gpxpy
instead, logged -- as the FIT fast path does with fitparse.
"""

from __future__ import annotations

import logging
import re
from xml.etree.ElementTree import Element

import numpy as np

from ..records import DecodeResult
from . import xmlsafe
from .gpx_reader import GpxMeta, build_result, decode_gpx

log = logging.getLogger(__name__)

# UTC times with whole or up-to-microsecond seconds: what numpy parses exactly as gpxpy
# does (gpxpy keeps 6 fraction digits); years kept inside datetime64[ns]'s range.
_PLAIN_UTC = re.compile(r"(?:19|20)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
_ALL_PLAIN_UTC = re.compile(f"(?:{_PLAIN_UTC.pattern}\n)*")
_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']""")
_UTF8 = {"utf-8", "utf8"}


class Unsupported(Exception):
    """A file feature this reader does not reproduce exactly; gpxpy reads the file instead."""


def decode_gpx_fast(data: bytes, name: str = "<gpx>") -> DecodeResult:
    """Decode GPX bytes like :func:`.gpx_reader.decode_gpx`, falling back to it where this path cannot."""
    result = DecodeResult()
    try:
        root, text, notes = xmlsafe.parse_fast(data)
    except (ValueError, LookupError):  # unsafe or unreadable XML: the reference reports it
        return decode_gpx(data, name)
    try:
        times, cols, meta = _read(root, text)
    except Exception as exc:  # Unsupported, or a bug: it must cost speed, never a file
        log.info("fast GPX reader fell back to gpxpy for %s: %s", name, exc)
        return decode_gpx(data, name)
    result.problems.extend(notes)
    return build_result(result, times, cols, meta)


def _read(root: Element, text: bytes) -> tuple[np.ndarray, np.ndarray, GpxMeta]:
    declared = _ENCODING.match(text)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8:
        raise Unsupported("not UTF-8 (gpxpy is handed UTF-8 text)")
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    # gpxpy drops the default namespace and looks for plain names; elements in any other
    # namespace (a prefixed <g:gpx>) are invisible to it.
    if ns and not re.search(rb"""\sxmlns=(['"])""" + re.escape(ns[1:-1].encode()) + rb"\1", text):
        raise Unsupported("GPX elements not in the default namespace")
    if root.tag != ns + "gpx" or root.get("version") != "1.1":
        raise Unsupported(f"GPX version {root.get('version')!r} (only 1.1 is read here)")
    tag = {n: ns + n for n in ("trk", "trkseg", "trkpt", "ele", "time", "extensions", "name", "type",
                               "metadata", "rte", "wpt")}
    tracks = root.findall(tag["trk"])
    points: list[Element] = []
    per_segment: list[int] = []  # points per non-empty segment: the segment index per point
    for track in tracks:
        for segment in track.findall(tag["trkseg"]):
            found = segment.findall(tag["trkpt"])
            if found:
                points += found
                per_segment.append(len(found))
    metadata = root.find(tag["metadata"])
    meta = GpxMeta(
        track_types=[_text(t, tag["type"]) for t in tracks], track_names=[_text(t, tag["name"]) for t in tracks],
        name=_text(metadata, tag["name"]) if metadata is not None else None, creator=root.get("creator"),
        has_routes=root.find(tag["rte"]) is not None, has_waypoints=root.find(tag["wpt"]) is not None)
    # One column at a time, each a comprehension over C-level finds, converted in bulk:
    # no per-point Python function call or tuple.
    lat = [p.get("lat") for p in points]
    lon = [p.get("lon") for p in points]
    if None in lat or None in lon:
        raise Unsupported("track point without lat/lon")  # gpxpy rejects the file
    ele_tag, time_tag, ext_tag = tag["ele"], tag["time"], tag["extensions"]
    eles = [p.find(ele_tag) for p in points]
    ele_text = [e.text if e is not None else None for e in eles]
    times = [p.find(time_tag) for p in points]
    hr, cad = _extensions([p.find(ext_tag) for p in points])
    cols = np.empty((len(points), 6))
    cols[:, 0] = _floats(lat)
    cols[:, 1] = _floats(lon)
    cols[:, 2] = _floats(ele_text)  # a value float() rejects: gpxpy's business (ValueError -> fallback)
    cols[:, 3] = hr
    cols[:, 4] = cad
    cols[:, 5] = np.repeat(np.arange(len(per_segment)), per_segment)
    return _times([t.text if t is not None else None for t in times]), cols, meta


def _text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    return child.text if child is not None else None


def _floats(texts: list[str | None]) -> np.ndarray:
    """``float`` of each text (the reference's conversion), NaN for ``None``; ValueError as float's."""
    try:
        return np.fromiter(map(float, texts), float, len(texts))
    except TypeError:  # a None among them: the slower way
        return np.array([np.nan if t is None else float(t) for t in texts], dtype=float)


def _lenient_floats(texts: list[str | None]) -> np.ndarray:
    """As :func:`_floats`, but a text ``float`` rejects is NaN (how extension values are read)."""
    try:
        return _floats(texts)
    except ValueError:
        out = np.full(len(texts), np.nan)
        for i, t in enumerate(texts):
            try:
                out[i] = float(t) if t is not None else np.nan
            except ValueError:
                pass
        return out


_LOCAL: dict[str, str] = {}  # tag -> local name (a handful of distinct tags per file)
_WANTED = {"hr": 0, "cad": 1}


def _extensions(exts: list[Element | None]) -> tuple[np.ndarray, np.ndarray]:
    """hr and cad per point as the reference reader finds them.

    The reference takes, below each child of ``<extensions>``, the first element of that
    local name whose text is not empty (a text ``float`` rejects gives NaN, it does not
    look further).  ``ext.iter()`` visits the same elements in the same order, plus
    ``<extensions>`` itself first, whose local name is neither.
    """
    found: list[list[str | None]] = [[None] * len(exts), [None] * len(exts)]
    for i, ext in enumerate(exts):
        if ext is None:
            continue
        todo = 2
        for el in ext.iter():
            tag = el.tag
            short = _LOCAL.get(tag) if isinstance(tag, str) else None
            if short is None:
                short = xmlsafe.local(tag) if isinstance(tag, str) else ""
                if isinstance(tag, str) and len(_LOCAL) < 1024:
                    _LOCAL[tag] = short
            k = _WANTED.get(short)
            if k is not None and el.text and found[k][i] is None:
                found[k][i] = el.text
                todo -= 1
                if not todo:
                    break
    return _lenient_floats(found[0]), _lenient_floats(found[1])


def _times(texts: list[str | None]) -> np.ndarray:
    """Point times as UTC datetime64[ns] (NaT = none), exactly as gpxpy's parse_time reads them."""
    # The usual file: every point has a plain UTC time; one regex over all of them decides
    # (the newline count rules out a text that itself holds newlines).
    joined = "\n".join(texts) + "\n" if texts and None not in texts else ""
    if joined and joined.count("\n") == len(texts) and _ALL_PLAIN_UTC.fullmatch(joined):
        return np.array([t[:-1] for t in texts], dtype="datetime64[ns]")
    out = np.full(len(texts), np.datetime64("NaT", "ns"))
    plain = [i for i, t in enumerate(texts) if t and _PLAIN_UTC.fullmatch(t)]
    if plain:
        out[plain] = np.array([texts[i][:-1] for i in plain], dtype="datetime64[ns]")
    rest = [i for i, t in enumerate(texts) if t and not _PLAIN_UTC.fullmatch(t)]
    if rest:
        import gpxpy.gpxfield

        from .gpx_reader import _utc_naive

        for i in rest:
            out[i] = _utc_naive(gpxpy.gpxfield.parse_time(texts[i]))
    return out
