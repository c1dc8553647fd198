"""`gaitrisk import` pays only for what it uses: no scipy, scikit-learn or matplotlib on the
import path (decode, store, features), checked in a fresh process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers.paths import FIXTURES

pytestmark = pytest.mark.slow  # fresh Python processes, a few seconds each

HEAVY = ("scipy", "sklearn", "matplotlib")
REPO = Path(__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent("""
    import json, sys
    from click.testing import CliRunner
    from gaitrisk.cli.main import cli

    result = CliRunner().invoke(cli, ["--db", sys.argv[1], "import", sys.argv[2], "--workers", "1", "--json"])
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(",")))
    print(json.dumps({"exit": result.exit_code, "out": result.output, "heavy": heavy}))
""")


def _fresh(tmp_path: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_a_small_folder_imports_no_scipy_sklearn_or_matplotlib(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    # GPS runs, one of them out and back: the features' pairing of the two passes runs
    for name in ("2024-04-07_out_and_back.gpx", "2024-04-01_easy_loop.fit", "2024-04-03_track_ccw.fit",
                 "2024-04-10_loop_with_pause.tcx"):
        shutil.copy(FIXTURES / "runs" / name, folder / name)
    got = _fresh(tmp_path, str(tmp_path / "g.db"), str(folder), ",".join(HEAVY))
    assert got["exit"] == 0, got["out"]
    summary = json.loads(got["out"])
    assert summary["imported"] == 4 and not summary["failed"]
    assert got["heavy"] == []


def test_the_check_sees_a_heavy_module_when_one_is_imported(tmp_path):
    """The same check, with a module the import path does load, finds it: the check can fail."""
    folder = tmp_path / "runs"
    folder.mkdir()
    shutil.copy(FIXTURES / "runs" / "2024-04-07_out_and_back.gpx", folder)
    got = _fresh(tmp_path, str(tmp_path / "g.db"), str(folder), "pandas,numpy")
    assert got["exit"] == 0 and got["heavy"] == ["numpy", "pandas"]
