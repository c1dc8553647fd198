"""``gaitrisk report`` through click's CliRunner, and ``write_report_files`` (what the nightly run calls)."""

from __future__ import annotations

import json
import os
import re
import stat
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.report import write_report_files
from gaitrisk.store import Store

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store

UTC = ZoneInfo("UTC")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_demo_store(tmp_path_factory.mktemp("cli"))


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), "report", "--tz", "UTC", *map(str, args)])


def test_help():
    res = CliRunner().invoke(cli, ["report", "--help"])
    assert res.exit_code == 0
    for opt in ("--athlete", "--all", "--since", "--format", "--output", "--with-maps", "--tz"):
        assert opt in res.output


@pytest.mark.slow
def test_text_report_sections_in_order_without_colour(db):
    res = run(db, "--athlete", ATHLETE, "--until", LAST_DAY)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "\x1b[" not in out                      # not a TTY: no colour codes
    heads = ["Flags (2024-04-13 to 2024-04-19)", "Load, last 3 weeks", "Gait trends", "Terrain, camber and track",
             "Pain log"]
    pos = [out.index(h) for h in heads]
    assert pos == sorted(pos)
    assert "pain_rising (info)" in out and "→ reduce load" in out
    assert "5/10 █████" in out and "last 10 minutes of the long run" in out


def test_markdown_has_the_same_content(db):
    res = run(db, "--athlete", ATHLETE, "--until", LAST_DAY, "--format", "markdown")
    assert res.exit_code == 0, res.output
    md = res.output
    assert md.startswith("# gaitrisk report") and "## demo: 2024-03-30 to 2024-04-19 (UTC)" in md
    assert "**pain_rising (info)**" in md and "| week | km | runs |" in md
    assert md.count("| Fri 19 Apr 07:05 | 5/10 |") == 1


def test_output_file_is_private_and_json(db, tmp_path):
    out = tmp_path / "r.json"
    res = run(db, "--all", "--format", "json", "--output", out)
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text())
    assert [a["name"] for a in doc["athletes"]] == [ATHLETE]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]       # no temp file left behind


def test_bad_input_is_one_line(db, tmp_path):
    for args, text in (((("--athlete", "nobody")), "no runs stored for athlete 'nobody'"),
                       (("--athlete", ATHLETE, "--all"), "not both"),
                       (("--since", "2024-13-01"), "--since"),
                       (("--athlete", ATHLETE, "--until", LAST_DAY, "--since", "2024-05-01"), "after the report day")):
        res = run(db, *args)
        assert res.exit_code != 0 and text in res.output, (args, res.output)
        assert "Traceback" not in res.output
    empty = tmp_path / "empty.db"
    Store(empty).close()
    res = CliRunner().invoke(cli, ["--db", str(empty), "report", "--all"])
    assert res.exit_code == 1 and "no athlete with runs" in res.output


@pytest.mark.slow
def test_write_report_files_atomic_and_private(db, tmp_path):
    from gaitrisk.store import Store

    target = tmp_path / "reports"
    with Store(db) as st:
        paths = write_report_files(st, ATHLETE, target, zone=UTC, formats=("html", "json", "markdown", "text"),
                                   today=LAST_DAY)
    assert [p.name for p in paths] == ["demo.html", "demo.json", "demo.md", "demo.txt"]
    assert sorted(os.listdir(target)) == sorted(p.name for p in paths)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    assert json.loads(paths[1].read_text())["athletes"][0]["to"] == LAST_DAY.isoformat()
    before = paths[0].stat().st_ino
    with Store(db) as st:  # a second run replaces the files (a new inode: written beside, then renamed)
        write_report_files(st, ATHLETE, target, zone=UTC, formats=("html",), today=LAST_DAY)
    assert paths[0].stat().st_ino != before and stat.S_IMODE(paths[0].stat().st_mode) == 0o600
    with Store(db) as st, pytest.raises(ValueError, match="pdf"):
        write_report_files(st, ATHLETE, target, zone=UTC, formats=("pdf",))


def test_athlete_names_cannot_escape_the_folder():
    from gaitrisk.report import safe_file_stem

    assert safe_file_stem("../../etc/passwd").startswith("_.._etc_passwd-")
    assert "/" not in safe_file_stem("a/b") and not safe_file_stem(".hidden").startswith(".")


def test_names_that_sanitise_alike_get_their_own_file_names():
    from gaitrisk.report import safe_file_stem

    names = ["ann b", "ann_b", "ann/b", "ann:b", ".ann_b", "", "ann_b-" + safe_file_stem("ann b").rsplit("-", 1)[1]]
    stems = [safe_file_stem(n) for n in names]
    assert len(set(stems)) == len(names), stems
    assert safe_file_stem("ann_b") == "ann_b" and safe_file_stem("Zoë-2") == "Zoë-2"  # plain names stay plain
    assert safe_file_stem("ann b") == safe_file_stem("ann b")  # stable: the same file every night
    assert len(safe_file_stem("ü" * 300).encode()) < 255 - len(".html.xxxxxxxx.tmp") - 1


@pytest.mark.slow
def test_two_athletes_whose_names_sanitise_alike_do_not_share_a_report_file(tmp_path):
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.store import Store

    from .helpers.paths import FIXTURES

    runs = sorted(str(p) for p in (FIXTURES / "runs").iterdir())
    target = tmp_path / "reports"
    with Store(tmp_path / "g.db") as st:
        import_paths(runs[:3], st, "ann b")
        import_paths(runs[3:4], st, "ann_b")
        written = {name: write_report_files(st, name, target, zone=UTC, formats=("json", "html"))
                   for name in ("ann b", "ann_b")}
    assert len({p for ps in written.values() for p in ps}) == 4 and len(os.listdir(target)) == 4
    for name, n_runs in (("ann b", 3), ("ann_b", 1)):
        rep = json.loads(written[name][0].read_text())["athletes"][0]
        assert (rep["name"], len(rep["runs"])) == (name, n_runs)


def test_colour_only_when_asked(db):
    from gaitrisk.report import build_athlete_report, render
    from gaitrisk.store import Store

    with Store(db) as st:
        rep = build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY)
    plain, coloured = render([rep], "text"), render([rep], "text", color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    stripped = [ln.rstrip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", coloured).split("\n")]
    assert stripped[1:] == plain.split("\n")[1:]   # the same report, only coloured (line 0: the time stamp)
