"""A fast GPX reader: gpxpy's results without gpxpy, read off the bytes where the file is usual.

:func:`.gpx.decode_gpx` parses every file twice (defusedxml for safety, then gpxpy on the
text) and builds a Python object per point.  This reader tries two ways before it:

* the byte scan: when every track point has the usual shape (``lat`` and ``lon``, then an
  optional ``<ele>``, ``<time>`` and Garmin TrackPointExtension, plain ASCII texts), one
  regular expression reads all the points off the bytes and the C parser reads only what is
  left (header, tracks, segments, waypoints): no element per point is ever built;
* the tree: the tree :func:`.safe.parse_fast` built (same refusals: no DTD, no entities)
  read a column at a time, each column (lat, lon, ele, time, hr, cad) one comprehension over
  ElementTree's C-level ``find``.

Either converts each column with ``float`` in bulk, checks plain ``...Z`` times with one regex
over all of them and parses them in one numpy call (others with gpxpy's own ``parse_time``).
Each value is what gpxpy reads: the first child of each name, by the GPX 1.1 rules when the
file says version "1.1" and by the 1.0 rules otherwise (gpxpy's choice: no <metadata> or track
<type>); TrackPointExtension ``hr``/``cad`` and Cluetrust ``hr``/``cadence`` as the reference
reader finds them, in 1.0 files too.  Points without a position are skipped, as the reference
skips them.

A file the scan does not read exactly goes to the tree; anything the tree does not reproduce
exactly (non-UTF-8 text, a value gpxpy would reject, ...) raises :class:`Unsupported` and the
file is read with gpxpy instead, logged -- as the FIT fast path does with fitparse.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, cast
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
_PREFIX_DECLARATION = re.compile(rb"""xmlns:[\w.-]+\s*=\s*(['"])(.*?)\1""")


class Unsupported(Exception):
    """A file feature this reader does not reproduce exactly; gpxpy reads the file instead."""


def decode_gpx_fast(data: bytes, name: str = "<gpx>") -> DecodeResult:
    """Decode GPX bytes like :func:`.gpx.decode_gpx`, falling back to it where this path cannot."""
    result = DecodeResult()
    try:
        scanned = _scan(data)
    except Exception as exc:  # a value float() rejects, or a bug: the tree decides
        log.debug("GPX byte scan passed %s to the tree reader: %s", name, exc)
        scanned = None
    if scanned is not None:
        times, cols, meta, notes = scanned
        result.problems.extend(notes)
        return build_result(result, times, cols, meta)
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


# --- The byte scan: the usual file, without building a tree of its points --------------------
#
# A track point of the usual shape -- ``lat`` then ``lon``; then optional <ele>, <time> and one
# Garmin TrackPointExtension, in that order, with plain ASCII texts -- is read off the bytes by
# one regular expression.  What is left once the points are replaced by placeholders (the
# skeleton: header, tracks, segments, waypoints, routes; see :func:`_skeleton`) is small, and
# the C parser reads it as the tree reader reads the whole file.  The scan answers only when
# every ``trkpt`` in the file is one it read and the skeleton holds each of them where the tree
# reader looks (gpx/trk/trkseg); anything else goes to the tree reader.  A point's span holds
# only whitespace and tags, so a match never starts or ends inside a comment, CDATA section or
# attribute value, and a point inside a comment is not an element of the skeleton.
_WS = rb"[ \t\r\n]*"
_TEXT = rb"([ !-%'-;=?-~]*)"  # printable ASCII but & < >: the text is its bytes, as XML reads them
_ATTR = rb'"([ !#-%\'-;=?-~]*)"'  # the same without the quote
_TPX = rb"(?P=px)"


def _simple(name: bytes, capture: bool) -> bytes:
    text = _TEXT if capture else _TEXT[1:-1]
    return rb"(?:<" + _TPX + name + rb">" + text + rb"</" + _TPX + name + rb">" + _WS + rb")?"


_POINT = re.compile(
    rb"<trkpt[ \t\r\n]+lat=" + _ATTR + rb"[ \t\r\n]+lon=" + _ATTR + _WS + rb">" + _WS
    + rb"(?:<ele>" + _TEXT + rb"</ele>" + _WS + rb")?"
    + rb"(?:<time>" + _TEXT + rb"</time>" + _WS + rb")?"
    + rb"(?:<extensions>" + _WS + rb"<(?P<px>(?:[A-Za-z_][\w.-]*:)?)TrackPointExtension>" + _WS
    # TrackPointExtension v1/v2 children in their schema order, each at most once
    + b"".join(_simple(n, n in (b"hr", b"cad"))
               for n in (b"atemp", b"wtemp", b"depth", b"hr", b"cad", b"speed", b"course", b"bearing"))
    + rb"</" + _TPX + rb"TrackPointExtension>" + _WS + rb"</extensions>" + _WS + rb")?"
    + rb"</trkpt>")
_STRIDE = _POINT.groups + 1  # re.split: the text before a match, then each group of the match
_LAT, _LON, _ELE, _TIME, _PX, _HR, _CAD = range(1, _STRIDE)
_ALL_PLAIN_UTC_BYTES = re.compile(_ALL_PLAIN_UTC.pattern.encode())


def _scan(data: bytes) -> tuple[np.ndarray, np.ndarray, GpxMeta, list[str]] | None:
    """Times, columns (as :func:`_read`), meta and notes of a file whose track points all have
    the usual shape, read off the bytes; None for any other file."""
    text, notes = safe.clean_prefix(data)
    if not safe.c_parser_safe(text):
        return None
    pieces = _POINT.split(text)
    n = len(pieces) // _STRIDE
    # Each point read holds "trkpt" twice (start and end tag): any other (a point of another
    # shape, a prefixed <g:trkpt>, the word in a text) and the tree decides.
    if not n or text.count(b"trkpt") != 2 * n:
        return None
    skeleton = _skeleton(pieces[::_STRIDE])
    root, root_declares = _root(skeleton)
    # A prefix declared on the root is in scope at every point (a point declares nothing: the
    # shape has no other attributes); one declared elsewhere is the tree reader's business.
    if root is None or not set(pieces[_PX::_STRIDE]) - {b"", None} <= root_declares:
        return None
    tag, v11 = _layout(root, skeleton)
    tracks = root.findall(tag["trk"])
    per_segment = [sum(int(p.get("n", "0")) for p in s.iterfind(tag["trkpt"]))
                   for t in tracks for s in t.findall(tag["trkseg"])]
    if sum(per_segment) != n:  # a point outside gpx/trk/trkseg, or in another namespace
        return None
    per_segment = [k for k in per_segment if k]
    cols = np.empty((n, 6))
    cols[:, 0] = safe.floats(pieces[_LAT::_STRIDE])
    cols[:, 1] = safe.floats(pieces[_LON::_STRIDE])
    cols[:, 2] = _present_floats(pieces[_ELE::_STRIDE], lenient=False)
    cols[:, 3] = _present_floats(pieces[_HR::_STRIDE], lenient=True)
    cols[:, 4] = _present_floats(pieces[_CAD::_STRIDE], lenient=True)  # no Cluetrust cadence in this shape
    cols[:, 5] = np.repeat(np.arange(len(per_segment)), per_segment)
    return _byte_times(pieces[_TIME::_STRIDE]), cols, _meta(root, tag, v11, tracks, 0), notes


def _skeleton(texts: list[bytes]) -> bytes:
    """The file without its points: ``texts`` are what lies before, between and after them.  Points
    with only whitespace between them (siblings, which the tree reader reads in a row) become one
    ``<trkpt n="count"/>``: a few elements for the parser to build, not one per point."""
    # XML's whitespace only: anything else between two points (a tag, a comment, a character
    # XML refuses) stays for the parser to see.
    breaks = [i for i, t in enumerate(texts[1:-1], 1) if t.strip(b" \t\r\n")]
    bounds = [0, *breaks, len(texts) - 1]
    parts = [texts[0]]
    for first, end in zip(bounds, bounds[1:]):
        parts += [b'<trkpt n="%d"/>' % (end - first), texts[end]]
    return b"".join(parts)


def _root(skeleton: bytes) -> tuple[Element | None, set[bytes]]:
    """The parsed skeleton's root, and the prefixes (with their colon) the root declares."""
    parser: ET.XMLPullParser = ET.XMLPullParser(("start-ns", "start"))
    try:
        parser.feed(skeleton)
        parser.close()
    except ET.ParseError:  # the tree reader says what is wrong, or repairs it
        return None, set()
    declares: set[bytes] = set()
    for event, item in cast("Iterator[tuple[str, Any]]", parser.read_events()):
        if event == "start":  # the root: the namespaces declared on it came just before
            return item, declares
        declares.add(item[0].encode() + b":")
    return None, declares


def scanned(data: bytes) -> bool:
    """Whether the byte scan reads this file itself (the tree reader or gpxpy reads the others)."""
    try:
        return _scan(data) is not None
    except Exception:  # as decode_gpx_fast: the tree decides
        return False


def _present_floats(texts: list[bytes | None], lenient: bool) -> np.ndarray:
    """:func:`.safe.floats` of the texts, NaN where an element is absent (None) or empty."""
    if None not in texts and b"" not in texts:
        return safe.floats(texts, lenient)
    out = np.full(len(texts), np.nan)
    present = [i for i, t in enumerate(texts) if t]
    if present:
        out[present] = safe.floats([texts[i] for i in present], lenient)
    return out


def _byte_times(texts: list[bytes | None]) -> np.ndarray:
    """:func:`_times` of byte texts (ASCII: the shape allows nothing else); None or empty: no time."""
    present = [t for t in texts if t]
    if present and _ALL_PLAIN_UTC_BYTES.fullmatch(b"\n".join(present) + b"\n"):
        parsed = np.array([t[:-1] for t in present], dtype="datetime64[ns]")
        if len(present) == len(texts):
            return parsed
        out = np.full(len(texts), np.datetime64("NaT", "ns"))
        out[[i for i, t in enumerate(texts) if t]] = parsed
        return out
    return _times([t.decode("ascii") if t else None for t in texts])


# --- The tree reader --------------------------------------------------------------------------


def _layout(root: Element, text: bytes) -> tuple[dict[str, str], bool]:
    """The namespaced names of the GPX elements, and whether gpxpy reads the file by the 1.1 rules."""
    declared = _ENCODING.match(text)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8:
        raise Unsupported("not UTF-8 (gpxpy is handed UTF-8 text)")
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    # gpxpy drops the default namespace and looks for plain names; elements in any other
    # namespace (a prefixed <g:gpx>) are invisible to it.
    if ns and not re.search(rb"""\sxmlns=(['"])""" + re.escape(ns[1:-1].encode()) + rb"\1", text):
        raise Unsupported("GPX elements not in the default namespace")
    if ns and any(m.group(2) == ns[1:-1].encode() for m in _PREFIX_DECLARATION.finditer(text)):
        raise Unsupported("the GPX namespace has a prefix too")
    if root.tag != ns + "gpx":
        raise Unsupported(f"root element {root.tag!r}")
    # gpxpy reads a file by the GPX 1.1 rules only when its version says exactly "1.1", by
    # the 1.0 rules otherwise: no <metadata> (the name is the root's), no track <type>.  The
    # point <extensions> are read whatever the version (the reference reads them by the 1.1 rules).
    tag = {n: ns + n for n in ("trk", "trkseg", "trkpt", "ele", "time", "extensions", "name", "type",
                               "metadata", "rte", "wpt")}
    return tag, root.get("version") == "1.1"


def _meta(root: Element, tag: dict[str, str], v11: bool, tracks: list[Element], positionless: int) -> GpxMeta:
    metadata = root.find(tag["metadata"]) if v11 else root
    return GpxMeta(
        track_types=[_text(t, tag["type"]) if v11 else None for t in tracks],
        track_names=[_text(t, tag["name"]) for t in tracks],
        name=_text(metadata, tag["name"]) if metadata is not None else None, creator=root.get("creator"),
        has_routes=root.find(tag["rte"]) is not None,
        has_waypoints=any(has_position(w.get("lat"), w.get("lon")) for w in root.iterfind(tag["wpt"])),
        positionless=positionless)


def _read(root: Element, text: bytes) -> tuple[np.ndarray, np.ndarray, GpxMeta]:
    tag, v11 = _layout(root, text)
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
    meta = _meta(root, tag, v11, tracks, positionless)
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
