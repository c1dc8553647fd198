"""Everyday use without surprises: one-line errors for any unusable ``--db``, the same global
options on every command, messages a person can act on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli

from .helpers.cli import command_args


def _bad_dbs(tmp_path: Path) -> dict[str, Path]:
    regular = tmp_path / "regular"
    regular.write_text("x")
    folder = tmp_path / "folder"
    folder.mkdir()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite at all, just some bytes\n" * 40)
    bad = {"under a file": regular / "x.db", "a folder": folder, "not SQLite": junk,
           "/proc": Path("/proc/x.db"), "/sys": Path("/sys/gaitrisk/x.db")}
    if os.geteuid() != 0:  # root writes anywhere: an unwritable folder is no obstacle to it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        bad["unwritable folder"] = locked / "x.db"
    return bad


def _prepare(tmp_path: Path) -> None:
    (tmp_path / "pain.csv").write_text("date,score,region,side,when\n2024-05-02,3,foot,L,after_run\n")
    (tmp_path / "weeks.csv").write_text("week,area,participation\n2024-05-06,lateral_hip,0\n")
    (tmp_path / "inbox").mkdir(exist_ok=True)


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("command", sorted(command_args(Path("/nonexistent"))), ids=" ".join)
def test_an_unusable_db_is_one_line_naming_it_on_every_command(tmp_path, monkeypatch, command, where):
    monkeypatch.delenv("GAITRISK_DB", raising=False)
    _prepare(tmp_path)
    args = [*command, *command_args(tmp_path)[command]]
    for what, db in _bad_dbs(tmp_path).items():
        argv = ["--db", str(db), *args] if where == "before" else [*args, "--db", str(db)]
        res = CliRunner().invoke(cli, argv)
        lines = [ln for ln in res.output.splitlines() if ln.strip() and not ln.startswith("store: ")]
        assert res.exit_code == 1, (what, res.output, res.exception)
        assert len(lines) == 1 and lines[0].startswith("Error: "), (what, res.output)
        assert str(db) in lines[0], (what, res.output)
        assert "Traceback" not in res.output


@pytest.mark.parametrize("command", sorted(command_args(Path("/nonexistent"))), ids=" ".join)
def test_global_options_are_accepted_after_every_command(tmp_path, monkeypatch, command):
    monkeypatch.delenv("GAITRISK_DB", raising=False)
    _prepare(tmp_path)
    db = tmp_path / "store" / "g.db"
    argv = [*command, *command_args(tmp_path)[command], "-q", "-v", "--db", str(db)]
    res = CliRunner().invoke(cli, argv)
    assert res.exit_code != 2, res.output  # 2: click refused an option
    assert "No such option" not in res.output


# -- a folder without activity files -------------------------------------------------
def _photos(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    for name in ("a.jpg", "b.JPG", "sub/c.pdf"):
        (folder / name).write_bytes(b"\xff\xd8 not a watch file")
    return folder


def test_import_of_a_folder_without_activity_files_says_so_and_fails(tmp_path):
    folder = _photos(tmp_path / "photos")
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", str(folder)])
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert str(folder) in lines[0] and "3 files ignored: not FIT/GPX/TCX/zip/gz (2 .jpg, 1 .pdf)" in lines[0]


def test_import_counts_the_ignored_files_beside_an_imported_run(tmp_path):
    from .helpers.paths import FIXTURES

    folder = _photos(tmp_path / "mixed")
    (folder / "hill.fit").write_bytes((FIXTURES / "truth" / "hill.fit").read_bytes())
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", str(folder)])
    assert res.exit_code == 0, res.output
    assert "1 imported" in res.output
    assert "3 files ignored: not FIT/GPX/TCX/zip/gz (2 .jpg, 1 .pdf)" in res.output
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", str(folder), "--json"])
    import json

    assert json.loads(res.stdout)["ignored"] == {".jpg": 2, ".pdf": 1}


def test_nightly_names_the_files_it_ignored(tmp_path):
    inbox = _photos(tmp_path / "inbox")
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "nightly", "--inbox", str(inbox), "--flat",
                                   "--min-age", "0", "--tz", "UTC"])
    assert res.exit_code == 0, res.output
    assert "3 files ignored: not FIT/GPX/TCX/zip/gz (2 .jpg, 1 .pdf)" in res.stdout


# -- nightly and files still being copied -----------------------------------------------
def test_nightly_says_which_files_wait_for_min_age(tmp_path):
    from .helpers.paths import FIXTURES

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "hill.fit").write_bytes((FIXTURES / "truth" / "hill.fit").read_bytes())
    (inbox / "two.fit").write_bytes((FIXTURES / "truth" / "hill.fit").read_bytes())
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "nightly", "--inbox", str(inbox), "--tz", "UTC"])
    assert res.exit_code == 0, res.output
    assert "2 files left for the next run: modified less than 60 s ago (--min-age)" in res.stdout
    assert "nothing new" not in res.output
    assert (inbox / "hill.fit").exists()
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "nightly", "--inbox", str(inbox), "--tz", "UTC",
                                   "--json", "--min-age", "3600"])
    import json

    assert json.loads(res.stdout)["left_for_next_run"] == 2


# -- store-wide ids ----------------------------------------------------------------------
def _pain_of_bob(db: Path) -> int:
    from zoneinfo import ZoneInfo

    from gaitrisk.pain import build_entry
    from gaitrisk.store import Store

    with Store(db) as st:
        (entry_id,) = st.add_pain_entries([build_entry("bob", ZoneInfo("UTC"), date="2024-05-01", time="08:00",
                                                       score=3, region="foot", side="L", when="after_run")])
    return entry_id


@pytest.mark.parametrize("command", [["pain", "edit", "{id}", "--score", "5"], ["pain", "delete", "{id}"]],
                         ids=["edit", "delete"])
def test_pain_ids_are_store_wide(tmp_path, command):
    db = tmp_path / "g.db"
    entry_id = _pain_of_bob(db)
    argv = ["--db", str(db), *[a.format(id=entry_id) for a in command]]
    res = CliRunner().invoke(cli, [*argv, "--athlete", "ann"])
    assert res.exit_code == 1
    assert f"pain entry {entry_id} belongs to athlete 'bob'" in res.output
    res = CliRunner().invoke(cli, argv)  # no --athlete: the id is enough
    assert res.exit_code == 0, res.output
    from gaitrisk.store import Store

    with Store(db) as st:
        left = st.pain_entries("bob")
    assert (left == []) if command[1] == "delete" else (left[0].score == 5)


def test_an_unknown_id_names_the_store(tmp_path):
    db = tmp_path / "g.db"
    _pain_of_bob(db)
    for argv, what in ((["pain", "delete", "99"], "pain entry"), (["pain", "edit", "99", "--score", "1"], "pain entry"),
                       (["gap", "delete", "99"], "gap")):
        res = CliRunner().invoke(cli, ["--db", str(db), *argv])
        assert res.exit_code == 1
        assert f"no {what} 99 in {db}" in res.output


def test_gap_ids_are_store_wide(tmp_path):
    import datetime as dt

    from gaitrisk.records import DataGap
    from gaitrisk.store import Store

    db = tmp_path / "g.db"
    with Store(db) as st:
        gap_id = st.add_gap(DataGap("bob", dt.date(2024, 4, 1), dt.date(2024, 4, 2)))
    res = CliRunner().invoke(cli, ["--db", str(db), "gap", "delete", str(gap_id), "--athlete", "me"])
    assert res.exit_code == 1 and f"gap {gap_id} belongs to athlete 'bob'" in res.output
    res = CliRunner().invoke(cli, ["--db", str(db), "gap", "delete", str(gap_id)])
    assert res.exit_code == 0, res.output
    with Store(db) as st:
        assert st.gaps("bob") == []


# -- one day rule for the reading commands -------------------------------------------------
@pytest.fixture
def old_export(tmp_path):
    from .helpers.paths import FIXTURES

    db = tmp_path / "g.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "import", str(FIXTURES / "truth" / "hill.fit"), "--json"])
    assert res.exit_code == 0, res.output
    from gaitrisk.store import Store

    with Store(db) as st:
        (run,) = st.activities("me")
    return db, run.start_time.date()


def test_load_ends_on_the_last_day_with_data_and_names_the_latest_run(old_export):
    import json

    db, day = old_export
    res = CliRunner().invoke(cli, ["--db", str(db), "load", "--tz", "UTC", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["weeks"][-1]["week_end"] == day.isoformat()
    res = CliRunner().invoke(cli, ["--db", str(db), "load", "--tz", "UTC"])
    assert res.output.splitlines()[0].endswith(f"; latest run: {day}")
    res = CliRunner().invoke(cli, ["--db", str(db), "flags", "--tz", "UTC"])
    assert f"latest run: {day}" in res.output.splitlines()[0]
    later = day.replace(year=day.year + 1)
    res = CliRunner().invoke(cli, ["--db", str(db), "load", "--tz", "UTC", "--json", "--until", later.isoformat()])
    assert json.loads(res.stdout)["weeks"][-1]["week_end"] == later.isoformat()  # told otherwise: as told


@pytest.mark.parametrize("command", [["load"], ["flags"], ["report"], ["activities"]], ids=" ".join)
def test_an_athlete_without_runs_is_one_line_and_exit_1_everywhere(old_export, command):
    db, _ = old_export
    res = CliRunner().invoke(cli, ["--db", str(db), *command, "--athlete", "nobody"])
    assert res.exit_code == 1, res.output
    assert res.output.strip() == f"Error: no runs stored for athlete 'nobody' in {db}. " \
                                 "Try: gaitrisk import PATH --athlete nobody"


# -- Ctrl-C during an import -----------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_during_import_says_what_was_stored_and_how_to_finish(tmp_path, monkeypatch):
    import gaitrisk.features.handoff as handoff
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.store import Store

    from .helpers.paths import FIXTURES

    real_pass = handoff.import_pass
    calls = {"n": 0}

    def interrupting_pass(store, athlete):
        hook = real_pass(store, athlete)

        def per_run(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 4:  # the user presses Ctrl-C while the 4th run is decoded
                raise KeyboardInterrupt
            return hook(*args, **kwargs)

        return per_run

    monkeypatch.setattr(handoff, "import_pass", interrupting_pass)
    monkeypatch.setitem(import_paths.__kwdefaults__, "batch_files", 1)  # one commit per file
    db = tmp_path / "g.db"
    argv = ["--db", str(db), "import", str(FIXTURES / "runs"), "--workers", "1"]
    res = CliRunner().invoke(cli, argv)
    assert res.exit_code == 130, res.output
    files = len(json.loads((FIXTURES / "truth" / "season.json").read_text()))   # one of them a duplicate
    assert f"interrupted: 3 of {files} files stored; run the same command again to finish" in res.output
    assert "Traceback" not in res.output and "Aborted!" not in res.output
    with Store(db) as st:
        assert len(st.activities("me")) == 3  # the files reported as stored, nothing half-written
    monkeypatch.setattr(handoff, "import_pass", real_pass)
    res = CliRunner().invoke(cli, argv)
    assert res.exit_code == 0, res.output
    # The same command finishes the work: the 3 stored files and the season's duplicate are duplicates.
    assert f"{files - 4} imported, 4 duplicate" in res.output


# -- readable output ------------------------------------------------------------------------
def test_device_codes_read_as_names():
    from gaitrisk.units import device_label

    assert device_label("garmin 2158") == "Garmin (product 2158)"
    assert device_label("nielsen_kellerman 0") == "Nielsen Kellerman (product 0)"
    assert device_label("garmin 1328") == "Garmin fr910xt"  # the FIT profile knows this one
    assert device_label("garmin fenix2") == "Garmin fenix2"
    assert device_label("Polar M400") == "Polar M400"  # a creator string stays


def test_show_has_rounded_values_and_splits_and_json_keeps_precision(tmp_path):
    import json
    import re

    from gaitrisk.store import Store

    from .helpers.paths import FIXTURES

    db = tmp_path / "g.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "import", str(FIXTURES / "runs" / "2024-04-19_long_loop.fit")])
    assert res.exit_code == 0, res.output

    with Store(db) as st:
        (run,) = st.activities("me")
    res = CliRunner().invoke(cli, ["--db", str(db), "show", run.id[:10]])
    assert res.exit_code == 0, res.output
    assert not re.search(r"\d\.\d{4,}", res.output), res.output  # no raw floats
    # The activity's time is the timer's; "moving" is the report's word for it without stops.
    assert re.search(r"km in [\d:]+ \(timer [\d:]+\), \d+:\d\d /km on the timer", res.output), res.output
    assert "kilometre splits:" in res.output and re.search(r"^\s+1\s+1\.00\s+\d+:\d\d\s+\d+:\d\d /km", res.output,
                                                           re.M), res.output
    out = json.loads(CliRunner().invoke(cli, ["--db", str(db), "show", run.id[:10], "--json"]).stdout)
    assert out["distance_m"] == run.distance_m and out["device"] == run.device
    assert out["splits"][0]["distance_m"] == 1000.0 and {"time_s", "pace_s_per_km", "heart_rate_bpm", "cadence_spm",
                                                         "elevation_change_m"} <= set(out["splits"][0])
    assert len(out["splits"]) == int(run.distance_m // 1000) + (run.distance_m % 1000 >= 50)


def test_strava_trail_run_and_gpx_trail_running_are_trail(tmp_path):
    import datetime as dt
    import gzip
    import zipfile

    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.store import Store

    from .helpers.gpxgen import gpx_run

    utc = dt.timezone.utc
    z = tmp_path / "export_1.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("activities.csv", "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
                    "1,\"Mar 1, 2024\",Ridge,Trail Run,activities/1.gpx.gz\n"
                    "2,\"Mar 2, 2024\",Easy,Run,activities/2.gpx.gz\n")
        zf.writestr("activities/1.gpx.gz", gzip.compress(gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=utc), minutes=5)))
        zf.writestr("activities/2.gpx.gz", gzip.compress(gpx_run(dt.datetime(2024, 3, 2, 7, tzinfo=utc), minutes=5)))
    (tmp_path / "t.gpx").write_bytes(gpx_run(dt.datetime(2024, 3, 3, 7, tzinfo=utc), minutes=5,
                                             type_="trail_running"))
    with Store(tmp_path / "g.db") as st:
        import_paths([str(z), str(tmp_path / "t.gpx")], st, "ann")
        got = {a.start_time.day: (a.sport, a.sub_sport) for a in st.activities("ann")}
    assert got == {1: ("running", "trail"), 2: ("running", None), 3: ("running", "trail")}


def test_a_swim_without_timed_records_is_not_a_run():
    import numpy as np

    from gaitrisk.ingest.fit.common import FitMessages, build_activities
    from gaitrisk.records import DecodeResult

    for sessions, sport, expected in (([{"sport": "swimming", "sub_sport": "lap_swimming"}], None, "not a run (swimming)"),
                                      ([], {"sport": "swimming"}, "not a run (swimming)"),
                                      ([{"sport": "running"}], None, "no record carries a usable timestamp")):
        msgs = FitMessages(file_type="activity", n_records=3, record_time=np.full(3, np.nan), sessions=sessions,
                           sport=sport)
        result = DecodeResult()
        build_activities(msgs, result)
        assert result.skipped_reason.startswith(expected), result.skipped_reason


def test_features_text_speaks_in_km_paces_and_clock_times(tmp_path):
    import re

    from gaitrisk.store import Store

    from .helpers.paths import FIXTURES

    db = tmp_path / "g.db"
    CliRunner().invoke(cli, ["--db", str(db), "import", str(FIXTURES / "runs" / "2024-04-19_long_loop.fit")])
    with Store(db) as st:
        (run,) = st.activities("me")
    res = CliRunner().invoke(cli, ["--db", str(db), "features", run.id[:10]])
    assert res.exit_code == 0, res.output
    assert re.search(r"^distance / moving:\s+\d+\.\d\d km in \d+:\d\d", res.output, re.M), res.output
    assert re.search(r"^GAP:\s+\d+:\d\d /km \(\d+\.\d\d km grade-adjusted\)", res.output, re.M), res.output
    assert re.search(r"long run: (yes|no);", res.output) and "True" not in res.output and "False" not in res.output
    assert not re.search(r"\d\.\d{4,}", res.output)


# Commands that change something and print one line, or print a document in a format of their own.
NO_JSON = {("pain", "delete"), ("gap", "delete"), ("activity", "exclude"), ("activity", "include"),
           ("activity", "set"), ("activity", "delete"), ("athlete", "set"), ("delete",), ("demo",),
           ("export",),  # prints JSON always
           ("report",)}  # --format json


def test_every_command_that_prints_data_takes_json():
    from .helpers.cli import leaf_commands

    def command(path):
        cmd = cli
        for name in path:
            cmd = cmd.commands[name]
        return cmd

    missing = {path for path in leaf_commands(cli) - NO_JSON
               if "--json" not in {o for p in command(path).params for o in p.opts}}
    assert not missing
    for path in leaf_commands(cli):
        opts = {o for p in command(path).params for o in p.opts}
        # demo works in a throw-away store of its own: no --db there.
        assert {"-q", "-v"} | ({"--db"} if path != ("demo",) else set()) <= opts, path


@pytest.mark.slow
def test_demo_quiet_prints_the_report_alone(tmp_path):
    res = CliRunner().invoke(cli, ["demo", "-q"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("gaitrisk report, generated"), res.output[:200]
    assert "1. import" not in res.output and "imported," not in res.output


@pytest.mark.parametrize("argv", [["report", "--format", "pdf"], ["flags", "--nope"], ["pain", "import"],
                                  ["activity", "set", "abc", "--sport", "bicycle"]])
def test_a_usage_error_is_one_line_naming_the_command(argv):
    res = CliRunner().invoke(cli, argv)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert lines[0].startswith("Error: ") and f"{' '.join(argv[:2 if argv[0] in ('pain', 'activity') else 1])} --help" \
        in lines[0], res.output
