"""Import: sources -> per-file work (in an executor) -> dedup -> store (single writer, batched).

Three jobs, three modules: :mod:`.worker` does all the per-file work that needs no store and
returns small picklable results (the activity record and its encoded samples);
:mod:`.dedup` decides, in this process, what each result adds to the store; this module
walks the sources in file order, hands the executor its jobs and writes their results in
batches, one transaction per batch.  A file whose path, size and mtime match one already
fully imported is reported from the store's file index without being read (the nightly
no-op).

Outcomes per file are values, not exceptions: one bad file is reported and the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..executor import MapExecutor, SerialExecutor
from ..store import Store
from .decoders import DEFAULT, Decoders
from .dedup import (LEG_RESULTS_MAX, RACY_S, READER_VERSION, SAME_COVER_S, SAME_RUN_OVERLAP, SAME_RUN_START_S,
                    STORE_REFUSALS, FileIndex, FileState, Note, better_copy, store_safely)
from .outcomes import FileOutcome, ImportReport
from .sources import DiskFile, Limits, SourceFile, SourcePath, SourceProblem, iter_sources
from .sports import is_running, normalise_sport
from .worker import MAX_ACTIVITY_S, Done, Job, LegHook, activity_id, estimated_work, process_job

__all__ = ["BATCH_BYTES", "BATCH_FILES", "BATCH_SECONDS", "LEG_RESULTS_MAX", "MAX_ACTIVITY_S", "RACY_S",
           "READER_VERSION", "SAME_COVER_S", "SAME_RUN_OVERLAP", "SAME_RUN_START_S", "SHIP", "STORE_REFUSALS",
           "FileOutcome", "ImportReport", "LegHook", "activity_id", "better_copy", "import_paths"]

# Writes are grouped: one transaction per batch of up to BATCH_FILES decoded files, fewer when
# their encoded samples reach BATCH_BYTES (memory) or the batch is BATCH_SECONDS old (a slow
# import still commits as it goes).  A batch commits whole or not at all.
BATCH_FILES = 64
BATCH_BYTES = 64 << 20
BATCH_SECONDS = 2.0
SHIP = ("bytes", "paths")


@dataclass(frozen=True)
class _Result:
    """A worker's answer, to store."""

    done: Done
    state: FileState


@dataclass(frozen=True)
class _Seen:
    """A file on disk whose items are all ahead of it: index it, or replay it when ``disk.known``."""

    disk: DiskFile
    state: FileState


_Op = Note | _Result | _Seen


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
    known = FileIndex(store, athlete, use_file_index)
    order = _FileOrder(paths, store, athlete, limits=limits, decoders=decoders, leg_hook=leg_hook,
                       on_disk=known.on_disk if use_file_index else None, defer_plain=ship == "paths")
    writer = _Writer(store, athlete, report, known, on_file, batch_files)
    for k, done in enumerate((executor or SerialExecutor()).map(process_job, order.jobs())):
        writer.add_all(order.ahead_of(k))
        writer.add(order.result(k, done))
    writer.add_all(order.ahead_of(None))
    writer.flush()
    return report


class _FileOrder:
    """Walks the sources and hands out the jobs to decode; keeps what is known without decoding
    (a problem, the same bytes, a file to index) in file order among the jobs' results.

    Outcomes and index entries wait behind the job issued before them, so that everything is
    handled in file order however far the executor runs ahead.
    """

    def __init__(self, paths: Sequence[str], store: Store, athlete: str, *, limits: Limits, decoders: Decoders,
                 leg_hook: LegHook | None, on_disk: Callable[[DiskFile], bool] | None, defer_plain: bool) -> None:
        self.paths, self.store, self.athlete = paths, store, athlete
        self.limits, self.decoders, self.leg_hook = limits, decoders, leg_hook
        self.on_disk, self.defer_plain = on_disk, defer_plain
        self.events: deque[tuple[int, Note | _Seen]] = deque()
        self.job_state: dict[int, FileState] = {}
        self.issued = -1

    def jobs(self) -> Iterator[Job]:
        state = FileState()
        for item in iter_sources(self.paths, self.limits, on_disk=self.on_disk, defer_plain=self.defer_plain):
            if isinstance(item, DiskFile):
                self.events.append((self.issued, _Seen(item, state)))
                if not item.known:
                    state = FileState()
                continue
            if isinstance(item, SourceProblem):
                self._note(FileOutcome(item.name, "failed", item.reason), state)
                continue
            strava_type = item.meta.get("activity_type")
            data = item.data if isinstance(item, SourceFile) else None
            sha = hashlib.sha256(data).hexdigest() if data is not None else None
            if sha is not None and self._known_bytes(item.name, sha, state):
                continue
            if strava_type and not is_running(normalise_sport(strava_type)):
                self._note(FileOutcome(item.name, "skipped", f"not a run (Strava type: {strava_type})"), state, sha,
                           meta_skip=True)
                continue
            self.issued += 1
            self.job_state[self.issued] = state
            path = item.path if isinstance(item, SourcePath) else None
            yield Job(item.name, item.fmt, data, dict(item.meta), sha, self.decoders, self.athlete, path, self.limits,
                      self.leg_hook, estimated_work(item.fmt, len(data) if data is not None else _size(path)))

    def _known_bytes(self, name: str, sha: str, state: FileState) -> bool:
        """Notes the outcome of bytes the store already holds or skipped: no need to decode them again."""
        known = self.store.known_source(self.athlete, sha)
        if known:
            self._note(FileOutcome(name, "duplicate", "already imported (same file)", tuple(known)), state, sha,
                       duplicates=len(known))
            return True
        reason = self.store.skipped_reason(self.athlete, sha, READER_VERSION)
        if reason:
            self._note(FileOutcome(name, "skipped", reason), state, sha)
            return True
        return False

    def _note(self, outcome: FileOutcome, state: FileState, sha: str | None = None, *, meta_skip: bool = False,
              duplicates: int = 0) -> None:
        self.events.append((self.issued, Note(outcome, state, sha, meta_skip, duplicates)))

    def ahead_of(self, k: int | None) -> Iterator[Note | _Seen]:
        """What waits before job ``k``'s result (``None``: everything left, after the last result)."""
        while self.events and (k is None or self.events[0][0] < k):
            yield self.events.popleft()[1]

    def result(self, k: int, done: Done) -> _Result:
        return _Result(done, self.job_state.pop(k))


def _size(path: str | None) -> int:
    """A deferred file's size, for its work estimate (0 when it cannot be read: the worker says why)."""
    try:
        return os.stat(path).st_size if path else 0
    except OSError:
        return 0


class _Writer:
    """The single writer: ops in batches, one transaction each; outcomes reported after the commit."""

    def __init__(self, store: Store, athlete: str, report: ImportReport, known: FileIndex,
                 on_file: Callable[[FileOutcome], None] | None, batch_files: int) -> None:
        self.store, self.athlete, self.report, self.known = store, athlete, report, known
        self.on_file, self.batch_files = on_file, batch_files
        self.batch: list[_Op] = []
        self.files = self.bytes = 0
        self.started = 0.0

    def add_all(self, ops: Iterator[Note | _Seen]) -> None:
        for op in ops:
            self.add(op)

    def add(self, op: _Op) -> None:
        if not self.batch:
            self.started = time.monotonic()
        self.batch.append(op)
        if isinstance(op, _Result):
            self.files += 1
            self.bytes += sum(len(leg.samples.blob) for leg in op.done.legs if leg.samples is not None)
            if (self.files >= self.batch_files or self.bytes >= BATCH_BYTES
                    or time.monotonic() - self.started >= BATCH_SECONDS):
                self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        writes = any(isinstance(op, _Result) or (isinstance(op, _Seen) and not op.disk.known) for op in self.batch)
        outcomes: list[FileOutcome] = []
        with self.store.transaction() if writes else nullcontext():
            for op in self.batch:
                outcomes.extend(self._handle(op))
        for outcome in outcomes:  # after the commit: what callers see is stored
            self.report.record(outcome)
            if self.on_file:
                self.on_file(outcome)
        self.batch.clear()
        self.files = self.bytes = 0

    def _handle(self, op: _Op) -> list[FileOutcome]:
        """One step of a batch, inside its transaction; the outcomes to report after the commit."""
        report = self.report
        if isinstance(op, Note):
            report.duplicates += op.duplicates
            op.state.note(op.outcome.file, op.sha, op.outcome, op.meta_skip)
            return [op.outcome]
        if isinstance(op, _Result):
            outcome = store_safely(self.store, self.athlete, op.done, report)
            op.state.note(op.done.name, op.done.sha256, outcome)
            return [outcome]
        if op.disk.known:
            report.unread += 1
            notes = self.known.replayed(op.disk)
            report.duplicates += sum(n.duplicates for n in notes)
            return [n.outcome for n in notes]
        self.known.enter(op.disk, op.state)
        return []
