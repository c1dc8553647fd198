"""Import: sources -> decode, check, encode (in an executor) -> dedup -> store (single writer, batched).

Workers do all the per-file work that needs no store and return small picklable
results (the activity record and its encoded samples); this process only
deduplicates and writes, one transaction per batch.  A file whose path, size and
mtime match one already fully imported is reported from the store's file index
without being read (the nightly no-op).

Outcomes per file are values, not exceptions: one bad file is reported and the
batch goes on.  Deduplication:

* the same bytes for the same athlete -> nothing new (``duplicate``);
* the same run in another file (another format, another export) -> one
  activity.  Two of one athlete's runs are the same run when they start within
  ``SAME_RUN_START_S`` of each other and their time spans overlap by at least
  ``SAME_RUN_OVERLAP`` of the shorter one -- nobody runs two runs at once.  The
  copy that recorded the most (by its channels, then FIT > TCX > GPX,
  :data:`gaitrisk.schema.FORMAT_RICHNESS`) provides the data, except that a complete
  copy beats a partial one (a damaged file) that covers less of the run
  (:func:`better_copy`); it gains the channels only the other copy recorded where
  their samples align (:mod:`.merge`); every source is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from .. import schema as S
from ..executor import MapExecutor, SerialExecutor
from ..plausible import EARLIEST_START, FUTURE_SLACK_S
from ..records import ActivityRecord, DecodedActivity, DecodeResult
from ..store import SourceRef, Store, codec
from ..store.sqlite import FileIndexEntry, StoreError
from . import merge
from .decoders import DEFAULT, Decoders
from .sources import (
    DiskFile,
    Limits,
    SourceFile,
    SourcePath,
    SourceProblem,
    iter_sources,
    read_plain,
)
from .sports import is_running, normalise_sport, sub_sport_of

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# (record, samples) -> anything picklable; see import_paths.
LegHook = Callable[[ActivityRecord, "pd.DataFrame"], Any]

# Bumped whenever a reader learns to import something it used to skip.
READER_VERSION = "1"
SAME_RUN_START_S = 60.0
SAME_RUN_OVERLAP = 0.8
# Two copies of one run whose durations differ by no more than this cover the same run (formats
# and exports start and end the recording a few samples apart); beyond it, one was cut short.
SAME_COVER_S = 30.0
# Plausibility limits: beyond them the clock or the file is wrong, not the runner.  Such an
# activity fails with a one-line reason instead of entering the load metrics with wrong numbers.
MAX_ACTIVITY_S = 4 * 86400.0  # one recording longer than 4 days (multi-day races stop the watch)
# Writes are grouped: one transaction per batch of up to BATCH_FILES decoded files, fewer when
# their encoded samples reach BATCH_BYTES (memory) or the batch is BATCH_SECONDS old (a slow
# import still commits as it goes).  A batch commits whole or not at all.
BATCH_FILES = 64
BATCH_BYTES = 64 << 20
BATCH_SECONDS = 2.0
# A file modified this recently may change again within its file system's timestamp resolution
# without its mtime changing ("racy" files, as git calls them): it is not entered in the file index.
RACY_S = 2.0
SHIP = ("bytes", "paths")
# The leg hook's results kept for the caller (``ImportReport.leg_results``): about 3 kB each for
# the features' run pass, so a 10-year export's fit in a few tens of MB; beyond this many the
# caller does that work again from the store (memory stays bounded on a clinic's 100,000 files).
LEG_RESULTS_MAX = 5_000


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
    unread: int = 0  # files reported from the file index without reading them (not in the JSON)
    failed: list[dict[str, str]] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)
    # activity id -> what ``leg_hook`` returned for it, for new activities only (their stored
    # samples are exactly the ones the hook saw); at most LEG_RESULTS_MAX (not in the JSON)
    leg_results: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "skipped": self.skipped,
                "partial": self.partial, "failed": list(self.failed)}


@dataclass(frozen=True)
class _Job:
    """One file's work, in plain picklable values so it can run in another process.

    ``data`` is ``None`` when the worker reads ``path`` itself (``ship="paths"``); the worker
    then also computes ``sha256``.
    """

    name: str
    fmt: str
    data: bytes | None
    meta: dict[str, str]
    sha256: str | None
    decoders: Decoders
    athlete: str
    path: str | None = None
    limits: Limits = field(default_factory=Limits)
    leg_hook: LegHook | None = None


@dataclass(frozen=True)
class _Leg:
    """One activity of a file ready to store (record + encoded samples), or why it was refused."""

    fmt: str
    leg_index: int
    record: ActivityRecord | None = None
    samples: codec.Encoded | None = None
    refused: str | None = None
    hooked: Any = None  # what the job's leg_hook returned (None: no hook, or it failed)


@dataclass(frozen=True)
class _Done:
    """A worker's answer for one file: small and picklable (no DataFrame crosses back)."""

    name: str
    sha256: str | None
    size: int
    error: str | None = None
    skipped_reason: str | None = None
    partial: bool = False
    problems: tuple[str, ...] = ()
    legs: tuple[_Leg, ...] = ()
    prechecked: bool = True  # the parent already looked these bytes up in the store


@dataclass(frozen=True)
class _Decoded:
    job: _Job
    result: DecodeResult


def _decode_job(job: _Job) -> _Decoded:
    """Decode one job that carries its bytes: pure, no store access."""
    assert job.data is not None
    return _Decoded(job, job.decoders.decode(job.fmt, job.data, job.name))


def _process_job(job: _Job) -> _Done:
    """Runs in a worker: read (``ship="paths"``), decode, check, summarise and encode; no store access."""
    prechecked = job.sha256 is not None
    if job.data is None:
        read = read_plain(job.path or job.name, job.limits)
        if isinstance(read, SourceProblem):
            return _Done(job.name, None, 0, error=read.reason, prechecked=False)
        job = replace(job, data=read, sha256=hashlib.sha256(read).hexdigest())
    data, sha = job.data, job.sha256
    assert data is not None and sha is not None
    res = _decode_job(job).result
    legs: list[_Leg] = []
    if not res.error:
        for act in res.activities:
            why = _implausible(act)
            if why:
                legs.append(_Leg(act.fmt, act.leg_index, refused=why))
                continue
            rec = _record(job.athlete, act, sha, job.name, res, job.meta.get("activity_name"),
                          job.meta.get("activity_type"))
            legs.append(_Leg(act.fmt, act.leg_index, rec, codec.encoded(act.samples), hooked=_hooked(job, rec, act)))
    return _Done(job.name, sha, len(data), res.error, res.skipped_reason, res.partial, tuple(res.problems),
                 tuple(legs), prechecked)


def _hooked(job: _Job, rec: ActivityRecord, act: DecodedActivity) -> Any:
    """``job.leg_hook`` on the leg while its samples are in memory; ``None`` if it raises (the
    caller then does that work from the store, where the same failure is reported)."""
    if job.leg_hook is None:
        return None
    try:
        return job.leg_hook(rec, act.samples)
    except Exception:  # noqa: BLE001 - the hook's work is redone, and its failure reported, from the store
        log.debug("leg hook failed for %s", rec.id, exc_info=True)
        return None


def activity_id(athlete: str, sha256: str, leg_index: int) -> str:
    """Stable id: the same file imported for the same athlete always gets the same id."""
    return hashlib.sha256(f"{athlete}\0{sha256}\0{leg_index}".encode()).hexdigest()[:16]


@dataclass
class _FileState:
    """What became of the items read from one file on disk, to decide whether to index it."""

    members: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    complete: bool = True

    def note(self, name: str, sha: str | None, outcome: FileOutcome, meta_skip: bool = False) -> None:
        if outcome.status == "failed" or (sha is None and not meta_skip):
            self.complete = False
        else:
            self.members.append((name, sha, outcome.reason if meta_skip else None))


@dataclass(frozen=True)
class _Note:
    """An outcome known before decoding (a problem, same bytes, a Strava type), kept in file order."""

    outcome: FileOutcome
    state: _FileState
    sha: str | None = None
    meta_skip: bool = False
    duplicates: int = 0


@dataclass(frozen=True)
class _Result:
    """A worker's answer, to store."""

    done: _Done
    state: _FileState


@dataclass(frozen=True)
class _Seen:
    """A file on disk whose items are all ahead of it: index it, or replay it when ``disk.known``."""

    disk: DiskFile
    state: _FileState


_Op = _Note | _Result | _Seen


def import_paths(
    paths: Sequence[str],
    store: Store,
    athlete: str,
    *,
    decoders: Decoders = DEFAULT,
    limits: Limits = Limits(),
    executor: MapExecutor | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    ship: str = "bytes",
    use_file_index: bool = True,
    batch_files: int = BATCH_FILES,
    leg_hook: LegHook | None = None,
    leg_results: dict[str, Any] | None = None,
) -> ImportReport:
    """Import every activity file found under ``paths`` for ``athlete``.

    Workers decode, check and encode each file; this process writes to the store in batches
    (one transaction per ``batch_files`` files, committed whole or not at all).
    ``ship="paths"`` sends workers the path of each plain activity file instead of its bytes
    (shared storage on a cluster); archive members and ``.gz`` files always go as bytes.
    ``use_file_index``: files whose path, size and modification time match a fully imported
    file are reported from the store without being read (``ImportReport.unread``).
    ``leg_hook(record, samples)``: run in the worker on every run it decoded, while the samples
    are in memory (a pure, picklable function: the executor may ship it to other processes or
    machines); what it returns for the runs that are stored as new activities is in
    ``ImportReport.leg_results``.  The features use it to make their pass over a run's samples
    in the same task as its decode, instead of reading them back from the store.
    ``leg_results``: an earlier call's ``ImportReport.leg_results`` to go on filling (an import
    in chunks): a run whose samples this call replaces loses its entry there too, and the
    LEG_RESULTS_MAX bound holds over all the calls.
    """
    if ship not in SHIP:
        raise ValueError(f"ship must be one of {', '.join(SHIP)}, not {ship!r}")
    if batch_files < 1:
        raise ValueError(f"batch_files must be at least 1, not {batch_files!r}")
    report = ImportReport() if leg_results is None else ImportReport(leg_results=leg_results)
    executor = executor or SerialExecutor()
    index = store.file_index(athlete) if use_file_index else {}
    by_sha = store.source_index(athlete) if index else {}
    skips = store.skipped_index(athlete, READER_VERSION) if index else {}
    replays: dict[str, list[_Note]] = {}

    def on_disk(disk: DiskFile) -> bool:
        entry = index.get(disk.key)
        if entry is None or (entry.size, entry.mtime_ns) != (disk.size, disk.mtime_ns):
            return False
        notes = _replay(disk, entry, by_sha, skips)
        if notes is None:  # something it pointed to is gone (or a newer reader): read it again
            return False
        replays[disk.key] = notes
        return True

    def record(outcome: FileOutcome) -> None:
        report.outcomes.append(outcome)
        if outcome.status == "failed":
            report.failed.append({"file": outcome.file, "reason": outcome.reason or "unknown error"})
        elif outcome.status == "skipped":
            report.skipped += 1
        if on_file:
            on_file(outcome)

    # Outcomes and index entries wait in ``events`` behind the job issued before them, so that
    # everything is handled in file order however far the executor runs ahead.
    events: deque[tuple[int, _Note | _Seen]] = deque()
    job_state: dict[int, _FileState] = {}
    issued = -1

    def jobs() -> Iterator[_Job]:
        nonlocal issued
        state = _FileState()
        for item in iter_sources(paths, limits, on_disk=on_disk if use_file_index else None,
                                 defer_plain=ship == "paths"):
            if isinstance(item, DiskFile):
                events.append((issued, _Seen(item, state)))
                if not item.known:
                    state = _FileState()
                continue
            if isinstance(item, SourceProblem):
                events.append((issued, _Note(FileOutcome(item.name, "failed", item.reason), state)))
                continue
            strava_type = item.meta.get("activity_type")
            data = item.data if isinstance(item, SourceFile) else None
            sha = hashlib.sha256(data).hexdigest() if data is not None else None
            if sha is not None:
                known = store.known_source(athlete, sha)
                if known:  # same bytes: no need to decode again
                    events.append((issued, _Note(FileOutcome(item.name, "duplicate", "already imported (same file)",
                                                             tuple(known)), state, sha, duplicates=len(known))))
                    continue
                reason = store.skipped_reason(athlete, sha, READER_VERSION)
                if reason:
                    events.append((issued, _Note(FileOutcome(item.name, "skipped", reason), state, sha)))
                    continue
            if strava_type and not is_running(normalise_sport(strava_type)):
                events.append((issued, _Note(FileOutcome(item.name, "skipped", f"not a run (Strava type: {strava_type})"),
                                             state, sha, meta_skip=True)))
                continue
            issued += 1
            job_state[issued] = state
            yield _Job(item.name, item.fmt, data, dict(item.meta), sha, decoders, athlete,
                       item.path if isinstance(item, SourcePath) else None, limits, leg_hook)

    batch: list[_Op] = []
    size = {"files": 0, "bytes": 0, "started": 0.0}

    def flush() -> None:
        if not batch:
            return
        writes = any(isinstance(op, _Result) or (isinstance(op, _Seen) and not op.disk.known) for op in batch)
        outcomes: list[FileOutcome] = []
        with store.transaction() if writes else nullcontext():
            for op in batch:
                outcomes.extend(_handle(store, athlete, op, report, replays))
        for outcome in outcomes:  # after the commit: what callers see is stored
            record(outcome)
        batch.clear()
        size.update(files=0, bytes=0)

    def add(op: _Op) -> None:
        if not batch:
            size["started"] = time.monotonic()
        batch.append(op)
        if isinstance(op, _Result):
            size["files"] += 1
            size["bytes"] += sum(len(leg.samples.blob) for leg in op.done.legs if leg.samples is not None)
            if (size["files"] >= batch_files or size["bytes"] >= BATCH_BYTES
                    or time.monotonic() - size["started"] >= BATCH_SECONDS):
                flush()

    for k, done in enumerate(executor.map(_process_job, jobs())):
        while events and events[0][0] < k:
            add(events.popleft()[1])
        add(_Result(done, job_state.pop(k)))
    while events:
        add(events.popleft()[1])
    flush()
    return report


def _replay(disk: DiskFile, entry: FileIndexEntry, by_sha: dict[str, list[str]],
            skips: dict[str, str]) -> list[_Note] | None:
    """The outcomes of an unchanged, fully imported file, from the store alone; ``None`` if not possible."""
    members = [("", entry.sha256, None)] if entry.members is None else entry.members
    state = _FileState()
    notes = []
    for suffix, sha, reason in members:
        name = disk.name + suffix if disk.archive else disk.item_name
        if reason:
            notes.append(_Note(FileOutcome(name, "skipped", reason), state))
        elif sha in by_sha:
            ids = by_sha[sha]
            notes.append(_Note(FileOutcome(name, "duplicate", "already imported (same file)", tuple(ids)), state,
                               duplicates=len(ids)))
        elif sha in skips:
            notes.append(_Note(FileOutcome(name, "skipped", skips[sha]), state))
        else:
            return None
    return notes


def _handle(store: Store, athlete: str, op: _Op, report: ImportReport,
            replays: dict[str, list[_Note]]) -> list[FileOutcome]:
    """One step of a batch, inside its transaction; the outcomes to report after the commit."""
    if isinstance(op, _Note):
        report.duplicates += op.duplicates
        op.state.note(op.outcome.file, op.sha, op.outcome, op.meta_skip)
        return [op.outcome]
    if isinstance(op, _Result):
        outcome = _store_safely(store, athlete, op.done, report)
        op.state.note(op.done.name, op.done.sha256, outcome)
        return [outcome]
    disk, state = op.disk, op.state
    if disk.known:
        report.unread += 1
        notes = replays.pop(disk.key)
        report.duplicates += sum(n.duplicates for n in notes)
        return [n.outcome for n in notes]
    if state.complete and disk.stat_ns - disk.mtime_ns > RACY_S * 1e9:
        if disk.archive:
            members = tuple((name[len(disk.name):], sha, reason) for name, sha, reason in state.members)
            store.index_file(athlete, FileIndexEntry(disk.key, disk.size, disk.mtime_ns, None, members))
        elif len(state.members) == 1 and state.members[0][2] is None:
            store.index_file(athlete, FileIndexEntry(disk.key, disk.size, disk.mtime_ns, state.members[0][1]))
    return []


# What one activity's record can make the store refuse (a constraint, a value SQLite cannot hold):
# that file fails and the batch goes on.  Errors of the store itself (disk full, I/O, a deleted
# athlete) are no fault of the file: they abort the batch, which rolls back whole.
STORE_REFUSALS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, ValueError, TypeError,
                  OverflowError)


def _store_safely(store: Store, athlete: str, done: _Done, report: ImportReport) -> FileOutcome:
    """:func:`_store_result` for one file, all or nothing: a refused write is the file's one-line failure."""
    try:
        with store.savepoint():
            return _store_result(store, athlete, done, report)
    except STORE_REFUSALS as exc:
        log.debug("storing %s failed", done.name, exc_info=True)
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return FileOutcome(done.name, "failed", f"not stored, the store refused it ({why}); nothing of it kept",
                           problems=done.problems)


def _store_result(store: Store, athlete: str, done: _Done, report: ImportReport) -> FileOutcome:
    problems = done.problems
    if done.error or done.sha256 is None:
        return FileOutcome(done.name, "failed", done.error or "unknown error", problems=problems)
    known = store.known_source(athlete, done.sha256)
    if known:  # the same bytes came twice in one batch (e.g. a file and its .gz copy)
        report.duplicates += len(known)
        return FileOutcome(done.name, "duplicate", "already imported (same file)", tuple(known))
    if not done.prechecked:  # shipped as a path: the parent could not look the bytes up
        reason = store.skipped_reason(athlete, done.sha256, READER_VERSION)
        if reason:
            return FileOutcome(done.name, "skipped", reason)
    if not done.legs:
        reason = done.skipped_reason or "nothing to import"
        store.remember_skipped(athlete, done.sha256, READER_VERSION, done.name, reason)
        return FileOutcome(done.name, "skipped", reason, problems=problems)
    refused = [leg.refused for leg in done.legs if leg.refused]
    legs = [leg for leg in done.legs if not leg.refused]
    if not legs:
        return FileOutcome(done.name, "failed", refused[0], problems=problems)
    problems += tuple(refused)
    ids, new, dups = [], 0, 0
    hooked: dict[str, Any] = {}
    replaced: list[str] = []  # the report changes only once every leg is stored
    changed: list[str] = []  # runs whose stored samples changed (replaced or filled)
    for leg in legs:
        rec, samples = leg.record, leg.samples
        assert rec is not None and samples is not None
        ref = SourceRef(done.sha256, leg.leg_index, done.name, leg.fmt, done.size)
        existing = _same_run(store, athlete, rec)
        if existing is None:
            store.add_activity(rec, samples, ref)
            if leg.hooked is not None:
                hooked[rec.id] = leg.hooked
            ids.append(rec.id)
            new += 1
            continue
        old_id, _ = existing
        old = store.find(old_id)
        kept = _store_copy(store, done.name, rec, samples, ref, old[0]) if old else None
        if kept is None:
            store.add_source(athlete, old_id, ref)
        elif kept != "source":
            changed.append(old_id)
            if kept == "replaced":
                replaced.append(old_id)
        ids.append(old_id)
        dups += 1
    for old_id in changed:
        report.leg_results.pop(old_id, None)  # made from the samples just replaced
    for rec_id, result in hooked.items():
        if len(report.leg_results) < LEG_RESULTS_MAX:
            report.leg_results[rec_id] = result
    report.replaced += len(replaced)
    report.partial += new if done.partial else 0
    report.imported += new
    report.duplicates += dups
    status = "imported" if new else "duplicate"
    reason = None if new else "same run already imported from another file"
    return FileOutcome(done.name, status, reason, tuple(ids), done.partial, problems)


def better_copy(new: ActivityRecord, old: ActivityRecord, new_channels: frozenset[str] = frozenset(),
                old_channels: frozenset[str] = frozenset()) -> bool:
    """Whether ``new``, another copy of the run ``old`` holds, should provide the run's data.

    ``new_channels``/``old_channels``: the channels each copy recorded (:func:`.merge.channels`).
    A partial copy (a damaged file) holds the run up to the damage only: where one is involved,
    the copy that covers clearly more of the run wins whatever it recorded, so a complete file
    upgrades a truncated one and a truncated file never shortens a complete one.  At about the
    same cover the channels decide (:func:`.merge.preference`: a copy that records all the
    other does and more, else the one with more of :data:`gaitrisk.schema.FEATURE_CHANNELS`),
    then the richer format, then the complete copy.
    """
    if (new.partial or old.partial) and abs(new.duration_s - old.duration_s) > SAME_COVER_S:
        return new.duration_s > old.duration_s
    by_channels = merge.preference(new_channels, old_channels)
    if by_channels:
        return by_channels > 0
    richer = S.FORMAT_RICHNESS.get(new.fmt, 0) - S.FORMAT_RICHNESS.get(old.fmt, 0)
    if richer == 0 and (new.partial or old.partial):
        return old.partial and not new.partial
    return richer > 0


# The record's totals that are each made of one channel: recomputed when that channel is
# filled from another copy (the others depend on the kept copy's own time axis only).
_TOTAL_OF = {S.CADENCE: "avg_cadence_spm", S.STANCE_TIME: "avg_stance_time_ms", S.DISTANCE: "distance_m"}


def _store_copy(store: Store, name: str, rec: ActivityRecord, samples: codec.Encoded, ref: SourceRef,
                old: ActivityRecord) -> str:
    """Store ``rec`` (from file ``name``), another copy of the stored run ``old``; ``ref`` is recorded.

    The better copy (:func:`better_copy`) provides the run's data under ``old``'s id and gains
    the channels only the other recorded, where their samples align.  Returns ``"replaced"``
    (the new copy provides the data), ``"filled"`` (the stored copy stays and gained channels)
    or ``"source"`` (only the source was added).
    """
    new_channels = merge.channels(codec.column_names(samples.blob, samples.format))
    try:
        old_channels = merge.channels(store.sample_columns(old.id))
        new_wins = better_copy(rec, old, new_channels, old_channels)
        lacking = (old_channels - new_channels) if new_wins else (new_channels - old_channels)
        old_df = store.samples(old.id) if lacking else None
    except StoreError as exc:  # stored samples that cannot be read are worth nothing against a readable copy
        log.warning("%s: %s; this copy replaces them", name, exc)
        new_wins, old_df = True, None
    kept = _with_id(rec, old.id) if new_wins else old
    filled = None
    if old_df is not None:
        new_df = codec.decode(samples.blob, samples.format)
        filled = merge.fill(new_df, old_df) if new_wins else merge.fill(old_df, new_df)
    if new_wins:
        log.info("%s: this %s copy replaces the %s%s data of %s", name, rec.fmt,
                 "partial " if old.partial else "", old.fmt, old.id)
    if filled is not None and filled.channels:
        source = f"the stored {old.fmt} copy ({', '.join(old.sources)})" if new_wins else name
        note = f"{', '.join(filled.channels)} taken from {source} where its samples align"
        log.info("%s: %s: %s", name, old.id, note)
        totals = _totals_of(filled)
        store.replace_activity_data(replace(kept, problems=kept.problems + (note,), **totals), filled.samples, ref)
        return "replaced" if new_wins else "filled"
    if new_wins:
        store.replace_activity_data(kept, samples, ref)
        return "replaced"
    store.add_source(old.athlete, old.id, ref)
    return "source"


def _totals_of(filled: merge.Filled) -> dict[str, float | None]:
    """The record's totals that the filled channels change, recomputed from the filled samples."""
    from .frame import totals  # numpy/pandas: only where files are decoded

    t = totals(filled.samples)
    return {_TOTAL_OF[c]: t[_TOTAL_OF[c]] for c in filled.channels if c in _TOTAL_OF}


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


def _record(athlete: str, act: DecodedActivity, sha256: str, name: str, res: DecodeResult,
            strava_name: str | None, strava_type: str | None = None) -> ActivityRecord:
    from .frame import totals  # numpy/pandas: only where files are decoded

    t = totals(act.samples)
    # A file's own sub-sport wins; Strava's "Trail Run" says trail where the file says nothing.
    sub_sport = act.sub_sport if act.sub_sport not in (None, "generic") else sub_sport_of(strava_type) or act.sub_sport
    return ActivityRecord(
        id=activity_id(athlete, sha256, act.leg_index), athlete=athlete, fmt=act.fmt, sport=act.sport,
        sub_sport=sub_sport, device=act.device, name=strava_name or act.name, start_time=act.start_time,
        duration_s=t["duration_s"], moving_time_s=t["moving_time_s"], distance_m=t["distance_m"],
        avg_cadence_spm=t["avg_cadence_spm"], avg_stance_time_ms=t["avg_stance_time_ms"], partial=res.partial,
        sources=(name,), laps=act.laps, summary=act.summary, problems=tuple(res.problems))


def _with_id(rec: ActivityRecord, new_id: str) -> ActivityRecord:
    return replace(rec, id=new_id)


def _same_run(store: Store, athlete: str, rec: ActivityRecord) -> tuple[str, str] | None:
    start = rec.start_time.timestamp()
    for other_id, fmt, other_start, other_dur in store.overlapping(athlete, rec.start_time, SAME_RUN_START_S):
        overlap = min(start + rec.duration_s, other_start + other_dur) - max(start, other_start)
        shorter = max(min(rec.duration_s, other_dur), 1.0)
        if overlap / shorter >= SAME_RUN_OVERLAP:
            return other_id, fmt
    return None
