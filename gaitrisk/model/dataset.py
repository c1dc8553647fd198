"""Athlete-day rows for the risk model: features from the past, label from the next 7 days.

A row is one athlete on one local calendar day *t*, after that day is over.  Every
feature uses days <= t only (load metrics from :mod:`gaitrisk.load.metrics`, per-run
features summed or averaged over trailing windows, per-athlete baselines from
earlier days); the label looks at days t+1 .. t+7 only (no feature sees the future: the
leakage Bullock 2022 found in most injury-prediction models; horizon 7 days, a design
choice: Lövdal 2021 labels injury on the event day with a 7-day look-back):

* a *pain day* has a score >= ``min_score`` (3) in a target region (lateral hip,
  groin/front hip, buttock, lateral knee/ITB: gluteal tendinopathy, Grimaldi 2015; ITBS, Nielsen 2014);
* an *onset* is a pain day after >= ``pain_free_days`` (7) days that were not pain days
  ("NRS < 3 ... for >= 7 days", after Yamato 2015's 7-day injury definition);
* a day is *at risk* when it and the 6 days before it are not pain days: only those
  rows enter training, so the model cannot learn "pain predicts pain" (design choice);
* label = an onset in t+1 .. t+7.  As the day t is pain-free, the first pain day in
  that window *is* an onset.  Rows whose window runs past the last observed day are
  dropped (censored), never labelled 0.

An athlete with weekly OSTRC answers (:mod:`gaitrisk.pain.ostrc`) is labelled from them
instead: a pain day is a day of a week with a substantial problem in a target region, a
week without an answer is unknown (see :func:`ostrc_problem_days` and docs/model.md).

Lagged pain (days <= t) is a feature; pain from the label window never is (that would be leakage).
An NRS onset on day t counts in day t's features (the row is day t after it is over); an OSTRC
week counts in features only from its last day, Sunday, when its answer is known, while the
label may use every day of the week (the label window looks ahead anyway).
Target-region pain is counted on the day the entry was made, in the athlete's zone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..load.daily import DISTANCE, Daily, RunsFrame, daily_arrays, number, runs_frame
from ..load.metrics import daily_metrics, longest_previous, rolling_sum, safe_ratio, shift
from ..pain.compliance import BASELINE_DAYS, COMPLIANCE_DAYS
from ..features.camber import TRACK_LAP_M, side_evidence
from ..grouped import reduce_groups
from ..review import counted
from .daytable import DayTable
from .rules import ABS_CADENCE_MIN_SPEED, BREAK_DAYS, BREAK_WINDOW, PRE_BREAK_DAYS

if TYPE_CHECKING:
    import pandas as pd

    from ..store import Store

log = logging.getLogger(__name__)

# The hip and lateral-knee conditions gaitrisk is about (Grimaldi 2015; Nielsen 2014).
TARGET_REGIONS: tuple[str, ...] = ("lateral_hip", "groin_front_hip", "buttock", "lateral_knee_itb")
LATERAL_REGIONS: tuple[str, ...] = ("lateral_hip", "lateral_knee_itb")
# pain_rising also watches the bone-stress sites below the knee (a rising shin or foot pain matters
# as much as a rising hip pain), unlike the model's label, which stays on the target regions.
PAIN_RISING_REGIONS: tuple[str, ...] = (*TARGET_REGIONS, "shin", "foot")
WEEK, MONTH = 7, 28


@dataclass(frozen=True)
class LabelSpec:
    """What counts as an onset (defaults: a pain day after a pain-free week, after Yamato 2015; 7-day horizon,
    a design choice after Lövdal 2021)."""

    regions: tuple[str, ...] = TARGET_REGIONS
    min_score: int = 3
    pain_free_days: int = 7
    horizon_days: int = 7


# Model features and the flag each one speaks for (contributions are summed per flag).
FEATURE_GROUPS: dict[str, str] = {
    "dist_7d": "mileage_jump", "week_ratio": "mileage_jump", "ewma_7": "mileage_jump",
    "ewma_28": "mileage_jump", "monotony": "mileage_jump", "dist_7d_rel": "mileage_jump",
    "spike_max_7d": "session_spike", "spike_max_14d": "session_spike",
    "cad_resid_7d": "overstriding", "cad_low_share_7d": "overstriding",
    "dh5_m_7d": "downhill_load", "dh5_ratio": "downhill_load",
    "camber_measured_m_7d": "camber_exposure", "camber_measured_share_28d": "camber_exposure",
    "pain_max_7d": "pain_rising", "pain_mean_7d": "pain_rising", "days_since_pain": "pain_rising",
    "prior_onsets": "pain_rising",
}
FEATURES: tuple[str, ...] = tuple(FEATURE_GROUPS)


class Dataset:
    """Rows (index: athlete, day) with ``FEATURES``, the label ``y`` and every rule input in ``frame``;
    :meth:`table` gives one athlete's rows as numpy columns (what the flags and the report read).

    Built from the athletes' tables (:func:`build_dataset`), the frame is made on first use; built
    from a frame, each athlete's table is.
    """

    def __init__(self, frame: pd.DataFrame | None = None, spec: LabelSpec | None = None,
                 tables: Mapping[str, DayTable] | None = None) -> None:
        self.spec = spec or LabelSpec()
        self._frame = frame
        self._tables = dict(tables or {})

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            import pandas as pd

            frames = [t.frame for t in self._tables.values()]
            self._frame = pd.concat(frames) if frames else pd.DataFrame(
                columns=[*FEATURES, "label", "at_risk", "onset"],
                index=pd.MultiIndex.from_arrays([[], []], names=["athlete", "day"]))
        return self._frame

    def table(self, athlete: str) -> DayTable | None:
        """``athlete``'s rows, None when the dataset has none."""
        if athlete not in self._tables and self._frame is not None and not self._frame.empty \
                and athlete in self._frame.index.get_level_values("athlete"):
            self._tables[athlete] = DayTable.from_frame(self._frame.loc[[athlete]])
        return self._tables.get(athlete)

    @property
    def rows(self) -> pd.DataFrame:
        """Only the at-risk, uncensored rows (what the model trains and is scored on)."""
        return self.frame[self.frame["at_risk"] & self.frame["label"].notna()]

    @property
    def X(self) -> pd.DataFrame:
        return self.rows.loc[:, list(FEATURES)]

    @property
    def y(self) -> np.ndarray:
        return self.rows["label"].to_numpy(int)

    @property
    def groups(self) -> np.ndarray:
        return self.rows.index.get_level_values("athlete").to_numpy()

    @property
    def days(self) -> pd.DatetimeIndex:
        import pandas as pd

        return pd.DatetimeIndex(self.rows.index.get_level_values("day"))

    @property
    def logged_rows(self) -> pd.DataFrame:
        """``rows`` without those whose label is unknown for want of any pain entry (``label_unlogged``)."""
        rows = self.rows
        return rows[~rows["label_unlogged"].astype(bool)] if "label_unlogged" in rows else rows

    def onsets(self) -> pd.Series:
        """Onsets per athlete over the whole observed span."""
        return self.frame.groupby(level="athlete")["onset"].sum().astype(int)


def build_dataset(store: Store, athletes: Sequence[str] | None = None, zone: ZoneInfo | None = None,
                  spec: LabelSpec | None = None) -> Dataset:
    """Athlete-day rows of ``athletes`` (default: every athlete in the store with runs)."""
    zone = zone or ZoneInfo("UTC")
    spec = spec or LabelSpec()
    tables = {}
    for name in (athletes if athletes is not None else store.athletes()):
        t = day_table(store, name, zone, spec)
        if t is not None:
            tables[name] = t
    return Dataset(spec=spec, tables=tables)


def _pain_by_day(pos: np.ndarray, score: np.ndarray, use: np.ndarray, n: int) -> np.ndarray:
    """Per day (positions 0..n-1): the highest score of the entries in ``use``; 0 without one."""
    keep = use & (pos >= 0) & (pos < n)
    out = np.zeros(n)
    np.maximum.at(out, pos[keep], score[keep])
    return out


LABEL_SOURCES = {
    "ostrc_substantial": "a substantial problem (OSTRC-O2, Clarsen 2020) in a target region, reported weekly; "
                         "every day of that week counts, so the onset is the Monday of the first substantial week "
                         "after an answered week without one",
    "nrs_onset": "a pain-log score >= min_score in a target region after pain_free_days without one",
}


def ostrc_problem_days(weeks: Sequence, days: np.ndarray, regions: Sequence[str]) -> np.ndarray:
    """Per local day (``datetime64[D]``), from weekly OSTRC answers: 1.0 in a week with a substantial
    problem in ``regions``, 0.0 in an answered week without one, NaN in a week without any answer
    (unknown).

    An answer describes its whole week (Monday to Sunday), so each of the seven days takes its value.
    """
    answered: dict[np.datetime64, float] = {}
    for w in weeks:
        start = np.datetime64(w.week, "D")
        hit = 1.0 if (w.area in regions and w.substantial) else 0.0
        answered[start] = max(answered.get(start, 0.0), hit)
    days = np.asarray(days, "datetime64[D]")
    monday = days - (days.astype(np.int64) + 3) % 7   # 1970-01-01 was a Thursday
    out = np.full(len(days), np.nan)
    for start, hit in answered.items():
        out[monday == start] = hit
    return out


def label_sources(frame: pd.DataFrame | DayTable) -> dict[str, str]:
    """Which label each athlete's rows use: ``ostrc_substantial`` or ``nrs_onset`` (see :data:`LABEL_SOURCES`)."""
    if isinstance(frame, DayTable):
        if not len(frame) or "label_ostrc" not in frame:
            return {}
        return {frame.athlete: "ostrc_substantial" if np.nanmax(frame.col("label_ostrc")) > 0 else "nrs_onset"}
    if frame.empty or "label_ostrc" not in frame:
        return {}
    used = frame.groupby(level="athlete")["label_ostrc"].max()
    return {str(a): "ostrc_substantial" if v > 0 else "nrs_onset" for a, v in used.items()}


def _per_run(records: Mapping[str, Mapping[str, Any]], runs: RunsFrame) -> dict[str, np.ndarray]:
    """Per-run model inputs from the feature records (``{activity_id: record}``), one array per
    input in the runs' order; a run without a record has NaN inputs."""
    rows = [records.get(i, {}) for i in runs.ids]

    def col(name: str) -> np.ndarray:
        return np.array([number(r.get(name)) for r in rows], float)

    def zero(values: np.ndarray) -> np.ndarray:
        return np.nan_to_num(values, nan=0.0, posinf=np.inf, neginf=-np.inf)

    dist = runs.values[DISTANCE]
    source = [v if isinstance(v, str) else "" for v in (r.get("road_low_side_source") for r in rows)]
    measured = np.array([v.startswith("out-and-back") for v in source], bool)
    observed = np.array([side_evidence(v) == "observed" for v in source], bool)
    left, right = zero(col("road_left_low_m")), zero(col("road_right_low_m"))
    road = zero(col("road_m"))
    with np.errstate(invalid="ignore"):
        level_cad = np.where(col("level_speed_mps") >= ABS_CADENCE_MIN_SPEED, col("level_cadence_spm"), np.nan)
    cadence = _cadence_per_run(col, np.array([r.get("cadence_baseline") == "personal" for r in rows], bool))
    return {
        "abs_cad_w": np.where(np.isnan(level_cad), 0.0, dist), "abs_cad_x": zero(level_cad * dist),
        **cadence,
        "dh5_m": col("distance_m_grade_le_minus5"),
        "camber_measured_m": np.where(measured, left + right, 0.0),
        "road_m": road, "road_left_low_m": left, "road_right_low_m": right,
        # Camber from observed side evidence only (out-and-back pairing or a declared side).
        "road_obs_m": np.where(observed, road, 0.0), "road_obs_left_low_m": np.where(observed, left, 0.0),
        "road_obs_right_low_m": np.where(observed, right, 0.0), "road_assumed_m": np.where(observed, 0.0, road),
        "track_ccw_m": zero(col("track_ccw_m")), "track_cw_m": zero(col("track_cw_m")),
        "track_m": zero(col("track_laps") * TRACK_LAP_M),
    }


def cadence_per_run(f: pd.DataFrame) -> dict[str, pd.Series]:
    """Per run (rows of feature records): the level-time sums of :data:`CADENCE_SUMS` and the baseline's size.

    A run's level residual and low-cadence share are against its own baseline (the features
    module's: the runner's own once enough earlier level runs exist, else the population model).
    """
    import pandas as pd

    def col(name: str) -> np.ndarray:
        return pd.to_numeric(f[name], errors="coerce").to_numpy(float) if name in f else np.full(len(f), np.nan)

    own = (f["cadence_baseline"] == "personal").to_numpy(bool) if "cadence_baseline" in f else np.zeros(len(f), bool)
    return {k: pd.Series(v, index=f.index) for k, v in _cadence_per_run(col, own).items()}


def _cadence_per_run(col: Callable[[str], np.ndarray], own: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`cadence_per_run` on arrays: ``col(name)`` gives a record field per run, ``own`` says
    which runs have the runner's own baseline."""
    resid = col("cadence_residual_pct")
    level_s = np.where(np.isnan(resid), np.nan, col("level_time_s"))
    low_s, resid_x = col("cadence_low_share") * level_s, resid * level_s

    def part(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.nan_to_num(np.where(keep, values, 0.0), nan=0.0, posinf=np.inf, neginf=-np.inf)

    return {"own_level_s": part(level_s, own), "own_low_s": part(low_s, own), "own_resid_x": part(resid_x, own),
            "pop_level_s": part(level_s, ~own), "pop_low_s": part(low_s, ~own), "pop_resid_x": part(resid_x, ~own),
            "cad_base_runs": col("cadence_baseline_runs"), "cad_base_pct": col("cadence_baseline_pct")}


CADENCE_SUMS = ("own_level_s", "own_low_s", "own_resid_x", "pop_level_s", "pop_low_s", "pop_resid_x")


def cadence_window(w: dict) -> dict[str, np.ndarray] | pd.DataFrame:
    """The ``overstriding`` inputs of a window from its level-time sums (``CADENCE_SUMS``).

    Once any run in the window has the runner's own baseline, only those runs are judged (the
    population model is the cold start's fallback, never mixed in); otherwise the population
    runs are.  ``cad_resid_7d`` is the level-time-weighted residual against that baseline,
    ``cad_low_share_7d`` the share of the level time in windows low for speed by its cut, and
    ``cad_personal_7d`` says which baseline (1 own, 0 population; NaN: no level time).
    Arrays in, arrays out; pandas Series in, a DataFrame on their index out.
    """
    index = getattr(w["own_level_s"], "index", None)
    v = {k: np.asarray(w[k], float) for k in CADENCE_SUMS}
    with np.errstate(invalid="ignore", divide="ignore"):
        own = v["own_level_s"] > 0
        pop = v["pop_level_s"] > 0
        level = np.where(own, v["own_level_s"], np.where(pop, v["pop_level_s"], np.nan))
        low = np.where(own, v["own_low_s"], v["pop_low_s"])
        resid = np.where(own, v["own_resid_x"], v["pop_resid_x"])
        out = {"cad_resid_7d": resid / level, "cad_low_share_7d": low / level,
               "cad_personal_7d": np.where(own | pop, own.astype(float), np.nan), "cad_level_s_7d": level}
    if index is None:
        return out
    import pandas as pd   # the caller holds pandas Series

    return pd.DataFrame(out, index=index)


def camber_side_evidence(observed_m: np.ndarray, assumed_m: np.ndarray) -> np.ndarray:
    """Per day, what the 28-day camber exposure rests on: "observed" (some road metres with an
    observed side), "assumed" (road metres whose side is only assumed), "none" (no road), or None
    while the 28 days are not all known."""
    known = ~np.isnan(observed_m) & ~np.isnan(assumed_m)
    with np.errstate(invalid="ignore"):
        kind = np.where(observed_m > 0, "observed", np.where(assumed_m > 0, "assumed", "none")).astype(object)
    kind[~known] = None
    return kind


def _return_ratio(pos: np.ndarray, distance: np.ndarray, longest_run_m: np.ndarray,
                  no_data: np.ndarray | None = None) -> np.ndarray:
    """:func:`return_ratio` on day positions: ``pos`` (per run) indexes the daily ``longest_run_m``."""
    unique = np.unique(pos)
    prev = np.concatenate([[-1], unique[:-1]])     # the run day before each (-1: none)
    free = (unique - prev - 1).astype(float)        # whole days without a run before this one
    free[0] = np.nan
    if no_data is not None:
        unknown = np.cumsum(no_data.astype(float))  # gap days up to and including each day
        free = free - (unknown[unique] - np.where(prev >= 0, unknown[np.maximum(prev, 0)], 0.0))
    with np.errstate(invalid="ignore"):
        back = free >= BREAK_DAYS
    longest30 = _trailing(longest_run_m, PRE_BREAK_DAYS, np.fmax.reduce)   # the 30 days up to the last run
    # The latest break at or before each run day, and the longest run before it.
    latest = np.maximum.accumulate(np.where(back, np.arange(len(unique)), -1))
    has = latest >= 0
    first_days = has & (unique - unique[np.maximum(latest, 0)] < BREAK_WINDOW)
    ref = np.where(first_days, longest30[prev[np.maximum(latest, 0)]], np.nan)
    return safe_ratio(distance, ref[np.searchsorted(unique, pos)])


def return_ratio(run_day: pd.Series, distance: pd.Series, longest_run_m: pd.Series,
                 no_data: pd.Series | None = None) -> pd.Series:
    """Per run: distance / the longest run of the 30 days before a >= ``BREAK_DAYS`` break, for runs in
    the first ``BREAK_WINDOW`` days back (NaN otherwise; evidence table ``return_from_break``).

    ``longest_run_m`` (and ``no_data``) are indexed by consecutive days covering the runs' days.
    A break counts run-free days the runner was known not to run: days in a declared data gap
    (``no_data``) are unknown, not rest, so a gap is no break.
    """
    import pandas as pd

    first = longest_run_m.index[0]
    pos = ((pd.DatetimeIndex(run_day) - first).days).to_numpy()
    return pd.Series(_return_ratio(pos, distance.to_numpy(float), longest_run_m.to_numpy(float),
                                   None if no_data is None else no_data.to_numpy(bool)), index=run_day.index)


def _trailing_windows(x: np.ndarray, days: int) -> np.ndarray:
    """The ``days`` days ending on each day, the first ones padded with NaN (fewer known days)."""
    return sliding_window_view(np.concatenate([np.full(days - 1, np.nan), x]), days)


def _trailing(x: np.ndarray, days: int, reduce) -> np.ndarray:
    """``reduce`` over the ``days`` days ending on each day (fewer at the start)."""
    return reduce(_trailing_windows(x, days), axis=1)


def _trailing_max(x: np.ndarray, days: int) -> np.ndarray:
    """Highest known value of the ``days`` days ending on each day; NaN when none is known."""
    return _trailing(x, days, np.fmax.reduce)


def _trailing_sum(x: np.ndarray, days: int, mean: bool = False) -> np.ndarray:
    """Sum (or mean) of the known values of the ``days`` days ending on each day; NaN when none is known."""
    windows = _trailing_windows(x, days)
    count = (~np.isnan(windows)).sum(axis=1)
    total = np.nansum(windows, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count if mean else total, np.nan)


def _ffill(x: np.ndarray) -> np.ndarray:
    idx = np.maximum.accumulate(np.where(np.isnan(x), -1, np.arange(len(x))))
    return np.where(idx >= 0, x[np.maximum(idx, 0)], np.nan)


def athlete_days(store: Store, athlete: str, zone: ZoneInfo, spec: LabelSpec) -> pd.DataFrame:
    """Every day of one athlete from the first run to the last run or pain entry, all columns
    (:func:`day_table` as a DataFrame indexed by athlete and day; empty without runs)."""
    import pandas as pd

    table = day_table(store, athlete, zone, spec)
    return table.frame if table is not None else pd.DataFrame()


def day_table(store: Store, athlete: str, zone: ZoneInfo, spec: LabelSpec) -> DayTable | None:
    """Every day of one athlete from the first run to the last run or pain entry, all columns; None
    without runs."""
    feats = store.run_feature_records(athlete)
    runs = runs_frame(counted(store.activities(athlete), store.reviews(athlete)), zone, feats)
    if not len(runs):
        return None
    entries = store.pain_entries(athlete)
    weeks = store.ostrc_weeks(athlete)
    last = runs.day.max()
    if entries:
        last = max(last, np.datetime64(max(e.time_utc for e in entries).astimezone(zone).date(), "D"))
    if weeks:  # an answer speaks for its whole week
        last = max(last, np.datetime64(weeks[-1].week, "D") + 6)
    daily = daily_arrays(runs, store.gaps(athlete), start=runs.day.min().item(), end=last.item())
    out = _day_columns(daily, runs, feats)
    out.update(_pain_columns(entries, weeks, zone, daily, spec))
    out["ran"] = (daily["runs"] > 0).astype(float)   # run days: a pain-free run breaks see_a_clinician's chain
    return DayTable(athlete, daily.days, out)


def _day_columns(daily: Daily, runs: RunsFrame, feats: Mapping[str, Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """The load and per-run feature columns of the athlete-day table (days <= t only)."""
    n = len(daily)
    metrics = daily_metrics(daily)
    out = {k: metrics[k] for k in ("dist_7d", "dist_ref_7d", "week_ratio", "week_jump", "ewma_7", "ewma_28",
                                   "monotony", "descent_ratio", "descent_spike")}
    known = ~daily.no_data

    # -- per-run features over trailing windows (days <= t) -------------------------------------
    pr = _per_run(feats, runs)
    pos = (runs.day - daily.days[0]).astype(int)
    dist = runs.values[DISTANCE]
    prev_longest = longest_previous(daily["longest_run_m"])[pos]
    spike_ratio = safe_ratio(dist, prev_longest)
    ret_ratio = _return_ratio(pos, dist, daily["longest_run_m"], daily.no_data)
    summed = ["abs_cad_w", "abs_cad_x", *CADENCE_SUMS, "dh5_m", "camber_measured_m", "road_m", "road_left_low_m",
              "road_right_low_m", "track_ccw_m", "track_cw_m", "road_obs_m", "road_obs_left_low_m",
              "road_obs_right_low_m", "road_assumed_m", "track_m"]
    d = {}
    for c in summed:
        day_sum = reduce_groups(pos, pr[c], n, "sum")
        d[c] = np.where(known & np.isnan(day_sum), 0.0, day_sum)   # a rest day is 0; a gap day stays NaN
    ran_today = daily["runs"] > 0
    d["dh5_m"] = np.where(~known | ran_today, reduce_groups(pos, pr["dh5_m"], n, "sum"), 0.0)
    spike = reduce_groups(pos, spike_ratio, n, "max")
    out["spike_max_7d"] = _trailing_max(spike, WEEK)
    out["spike_max_14d"] = _trailing_max(spike, 2 * WEEK)
    out["return_ratio_7d"] = _trailing_max(reduce_groups(pos, ret_ratio, n, "max"), WEEK)
    w7 = {c: rolling_sum(d[c], WEEK) for c in summed}
    w28 = {c: rolling_sum(d[c], MONTH) for c in summed}
    out.update(cadence_window(w7))
    out["cad_level_7d"] = safe_ratio(w7["abs_cad_x"], w7["abs_cad_w"])   # runs at >= 2.5 m/s
    for c in ("cad_base_runs", "cad_base_pct"):   # as of the latest run on or before t
        out[c] = _ffill(reduce_groups(pos, pr[c], n, "last"))
    out["dh5_m_7d"] = w7["dh5_m"]
    out["dh5_ratio"] = safe_ratio(w7["dh5_m"], w28["dh5_m"] / 4.0)   # evidence table downhill_load
    out["camber_measured_m_7d"] = w7["camber_measured_m"]
    dist_28d = rolling_sum(daily[DISTANCE], MONTH)
    out["camber_measured_share_28d"] = safe_ratio(w28["camber_measured_m"], dist_28d)
    for c in ("road_m", "road_left_low_m", "road_right_low_m", "track_ccw_m", "track_cw_m", "road_obs_m",
              "road_obs_left_low_m", "road_obs_right_low_m", "road_assumed_m", "track_m"):
        out[f"{c}_28d"] = w28[c]
    out["camber_side_evidence"] = camber_side_evidence(out["road_obs_m_28d"], out["road_assumed_m_28d"])
    out["dist_28d"] = dist_28d
    # Athlete baseline of weekly distance: the mean 7-day distance over the days before t.
    d7 = out["dist_7d"]
    seen = np.cumsum(~np.isnan(d7))
    with np.errstate(invalid="ignore", divide="ignore"):
        baseline = np.where(seen >= MONTH, np.cumsum(np.nan_to_num(d7)) / seen, np.nan)
        out["dist_7d_rel"] = d7 / shift(baseline, 1)   # no running at all so far: unknown
    return out


def _pain_columns(entries: Sequence, weeks: Sequence, zone: ZoneInfo, daily: Daily,
                  spec: LabelSpec) -> dict[str, np.ndarray]:
    """Lagged pain features and the label of the athlete-day table."""
    days, n = daily.days, len(daily)
    pos = np.array([(np.datetime64(e.time_utc.astimezone(zone).date(), "D") - days[0]).astype(int)
                    for e in entries], int)
    score = np.array([e.score for e in entries], float)
    region = np.array([e.region for e in entries], object)
    side = np.array([e.side for e in entries], object)
    when = np.array([e.when for e in entries], object)
    every = np.ones(len(entries), bool)

    def in_regions(regions: Sequence[str]) -> np.ndarray:
        return np.isin(region, list(regions)) if len(entries) else every

    def on_side(s: str) -> np.ndarray:
        return np.isin(side, [s, "both"]) if len(entries) else every

    target = in_regions(spec.regions)
    lateral = in_regions([r for r in spec.regions if r in LATERAL_REGIONS])
    rising = in_regions(PAIN_RISING_REGIONS)
    out: dict[str, np.ndarray] = {}
    score_day = _pain_by_day(pos, score, target, n)
    out["pain_max_7d"] = _trailing_max(score_day, WEEK)
    out["pain_mean_7d"] = _trailing_sum(score_day, WEEK, mean=True)
    for s in ("L", "R"):
        out[f"pain_{s}_28d"] = _trailing_max(_pain_by_day(pos, score, target & on_side(s), n), MONTH)
    # Camber speaks for lateral hip and lateral knee pain only (evidence table camber_exposure).
    for s in ("L", "R"):
        out[f"lat_pain_{s}_28d"] = _trailing_max(_pain_by_day(pos, score, lateral & on_side(s), n), MONTH)
    # pain_rising inputs: a day without any entry is unknown (NaN), not 0; a logged day without an
    # entry in these regions is pain-free there.
    logged = np.zeros(n, bool)
    logged[pos[(pos >= 0) & (pos < n)]] = True
    rising_pain = np.where(logged, _pain_by_day(pos, score, rising, n), np.nan)
    out["pain_morning"] = _pain_by_day(pos, score, rising & (when == "next_morning"), n)
    out["pain_run_today"] = _pain_by_day(pos, score, rising & (when == "during_run"), n)
    idx = np.arange(n)
    last_pain = np.maximum.accumulate(np.where(score_day > 0, idx, -90))
    out["days_since_pain"] = np.minimum(idx - last_pain, 90).astype(float)
    problem = (ostrc_problem_days(weeks, days, spec.regions) if weeks
               else (score_day >= spec.min_score).astype(float))
    out["label_ostrc"] = np.full(n, float(bool(weeks)))
    is_pain = problem == 1.0
    # An unanswered OSTRC week (NaN) keeps a day at risk, so the model speaks for the week not yet
    # answered; an onset needs the days before it known to be problem-free.
    recent = _trailing_sum(np.nan_to_num(problem, nan=0.0), spec.pain_free_days)
    before = shift(_trailing_sum(np.nan_to_num(problem, nan=1.0), spec.pain_free_days), 1)
    onset = is_pain & (before == 0) & (idx >= spec.pain_free_days)
    out["onset"] = onset.astype(int)
    # A feature on day t sees only what is known when t is over: an NRS onset on t is, but an OSTRC
    # week's answer describes Monday to Sunday and is known on its Sunday, so its onset counts from there.
    known_onset = shift(onset.astype(float), WEEK - 1) == 1.0 if weeks else onset
    out["prior_onsets"] = np.cumsum(known_onset).astype(float)
    out["at_risk"] = (recent == 0) & (idx >= spec.pain_free_days - 1)
    h = spec.horizon_days
    # A horizon reaching an unanswered week (NaN) is censored like one past the last observed day:
    # the highest problem value of days t+1 .. t+h, all of them known.
    ahead_max = np.full(n, np.nan)
    if n > h:
        ahead_max[:n - h] = sliding_window_view(problem[1:], h).max(axis=1)
    out["label"] = ahead_max
    out["pain_today"] = rising_pain
    out["pain_base_7d"] = _trailing_sum(shift(rising_pain, 1), BASELINE_DAYS, mean=True)   # logged days only
    logged_f = logged.astype(float)
    out["pain_logged_7d"] = _trailing_sum(shift(logged_f, 1), BASELINE_DAYS)
    out["pain_log_14d"] = _trailing_sum(logged_f, COMPLIANCE_DAYS)
    # Unlogged pain is unknown, not absent: no entry at all in the 14 days up to t nor in the horizon.
    ahead = np.zeros(n)
    if n > 1:
        ahead[:-1] = _trailing_sum(logged_f[1:][::-1], h)[::-1]
    out["label_unlogged"] = (out["pain_log_14d"] == 0) & (ahead == 0)
    return out
