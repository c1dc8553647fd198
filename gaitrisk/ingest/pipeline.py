"""Import: sources -> decode (in an executor) -> dedup -> store (single writer).

Outcomes per file are values, not exceptions: one bad file is reported and the
batch goes on.  Deduplication:

* the same bytes for the same athlete -> nothing new (``duplicate``);
* the same run in another file (another format, another export) -> one
  activity.  Two of one athlete's runs are the same run when they start within
  ``SAME_RUN_START_S`` of each other and their time spans overlap by at least
  ``SAME_RUN_OVERLAP`` of the shorter one -- nobody runs two runs at once.  The
  richest source (FIT > TCX > GPX, :data:`gaitrisk.schema.FORMAT_RICHNESS`)
  provides the data; every source is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from .. import schema as S
from ..executor import MapExecutor, SerialExecutor
from ..records import ActivityRecord, DecodedActivity, DecodeResult
from ..store import SourceRef, Store
from .decoders import DEFAULT, Decoders
from .frame import totals
from .sources import Limits, SourceProblem, iter_sources
from .sports import is_running, normalise_sport

log = logging.getLogger(__name__)

# Bumped whenever a reader learns to import something it used to skip.
READER_VERSION = "1"
SAME_RUN_START_S = 60.0
SAME_RUN_OVERLAP = 0.8
# Plausibility limits: beyond them the clock or the file is wrong, not the runner.  Such an
# activity fails with a one-line reason instead of entering the load metrics with wrong numbers.
MAX_ACTIVITY_S = 4 * 86400.0  # one recording longer than 4 days (multi-day races stop the watch)
EARLIEST_START = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # before GPS watches; FIT's epoch is 1989-12-31
FUTURE_SLACK_S = 2 * 86400.0  # time zones and a slightly fast clock


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file.  ``status``: imported, duplicate, skipped or failed."""

    file: str
    status: str
    reason: str | None = None
    activity_ids: tuple[str, ...] = ()
    partial: bool = False
    problems: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """Counts follow the ``gaitrisk import --json`` contract.

    ``imported`` and ``duplicates`` count activities (a multisport file can hold
    several runs); ``skipped`` and ``failed`` count files; ``partial`` counts the
    imported activities that came from a damaged file.
    """

    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    partial: int = 0
    replaced: int = 0  # duplicates whose richer source replaced the stored data (not in the JSON)
    failed: list[dict[str, str]] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "skipped": self.skipped,
                "partial": self.partial, "failed": list(self.failed)}


@dataclass(frozen=True)
class _Job:
    """One file's work, in plain picklable values so it can run in another process."""

    name: str
    fmt: str
    data: bytes
    meta: dict[str, str]
    sha256: str
    decoders: Decoders


@dataclass(frozen=True)
class _Decoded:
    job: _Job
    result: DecodeResult


def _decode_job(job: _Job) -> _Decoded:
    """Runs in a worker: pure, no store access."""
    return _Decoded(job, job.decoders.decode(job.fmt, job.data, job.name))


def activity_id(athlete: str, sha256: str, leg_index: int) -> str:
    """Stable id: the same file imported for the same athlete always gets the same id."""
    return hashlib.sha256(f"{athlete}\0{sha256}\0{leg_index}".encode()).hexdigest()[:16]


def import_paths(
    paths: Sequence[str],
    store: Store,
    athlete: str,
    *,
    decoders: Decoders = DEFAULT,
    limits: Limits = Limits(),
    executor: MapExecutor | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> ImportReport:
    """Import every activity file found under ``paths`` for ``athlete``."""
    report = ImportReport()
    executor = executor or SerialExecutor()

    def record(outcome: FileOutcome) -> None:
        report.outcomes.append(outcome)
        if outcome.status == "failed":
            report.failed.append({"file": outcome.file, "reason": outcome.reason or "unknown error"})
        elif outcome.status == "skipped":
            report.skipped += 1
        if on_file:
            on_file(outcome)

    def jobs() -> Iterable[_Job]:
        for item in iter_sources(paths, limits):
            if isinstance(item, SourceProblem):
                record(FileOutcome(item.name, "failed", item.reason))
                continue
            sha = hashlib.sha256(item.data).hexdigest()
            known = store.known_source(athlete, sha)
            if known:  # same bytes: no need to decode again
                report.duplicates += len(known)
                record(FileOutcome(item.name, "duplicate", "already imported (same file)", tuple(known)))
                continue
            reason = store.skipped_reason(athlete, sha, READER_VERSION)
            if reason:
                record(FileOutcome(item.name, "skipped", reason))
                continue
            strava_type = item.meta.get("activity_type")
            if strava_type and not is_running(normalise_sport(strava_type)):
                record(FileOutcome(item.name, "skipped", f"not a run (Strava type: {strava_type})"))
                continue
            yield _Job(item.name, item.fmt, item.data, dict(item.meta), sha, decoders)

    for decoded in executor.map(_decode_job, jobs()):
        record(_store_result(store, athlete, decoded, report))
    return report


def _store_result(store: Store, athlete: str, decoded: _Decoded, report: ImportReport) -> FileOutcome:
    src, res = decoded.job, decoded.result
    problems = tuple(res.problems)
    if res.error:
        return FileOutcome(src.name, "failed", res.error, problems=problems)
    known = store.known_source(athlete, src.sha256)
    if known:  # the same bytes came twice in one batch (e.g. a file and its .gz copy)
        report.duplicates += len(known)
        return FileOutcome(src.name, "duplicate", "already imported (same file)", tuple(known))
    if not res.activities:
        reason = res.skipped_reason or "nothing to import"
        store.remember_skipped(athlete, src.sha256, READER_VERSION, src.name, reason)
        return FileOutcome(src.name, "skipped", reason, problems=problems)
    verdicts = [(act, _implausible(act)) for act in res.activities]
    refused = [why for _, why in verdicts if why]
    activities = [act for act, why in verdicts if not why]
    if not activities:
        return FileOutcome(src.name, "failed", refused[0], problems=problems)
    problems += tuple(refused)
    ids, new, dups = [], 0, 0
    for act in activities:
        ref = SourceRef(src.sha256, act.leg_index, src.name, act.fmt, len(src.data))
        rec = _record(athlete, act, decoded, res, src.meta.get("activity_name"))
        existing = _same_run(store, athlete, rec)
        if existing is None:
            store.add_activity(rec, act.samples, ref)
            ids.append(rec.id)
            new += 1
            if res.partial:
                report.partial += 1
            continue
        old_id, old_fmt = existing
        if S.FORMAT_RICHNESS.get(act.fmt, 0) > S.FORMAT_RICHNESS.get(old_fmt, 0):
            store.replace_activity_data(_with_id(rec, old_id), act.samples, ref)
            report.replaced += 1
            log.info("%s: richer %s source replaces %s data of %s", src.name, act.fmt, old_fmt, old_id)
        else:
            store.add_source(athlete, old_id, ref)
        ids.append(old_id)
        dups += 1
    report.imported += new
    report.duplicates += dups
    status = "imported" if new else "duplicate"
    reason = None if new else "same run already imported from another file"
    return FileOutcome(src.name, status, reason, tuple(ids), res.partial, problems)


def _implausible(act: DecodedActivity) -> str | None:
    """A one-line reason when an activity's times cannot be true, else ``None``."""
    ts = act.samples[S.TIMESTAMP]
    if ts.empty:
        return None
    first, last = ts.iloc[0], ts.iloc[-1]  # pandas Timestamps, UTC
    span = (last - first).total_seconds()
    if first < EARLIEST_START:
        return (f"starts {first:%Y-%m-%d %H:%M} UTC, before {EARLIEST_START:%Y} (the watch's clock was "
                f"not set?); not imported")
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=FUTURE_SLACK_S)
    if last > future:
        which, when = ("starts", first) if first > future else ("ends", last)
        return f"{which} {when:%Y-%m-%d %H:%M} UTC, in the future (the watch's clock is wrong?); not imported"
    if span > MAX_ACTIVITY_S:
        return (f"one recording spans {span / 86400:.1f} days ({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC), "
                f"over the {MAX_ACTIVITY_S / 86400:g}-day limit for an activity (a clock error?); not imported")
    return None


def _record(athlete: str, act: DecodedActivity, decoded: _Decoded, res: DecodeResult,
            strava_name: str | None) -> ActivityRecord:
    t = totals(act.samples)
    return ActivityRecord(
        id=activity_id(athlete, decoded.job.sha256, act.leg_index), athlete=athlete, fmt=act.fmt, sport=act.sport,
        sub_sport=act.sub_sport, device=act.device, name=strava_name or act.name, start_time=act.start_time,
        duration_s=t["duration_s"], moving_time_s=t["moving_time_s"], distance_m=t["distance_m"],
        avg_cadence_spm=t["avg_cadence_spm"], avg_stance_time_ms=t["avg_stance_time_ms"], partial=res.partial,
        sources=(decoded.job.name,), laps=act.laps, summary=act.summary, problems=tuple(res.problems))


def _with_id(rec: ActivityRecord, new_id: str) -> ActivityRecord:
    from dataclasses import replace

    return replace(rec, id=new_id)


def _same_run(store: Store, athlete: str, rec: ActivityRecord) -> tuple[str, str] | None:
    start = rec.start_time.timestamp()
    for other_id, fmt, other_start, other_dur in store.overlapping(athlete, rec.start_time, SAME_RUN_START_S):
        overlap = min(start + rec.duration_s, other_start + other_dur) - max(start, other_start)
        shorter = max(min(rec.duration_s, other_dur), 1.0)
        if overlap / shorter >= SAME_RUN_OVERLAP:
            return other_id, fmt
    return None
