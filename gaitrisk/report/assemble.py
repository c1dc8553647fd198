"""Store -> :class:`AthleteReport`: everything one athlete's report shows, as typed values.

The renderers (:mod:`.text`, :mod:`.markdown`, :mod:`.jsonout`, :mod:`.html`) only format
what is assembled here, so every format shows the same numbers.  Nothing is recomputed
from samples: flags come from :func:`gaitrisk.model.flags.assess`, the weekly table from
:func:`gaitrisk.load.weekly.load_report` and the gait/terrain/camber values from the per-run
feature records the import stored.  Samples are read for the latest run's chart and for
``with_maps`` (route shapes).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from ..features.camber import side_evidence
from ..features.gait import (
    POP_CADENCE_INTERCEPT,
    POP_CADENCE_SLOPE,
)
from ..load.weekly import LoadReport, WeekRow
from ..model.daytable import DayTable
from ..model.flags import Assessment, ModelView
from ..model.judged import Unjudged, unjudged
from ..model.risk import RiskReport
from ..model.rules import ABS_CADENCE_MIN_SPEED, Flag, as_table, camber_legs, levels_of
from ..pain.compliance import PainLogStatus, pain_log_status
from ..review import counted
from ..store import Store, StoreError
from ..times import zone_name
from .runsamples import RunSamples, run_samples

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

DEFAULT_WEEKS = 8          # the report spans the last 8 weeks of load
MAX_WEEKS = 520            # the same cap as ``gaitrisk load --weeks``
FLAG_DAYS = 7              # "current" flags: the last 7 days, like ``gaitrisk flags``
STALE_DAYS = 7             # say so when the latest data is older than this on the report day
# Route ends hidden when maps are shown.  Not from the evidence base (it has no privacy
# section): 500 m lies inside the range Strava and Garmin Connect offer for their "hide
# start/end" privacy zones, and hides a front door among the houses around it.
PRIVACY_ZONE_M = 500.0


@dataclass(frozen=True)
class RunPoint:
    """One run as the report shows it (values from its stored feature record; None = not available)."""

    id: str
    day: dt.date                       # local calendar day the run started
    distance_m: float | None
    spike_pct: float | None            # vs the longest run of the 30 days before (Frandsen 2025)
    spike_tier: str | None             # none/small/moderate/large/insufficient_history; None = outside the table
    longest_prev_30d_m: float | None
    level_speed_mps: float | None
    level_cadence_spm: float | None
    cadence_expected_spm: float | None
    cadence_residual_pct: float | None
    gct_ms: float | None
    gct_source: str | None             # measured / estimated
    gct_balance_pct: float | None      # left share of contact time, %
    descent_m: float | None
    downhill5_m: float | None          # metres at grade <= -5 %
    downhill10_m: float | None         # metres at grade <= -10 %
    road_left_low_m: float | None
    road_right_low_m: float | None
    track_ccw_m: float | None
    track_cw_m: float | None
    # The cadence residual's baseline: "personal" (the runner's own) or "population" (the fallback).
    cadence_baseline: str | None = None
    cadence_baseline_runs: float | None = None     # earlier level runs it was judged on
    cadence_baseline_pct: float | None = None      # a personal baseline against the population model, %
    level_time_s: float | None = None              # level steady time the residual is taken over
    moving_time_s: float | None = None     # time in motion (pauses and stops left out)
    cadence_spm: float | None = None       # mean cadence of the whole run
    ascent_m: float | None = None          # elevation gain
    hr_avg_bpm: float | None = None
    road_m: float | None = None
    road_side_evidence: str | None = None  # observed (out-and-back, declared) / assumed (defaults); None: no road
    flags: tuple[str, ...] = ()            # the rules this run fed that fired on its day

    @property
    def pace_s_per_km(self) -> float | None:
        if not self.moving_time_s or not self.distance_m:
            return None
        return self.moving_time_s / self.distance_m * 1000.0


@dataclass(frozen=True)
class WeekTrend:
    """Gait and exposure of the runs in one week of the load table (sums in m, means weighted by distance)."""

    week_start: dt.date
    week_end: dt.date
    runs: int
    cadence_residual_pct: float | None
    gct_ms: float | None
    gct_balance_pct: float | None
    downhill5_m: float | None
    downhill10_m: float | None
    road_left_low_m: float | None
    road_right_low_m: float | None
    track_ccw_m: float | None
    track_cw_m: float | None
    cadence_baseline: str | None = None   # the baseline of cadence_residual_pct (personal / population)
    road_left_low_observed_m: float | None = None    # the part of road_left_low_m whose side was observed
    road_right_low_observed_m: float | None = None
    road_observed_m: float | None = None   # road metres whose side is observed (out-and-back, declared)
    road_assumed_m: float | None = None    # road metres whose side is assumed from the profile's defaults

    @property
    def road_side_evidence(self) -> str | None:
        """What the week's camber exposure rests on: observed, assumed, both, or None (no road)."""
        kinds = [k for k, m in (("observed", self.road_observed_m), ("assumed", self.road_assumed_m)) if m]
        return " + ".join(kinds) or None


@dataclass(frozen=True)
class PainPoint:
    """One pain-log entry in local time."""

    time: dt.datetime                  # aware, in the report's zone
    date_only: bool
    score: int
    region: str
    side: str
    when: str
    behaviour: str | None
    note: str | None


@dataclass(frozen=True)
class CadenceLine:
    """Expected cadence ``a + b*v`` (steps/min, v in m/s) and where it comes from."""

    a: float
    b: float
    source: str                        # population (VU wearable study) / personal
    n_runs: int


@dataclass(frozen=True)
class RouteTrace:
    """A run's route in metres east/north of its own centre, ends trimmed by the privacy zone."""

    id: str
    day: dt.date
    x_m: tuple[float, ...]
    y_m: tuple[float, ...]
    trimmed_m: float


@dataclass(frozen=True)
class AthleteReport:
    """One athlete's report: flags (red first), load, gait trends, exposure and pain."""

    athlete: str
    zone: str
    first: dt.date                     # first day shown
    last: dt.date                      # report day (last day of data shown)
    latest_data: dt.date | None        # the athlete's last day with a run or pain entry
    stale_days: int                    # report day - latest data (0 = up to date)
    flags: tuple[Flag, ...]
    flag_first: dt.date | None         # the flags cover flag_first..last
    model: ModelView | None
    model_note: str
    weeks: tuple[WeekRow, ...]
    trends: tuple[WeekTrend, ...]
    runs: tuple[RunPoint, ...]
    pain: tuple[PainPoint, ...]
    expected_cadence: CadenceLine
    baseline_cadence: CadenceLine | None
    load_notes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    routes: tuple[RouteTrace, ...] | None = None   # None: maps not asked for
    privacy_zone_m: float = PRIVACY_ZONE_M
    pain_log: PainLogStatus | None = None          # logging compliance and the pain_rising baseline's coverage
    ostrc: tuple = ()                              # weekly OSTRC answers (gaitrisk.records.OstrcWeek) shown
    not_judged: tuple[Unjudged, ...] = ()          # rules that lacked data or history on the report day
    samples: RunSamples | None = None              # the latest run's samples for the per-run chart
    risk: RiskReport | None = None                 # the risk model's days of first..last; None: no data

    @property
    def risk_today(self) -> RiskReport | None:
        """The risk of the report's last day (the last day with data on or before it)."""
        if self.risk is None:
            return None
        try:
            return self.risk.on(self.last)
        except LookupError:
            return None

    @property
    def red_flags(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.code == "see_a_clinician")


def build_athlete_report(store: Store, athlete: str, zone: ZoneInfo | str, *, since: dt.date | None = None,
                         today: dt.date | None = None, model_path=None, with_maps: bool = False,
                         privacy_zone_m: float = PRIVACY_ZONE_M) -> AthleteReport:
    """Assemble ``athlete``'s report as of ``today`` (default: the local date in ``zone``).

    The report day is ``today`` or the athlete's last day with data, whichever is earlier
    (a report for an athlete who stopped logging says how stale it is).  ``since`` sets
    the first day shown (default: 8 weeks before the report day).  Raises ``LookupError``
    for an athlete without runs.
    """
    from ..load.weekly import load_report
    from ..model.dataset import build_dataset
    from ..model.flags import assess

    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    acts = counted(store.activities(athlete), store.reviews(athlete))
    if not acts:
        raise LookupError(f"no runs stored for athlete {athlete!r}")
    entries = store.pain_entries(athlete)
    today = today or dt.datetime.now(zone).date()
    days = [a.start_time.astimezone(zone).date() for a in acts]
    days += [e.time_utc.astimezone(zone).date() for e in entries]
    latest = max(days)
    last = min(today, latest)
    if since is not None and since > last:
        raise ValueError(f"since {since} is after the report day {last}")
    # Weeks before the athlete's first data would be empty rows: start at the first data instead.
    start = since or max(min(days), last - dt.timedelta(days=7 * DEFAULT_WEEKS - 1))
    n_weeks = min(MAX_WEEKS, max(1, math.ceil(((last - start).days + 1) / 7)))
    first = since or (last - dt.timedelta(days=7 * n_weeks - 1))

    notes: list[str] = []
    table = None
    try:
        ds = build_dataset(store, [athlete], zone)
        assessment = assess(store, athlete, zone, last=last, days=FLAG_DAYS, model_path=model_path,
                            dataset=ds, pain_entries=entries)
        table = ds.table(athlete)
    except LookupError:
        assessment = Assessment(athlete, last, last)
    except Exception as exc:  # a bug in one rule must not cost a nightly run every athlete's report
        log.error("flags for %s could not be computed: %s: %s", athlete, type(exc).__name__, exc)
        log.debug("flags traceback", exc_info=True)
        assessment = Assessment(athlete, last - dt.timedelta(days=FLAG_DAYS - 1), last)
        notes.append(f"FLAGS COULD NOT BE COMPUTED ({type(exc).__name__}: {exc}); the rest of the report is "
                     "complete. Please report this as a bug.")
    risk = _risk(store, athlete, zone, first, last, model_path, ds, notes) if table is not None else None
    load = load_report(store, athlete, zone, last, n_weeks)
    runs = _run_points(store, athlete, acts, zone, load, first, last)
    if table is not None:
        runs = with_run_flags(runs, table)
    stale = max(0, (today - latest).days)
    if stale > STALE_DAYS:
        notes.append(f"no runs or pain entries in the {stale} days up to {today}: this report shows {latest}")
    return AthleteReport(
        athlete=athlete, zone=zone_name(zone.key), first=first, last=last, latest_data=latest, stale_days=stale,
        flags=assessment.flags, flag_first=assessment.first, model=assessment.model,
        model_note=assessment.model_note, weeks=load.weeks, trends=_trends(runs, load.weeks), runs=runs,
        pain=tuple(_pain_points(entries, zone, first, last)),
        expected_cadence=CadenceLine(POP_CADENCE_INTERCEPT, POP_CADENCE_SLOPE, "population", 0),
        baseline_cadence=_baseline(runs), load_notes=load.notes, notes=tuple(notes),
        routes=_routes(store, runs, privacy_zone_m) if with_maps else None, privacy_zone_m=privacy_zone_m,
        pain_log=pain_log_status(entries, zone, last),
        ostrc=tuple(store.ostrc_weeks(athlete, since=first - dt.timedelta(days=6), until=last)),
        not_judged=unjudged(table, last) if table is not None else (),
        samples=_latest_samples(store, runs), risk=risk)


def _risk(store: Store, athlete: str, zone: ZoneInfo, first: dt.date, last: dt.date, model_path, ds,
          notes: list[str]) -> RiskReport | None:
    """The risk over the report's days; None when the athlete has no day with data in them."""
    from ..model.risk import risk_for

    try:
        return risk_for(store, athlete, zone, first, last, model_path=model_path, dataset=ds)
    except LookupError:
        return None
    except Exception as exc:  # like the flags: a bug in the model must not cost the rest of the report
        log.error("risk for %s could not be computed: %s: %s", athlete, type(exc).__name__, exc)
        log.debug("risk traceback", exc_info=True)
        notes.append(f"THE RISK COULD NOT BE COMPUTED ({type(exc).__name__}: {exc}); the rest of the report is "
                     "complete. Please report this as a bug.")
        return None


def _num(rec: dict, key: str) -> float | None:
    v = rec.get(key)
    if v is None or isinstance(v, (str, bool, dict, list)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _run_points(store: Store, athlete: str, acts, zone: ZoneInfo, load: LoadReport, first: dt.date,
                last: dt.date) -> tuple[RunPoint, ...]:
    """The runs of first..last with their stored features and spike (one feature query for all)."""
    records = store.run_feature_records(athlete)
    spikes = {r.id: r for r in load.runs}
    out = []
    for a in acts:
        day = a.start_time.astimezone(zone).date()
        if not first <= day <= last:
            continue
        rec = records.get(a.id, {})
        sp = spikes.get(a.id)
        dist = _num(rec, "distance_m")
        out.append(RunPoint(
            id=a.id, day=day, distance_m=dist if dist is not None else a.distance_m,
            spike_pct=sp.spike_pct if sp else None, spike_tier=sp.spike_tier if sp else None,
            longest_prev_30d_m=sp.longest_prev_30d_m if sp else None,
            level_speed_mps=_num(rec, "level_speed_mps"), level_cadence_spm=_num(rec, "level_cadence_spm"),
            cadence_expected_spm=_num(rec, "cadence_expected_spm"),
            cadence_residual_pct=_num(rec, "cadence_residual_pct"),
            gct_ms=_num(rec, "gct_ms"), gct_source=rec.get("gct_source") if isinstance(rec.get("gct_source"), str)
            else None, gct_balance_pct=_num(rec, "gct_balance_pct"), descent_m=_num(rec, "descent_m"),
            downhill5_m=_num(rec, "distance_m_grade_le_minus5"), downhill10_m=_num(rec, "distance_m_grade_le_minus10"),
            road_left_low_m=_num(rec, "road_left_low_m"), road_right_low_m=_num(rec, "road_right_low_m"),
            track_ccw_m=_num(rec, "track_ccw_m"), track_cw_m=_num(rec, "track_cw_m"),
            cadence_baseline=rec.get("cadence_baseline") if isinstance(rec.get("cadence_baseline"), str) else None,
            cadence_baseline_runs=_num(rec, "cadence_baseline_runs"),
            cadence_baseline_pct=_num(rec, "cadence_baseline_pct"), level_time_s=_num(rec, "level_time_s"),
            moving_time_s=_first(_num(rec, "moving_time_s"), a.moving_time_s or None),
            cadence_spm=_first(_num(rec, "cadence_spm"), a.avg_cadence_spm),
            ascent_m=_first(_num(rec, "ascent_m"), a.summary.total_ascent_m if a.summary else None),
            hr_avg_bpm=_first(_num(rec, "hr_avg_bpm"), a.summary.avg_heart_rate_bpm if a.summary else None),
            road_m=_num(rec, "road_m"),
            road_side_evidence=camber_basis(rec.get("road_low_side_source"),
                                            (_num(rec, "road_left_low_m") or 0) + (_num(rec, "road_right_low_m") or 0))))
    return tuple(out)


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None and math.isfinite(v)), None)


def camber_basis(source, road_low_m: float) -> str | None:
    """"observed" when the run's low road side was seen (an out-and-back pairing) or declared by the
    runner, "assumed" when it comes from a profile or country default; None without road metres."""
    if road_low_m <= 0:
        return None
    # Road metres without a recorded source have a side nobody saw: assumed.
    return "observed" if side_evidence(source if isinstance(source, str) else None) == "observed" else "assumed"


def _fed(code: str, r: RunPoint, return_rose: bool, camber_legs: frozenset[str] = frozenset()) -> bool:
    """Whether run ``r`` is an input of rule ``code`` on its day (a flag on that day is then the run's).

    ``camber_legs``: the legs ("L", "R") the day's ``camber_exposure`` names as up-slope.
    """
    if code == "session_spike":
        return r.spike_tier in ("small", "moderate", "large")
    if code == "return_from_break":
        return return_rose
    if code == "mileage_jump":
        return (r.distance_m or 0) > 0
    if code == "downhill_load":
        return (r.descent_m or 0) > 0
    if code == "overstriding":
        return r.level_cadence_spm is not None
    if code == "cadence_abs_low":
        return r.level_cadence_spm is not None and (r.level_speed_mps or 0) >= ABS_CADENCE_MIN_SPEED
    if code == "camber_exposure":
        # The rule counts observed sides only; the right foot low puts the left leg up-slope.
        return r.road_side_evidence == "observed" and (
            ("L" in camber_legs and (r.road_right_low_m or 0) > 0)
            or ("R" in camber_legs and (r.road_left_low_m or 0) > 0))
    if code == "track_direction":
        return (r.track_ccw_m or 0) + (r.track_cw_m or 0) > 0
    return False   # pain_rising and any rule not fed by a run's own numbers


def with_run_flags(runs: tuple[RunPoint, ...], frame: DayTable | pd.DataFrame) -> tuple[RunPoint, ...]:
    """``runs`` with the flags each one raised: a rule that fired on the run's day and that the run fed.

    A spike belongs to the run longer than its 30-day reference, a return from a break to the
    run whose ratio raised the 7-day maximum on its day; the 7-day rules to every run of the day.
    """
    table = as_table(frame)
    if not len(table):
        return runs
    levels = levels_of(table)
    codes = list(levels)
    fired_at = np.column_stack([levels[c] for c in codes]) > 0
    row_of = {day: i for i, day in enumerate(table.days.tolist())}
    ratio = table.col("return_ratio_7d")
    with np.errstate(invalid="ignore"):
        rose = ratio > np.concatenate([[-math.inf], np.where(np.isnan(ratio[:-1]), -math.inf, ratio[:-1])])
    left_leg, right_leg = camber_legs(table)
    out = []
    for r in runs:
        i = row_of.get(r.day)
        if i is None:
            out.append(r)
            continue
        legs = frozenset(leg for leg, on in (("L", left_leg[i]), ("R", right_leg[i])) if on)
        fired = tuple(code for code, on in zip(codes, fired_at[i]) if on and _fed(code, r, bool(rose[i]), legs))
        out.append(replace(r, flags=fired))
    return tuple(out)


def _latest_samples(store: Store, runs: tuple[RunPoint, ...]) -> RunSamples | None:
    """The binned samples of the period's latest run (None without runs, samples or distance)."""
    if not runs:
        return None
    r = runs[-1]
    try:
        samples = store.sample_arrays(r.id)
    except KeyError:
        log.warning("samples of %s are not stored: the report has no latest-run chart", r.id)
        return None
    except StoreError as exc:
        log.warning("samples of %s could not be read (%s): the report has no latest-run chart", r.id, exc)
        return None
    return run_samples(samples, r.id, r.day)


def _wmean(pairs: list[tuple[float | None, float | None]]) -> float | None:
    """Distance-weighted mean of the values that exist (a run without a distance weighs 1 m)."""
    ok = [(v, w if w and w > 0 else 1.0) for v, w in pairs if v is not None]
    if not ok:
        return None
    return sum(v * w for v, w in ok) / sum(w for _, w in ok)


def _sum(values: list[float | None]) -> float | None:
    ok = [v for v in values if v is not None]
    return sum(ok) if ok else None


def _cadence(rs: list[RunPoint]) -> tuple[float | None, str | None]:
    """The runs' level cadence residual as ``overstriding`` takes it: weighted by level time, over the
    runs with the runner's own baseline once any has one, else over the population-fallback runs."""
    judged = [r for r in rs if r.cadence_residual_pct is not None and r.level_time_s]
    own = [r for r in judged if r.cadence_baseline == "personal"]
    use = own or judged
    if not use:
        return None, None
    resid = sum(r.cadence_residual_pct * r.level_time_s for r in use) / sum(r.level_time_s for r in use)
    return resid, "personal" if own else "population"


def _trends(runs: tuple[RunPoint, ...], weeks: tuple[WeekRow, ...]) -> tuple[WeekTrend, ...]:
    out = []
    for w in weeks:
        rs = [r for r in runs if w.week_start <= r.day <= w.week_end]
        resid, baseline = _cadence(rs)
        out.append(WeekTrend(
            week_start=w.week_start, week_end=w.week_end, runs=len(rs),
            cadence_residual_pct=resid, cadence_baseline=baseline,
            gct_ms=_wmean([(r.gct_ms, r.distance_m) for r in rs]),
            gct_balance_pct=_wmean([(r.gct_balance_pct, r.distance_m) for r in rs]),
            downhill5_m=_sum([r.downhill5_m for r in rs]), downhill10_m=_sum([r.downhill10_m for r in rs]),
            road_left_low_m=_sum([r.road_left_low_m for r in rs]),
            road_right_low_m=_sum([r.road_right_low_m for r in rs]),
            track_ccw_m=_sum([r.track_ccw_m for r in rs]), track_cw_m=_sum([r.track_cw_m for r in rs]),
            road_left_low_observed_m=_sum([r.road_left_low_m for r in rs if r.road_side_evidence == "observed"]),
            road_right_low_observed_m=_sum([r.road_right_low_m for r in rs if r.road_side_evidence == "observed"]),
            road_observed_m=_sum([r.road_m for r in rs if r.road_side_evidence == "observed"]),
            road_assumed_m=_sum([r.road_m for r in rs if r.road_side_evidence == "assumed"])))
    return tuple(out)


def _pain_points(entries, zone: ZoneInfo, first: dt.date, last: dt.date) -> list[PainPoint]:
    out = []
    for e in entries:
        t = e.time_utc.astimezone(zone)
        if first <= t.date() <= last:
            out.append(PainPoint(t, e.date_only, e.score, e.region, e.side, e.when, e.behaviour, e.note))
    return out


def _baseline(runs: tuple[RunPoint, ...]) -> CadenceLine | None:
    """The runner's own cadence-speed line the latest run was judged against (evidence table
    ``overstriding_personal``: the population line scaled by the median level residual of the
    earlier level runs); ``None`` while the population model stands in."""
    latest = next((r for r in reversed(runs) if r.cadence_baseline is not None), None)
    if latest is None or latest.cadence_baseline != "personal" or latest.cadence_baseline_pct is None:
        return None
    k = 1.0 + latest.cadence_baseline_pct / 100.0
    return CadenceLine(POP_CADENCE_INTERCEPT * k, POP_CADENCE_SLOPE * k, "personal",
                       int(latest.cadence_baseline_runs or 0))


def _routes(store: Store, runs: tuple[RunPoint, ...], zone_m: float) -> tuple[RouteTrace, ...]:
    """Route shapes for ``--with-maps``: metres around each route's centre, ``zone_m`` cut off both ends.

    Absolute positions never leave this function: the shape is shifted to its own
    centre, so the output holds no latitude or longitude.
    """
    import numpy as np

    from ..schema import LAT, LON

    out = []
    for r in runs:
        s = store.samples(r.id)
        if LAT not in s or LON not in s:
            continue
        s = s.dropna(subset=[LAT, LON])
        if len(s) < 2:
            continue
        lat, lon = s[LAT].to_numpy(float), s[LON].to_numpy(float)
        # Equirectangular metres: exact enough for a sketch of a few km.
        k = 6_371_000.0 * math.pi / 180.0
        x = (lon - lon.mean()) * k * math.cos(math.radians(float(lat.mean())))
        y = (lat - lat.mean()) * k
        along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        keep = (along >= zone_m) & (along <= along[-1] - zone_m)
        if keep.sum() < 2:
            continue
        x, y = x[keep], y[keep]
        cx, cy = x.mean(), y.mean()   # re-centre so the trimmed shape does not reveal the hidden ends
        out.append(RouteTrace(r.id, r.day, tuple(np.round(x - cx, 1)), tuple(np.round(y - cy, 1)), zone_m))
    return tuple(out)


__all__ = [
    "PRIVACY_ZONE_M",
    "AthleteReport",
    "CadenceLine",
    "PainPoint",
    "RouteTrace",
    "RunPoint",
    "RunSamples",
    "WeekTrend",
    "build_athlete_report",
    "camber_basis",
    "with_run_flags",
]
