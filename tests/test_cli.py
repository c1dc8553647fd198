"""The CLI through click's CliRunner: contracts other programs rely on, exit codes, errors."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli

from .helpers.gpxgen import gpx_run
from .helpers.paths import FIXTURES

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SEASON = json.loads((FIXTURES / "truth" / "season.json").read_text())   # file -> truth; one run is two files
N_RUNS = sum("duplicate_of" not in t for t in SEASON.values())


@pytest.fixture
def runner():
    return CliRunner()


def _import(runner, db, *paths, extra=()):
    return runner.invoke(cli, ["--db", str(db), "import", *map(str, paths), "--json", *extra])


def test_help_everywhere(runner):
    for args in ([], ["import"], ["activities"], ["show"], ["demo"]):
        res = runner.invoke(cli, [*args, "--help"])
        assert res.exit_code == 0 and "Usage:" in res.output


@pytest.mark.slow
def test_import_json_contract_and_idempotence(runner, tmp_path):
    db = tmp_path / "g.db"
    res = _import(runner, db, FIXTURES / "runs")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"imported", "duplicates", "skipped", "partial", "failed", "ignored"}
    assert (out["imported"], out["duplicates"], out["failed"]) == (N_RUNS, 1, [])
    again = json.loads(_import(runner, db, FIXTURES / "runs").output)
    assert (again["imported"], again["duplicates"]) == (0, len(SEASON))


@pytest.mark.slow
def test_activities_json_contract(runner, tmp_path):
    db = tmp_path / "g.db"
    _import(runner, db, FIXTURES / "runs", extra=["--athlete", "ann"])
    res = runner.invoke(cli, ["--db", str(db), "activities", "--json"])
    rows = json.loads(res.output)
    assert len(rows) == N_RUNS
    required = {"id", "athlete", "sport", "start_time", "duration_s", "moving_time_s", "distance_m",
                "avg_cadence_spm", "avg_stance_time_ms", "sources", "partial"}
    for row in rows:
        assert required <= set(row)
        assert ISO_Z.match(row["start_time"]) and row["athlete"] == "ann"
        assert isinstance(row["partial"], bool) and isinstance(row["sources"], list)
    gpx_only = [r for r in rows if r["format"] == "gpx"]
    assert gpx_only and all(r["avg_stance_time_ms"] is None for r in gpx_only)  # not recorded -> null
    assert [r["start_time"] for r in rows] == sorted(r["start_time"] for r in rows)


@pytest.mark.slow
def test_activities_table_and_show(runner, tmp_path):
    db = tmp_path / "g.db"
    _import(runner, db, FIXTURES / "runs")
    table = runner.invoke(cli, ["--db", str(db), "activities"])
    assert table.exit_code == 0 and "2 sources" in table.output
    first_id = json.loads(runner.invoke(cli, ["--db", str(db), "activities", "--json"]).output)[0]["id"]
    shown = runner.invoke(cli, ["--db", str(db), "show", first_id[:8], "--json"])
    data = json.loads(shown.output)
    assert data["id"] == first_id and data["samples"]["rows"] > 100 and data["device_summary"]["sport"] == "running"
    missing = runner.invoke(cli, ["--db", str(db), "show", "zzzz"])
    assert missing.exit_code != 0 and "no activity with id 'zzzz'" in missing.output


def test_db_from_environment_and_after_subcommand(runner, tmp_path, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.setenv("GAITRISK_DB", str(db))
    assert runner.invoke(cli, ["import", str(FIXTURES / "truth" / "hill.fit")]).exit_code == 0
    assert db.exists()
    other = tmp_path / "other.db"
    res = runner.invoke(cli, ["import", "--db", str(other), str(FIXTURES / "truth" / "hill.fit"), "--json"])
    assert json.loads(res.output)["imported"] == 1 and other.exists()


def test_exit_codes(runner, tmp_path):
    db = tmp_path / "g.db"
    bad = tmp_path / "bad.gpx"
    bad.write_bytes(b"<gpx><trk>")
    only_bad = _import(runner, db, bad)
    assert only_bad.exit_code == 1
    failed = json.loads(only_bad.stdout)["failed"]
    assert failed[0]["file"].endswith("bad.gpx") and "not well-formed" in failed[0]["reason"]
    good = tmp_path / "good.gpx"
    good.write_bytes(gpx_run(dt.datetime(2024, 1, 1, 7, tzinfo=dt.timezone.utc), minutes=3))
    mixed = _import(runner, db, bad, good)
    assert mixed.exit_code == 0 and json.loads(mixed.stdout)["imported"] == 1


def test_human_summary_names_each_failure_on_one_line(runner, tmp_path):
    bad = tmp_path / "bad.fit"
    bad.write_bytes(b"\x0e\x10garbage-not-a-fit-file")
    res = runner.invoke(cli, ["--db", str(tmp_path / "g.db"), "import", str(bad)])
    lines = [ln for ln in res.output.splitlines() if "bad.fit" in ln]
    assert len(lines) == 1 and lines[0].strip().startswith("failed:")


def test_unusable_database_is_one_clear_line(runner, tmp_path):
    db = tmp_path / "g.db"
    db.write_text("not sqlite " * 200)
    res = runner.invoke(cli, ["--db", str(db), "activities"])
    assert res.exit_code == 1 and "not a usable gaitrisk database" in res.output
    assert "Traceback" not in res.output


# `gaitrisk demo` runs the whole job: tests/test_demo.py.
