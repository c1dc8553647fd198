"""Everyday use without surprises: one-line errors for any unusable ``--db``, the same global
options on every command, messages a person can act on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli

from .test_db_option import command_args


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
