"""Safe XML parsing for GPX and TCX.

Files come from anywhere (shared routes, bulk exports), so parsing goes
through defusedxml: no entity expansion (billion laughs, quadratic blow-up),
no external entities, no DTDs.  Common real-world blemishes are repaired and
reported rather than fatal: a byte-order mark, whitespace before the XML
declaration, and namespace prefixes used without being declared.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from xml.parsers import expat
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
import numpy as np
from defusedxml import DefusedXmlException

_KNOWN_PREFIXES = {
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "gpxtpx": "http://www.garmin.com/xmlschemas/TrackPointExtension/v1",
    "gpxx": "http://www.garmin.com/xmlschemas/GpxExtensions/v3",
    "ns3": "http://www.garmin.com/xmlschemas/ActivityExtension/v2",
    "ax": "http://www.garmin.com/xmlschemas/ActivityExtension/v2",
}
_USED_PREFIX = re.compile(rb"<\s*/?\s*([A-Za-z_][\w.-]*):|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=")
_DECLARED_PREFIX = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")
_ROOT_TAG = re.compile(rb"<(?![?!])[^\s>/]+")


class UnsafeXmlError(ValueError):
    """The document uses XML features that are refused for safety."""


def clean_prefix(data: bytes) -> tuple[bytes, list[str]]:
    """Strip a UTF-8 byte-order mark and leading whitespace, noting each."""
    notes = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes.append("UTF-8 byte-order mark removed")
    stripped = data.lstrip()
    if stripped is not data and len(stripped) != len(data):
        notes.append("whitespace before the XML declaration removed")
    return stripped, notes


def _declare_missing_prefixes(data: bytes) -> tuple[bytes, list[str]]:
    used = {m.group(1) or m.group(2) for m in _USED_PREFIX.finditer(data)}
    declared = set(_DECLARED_PREFIX.findall(data))
    missing = sorted(p for p in used - declared if p not in (b"xml", b"xmlns"))
    root = _ROOT_TAG.search(data)
    if not missing or root is None:
        return data, []
    decl = b"".join(
        b' xmlns:%s="%s"' % (p, _KNOWN_PREFIXES.get(p.decode(), f"urn:gaitrisk:undeclared:{p.decode()}").encode())
        for p in missing)
    names = ", ".join(p.decode() for p in missing)
    return data[: root.end()] + decl + data[root.end():], [f"undeclared namespace prefix ({names}) repaired"]


def parse(data: bytes) -> tuple[Element, bytes, list[str]]:
    """Parse XML bytes safely; returns the root, the (repaired) bytes and notes.

    Raises :class:`UnsafeXmlError` for entity/DTD tricks and ``ValueError``
    with a one-line reason for XML that cannot be read.
    """
    data, notes = clean_prefix(data)
    try:
        return DET.fromstring(data, forbid_dtd=True), data, notes
    except DefusedXmlException as exc:
        raise UnsafeXmlError(f"refused for safety: the XML uses {type(exc).__name__} "
                             "(DTD/entity declarations are not allowed)") from exc
    except ParseError as exc:
        if "unbound prefix" not in str(exc):
            raise ValueError(f"not well-formed XML: {exc}") from exc
    repaired, more = _declare_missing_prefixes(data)
    try:
        return DET.fromstring(repaired, forbid_dtd=True), repaired, notes + more
    except ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from exc


# Without a document type declaration a document cannot declare entities (internal or
# external): expat then only knows the five predefined ones and character references.
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']""")


def parse_fast(data: bytes) -> tuple[Element, bytes, list[str]]:
    """:func:`parse` with the same result and the same refusals, on the C parser where that is safe.

    defusedxml hooks expat from Python (a Python call per element); a UTF-8 document
    without any ``<!DOCTYPE``/``<!ENTITY`` bytes has nothing defusedxml guards against,
    so it goes to ElementTree's C parser.  Everything else -- a DTD (refused there),
    another encoding (where a byte search could miss the markers), XML that does not
    parse (repairs and error messages) -- takes :func:`parse` itself.
    """
    cleaned, notes = clean_prefix(data)
    if not c_parser_safe(cleaned):
        return parse(data)
    try:
        return ET.fromstring(cleaned), cleaned, notes
    except ParseError:
        return parse(data)


def parse_or_problem(parse: Callable[[bytes], tuple[Element, bytes, list[str]]],
                     data: bytes) -> tuple[Element, bytes, list[str]] | str:
    """``parse(data)`` (:func:`parse` or :func:`parse_fast`), or the one line saying why the bytes
    are not a document to read."""
    try:
        return parse(data)
    except ValueError as exc:  # includes UnsafeXmlError
        return str(exc)
    except LookupError as exc:  # expat: an unknown encoding in the XML declaration
        return f"not well-formed XML: {exc}"


def c_parser_safe(cleaned: bytes) -> bool:
    """Whether the :func:`clean_prefix`-ed bytes are UTF-8 XML without any DTD or entity declaration
    bytes: what ElementTree's C parser may read without defusedxml's guards."""
    declared = _DECLARED_ENCODING.match(cleaned)
    utf8 = declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")
    # UTF-8 text never holds a NUL byte: one anywhere means UTF-16/32 (with or without a
    # BOM), where the byte search for the DTD markers below would see nothing.
    return utf8 and b"\x00" not in cleaned and cleaned[:1] not in (b"\xfe", b"\xff") \
        and not any(m in cleaned for m in _DTD_MARKERS)


def local(tag: str) -> str:
    """Tag name without its namespace: exports disagree on namespaces, never on names."""
    return tag.rsplit("}", 1)[-1]


def floats(texts: Sequence[str | bytes | None], lenient: bool = False) -> np.ndarray:
    """Element texts as floats in one C-level pass: ``float`` of each (its rules: whitespace,
    ``nan``, ``1_0``), NaN for ``None``.  A text ``float`` rejects raises its ValueError, or
    with ``lenient`` becomes NaN."""
    try:
        return np.fromiter(map(float, texts), float, len(texts))
    except (TypeError, ValueError) as exc:  # a None (or a bad text) among them: one by one
        if isinstance(exc, ValueError) and not lenient:
            raise
    out = np.full(len(texts), np.nan)
    for i, t in enumerate(texts):
        if t is not None:
            try:
                out[i] = float(t)
            except ValueError:
                if not lenient:
                    raise
    return out


def without_elements(data: bytes, path: Sequence[str], drop: Callable[[dict[str, str]], bool]) -> tuple[bytes, int]:
    """``data`` without the elements at ``path`` whose attributes ``drop`` picks, and how many went.

    ``path`` names the elements from the root down, as written (prefix included, no namespace
    processing).  For a document :func:`parse` has accepted (no DTD, so no entities to expand):
    expat reports where each element starts, and the event after an element's end tag where it
    ends, so the cut is exact whatever the text holds (``>`` in attribute values, comments,
    CDATA) and in any encoding.
    """
    parser = expat.ParserCreate()
    stack: list[str] = []
    cuts: list[list[int]] = []  # [start, end) byte ranges
    inside = 0  # depth below a dropped element's start, 0 when outside one
    open_cut = False  # a dropped element ended: the next event's position is where its cut ends

    def at_event(*_args: object) -> None:
        nonlocal open_cut
        if open_cut:
            cuts[-1].append(parser.CurrentByteIndex)
            open_cut = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal inside
        at_event()
        stack.append(name)
        if inside:
            inside += 1
        elif tuple(stack) == tuple(path) and drop(attrs):
            cuts.append([parser.CurrentByteIndex])
            inside = 1

    def end(name: str) -> None:
        nonlocal inside, open_cut
        at_event()
        stack.pop()
        if inside:
            inside -= 1
            open_cut = inside == 0

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    for handler in ("CharacterDataHandler", "CommentHandler", "ProcessingInstructionHandler",
                    "StartCdataSectionHandler", "EndCdataSectionHandler", "DefaultHandler"):
        setattr(parser, handler, at_event)
    parser.Parse(data, True)
    if not cuts:
        return data, 0
    kept, at = [], 0
    for first, last in cuts:
        kept.append(data[at:first])
        at = last
    kept.append(data[at:])
    return b"".join(kept), len(cuts)
