"""Fuzz the readers that see hostile bytes: FIT (both decoders), GPX, TCX, the archive walker, pain CSV.

Usage::

    python scripts/fuzz.py --seconds 60                    # every target, coverage-guided (atheris)
    python scripts/fuzz.py --seconds 60 --target fit_fast  # one target: fit, fit_fast, fit_fitparse, gpx, tcx, zip, pain
    python scripts/fuzz.py --seconds 20 --engine classes   # the fault-class campaign: a table of outcomes

Engines:

* ``atheris`` (default when installed, ``pip install '.[fuzz]'``): libFuzzer's coverage-guided
  mutation of the seed files, mixed with the structure-aware mutators below.  Each input has a
  time limit (``--timeout``, a hang) and a memory limit (``--rss-mb``, ``--malloc-mb``: an
  unbounded allocation); a crashing input is written to ``tests/regressions/<target>-crash-*``,
  where ``tests/test_fuzz_regressions.py`` replays it on every test run.
* ``classes``: seeded random cases of each named fault class (bit flips, truncations, inserted
  bytes, huge field counts, bogus definitions, ...), and a markdown table of what came out:
  a clean error, a partial import, an import, a skip -- or a crash/hang, which is a bug.
  Used for the counts in docs/reliability.md.  Needs nothing beyond gaitrisk.

Seeds are the real watch files in ``../shared/real-data`` when present, else the repo's ``fixtures/``.

FIT targets: ``fit_fast`` is the vectorised decoder with its fitparse fallback switched off
(``decode_fit_fast(..., fallback=False)``), so that an exception in the fast path is a crash
here instead of a silent, logged fallback; a deliberate "unsupported" is a one-line error.
``fit_fitparse`` is the reference reader, and ``fit`` runs both (the fault-class table).

The contract checked on every input (:func:`check`): the reader returns a result and never
raises; an error is one non-empty line; imported samples are time-ordered, no more rows than
the input has bytes, with finite elapsed times; the archive walker yields only files within
its size limits and one-line problems.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import random
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REAL_DATA = REPO.parent / "shared" / "real-data"
FIXTURES = REPO / "fixtures"
REGRESSIONS = REPO / "tests" / "regressions"
TARGETS = ("fit", "fit_fast", "fit_fitparse", "gpx", "tcx", "zip", "pain")
# What "--target all" runs: the fault-class table counts FIT once (both decoders per case);
# libFuzzer's coverage feedback is per process, so atheris fuzzes each FIT decoder on its own.
ALL_TARGETS = {"classes": ("fit", "gpx", "tcx", "zip", "pain"),
               "atheris": ("fit_fast", "fit_fitparse", "gpx", "tcx", "zip", "pain")}
# Outcomes of one input.  The first four keep the contract; the last two are bugs.
OUTCOMES = ("error", "partial", "imported", "skipped", "crash", "hang")


class Hang(Exception):
    """An input took longer than its time limit."""


class ContractViolation(AssertionError):
    """A reader returned, but broke the result contract."""


# --------------------------------------------------------------------------
# Seeds


def seed_root() -> Path:
    return REAL_DATA if (REAL_DATA / "manifest.json").is_file() else FIXTURES


def _files(exts: tuple[str, ...], max_bytes: int) -> list[tuple[str, bytes]]:
    root = seed_root()
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in exts and p.stat().st_size <= max_bytes:
            out.append((str(p.relative_to(root)), p.read_bytes()))
    return out


PAIN_SEED = (b"date,time,score,region,side,when,behaviour,note\n"
             b"2024-05-01,07:30,4,lateral hip,R,after run,,stairs hurt\n"
             b"2024-05-02,,2,lateral hip,R,next morning,,\n"
             b'2024-05-04,18:10,5,lateral knee/ITB,R,during run,worsens,"downhill, ""steep"""\n')
PAIN_SEED_SEMICOLON = ("\ufeffDate;Time;Score;Region;Side;When;Behavior;Notes\r\n"
                       "2024-03-31;02:30;3;buttock;both;at rest;constant;DST gap\r\n"
                       "2024-10-27;02:30+01:00;7;groin/front hip;L;at night;;\"two\nlines\"\r\n").encode()


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def seeds(target: str, max_bytes: int = 64_000) -> list[tuple[str, bytes]]:
    """Seed inputs of one target, smallest real files first (they mutate fastest)."""
    if target.startswith("fit"):
        found = _files((".fit",), max_bytes)
    elif target in ("gpx", "tcx"):
        found = _files((f".{target}",), max(max_bytes, 120_000))
    elif target == "pain":
        found = [("pain.csv", PAIN_SEED), ("pain-semicolon.csv", PAIN_SEED_SEMICOLON)]
    elif target == "zip":
        fit = min(_files((".fit",), max_bytes) or [("x.fit", b"")], key=lambda f: len(f[1]))[1]
        gpx = min(_files((".gpx",), 200_000) or [("x.gpx", b"")], key=lambda f: len(f[1]))[1]
        strava = _zip([("activities.csv", b"Activity ID,Activity Name,Activity Type,Filename\n"
                                          b"1,Tempo,Run,activities/1.gpx.gz\n2,Ride,Ride,activities/2.fit\n"),
                       ("activities/1.gpx.gz", gzip.compress(gpx)), ("activities/2.fit", fit)])
        garmin = _zip([("DI_CONNECT/DI-Connect-Fitness/x.json", b"{}"),
                       ("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip",
                        _zip([("a.fit", fit), ("b.gpx", gpx)]))])
        found = [("strava.zip", strava), ("garmin.zip", garmin), ("run.gpx.gz", gzip.compress(gpx))]
    else:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    return sorted(found, key=lambda f: len(f[1]))


# --------------------------------------------------------------------------
# Mutators: each takes the bytes and a Random, returns new bytes


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            pos = rng.randrange(len(out))
            out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncation(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data))] if data else data


def inserted_bytes(data: bytes, rng: random.Random) -> bytes:
    pos = rng.randint(0, len(data))
    kind = rng.randrange(3)
    if kind == 0:
        chunk = rng.randbytes(rng.randint(1, 64))
    elif kind == 1:  # a repeated slice of the file itself: records and tags that look right
        start = rng.randrange(len(data)) if data else 0
        chunk = data[start:start + rng.randint(1, 256)] * rng.randint(1, 20)
    else:
        chunk = bytes([rng.randrange(256)]) * rng.randint(1, 4096)
    return data[:pos] + chunk + data[pos:]


def _fit_definitions(data: bytes) -> tuple[list[int], int]:
    """Offsets of FIT definition messages (first container), and the header size."""
    if len(data) < 12:
        return [], 0
    header = data[0]
    end = min(len(data), header + struct.unpack_from("<I", data, 4)[0])
    sizes: dict[int, int] = {}
    found: list[int] = []
    pos = header
    while pos < end:
        h = data[pos]
        if h & 0x80:
            size = sizes.get((h >> 5) & 0x3)
        elif h & 0x40:
            if pos + 6 > end:
                break
            n = data[pos + 5]
            p = pos + 6 + 3 * n
            if p + 1 > end:
                break
            found.append(pos)  # only definitions whose fields (and one more byte) are all there
            size = sum(data[pos + 6 + 3 * i + 1] for i in range(n))
            if h & 0x20 and p < end:
                nd = data[p]
                if p + 1 + 3 * nd > end:
                    break
                size += sum(data[p + 1 + 3 * i + 1] for i in range(nd))
                p += 1 + 3 * nd
            sizes[h & 0xF] = size
            pos = p
            continue
        else:
            size = sizes.get(h & 0xF)
        if size is None:
            break
        pos += 1 + size
    return found, header


def huge_field_counts(data: bytes, rng: random.Random) -> bytes:
    """A FIT definition claiming 255 fields, a 255-byte field, or 255 developer fields."""
    defs, _ = _fit_definitions(data)
    if not defs:
        return inserted_bytes(data, rng)
    out = bytearray(data)
    pos = rng.choice(defs)
    n = out[pos + 5]
    choice = rng.randrange(3)
    if choice == 0 or n == 0:
        out[pos + 5] = 255
    elif choice == 1:
        out[pos + 6 + 3 * rng.randrange(n) + 1] = 255
    else:
        out[pos] |= 0x20  # developer data flag: the next byte is read as a developer field count
        p = pos + 6 + 3 * n
        out[p:p] = bytes([255])
    return bytes(out)


def bogus_definitions(data: bytes, rng: random.Random) -> bytes:
    """A FIT definition with a wrong architecture, message number, field number or base type."""
    defs, _ = _fit_definitions(data)
    if not defs:
        return bit_flips(data, rng)
    out = bytearray(data)
    pos = rng.choice(defs)
    n = out[pos + 5]
    choice = rng.randrange(5)
    if choice == 0:
        out[pos + 2] = rng.choice([1, 2, 255])  # architecture: big-endian or invalid
    elif choice == 1:
        struct.pack_into("<H", out, pos + 3, rng.choice([0, 20, 18, 19, 21, 0xFFFE, rng.randrange(65536)]))
    elif n and choice == 2:
        out[pos + 6 + 3 * rng.randrange(n)] = rng.randrange(256)  # field number
    elif n and choice == 3:
        out[pos + 6 + 3 * rng.randrange(n) + 2] = rng.choice([0x00, 0x07, 0x0D, 0x88, 0x8E, 0x8F, 0xFF])
    else:
        out[pos] = (out[pos] & 0xF0) | rng.randrange(16)  # redefine another local message type
    return bytes(out)


def header_lies(data: bytes, rng: random.Random) -> bytes:
    """A FIT header whose size, protocol or data size field lies (also zip/gzip size fields)."""
    if len(data) < 14:
        return bit_flips(data, rng)
    out = bytearray(data)
    if data[8:12] == b".FIT":
        choice = rng.randrange(3)
        if choice == 0:
            struct.pack_into("<I", out, 4, rng.choice([0, 1, 0xFFFFFFFF, len(data) * 10, rng.randrange(2**32)]))
        elif choice == 1:
            out[0] = rng.choice([0, 1, 12, 13, 15, 255])
        else:
            out[1] = rng.choice([0, 0x20, 0xFF])
        return bytes(out)
    for sig, offsets in ((b"PK\x01\x02", (20, 24, 28, 30, 42)), (b"PK\x03\x04", (18, 22, 26, 28))):
        positions = [i for i in range(len(out)) if out.startswith(sig, i)]
        if positions:
            pos = rng.choice(positions)
            off = rng.choice(offsets)
            fmt = "<I" if off in (18, 20, 22, 24, 42) else "<H"
            if pos + off + struct.calcsize(fmt) <= len(out):
                struct.pack_into(fmt, out, pos + off, rng.choice([0, 0xFFFF, 0x7FFF, 1, 12345]))
            return bytes(out)
    return bit_flips(data, rng)


def text_values(data: bytes, rng: random.Random) -> bytes:
    """A number or time in a text format (XML, CSV) replaced by an absurd value."""
    import re

    spans = [m.span() for m in re.finditer(rb"-?\d[\d.:T-]*Z?", data)]
    if not spans:
        return inserted_bytes(data, rng)
    start, end = rng.choice(spans)
    value = rng.choice([b"NaN", b"inf", b"-1e309", b"1e400", b"99999999999999999999", b"-0", b"",
                        b"0", b"2100-01-01T00:00:00Z", b"1989-12-31T00:00:00Z", b"9999-99-99", b"\x00",
                        b"0x10", b"1_000", "\u0661\u0662".encode()])
    return data[:start] + value + data[end:]


def markup(data: bytes, rng: random.Random) -> bytes:
    """Broken structure: a delimiter removed or doubled, deep nesting, a huge number of fields."""
    specials = [i for i, b in enumerate(data) if b in b'<>/",;\n"']
    choice = rng.randrange(4)
    if choice == 0 and specials:
        pos = rng.choice(specials)
        return data[:pos] + data[pos + 1:]
    if choice == 1 and specials:
        pos = rng.choice(specials)
        return data[:pos] + data[pos:pos + 1] * rng.randint(2, 5000) + data[pos:]
    pos = rng.randint(0, len(data))
    if choice == 2:
        depth = rng.randint(100, 50_000)
        return data[:pos] + b"<a>" * depth + b"</a>" * depth + data[pos:]
    return data[:pos] + rng.choice([b",", b";", b"\t", b' a=""']) * rng.randint(100, 20_000) + data[pos:]


MUTATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "bit flips": bit_flips,
    "truncation": truncation,
    "inserted bytes": inserted_bytes,
    "huge field counts": huge_field_counts,
    "bogus definitions": bogus_definitions,
    "header size lies": header_lies,
    "absurd values": text_values,
    "broken markup": markup,
}
CLASSES = {
    "fit": ("bit flips", "truncation", "inserted bytes", "huge field counts", "bogus definitions",
            "header size lies"),
    "gpx": ("bit flips", "truncation", "inserted bytes", "absurd values", "broken markup"),
    "tcx": ("bit flips", "truncation", "inserted bytes", "absurd values", "broken markup"),
    "zip": ("bit flips", "truncation", "inserted bytes", "header size lies"),
    "pain": ("bit flips", "truncation", "inserted bytes", "absurd values", "broken markup"),
}
CLASSES["fit_fast"] = CLASSES["fit_fitparse"] = CLASSES["fit"]


def mutate(data: bytes, rng: random.Random, fault: str | None = None, target: str = "fit") -> bytes:
    """One mutation of a named fault class (or a random one of the target's classes)."""
    return MUTATORS[fault or rng.choice(CLASSES[target])](data, rng)


# --------------------------------------------------------------------------
# The contract


def _one_line(text: object, what: str) -> None:
    if not isinstance(text, str) or not text.strip() or "\n" in text:
        raise ContractViolation(f"{what} is not one non-empty line: {text!r}")


def _check_result(res, data: bytes) -> str:
    from gaitrisk import schema as S
    from gaitrisk.records import DecodeResult

    if not isinstance(res, DecodeResult):
        raise ContractViolation(f"decoder returned {type(res).__name__}, not a DecodeResult")
    for p in res.problems:
        _one_line(p, "a problem")
    if res.error is not None:
        _one_line(res.error, "the error")
        if res.activities:
            raise ContractViolation("an error result that also holds activities")
        return "error"
    if not res.activities:
        _one_line(res.skipped_reason, "the skip reason")
        return "skipped"
    for act in res.activities:
        s = act.samples
        if not 2 <= len(s) <= max(len(data), 2):
            raise ContractViolation(f"{len(s)} samples from {len(data)} bytes")
        ts = s[S.TIMESTAMP]
        if str(ts.dt.tz) != "UTC" or not ts.is_monotonic_increasing:
            raise ContractViolation("sample timestamps are not increasing UTC times")
        import numpy as np

        el = s[S.ELAPSED].to_numpy()
        if not (np.isfinite(el).all() and el[0] == 0):
            raise ContractViolation("elapsed times are not finite from 0")
    return "partial" if res.partial else "imported"


def check_fit_fast(data: bytes) -> str:
    """The fast decoder alone: no fallback to fitparse may hide an exception in it."""
    from gaitrisk.ingest.fit.fast import decode_fit_fast

    return _check_result(decode_fit_fast(data, "fuzz.fit", fallback=False), data)


def check_fit_fitparse(data: bytes) -> str:
    from gaitrisk.ingest.fit.reference import decode_fit

    return _check_result(decode_fit(data, "fuzz.fit"), data)


def check_fit(data: bytes) -> str:
    ref = check_fit_fitparse(data)
    fast = check_fit_fast(data)
    # Both must keep the contract; where they disagree the worse outcome is reported.
    return ref if OUTCOMES.index(ref) <= OUTCOMES.index(fast) else fast


def fast_fit_unsupported(data: bytes) -> bool:
    """Whether the fast decoder refuses these bytes on purpose (where the pipeline falls back to fitparse)."""
    from gaitrisk.ingest.fit.fast import UNSUPPORTED_PREFIX, decode_fit_fast

    return (decode_fit_fast(data, "fuzz.fit", fallback=False).error or "").startswith(UNSUPPORTED_PREFIX)


def check_gpx(data: bytes) -> str:
    from gaitrisk.ingest.xml.gpx import decode_gpx

    return _check_result(decode_gpx(data, "fuzz.gpx"), data)


def check_tcx(data: bytes) -> str:
    from gaitrisk.ingest.xml.tcx import decode_tcx

    return _check_result(decode_tcx(data, "fuzz.tcx"), data)


ZIP_LIMITS_KW = dict(max_entry_bytes=4 << 20, max_total_bytes=16 << 20, max_entries=2000)


def check_zip(data: bytes, folder: str | None = None) -> str:
    """Walk the bytes as a zip (or, when they start like gzip, as a .gpx.gz file)."""
    import tempfile

    from gaitrisk.ingest.sources import Limits, SourceFile, SourceProblem, iter_sources

    limits = Limits(**ZIP_LIMITS_KW)
    name = "fuzz.gpx.gz" if data[:2] == b"\x1f\x8b" else "fuzz.zip"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        files = problems = 0
        for item in iter_sources([path], limits):
            if isinstance(item, SourceFile):
                if len(item.data) > limits.max_entry_bytes or item.fmt not in ("fit", "gpx", "tcx"):
                    raise ContractViolation(f"walker yielded {len(item.data)} bytes of {item.fmt}")
                files += 1
            elif isinstance(item, SourceProblem):
                _one_line(item.reason, "a walker problem")
                problems += 1
            else:
                raise ContractViolation(f"walker yielded a {type(item).__name__}")
            if not item.name.startswith(path[:-3] if name.endswith(".gz") else path):
                raise ContractViolation(f"item named {item.name!r} outside the archive")
    if files and problems:
        return "partial"
    return "imported" if files else "error"


def check_pain(data: bytes) -> str:
    from zoneinfo import ZoneInfo

    from gaitrisk.pain.csvio import CsvImport, read_pain_csv

    res = read_pain_csv(data, "fuzz", ZoneInfo("Europe/Berlin"))
    if not isinstance(res, CsvImport):
        raise ContractViolation(f"read_pain_csv returned {type(res).__name__}")
    if res.fatal is not None:
        _one_line(res.fatal, "the fatal reason")
        if res.entries or res.errors:
            raise ContractViolation("a fatal result that also holds rows")
        return "error"
    lines = [line for line, _ in res.entries] + [e.line for e in res.errors]
    if len(set(lines)) != len(lines) or any(not 2 <= n <= data.count(b"\n") + data.count(b"\r") + 2 for n in lines):
        raise ContractViolation(f"row line numbers {lines} do not fit the file")
    for e in res.errors:
        _one_line(e.reason, f"the reason for line {e.line}")
    for _, entry in res.entries:
        if not (0 <= entry.score <= 10) or entry.time_utc.tzinfo is None:
            raise ContractViolation(f"an invalid entry was accepted: {entry}")
    if res.entries and res.errors:
        return "partial"
    return "imported" if res.entries else "error"


CHECKS: dict[str, Callable[[bytes], str]] = {
    "fit": check_fit, "fit_fast": check_fit_fast, "fit_fitparse": check_fit_fitparse, "gpx": check_gpx, "tcx": check_tcx, "zip": check_zip, "pain": check_pain}


def check(target: str, data: bytes, timeout_s: float = 10.0) -> str:
    """Run one input through a target under a time limit; returns its outcome.

    Raises :class:`Hang` past the limit, and whatever the reader raised (a crash).
    Uses SIGALRM, so only from the main thread.
    """
    def on_alarm(signum, frame):
        raise Hang(f"{target} input of {len(data)} bytes took more than {timeout_s:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        return CHECKS[target](data)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------
# Engine 1: the fault-class campaign


@dataclass
class Finding:
    target: str
    fault: str
    outcome: str
    detail: str
    path: Path | None


def save_regression(target: str, data: bytes, tag: str = "crash") -> Path:
    import hashlib

    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    path = REGRESSIONS / f"{target}-{tag}-{hashlib.sha1(data).hexdigest()[:12]}"
    path.write_bytes(data)
    return path


def run_classes(target: str, seconds: float, seed: int = 0, timeout_s: float = 10.0,
                max_seed_bytes: int = 64_000, save: bool = True) -> tuple[Counter, list[Finding]]:
    """Cycle through the target's fault classes and seed files for ``seconds``."""
    rng = random.Random(seed)
    pool = seeds(target, max_seed_bytes)
    counts: Counter = Counter()
    findings: list[Finding] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        fault = CLASSES[target][i % len(CLASSES[target])]
        name, data = pool[(i // len(CLASSES[target])) % len(pool)]
        i += 1
        case = mutate(data, rng, fault, target)
        try:
            outcome = check(target, case, timeout_s)
        except Hang as exc:
            outcome, detail = "hang", str(exc)
        except Exception as exc:  # noqa: BLE001 - any escape is a finding
            outcome, detail = "crash", f"{type(exc).__name__}: {exc}"[:300]
        counts[(fault, outcome)] += 1
        if outcome in ("crash", "hang"):
            path = save_regression(target, case, outcome) if save else None
            findings.append(Finding(target, fault, outcome, f"{name}: {detail}", path))
    return counts, findings


def print_table(all_counts: dict[str, Counter]) -> None:
    print("| target | fault class | cases | " + " | ".join(OUTCOMES) + " |")
    print("|---|---|---:|" + "---:|" * len(OUTCOMES))
    for target, counts in all_counts.items():
        for fault in CLASSES[target]:
            row = [counts[(fault, o)] for o in OUTCOMES]
            if sum(row):
                print(f"| {target} | {fault} | {sum(row)} | " + " | ".join(map(str, row)) + " |")


# --------------------------------------------------------------------------
# Engine 2: atheris (coverage-guided)


def run_atheris(target: str, seconds: int, timeout_s: int, rss_mb: int, malloc_mb: int,
                corpus: Path | None) -> int:
    import atheris

    with atheris.instrument_imports(include=["gaitrisk", "fitparse", "gpxpy"]):
        import gaitrisk.ingest.fit.fast  # noqa: F401
        import gaitrisk.ingest.fit.reference  # noqa: F401
        import gaitrisk.ingest.xml.gpx  # noqa: F401
        import gaitrisk.ingest.sources  # noqa: F401
        import gaitrisk.ingest.xml.tcx  # noqa: F401
        import gaitrisk.pain.csvio  # noqa: F401
    fn = CHECKS[target]

    def one_input(data: bytes) -> None:
        fn(data)  # any exception -- a crash or a contract violation -- is a libFuzzer crash

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.35:
            try:
                return mutate(data, rng, None, target)[:max_size]
            except (IndexError, struct.error, ValueError):  # a mutator on bytes it cannot parse
                pass
        return atheris.Mutate(data, max_size)

    seed_dir = Path(corpus) if corpus else Path(os.environ.get("TMPDIR", "/tmp")) / f"gaitrisk-fuzz-{target}"
    seed_dir.mkdir(parents=True, exist_ok=True)
    for name, data in seeds(target):
        (seed_dir / name.replace("/", "__")).write_bytes(data)
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    argv = [sys.argv[0], str(seed_dir), f"-max_total_time={seconds}", f"-timeout={timeout_s}",
            f"-rss_limit_mb={rss_mb}", f"-malloc_limit_mb={malloc_mb}", "-max_len=2000000",
            f"-report_slow_units={timeout_s}",  # slow-but-finished inputs are not findings
            f"-artifact_prefix={REGRESSIONS}/{target}-", "-print_final_stats=1"]
    atheris.Setup(argv, one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()
    return 0


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="Time per target (default 60).")
    ap.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    ap.add_argument("--engine", choices=("atheris", "classes"), default=None,
                    help="atheris when installed, else classes.")
    ap.add_argument("--seed", type=int, default=0, help="Random seed of the classes engine.")
    ap.add_argument("--timeout", type=int, default=10, help="Seconds one input may take (a hang).")
    ap.add_argument("--rss-mb", type=int, default=2048, help="atheris: memory limit of the process.")
    ap.add_argument("--malloc-mb", type=int, default=1024, help="atheris: largest single allocation.")
    ap.add_argument("--corpus", type=Path, default=None, help="atheris: corpus folder (kept between runs).")
    args = ap.parse_args(argv)
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "classes"
            print("atheris is not installed (pip install '.[fuzz]'); using the classes engine", file=sys.stderr)
    targets = ALL_TARGETS[engine] if args.target == "all" else (args.target,)
    print(f"seeds from {seed_root()}", file=sys.stderr)

    if engine == "atheris":
        if len(targets) == 1:
            return run_atheris(targets[0], int(args.seconds), args.timeout, args.rss_mb, args.malloc_mb, args.corpus)
        status = 0
        for t in targets:  # libFuzzer runs one target per process
            cmd = [sys.executable, __file__, "--engine", "atheris", "--target", t, "--seconds", str(args.seconds),
                   "--timeout", str(args.timeout), "--rss-mb", str(args.rss_mb), "--malloc-mb", str(args.malloc_mb)]
            print(f"== {t}", file=sys.stderr, flush=True)
            status |= subprocess.call(cmd)
        return status

    all_counts: dict[str, Counter] = {}
    findings: list[Finding] = []
    for t in targets:
        counts, found = run_classes(t, args.seconds, args.seed, args.timeout)
        all_counts[t] = counts
        findings += found
    print_table(all_counts)
    for f in findings:
        print(f"{f.outcome}: {f.target} / {f.fault}: {f.detail} -> {f.path}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
