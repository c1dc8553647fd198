"""Safe XML parsing for GPX and TCX.

Files come from anywhere (shared routes, bulk exports), so parsing goes
through defusedxml: no entity expansion (billion laughs, quadratic blow-up),
no external entities, no DTDs.  Common real-world blemishes are repaired and
reported rather than fatal: a byte-order mark, whitespace before the XML
declaration, and namespace prefixes used without being declared.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
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


def local(tag: str) -> str:
    """Tag name without its namespace: exports disagree on namespaces, never on names."""
    return tag.rsplit("}", 1)[-1]
