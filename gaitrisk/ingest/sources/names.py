"""File names and first bytes: which activity format a file holds, and sizes as people read them."""

from __future__ import annotations

import os
import re


_FORMATS = {".fit": "fit", ".gpx": "gpx", ".tcx": "tcx"}
_XML_PREAMBLE = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.S)
_XML_ROOT = re.compile(rb"\s*<(?:[\w.-]+:)?([\w.-]+)")


def is_gz(name: str) -> bool:
    return name.lower().endswith(".gz")


def strip_gz(name: str) -> str:
    return name[:-3] if is_gz(name) else name


# How much of a file's start names its format when its name does not.
SNIFF_BYTES = 8192


def is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def format_from_name(name: str) -> str | None:
    """Activity format implied by the extension (after any ``.gz``), if any."""
    return _FORMATS.get(os.path.splitext(strip_gz(name))[1].lower())


def sniff_format(head: bytes) -> str | None:
    """Recognise FIT or GPX/TCX from the first bytes of a file."""
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    head = head.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while (preamble := _XML_PREAMBLE.match(head, pos)) is not None:
        pos = preamble.end()
    root = _XML_ROOT.match(head, pos)
    if root is None:
        return None
    return {b"gpx": "gpx", b"TrainingCenterDatabase": "tcx"}.get(root.group(1))


def activity_format(name: str | None, data: bytes) -> str | None:
    """The activity format (fit, gpx, tcx) of one plain file's bytes: by the extension of ``name``
    when it has one of theirs, else by its first bytes; ``None`` for anything else."""
    return (format_from_name(name) if name else None) or sniff_format(data[:SNIFF_BYTES])


def is_activity_name(name: str) -> bool:
    """Whether a folder walk reads a file of this name (FIT/GPX/TCX, optionally .gz, or a .zip)."""
    return format_from_name(name) is not None or is_zip_name(name)


def describe_size(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.4g} {unit}"
        size /= 1024
    return f"{size:.4g} TiB"
