"""Compute every run's feature record and store it; recomputed when the code's
:data:`FEATURE_VERSION` or the athlete's profile changes.

One pass over each run's samples (:func:`run_pass`, in a worker) does all the
sample-level work and keeps small summaries of what depends on the athlete's
other runs; this process then finishes the records in time order
(:func:`finish`).  What spans runs is causal -- a run's record depends on it and
the runs before it only, so importing a history at once or a run a night gives
the same records: the athlete's maximum heart rate from the data, the
measured/Hoyt GCT ratio (evidence.md 2.2: calibrate the estimate per athlete
wherever pod data exist), the threshold speed of the pace zones, and the
personal cadence baseline from level-ground speed and cadence (evidence.md 1.5
step 2, strictly past runs only).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..executor import MapExecutor, SerialExecutor
from ..records import ActivityRecord
from ..records import AUTOMATIC, NOT_A_RUN, SCREENED_RUN, Review
from ..review import counts
from ..store import decode_samples
from . import FEATURE_VERSION
from .camber import DeclaredSide, camber, path_geometry, with_run_side
from .clean import clean, finite_column
from .gait import BASELINE_DAYS, CadenceBaseline, GaitCore, finish_gait, fit_personal_baseline, gait_core
from .intensity import (IntensityCore, best_window_speed, despike_hr, finish_intensity, intensity_core,
                        is_long_run, rolling_max_hr, surface_class)
from .kept import unpack
from .plausibility import screen
from .profile import AthleteProfile, ResolvedProfile, profile_fingerprint, resolve
from .record import RunFeatures
from .status import FIRST_PASS_KEY, FeatureReport, kept_passes, stale_runs
from .terrain import terrain

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)

# The data's highest 30 s heart rate stands in for an unset maximum only once this many runs
# with heart rate precede or are the run (project convention [D]); before, the age formula or no zones.
HR_MAX_MIN_RUNS = 10
# evidence.md 2.3: a balance shift counts over >= 3 runs, so the baseline needs at least 3.
MIN_BALANCE_RUNS = 3
# Records written per transaction.
_SAVE_BATCH = 64


@dataclass(frozen=True)
class _FirstPass:
    """What a run gives the athlete-wide values (kept in its stored record under
    :data:`FIRST_PASS_KEY`, so that a new run needs no earlier run's samples)."""

    level_speed: float | None
    level_cadence: float | None
    gct_ratio: float | None  # measured / Hoyt estimate, runs with a sensor only
    hr_max_30s: float | None
    balance: float | None  # mean GCT balance (left share, %), runs with a strap or pod only
    best_20min_speed: float | None  # m/s, runs with >= 20 min of moving time only


@dataclass(frozen=True)
class RunPass:
    """One run's sample-level work: everything but what depends on the athlete's other runs.

    Small -- no per-sample array -- so that a worker can ship it back.  ``features`` is the
    run's record as far as the samples alone decide it: the gait with the population cadence
    model and the uncalibrated GCT estimate, no zones, no long-run share; :func:`finish`
    replaces those parts from ``gait`` and ``intensity`` and the values that span runs.
    """

    features: RunFeatures  # terrain without its per-sample grade
    gait: GaitCore
    intensity: IntensityCore
    first: _FirstPass


def run_pass(rec: ActivityRecord, samples: pd.DataFrame, profile: ResolvedProfile) -> RunPass:
    """The sample-level work of one run (pure).  Of ``profile`` it uses the body and road-side
    values only, never the maximum heart rate: that may come from other runs."""
    run = clean(samples)
    ter = terrain(run, finite_column(samples, S.ALTITUDE))
    gc = gait_core(samples, run, ter.grade, height_m=profile.height_m, leg_length_m=profile.leg_length_m)
    moving_s = float(np.where(run.moving, run.dt_s, 0.0).sum())
    running_s = float(np.where(run.running, run.dt_s, 0.0).sum())
    # Distance over all timer-running time, stops included: what the device's session total
    # counts (a slow shuffle between stops is still distance on the legs).
    dist = float(run.dist_m.sum()) if run.distance_source != "none" else None
    moving_dist = float(np.where(run.moving, run.dist_m, 0.0).sum())
    # The surface needs the track test, and road exposure needs the surface: the path geometry
    # (with the track test) first, then the surface, then the road-side proxies.
    geo = path_geometry(run)
    surface, reason = surface_class(rec.sub_sport, run.has_positions, geo.is_track if geo else None,
                                    ter.grade_roughness_pct)
    cam = camber(run, surface_is_road=surface == "road", habit_low_side=profile.low_side_foot,
                 habit_source=profile.road_side_source, balance=finite_column(samples, S.STANCE_BALANCE), geometry=geo)
    hr = finite_column(samples, S.HEART_RATE)
    ratio = None
    if gc.gct_measured_ms is not None and gc.gct_hoyt_ms:
        ratio = gc.gct_measured_ms / gc.gct_hoyt_ms
    first = _FirstPass(gc.level_speed_mps, gc.level_cadence_spm, ratio,
                       rolling_max_hr(run.elapsed_s, despike_hr(run.elapsed_s, hr)),
                       gc.gct_balance_pct, best_window_speed(run))
    ic = intensity_core(run, hr)
    features = RunFeatures(
        activity_id=rec.id, feature_version=FEATURE_VERSION, distance_m=dist, moving_time_s=moving_s,
        running_time_s=running_s, pause_s=run.pause_s, stopped_s=run.stopped_s,
        gps_spikes_rejected=int(run.spikes.sum()), distance_source=run.distance_source,
        avg_speed_mps=moving_dist / moving_s if moving_s > 0 else None, gait=finish_gait(gc),
        terrain=replace(ter, grade=np.empty(0)), camber=cam, intensity=finish_intensity(ic, None),
        surface=surface, surface_reason=reason, long_run=is_long_run(moving_s, dist, None), profile_notes=(),
        profile_fingerprint="")
    return RunPass(features=features, gait=gc, intensity=ic, first=first)


def finish(p: RunPass, profile: ResolvedProfile, *, baseline: CadenceBaseline | None = None,
           gct_scale: float = 1.0, week_distance_m: float | None = None, fingerprint: str = "",
           threshold_speed_mps: float | None = None, run_road_side: DeclaredSide | None = None) -> RunFeatures:
    """The run's features from its :class:`RunPass` and the values that span runs (pure).
    ``run_road_side``: the road side the runner declared for this run, if any."""
    f = p.features
    cam = with_run_side(f.camber, run_road_side) if run_road_side else f.camber
    return replace(f, camber=cam, gait=finish_gait(p.gait, baseline=baseline, gct_scale=gct_scale),
                   intensity=finish_intensity(p.intensity, profile.hr_max_bpm, threshold_speed_mps),
                   long_run=is_long_run(f.moving_time_s, f.distance_m, week_distance_m), profile_notes=profile.notes,
                   profile_fingerprint=fingerprint, threshold_speed_mps=threshold_speed_mps)


def compute_features(rec: ActivityRecord, samples: pd.DataFrame, profile: ResolvedProfile, *,
                     baseline: CadenceBaseline | None = None, gct_scale: float = 1.0,
                     week_distance_m: float | None = None, fingerprint: str = "",
                     threshold_speed_mps: float | None = None) -> RunFeatures:
    """All features of one run (pure: no store access): :func:`run_pass` then :func:`finish`."""
    return finish(run_pass(rec, samples, profile), profile, baseline=baseline, gct_scale=gct_scale,
                  week_distance_m=week_distance_m, fingerprint=fingerprint, threshold_speed_mps=threshold_speed_mps)


def balance_shift(balance: float | None, past: list[float]) -> dict[str, float | None]:
    """GCT balance minus the athlete's own baseline (camber proxy 4; evidence.md 2.3, 5.6).

    The baseline is the median balance of the athlete's runs in the previous
    :data:`BASELINE_DAYS` days, once there are :data:`MIN_BALANCE_RUNS` of them.  Only a shift
    from one's own baseline means anything (evidence.md 2.3: flag a shift >= 1.5 points
    sustained over >= 3 runs; asymmetry alone predicts no injury, Malisoux 2024).
    """
    if balance is None or len(past) < MIN_BALANCE_RUNS:
        return {"gct_balance_baseline_pct": None, "gct_balance_shift_pct": None}
    base = float(np.median(past))
    return {"gct_balance_baseline_pct": base, "gct_balance_shift_pct": balance - base}


def _week_distance(recs: list[ActivityRecord], times: list[dt.datetime], i: int, counted: list[bool]) -> float:
    """Distance of the counted runs in the 7 days up to run ``i`` (itself included); ``times`` sorted, as ``recs``."""
    lo = bisect.bisect_right(times, times[i] - dt.timedelta(days=7))
    return float(sum(recs[j].distance_m or 0.0 for j in range(lo, i + 1) if counted[j]))


def _past(first: list, times: list[dt.datetime], i: int, counted: list[bool]) -> list[int]:
    """Earlier counted runs with a first pass in the :data:`BASELINE_DAYS` before run ``i`` (strictly earlier starts)."""
    lo = bisect.bisect_left(times, times[i] - dt.timedelta(days=BASELINE_DAYS))
    hi = min(i, bisect.bisect_left(times, times[i]))
    return [j for j in range(lo, hi) if first[j] is not None and counted[j]]


def compute_and_store_features(store: Store, athlete: str | None = None, *, force: bool = False,
                               on_run: Callable[[str], None] | None = None,
                               executor: MapExecutor | None = None,
                               passes: Mapping[str, tuple[str, bytes]] | None = None) -> FeatureReport:
    """Compute and store the feature records of ``athlete``'s runs (every athlete when ``None``).

    Only runs without a record, with a record of another FEATURE_VERSION, or
    computed under another profile are (re)computed, unless ``force``.  A run
    that fails is reported and the rest continue.  ``on_run(activity_id)`` is
    called after each computed run (progress bars).  ``executor`` runs each
    run's pass over its samples in other processes or on a cluster; this process
    reads the samples, finishes the records with what spans runs and writes them.
    ``passes``: activity id -> what :class:`.handoff.ImportPass` returned for it during the import
    (``ImportReport.leg_results``); those runs' samples are not read again.  A pass made
    under another profile than the stored one is not used.
    """
    report = FeatureReport()
    executor = executor or SerialExecutor()
    for name in ([athlete] if athlete else store.athletes()):
        _athlete(store, name, force, report, on_run, executor, passes or {})
    return report


def _run_pass(job: _RunJob) -> tuple[RunPass | None, str | None]:
    """Runs in a worker: (pass, None), or (None, why) -- errors as values, so one run cannot stop a map."""
    try:
        if job.samples is None:
            raise KeyError(f"no samples stored for {job.rec.id}")
        return run_pass(job.rec, decode_samples(job.rec.id, *job.samples), job.profile), None
    except Exception as exc:  # noqa: BLE001 - reported per run, the batch continues
        return None, f"{type(exc).__name__}: {exc}"


class _History:
    """The athlete-wide values over the runs added so far, oldest first (a run's record then
    depends on it and the earlier runs only)."""

    def __init__(self, profile: AthleteProfile) -> None:
        self._profile = profile
        self._hr_runs = 0
        self._hr_max: float | None = None
        self._ratios: list[float] = []  # sorted
        self._best_runs = 0
        self._best: float | None = None

    def add(self, f: _FirstPass | None) -> None:
        if f is None:
            return
        if f.hr_max_30s:
            self._hr_runs += 1
            self._hr_max = max(self._hr_max or f.hr_max_30s, f.hr_max_30s)
        if f.gct_ratio:
            bisect.insort(self._ratios, f.gct_ratio)
        if f.best_20min_speed:
            self._best_runs += 1
            self._best = max(self._best or f.best_20min_speed, f.best_20min_speed)

    def values(self) -> tuple[ResolvedProfile, float, float | None]:
        """(profile resolved with the data, GCT scale, threshold speed), with notes saying where each came from."""
        # A few easy runs rarely hold a near-maximal effort: estimate only from enough runs.
        resolved = resolve(self._profile,
                           hr_max_from_data=self._hr_max if self._hr_runs >= HR_MAX_MIN_RUNS else None)
        ratios = self._ratios
        gct_scale = float(np.median(ratios)) if ratios else 1.0
        notes = resolved.notes + (
            (f"gct estimate calibrated x{gct_scale:.3f} on {len(ratios)} run(s) with measured GCT",) if ratios
            else ("gct estimate: Hoyt 2000 prior, not calibrated (no measured GCT)",))
        threshold = self._profile.threshold_speed_mps or self._best
        if self._profile.threshold_speed_mps:
            notes += (f"pace zones: threshold speed {threshold:.2f} m/s (set)",)
        else:
            notes += ((f"pace zones: threshold speed {threshold:.2f} m/s = the best 20 min over {self._best_runs} "
                       "run(s)",) if threshold else ("pace zones: none (no run with 20 min of moving time)",))
        return replace(resolved, notes=notes), gct_scale, threshold


def _blob(store: Store, activity_id: str) -> tuple[str, bytes] | None:
    try:
        return store.samples_blob(activity_id)
    except KeyError:
        return None


@dataclass(frozen=True)
class _RunJob:
    """One run's pass, as shipped to a worker: its encoded samples and the athlete's profile."""

    rec: ActivityRecord
    samples: tuple[str, bytes] | None  # (format, blob); None: none stored
    profile: ResolvedProfile


def _screen(r: ActivityRecord, rp: RunPass, reviews: dict[str, Review], screened: list[tuple[str, Review]],
            report: FeatureReport) -> bool:
    """Screen run ``r`` by its pass unless the user has reviewed it; queue a changed review in
    ``screened``.  Whether the run counts."""
    review = reviews.get(r.id, Review())
    if review.status in AUTOMATIC:
        why = screen(rp.features, r)
        new = Review(NOT_A_RUN, why) if why else Review(SCREENED_RUN)
        if new != review:
            screened.append((r.id, new))
            reviews[r.id] = review = new
            if why:
                report.not_a_run.append({"activity_id": r.id, "reason": why})
    return counts(review, r.sport)


def _athlete(store: Store, name: str, force: bool, report: FeatureReport, on_run: Callable[[str], None] | None,
             executor: MapExecutor, passes: Mapping[str, tuple[str, bytes]]) -> None:
    recs = store.activities(name)
    if not recs:
        return
    profile = AthleteProfile.from_dict(store.profile(name))
    fp = profile_fingerprint(profile)
    reviews = dict(store.reviews(name))
    road_sides = store.road_sides(name)
    counted = [counts(reviews.get(r.id), r.sport) for r in recs]
    ids = [r.id for r in recs]
    stale = stale_runs(store, name, ids, fp, force, reviews)
    report.up_to_date += stale.count(False)
    if not any(stale):
        return
    kept = kept_passes(store, name, ids, stale)

    base = resolve(profile)
    # An up-to-date record carries its run's first pass (same version, same profile): the
    # nightly run with one new run then reads one run's samples, not the athlete's history.
    first: list[_FirstPass | None] = [_FirstPass(**c) if c else None for c in kept]  # {}: kept, none possible
    times = [r.start_time for r in recs]  # sorted: the store lists runs oldest first
    done: list[tuple[str, dict]] = []
    screened: list[tuple[str, Review]] = []

    def save() -> None:
        with store.transaction():  # one commit per batch, not per run
            for activity_id, review in screened:
                store.set_review(activity_id, review, drop_dependent_features=False)
            screened.clear()
            for activity_id, record in done:
                try:
                    store.save_features(activity_id, name, FEATURE_VERSION, record)
                    report.computed += 1
                except (TypeError, ValueError) as exc:  # not JSON (NaN, ...): refused before any write
                    log.warning("features failed for %s: %s", activity_id, exc)
                    report.failed.append({"activity_id": activity_id, "reason": f"{type(exc).__name__}: {exc}"})
        done.clear()

    def compute(todo: list[int]) -> list[int]:
        """Compute and store the records of runs ``todo`` (indices, oldest first); those that got one."""
        history = _History(profile)
        added = 0
        got: list[int] = []
        # Samples are read lazily: the executor keeps a few runs in flight, not the athlete's
        # history.  Results come back in the order of the jobs, oldest first, so every run
        # before this one has its first pass when this one is finished.  Runs whose pass the
        # import made (under this profile) need no job.
        made = ((i, passes.get(recs[i].id)) for i in todo)
        ready = {i: hit[1] for i, hit in made if hit is not None and hit[0] == fp}
        # Fixed before the loop: the jobs are drawn lazily while the loop runs, so a filter
        # that read ``ready`` then would see it change under it.
        to_run = [i for i in todo if i not in ready]
        jobs = (_RunJob(recs[i], _blob(store, recs[i].id), base) for i in to_run)
        results = executor.map(_run_pass, jobs)
        for i in todo:
            rp, why = (unpack(ready.pop(i)), None) if i in ready else next(results)
            r = recs[i]
            if rp is not None and rp.features.activity_id != r.id:
                raise RuntimeError(f"features: the pass of {rp.features.activity_id} came back for {r.id}")
            if rp is not None:
                first[i] = rp.first
                counted[i] = _screen(r, rp, reviews, screened, report)
            for j in range(added, i + 1):
                if counted[j]:
                    history.add(first[j])
            added = i + 1
            if rp is None:
                log.warning("features failed for %s: %s", r.id, why)
                report.failed.append({"activity_id": r.id, "reason": why})
            else:
                past = _past(first, times, i, counted)
                baseline = fit_personal_baseline(np.array([first[j].level_speed or np.nan for j in past]),
                                                 np.array([first[j].level_cadence or np.nan for j in past]))
                resolved, gct_scale, threshold = history.values()
                record = finish(rp, resolved, baseline=baseline, gct_scale=gct_scale,
                                week_distance_m=_week_distance(recs, times, i, counted), fingerprint=fp,
                                threshold_speed_mps=threshold, run_road_side=road_sides.get(r.id)).to_record()
                past_balance = [first[j].balance for j in past if first[j].balance is not None]
                record |= balance_shift(record["gct_balance_pct"], past_balance)
                record[FIRST_PASS_KEY] = asdict(rp.first)
                done.append((r.id, record))
                got.append(i)
                if len(done) >= _SAVE_BATCH:
                    save()
            if on_run:
                on_run(r.id)
        save()
        return got

    new = compute([i for i in range(len(recs)) if stale[i]])
    # A new run older than runs with up-to-date records (an old export imported after the
    # nightly runs) is in those runs' history: their records are computed again.  A run that
    # failed adds nothing to anyone's history, so it sets off nothing.
    redo = [j for j in range(new[0] + 1, len(recs)) if not stale[j]] if new else []
    if redo:
        log.info("features: %d later run(s) computed again: an earlier run was added", len(redo))
        report.up_to_date -= len(redo)
        compute(redo)
