"""Import benchmark (issue 9): every figure a ratio against a baseline measured in the same run.

Usage:
    python scripts/bench_import.py [--runs N] [--baseline-runs M] [--nightly N] [--workers 1,2] [--real DIR]

  (a) FIT decode only: fast vs fitparse, records/s over the real files (as scripts/bench_decode.py)
  (b) GPX: fast reader vs gpxpy, points/s over the real GPX files
  (c) end-to-end import of N generated one-hour runs (1 s samples, FIT and GPX alternating) with
      the default decoders at each worker count, vs the same pipeline forced onto fitparse/gpxpy
      (timed on the first M runs, compared per file: fitparse needs ~1 s per one-hour FIT run)
  (d) a nightly-style re-import that finds nothing new, on a store of N activities
  (e) peak memory (ru_maxrss) of this process and of its worker processes

Plain Python, no extra tools.  Generated corpora live in a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_decode import _files, _timed  # noqa: E402

from gaitrisk.executor import make_executor  # noqa: E402
from gaitrisk.ingest.decoders import DEFAULT, REFERENCE, Decoders  # noqa: E402
from gaitrisk.ingest.fit_fast import read_fast  # noqa: E402
from gaitrisk.ingest.fit_fitparse import read_fitparse  # noqa: E402
from gaitrisk.ingest.gpx_fast import decode_gpx_fast  # noqa: E402
from gaitrisk.ingest.gpx_reader import decode_gpx  # noqa: E402
from gaitrisk.ingest.pipeline import import_paths  # noqa: E402
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
    points = fast = ref = 0.0
    for path in sorted(folder.glob("*.gpx")):
        data = path.read_bytes()
        res = decode_gpx(data, path.name)
        n = sum(len(a.samples) for a in res.activities)
        if not n:
            continue
        ref += _timed(lambda: decode_gpx(data, path.name), 0.0)
        fast += _timed(lambda: decode_gpx_fast(data, path.name), 0.1)
        points += n
    return {"points": points, "fast_pps": points / fast, "ref_pps": points / ref, "ratio": ref / fast}


def make_runs(folder: Path, n: int) -> list[Path]:
    """N one-hour runs at 1 s, one a day, FIT and GPX alternating (distinct days: no cross-format dedup).

    gaitrisk.synth.writers writes one FIT file in seconds, so two runs are written and
    re-dated: GPX by rewriting the date in the text, FIT by shifting every date_time
    field and recomputing the checksum.
    """
    from gaitrisk.synth.runs import RunSpec, generate_run
    from gaitrisk.synth.writers import write_fit, write_gpx

    folder.mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2015, 1, 1, 6, 30, tzinfo=dt.timezone.utc)
    run = generate_run(RunSpec(seed=900, distance_m=11_500.0, speed_mps=3.2, start_time=start))
    fit = write_fit(run, folder / "base.fit").read_bytes()
    gpx = write_gpx(run, folder / "base.gpx").read_bytes()
    (folder / "base.fit").unlink()
    (folder / "base.gpx").unlink()
    paths = []
    for i in range(n):
        day = dt.timedelta(days=i)
        path = folder / f"run{i:05d}.{'fit' if i % 2 == 0 else 'gpx'}"
        path.write_bytes(_shift_fit(fit, int(day.total_seconds())) if i % 2 == 0
                         else gpx.replace(b"2015-01-01T", (start + day).strftime("%Y-%m-%dT").encode()))
        paths.append(path)
    return paths


def _shift_fit(data: bytes, seconds: int) -> bytes:
    """The FIT file with every valid date_time/local_date_time field moved by ``seconds``."""
    from gaitrisk.ingest import fit_fast

    buf = bytearray(data)
    walk = fit_fast._walk(data, True)
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
    buf[-2:] = fit_fast._crc16(bytes(buf[:-2])).to_bytes(2, "little")
    return bytes(buf)


def timed_import(paths: list[Path], decoders: Decoders, workers: int, db: Path) -> float:
    if db.exists():
        db.unlink()
    executor = make_executor(workers)
    try:
        with Store(db) as store:
            t0 = time.perf_counter()
            report = import_paths([str(p) for p in paths], store, "bench", decoders=decoders, executor=executor)
            elapsed = time.perf_counter() - t0
    finally:
        getattr(executor, "close", lambda: None)()
    if report.failed or report.imported != len(paths):
        log.warning("import: %s", report.as_json())
    return elapsed


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="generated one-hour runs for (c)")
    ap.add_argument("--baseline-runs", type=int, default=10, help="of those, how many the fitparse/gpxpy baseline imports")
    ap.add_argument("--nightly", type=int, default=10_000, help="activities in the store for (d)")
    ap.add_argument("--workers", default="1,2", help="worker counts for (c)")
    ap.add_argument("--real", default=str(REPO.parent / "shared" / "real-data"))
    ap.add_argument("--skip", default="", help="comma list of parts to skip: a,b,c,d")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
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
                     f"{r['ratio']:,.1f}×", "≥ 4×"))
    tmp = Path(tempfile.mkdtemp(prefix="gaitrisk-bench-"))
    try:
        if "c" not in skip or "d" not in skip:
            t0 = time.perf_counter()
            paths = make_runs(tmp / "runs", max(args.runs, 1))
            log.warning("generated %d runs in %.1f s", len(paths), time.perf_counter() - t0)
        if "c" not in skip:
            m = min(args.baseline_runs, len(paths))
            base = timed_import(paths[:m], REFERENCE, 1, tmp / "ref.db") / m
            per_worker = {}
            for w in [int(x) for x in args.workers.split(",")]:
                per_worker[w] = timed_import(paths, DEFAULT, w, tmp / f"fast{w}.db")
                per_file = per_worker[w] / len(paths)
                rows.append((f"(c) import {len(paths)} one-hour runs, {w} worker(s)", f"{per_worker[w]:.1f} s "
                             f"({per_file * 1e3:.0f} ms/file vs {base * 1e3:.0f} ms/file fitparse/gpxpy)",
                             f"{base / per_file:,.0f}×", "≥ 50×; whole batch well under 60 s on 2 cores"))
            if 1 in per_worker and 2 in per_worker:
                rows.append(("(c) 2 workers ÷ 1 worker", "", f"{per_worker[1] / per_worker[2]:.2f}×", "≥ 1.7×"))
        if "d" not in skip:
            rows.append(_nightly(tmp, paths, args.nightly))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows.append(("(e) peak memory (max RSS)", f"this process {own:,.0f} MB, largest worker {kids:,.0f} MB", "",
                 "< 500 MB for a 2 GB export"))
    print("| measure | measured | ratio | target |")
    print("|---|---|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


def _nightly(tmp: Path, paths: list[Path], n: int) -> tuple[str, str, str, str]:
    """Re-import N already-imported files (copies of the generated runs re-dated): nothing new."""
    folder = tmp / "nightly"
    folder.mkdir()
    # Distinct bytes per file (a different name field would do; here: distinct days) by reusing
    # the generated files cyclically only up to their count, then timing a re-import.
    use = paths[:n]
    for p in use:
        shutil.copy(p, folder / p.name)
    db = tmp / "nightly.db"
    with Store(db) as store:
        import_paths([str(folder)], store, "bench", decoders=DEFAULT)
        t0 = time.perf_counter()
        report = import_paths([str(folder)], store, "bench", decoders=DEFAULT)
        elapsed = time.perf_counter() - t0
    assert report.imported == 0, report.as_json()
    scaled = elapsed * 10_000 / max(len(use), 1)
    return (f"(d) nightly re-import, {len(use)} activities, nothing new", f"{elapsed:.2f} s "
            f"(≈ {scaled:.1f} s per 10,000)", "", "< 2 s on 10,000")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
