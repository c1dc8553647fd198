"""`gaitrisk load`, `pain` and `gap` through click's CliRunner: contracts, errors, atomic imports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run

RUN_KEYS = {"id", "start_time", "distance_m", "longest_prev_30d_m", "spike_pct", "spike_tier"}
TIERS = {"none", "small", "moderate", "large", "insufficient_history"}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path):
    """An empty store: reading commands refuse a store that does not exist."""
    path = tmp_path / "g.db"
    Store(path).close()
    return str(path)


def _cli(runner, db, *args):
    return runner.invoke(cli, ["--db", db, *args])


def test_help_everywhere(runner):
    for args in (["load"], ["pain"], ["pain", "add"], ["pain", "list"], ["pain", "edit"], ["pain", "delete"],
                 ["pain", "import"], ["gap"], ["gap", "add"], ["gap", "list"], ["gap", "delete"]):
        res = runner.invoke(cli, [*args, "--help"])
        assert res.exit_code == 0 and "Usage:" in res.output, args


@pytest.mark.slow
def test_load_json_contract_spike_and_gap(runner, db, tmp_path):
    # Runs of 10 minutes at 3 m/s = 1.8 km on days 0 and 31, and 2.4 km (13.3 min) on day 35.
    day0 = dt.datetime(2024, 4, 1, 7, tzinfo=dt.timezone.utc)
    for k, minutes in ((0, 10), (31, 10), (35, 14)):
        (tmp_path / f"r{k}.gpx").write_bytes(gpx_run(day0 + dt.timedelta(days=k), minutes=minutes))
    assert _cli(runner, db, "import", str(tmp_path)).exit_code == 0
    res = _cli(runner, db, "load", "--json", "--tz", "UTC", "--until", "2024-05-12", "--weeks", "6")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"weeks", "runs"}
    assert len(out["weeks"]) == 6 and out["weeks"][-1]["week_end"] == "2024-05-12"
    assert [set(r) for r in out["runs"]] == [RUN_KEYS] * 3 and {r["spike_tier"] for r in out["runs"]} <= TIERS
    r0, r31, r35 = out["runs"]
    assert r0["spike_tier"] == "insufficient_history" and r0["longest_prev_30d_m"] is None
    # Day 31: days 1..30 hold no run -> no reference; day 35: days 5..34 hold day 31's run.
    assert r31["spike_tier"] == "insufficient_history" and r31["longest_prev_30d_m"] == 0
    assert r35["longest_prev_30d_m"] == pytest.approx(r31["distance_m"], abs=0.1)
    assert r35["spike_pct"] == pytest.approx((r35["distance_m"] / r31["distance_m"] - 1) * 100, abs=0.01)
    assert r35["spike_tier"] == "moderate"  # 14 vs 10 minutes at the same speed: about +40 %
    assert any(w["return_to_run"] for w in out["weeks"])  # day 31 after 30 run-free days
    # `import` computes the per-run features, so descent is known (the test runs climb and drop 5 m sine waves).
    assert any(w["descent_m"] is not None and w["descent_m"] > 0 for w in out["weeks"])

    # A gap over day 20 makes day 35's 30-day window unknown.
    res = _cli(runner, db, "gap", "add", "--from", "2024-04-21", "--to", "2024-04-21", "--reason", "watch at home")
    assert res.exit_code == 0 and "1 days" in res.output
    out = json.loads(_cli(runner, db, "load", "--json", "--tz", "UTC", "--until", "2024-05-12").output)
    assert out["runs"][2]["spike_tier"] == "insufficient_history"
    assert sum(w["no_data_days"] for w in out["weeks"] if w["week_start"] >= "2024-04-01") == 1
    gaps = json.loads(_cli(runner, db, "gap", "list", "--json").output)
    assert [(g["from"], g["to"], g["days"]) for g in gaps] == [("2024-04-21", "2024-04-21", 1)]
    assert _cli(runner, db, "gap", "delete", str(gaps[0]["id"])).exit_code == 0
    again = json.loads(_cli(runner, db, "load", "--json", "--tz", "UTC", "--until", "2024-05-12").output)
    assert again["runs"][2]["spike_tier"] == "moderate"

    assert _cli(runner, db, "pain", "add", "--score", "7", "--region", "buttock", "--side", "L", "--when",
                "at_night", "--date", "2024-05-06", "--tz", "UTC").exit_code == 0
    table = _cli(runner, db, "load", "--tz", "UTC", "--until", "2024-05-12", "--weeks", "6")
    assert table.exit_code == 0, table.output
    assert "1 moderate" in table.output and "return to run" in table.output
    last_row = [ln for ln in table.output.splitlines() if ln.startswith("2024-05-06")][0]
    assert last_row.split()[-1] == "7"  # pain max of the week 6-12 May
    assert "evidence for runners is weak" in table.output


def test_load_errors_are_one_line(runner, db):
    res = _cli(runner, db, "load", "--tz", "Mars/Olympus")
    assert res.exit_code != 0 and "unknown time zone 'Mars/Olympus'" in res.output
    res = _cli(runner, db, "load", "--until", "2024-13-01")
    assert res.exit_code != 0 and "--until" in res.output
    empty = _cli(runner, db, "load", "--tz", "UTC")
    assert empty.exit_code == 1 and "no runs stored for athlete 'me'" in empty.output
    assert len(empty.output.strip().splitlines()) == 1
    assert _cli(runner, db, "load", "--json", "--tz", "UTC").exit_code == 1


def test_pain_add_list_edit_delete(runner, db):
    res = _cli(runner, db, "pain", "add", "--score", "4", "--region", "lateral hip", "--side", "R", "--when",
               "after run", "--date", "2024-05-01", "--time", "07:30", "--tz", "Europe/Berlin", "--json")
    assert res.exit_code == 0, res.output
    e = json.loads(res.output)
    assert (e["time_utc"], e["local_time"], e["region"], e["side"], e["when"]) == (
        "2024-05-01T05:30:00Z", "07:30", "lateral_hip", "R", "after_run")
    dup = _cli(runner, db, "pain", "add", "--score", "4", "--region", "lateral_hip", "--side", "R", "--when",
               "after_run", "--date", "2024-05-01", "--time", "07:30", "--tz", "Europe/Berlin")
    assert dup.exit_code != 0 and "already in the log" in dup.output
    bad = _cli(runner, db, "pain", "add", "--score", "12", "--region", "foot", "--side", "L", "--when", "at_rest")
    assert bad.exit_code != 0 and "score '12'" in bad.output and len(bad.output.strip().splitlines()) == 1
    edit = _cli(runner, db, "pain", "edit", str(e["id"]), "--score", "6", "--behaviour", "worsens", "--json")
    assert edit.exit_code == 0, edit.output
    edited = json.loads(edit.stdout)
    assert (edited["score"], edited["behaviour"], edited["time_utc"]) == (6, "worsens", "2024-05-01T05:30:00Z")
    listed = json.loads(_cli(runner, db, "pain", "list", "--json").output)
    assert [(x["id"], x["score"]) for x in listed] == [(e["id"], 6)]
    table = _cli(runner, db, "pain", "list", "--tz", "Europe/Berlin")
    assert "2024-05-01 07:30" in table.output and "lateral hip" in table.output
    assert _cli(runner, db, "pain", "delete", "999").exit_code != 0
    assert _cli(runner, db, "pain", "delete", str(e["id"])).exit_code == 0
    assert json.loads(_cli(runner, db, "pain", "list", "--json").output) == []


GOOD_AND_BAD = ("date,time,score,region,side,when,behaviour,note\n"
                "2024-05-01,07:30,4,lateral hip,R,after run,,\n"
                "2024-05-02,07:30,eleven,lateral hip,R,after run,,\n"
                "2024-05-03,,2,shin,L,next morning,,\n")


def test_pain_import_good_and_bad_rows(runner, db, tmp_path):
    f = tmp_path / "pain.csv"
    f.write_text(GOOD_AND_BAD)
    res = _cli(runner, db, "pain", "import", str(f), "--json", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["imported"] == 2 and out["duplicates"] == 0
    assert [r["line"] for r in out["rejected"]] == [3] and "score 'eleven'" in out["rejected"][0]["reason"]
    again = json.loads(_cli(runner, db, "pain", "import", str(f), "--json", "--tz", "UTC").output)
    assert (again["imported"], again["duplicates"]) == (0, 2)
    text = _cli(runner, db, "pain", "import", str(f), "--tz", "UTC")
    assert "pain.csv, line 3: score 'eleven'" in text.output
    assert len(json.loads(_cli(runner, db, "pain", "list", "--json").output)) == 2


def test_pain_import_strict_is_all_or_nothing(runner, db, tmp_path):
    f = tmp_path / "pain.csv"
    f.write_text(GOOD_AND_BAD)
    res = _cli(runner, db, "pain", "import", str(f), "--strict")
    assert res.exit_code != 0 and "--strict: nothing imported" in res.output
    assert json.loads(_cli(runner, db, "pain", "list", "--json").output) == []
    f.write_text(GOOD_AND_BAD.replace("eleven", "5"))
    assert _cli(runner, db, "pain", "import", str(f), "--strict").exit_code == 0
    assert len(json.loads(_cli(runner, db, "pain", "list", "--json").output)) == 3


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"when,how much\nmorning,3\n", "wrong header"),
    ("date,score,region,side,when\n2024-05-01,3,foot,L,at rest,\xe9t\xe9\n".encode("latin-1"), "not UTF-8"),
])
def test_pain_import_whole_file_errors_store_nothing(runner, db, tmp_path, content, message):
    f = tmp_path / "pain.csv"
    f.write_bytes(content)
    res = _cli(runner, db, "pain", "import", str(f))
    assert res.exit_code != 0 and message in res.output and "nothing imported" in res.output
    assert json.loads(_cli(runner, db, "pain", "list", "--json").output) == []


def test_gap_errors(runner, db):
    res = _cli(runner, db, "gap", "add", "--from", "2024-03-10", "--to", "2024-03-01")
    assert res.exit_code != 0 and "before it starts" in res.output
    assert _cli(runner, db, "gap", "delete", "7").exit_code != 0
    assert "No gaps" in _cli(runner, db, "gap", "list").output
