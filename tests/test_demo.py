"""``gaitrisk demo``: the whole main job on the bundled season, ending in the report."""

from __future__ import annotations

import csv
import re
import stat
import tomllib
from pathlib import Path

from click.testing import CliRunner

from gaitrisk.cli.main import cli

from .conftest import FIXTURES, REPO


def test_demo_runs_every_step_and_prints_the_report(tmp_path):
    res = CliRunner().invoke(cli, ["demo", "--keep", str(tmp_path / "kept")])
    assert res.exit_code == 0, res.output
    out = res.output
    steps = [re.escape(s) for s in ("1. import", "2. features 8 runs", "3. pain     9 entries", "4. load     8 runs",
                                    "5. model", "6. report")]
    assert re.search(".*".join(steps), out, re.DOTALL), out
    assert "8 imported, 1 duplicate" in out
    # The planted flag of fixtures/pain/demo_pain.csv, and the report's sections.
    assert "pain_rising (info)   2024-04-19" in out and "see a clinician" not in out
    assert "Farrar 2001; Silbernagel 2007; evidence grade C" in " ".join(out.split())   # each flag's evidence
    for section in ("Load, last 3 weeks", "Gait trends", "Terrain, camber and track", "Pain log"):
        assert section in out
    n_pain = len(list(csv.DictReader((FIXTURES / "pain" / "demo_pain.csv").open())))
    assert len(re.findall(r"^ \w{3} \d\d Apr \d\d:\d\d +\d+/10", out, re.MULTILINE)) == n_pain
    kept = tmp_path / "kept"
    assert (kept / "demo.db").is_file() and stat.S_IMODE((kept / "demo.html").stat().st_mode) == 0o600
    assert 'data-plot="load"' in (kept / "demo.html").read_text()


def test_demo_leaves_nothing_behind_without_keep(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)   # re-read TMPDIR
    res = CliRunner().invoke(cli, ["demo", "--format", "markdown"])
    assert res.exit_code == 0, res.output
    assert "### Flags (2024-04-13 to 2024-04-19)" in res.output
    assert list(tmp_path.iterdir()) == []


def test_the_pain_log_ships_with_the_package():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "pain/*" in py["tool"]["setuptools"]["package-data"]["gaitrisk._fixtures"]
    assert Path(FIXTURES / "pain" / "demo_pain.csv").is_file()
