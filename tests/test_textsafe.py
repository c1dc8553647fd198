"""Strings from files and users printed safely: no terminal control, no markup of their own.

The CLI runs with ``color=True`` (as on a terminal): click then passes escape sequences
through instead of stripping colour codes itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.textsafe import markdown_inline, plain

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store
from .helpers.gpxgen import gpx_run

CLEAR = "\x1b[2J"
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
OSC8_BEL = "\x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07"
OSC8_C1 = "\x9d8;;https://evil.example/\x9cclick me\x9d8;;\x9c"
OSC8_FILE = "\x1b]8;;https:evil.example\x1b\\click me\x1b]8;;\x1b\\"   # a file name holds no "/"
# Any control character but the tab that text tables may hold.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize("raw, shown", [
    ("sore [/]", "sore [/]"), ("[b]x", "[b]x"), (f"a{CLEAR}b", "ab"), (f"<{OSC8}>", "<click me>"),
    (f"<{OSC8_BEL}>", "<click me>"), (f"<{OSC8_C1}>", "<click me>"), ("line\nbreak\ttab", "line break tab"),
    ("nul\x00 del\x7f bell\x07", "nul del bell"), ("open \x1b]8;;https://evil.example/", "open "),
    ("a\u202egpx.exe", "agpx.exe"), ("Zoë, 10 km · ITB", "Zoë, 10 km · ITB"),
])
def test_plain_keeps_text_and_drops_control(raw, shown):
    assert plain(raw) == shown


def test_markdown_inline_renders_as_the_literal_text():
    from markdown_it import MarkdownIt

    raw = "<script>alert(1)</script> [x](javascript:alert(1)) *b* `c` a|b & <https://evil.example>"
    html = MarkdownIt("commonmark").render(markdown_inline(raw))
    assert "<script" not in html and "<a " not in html and "<em>" not in html and "<code>" not in html
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1)) *b* `c` a|b &amp; " \
                   "&lt;https://evil.example&gt;</p>\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = build_demo_store(tmp_path_factory.mktemp("textsafe"))
    notes = ["sore [/]", "[b]x", f"screen{CLEAR}cleared", f"link {OSC8}", f"bel {OSC8_BEL}",
             "<script>alert(1)</script>", "[x](javascript:alert(1))"]
    for i, note in enumerate(notes):
        res = CliRunner().invoke(cli, ["--db", str(db), "pain", "add", "--athlete", ATHLETE, "--score", "2",
                                       "--region", "shin", "--side", "L", "--when", "after_run",
                                       "--date", (LAST_DAY - dt.timedelta(days=i)).isoformat(), "--time", "21:00",
                                       "--note", note])
        assert res.exit_code == 0, res.output
    return db


def _run(db, *args):
    res = CliRunner().invoke(cli, ["--db", str(db), *args], color=True)
    return res


def _no_control(out: str) -> None:
    assert not CONTROL.search(out), repr(CONTROL.search(out))
    assert "]8;;" not in out and "evil.example" not in out


def test_text_report_shows_notes_as_written(db):
    res = _run(db, "report", "--athlete", ATHLETE, "--until", LAST_DAY.isoformat(), "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert "MarkupError" not in res.output
    out = res.output
    assert "sore [/]" in out and "[b]x" in out and "screencleared" in out and "link click me" in out
    assert "[x](javascript:alert(1))" in out
    _no_control(out)


def test_pain_list_prints_no_control_sequences(db):
    res = _run(db, "pain", "list", "--athlete", ATHLETE, "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert "screencleared" in res.output and "link click me" in res.output and "bel click me" in res.output
    _no_control(res.output)


def test_markdown_report_escapes_html_and_links(db):
    from markdown_it import MarkdownIt

    res = _run(db, "report", "--athlete", ATHLETE, "--until", LAST_DAY.isoformat(), "--tz", "UTC",
               "--format", "markdown")
    assert res.exit_code == 0, res.output
    _no_control(res.output)
    html = MarkdownIt("commonmark").enable("table").render(res.output)
    assert "<script" not in html and "javascript:" not in html.replace("[x](javascript:alert(1))", "")
    assert 'href="javascript' not in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    for note in ("sore [/]", "[b]x", "&lt;script&gt;alert(1)&lt;/script&gt;", "[x](javascript:alert(1))"):
        assert note in cells


@pytest.mark.slow
def test_html_report_escapes_and_drops_control(db):
    res = _run(db, "report", "--athlete", ATHLETE, "--until", LAST_DAY.isoformat(), "--tz", "UTC",
               "--format", "html")
    assert res.exit_code == 0, res.output
    _no_control(res.output)
    assert "<script" not in res.output and "&lt;script&gt;alert(1)&lt;/script&gt;" in res.output


EVIL_NAME = f"run {OSC8_FILE} [b]x{CLEAR}"


@pytest.fixture(scope="module")
def evil_files(tmp_path_factory):
    """A run whose GPX name and file name carry escape sequences, and a broken file named the same way."""
    folder = tmp_path_factory.mktemp("evil")
    gpx = gpx_run(dt.datetime(2024, 5, 1, 7, 0, tzinfo=dt.UTC)).replace(
        b"<name>run</name>", f"<name>Morning {OSC8_C1} [b]x</name>".encode())
    (folder / f"{EVIL_NAME}.gpx").write_bytes(gpx)
    (folder / f"broken{OSC8_FILE}.gpx").write_bytes(b"<gpx>this is not a track")
    return folder


@pytest.fixture(scope="module")
def evil_import(tmp_path_factory, evil_files):
    db = tmp_path_factory.mktemp("evil-db") / "e.db"
    return db, _run(db, "import", "--athlete", "eve", "--workers", "1", str(evil_files))


def test_import_summary_prints_no_control_sequences(evil_import):
    _, res = evil_import
    assert res.exit_code == 0, res.output
    assert "1 imported" in res.output and "failed:  " in res.output and "brokenclick me.gpx" in res.output
    _no_control(res.output)


def test_show_and_activities_print_no_control_sequences(evil_import):
    db, _ = evil_import
    (act,) = json.loads(_run(db, "activities", "--json").output)
    shown = _run(db, "show", act["id"])
    assert shown.exit_code == 0, shown.output
    assert "name: Morning click me [b]x" in shown.output and "run click me [b]x.gpx" in shown.output
    _no_control(shown.output)
    rows = _run(db, "activities")
    assert rows.exit_code == 0 and "eve" in rows.output
    _no_control(rows.output)
