"""The single writer's deduplication: what a decoded file adds to the store, if anything.

Runs in the importing process only, inside the batch's transaction.  Outcomes are values,
not exceptions: a file the store refuses is that file's one-line failure.

* The same bytes for the same athlete -> nothing new (``duplicate``).
* An unchanged file (same path, size and mtime as one fully imported) -> its outcomes from
  the store's file index, without reading it (:class:`FileIndex`: the nightly no-op).
* The same run in another file (another format, another export) -> one activity.  Two of
  one athlete's runs are the same run when they start within ``SAME_RUN_START_S`` of each
  other and their time spans overlap by at least ``SAME_RUN_OVERLAP`` of the shorter one --
  nobody runs two runs at once.  The copy that recorded the most (by its channels, then
  FIT > TCX > GPX, :data:`gaitrisk.schema.FORMAT_RICHNESS`) provides the data, except that a
  complete copy beats a partial one (a damaged file) that covers less of the run
  (:func:`better_copy`); it gains the channels only the other copy recorded where their
  samples align (:mod:`.merge`); every source is recorded.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

from .. import schema as S
from ..records import ActivityRecord
from ..store import SourceRef, Store, codec
from ..store.sqlite import FileIndexEntry, StoreError
from . import merge
from .outcomes import FileOutcome, ImportReport
from .sources import DiskFile
from .worker import Done

log = logging.getLogger(__name__)

# Bumped whenever a reader learns to import something it used to skip.
READER_VERSION = "1"
SAME_RUN_START_S = 60.0
SAME_RUN_OVERLAP = 0.8
# Two copies of one run whose durations differ by no more than this cover the same run (formats
# and exports start and end the recording a few samples apart); beyond it, one was cut short.
SAME_COVER_S = 30.0
# A file modified this recently may change again within its file system's timestamp resolution
# without its mtime changing ("racy" files, as git calls them): it is not entered in the file index.
RACY_S = 2.0
# The leg hook's results kept for the caller (``ImportReport.leg_results``): about 3 kB each for
# the features' run pass, so a 10-year export's fit in a few tens of MB; beyond this many the
# caller does that work again from the store (memory stays bounded on a clinic's 100,000 files).
LEG_RESULTS_MAX = 5_000
# What one activity's record can make the store refuse (a constraint, a value SQLite cannot hold):
# that file fails and the batch goes on.  Errors of the store itself (disk full, I/O, a deleted
# athlete) are no fault of the file: they abort the batch, which rolls back whole.
STORE_REFUSALS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, ValueError, TypeError,
                  OverflowError)


@dataclass
class FileState:
    """What became of the items read from one file on disk, to decide whether to index it."""

    members: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    complete: bool = True

    def note(self, name: str, sha: str | None, outcome: FileOutcome, meta_skip: bool = False) -> None:
        if outcome.status == "failed" or (sha is None and not meta_skip):
            self.complete = False
        else:
            self.members.append((name, sha, outcome.reason if meta_skip else None))


@dataclass(frozen=True)
class Note:
    """An outcome known before decoding (a problem, same bytes, a Strava type), kept in file order."""

    outcome: FileOutcome
    state: FileState
    sha: str | None = None
    meta_skip: bool = False
    duplicates: int = 0


class FileIndex:
    """The store's index of fully imported files, for one import: which files on disk need
    not be read again, their outcomes replayed from the store, and which files to index."""

    def __init__(self, store: Store, athlete: str, use: bool = True) -> None:
        self.store, self.athlete = store, athlete
        self.index = store.file_index(athlete) if use else {}
        self.by_sha = store.source_index(athlete) if self.index else {}
        self.skips = store.skipped_index(athlete, READER_VERSION) if self.index else {}
        self.replays: dict[str, list[Note]] = {}

    def on_disk(self, disk: DiskFile) -> bool:
        """Whether ``disk`` is unchanged since it was fully imported (then it is not read)."""
        entry = self.index.get(disk.key)
        if entry is None or (entry.size, entry.mtime_ns) != (disk.size, disk.mtime_ns):
            return False
        notes = self._replay(disk, entry)
        if notes is None:  # something it pointed to is gone (or a newer reader): read it again
            return False
        self.replays[disk.key] = notes
        return True

    def _replay(self, disk: DiskFile, entry: FileIndexEntry) -> list[Note] | None:
        """The outcomes of an unchanged, fully imported file, from the store alone; ``None`` if not possible."""
        members = [("", entry.sha256, None)] if entry.members is None else entry.members
        state = FileState()
        notes = []
        for suffix, sha, reason in members:
            name = disk.name + suffix if disk.archive else disk.item_name
            if reason:
                notes.append(Note(FileOutcome(name, "skipped", reason), state))
            elif sha in self.by_sha:
                ids = self.by_sha[sha]
                notes.append(Note(FileOutcome(name, "duplicate", "already imported (same file)", tuple(ids)), state,
                                  duplicates=len(ids)))
            elif sha in self.skips:
                notes.append(Note(FileOutcome(name, "skipped", self.skips[sha]), state))
            else:
                return None
        return notes

    def replayed(self, disk: DiskFile) -> list[Note]:
        """The outcomes :meth:`on_disk` found for ``disk`` (once)."""
        return self.replays.pop(disk.key)

    def enter(self, disk: DiskFile, state: FileState) -> None:
        """Index ``disk`` when every item read from it is stored (and its mtime is not racy)."""
        if state.complete and disk.stat_ns - disk.mtime_ns > RACY_S * 1e9:
            if disk.archive:
                members = tuple((name[len(disk.name):], sha, reason) for name, sha, reason in state.members)
                self.store.index_file(self.athlete, FileIndexEntry(disk.key, disk.size, disk.mtime_ns, None, members))
            elif len(state.members) == 1 and state.members[0][2] is None:
                self.store.index_file(self.athlete,
                                      FileIndexEntry(disk.key, disk.size, disk.mtime_ns, state.members[0][1]))


def store_safely(store: Store, athlete: str, done: Done, report: ImportReport) -> FileOutcome:
    """:func:`_store_result` for one file, all or nothing: a refused write is the file's one-line failure."""
    try:
        with store.savepoint():
            return _store_result(store, athlete, done, report)
    except STORE_REFUSALS as exc:
        log.debug("storing %s failed", done.name, exc_info=True)
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return FileOutcome(done.name, "failed", f"not stored, the store refused it ({why}); nothing of it kept",
                           problems=done.problems)


def _store_result(store: Store, athlete: str, done: Done, report: ImportReport) -> FileOutcome:
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
