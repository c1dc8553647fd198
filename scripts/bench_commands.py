"""Cold wall time of the everyday commands on the demo store, beside baselines measured in the same run.

Usage:
    python scripts/bench_commands.py [--repeat N] [--store DIR] [--json]

Each command runs in a fresh interpreter (``python -m gaitrisk --db DEMO.db ...``), N times, and
the best time counts (the least disturbed by other work on the machine).  Two baselines run the
same way: ``python -c pass`` (the interpreter alone) and ``python -c "import pandas"`` (what any
command reading the weekly load pays at least).  The figures are printed as a table with the
targets; a machine shared with other work inflates all of them alike, so the ratios to the
baselines travel better than the seconds.

The demo store (``gaitrisk demo --keep DIR``: the bundled season and its trained prior model) is
made once in a temporary folder unless ``--store`` names a folder holding ``demo.db``.  Bytecode
is written and warmed before timing, as for an installed package: ``PYTHONDONTWRITEBYTECODE``
would make every run compile gaitrisk again and measure the compiler.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ATHLETE = "demo"
# (label, arguments after ``gaitrisk --db DB``, target in seconds or None)
COMMANDS: tuple[tuple[str, tuple[str, ...], float | None], ...] = (
    ("--help", ("--help",), None),
    ("activities", ("activities",), None),
    ("load", ("load", "--athlete", ATHLETE), 0.3),
    ("flags", ("flags", "--athlete", ATHLETE), 0.5),
    ("report", ("report", "--athlete", ATHLETE), 0.5),
    ("risk", ("risk", "--athlete", ATHLETE), 0.5),
    ("model info", ("model", "info"), 0.5),
)
BASELINES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python -c pass", ("-c", "pass")),
    ("python -c 'import pandas'", ("-c", "import pandas")),
)


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAITRISK_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def wall(args: tuple[str, ...], env: dict[str, str], cwd: Path) -> float:
    """Seconds of one fresh ``python ARGS`` to its exit; a failing command stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"python {' '.join(args)} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed


def best_of(args: tuple[str, ...], repeat: int, env: dict[str, str], cwd: Path) -> float:
    return min(wall(args, env, cwd) for _ in range(repeat))


def demo_store(folder: Path, env: dict[str, str]) -> Path:
    db = folder / "demo.db"
    if not db.exists():
        print(f"making the demo store in {folder} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "gaitrisk", "demo", "--keep", str(folder), "-q"], env=env, cwd=folder,
                       stdout=subprocess.DEVNULL, check=True)
    return db


def measure(db: Path, repeat: int, env: dict[str, str], cwd: Path) -> list[dict]:
    rows = []
    for label, args in BASELINES:
        wall(args, env, cwd)   # warm the file cache
        rows.append({"what": label, "kind": "baseline", "best_s": best_of(args, repeat, env, cwd), "target_s": None})
    for label, args, target in COMMANDS:
        full = ("-m", "gaitrisk", "--db", str(db), *args)
        wall(full, env, cwd)   # writes the bytecode, warms the file cache
        rows.append({"what": label, "kind": "command", "best_s": best_of(full, repeat, env, cwd), "target_s": target})
    return rows


def table(rows: list[dict], repeat: int) -> str:
    pandas = next(r["best_s"] for r in rows if "pandas" in r["what"])
    lines = [f"cold wall time, best of {repeat} fresh processes (load average {os.getloadavg()[0]:.1f} "
             f"on {os.cpu_count()} cores)",
             f"{'':<26} {'best s':>7} {'x pandas':>8} {'target s':>8}  met"]
    for r in rows:
        target = "-" if r["target_s"] is None else f"{r['target_s']:.1f}"
        met = "" if r["target_s"] is None else ("yes" if r["best_s"] <= r["target_s"] else "NO")
        lines.append(f"{r['what']:<26} {r['best_s']:>7.3f} {r['best_s'] / pandas:>8.2f} {target:>8}  {met}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes per command; the best counts")
    ap.add_argument("--store", type=Path, default=None, help="a folder holding the demo store (made when absent)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    a = ap.parse_args()
    env = child_env()
    with tempfile.TemporaryDirectory(prefix="gaitrisk-bench-commands-") as tmp:
        folder = a.store or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        rows = measure(demo_store(folder, env), a.repeat, env, Path(tmp))
    print(json.dumps(rows, indent=2) if a.json else table(rows, a.repeat))


if __name__ == "__main__":
    main()
