"""Scale-out benchmark: import throughput of one cohort on each executor, as ratios vs serial.

Usage:
    python scripts/bench_scale.py [--athletes 6] [--weeks 6] [--interval 1] [--workers 2] [--repeat 1]

Writes a seeded synthetic cohort (gaitrisk.synth.cohort: TCX/GPX runs, ``--interval`` s samples)
into a temporary folder, then imports every athlete's runs into a fresh store with
  * the serial executor (the baseline),
  * a local process pool of ``--workers`` processes,
  * a Dask LocalCluster of ``--workers`` single-threaded worker processes (started before the clock
    runs; its start-up time is printed on its own),
and prints runs/s and the ratio vs serial, measured in this one run (best of ``--repeat``).
Every mode must store the same activities; the script stops if they differ.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gaitrisk.executor import PoolExecutor, SerialExecutor, make_executor  # noqa: E402
from gaitrisk.ingest.pipeline import import_paths  # noqa: E402
from gaitrisk.store import Store  # noqa: E402
from gaitrisk.synth.cohort import CohortConfig, write_cohort  # noqa: E402

log = logging.getLogger("bench_scale")


def timed_import(cohort: Path, athletes: list[str], db: Path, executor) -> tuple[float, list[tuple]]:
    """Seconds to import every athlete into a new store, and what the store then holds."""
    if db.exists():
        db.unlink()
    with Store(db) as store:
        t0 = time.perf_counter()
        for a in athletes:
            report = import_paths([str(cohort / a / "runs")], store, a, executor=executor)
            if report.failed:
                log.warning("%s: %s", a, report.failed[:3])
        elapsed = time.perf_counter() - t0
        held = [(r.id, r.start_time, r.distance_m, r.duration_s) for r in store.activities()]
    return elapsed, held


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=6)
    ap.add_argument("--weeks", type=int, default=6)
    ap.add_argument("--interval", type=int, default=1, help="sample interval of the generated runs, s")
    ap.add_argument("--workers", type=int, default=2, help="processes of the pool and of the LocalCluster")
    ap.add_argument("--repeat", type=int, default=1, help="time each mode this many times, keep the best")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="gaitrisk-scale-"))
    try:
        t0 = time.perf_counter()
        truth = write_cohort(CohortConfig(seed=5, athletes=args.athletes, weeks=args.weeks,
                                          warmup_weeks=min(5, args.weeks), sample_interval_s=args.interval),
                             tmp / "cohort")
        athletes = sorted(truth["athletes"])
        n_runs = sum(a["runs"] for a in truth["athletes"].values())
        size = sum(p.stat().st_size for p in (tmp / "cohort").rglob("*") if p.is_file())
        print(f"cohort: {len(athletes)} athletes, {n_runs} runs, {size / 1e6:.1f} MB, {args.interval} s samples "
              f"(written in {time.perf_counter() - t0:.1f} s); machine: {os.cpu_count()} cores, "
              f"{platform.python_implementation()} {platform.python_version()}")

        t0 = time.perf_counter()
        cluster_ex = make_executor(None, f"local:{args.workers}")
        startup = time.perf_counter() - t0
        logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would bury the table
        modes = {"local serial": SerialExecutor(), f"local pool ({args.workers} processes)": PoolExecutor(args.workers),
                 f"Dask LocalCluster ({args.workers} workers)": cluster_ex}
        best: dict[str, float] = {}
        reference = None
        try:
            for _ in range(max(1, args.repeat)):
                for name, ex in modes.items():
                    elapsed, held = timed_import(tmp / "cohort", athletes, tmp / "bench.db", ex)
                    if reference is None:
                        reference = held
                    elif held != reference:
                        raise SystemExit(f"{name}: stored activities differ from the serial run")
                    best[name] = min(best.get(name, float("inf")), elapsed)
        finally:
            for ex in modes.values():
                ex.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base = best["local serial"]
    print("\n| executor | time, s | runs/s | vs serial |")
    print("|---|---:|---:|---:|")
    for name, t in best.items():
        print(f"| {name} | {t:.1f} | {n_runs / t:.1f} | {base / t:.2f}× |")
    print(f"\nLocalCluster start-up (not in the times above): {startup:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
