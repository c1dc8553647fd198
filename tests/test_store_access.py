"""A store that cannot be written -- read-only file or folder, a full disk, another program's
write lock -- is still readable, and a write to it fails in one line with nothing half-stored."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.store import Store

from .helpers.paths import FIXTURES

pytestmark = pytest.mark.slow

PAIN = ["--score", "3", "--region", "foot", "--side", "L", "--when", "at_rest", "--tz", "UTC"]


def _cli(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def _one_line_error(res) -> str:
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), (res.output, res.exception)
    assert "Traceback" not in res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    return lines[0]


@contextmanager
def read_only(path: Path, mode: int):
    """``chmod mode``; as root, whom permissions do not stop, the immutable attribute as well."""
    old = path.stat().st_mode & 0o777
    os.chmod(path, mode)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        os.chmod(path, old)
        pytest.skip("running as root and cannot make a file immutable (chattr)")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        os.chmod(path, old)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[Path, str]:
    """A store with one run of ann (features computed), a pain entry and a gap; and the run's id."""
    db = tmp_path_factory.mktemp("seed") / "g.db"
    assert _cli(db, "import", str(FIXTURES / "truth" / "hill.fit"), "--athlete", "ann").exit_code == 0
    assert _cli(db, "pain", "add", "--athlete", "ann", "--date", "2024-04-02", *PAIN).exit_code == 0
    assert _cli(db, "gap", "add", "--athlete", "ann", "--from", "2024-03-01", "--to", "2024-03-02").exit_code == 0
    run_id = json.loads(_cli(db, "activities", "--json").output)[0]["id"]
    return db, run_id


def _copy(seeded, tmp_path: Path) -> Path:
    """A private copy of the seeded store, alone in its folder (no -wal, no -shm)."""
    folder = tmp_path / "store"
    folder.mkdir(mode=0o700)
    db = folder / "g.db"
    with sqlite3.connect(seeded[0]) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    dst.close()
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA journal_mode=WAL")
    c.close()
    assert sorted(p.name for p in folder.iterdir()) == ["g.db"]
    return db


def _reading_commands(run_id: str) -> list[list[str]]:
    return [["activities"], ["show", run_id], ["load", "--athlete", "ann", "--tz", "UTC", "--until", "2024-04-10"],
            ["flags", "--athlete", "ann", "--tz", "UTC"], ["report", "--athlete", "ann", "--tz", "UTC"],
            ["export", "--athlete", "ann"], ["pain", "list", "--athlete", "ann", "--tz", "UTC"],
            ["gap", "list", "--athlete", "ann"], ["features", run_id], ["athlete", "show", "--athlete", "ann"]]


def _timeless(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if "generated" not in ln]  # the report's making time


@contextmanager
def write_locked(db: Path):
    """Another connection in the middle of a write transaction."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE athletes SET name=name")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize("state", ["file 0400", "folder 0500", "write lock held"])
def test_reading_commands_work_on_a_store_that_cannot_be_written(seeded, tmp_path, state):
    db = _copy(seeded, tmp_path)
    expected = {tuple(a): _cli(db, *a).output for a in _reading_commands(seeded[1])}
    assert all(expected.values())
    guard = {"file 0400": lambda: read_only(db, 0o400), "folder 0500": lambda: read_only(db.parent, 0o500),
             "write lock held": lambda: write_locked(db)}[state]
    with guard():
        for args in _reading_commands(seeded[1]):
            res = _cli(db, *args)
            assert res.exit_code == 0, (args, res.output)
            if args[0] != "export":  # the export names when it was made
                assert _timeless(res.output) == _timeless(expected[tuple(args)]), args
        info = _cli(db, "model", "info")  # no model was trained: it says so, and only that
        assert "no trained model" in _one_line_error(info)


@pytest.mark.parametrize("state", ["file 0400", "folder 0500"])
def test_a_write_to_a_read_only_store_is_one_line(seeded, tmp_path, state):
    db = _copy(seeded, tmp_path)
    target = db if state == "file 0400" else db.parent
    with read_only(target, 0o400 if state == "file 0400" else 0o500):
        for args in (["pain", "add", "--athlete", "ann", "--date", "2024-04-03", *PAIN],
                     ["import", str(FIXTURES / "runs"), "--athlete", "ann"]):
            line = _one_line_error(_cli(db, *args))
            assert str(db) in line and ("readonly" in line or "unable to open" in line), line
    assert len(json.loads(_cli(db, "pain", "list", "--athlete", "ann", "--json").output)) == 1
    assert len(json.loads(_cli(db, "activities", "--json").output)) == 1


def test_an_unwritable_folder_is_one_line(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o700)
    with read_only(folder, 0o500):
        for args in (["pain", "add", *PAIN], ["import", str(FIXTURES / "truth" / "hill.fit")]):
            line = _one_line_error(_cli(folder / "sub" / "g.db", *args))
            assert str(folder / "sub" / "g.db") in line and "cannot create the store" in line
        line = _one_line_error(_cli(folder / "sub" / "g.db", "activities"))  # a reader creates nothing
        assert line.startswith(f"Error: no store at {folder / 'sub' / 'g.db'}")


@pytest.fixture
def full_disk(monkeypatch):
    """Every store opened from now on may not grow by a single page: SQLite's own 'disk is full'."""
    opened = Store._open

    def open_full(self):
        conn = opened(self)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        return conn

    monkeypatch.setattr(Store, "_open", open_full)


def test_a_full_disk_is_one_line_and_stores_nothing_half(seeded, tmp_path, full_disk):
    db = _copy(seeded, tmp_path)
    before = db.read_bytes()
    diary = tmp_path / "diary.csv"
    diary.write_text("date,score,region,side,when,note\n" + "".join(
        f"{dt.date(2020, 1, 1) + dt.timedelta(days=i)},2,foot,L,after_run,{'x' * 300}\n" for i in range(300)))
    for args in (["import", str(FIXTURES / "runs"), "--athlete", "ann"],
                 ["pain", "import", str(diary), "--athlete", "ann", "--tz", "UTC"],
                 ["pain", "add", "--athlete", "ann", "--note", "y" * 5000, *PAIN]):
        line = _one_line_error(_cli(db, *args))
        assert str(db) in line and "full" in line, line
    with Store(db) as st:
        assert st.integrity_check() == "ok"
        assert len(st.activities("ann")) == 1 and len(st.pain_entries("ann")) == 1
    assert db.read_bytes() == before


def test_the_nightly_goes_on_with_the_other_athletes_when_a_write_fails(seeded, tmp_path, monkeypatch):
    db = _copy(seeded, tmp_path)
    inbox = tmp_path / "inbox"
    for name in ("ann", "bob"):
        (inbox / name).mkdir(parents=True)
        (inbox / name / "diary.pain.csv").write_text("date,score,region,side,when\n2024-04-05,2,foot,L,after_run\n")
    add = Store.add_pain_entries

    def full_for_ann(self, entries):
        if any(e.athlete == "ann" for e in entries):
            raise sqlite3.OperationalError("database or disk is full")
        return add(self, entries)

    monkeypatch.setattr(Store, "add_pain_entries", full_for_ann)
    res = _cli(db, "nightly", "--inbox", str(inbox), "--min-age", "0", "--tz", "UTC", "--json")
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    summary = json.loads(res.stdout)
    per = {a["athlete"]: a for a in summary["athletes"]}
    assert per["bob"]["pain"]["added"] == 1 and not per["bob"]["errors"]
    assert len(per["ann"]["errors"]) == 1 and "disk is full" in per["ann"]["errors"][0]
    assert (inbox / "ann" / "diary.pain.csv").exists()  # left for the next run
    with Store(db) as st:
        assert len(st.pain_entries("bob")) == 1 and len(st.pain_entries("ann")) == 1
