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
    time_text: list[str | None] = []
    rows: list[tuple[float, float, float, float, float, int]] = []
    seg_index = 0
    tracks = root.findall(tag["trk"])
    for track in tracks:
        for segment in track.findall(tag["trkseg"]):
            points = segment.findall(tag["trkpt"])
            if not points:
                continue
            for p in points:
                rows.append(_point(p, tag, time_text, seg_index))
            seg_index += 1
    metadata = root.find(tag["metadata"])
    meta = GpxMeta(
        track_types=[_text(t, tag["type"]) for t in tracks], track_names=[_text(t, tag["name"]) for t in tracks],
        name=_text(metadata, tag["name"]) if metadata is not None else None, creator=root.get("creator"),
        has_routes=root.find(tag["rte"]) is not None, has_waypoints=root.find(tag["wpt"]) is not None)
    cols = np.array(rows, dtype=float).reshape(-1, 6)
    return _times(time_text), cols, meta


def _text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    return child.text if child is not None else None


def _point(p: Element, tag: dict[str, str], time_text: list[str | None], seg: int) -> tuple:
    lat, lon = p.get("lat"), p.get("lon")
    if lat is None or lon is None:
        raise Unsupported("track point without lat/lon")  # gpxpy rejects the file
    ele = p.find(tag["ele"])
    t = p.find(tag["time"])
    time_text.append(t.text if t is not None else None)
    hr = cad = np.nan
    ext = p.find(tag["extensions"])
    if ext is not None:
        hr, cad = _ext_value(ext, "hr"), _ext_value(ext, "cad")
    return (float(lat), float(lon), float(ele.text) if ele is not None and ele.text is not None else np.nan,
            hr, cad, seg)


_LOCAL: dict[str, str] = {}  # tag -> local name (a handful of distinct tags per file)


def _ext_value(ext: Element, name: str) -> float:
    """As the reference reader: the first element of that local name with text, below each extension."""
    for child in ext:
        for el in child.iter():
            tag = el.tag
            short = _LOCAL.get(tag) if isinstance(tag, str) else None
            if short is None:
                short = xmlsafe.local(tag)
                if isinstance(tag, str) and len(_LOCAL) < 1024:
                    _LOCAL[tag] = short
            if short == name and el.text:
                try:
                    return float(el.text)
                except ValueError:
                    return np.nan
    return np.nan


def _times(texts: list[str | None]) -> np.ndarray:
    """Point times as UTC datetime64[ns] (NaT = none), exactly as gpxpy's parse_time reads them."""
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
