"""Import benchmark: every figure a ratio against a baseline measured in the same run.

Usage:
    python scripts/bench_import.py [--runs N] [--baseline-runs M] [--nightly N] [--workers 1,2] [--real DIR]

  (a) FIT decode only: fast vs fitparse, records/s over the real files (as scripts/bench_decode.py)
  (b) GPX: fast reader vs gpxpy, points/s over the real GPX files
  (c) end to end, what `gaitrisk import` does: the ingest of N generated one-hour runs (1 s
      samples, each new run's feature pass made in its decode task) and then the feature records
      finished, both on the executor, with the default decoders at each
      worker count, vs the same pipeline forced onto fitparse/gpxpy (timed on the first M runs,
      compared per file: fitparse needs ~1 s per one-hour FIT run), for two corpora: FIT only
      (what a Garmin bulk export holds) and FIT and GPX alternating (a mixed folder) (and the
      mixed one at 2 workers with ship="paths": workers read the files themselves); the ingest
      alone is reported beside it
  (d) a nightly-style re-import that finds nothing new, on a store of N activities (small
      generated GPX runs), with the file index and without it, in-process and through the CLI
  (e) peak memory (ru_maxrss) of a fresh process importing one export zip of all the generated
      runs (stored, hundreds of MB) with 2 workers, and of its largest worker
  (f) the real files as one everyday batch: every FIT and GPX file under --real (damaged ones
      included), `gaitrisk import` end to end (features included) in a fresh process each time,
      the default --workers and --workers 1 taking turns (best of --real-repeats), against
      fitparse/gpxpy merely decoding the same files in this process
  (g) the everyday commands, cold: `--help`, `activities`, `load`, `flags`, `report`, `risk` and
      `model info` on the demo store, each in fresh processes (best of --command-repeats), beside
      `python -c pass` and `python -c "import pandas"` timed the same way (scripts/bench_commands.py)

Plain Python, no extra tools.  Generated corpora (and the nightly store) are cached under
/tmp/gaitrisk-bench-cache and rebuilt when CORPUS_VERSION or the store schema changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import bench_commands  # noqa: E402
from bench_decode import _files, _timed  # noqa: E402

from gaitrisk.executor import make_executor  # noqa: E402
from gaitrisk.features.compute import compute_and_store_features  # noqa: E402
from gaitrisk.features.handoff import import_pass  # noqa: E402
from gaitrisk.ingest.decoders import DEFAULT, REFERENCE, Decoders  # noqa: E402
from gaitrisk.ingest.fit.fast import read_fast  # noqa: E402
from gaitrisk.ingest.fit.reference import read_fitparse  # noqa: E402
from gaitrisk.ingest.xml.gpx_fast import decode_gpx_fast  # noqa: E402
from gaitrisk.ingest.xml.gpx import decode_gpx  # noqa: E402
from gaitrisk.ingest.pipeline import RACY_S, import_paths  # noqa: E402
from gaitrisk.store import Store  # noqa: E402

log = logging.getLogger("bench_import")


def bench_fit(folder: Path) -> dict:
    records = fast = ref = 0.0
    slowest = float("inf")
    for path in _files([str(folder)]):
        data = path.read_bytes()
        n = read_fitparse(data, True)[0].n_records
        if not n:
            continue
        t_ref = _timed(lambda: read_fitparse(data, True), 0.0)
        t_fast = _timed(lambda: read_fast(data, True), 0.2)
        records, fast, ref = records + n, fast + t_fast, ref + t_ref
        slowest = min(slowest, t_ref / t_fast)
    return {"records": records, "fast_rps": records / fast, "ref_rps": records / ref,
            "ratio": ref / fast, "slowest": slowest}


def bench_gpx(folder: Path) -> dict:
    """Points/s of the fast reader and of gpxpy over the real GPX files, their calls alternating
    (best of each: a load spike hits both); how many files the byte scan read itself."""
    from bench_decode import _timed_pair

    from gaitrisk.ingest.xml.gpx_fast import scanned

    points = fast = ref = 0.0
    files = by_scan = 0
    for path in sorted(folder.glob("*.gpx")):
        data = path.read_bytes()
        res = decode_gpx(data, path.name)
        n = sum(len(a.samples) for a in res.activities)
        if not n:
            continue
        t_ref, t_fast = _timed_pair(lambda: decode_gpx(data, path.name), lambda: decode_gpx_fast(data, path.name),
                                    0.1)
        ref, fast, points = ref + t_ref, fast + t_fast, points + n
        files, by_scan = files + 1, by_scan + scanned(data)
    return {"points": points, "fast_pps": points / fast, "ref_pps": points / ref, "ratio": ref / fast,
            "files": files, "by_scan": by_scan}


CACHE = Path(tempfile.gettempdir()) / "gaitrisk-bench-cache"
# Bump when the generated corpora change, so stale caches are rebuilt.
CORPUS_VERSION = "2"


def _cached(folder: Path, n: int, build) -> list[Path]:
    """The first ``n`` files of a generated corpus under /tmp, (re)built when missing or stale."""
    stamp = folder / ".version"
    have = sorted(p for p in folder.glob("run*") if p.is_file()) if folder.is_dir() else []
    if stamp.exists() and stamp.read_text() == CORPUS_VERSION and len(have) >= n:
        return have[:n]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    paths = build(folder, n)
    stamp.write_text(CORPUS_VERSION)
    log.warning("generated %d files in %s in %.1f s", len(paths), folder, time.perf_counter() - t0)
    return paths


def make_fit_runs(folder: Path, n: int) -> list[Path]:
    """N one-hour runs at 1 s, one a day, all FIT: a Garmin bulk export."""
    return make_runs(folder, n, formats=("fit",))


def make_runs(folder: Path, n: int, formats: tuple[str, ...] = ("fit", "gpx")) -> list[Path]:
    """N one-hour runs at 1 s, one a day, the formats alternating (distinct days: no cross-format dedup).

    gaitrisk.synth.writers writes one FIT file in seconds, so two runs are written and
    re-dated: GPX by rewriting the date in the text, FIT by shifting every date_time
    field and recomputing the checksum.
    """
    from gaitrisk.synth.runs import RunSpec, generate_run
    from gaitrisk.synth.writers import write_fit, write_gpx

    start = dt.datetime(2015, 1, 1, 6, 30, tzinfo=dt.timezone.utc)
    run = generate_run(RunSpec(seed=900, distance_m=11_500.0, speed_mps=3.2, start_time=start))
    fit = write_fit(run, folder / "base.fit").read_bytes()
    gpx = write_gpx(run, folder / "base.gpx").read_bytes()
    (folder / "base.fit").unlink()
    (folder / "base.gpx").unlink()
    paths = []
    for i in range(n):
        day = dt.timedelta(days=i)
        fmt = formats[i % len(formats)]
        path = folder / f"run{i:05d}.{fmt}"
        path.write_bytes(_shift_fit(fit, int(day.total_seconds())) if fmt == "fit"
                         else gpx.replace(b"2015-01-01T", (start + day).strftime("%Y-%m-%dT").encode()))
        paths.append(path)
    return paths


def make_small_runs(folder: Path, n: int) -> list[Path]:
    """N five-minute GPX runs, two a day from 2005 (the nightly no-op never reads them anyway)."""
    from gaitrisk.synth.runs import RunSpec, generate_run
    from gaitrisk.synth.writers import write_gpx

    start = dt.datetime(2005, 1, 1, 6, 30, tzinfo=dt.UTC)
    run = generate_run(RunSpec(seed=901, distance_m=900.0, speed_mps=3.2, start_time=start))
    gpx = write_gpx(run, folder / "base.gpx").read_bytes()
    (folder / "base.gpx").unlink()
    paths = []
    for i in range(n):
        when = start + dt.timedelta(days=i // 2)
        path = folder / f"run{i:05d}.gpx"
        path.write_bytes(gpx.replace(b"2005-01-01T06:", when.strftime(f"%Y-%m-%dT{6 + 12 * (i % 2):02d}:").encode()))
        paths.append(path)
    return paths


def _shift_fit(data: bytes, seconds: int) -> bytes:
    """The FIT file with every valid date_time/local_date_time field moved by ``seconds``."""
    from gaitrisk.ingest.fit.walk import crc16, walk_messages

    buf = bytearray(data)
    walk = walk_messages(data, True)
    for k, d in enumerate(walk.defs):
        pos = walk.pos[walk.def_index == k]
        for f in d.fields:
            kind = getattr(getattr(f.profile, "type", None), "name", "")
            if kind not in ("date_time", "local_date_time") or f.base.kind != "u4" or f.count != 1:
                continue
            for p in pos.tolist():
                at = p + f.offset
                value = int.from_bytes(buf[at:at + 4], "little" if d.endian == "<" else "big")
                if value != 0xFFFFFFFF and value >= 0x10000000:
                    buf[at:at + 4] = (value + seconds).to_bytes(4, "little" if d.endian == "<" else "big")
    buf[-2:] = crc16(bytes(buf[:-2])).to_bytes(2, "little")
    return bytes(buf)


@dataclass(frozen=True)
class Timing:
    """Wall time, and CPU time of this process (the single writer) and of its workers."""

    wall: float
    parent_cpu: float
    worker_cpu: float
    ingest_wall: float  # the part before the features
    pooled: bool = False  # worker processes ran (the default workers decide by the work and the load)

    @property
    def cpu(self) -> float:
        return self.parent_cpu + self.worker_cpu


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_import(paths: list[Path], decoders: Decoders, workers: int, db: Path, **kw) -> Timing:
    """One import into a new store as ``gaitrisk import`` does it: the ingest (each new run's feature
    pass made in its decode task), then the feature records finished, on the same executor (the
    fitparse/gpxpy baseline the same way).  Worker CPU is counted once the pool has exited."""
    if db.exists():
        db.unlink()
    kids0 = _children_cpu()
    executor = make_executor(workers)
    try:
        with Store(db) as store:
            t0, c0 = time.perf_counter(), time.process_time()
            report = import_paths([str(p) for p in paths], store, "bench", decoders=decoders, executor=executor,
                                  leg_hook=import_pass(store, "bench"), **kw)
            ingest = time.perf_counter() - t0
            feats = compute_and_store_features(store, "bench", executor=executor, passes=report.leg_results)
            if feats.failed or feats.computed != report.imported:
                log.warning("features: %s", feats.as_json())
            elapsed, parent = time.perf_counter() - t0, time.process_time() - c0
        pooled = getattr(executor, "started", False)
    finally:
        getattr(executor, "close", lambda: None)()
    if report.failed or report.imported != len(paths):
        log.warning("import: %s", report.as_json())
    return Timing(elapsed, parent, _children_cpu() - kids0, ingest, pooled)


# The control task: a fixed amount of work (not a time budget: when two processes slow each
# other down, the import's fixed work takes longer, and so must the control's), about one
# one-hour run's import with its features (≈ 30 ms on the 2-core dev machine).
_CONTROL_ROUNDS = 60


def _control_task(seed: int) -> int:
    """Pure CPU, a Python loop and numpy as an import mixes them; a few bytes in and out."""
    import numpy as np

    rng = np.random.default_rng(seed)
    total = 0
    for _ in range(_CONTROL_ROUNDS):
        total += sum(i * i for i in range(2_000))
        total += int(np.sort(rng.random(5_000)).argmax())
    return total


def timed_control(n: int, workers: int) -> float:
    """Wall seconds for ``n`` control tasks on the executor ``gaitrisk import`` builds for ``workers``."""
    executor = make_executor(workers)
    try:
        t0 = time.perf_counter()
        for _ in executor.map(_control_task, range(n)):
            pass
        return time.perf_counter() - t0
    finally:
        getattr(executor, "close", lambda: None)()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="generated one-hour runs for (c) and (e)")
    ap.add_argument("--baseline-runs", type=int, default=100,
                    help="of those, how many the fitparse/gpxpy baseline imports (ratio per file)")
    ap.add_argument("--nightly", type=int, default=10_000, help="activities in the store for (d)")
    ap.add_argument("--workers", default="1,2", help="worker counts for (c) (0: the default, work-aware)")
    ap.add_argument("--real", default=str(REPO.parent / "shared" / "real-data"))
    ap.add_argument("--skip", default="", help="comma list of parts to skip: a,b,c,d,e,f,g")
    ap.add_argument("--real-repeats", type=int, default=5, help="(f): turns of default and one worker")
    ap.add_argument("--command-repeats", type=int, default=5, help="(g): fresh processes per command, best counts")
    ap.add_argument("--skip-paths", action="store_true", help="leave out the ship=\"paths\" run of (c)")
    ap.add_argument("--ratio-runs", type=int, default=300, help="(c): runs in the alternating 1-vs-2-worker check")
    ap.add_argument("--ratio-repeats", type=int, default=3,
                    help="(c): turns of the alternating 1-vs-2-worker check (0: leave it out)")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)  # (e): import this zip in a fresh process
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.memory_child:
        return _memory_child(Path(args.memory_child))
    skip = set(args.skip.split(","))
    real = Path(args.real)
    rows: list[tuple[str, str, str, str]] = []

    if "a" not in skip and (real / "fit").is_dir():
        r = bench_fit(real / "fit")
        rows.append(("(a) FIT decode, real files", f"{r['fast_rps']:,.0f} rec/s vs {r['ref_rps']:,.0f}",
                     f"{r['ratio']:,.0f}× (slowest file {r['slowest']:,.1f}×)", "≥ 300×, no file < 50×"))
    if "b" not in skip and (real / "gpx").is_dir():
        r = bench_gpx(real / "gpx")
        rows.append(("(b) GPX read, real files", f"{r['fast_pps']:,.0f} pts/s vs {r['ref_pps']:,.0f}",
                     f"{r['ratio']:,.1f}× ({r['by_scan']} of {r['files']} files by the byte scan)",
                     "≥ 10×, identical output"))
    tmp = Path(tempfile.mkdtemp(prefix="gaitrisk-bench-"))
    try:
        if not {"c", "e"} <= skip:
            paths = _cached(CACHE / "runs", max(args.runs, 1), make_runs)
        if "c" not in skip:
            fit_paths = _cached(CACHE / "fitruns", max(args.runs, 1), make_fit_runs)
            rows.extend(_end_to_end(tmp, fit_paths, args, "FIT only (a Garmin export)", by_format=False,
                                    with_paths=False))
            rows.extend(_end_to_end(tmp, paths, args, "FIT+GPX alternating", by_format=True,
                                    with_paths=not args.skip_paths))
        if "d" not in skip:
            rows.extend(_nightly(args.nightly))
        if "e" not in skip:
            rows.extend(_memory(tmp, paths))
        if "f" not in skip and real.is_dir():
            rows.extend(_real_batch(tmp, real, args.real_repeats))
        if "g" not in skip:
            rows.extend(_commands(tmp, args.command_repeats))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| measure | measured | ratio | target |")
    print("|---|---|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


def _commands(tmp: Path, repeat: int) -> list[tuple[str, str, str, str]]:
    """(g): cold wall time of the everyday commands on the demo store (scripts/bench_commands.py),
    each as a multiple of ``python -c "import pandas"`` timed beside it."""
    env = bench_commands.child_env()
    folder = tmp / "demo"
    folder.mkdir(mode=0o700)
    rows = bench_commands.measure(bench_commands.demo_store(folder, env), repeat, env, tmp)
    pandas = next(r["best_s"] for r in rows if "pandas" in r["what"])
    return [(f"(g) cold `{r['what']}`" if r["kind"] == "command" else f"(g) baseline {r['what']}",
             f"{r['best_s']:.3f} s", f"{r['best_s'] / pandas:.2f}× import pandas",
             "-" if r["target_s"] is None else f"≤ {r['target_s']} s")
            for r in rows]


def _end_to_end(tmp: Path, paths: list[Path], args, label: str, *, by_format: bool,
                with_paths: bool) -> list[tuple[str, str, str, str]]:
    """Wall-time ratios, and CPU-time ratios, which a machine shared with other work disturbs less.

    With N workers the import can go no faster than the single writer: its CPU per file
    bounds the speed-up at (worker + writer CPU) / writer CPU.
    """
    rows = []
    n, m = len(paths), min(args.baseline_runs, len(paths))
    t = timed_import(paths[:m], REFERENCE, 1, tmp / "ref.db")
    base, base_cpu, base_ingest = t.wall / m, t.cpu / m, t.ingest_wall / m
    per_worker: dict[int, Timing] = {}
    for w in [int(x) for x in args.workers.split(",")]:
        t = per_worker[w] = timed_import(paths, DEFAULT, w, tmp / f"fast{w}.db")
        rows.append((f"(c) {label}: `gaitrisk import` (ingest + features) of {n} one-hour runs, {_workers(w)}",
                     f"{t.wall:.1f} s wall: {t.wall / n * 1e3:.0f} ms/file vs {base * 1e3:.0f} ms/file "
                     f"fitparse/gpxpy ({m} files); CPU {t.cpu / n * 1e3:.0f} vs {base_cpu * 1e3:.0f} ms/file, "
                     f"this process {t.parent_cpu / n * 1e3:.1f} ms/file",
                     f"{base * n / t.wall:,.0f}× wall, {base_cpu * n / t.cpu:,.0f}× CPU",
                     "≥ 50×; whole batch well under 60 s on 2 cores"))
        rows.append((f"(c) {label}: of which the ingest (decode, check, encode, each run's feature pass, store), "
                     f"{_workers(w)}",
                     f"{t.ingest_wall:.1f} s wall: {t.ingest_wall / n * 1e3:.1f} ms/file vs {base_ingest * 1e3:.0f} "
                     f"ms/file; the records finished after it {(t.wall - t.ingest_wall) / n * 1e3:.1f} ms/file vs "
                     f"{base - base_ingest:.3f} s/file", f"{base_ingest * n / t.ingest_wall:,.0f}× wall", ""))
    for fmt in ("fit", "gpx") if by_format else ():  # the mix hides how differently the formats compare
        sub = [p for p in paths if p.suffix == f".{fmt}"]
        ref = timed_import(sub[:max(m // 2, 1)], REFERENCE, 1, tmp / f"ref-{fmt}.db")
        fast = timed_import(sub, DEFAULT, 1, tmp / f"fast-{fmt}.db")
        ref_cpu, fast_cpu = ref.cpu / max(m // 2, 1), fast.cpu / len(sub)
        rows.append((f"(c) {fmt.upper()} only, 1 worker, CPU per file", f"{fast_cpu * 1e3:.0f} ms vs "
                     f"{ref_cpu * 1e3:.0f} ms fitparse/gpxpy", f"{ref_cpu / fast_cpu:,.0f}× CPU", ""))
    if 0 in per_worker and 1 in per_worker:
        how = "on the pool" if per_worker[0].pooled else "in-process (small batch or busy cores): as 1 worker"
        rows.append((f"(c) {label}: default workers ÷ 1 worker", f"{per_worker[1].wall:.1f} s / "
                     f"{per_worker[0].wall:.1f} s; default ran {how}", f"{per_worker[1].wall / per_worker[0].wall:.2f}× wall",
                     "≥ 1.0× (never slower)"))
    if 1 in per_worker and 2 in per_worker:
        one, two = per_worker[1], per_worker[2]
        bound = two.cpu / max(two.parent_cpu, 1e-9)
        rows.append((f"(c) {label}: 2 workers ÷ 1 worker", f"single-writer bound {bound:.1f}× (CPU: this process "
                     f"{two.parent_cpu / n * 1e3:.1f} of {two.cpu / n * 1e3:.0f} ms/file); ingest alone "
                     f"{one.ingest_wall / two.ingest_wall:.2f}×", f"{one.wall / two.wall:.2f}× wall", "≥ 1.7×"))
    if 1 in per_worker and 2 in per_worker and args.ratio_repeats:
        # The two timings above are minutes apart, and this machine's speed drifts by tens of
        # per cent over minutes: alternate 1 and 2 workers on a slice and compare the best of each.
        # The control task takes the same turns: what 2 workers give work with nothing to share
        # on this machine (two busy vCPUs of a VM rarely give 2.0x), the ceiling the import's
        # ratio is read against.
        sub = paths[:min(args.ratio_runs, n)]
        best = {1: float("inf"), 2: float("inf")}
        ceiling = {1: float("inf"), 2: float("inf")}
        for _ in range(args.ratio_repeats):
            for w in (1, 2):
                best[w] = min(best[w], timed_import(sub, DEFAULT, w, tmp / f"alt{w}.db").wall)
                ceiling[w] = min(ceiling[w], timed_control(len(sub), w))
        ratio, control = best[1] / best[2], ceiling[1] / ceiling[2]
        rows.append((f"(c) {label}: 2 workers ÷ 1 worker, alternating", f"{len(sub)} runs, 1 and 2 workers "
                     f"{args.ratio_repeats}× each in turn, best of each: {best[1]:.1f} s / {best[2]:.1f} s",
                     f"{ratio:.2f}× wall", "≥ 1.7×"))
        rows.append((f"(c) {label}: control in the same turns, {len(sub)} pure-CPU tasks of fixed work "
                     f"(nothing read, shipped or written)", f"1 and 2 workers, best of each: {ceiling[1]:.1f} s / "
                     f"{ceiling[2]:.1f} s; the import reaches {ratio / control:.0%} of it",
                     f"{control:.2f}× wall", "the machine's ceiling"))
    if 2 in per_worker and with_paths:
        t = timed_import(paths, DEFAULT, 2, tmp / "paths2.db", ship="paths")
        rows.append(('(c) same, 2 workers, ship="paths"', f"{t.wall:.1f} s ({t.wall / n * 1e3:.0f} ms/file), "
                     f"writer CPU {t.parent_cpu / n * 1e3:.1f} ms/file", f"{per_worker[2].wall / t.wall:.2f}× bytes",
                     "results identical (tests)"))
    return rows


def _workers(w: int) -> str:
    return "default workers (--workers 0: all cores when the work is worth it)" if w == 0 else f"{w} worker(s)"


def _nightly(n: int) -> list[tuple[str, str, str, str]]:
    """Re-import a folder of N already-imported files: nothing new, with and without the file index.

    The folder and its store are cached under /tmp (importing 10,000 files the first time takes
    minutes); the store is rebuilt when the corpus or the schema changed.
    """
    paths = _cached(CACHE / f"nightly{n}", n, make_small_runs)
    folder = paths[0].parent
    db = CACHE / f"nightly{n}.db"
    with Store(db) as store:
        if len(store.file_index("bench")) < n:
            time.sleep(RACY_S)  # files modified in the last seconds are not indexed (racy mtimes)
            executor = make_executor(2)
            try:
                t0 = time.perf_counter()
                first = import_paths([str(folder)], store, "bench", executor=executor)
                log.warning("first import of %d small files: %.1f s, %s", n, time.perf_counter() - t0,
                            first.as_json() | {"failed": len(first.failed)})
            finally:
                executor.close()
        t0, c0 = time.perf_counter(), time.process_time()
        report = import_paths([str(folder)], store, "bench")
        fast, fast_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert report.imported == 0 and report.duplicates == n and report.unread == n, report.as_json()
        t0 = time.perf_counter()
        report = import_paths([str(folder)], store, "bench", use_file_index=False)
        slow = time.perf_counter() - t0
        assert report.imported == 0 and report.duplicates == n, report.as_json()
    t0, kids0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", "from gaitrisk.cli.main import main; main()", "--db", str(db),
                           "import", str(folder), "--athlete", "bench", "--json"], capture_output=True, text=True, check=False)
    cli, kids = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    cli_cpu = kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime
    ok = proc.returncode == 0 and json.loads(proc.stdout)["duplicates"] == n
    return [(f"(d) nightly re-import, {n:,} activities, nothing new (file index)",
             f"{fast:.2f} s in-process ({fast_cpu:.2f} s CPU); `gaitrisk import --json` {cli:.2f} s wall "
             f"({cli_cpu:.2f} s CPU, Python start-up included){'' if ok else ' (FAILED)'}",
             f"{slow / fast:,.0f}× vs reading", "< 2 s on 10,000"),
            ("(d) same without the file index (reads and hashes every file)", f"{slow:.2f} s", "", "")]


def _memory(tmp: Path, paths: list[Path]) -> list[tuple[str, str, str, str]]:
    """Peak RSS importing one export zip of a fifth, then of all the generated runs (a bound must not grow)."""
    return [_memory_one(tmp, paths[:max(len(paths) // 5, 1)]), _memory_one(tmp, paths)]


def _memory_one(tmp: Path, paths: list[Path]) -> tuple[str, str, str, str]:
    """Peak RSS importing one export zip (the runs, stored) in a fresh process, 2 workers, features included."""
    import zipfile

    archive = tmp / f"export{len(paths)}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for p in paths:
            zf.write(p, f"DI_CONNECT/DI-Connect-Uploaded-Files/{p.name}")
    size = archive.stat().st_size
    proc = subprocess.run([sys.executable, __file__, "--memory-child", str(archive)], capture_output=True, text=True, check=False)
    if proc.returncode:
        return ("(e) peak memory", f"failed: {proc.stderr.strip().splitlines()[-1:]}", "", "")
    own, kids, secs = (float(x) for x in proc.stdout.split())
    return (f"(e) peak memory (max RSS), one {size / 2**20:,.0f} MB export zip, 2 workers",
            f"importing process {own:,.0f} MB, largest worker {kids:,.0f} MB ({secs:.0f} s)", "",
            "< 500 MB for a 2 GB export")


def _memory_child(archive: Path) -> int:
    executor = make_executor(2)
    db = archive.with_suffix(".db")
    try:
        with Store(db) as store:
            t0 = time.perf_counter()
            # as `gaitrisk import` does: each new run's feature pass made in its decode task and kept
            # here (ImportReport.leg_results) until the records are finished
            report = import_paths([str(archive)], store, "bench", executor=executor,
                                  leg_hook=import_pass(store, "bench"))
            compute_and_store_features(store, "bench", executor=executor, passes=report.leg_results)
            secs = time.perf_counter() - t0
    finally:
        executor.close()
    if report.failed:
        log.warning("memory import: %s", report.as_json())
    own = _peak_rss_mb()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(own, kids, secs)
    return 0


def _peak_rss_mb() -> float:
    """This process's peak resident set (MB): Linux's VmHWM, which belongs to this program alone.
    ``ru_maxrss`` is the fallback elsewhere; on Linux it also holds the peak of the process that
    started this one, as it was at the fork before the exec (a bench parent that just generated
    thousands of runs would be measured instead of the import)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_batch_files(real: Path) -> list[Path]:
    """Every FIT and GPX file under ``real`` (the damaged ones too: they are part of the job)."""
    return sorted(p for p in real.rglob("*") if p.is_file() and p.suffix.lower() in (".fit", ".gpx"))


def _reference_decode(path: Path) -> None:
    """fitparse or gpxpy reading every message or point of one file, nothing more (a damaged
    file's error ends its read, as it ends fitparse's)."""
    import io

    data = path.read_bytes()
    try:
        if path.suffix.lower() == ".fit":
            import fitparse

            for _ in fitparse.FitFile(io.BytesIO(data), check_crc=False).get_messages():
                pass
        else:
            import gpxpy

            gpxpy.parse(data.decode("utf-8-sig", errors="replace"))
    except Exception:  # noqa: BLE001 - a damaged file: the baseline stops where the reader stops
        log.debug("baseline read of %s failed", path, exc_info=True)


def _cold_import(files: list[Path], db: Path, workers: int) -> tuple[float, dict]:
    """Wall seconds of `gaitrisk import --json` of ``files`` into a new store in a fresh process."""
    if db.exists():
        db.unlink()
    cmd = [sys.executable, "-c", "from gaitrisk.cli.main import main; main()", "--db", str(db), "import",
           *map(str, files), "--athlete", "bench", "--workers", str(workers), "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    wall = time.perf_counter() - t0
    try:
        return wall, json.loads(proc.stdout)
    except ValueError:
        return wall, {"error": proc.stderr.strip().splitlines()[-1:]}


def _real_batch(tmp: Path, real: Path, repeats: int) -> list[tuple[str, str, str, str]]:
    """(f): the real files end to end, default workers and one worker in turns, vs decode only."""
    files = real_batch_files(real)
    fits = [p for p in files if p.suffix.lower() == ".fit"]
    mb = sum(p.stat().st_size for p in files) / 2**20
    ref_fit = ref_gpx = float("inf")
    best = {0: float("inf"), 1: float("inf")}
    counts: dict = {}
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        for p in fits:
            _reference_decode(p)
        t1 = time.perf_counter()
        for p in files:
            if p not in fits:
                _reference_decode(p)
        ref_fit, ref_gpx = min(ref_fit, t1 - t0), min(ref_gpx, time.perf_counter() - t1)
        for w in (0, 1):
            wall, counts[w] = _cold_import(files, tmp / f"real{w}.db", w)
            best[w] = min(best[w], wall)
    if counts[0] != counts[1]:
        log.warning("real batch: default workers %s, one worker %s", counts[0], counts[1])
    ref = ref_fit + ref_gpx
    what = (f"{len(fits)} FIT + {len(files) - len(fits)} GPX files, {mb:.1f} MB ({counts[0]}); fitparse "
            f"{ref_fit:.1f} s + gpxpy {ref_gpx:.1f} s decode only, best of {max(repeats, 1)}")
    return [
        ("(f) real files, `gaitrisk import` end to end (cold process, features), default --workers",
         f"{best[0]:.2f} s; {what}", f"{ref / best[0]:,.1f}× fitparse+gpxpy, {ref_fit / best[0]:,.1f}× fitparse",
         "≥ 50× fitparse decode-only"),
        ("(f) same, --workers 1", f"{best[1]:.2f} s", f"{ref / best[1]:,.1f}× fitparse+gpxpy, "
         f"{ref_fit / best[1]:,.1f}× fitparse", ""),
        ("(f) default --workers ÷ --workers 1", f"{best[1]:.2f} s / {best[0]:.2f} s", f"{best[1] / best[0]:.2f}×",
         "≥ 1.0× (never slower)"),
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
