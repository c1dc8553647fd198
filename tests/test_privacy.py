"""Private health data: user-only files, no network, and an athlete's data out (export) or gone (delete)."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run
from .helpers.paths import FIXTURES

pytestmark = pytest.mark.slow

N_RUNS = sum("duplicate_of" not in t for t in json.loads((FIXTURES / "truth" / "season.json").read_text()).values())
UTC = dt.timezone.utc
NOTE = "zz-secret-note-7f3a9c-stairs-hurt"
NAME = "annika-qx7"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def populated(tmp_path):
    """A store with two athletes: NAME with runs, pain, a gap and a profile; 'bob' with one run."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for i in range(3):
        (runs / f"r{i}.gpx").write_bytes(gpx_run(dt.datetime(2024, 3, 1 + i, 7, tzinfo=UTC), minutes=4))
    bob = tmp_path / "bob.gpx"
    bob.write_bytes(gpx_run(dt.datetime(2024, 3, 9, 7, tzinfo=UTC), minutes=4, lat0=47.0))
    db = tmp_path / "g.db"
    r = CliRunner()
    for args in (["import", str(runs), "--athlete", NAME], ["import", str(bob), "--athlete", "bob"],
                 ["pain", "add", "--athlete", NAME, "--score", "4", "--region", "lateral hip", "--side", "R",
                  "--when", "after_run", "--note", NOTE, "--date", "2024-03-02", "--tz", "UTC"],
                 ["gap", "add", "--athlete", NAME, "--from", "2024-02-01", "--to", "2024-02-05", "--reason", "broken"],
                 ["athlete", "set", "--athlete", NAME, "--height-cm", "171"]):
        res = r.invoke(cli, ["--db", str(db), *args])
        assert res.exit_code == 0, (args, res.output)
    return db


def test_store_wal_shm_and_folder_are_user_only_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0o002)
    try:
        db = tmp_path / "private" / "g.db"
        res = CliRunner().invoke(cli, ["--db", str(db), "import", str(FIXTURES / "runs" / "2024-04-07_out_and_back.gpx")])
        assert res.exit_code == 0, res.output
        with Store(db) as st:  # an open connection keeps -wal and -shm in place
            st.activities()
            for suffix in ("", "-wal", "-shm"):
                path = f"{db}{suffix}"
                assert os.path.exists(path), path
                assert _mode(path) == 0o600, (path, oct(_mode(path)))
        assert _mode(db.parent) == 0o700
    finally:
        os.umask(old)


def test_export_holds_all_of_the_athletes_data_and_nobody_elses(populated, tmp_path):
    out = tmp_path / "export.json"
    out.write_text("old")
    os.chmod(out, 0o644)  # an existing file is tightened, not left readable
    res = CliRunner().invoke(cli, ["--db", str(populated), "export", "--athlete", NAME, "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert _mode(out) == 0o600
    data = json.loads(out.read_text())
    assert data["athlete"] == NAME
    assert set(data) >= {"activities", "features", "pain", "gaps", "profile", "skipped_files"}
    assert len(data["activities"]) == 3 and len(data["features"]) == 3
    act = data["activities"][0]
    assert act["start_time"] == "2024-03-01T07:00:00Z"
    assert act["samples"]["rows"] == 120 and len(act["samples"]["columns"]["timestamp"]) == 120
    assert act["samples"]["columns"]["heart_rate_bpm"][0] == 140
    assert act["sources"][0]["file_name"].endswith("r0.gpx") and len(act["sources"][0]["sha256"]) == 64
    assert [p["note"] for p in data["pain"]] == [NOTE]
    assert data["gaps"][0]["reason"] == "broken" and data["profile"]["height_m"] == 1.71
    assert "bob.gpx" not in out.read_text()
    to_stdout = CliRunner().invoke(cli, ["--db", str(populated), "export", "--athlete", NAME])
    assert json.loads(to_stdout.stdout)["pain"][0]["note"] == NOTE
    unknown = CliRunner().invoke(cli, ["--db", str(populated), "export", "--athlete", "nobody"])
    assert unknown.exit_code == 1 and "no athlete 'nobody'" in unknown.output


def _store_bytes(db) -> bytes:
    return b"".join(open(f"{db}{s}", "rb").read() for s in ("", "-wal") if os.path.exists(f"{db}{s}"))


def test_delete_removes_every_byte_of_the_athlete_and_keeps_the_others(populated):
    before = _store_bytes(populated)
    assert NAME.encode() in before and NOTE.encode() in before  # else the scan below proves nothing
    r = CliRunner()
    refused = r.invoke(cli, ["--db", str(populated), "delete", "--athlete", NAME])  # no --yes, no TTY
    assert refused.exit_code != 0 and "--yes" in refused.output
    res = r.invoke(cli, ["--db", str(populated), "delete", "--athlete", NAME, "--yes"])
    assert res.exit_code == 0, res.output
    assert f"deleted athlete '{NAME}': 3 activities, 1 pain entry, 0 OSTRC answers, 1 gap and" in res.output
    after = _store_bytes(populated)
    for secret in (NAME, NOTE, "r0.gpx", "r1.gpx"):
        assert secret.encode() not in after, secret
    with Store(populated) as st:
        assert st.integrity_check() == "ok"
        assert st.athletes() == ["bob"] and len(st.activities("bob")) == 1
        tables = [t for (t,) in st._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        leftovers = {t: st._conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        assert leftovers["pain_entries"] == leftovers["data_gaps"] == leftovers["athlete_profiles"] == 0
        assert leftovers["samples"] == leftovers["activity_sources"] == 1
    again = r.invoke(cli, ["--db", str(populated), "delete", "--athlete", NAME, "--yes"])
    assert again.exit_code == 1 and "nothing deleted" in again.output


_NO_NETWORK = textwrap.dedent("""
    import os, sys
    def hook(event, args):
        if event == "socket.__new__" and len(args) > 1 and args[1] == 1:  # AF_UNIX: local IPC only
            return
        if event.startswith("socket.") or event in ("urllib.Request", "http.client.connect"):
            os.write(2, f"NETWORK: {event} {args!r}\\n".encode())
            os._exit(99)
    sys.addaudithook(hook)
    from gaitrisk.cli.main import cli
    code = sys.argv[1]
    if code == "--control":
        import socket
        socket.create_connection(("127.0.0.1", 9))
    cli(sys.argv[2:])
""")


def test_no_socket_is_opened_during_import_report_nightly_export_and_delete(tmp_path):
    db = tmp_path / "g.db"
    xxe = tmp_path / "xxe.gpx"
    xxe.write_text('<?xml version="1.0"?><!DOCTYPE g [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]><gpx c="&e;"/>')
    dtd = tmp_path / "dtd.tcx"
    dtd.write_text('<?xml version="1.0"?><!DOCTYPE TrainingCenterDatabase SYSTEM "http://127.0.0.1:9/tcx.dtd">'
                   "<TrainingCenterDatabase/>")
    script = tmp_path / "run.py"
    script.write_text(_NO_NETWORK)

    def run(*args):
        return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300)

    inbox = tmp_path / "inbox" / "bob"
    inbox.mkdir(parents=True)
    for src in sorted((FIXTURES / "runs").glob("*.tcx"))[:2]:
        (inbox / src.name).write_bytes(src.read_bytes())
        os.utime(inbox / src.name, (0, 0))  # old enough for the nightly's --min-age
    control = run("--control", "--help")
    assert control.returncode == 99 and "NETWORK: socket" in control.stderr  # the hook does catch sockets
    for args in (["import", str(FIXTURES / "runs"), str(xxe), str(dtd), "--workers", "2"],
                 ["load", "--until", "2024-04-30", "--tz", "UTC"], ["activities", "--json"],
                 ["features", "--update"], ["flags", "--tz", "UTC"],
                 ["report", "--format", "html", "--output", str(tmp_path / "r.html"), "--tz", "UTC"],
                 ["report", "--format", "json", "--tz", "UTC"],
                 ["nightly", "--inbox", str(tmp_path / "inbox"), "--report-dir", str(tmp_path / "rep"), "--tz", "UTC"],
                 ["export", "--output", str(tmp_path / "e.json")],
                 ["delete", "--athlete", "me", "--yes"]):
        res = run("go", "--db", str(db), *args)
        assert res.returncode in (0, 1) and "NETWORK" not in res.stderr, (args, res.stderr[-2000:])
        if args[0] == "import":
            assert "refused for safety" in res.stderr and f"{N_RUNS} imported" in res.stdout
        if args[0] in ("report", "nightly") and args[2] != "json":
            assert res.returncode == 0, (args, res.stderr[-2000:])
    # The report and the nightly did their work under the hook (not a vacuous pass).
    assert "<svg" in (tmp_path / "r.html").read_text()
    assert (tmp_path / "rep" / "bob.html").exists() and not any((tmp_path / "inbox").rglob("*.tcx"))
