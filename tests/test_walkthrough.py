"""A new user's walk through the commands on the demo store: what each one says and leaves behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("walk") / "kept"
    res = CliRunner().invoke(cli, ["demo", "--keep", str(folder)])
    assert res.exit_code == 0, res.output
    return folder / "demo.db"


def _copy(demo_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "w.db"
    shutil.copy(demo_db, db)
    return db


@pytest.mark.slow
def test_nightly_html_report_is_the_report_commands(demo_db, tmp_path):
    """The nightly's HTML report draws the latest run from its samples, as ``report --format html`` does."""
    db = _copy(demo_db, tmp_path)
    inbox, reports = tmp_path / "inbox", tmp_path / "reports"
    inbox.mkdir()
    res = CliRunner().invoke(cli, ["--db", str(db), "nightly", "--inbox", str(inbox), "--report-dir", str(reports),
                                   "--athlete", "demo", "--min-age", "0"])
    assert res.exit_code in (0, 3), res.output
    assert "could not be read" not in res.output and "not stored" not in res.output
    html = (reports / "demo.html").read_text()
    direct = CliRunner().invoke(cli, ["--db", str(db), "report", "--athlete", "demo", "--format", "html"])
    assert direct.exit_code == 0
    assert direct.output.count("Latest run") == 1
    assert html.count("Latest run") == 1


@pytest.mark.slow
def test_missing_samples_are_said_in_words_not_as_an_exception_repr(demo_db, tmp_path, caplog):
    from gaitrisk.report import build_athlete_report
    from gaitrisk.store import Store

    with Store(demo_db, read_only=True) as st:
        snap = tmp_path / "snap.db"
        snap.write_bytes(st.snapshot_athlete("demo"))  # no samples
    with Store(snap, read_only=True) as ro, caplog.at_level("WARNING"):
        rep = build_athlete_report(ro, "demo", "UTC")
    assert rep.samples is None
    [msg] = [r.getMessage() for r in caplog.records if "samples of" in r.getMessage()]
    assert msg.endswith("are not stored: the report has no latest-run chart"), msg


@pytest.mark.parametrize("command", [
    ["activities"], ["show", "abc"], ["features", "abc"], ["load"], ["flags"], ["risk"], ["report"],
    ["pain", "list"], ["pain", "weeks"], ["gap", "list"], ["athlete", "show"], ["export", "--output", "{out}"],
])
def test_reading_commands_create_no_store(tmp_path, command):
    db = tmp_path / "nodir" / "sub" / "x.db"
    args = [a.replace("{out}", str(tmp_path / "out.json")) for a in command]
    res = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert res.exit_code == 1, res.output
    assert res.output.strip().splitlines()[-1] == (
        f"Error: no store at {db} (nothing imported yet? gaitrisk import PATH --db {db})")
    assert "Traceback" not in res.output
    assert not (tmp_path / "nodir").exists() and not (tmp_path / "out.json").exists()


def test_default_store_missing_is_named(tmp_path, monkeypatch):
    from gaitrisk.store.sqlite import default_db_path

    monkeypatch.delenv("GAITRISK_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = default_db_path()
    res = CliRunner().invoke(cli, ["activities"])
    assert res.exit_code == 1
    assert f"no store at {path} (nothing imported yet?" in res.output
    assert not path.exists()


def test_writing_commands_still_create_the_store(tmp_path):
    db = tmp_path / "new" / "x.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "athlete", "set", "--height-cm", "170"])
    assert res.exit_code == 0, res.output
    assert db.is_file()


@pytest.mark.parametrize("option, value, message", [
    ("--height-cm", "-5", "--height-cm -5 is outside 100-250 cm"),
    ("--height-cm", "0", "--height-cm 0 is outside 100-250 cm"),
    ("--leg-length-cm", "200", "--leg-length-cm 200 is outside 50-140 cm"),
    ("--mass-kg", "1000", "--mass-kg 1000 is outside 25-250 kg"),
    ("--hr-max", "50", "--hr-max 50 is outside 120-240 beats/min"),
    ("--threshold-pace", "1:00", "--threshold-pace 1:00 is outside 2:30-8:20 per km"),
])
def test_athlete_set_speaks_in_the_unit_typed(tmp_path, option, value, message):
    db = tmp_path / "p.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "athlete", "set", option, value])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [f"Error: Invalid value: {message} (see cli athlete set --help)"]
    assert not db.exists()


def test_model_info_on_a_file_that_is_no_model(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "model", "info", "--model", str(f)])
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: {f} is not a gaitrisk model file (")
    assert "no trained model" not in res.output


@pytest.mark.slow
def test_export_and_delete_count_every_kind_in_plain_words(demo_db, tmp_path):
    from gaitrisk.store import Store

    db = _copy(demo_db, tmp_path)
    with Store(db, read_only=True) as st:
        n_ostrc = len(st.ostrc_weeks("demo"))
        n_gaps = len(st.gaps("demo"))
    assert n_ostrc > 1 and n_gaps == 1
    out = tmp_path / "e.json"
    res = CliRunner().invoke(cli, ["--db", str(db), "export", "--athlete", "demo", "--output", str(out)])
    assert res.exit_code == 0
    assert f"{n_ostrc} OSTRC answers and 1 gap of 'demo'" in res.output
    res = CliRunner().invoke(cli, ["--db", str(db), "delete", "--athlete", "demo", "--yes"])
    assert res.exit_code == 0, res.output
    assert f", {n_ostrc} OSTRC answers, 1 gap and all related records" in res.output
    assert "''s" not in res.output and "1 gaps" not in res.output
    lock = f"{db}.nightly.lock"
    assert f"remains: {lock}: the nightly run's lock file, empty; it holds no athlete data" in res.output


def test_counted_takes_the_number_of_its_noun():
    from gaitrisk.cli.privacy import counted

    assert [counted(n, "gap", "gaps") for n in (0, 1, 2)] == ["0 gaps", "1 gap", "2 gaps"]


def test_demo_help_says_what_the_pain_log_covers():
    """The help's numbers are the bundled season's: weeks spanned, and weeks with a pain entry."""
    import csv
    import datetime as dt

    from .helpers.paths import FIXTURES

    with (FIXTURES / "pain" / "demo_pain.csv").open() as f:
        days = [dt.date.fromisoformat(r["date"]) for r in csv.DictReader(f)]
    mondays = {d - dt.timedelta(days=d.weekday()) for d in days}
    span = (max(mondays) - min(mondays)).days // 7 + 1
    text = " ".join(CliRunner().invoke(cli, ["demo", "--help"]).output.split())
    assert f"a season of runs spanning {span} weeks" in text
    assert f"a pain log with entries in {len(mondays)} of those {span} weeks" in text


def test_delete_on_a_store_that_does_not_exist_creates_nothing(tmp_path):
    db = tmp_path / "typo" / "x.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "delete", "--athlete", "ann", "--yes"])
    assert res.exit_code == 1 and res.output.strip() == f"Error: no store at {db}; nothing deleted", res.output
    assert not (tmp_path / "typo").exists()
