"""Decode-only benchmarks: the fast FIT decoder vs fitparse (vs garmin-fit-sdk when installed);
with ``--gpx``, the fast GPX reader vs gpxpy.

Usage: python scripts/bench_decode.py [FOLDER_OR_FILE ...]         (default: ../shared/real-data/fit)
       python scripts/bench_decode.py --gpx [FOLDER_OR_FILE ...]   (default: ../shared/real-data/gpx)
       python scripts/bench_decode.py --small [FOLDER_OR_FILE ...] (default: ../shared/real-data/fit)

Each decoder reads every file into messages (gaitrisk's two readers: into the
shared column form, CRC checked; garmin-fit-sdk: its message dicts) and the
table reports records/s and the speed-up over fitparse measured in the same
run.  Every decoder is timed as the best of repeated calls (at least
``--min-seconds`` per file and decoder), so a load spike from other work on the
machine does not land in one decoder's column only.  The fallback count is how many
files the default decoder (``decode_fit_fast``) handed to fitparse (each is logged with
its reason).  Plain Python, no extra tools; garmin-fit-sdk is optional
(`pip install garmin-fit-sdk`).

``--gpx``: both GPX readers decode each file into the activity (samples frame included),
their calls alternating (best of each), points/s and the speed-up over gpxpy (``xml.gpx.decode_gpx``)
measured in the same run; a generated one-hour run (1 s samples, as ``bench_import.py``
writes it) is added as the last row, apart from the real-file aggregate.  The TCX reader
has no second reader to compare with: it is timed on the same one-hour run written as
TCX, as a ratio to gpxpy reading that run's GPX.

``--small``: the fixed per-file costs of the fast path on small files (10, 100 and 1,000
records: generated runs written as FIT, one watch's layout, and the real FIT files of at
most 1,000 records), stage by stage in CPU microseconds per file (best of repeated passes;
the import is in-process, one thread) and as a ratio to fitparse decoding the same files
in the same run: the message walk with its definitions (cached
across files, as for a folder from one watch; "cold" is the first file of a watch),
the assembly (summary messages and record columns), the activities (legs, samples frame),
the encode for the store, and what `gaitrisk import` adds on top (store writes and the
feature pass, in-process: one import of the files and their feature records into a new
store, minus the decode and encode).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gaitrisk.ingest.fit.errors import Unsupported  # noqa: E402
from gaitrisk.ingest.fit.fast import decode_fit_fast, read_fast  # noqa: E402
from gaitrisk.ingest.fit.reference import read_fitparse  # noqa: E402

# Repeat each decoder's calls until at least this long (best call counts), per file.
_MIN_SECONDS = 0.3
# A file below this many times fitparse's speed is listed as slow.
_SLOW = 50


def _timed(fn: Callable[[], object], min_seconds: float, min_calls: int = 3,
           clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds per call: the best of at least ``min_calls`` calls and ``min_seconds`` in total."""
    best, spent, calls = float("inf"), 0.0, 0
    while spent < min_seconds or calls < min_calls:
        t0 = clock()
        fn()
        dt = clock() - t0
        best, spent, calls = min(best, dt), spent + dt, calls + 1
    return best


class _Fallbacks(logging.Handler):
    """Counts the fast decoder's logged fallbacks to fitparse."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "fell back" in record.getMessage():
            self.reasons.append(record.getMessage())


def _garmin_sdk() -> Callable[[bytes], object] | None:
    try:
        from garmin_fit_sdk import Decoder, Stream
    except ImportError:
        return None

    def read(data: bytes) -> object:
        return Decoder(Stream.from_byte_array(bytearray(data))).read()

    return read


def _files(args: list[str]) -> list[Path]:
    roots = [Path(a) for a in args] or [REPO.parent / "shared" / "real-data" / "fit"]
    out: list[Path] = []
    for root in roots:
        out += sorted(root.glob("*.fit")) if root.is_dir() else [root]
    return out


def _timed_pair(ref: Callable[[], object], fast: Callable[[], object],
                min_seconds: float = _MIN_SECONDS) -> tuple[float, float]:
    """Best seconds per call of each, the calls alternating: a load spike hits both columns."""
    best = [float("inf"), float("inf")]
    spent, calls = 0.0, 0
    while spent < 2 * min_seconds or calls < 3:
        for i, fn in enumerate((ref, fast)):
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            best[i], spent = min(best[i], dt), spent + dt
        calls += 1
    return best[0], best[1]


def _one_hour_run(folder: Path) -> tuple[Path, Path]:
    """The one-hour run of ``bench_import.py`` (seed 900, 11.5 km), written as GPX and TCX."""
    import datetime as dt

    from gaitrisk.synth.runs import RunSpec, generate_run
    from gaitrisk.synth.writers import write_gpx, write_tcx

    start = dt.datetime(2015, 1, 1, 6, 30, tzinfo=dt.timezone.utc)
    run = generate_run(RunSpec(seed=900, distance_m=11_500.0, speed_mps=3.2, start_time=start))
    return write_gpx(run, folder / "one-hour-run.gpx"), write_tcx(run, folder / "one-hour-run.tcx")


def main_gpx(argv: list[str]) -> int:
    import tempfile

    from gaitrisk.ingest.xml.gpx_fast import decode_gpx_fast
    from gaitrisk.ingest.xml.gpx import decode_gpx
    from gaitrisk.ingest.xml.tcx import decode_tcx

    fallbacks = _Fallbacks()
    fast_log = logging.getLogger("gaitrisk.ingest.xml.gpx_fast")
    fast_log.setLevel(logging.INFO)
    roots = [Path(a) for a in argv] or [REPO.parent / "shared" / "real-data" / "gpx"]
    files = [f for r in roots for f in (sorted(r.glob("*.gpx")) if r.is_dir() else [r])]

    def row(path: Path) -> tuple[str, int, float, float] | None:
        data = path.read_bytes()
        n = sum(len(a.samples) for a in decode_gpx(data, path.name).activities)
        if not n:  # routes, untimed tracks: nothing either reader imports
            return None
        fast_log.addHandler(fallbacks)  # counts a fallback once, not once per timed call
        decode_gpx_fast(data, path.name)
        fast_log.removeHandler(fallbacks)
        t_ref, t_fast = _timed_pair(lambda: decode_gpx(data, path.name), lambda: decode_gpx_fast(data, path.name))
        return path.name, n, t_fast, t_ref

    rows = [r for r in map(row, files) if r]
    with tempfile.TemporaryDirectory() as tmp:
        gpx, tcx = _one_hour_run(Path(tmp))
        hour = row(gpx)
        tcx_data = tcx.read_bytes()
        gpx_data = gpx.read_bytes()
        t_gpxpy, t_tcx = _timed_pair(lambda: decode_gpx(gpx_data, gpx.name), lambda: decode_tcx(tcx_data, tcx.name))
    print("| file | points | fast pts/s | gpxpy pts/s | fast ÷ gpxpy |")
    print("|---|---:|---:|---:|---:|")
    for name, n, t_fast, t_ref in rows:
        print(f"| {name} | {n:,} | {n / t_fast:,.0f} | {n / t_ref:,.0f} | {t_ref / t_fast:,.1f}× |")
    if rows:
        n, fast, ref = (sum(r[i] for r in rows) for i in (1, 2, 3))
        print(f"| **aggregate, {len(rows)} real files** | {n:,} | {n / fast:,.0f} | {n / ref:,.0f} | "
              f"{ref / fast:,.1f}× (slowest file {min(r[3] / r[2] for r in rows):,.1f}×) |")
    if hour:
        name, n, t_fast, t_ref = hour
        print(f"| **generated one-hour run (GPX)** | {n:,} | {n / t_fast:,.0f} | {n / t_ref:,.0f} | "
              f"{t_ref / t_fast:,.1f}× |")
        print(f"| generated one-hour run as TCX (TCX reader; ÷ gpxpy on the GPX) | {n:,} | {n / t_tcx:,.0f} | "
              f"{n / t_gpxpy:,.0f} | {t_gpxpy / t_tcx:,.1f}× |")
    print(f"Fallbacks to gpxpy: {len(fallbacks.reasons)} of {len(rows) + bool(hour)} files"
          + "".join(f"\n  {r}" for r in fallbacks.reasons))
    return 0


def _small_runs(folder: Path, records: int, count: int) -> list[Path]:
    """``count`` generated runs of ``records`` one-second samples, written as FIT."""
    import datetime as dt

    from gaitrisk.synth.runs import RunSpec, generate_run
    from gaitrisk.synth.writers import write_fit

    out = []
    for i in range(count):
        start = dt.datetime(2015, 1, 1, 6, 30, tzinfo=dt.timezone.utc) + dt.timedelta(days=i)
        # no pauses: the record count is the run's length in seconds
        spec = RunSpec(seed=1000 + i, distance_m=3.2 * (records - 1), speed_mps=3.2, start_time=start)
        out.append(write_fit(generate_run(spec), folder / f"run-{records}-{i:02d}.fit"))
    return out


def _cpu_timed(fn: Callable[[], object], min_seconds: float, min_calls: int = 5) -> float:
    """:func:`_timed` in this process's CPU seconds: on a machine shared with other work,
    wall time measures the others' load as much as this code."""
    return _timed(fn, min_seconds, min_calls, time.process_time)


def _per_file(fn: Callable[[bytes, str], object], files: list[tuple[str, bytes]], min_seconds: float) -> float:
    """Best CPU seconds per file of ``fn`` over the files (one pass over them = one call)."""
    return _cpu_timed(lambda: [fn(data, name) for name, data in files], min_seconds) / len(files)


def _import_per_file(paths: list[Path]) -> float:
    """CPU seconds per file of `gaitrisk import` in-process: import with the feature pass, then the feature records."""
    import tempfile

    from gaitrisk.features.compute import compute_and_store_features
    from gaitrisk.features.handoff import import_pass
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.store import Store

    best = float("inf")
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
            t0 = time.process_time()
            report = import_paths([str(p) for p in paths], store, "bench", leg_hook=import_pass(store, "bench"))
            compute_and_store_features(store, "bench", passes=report.leg_results)
            best = min(best, time.process_time() - t0)
            if report.failed:
                logging.warning("small files: %d of %d failed (%s)", len(report.failed), len(paths), report.as_json())
    return best / len(paths)


def _small_row(label: str, paths: list[Path], min_seconds: float) -> tuple[str, int, dict[str, float]]:
    """Seconds per file of each stage over ``paths``."""
    from gaitrisk.ingest.fit import definitions
    from gaitrisk.ingest.fit.assembly import assemble
    from gaitrisk.ingest.fit.walk import walk_messages
    from gaitrisk.store import codec

    files = [(p.name, p.read_bytes()) for p in paths]
    walks = [walk_messages(data, True) for _, data in files]
    records = sum(w.n_records for w in walks) // len(walks)
    samples = [a.samples for _, data in files for a in decode_fit_fast(data, "x").activities]

    def cold_walk(data: bytes, _name: str) -> object:
        definitions.clear_cache()
        return walk_messages(data, True)

    t: dict[str, float] = {}
    t["fitparse"] = _per_file(lambda data, _n: read_fitparse(data, True), files, min_seconds)
    t["walk"] = _per_file(lambda data, _n: walk_messages(data, True), files, min_seconds)
    t["walk, cold"] = _per_file(cold_walk, files, min_seconds)
    by_data = {data: w for (_, data), w in zip(files, walks)}
    t["assembly"] = _per_file(lambda data, _n: assemble(data, by_data[data]), files, min_seconds)
    t["read_fast"] = _per_file(lambda data, _n: read_fast(data, True), files, min_seconds)
    t["decode"] = _per_file(decode_fit_fast, files, min_seconds)
    t["encode"] = _cpu_timed(lambda: [codec.encoded(s) for s in samples], min_seconds) / len(files)
    t["import"] = _import_per_file(paths)
    return label, records, t


def main_small(argv: list[str]) -> int:
    """The per-file stages of the fast path on small files, against fitparse in the same run."""
    import tempfile

    from gaitrisk.ingest.fit.reference import read_fitparse as reference

    real = []
    for path in _files(argv):
        msgs, _ = reference(path.read_bytes(), True)
        if 0 < msgs.n_records <= 1000:
            real.append(path)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for records in (10, 100, 1000):
            paths = _small_runs(Path(tmp), records, 20)
            rows.append(_small_row(f"generated, {records:,} records (20 files)", paths, _MIN_SECONDS))
    if real:
        rows.append(_small_row(f"real files of at most 1,000 records ({len(real)} files)", real, _MIN_SECONDS))
    stages = [("walk + definitions", lambda t: t["walk"]),
              ("definitions, first file of a watch", lambda t: max(t["walk, cold"] - t["walk"], 0.0)),
              ("assembly", lambda t: t["assembly"]),
              ("activities (legs, frame)", lambda t: t["decode"] - t["read_fast"]),
              ("decode, total", lambda t: t["decode"]),
              ("encode", lambda t: t["encode"]),
              ("store + feature pass", lambda t: t["import"] - t["decode"] - t["encode"]),
              ("import + features, total", lambda t: t["import"])]
    print("| files | records/file | fitparse decode CPU µs/file | " + " | ".join(s for s, _ in stages) + " |")
    print("|---|---:|---:|" + "---:|" * len(stages))
    for label, records, t in rows:
        cells = [f"{1e6 * fn(t):,.0f} µs ({t['fitparse'] / max(fn(t), 1e-9):,.1f}×)" for _, fn in stages]
        print(f"| {label} | {records:,} | {1e6 * t['fitparse']:,.0f} | " + " | ".join(cells) + " |")
    print("\n(×: fitparse's decode-only time of the same files divided by the stage's time; "
          "each stage's own cost, so the totals are not the sum of the ratios)")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if argv[:1] == ["--gpx"]:
        return main_gpx(argv[1:])
    if argv[:1] == ["--small"]:
        return main_small(argv[1:])
    sdk = _garmin_sdk()
    rows = []
    totals = {"records": 0, "fast": 0.0, "fitparse": 0.0, "sdk": 0.0}
    fallbacks = _Fallbacks()
    fast_log = logging.getLogger("gaitrisk.ingest.fit.fast")
    fast_log.addHandler(fallbacks)
    fast_log.setLevel(logging.INFO)
    files = _files(argv)
    for path in files:
        data = path.read_bytes()
        decode_fit_fast(data, path.name)  # the pipeline's call: counts a fallback if there is one
        msgs, _ = read_fitparse(data, True)
        n = msgs.n_records
        if n == 0:
            continue
        t_ref = _timed(lambda data=data: read_fitparse(data, True), _MIN_SECONDS)
        try:
            t_fast = _timed(lambda data=data: read_fast(data, True), _MIN_SECONDS)
            note = ""
        except Unsupported as exc:
            t_fast, note = t_ref, f"fallback: {exc}"
        t_sdk = _timed(lambda data=data: sdk(data), _MIN_SECONDS) if sdk else float("nan")
        totals["records"] += n
        totals["fast"] += t_fast
        totals["fitparse"] += t_ref
        totals["sdk"] += t_sdk if sdk else 0.0
        rows.append((path.name, n, n / t_fast, n / t_ref, t_ref / t_fast, (t_sdk / t_fast) if sdk else None, note))
    print("| file | records | fast rec/s | fitparse rec/s | fast ÷ fitparse | fast ÷ garmin-fit-sdk | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, n, fast, ref, ratio, sdk_ratio, note in rows:
        sdk_cell = f"{sdk_ratio:,.0f}×" if sdk_ratio is not None else "n/a"
        print(f"| {name} | {n:,} | {fast:,.0f} | {ref:,.0f} | {ratio:,.0f}× | {sdk_cell} | {note} |")
    if rows:
        n = totals["records"]
        sdk_cell = f"{totals['sdk'] / totals['fast']:,.0f}×" if sdk else "n/a"
        print(f"| **aggregate** | {n:,} | {n / totals['fast']:,.0f} | {n / totals['fitparse']:,.0f} | "
              f"{totals['fitparse'] / totals['fast']:,.0f}× | {sdk_cell} | "
              f"slowest file {min(r[4] for r in rows):,.0f}× |")
        slow = [f"{r[0]} ({r[4]:,.0f}×, {r[1]} records)" for r in rows if r[4] < _SLOW]
        print(f"\nBelow {_SLOW}× fitparse: {len(slow)} of {len(rows)} files" + (": " + "; ".join(slow) if slow else ""))
    print(f"Fallbacks to fitparse: {len(fallbacks.reasons)} of {len(files)} files"
          + "".join(f"\n  {r}" for r in fallbacks.reasons))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
