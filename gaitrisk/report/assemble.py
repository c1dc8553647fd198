"""Store -> :class:`AthleteReport`: everything one athlete's report shows, as typed values (issue 5).

The renderers (:mod:`.text`, :mod:`.markdown`, :mod:`.jsonout`, :mod:`.html`) only format
what is assembled here, so every format shows the same numbers.  Nothing is recomputed
from samples: flags come from :func:`gaitrisk.model.flags.assess`, the weekly table from
:func:`gaitrisk.load.weekly.load_report` and the gait/terrain/camber values from the per-run
feature records the import stored.  Samples are read only for ``with_maps`` (route shapes).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..features.camber import side_evidence
from ..features.gait import (
    POP_CADENCE_INTERCEPT,
    POP_CADENCE_SLOPE,
    fit_personal_baseline,
)
from ..load.weekly import LoadReport, WeekRow
from ..model.flags import Assessment, ModelView
from ..model.rules import Flag
from ..pain.compliance import PainLogStatus, pain_log_status
from ..review import counted

log = logging.getLogger(__name__)

DEFAULT_WEEKS = 8          # the issue: "the last 8 weeks of load"
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
    road_m: float | None = None
    road_side_evidence: str | None = None  # observed (out-and-back, declared) / assumed (defaults); None: no road


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
    source: str                        # population (VU wearable study) / personal / personal_offset
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

    @property
    def red_flags(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.code == "see_a_clinician")


def build_athlete_report(store, athlete: str, zone: ZoneInfo | str, *, since: dt.date | None = None,
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
    try:
        ds = build_dataset(store, [athlete], zone)
        assessment = assess(store, athlete, zone, last=last, days=FLAG_DAYS, model_path=model_path,
                            dataset=ds, pain_entries=entries)
    except LookupError:
        assessment = Assessment(athlete, last, last)
    except Exception as exc:  # a bug in one rule must not cost a nightly run every athlete's report
        log.error("flags for %s could not be computed: %s: %s", athlete, type(exc).__name__, exc)
        log.debug("flags traceback", exc_info=True)
        assessment = Assessment(athlete, last - dt.timedelta(days=FLAG_DAYS - 1), last)
        notes.append(f"FLAGS COULD NOT BE COMPUTED ({type(exc).__name__}: {exc}); the rest of the report is "
                     "complete. Please report this as a bug.")
    load = load_report(store, athlete, zone, last, n_weeks)
    runs = _run_points(store, athlete, acts, zone, load, first, last)
    stale = max(0, (today - latest).days)
    if stale > STALE_DAYS:
        notes.append(f"no runs or pain entries in the {stale} days up to {today}: this report shows {latest}")
    return AthleteReport(
        athlete=athlete, zone=zone.key, first=first, last=last, latest_data=latest, stale_days=stale,
        flags=assessment.flags, flag_first=assessment.first, model=assessment.model,
        model_note=assessment.model_note, weeks=load.weeks, trends=_trends(runs, load.weeks), runs=runs,
        pain=tuple(_pain_points(entries, zone, first, last)),
        expected_cadence=CadenceLine(POP_CADENCE_INTERCEPT, POP_CADENCE_SLOPE, "population", 0),
        baseline_cadence=_baseline(runs), load_notes=load.notes, notes=tuple(notes),
        routes=_routes(store, runs, privacy_zone_m) if with_maps else None, privacy_zone_m=privacy_zone_m,
        pain_log=pain_log_status(entries, zone, last))


def _num(rec: dict, key: str) -> float | None:
    v = rec.get(key)
    if v is None or isinstance(v, (str, bool, dict, list)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _run_points(store, athlete: str, acts, zone: ZoneInfo, load: LoadReport, first: dt.date,
                last: dt.date) -> tuple[RunPoint, ...]:
    """The runs of first..last with their stored features and spike (one feature query for all)."""
    feats = store.run_features(athlete)
    records = feats.to_dict("index") if len(feats) else {}
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
            road_m=_num(rec, "road_m"), road_side_evidence=_side_evidence(rec)))
    return tuple(out)


def _side_evidence(rec: dict) -> str | None:
    source = rec.get("road_low_side_source")
    evidence = side_evidence(source if isinstance(source, str) else None)
    return None if evidence == "none" else evidence


def _wmean(pairs: list[tuple[float | None, float | None]]) -> float | None:
    """Distance-weighted mean of the values that exist (a run without a distance weighs 1 m)."""
    ok = [(v, w if w and w > 0 else 1.0) for v, w in pairs if v is not None]
    if not ok:
        return None
    return sum(v * w for v, w in ok) / sum(w for _, w in ok)


def _sum(values: list[float | None]) -> float | None:
    ok = [v for v in values if v is not None]
    return sum(ok) if ok else None


def _trends(runs: tuple[RunPoint, ...], weeks: tuple[WeekRow, ...]) -> tuple[WeekTrend, ...]:
    out = []
    for w in weeks:
        rs = [r for r in runs if w.week_start <= r.day <= w.week_end]
        out.append(WeekTrend(
            week_start=w.week_start, week_end=w.week_end, runs=len(rs),
            cadence_residual_pct=_wmean([(r.cadence_residual_pct, r.distance_m) for r in rs]),
            gct_ms=_wmean([(r.gct_ms, r.distance_m) for r in rs]),
            gct_balance_pct=_wmean([(r.gct_balance_pct, r.distance_m) for r in rs]),
            downhill5_m=_sum([r.downhill5_m for r in rs]), downhill10_m=_sum([r.downhill10_m for r in rs]),
            road_left_low_m=_sum([r.road_left_low_m for r in rs]),
            road_right_low_m=_sum([r.road_right_low_m for r in rs]),
            track_ccw_m=_sum([r.track_ccw_m for r in rs]), track_cw_m=_sum([r.track_cw_m for r in rs]),
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
    """The athlete's own cadence-speed line from the runs shown (the personal baseline of docs/evidence.md).

    With >= 10 level runs the personal fit of the features module; with 3-9 the
    population slope through the athlete's median offset (too few runs for a slope);
    below 3 none.
    """
    pts = [(r.level_speed_mps, r.level_cadence_spm) for r in runs
           if r.level_speed_mps is not None and r.level_cadence_spm is not None]
    if len(pts) < 3:
        return None
    import numpy as np

    v, c = np.array(pts, float).T
    fit = fit_personal_baseline(v, c)
    if fit.source == "personal":
        return CadenceLine(fit.a, fit.b, "personal", fit.n_runs)
    return CadenceLine(float(np.median(c - POP_CADENCE_SLOPE * v)), POP_CADENCE_SLOPE, "personal_offset", len(pts))


def _routes(store, runs: tuple[RunPoint, ...], zone_m: float) -> tuple[RouteTrace, ...]:
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
    "WeekTrend",
    "build_athlete_report",
]
