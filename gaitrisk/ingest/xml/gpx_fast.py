"""A fast GPX reader: the safely parsed tree read a column at a time, gpxpy's results.

:func:`.gpx.decode_gpx` parses every file twice (defusedxml for safety, then
gpxpy on the text) and builds a Python object per point.  This reader reads the tree
:func:`.safe.parse_fast` built (same refusals: no DTD, no entities) once: each
column (lat, lon, ele, time, hr, cad) is one comprehension over ElementTree's C-level
``find``, converted with ``float`` in bulk, and plain ``...Z`` times are checked with one
regex over all of them and parsed in one numpy call (others with gpxpy's own
``parse_time``).  Each value is what gpxpy reads: the first child of each name, by the
GPX 1.1 rules when the file says version "1.1" and by the 1.0 rules otherwise (gpxpy's
choice: no <metadata> or track <type>); TrackPointExtension ``hr``/``cad`` and Cluetrust
``hr``/``cadence`` as the reference reader finds them, in 1.0 files too.  Points without a
position are skipped, as the reference skips them.

Anything it does not reproduce exactly (non-UTF-8 text, a value gpxpy would reject,
...) raises :class:`Unsupported` and the file is read with gpxpy instead, logged -- as
the FIT fast path does with fitparse.
"""

from __future__ import annotations

import logging
import re
from xml.etree.ElementTree import Element

import numpy as np

from ...records import DecodeResult
from . import safe
from .gpx import GpxMeta, build_result, decode_gpx, has_position

log = logging.getLogger(__name__)

# UTC times with whole or up-to-microsecond seconds: what numpy parses exactly as gpxpy
# does (gpxpy keeps 6 fraction digits); years 1970-2099, which the reference reader keeps
# (frame.plausible_year: it makes earlier ones "no timestamp").
_PLAIN_UTC = re.compile(r"(?:19[7-9]\d|20\d\d)-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
_ALL_PLAIN_UTC = re.compile(f"(?:{_PLAIN_UTC.pattern}\n)*")
_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']""")
_UTF8 = {"utf-8", "utf8"}


class Unsupported(Exception):
    """A file feature this reader does not reproduce exactly; gpxpy reads the file instead."""


def decode_gpx_fast(data: bytes, name: str = "<gpx>") -> DecodeResult:
    """Decode GPX bytes like :func:`.gpx.decode_gpx`, falling back to it where this path cannot."""
    result = DecodeResult()
    try:
        root, text, notes = safe.parse_fast(data)
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
    if root.tag != ns + "gpx":
        raise Unsupported(f"root element {root.tag!r}")
    # gpxpy reads a file by the GPX 1.1 rules only when its version says exactly "1.1", by
    # the 1.0 rules otherwise: no <metadata> (the name is the root's), no track <type>.  The
    # point <extensions> are read whatever the version (the reference reads them by the 1.1 rules).
    v11 = root.get("version") == "1.1"
    tag = {n: ns + n for n in ("trk", "trkseg", "trkpt", "ele", "time", "extensions", "name", "type",
                               "metadata", "rte", "wpt")}
    tracks = root.findall(tag["trk"])
    points: list[Element] = []
    per_segment: list[int] = []  # points per non-empty segment: the segment index per point
    positionless = 0
    for track in tracks:
        for segment in track.findall(tag["trkseg"]):
            found = segment.findall(tag["trkpt"])
            placed = [p for p in found if has_position(p.get("lat"), p.get("lon"))]
            positionless += len(found) - len(placed)
            if placed:
                points += placed
                per_segment.append(len(placed))
    metadata = root.find(tag["metadata"]) if v11 else root
    meta = GpxMeta(
        track_types=[_text(t, tag["type"]) if v11 else None for t in tracks],
        track_names=[_text(t, tag["name"]) for t in tracks],
        name=_text(metadata, tag["name"]) if metadata is not None else None, creator=root.get("creator"),
        has_routes=root.find(tag["rte"]) is not None,
        has_waypoints=any(has_position(w.get("lat"), w.get("lon")) for w in root.iterfind(tag["wpt"])),
        positionless=positionless)
    # One column at a time, each a comprehension over C-level finds (``findtext`` is find +
    # text in one call), converted in bulk: no per-point Python function call or tuple.
    lat = [p.get("lat") for p in points]
    lon = [p.get("lon") for p in points]
    ele_text = _texts(points, tag["ele"])
    time_text = _texts(points, tag["time"])
    hr, cad, cadence = _extensions([p.find(tag["extensions"]) for p in points])
    cols = np.empty((len(points), 6))
    cols[:, 0] = safe.floats(lat)
    cols[:, 1] = safe.floats(lon)
    cols[:, 2] = safe.floats(ele_text)  # a value float() rejects: gpxpy's business (ValueError -> fallback)
    cols[:, 3] = hr
    cols[:, 4] = np.where(np.isfinite(cad), cad, cadence)  # as extension_hr_cad
    cols[:, 5] = np.repeat(np.arange(len(per_segment)), per_segment)
    return _times(time_text), cols, meta


def _texts(elements: list[Element], tag: str) -> list[str | None]:
    """``.text`` of each element's first ``tag`` child, None when there is none."""
    texts = [e.findtext(tag) for e in elements]
    # findtext says "" for a child without text: the reference reads None there (ET's text
    # is never "").
    return [t or None for t in texts] if "" in texts else texts


def _text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    return child.text if child is not None else None


_WANTED = ("hr", "cad", "cadence")


def _extensions(exts: list[Element | None]) -> tuple[np.ndarray, ...]:
    """hr, cad and cadence per point as the reference reader finds them.

    The reference takes, below each child of ``<extensions>``, the first element of that
    local name whose text is not empty (a text ``float`` rejects gives NaN, it does not
    look further).  ``ext.iter()`` visits the same elements in the same order, plus
    ``<extensions>`` itself first, whose local name is neither.  When the file writes a
    name in one namespace only (as watches do), ``ext.iter(tag)`` finds it in C.
    """
    present = [x for x in exts if x is not None]
    tags: dict[str, list[str]] = {name: [] for name in _WANTED}
    for tag in {el.tag for x in present for el in x.iter()}:
        short = safe.local(tag) if isinstance(tag, str) else None
        if short in tags:
            tags[short].append(tag)
    out = []
    for name in _WANTED:
        if not tags[name]:
            out.append(np.full(len(exts), np.nan))
            continue
        if len(tags[name]) == 1:
            tag = tags[name][0]
            firsts = [next(x.iter(tag), None) if x is not None else None for x in exts]
            texts = [e.text if e is not None else None for e in firsts]
            for i in [i for i, e in enumerate(firsts) if e is not None and not e.text]:
                texts[i] = _first_text(exts[i], name)  # an empty one first: look further
        else:
            texts = [_first_text(x, name) if x is not None else None for x in exts]
        out.append(safe.floats(texts, lenient=True))
    return tuple(out)


def _first_text(ext: Element, name: str) -> str | None:
    for el in ext.iter():
        if isinstance(el.tag, str) and safe.local(el.tag) == name and el.text:
            return el.text
    return None


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

        from .gpx import utc_naive

        for i in rest:
            out[i] = utc_naive(gpxpy.gpxfield.parse_time(texts[i]))
    return out
