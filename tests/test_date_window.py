"""Dates no record can have are refused at the door; times of any year are stored as ISO
strings that parse; a store that already holds an unpadded year stays readable."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.pain import PainEntry
from gaitrisk.plausible import EARLIEST_START, day_problem
from gaitrisk.store import Store

from .helpers.paths import FIXTURES


def _cli(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def _rows(db, table: str) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_the_window_is_the_runs_window():
    today = dt.datetime.now(dt.timezone.utc).date()
    assert day_problem(EARLIEST_START.date()) is None and day_problem(today) is None
    assert "before 2000" in day_problem(EARLIEST_START.date() - dt.timedelta(days=1))
    assert "in the future" in day_problem(today + dt.timedelta(days=3))


def test_a_time_before_year_1000_is_stored_as_iso_that_reads_back(tmp_path):
    t = dt.datetime(224, 1, 3, 12, tzinfo=dt.timezone.utc)
    with Store(tmp_path / "g.db") as st:
        (pid,) = st.add_pain_entries([PainEntry("ann", t, 4, "foot", "L", "after_run", date_only=True)])
        assert st.pain_entries("ann")[0].time_utc == t
    with sqlite3.connect(tmp_path / "g.db") as c:
        assert c.execute("SELECT time_utc FROM pain_entries WHERE id=?", (pid,)).fetchone()[0] == \
            "0224-01-03T12:00:00Z"


@pytest.mark.parametrize("args", [
    ["pain", "add", "--date", "0224-01-03"],
    ["pain", "add", "--date", "9999-12-31", "--tz", "America/Los_Angeles"],
    ["pain", "add", "--date", "9999-12-31", "--time", "23:30", "--tz", "America/Los_Angeles"],
    ["pain", "add", "--date", "0001-01-01", "--time", "00:30", "--tz", "Europe/Berlin"],
    ["pain", "add", "--date", "1999-12-31", "--time", "08:00", "--tz", "UTC"],
], ids=lambda a: " ".join(a[3:]))
def test_pain_dates_outside_the_window_are_one_line(tmp_path, args):
    db = tmp_path / "g.db"
    res = _cli(db, *args, "--score", "3", "--region", "foot", "--side", "L", "--when", "at_rest")
    assert res.exit_code == 1 and res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert len(res.output.strip().splitlines()) == 1 and args[3] in res.output
    assert not db.exists() or _rows(db, "pain_entries") == 0


@pytest.mark.parametrize("args", [
    ["gap", "add", "--from", "0224-01-03", "--to", "2024-01-03"],
    ["gap", "add", "--from", "2024-01-03", "--to", "9999-12-31"],
    ["load", "--until", "9999-12-31", "--tz", "America/Los_Angeles"],
    ["pain", "list", "--since", "0001-01-01", "--tz", "Europe/Berlin"],
    ["report", "--until", "9999-12-31", "--tz", "America/Los_Angeles"],
    ["flags", "--until", "0001-01-01", "--tz", "Europe/Berlin"],
], ids=lambda a: " ".join(a[:3]))
@pytest.mark.slow
def test_date_options_outside_the_window_are_one_line(tmp_path, args):
    db = tmp_path / "g.db"
    res = _cli(db, *args)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    bad = next(a for a in args if a[:2] in ("00", "99", "02"))
    assert len(res.output.strip().splitlines()) == 1 and bad in res.output
    assert not db.exists() or _rows(db, "data_gaps") == 0


def test_a_csv_row_outside_the_window_is_rejected_with_its_line(tmp_path):
    db, f = tmp_path / "g.db", tmp_path / "p.csv"
    f.write_text("date,score,region,side,when\n2024-05-01,3,foot,L,after_run\n0224-05-02,4,foot,L,after_run\n")
    res = _cli(db, "pain", "import", str(f), "--tz", "UTC", "--json")
    assert res.exit_code == 0
    assert '"line": 3' in res.output and "0224-05-02" in res.output and _rows(db, "pain_entries") == 1


@pytest.mark.slow
def test_a_stored_unpadded_year_does_not_break_any_command(tmp_path):
    db = tmp_path / "g.db"
    assert _cli(db, "import", str(FIXTURES / "truth" / "hill.fit"), "--athlete", "ann").exit_code == 0
    assert _cli(db, "pain", "add", "--athlete", "ann", "--date", "2024-05-01", "--score", "3", "--region", "foot",
                "--side", "L", "--when", "at_rest", "--tz", "UTC").exit_code == 0
    # What a store written by the strftime-based writer holds for a pain entry typed as 0224-01-03.
    t = dt.datetime(224, 1, 3, 12, tzinfo=dt.timezone.utc)
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO pain_entries(athlete_id, time_utc, ts, date_only, zone, score, region, side, context,"
                  " created_at) SELECT id, '224-01-03T12:00:00Z', ?, 1, 'UTC', 4, 'foot', 'L', 'after_run',"
                  " '2024-01-01T00:00:00Z' FROM athletes WHERE name='ann'", (t.timestamp(),))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for args in (["pain", "list"], ["export"], ["load", "--until", "2024-05-10"], ["flags"], ["model", "train"],
                 ["report"], ["nightly", "--inbox", str(inbox), "--min-age", "0"]):
        res = _cli(db, *args, "--athlete" if args[0] != "model" else "--tz", "ann" if args[0] != "model" else "UTC")
        assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.exception)
        # model train may say it has nothing to learn from; nothing may crash or show the year unpadded
        assert "Traceback" not in res.output, (args, res.output)
        assert "224-01-03" not in res.output.replace("0224-01-03", ""), (args, res.output)
    listed = _cli(db, "pain", "list", "--athlete", "ann", "--json", "--tz", "UTC")
    assert '"local_date": "0224-01-03"' in listed.output
