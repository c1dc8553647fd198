"""Which store a command acts on: an explicit ``--db`` (before or after the command) beats
``GAITRISK_DB``, which beats the default; destructive commands name their store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.records import DataGap
from gaitrisk.pain import build_entry
from gaitrisk.store import Store

from .helpers.cli import command_args, leaf_commands

# Runs in a throw-away store of its own and takes no --db.
NO_STORE = {("demo",)}


def _seed(db: Path) -> None:
    with Store(db) as st:
        st.add_pain_entries([build_entry("ann", ZoneInfo("UTC"), date="2024-05-01", time="08:00", score=3,
                                         region="foot", side="L", when="after_run")])
        st.add_gap(DataGap("ann", dt.date(2024, 4, 1), dt.date(2024, 4, 2)))


@pytest.fixture
def opened(monkeypatch):
    """Every store path a command opens, and every database path it derives a model path from."""
    import gaitrisk.model.persist as persist

    paths: list[Path] = []
    init = Store.__init__
    model_path = persist.default_model_path

    def recording_init(self, path=None, **kw):
        init(self, path, **kw)
        paths.append(Path(self.path).resolve())

    def recording_model_path(db):
        paths.append(Path(db).resolve())
        return model_path(db)

    monkeypatch.setattr(Store, "__init__", recording_init)
    monkeypatch.setattr(persist, "default_model_path", recording_model_path)
    return paths


def test_the_table_covers_every_command(tmp_path):
    assert leaf_commands(cli) - NO_STORE == set(command_args(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("command", sorted(command_args(Path("/nonexistent"))), ids=" ".join)
def test_explicit_db_beats_the_environment(tmp_path, monkeypatch, opened, command, where):
    env_db, flag_db = tmp_path / "env" / "a.db", tmp_path / "flag" / "b.db"
    for db in (env_db, flag_db):
        db.parent.mkdir(mode=0o700)
        _seed(db)
    env_before = env_db.read_bytes()
    opened.clear()
    monkeypatch.setenv("GAITRISK_DB", str(env_db))
    (tmp_path / "pain.csv").write_text("date,score,region,side,when\n2024-05-02,3,foot,L,after_run\n")
    (tmp_path / "weeks.csv").write_text("week,area,participation\n2024-05-06,lateral_hip,0\n")
    (tmp_path / "inbox").mkdir()
    args = [*command, *command_args(tmp_path)[command]]
    argv = ["--db", str(flag_db), *args] if where == "before" else [*args, "--db", str(flag_db)]
    res = CliRunner().invoke(cli, argv)
    assert "Traceback" not in res.output
    assert flag_db.resolve() in opened and env_db.resolve() not in opened, (opened, res.output)
    assert str(env_db) not in res.output
    assert env_db.read_bytes() == env_before


def test_environment_beats_the_default(tmp_path, monkeypatch, opened):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GAITRISK_DB", raising=False)
    assert CliRunner().invoke(cli, ["athlete", "set", "--mass-kg", "60"]).exit_code == 0
    default = opened[-1]
    assert default.is_relative_to(tmp_path) and default.name == "gaitrisk.db"
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("GAITRISK_DB", str(env_db))
    assert CliRunner().invoke(cli, ["athlete", "set", "--mass-kg", "60"]).exit_code == 0
    assert opened[-1] == env_db.resolve()


@pytest.mark.parametrize("args", [["delete", "--athlete", "ann", "--yes"], ["pain", "delete", "1", "--athlete", "ann"],
                                  ["gap", "delete", "1", "--athlete", "ann"],
                                  ["pain", "edit", "1", "--athlete", "ann", "--score", "6"],
                                  ["athlete", "set", "--athlete", "ann", "--height-cm", "170"]],
                         ids=lambda a: " ".join(a[:2]))
def test_destructive_commands_name_their_store(tmp_path, monkeypatch, args):
    db = tmp_path / "g.db"
    _seed(db)
    monkeypatch.delenv("GAITRISK_DB", raising=False)
    res = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert res.exit_code == 0, res.output
    # One "store:" line names it (a "remains:" line may name files beside it).
    named = [ln for ln in res.stderr.splitlines() if ln.startswith("store: ") and str(db.resolve()) in ln]
    assert len(named) == 1
