"""Decode-only FIT benchmark: the fast decoder vs fitparse (vs garmin-fit-sdk when installed).

Usage: python scripts/bench_decode.py [FOLDER_OR_FILE ...]   (default: ../shared/real-data/fit)

Each decoder reads every file into messages (gaitrisk's two readers: into the
shared column form, CRC checked; garmin-fit-sdk: its message dicts) and the
table reports records/s and the speed-up over fitparse measured in the same
run.  Plain Python, no extra tools; garmin-fit-sdk is optional
(`pip install garmin-fit-sdk`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gaitrisk.ingest.fit_fast import Unsupported, read_fast  # noqa: E402
from gaitrisk.ingest.fit_fitparse import read_fitparse  # noqa: E402

# Repeat fast decodes until at least this long, so that small files are timed reliably.
_MIN_SECONDS = 0.2


def _timed(fn: Callable[[], object], min_seconds: float) -> float:
    """Seconds per call (best of repeated calls, at least ``min_seconds`` in total)."""
    best, spent = float("inf"), 0.0
    while spent < min_seconds or best == float("inf"):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
    return best


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


def main(argv: list[str]) -> int:
    sdk = _garmin_sdk()
    rows = []
    totals = {"records": 0, "fast": 0.0, "fitparse": 0.0, "sdk": 0.0}
    for path in _files(argv):
        data = path.read_bytes()
        msgs, _ = read_fitparse(data, True)
        n = msgs.n_records
        if n == 0:
            continue
        t_ref = _timed(lambda: read_fitparse(data, True), 0.0)
        try:
            t_fast = _timed(lambda: read_fast(data, True), _MIN_SECONDS)
            note = ""
        except Unsupported as exc:
            t_fast, note = t_ref, f"fallback: {exc}"
        t_sdk = _timed(lambda: sdk(data), 0.0) if sdk else float("nan")
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
