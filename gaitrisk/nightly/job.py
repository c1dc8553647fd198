"""The nightly run: inbox -> import -> features -> model (when new onsets) -> flags and reports.

:func:`run_nightly` is the library entry point behind ``gaitrisk nightly``.  Each step
can be interrupted at any point (a crash, SIGKILL, a full disk) and the next run
completes the work exactly once:

* a file leaves the inbox only after its import committed (one transaction per
  activity, one per pain file); a file imported but not yet moved is a duplicate
  next time, and is moved then;
* features are brought up to date for every athlete on every run (only stale runs
  are computed, so a run killed between import and features is caught up);
* reports and flags are redone when an athlete's data fingerprint differs from the
  one recorded after the last completed analysis (``<database>.nightly.json``);
* the model is retrained only when some athlete has more pain onsets than the model
  was trained on (its card records them);
* a new alert (a high or see_a_clinician flag) stays pending in the state until it was
  delivered (the ``deliver`` callback returned): a run killed before that delivers it
  the next time.

Only this process writes (the store, the state file, the report files); the per-athlete
analysis runs through the executor on a snapshot of the athlete's rows shipped in its task
(:mod:`.analysis`), so workers need no access to this machine's disk.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from ..executor import MapExecutor, SerialExecutor
from ..ingest.sources import is_activity_name
from . import inbox as ib
from .analysis import (
    REPORT_FORMATS,
    AthleteResult,
    AthleteTask,
    ModelFiles,
    ReportRenderer,
    analyse_athlete,
)
from .lock import nightly_lock
from .retrain import digest, maybe_train, model_sha
from .state import (
    NightlyState,
    mark_delivered,
    pending_alerts,
    remember_files,
    remember_inbox_folders,
    remove_stale_report_temps,
    remove_stale_temps,
    state_path,
)
from .summary import DEFAULT_MIN_AGE_S, AthleteSummary, NightlySummary

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)

IMPORT_CHUNK = 16  # files per import batch: parallel decoding inside, moves after each batch


class ProgressSink(Protocol):
    """Where long steps report progress (the CLI draws bars; the library default draws nothing)."""

    def step(self, label: str, total: int) -> AbstractContextManager[Callable[[str], None]]: ...


class NoProgress:
    @contextmanager
    def step(self, label: str, total: int) -> Iterator[Callable[[str], None]]:
        yield lambda item="": None


def run_nightly(db_path: str | os.PathLike, inbox: str | os.PathLike, *, archive: str | os.PathLike | None = None,
                quarantine: str | os.PathLike | None = None, report_dir: str | os.PathLike | None = None,
                default_athlete: str = "me", flat: bool = False, zone: ZoneInfo | None = None,
                executor: MapExecutor | None = None, report_renderer: ReportRenderer | None = None,
                model_kind: str = "prior", min_age_s: float = DEFAULT_MIN_AGE_S, wait_s: float = 0.0,
                progress: ProgressSink | None = None,
                deliver: Callable[[NightlySummary], None] | None = None) -> NightlySummary:
    """One nightly run over ``inbox`` into the store at ``db_path`` (see the module docstring).

    ``archive`` defaults to ``<inbox>/../archive``, ``quarantine`` to a ``quarantine`` folder
    beside the archive.  ``report_renderer`` (default :func:`.analysis.render_reports`) returns
    each report as (file name, text); it must be picklable when ``executor`` runs in other
    processes.  ``deliver`` is called with the summary, still holding the lock, and its new
    alerts count as delivered only once it returns (without it, once this function returns).
    Raises :class:`~gaitrisk.nightly.lock.LockBusy` when another run holds the lock after ``wait_s``
    seconds, ``FileNotFoundError`` when the inbox does not exist.
    """
    from ..times import resolve_zone
    from ..model.persist import default_model_path
    from ..store import Store, StoreError

    inbox = Path(inbox).expanduser()
    if not inbox.is_dir():
        raise FileNotFoundError(f"{inbox}: no such inbox folder")
    archive = Path(archive).expanduser() if archive else inbox.resolve().parent / "archive"
    quarantine = Path(quarantine).expanduser() if quarantine else archive.parent / "quarantine"
    report = Path(report_dir).expanduser() if report_dir else None
    zone = zone or resolve_zone(None)
    progress = progress or NoProgress()
    executor = executor or SerialExecutor()
    db_path = Path(db_path)
    summary = NightlySummary(min_age_s=min_age_s)
    with nightly_lock(db_path, wait_s), Store(db_path) as store:
        state_file = state_path(db_path)
        remove_stale_temps(state_file)  # a run killed while saving the state left one behind
        if report is not None and report.is_dir():
            remove_stale_report_temps(report, REPORT_FORMATS)
        night = _Night(store, NightlyState.load(state_file), state_file, zone, executor, progress)
        found = ib.scan_inbox(inbox, default_athlete, flat=flat,
                              exclude=[p for p in (archive, quarantine, report) if p], min_age_s=min_age_s)
        summary.young = found.young
        for e in found.left:
            night.athlete(e.athlete).left_in_inbox.append({"file": str(e.rel), "reason": e.reason})
        passes = _import_inbox(night, found.files, inbox, archive, quarantine, flat)

        names = store.athletes()
        with progress.step("Features", len(names)) as advance:
            for name in names:
                try:
                    _update_features(store, name, night.athlete(name), executor, passes.pop(name, None))
                except (sqlite3.Error, StoreError) as exc:  # a full disk, a read-only store: the others go on
                    night.athlete(name).errors.append(f"features not stored ({exc})")
                advance(name)

        data_fp = {name: _fingerprint(store, name, zone) for name in names}
        model_path = default_model_path(db_path)
        maybe_train(store, zone, model_path, data_fp, night.state, summary, model_kind)
        night.state.save(state_file)
        _analyse(night, names, data_fp, model_path, report, report_renderer, summary)
        for name, alerts in pending_alerts(night.state).items():
            night.athlete(name).new_alerts = alerts
        for name in names:  # the risk of an athlete not analysed tonight is the one of their last analysis
            if not night.athlete(name).analysed:
                night.athlete(name).risk = night.state.athletes.get(name, {}).get("risk")
        summary.athletes = [night.per[n] for n in sorted(night.per)]
        if deliver is not None:
            deliver(summary)
        if summary.new_alerts:
            mark_delivered(night.state)
            night.state.save(state_file)
    for a in summary.athletes:
        log.info("%s", a.line())
    return summary


@dataclass
class _Night:
    """What the steps of one run share: the store, the state and its file, the athletes' summaries."""

    store: Store
    state: NightlyState
    state_file: Path
    zone: ZoneInfo
    executor: MapExecutor
    progress: ProgressSink
    per: dict[str, AthleteSummary] = field(default_factory=dict)

    def athlete(self, name: str) -> AthleteSummary:
        return self.per.setdefault(name, AthleteSummary(name))

    def checkpoint(self, out: AthleteSummary) -> None:
        # Where the files went is saved at once: delete --athlete must find every one of them.
        if out.moved:
            remember_files(self.state, out.athlete, out.moved)
            out.moved.clear()
            self.state.save(self.state_file)


def _import_inbox(night: _Night, files: Sequence[ib.InboxFile], inbox: Path, archive: Path, quarantine: Path,
                  flat: bool) -> dict[str, dict[str, Any]]:
    """Import every athlete's files and move them out of the inbox; athlete -> the new runs' passes
    made by the import."""
    passes: dict[str, dict[str, Any]] = {}
    with night.progress.step("Importing", len(files)) as advance:
        for name in sorted({f.athlete for f in files}):
            mine = [f for f in files if f.athlete == name]
            if not flat:  # <inbox>/<athlete>/: a folder named after them, for delete --athlete
                remember_inbox_folders(night.state, name, {os.path.abspath(inbox / f.rel.parts[0])
                                                           for f in mine if len(f.rel.parts) > 1})
            passes[name] = _import_activities(night.store, [f for f in mine if f.kind == ib.ACTIVITY],
                                              night.athlete(name), archive, quarantine, night.executor, advance,
                                              night.checkpoint)
            _import_pain(night.store, [f for f in mine if f.kind == ib.PAIN], night.athlete(name), night.zone,
                         archive, quarantine, advance)
            night.checkpoint(night.athlete(name))
    ib.prune_empty(inbox, [f.path.parent for f in files])
    return passes


def _analyse(night: _Night, names: list[str], data_fp: dict[str, str], model_path: Path, report: Path | None,
             report_renderer: ReportRenderer | None, summary: NightlySummary) -> None:
    """Flags, risk and reports of every athlete whose data, model or report folder changed since
    their last completed analysis."""
    model_sha_now = model_sha(model_path)
    todo, fps = [], {}
    for name in names:
        fps[name] = digest([data_fp[name], model_sha_now, str(report) if report else None])
        seen = night.state.athletes.get(name, {})
        if seen.get("fingerprint") == fps[name] and all(Path(p).exists() for p in seen.get("reports", [])):
            continue
        todo.append(name)
    try:
        model = ModelFiles.read(model_path)
    except OSError as exc:  # a model that exists but cannot be read: no reports without it tonight
        summary.errors.append(f"analysis not started: cannot read the model ({exc.strerror or exc})")
        model, todo = None, []
    generated_at = dt.datetime.now(dt.UTC)

    def tasks() -> Iterator[AthleteTask]:
        # Lazily: the executors keep a few tasks in flight, so a few snapshots are in memory at a time.
        for name in todo:
            try:
                task = AthleteTask.build(night.store, name, str(night.zone), model, REPORT_FORMATS if report else (),
                                         generated_at, report_renderer)
            except Exception as exc:  # one athlete's snapshot failing must not stop the others
                log.debug("snapshot failed", exc_info=True)
                night.athlete(name).errors.append(f"analysis not started: {type(exc).__name__}: {exc}")
                continue
            yield task

    with night.progress.step("Reports" if report else "Flags", len(todo)) as advance:
        try:
            for result in night.executor.map(analyse_athlete, tasks()):
                paths, error = _write_reports(result, report)
                _record_analysis(result, paths, error, night.athlete(result.athlete), night.state,
                                 fps[result.athlete])
                night.state.save(night.state_file)  # each athlete's alerts are remembered as soon as they are known
                advance(result.athlete)
        except Exception as exc:
            log.debug("analysis failed", exc_info=True)
            summary.errors.append(f"analysis stopped: {type(exc).__name__}: {exc}")


# -- import ------------------------------------------------------------------------------
def _import_activities(store: Store, files: Sequence[ib.InboxFile], out: AthleteSummary, archive: Path,
                       quarantine: Path, executor: MapExecutor, advance: Callable[[str], None],
                       checkpoint: Callable[[AthleteSummary], None] = lambda out: None) -> dict[str, Any]:
    """Imports ``files`` in chunks; returns the new runs' passes made during the import (see
    :mod:`gaitrisk.features.handoff`), for the features step."""
    from ..workflow import import_runs

    passes: dict[str, Any] = {}
    for start in range(0, len(files), IMPORT_CHUNK):
        chunk = files[start:start + IMPORT_CHUNK]
        try:
            # One dict across the chunks: a richer file in a later chunk drops the pass of the run it replaces.
            report = import_runs(store, [str(f.path) for f in chunk], out.athlete, executor=executor, passes=passes)
        except Exception as exc:
            log.debug("import failed", exc_info=True)
            out.errors.append(f"import of {len(chunk)} file(s) failed, left in the inbox: {type(exc).__name__}: {exc}")
            for f in chunk:
                advance(str(f.rel))
            continue
        out.imported += report.imported
        out.duplicates += report.duplicates
        out.skipped += report.skipped
        out.partial += report.partial
        outcomes = _by_file(chunk, report.outcomes)
        for f in chunk:
            mine = outcomes[f.path]
            failed = [o for o in mine if o.status == "failed"]
            done = [o for o in mine if o.status != "failed"]
            if done:
                out.member_failures += [{"file": o.file, "reason": o.reason or "unknown error"} for o in failed]
                _move(f, archive, None, out)
            else:
                reason = (failed[0].reason or "unknown error") if failed else \
                    "no activity file (FIT/GPX/TCX) inside"
                if len(failed) > 1:
                    reason += f" (and {len(failed) - 1} more problem(s))"
                if not is_activity_name(f.path.name):
                    ext = f.path.suffix.lower()
                    out.ignored[ext] = out.ignored.get(ext, 0) + 1
                _move(f, quarantine, reason, out)
            advance(str(f.rel))
        checkpoint(out)
    return passes


def _by_file(files: Sequence[ib.InboxFile], outcomes) -> dict[Path, list]:
    """Outcome names are the path (``.gz`` stripped) or ``path!member`` for archive members."""
    keys = {}
    for f in files:
        name = str(f.path)
        keys[name] = f.path
        if name.lower().endswith(".gz"):
            keys[name[:-3]] = f.path
    found: dict[Path, list] = {f.path: [] for f in files}
    for o in outcomes:
        path = keys.get(o.file)
        if path is None:
            path = next((f.path for f in files if o.file.startswith(str(f.path) + "!")), None)
        if path is None:
            log.warning("import outcome for an unknown file %s", o.file)
            continue
        found[path].append(o)
    return found


def _import_pain(store: Store, files: Sequence[ib.InboxFile], out: AthleteSummary, zone: ZoneInfo, archive: Path,
                 quarantine: Path, advance: Callable[[str], None]) -> None:
    from ..pain.csvio import read_pain_file
    from ..store import StoreError

    for f in files:
        try:
            parsed = read_pain_file(f.path, out.athlete, zone)
        except OSError as exc:
            out.errors.append(f"{f.rel}: cannot read ({exc.strerror or exc}); left in the inbox")
            continue
        if parsed.fatal or not parsed.entries:
            reason = parsed.fatal or f"no valid row (line {parsed.errors[0].line}: {parsed.errors[0].reason})"
            _move(f, quarantine, reason, out)
        else:
            try:
                ids = store.add_pain_entries([e for _, e in parsed.entries])
            except (sqlite3.Error, StoreError) as exc:  # a full disk, a read-only store: the others go on
                out.errors.append(f"{f.rel}: not stored ({exc}); left in the inbox")
                advance(str(f.rel))
                continue
            added = sum(1 for i in ids if i is not None)
            out.pain_added += added
            out.pain_duplicates += len(ids) - added
            out.pain_rejected += len(parsed.errors)
            for e in parsed.errors:
                out.member_failures.append({"file": f"{f.rel}, line {e.line}", "reason": e.reason})
            _move(f, archive, None, out)
        advance(str(f.rel))


def _move(f: ib.InboxFile, root: Path, reason: str | None, out: AthleteSummary) -> None:
    try:
        where = ib.move_unique(f.path, root, f.rel, reason=reason)
    except OSError as exc:
        why = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        then = "it is imported and will be moved by the next run" if reason is None else \
            "it stays in the inbox and the next run tries again"
        out.errors.append(f"{f.rel}: could not be moved to {root} ({why}); {then}")
        return
    out.moved.append((os.path.abspath(root), str(where.relative_to(root))))
    if reason is None:
        out.archived += 1
    else:
        out.moved.append((os.path.abspath(root), str(where.relative_to(root)) + ib.REASON_SUFFIX))
        out.quarantined.append({"file": str(f.rel), "reason": reason, "moved_to": str(where)})
        log.info("%s quarantined: %s", f.rel, reason)


# -- features, model, analysis -----------------------------------------------------------
def _update_features(store: Store, name: str, out: AthleteSummary, executor: MapExecutor,
                     passes: dict[str, Any] | None = None) -> None:
    from ..workflow import update_features

    feats = update_features(store, name, passes=passes, executor=executor)
    out.features_computed += feats.computed
    for f in feats.failed:
        log.warning("%s: features not computed for %s: %s", name, f.get("activity_id", "?"), f.get("reason", ""))


def _fingerprint(store: Store, name: str, zone: ZoneInfo) -> str:
    """Changes whenever anything a report or a flag of ``name`` is made from changes."""
    return digest([str(zone), [repr(r) for r in store.activities(name)], [repr(e) for e in store.pain_entries(name)],
                    [repr(g) for g in store.gaps(name)], store.profile(name),
                    sorted(store.feature_versions(name).items()),
                    sorted((k, repr(v)) for k, v in store.reviews(name).items())])


def _write_reports(result: AthleteResult, report: Path | None) -> tuple[list[str], str | None]:
    """Write the reports the worker rendered into ``report``; (paths written, error or ``None``)."""
    from ..report import write_private

    if report is None or not result.reports:
        return [], result.error
    paths: list[str] = []
    try:
        ib.private_dirs(report)
        for r in result.reports:
            if Path(r.name).name != r.name or r.name.startswith("."):  # a worker names a file, never a place
                raise ValueError(f"refused report file name {r.name!r}")
            paths.append(str(write_private(report / r.name, r.text)))  # atomic, 0600
    except (OSError, ValueError) as exc:
        log.debug("report not written", exc_info=True)
        return paths, f"report not written: {type(exc).__name__}: {exc}"
    return paths, result.error


def _record_analysis(result: AthleteResult, reports: list[str], error: str | None, out: AthleteSummary,
                     state: NightlyState, fingerprint: str) -> None:
    seen = state.athletes.get(result.athlete, {})
    before = {tuple(k) for k in seen.get("flags", [])}
    out.analysed = True
    out.note = result.note
    out.risk = result.risk.as_json() if result.risk else None
    out.risk_text = result.risk.text if result.risk else ""
    out.reports = list(reports)
    counts: dict[str, int] = {}
    pending = {tuple(k) for k in seen.get("pending_alerts", [])}
    for f in result.flags:
        counts[f.severity] = counts.get(f.severity, 0) + 1
        if f.alerting and tuple(f.key()) not in before:
            pending.add(tuple(f.key()))
    out.flags = counts
    if error:
        out.errors.append(error)
    entry = {"flags": sorted({tuple(f.key()) for f in result.flags} | (before if error and not result.flags
                                                                        else set()))}
    # A failed report is retried next run (no fingerprint), but the flags it saw are remembered.
    # "written": every report file ever written for them (a report folder may change), for delete --athlete.
    entry.update({"fingerprint": None if error else fingerprint, "reports": list(reports),
                  "written": sorted(set(seen.get("written", [])) | {os.path.abspath(p) for p in reports}),
                  "pending_alerts": sorted(pending), "risk": out.risk})
    state.athletes[result.athlete] = {**seen, **entry}
