"""The everyday commands import only what they use.

Each command runs in a fresh interpreter (a small runner calls the click group in-process and
writes ``sorted(sys.modules)`` when it ends), on the demo store with and without its trained
model: the model stack (scikit-learn, skops, scipy's statistics and optimiser) is never needed to
read a card or to score a day, matplotlib only for an HTML report with plots, and the commands
that read no run samples need neither pandas nor numpy; the weekly load table, the flags, the risk
and the report (the athlete-day table and the latest run's samples as arrays) are numpy alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
RUNNER = """
import json, sys
from gaitrisk.cli.main import cli
code = 0
try:
    cli(sys.argv[2:], prog_name="gaitrisk")
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as f:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, f)
"""
MODEL_STACK = ("sklearn", "skops", "scipy.stats", "scipy.optimize")
PLOTS = ("matplotlib",)
FRAMES = ("pandas", "numpy", "scipy")
PANDAS = ("pandas", "scipy")

# command -> the heavy modules it must not import
EVERYDAY = {
    "--help": MODEL_STACK + PLOTS + FRAMES,
    "activities": MODEL_STACK + PLOTS + FRAMES,
    "load --athlete demo": MODEL_STACK + PLOTS + PANDAS,
    "load --athlete demo --json": MODEL_STACK + PLOTS + PANDAS,
    "flags --athlete demo": MODEL_STACK + PLOTS + PANDAS,
    "flags --athlete demo --json": MODEL_STACK + PLOTS + PANDAS,
    "report --athlete demo": MODEL_STACK + PLOTS + PANDAS,
    "report --athlete demo --format json": MODEL_STACK + PLOTS + PANDAS,
    "risk --athlete demo": MODEL_STACK + PLOTS + PANDAS,
    "risk --athlete demo --json": MODEL_STACK + PLOTS + PANDAS,
    "model info": MODEL_STACK + PLOTS + FRAMES,
    # The nightly job's usual case: the same folder again, nothing new, every record up to date.
    f"import {REPO / 'fixtures' / 'runs'} --athlete demo --json": MODEL_STACK + PLOTS + FRAMES,
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """The demo store with its trained prior model, and a copy of the store without any model."""
    folder = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(cli, ["demo", "--keep", str(folder), "-q"])
    assert res.exit_code == 0, res.output
    bare = tmp_path_factory.mktemp("bare")
    shutil.copy(folder / "demo.db", bare / "demo.db")
    assert (folder / "demo.db.model.skops").exists() and not (bare / "demo.db.model.skops").exists()
    return {"model": folder / "demo.db", "no model": bare / "demo.db"}


def imported(db: Path, command: str, tmp_path: Path, exit_code: int = 0) -> set[str]:
    """The modules loaded by the end of ``gaitrisk --db DB COMMAND`` in a fresh interpreter."""
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAITRISK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(out), "--db", str(db), *command.split()],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    result = json.loads(out.read_text())
    assert result["exit"] == exit_code, proc.stderr
    return set(result["modules"])


def loaded(modules: set[str], heavy: tuple[str, ...]) -> list[str]:
    return [h for h in heavy if any(m == h or m.startswith(h + ".") for m in modules)]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["model", "no model"])
@pytest.mark.parametrize("command", list(EVERYDAY))
def test_an_everyday_command_imports_no_heavy_module_it_does_not_use(stores, which, command, tmp_path):
    # Without a model, ``model info`` says so in one line (exit 1) and must get there as cheaply.
    modules = imported(stores[which], command, tmp_path, exit_code=int(command == "model info" and which == "no model"))
    assert "gaitrisk.cli.main" in modules   # the runner ran the command
    assert loaded(modules, EVERYDAY[command]) == []


@pytest.mark.slow
def test_the_html_report_imports_matplotlib_for_its_plots(stores, tmp_path):
    """The check above would pass for a runner that imports nothing; the plots prove it sees imports."""
    modules = imported(stores["model"], f"report --athlete demo --format html -o {tmp_path / 'r.html'}", tmp_path)
    assert loaded(modules, PLOTS) == ["matplotlib"]


def test_command_modules_import_only_the_app_never_each_other_or_main():
    """cli/app.py owns the group and the shared options; main.py registers the commands on it."""
    import ast

    cli_dir = REPO / "gaitrisk" / "cli"
    commands = sorted(p.stem for p in cli_dir.glob("*.py") if p.stem not in {"app", "__init__", "main"})
    assert {"imports", "activities", "model", "report", "risk"} <= set(commands)
    for name in ["app", *commands]:
        tree = ast.parse((cli_dir / f"{name}.py").read_text())
        siblings = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
        siblings |= {alias.name for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module
                     for alias in node.names}
        allowed = set() if name == "app" else {"app"}
        assert siblings <= allowed, f"cli/{name}.py imports {sorted(siblings - allowed)}"
        private = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
                   for alias in node.names if alias.name.startswith("_")]
        assert private == [], f"cli/{name}.py imports private names {private}"
