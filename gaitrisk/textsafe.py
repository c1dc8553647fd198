"""Text that came from files or users, made safe for the output it is printed to.

Names, creators, notes and file names come from watch files, export zips, CSV rows and
the command line.  Printed as they are, an escape sequence in one clears the screen or
plants a live hyperlink (OSC 8) in a terminal, and markup in one changes or breaks a
report.  :func:`plain` makes any such string one line of printable text for a terminal
or a log; :func:`markdown_inline` makes it literal text inside a Markdown line.  HTML
output uses :func:`html.escape` on :func:`plain` text; rich renderables take the text
as ``rich.text.Text`` (never parsed as markup).
"""

from __future__ import annotations

import re

# Escape sequences go whole, payload included: stripping only the ESC byte would leave
# "]8;;https://..." or "[2J" behind as visible noise.
#   strings (OSC, DCS, SOS, PM, APC), up to BEL or ST, or to the end when unterminated;
#   CSI with its parameters and final byte; any other ESC with its intermediates and final byte.
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# Line breaks and tabs become spaces (one record, one line); every other C0/C1 control, DEL,
# and the bidirectional overrides that make a name read differently from what it is, go.
_SPACE = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Characters that start inline Markdown (emphasis, code, links, images, tables, strikethrough).
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def plain(text: object) -> str:
    """``text`` as one line of printable characters: no escape sequences, controls or line breaks."""
    s = str(text)
    if not s.isprintable():
        s = _CONTROL.sub("", _SPACE.sub(" ", _SEQUENCE.sub("", s)))
    return s


def markdown_inline(text: object) -> str:
    """``text`` as literal Markdown: no markup, link, HTML tag or entity of its own survives."""
    s = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", s)
