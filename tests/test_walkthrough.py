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
