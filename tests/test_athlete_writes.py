"""Who a write is for: never a blank athlete, never one deleted meanwhile; and the store's
folders are user-only whatever the umask."""

from __future__ import annotations

import os
import sqlite3
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import gaitrisk.ingest.pipeline as pipeline
from gaitrisk.cli import cli
from gaitrisk.pain import build_entry
from gaitrisk.store import Store, StoreError
from gaitrisk.store.sqlite import AthleteDeleted

from .helpers.cli import command_args
from .helpers.paths import FIXTURES


def test_store_folders_are_user_only_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        Store(tmp_path / "a" / "b" / "c" / "g.db").close()
    finally:
        os.umask(old)
    for d in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert d.stat().st_mode & 0o777 == 0o700, d
    assert (tmp_path / "a" / "b" / "c" / "g.db").stat().st_mode & 0o777 == 0o600


def _with_athlete(args: list[str], name: str) -> list[str]:
    if "--athlete" in args:
        i = args.index("--athlete")
        return [*args[:i + 1], name, *args[i + 2:]]
    return [*args, "--athlete", name]


def _takes_athlete(command: tuple[str, ...]) -> bool:
    cmd = cli
    for part in command:
        cmd = cmd.commands[part]
    return any(p.name == "athlete" for p in cmd.params)


COMMANDS = [c for c in sorted(command_args(FIXTURES)) if _takes_athlete(c)]


@pytest.mark.parametrize("name", ["", "   "], ids=["empty", "blank"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_blank_athlete_is_refused_in_one_line(tmp_path, command, name):
    (tmp_path / "pain.csv").write_text("date,score,region,side,when\n2024-05-02,3,foot,L,after_run\n")
    (tmp_path / "inbox").mkdir()
    db = tmp_path / "g.db"
    args = _with_athlete(command_args(tmp_path)[command], name)
    res = CliRunner().invoke(cli, ["--db", str(db), *command, *args])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert res.output.strip().splitlines() == ["Error: --athlete: an athlete's name cannot be empty"]
    assert not db.exists()


def test_the_store_never_creates_a_blank_athlete(tmp_path):
    with Store(tmp_path / "g.db") as st:
        with pytest.raises(StoreError, match="cannot be empty"):
            st.athlete_id(" ")
        assert st.athletes() == []


def _pain(day: int):
    return build_entry("ann", ZoneInfo("UTC"), date=f"2024-05-{day:02d}", time="08:00", score=3, region="foot",
                       side="L", when="after_run")


def test_a_writer_does_not_recreate_an_athlete_deleted_meanwhile(tmp_path):
    db = tmp_path / "g.db"
    with Store(db) as writer, Store(db) as other:
        writer.add_pain_entries([_pain(1)])
        assert other.delete_athlete("ann") is not None
        with pytest.raises(AthleteDeleted, match="'ann' was deleted"):
            writer.add_pain_entries([_pain(2)])
        assert other.athletes() == []
        # a store that deleted an athlete itself may write for them again
        other.add_pain_entries([_pain(3)])
        other.delete_athlete("ann")
        other.add_pain_entries([_pain(5)])
        assert len(writer.pain_entries("ann")) == 1


@pytest.mark.slow
def test_delete_during_an_import_of_the_same_athlete_stays_true(tmp_path, monkeypatch):
    db = tmp_path / "g.db"
    real = pipeline.import_paths
    deleted: list[dict] = []

    def import_with_a_delete_after_the_first_run(paths, store, athlete, **kw):
        shown = kw.get("on_file")

        def on_file(outcome):
            if shown:
                shown(outcome)
            if outcome.status == "imported" and not deleted:  # called after the run's batch committed
                with Store(store.path) as other:
                    deleted.append(other.delete_athlete(athlete))

        return real(paths, store, athlete, **{**kw, "on_file": on_file, "batch_files": 1})

    monkeypatch.setattr(pipeline, "import_paths", import_with_a_delete_after_the_first_run)
    res = CliRunner().invoke(cli, ["--db", str(db), "import", str(FIXTURES / "runs"), "--athlete", "ann"])
    assert deleted and deleted[0]["activities"] == 1
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "athlete 'ann' was deleted by another command" in res.output.strip().splitlines()[-1]
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM athletes").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM activities").fetchone()[0] == 0
