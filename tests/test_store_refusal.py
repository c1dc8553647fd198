"""A store error on one file's activity is that file's one-line failure: the batch goes on, and
nothing of the file is kept."""

from __future__ import annotations

import datetime as dt
import sqlite3

from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run

UTC = dt.timezone.utc


def _folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        (folder / f"run{i}.gpx").write_bytes(gpx_run(dt.datetime(2024, 3, 1 + i, 7, tzinfo=UTC), minutes=5))
    return folder


def _refusing(st, monkeypatch, on_call: int):
    """``add_activity`` writes as usual, but the ``on_call``-th call then raises a constraint error."""
    real_add, calls = st.add_activity, []

    def add(*args, **kw):
        calls.append(1)
        real_add(*args, **kw)  # written first: the failure must undo it
        if len(calls) == on_call:
            raise sqlite3.IntegrityError("UNIQUE constraint failed: activities.id")

    monkeypatch.setattr(st, "add_activity", add)


def test_a_refused_activity_fails_its_file_only(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    with Store(tmp_path / "g.db") as st:
        _refusing(st, monkeypatch, on_call=2)
        rep = import_paths([str(folder)], st, "ann", batch_files=64)
        assert rep.imported == 3
        assert [f["file"] for f in rep.failed] == [str(folder / "run1.gpx")]
        reason = rep.failed[0]["reason"]
        assert "UNIQUE constraint failed" in reason and "\n" not in reason
        assert len(st.activities("ann")) == 3
        c = st._conn
        assert c.execute("SELECT count(*) FROM samples").fetchone()[0] == 3
        assert c.execute("SELECT count(*) FROM activity_sources").fetchone()[0] == 3
        # Not remembered as imported or skipped: the next import reads it again and stores it.
        monkeypatch.undo()
        again = import_paths([str(folder)], st, "ann")
        assert (again.imported, again.duplicates, again.failed) == (1, 3, [])


def test_the_command_reports_one_line_and_no_traceback(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    real_init = Store.__init__

    def init(self, *args, **kw):
        real_init(self, *args, **kw)
        _refusing(self, monkeypatch, on_call=1)

    monkeypatch.setattr(Store, "__init__", init)
    out = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", str(folder), "--athlete", "ann"])
    assert "Traceback" not in out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    lines = [ln for ln in out.output.splitlines() if "run0.gpx" in ln]
    assert len(lines) == 1 and "UNIQUE constraint failed" in lines[0]
