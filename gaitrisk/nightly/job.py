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
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ..executor import MapExecutor, SerialExecutor
from ..ingest.sources import describe_ignored, is_activity_name
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

log = logging.getLogger(__name__)

IMPORT_CHUNK = 16  # files per import batch: parallel decoding inside, moves after each batch
DEFAULT_MIN_AGE_S = 60.0


class ProgressSink(Protocol):
    """Where long steps report progress (the CLI draws bars; the library default draws nothing)."""

    def step(self, label: str, total: int) -> AbstractContextManager[Callable[[str], None]]: ...


class NoProgress:
    @contextmanager
    def step(self, label: str, total: int) -> Iterator[Callable[[str], None]]:
        yield lambda item="": None


@dataclass
class AthleteSummary:
    """What one nightly run did for one athlete (counts follow ``gaitrisk import --json``)."""

    athlete: str
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    partial: int = 0
    archived: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}
    member_failures: list[dict[str, str]] = field(default_factory=list)  # inside archived zips
    pain_added: int = 0
    pain_duplicates: int = 0
    pain_rejected: int = 0
    features_computed: int = 0
    analysed: bool = False
    flags: dict[str, int] = field(default_factory=dict)  # severity -> count
    risk: dict | None = None  # DayRisk.as_json() of the last analysis (this run's or an earlier one's)
    risk_text: str = ""
    new_alerts: list[dict[str, str]] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    note: str = ""
    errors: list[str] = field(default_factory=list)
    left_in_inbox: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}: links and the like
    ignored: dict[str, int] = field(default_factory=dict)  # extension -> quarantined files of no activity kind
    # Where this run put the athlete's files: (archive or quarantine root, path below it).
    moved: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.archived or self.quarantined or self.pain_added
                    or self.features_computed or self.analysed or self.errors or self.new_alerts)

    def line(self) -> str:
        """The one summary line of this athlete."""
        left = f"{len(self.left_in_inbox)} entr{'y' if len(self.left_in_inbox) == 1 else 'ies'} left in the " \
            "inbox (links or special files, not followed)" if self.left_in_inbox else ""
        if not self.changed:
            return f"{self.athlete}: nothing new" + (f"; {left}" if left else "")
        parts = []
        files = self.archived + len(self.quarantined)
        if self.ignored:
            parts.append(f"{describe_ignored(self.ignored)}, moved to the quarantine")
        if files:
            imp = f"{self.imported} run(s) imported" + (f" ({self.partial} partial)" if self.partial else "")
            parts.append(f"{files} file(s): {imp}, {self.duplicates} duplicate, {self.skipped} skipped, "
                         f"{self.pain_added} pain entr{'y' if self.pain_added == 1 else 'ies'} added; "
                         f"{self.archived} archived, {len(self.quarantined)} quarantined")
        if self.features_computed:
            parts.append(f"features for {self.features_computed} run(s)")
        new = f"{len(self.new_alerts)} new alert(s): " + ", ".join(
            f"{a['code']} {a['severity']} {a['date']}" for a in self.new_alerts) if self.new_alerts else ""
        if self.analysed:
            counts = ", ".join(f"{n} {sev}" for sev, n in sorted(self.flags.items())) or "none"
            parts.append(f"flags: {counts}" + (f" ({new})" if new else ""))
            if self.risk_text:
                parts.append(self.risk_text)
            if self.reports:
                parts.append("report: " + ", ".join(Path(p).name for p in self.reports))
        elif new:  # found by a run that ended before it could deliver them
            parts.append(new)
        if left:
            parts.append(left)
        if self.note:
            parts.append(self.note)
        parts += [f"ERROR {e}" for e in self.errors]
        return f"{self.athlete}: " + "; ".join(parts)

    def as_json(self) -> dict:
        return {"athlete": self.athlete, "changed": self.changed, "imported": self.imported,
                "duplicates": self.duplicates, "skipped": self.skipped, "partial": self.partial,
                "archived": self.archived, "quarantined": self.quarantined, "member_failures": self.member_failures,
                "pain": {"added": self.pain_added, "duplicates": self.pain_duplicates,
                         "rejected": self.pain_rejected},
                "features_computed": self.features_computed, "analysed": self.analysed, "flags": self.flags,
                "risk": self.risk,
                "new_alerts": self.new_alerts, "reports": self.reports, "note": self.note or None,
                "errors": self.errors, "left_in_inbox": self.left_in_inbox, "ignored": self.ignored}


@dataclass
class NightlySummary:
    athletes: list[AthleteSummary] = field(default_factory=list)
    model: str = "unchanged"  # trained | unchanged | not_trained | failed
    model_note: str = ""
    errors: list[str] = field(default_factory=list)  # failures outside one athlete's work
    young: int = 0  # inbox files modified less than min_age_s ago, left for the next run
    min_age_s: float = DEFAULT_MIN_AGE_S

    @property
    def waiting_line(self) -> str:
        """Why files still in the inbox were not taken ("" when none were left for their age)."""
        if not self.young:
            return ""
        return (f"{self.young} file{'' if self.young == 1 else 's'} left for the next run: modified less than "
                f"{self.min_age_s:g} s ago (--min-age)")

    @property
    def nothing_new(self) -> bool:
        return self.model != "trained" and not self.errors and not any(a.changed for a in self.athletes)

    @property
    def new_alerts(self) -> list[dict[str, str]]:
        return [{"athlete": a.athlete, **x} for a in self.athletes for x in a.new_alerts]

    @property
    def failed(self) -> bool:
        """A real failure: something could not be done and will be retried (not a quarantined file)."""
        return bool(self.errors or any(a.errors for a in self.athletes))

    def as_json(self) -> dict:
        return {"nothing_new": self.nothing_new, "failed": self.failed,
                "model": {"status": self.model, "note": self.model_note or None},
                "new_alerts": self.new_alerts, "errors": self.errors,
                "left_for_next_run": self.young, "athletes": [a.as_json() for a in self.athletes]}


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
        state = NightlyState.load(state_file)
        per: dict[str, AthleteSummary] = {}

        def athlete(name: str) -> AthleteSummary:
            return per.setdefault(name, AthleteSummary(name))

        passes: dict[str, dict[str, Any]] = {}  # athlete -> the new runs' passes made by the import
        found = ib.scan_inbox(inbox, default_athlete, flat=flat,
                              exclude=[p for p in (archive, quarantine, report) if p], min_age_s=min_age_s)
        files = found.files
        summary.young = found.young
        for e in found.left:
            athlete(e.athlete).left_in_inbox.append({"file": str(e.rel), "reason": e.reason})

        def checkpoint(out: AthleteSummary) -> None:
            # Where the files went is saved at once: delete --athlete must find every one of them.
            if out.moved:
                remember_files(state, out.athlete, out.moved)
                out.moved.clear()
                state.save(state_file)

        with progress.step("Importing", len(files)) as advance:
            for name in sorted({f.athlete for f in files}):
                mine = [f for f in files if f.athlete == name]
                if not flat:  # <inbox>/<athlete>/: a folder named after them, for delete --athlete
                    remember_inbox_folders(state, name, {os.path.abspath(inbox / f.rel.parts[0])
                                                         for f in mine if len(f.rel.parts) > 1})
                passes[name] = _import_activities(store, [f for f in mine if f.kind == ib.ACTIVITY], athlete(name),
                                                  archive, quarantine, executor, advance, checkpoint)
                _import_pain(store, [f for f in mine if f.kind == ib.PAIN], athlete(name), zone, archive,
                             quarantine, advance)
                checkpoint(athlete(name))
        ib.prune_empty(inbox, [f.path.parent for f in files])

        names = store.athletes()
        with progress.step("Features", len(names)) as advance:
            for name in names:
                try:
                    _update_features(store, name, athlete(name), executor, passes.pop(name, None))
                except (sqlite3.Error, StoreError) as exc:  # a full disk, a read-only store: the others go on
                    athlete(name).errors.append(f"features not stored ({exc})")
                advance(name)

        data_fp = {name: _fingerprint(store, name, zone) for name in names}
        model_path = _model_path(db_path)
        _maybe_train(store, zone, model_path, data_fp, state, summary, model_kind)
        state.save(state_file)

        model_sha = _model_sha(model_path)
        todo, fps = [], {}
        for name in names:
            fps[name] = _digest([data_fp[name], model_sha, str(report) if report else None])
            seen = state.athletes.get(name, {})
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
                    task = AthleteTask.build(store, name, str(zone), model, REPORT_FORMATS if report else (),
                                             generated_at, report_renderer)
                except Exception as exc:  # one athlete's snapshot failing must not stop the others
                    log.debug("snapshot failed", exc_info=True)
                    athlete(name).errors.append(f"analysis not started: {type(exc).__name__}: {exc}")
                    continue
                yield task

        with progress.step("Reports" if report else "Flags", len(todo)) as advance:
            try:
                for result in executor.map(analyse_athlete, tasks()):
                    paths, error = _write_reports(result, report)
                    _record_analysis(result, paths, error, athlete(result.athlete), state, fps[result.athlete])
                    state.save(state_file)  # each athlete's alerts are remembered as soon as they are known
                    advance(result.athlete)
            except Exception as exc:
                log.debug("analysis failed", exc_info=True)
                summary.errors.append(f"analysis stopped: {type(exc).__name__}: {exc}")
        for name, alerts in pending_alerts(state).items():
            athlete(name).new_alerts = alerts
        for name in names:  # the risk of an athlete not analysed tonight is the one of their last analysis
            if not athlete(name).analysed:
                athlete(name).risk = state.athletes.get(name, {}).get("risk")
        summary.athletes = [per[n] for n in sorted(per)]
        if deliver is not None:
            deliver(summary)
        if summary.new_alerts:
            mark_delivered(state)
            state.save(state_file)
    for a in summary.athletes:
        log.info("%s", a.line())
    return summary


# -- import ------------------------------------------------------------------------------
def _import_activities(store, files: Sequence[ib.InboxFile], out: AthleteSummary, archive: Path, quarantine: Path,
                       executor: MapExecutor, advance: Callable[[str], None],
                       checkpoint: Callable[[AthleteSummary], None] = lambda out: None) -> dict[str, Any]:
    """Imports ``files`` in chunks; returns the new runs' passes made during the import (see
    :mod:`gaitrisk.features.handoff`), for the features step."""
    from ..features.handoff import import_pass
    from ..ingest.pipeline import import_paths

    passes: dict[str, Any] = {}
    hook = import_pass(store, out.athlete) if files else None
    for start in range(0, len(files), IMPORT_CHUNK):
        chunk = files[start:start + IMPORT_CHUNK]
        try:
            # One dict across the chunks: a richer file in a later chunk drops the pass of the run it replaces.
            report = import_paths([str(f.path) for f in chunk], store, out.athlete, executor=executor, leg_hook=hook,
                                  leg_results=passes)
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


def _import_pain(store, files: Sequence[ib.InboxFile], out: AthleteSummary, zone: ZoneInfo, archive: Path,
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
def _update_features(store, name: str, out: AthleteSummary, executor: MapExecutor,
                     passes: dict[str, Any] | None = None) -> None:
    from ..features.compute import compute_and_store_features

    feats = compute_and_store_features(store, name, executor=executor, passes=passes)
    out.features_computed += feats.computed
    for f in feats.failed:
        log.warning("%s: features not computed for %s: %s", name, f.get("activity_id", "?"), f.get("reason", ""))


def _digest(parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]


def _fingerprint(store, name: str, zone: ZoneInfo) -> str:
    """Changes whenever anything a report or a flag of ``name`` is made from changes."""
    return _digest([str(zone), [repr(r) for r in store.activities(name)], [repr(e) for e in store.pain_entries(name)],
                    [repr(g) for g in store.gaps(name)], store.profile(name),
                    sorted(store.feature_versions(name).items()),
                    sorted((k, repr(v)) for k, v in store.reviews(name).items())])


def _model_path(db_path: Path) -> Path:
    from ..model.persist import default_model_path

    return default_model_path(db_path)


def _model_sha(model_path: Path) -> str | None:
    from ..model.persist import ModelFileError, read_card

    try:
        return read_card(model_path).get("model_sha256")
    except ModelFileError:
        return None


def _maybe_train(store, zone: ZoneInfo, model_path: Path, data_fp: dict[str, str], state: NightlyState,
                 summary: NightlySummary, model_kind: str) -> None:
    """Retrain the pooled model when some athlete has more pain onsets than it was trained on.

    A model of the other family (the prior vs the older feature classifier) counts as trained on
    nothing, so switching ``model_kind`` retrains once; without any onset the prior model has
    nothing to learn and the population prior stands.
    """
    from ..model.persist import ModelFileError, read_card
    from ..model.update import MODEL_KIND

    key = _digest([sorted(data_fp.items()), _model_sha(model_path), model_kind])
    if state.model.get("data_key") == key:
        summary.model_note = "no new data since the last check"
        return
    try:
        card = read_card(model_path)
        trained_on = card["data"]["onsets"] if (card["model"]["selected"] == MODEL_KIND) == \
            (model_kind == MODEL_KIND) else {}
    except (ModelFileError, KeyError, TypeError):
        trained_on = {}
    from ..model.dataset import build_dataset

    onsets = {str(a): int(n) for a, n in build_dataset(store, None, zone).onsets().items() if int(n) > 0}
    same_kind = state.model.get("tried_kind", model_kind) == model_kind
    tried = (state.model.get("tried_onsets") or {}) if same_kind else {}
    new = {a: n - max(int(trained_on.get(a, 0)), int(tried.get(a, 0))) for a, n in onsets.items()}
    new = {a: n for a, n in new.items() if n > 0}
    if not onsets and model_kind == MODEL_KIND:
        summary.model, summary.model_note = "not_trained", ("no pain onset in the store: nothing to update the "
                                                           "population prior with; gaitrisk risk uses it as is")
    elif not new:
        summary.model_note = f"no new pain onsets since the last training ({sum(onsets.values())} in all)"
    else:
        _train(store, zone, model_path, summary, model_kind, new)
        state.model["tried_onsets"] = onsets
        state.model["tried_kind"] = model_kind
        state.model["tried_utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        state.model["result"] = summary.model
    state.model["data_key"] = _digest([sorted(data_fp.items()), _model_sha(model_path), model_kind])


def _train(store, zone: ZoneInfo, model_path: Path, summary: NightlySummary, model_kind: str,
           new: dict[str, int]) -> None:
    from ..model.persist import save_model
    from ..model.update import MODEL_KIND, train_model, update_lines

    what = ", ".join(f"{a} +{n}" for a, n in sorted(new.items()))
    try:
        est, card = train_model(store, zone, model_kind)
        save_model(est, card, model_path)
    except ValueError as exc:  # nothing to learn from yet: not a failure of the run
        summary.model, summary.model_note = "not_trained", f"new onsets ({what}) but cannot train: {exc}"
        return
    except Exception as exc:
        log.debug("training failed", exc_info=True)
        summary.model, summary.model_note = "failed", f"training failed: {type(exc).__name__}: {exc}"
        summary.errors.append(summary.model_note)
        return
    d = card["data"]
    summary.model = "trained"
    if model_kind == MODEL_KIND:
        summary.model_note = f"{what} new onset(s): " + "; ".join(update_lines(card))
    else:
        summary.model_note = (f"retrained ({what} new onset(s)): {card['model']['selected']} on {d['rows']} "
                              f"athlete-days of {len(d['athletes'])} athlete(s), {d['onsets_total']} onsets")
    log.info("model %s", summary.model_note)


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
