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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..load.daily import daily_series, runs_frame
from ..load.metrics import daily_metrics, longest_previous, rolling_sum
from ..pain.compliance import BASELINE_DAYS, COMPLIANCE_DAYS, logged_days
from ..features.camber import TRACK_LAP_M, side_evidence
from ..review import counted
from .rules import ABS_CADENCE_MIN_SPEED, BREAK_DAYS, BREAK_WINDOW, PRE_BREAK_DAYS

if TYPE_CHECKING:
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


@dataclass
class Dataset:
    """Rows (index: athlete, day) with ``FEATURES``, the label ``y`` and every rule input in ``frame``."""

    frame: pd.DataFrame
    spec: LabelSpec = field(default_factory=LabelSpec)

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
    frames = []
    for name in (athletes if athletes is not None else store.athletes()):
        f = athlete_days(store, name, zone, spec)
        if not f.empty:
            frames.append(f)
    if not frames:
        return Dataset(pd.DataFrame(columns=[*FEATURES, "label", "at_risk", "onset"],
                                    index=pd.MultiIndex.from_arrays([[], []], names=["athlete", "day"])), spec)
    return Dataset(pd.concat(frames), spec)


def pain_days(entries: Sequence, zone: ZoneInfo, days: pd.DatetimeIndex, regions: Sequence[str]) -> pd.DataFrame:
    """Per local day: max target score overall, per side (L/R; 'both' counts for each), 0 without an entry."""
    cols = ["pain_max", "pain_L", "pain_R"]
    if not entries:
        return pd.DataFrame(0.0, index=days, columns=cols)
    e = pd.DataFrame({"t": pd.to_datetime([x.time_utc for x in entries], utc=True),
                      "score": [x.score for x in entries], "region": [x.region for x in entries],
                      "side": [x.side for x in entries]})
    e = e[e["region"].isin(regions)]
    e["day"] = e["t"].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    out = pd.DataFrame(index=days)
    out["pain_max"] = e.groupby("day")["score"].max()
    for side in ("L", "R"):
        out[f"pain_{side}"] = e[e["side"].isin([side, "both"])].groupby("day")["score"].max()
    return out.reindex(days).fillna(0.0)


LABEL_SOURCES = {
    "ostrc_substantial": "a substantial problem (OSTRC-O2, Clarsen 2020) in a target region, reported weekly; "
                         "every day of that week counts, so the onset is the Monday of the first substantial week "
                         "after an answered week without one",
    "nrs_onset": "a pain-log score >= min_score in a target region after pain_free_days without one",
}


def ostrc_problem_days(weeks: Sequence, days: pd.DatetimeIndex, regions: Sequence[str]) -> pd.Series:
    """Per local day, from weekly OSTRC answers: 1.0 in a week with a substantial problem in ``regions``,
    0.0 in an answered week without one, NaN in a week without any answer (unknown).

    An answer describes its whole week (Monday to Sunday), so each of the seven days takes its value.
    """
    answered: dict[pd.Timestamp, float] = {}
    for w in weeks:
        start = pd.Timestamp(w.week)
        hit = 1.0 if (w.area in regions and w.substantial) else 0.0
        answered[start] = max(answered.get(start, 0.0), hit)
    monday = pd.Series(days - pd.to_timedelta(days.day_of_week, unit="D"), index=days)
    return monday.map(answered).astype(float)


def label_sources(frame: pd.DataFrame) -> dict[str, str]:
    """Which label each athlete's rows use: ``ostrc_substantial`` or ``nrs_onset`` (see :data:`LABEL_SOURCES`)."""
    if frame.empty or "label_ostrc" not in frame:
        return {}
    used = frame.groupby(level="athlete")["label_ostrc"].max()
    return {str(a): "ostrc_substantial" if v > 0 else "nrs_onset" for a, v in used.items()}


def _per_run(feats: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per-run model inputs from the feature records (index: activity id)."""
    f = feats.reindex(runs.index)

    def col(name: str) -> pd.Series:
        return pd.to_numeric(f[name], errors="coerce") if name in f else pd.Series(np.nan, index=f.index)

    dist = runs["distance_m"]
    source = f["road_low_side_source"] if "road_low_side_source" in f else pd.Series(None, index=f.index)
    source = source.astype(object).fillna("").astype(str)
    measured = source.str.startswith("out-and-back")
    observed = source.map(side_evidence).eq("observed")
    left, right = col("road_left_low_m").fillna(0.0), col("road_right_low_m").fillna(0.0)
    road = col("road_m").fillna(0.0)
    level_cad = col("level_cadence_spm").where(col("level_speed_mps") >= ABS_CADENCE_MIN_SPEED)
    return pd.DataFrame({
        "day": runs["day"], "distance_m": dist,
        "abs_cad_w": dist.where(level_cad.notna(), 0.0), "abs_cad_x": (level_cad * dist).fillna(0.0),
        **cadence_per_run(f),
        "dh5_m": col("distance_m_grade_le_minus5"),
        "camber_measured_m": (left + right).where(measured, 0.0),
        "road_m": road, "road_left_low_m": left, "road_right_low_m": right,
        # Camber from observed side evidence only (out-and-back pairing or a declared side).
        "road_obs_m": road.where(observed, 0.0), "road_obs_left_low_m": left.where(observed, 0.0),
        "road_obs_right_low_m": right.where(observed, 0.0), "road_assumed_m": road.where(~observed, 0.0),
        "track_ccw_m": col("track_ccw_m").fillna(0.0), "track_cw_m": col("track_cw_m").fillna(0.0),
        "track_m": (col("track_laps") * TRACK_LAP_M).fillna(0.0),
    }, index=runs.index)


def cadence_per_run(f: pd.DataFrame) -> dict[str, pd.Series]:
    """Per run (rows of feature records): the level-time sums of :data:`CADENCE_SUMS` and the baseline's size.

    A run's level residual and low-cadence share are against its own baseline (the features
    module's: the runner's own once enough earlier level runs exist, else the population model).
    """
    def col(name: str) -> pd.Series:
        return pd.to_numeric(f[name], errors="coerce") if name in f else pd.Series(np.nan, index=f.index)

    level_s = col("level_time_s").where(col("cadence_residual_pct").notna())
    own = (f["cadence_baseline"] == "personal") if "cadence_baseline" in f else pd.Series(False, index=f.index)
    low_s, resid_x = col("cadence_low_share") * level_s, col("cadence_residual_pct") * level_s
    return {"own_level_s": level_s.where(own, 0.0).fillna(0.0), "own_low_s": low_s.where(own, 0.0).fillna(0.0),
            "own_resid_x": resid_x.where(own, 0.0).fillna(0.0), "pop_level_s": level_s.where(~own, 0.0).fillna(0.0),
            "pop_low_s": low_s.where(~own, 0.0).fillna(0.0), "pop_resid_x": resid_x.where(~own, 0.0).fillna(0.0),
            "cad_base_runs": col("cadence_baseline_runs"), "cad_base_pct": col("cadence_baseline_pct")}


CADENCE_SUMS = ("own_level_s", "own_low_s", "own_resid_x", "pop_level_s", "pop_low_s", "pop_resid_x")


def cadence_window(w: dict[str, pd.Series]) -> pd.DataFrame:
    """The ``overstriding`` inputs of a window from its level-time sums (``CADENCE_SUMS``).

    Once any run in the window has the runner's own baseline, only those runs are judged (the
    population model is the cold start's fallback, never mixed in); otherwise the population
    runs are.  ``cad_resid_7d`` is the level-time-weighted residual against that baseline,
    ``cad_low_share_7d`` the share of the level time in windows low for speed by its cut, and
    ``cad_personal_7d`` says which baseline (1 own, 0 population; NaN: no level time).
    """
    own = w["own_level_s"] > 0
    pop = w["pop_level_s"] > 0
    level = w["own_level_s"].where(own, w["pop_level_s"].where(pop))
    low = w["own_low_s"].where(own, w["pop_low_s"])
    resid = w["own_resid_x"].where(own, w["pop_resid_x"])
    return pd.DataFrame({"cad_resid_7d": resid / level, "cad_low_share_7d": low / level,
                         "cad_personal_7d": own.astype(float).where(own | pop), "cad_level_s_7d": level})


def camber_side_evidence(observed_m: pd.Series, assumed_m: pd.Series) -> pd.Series:
    """Per day, what the 28-day camber exposure rests on: "observed" (some road metres with an
    observed side), "assumed" (road metres whose side is only assumed), "none" (no road), or None
    while the 28 days are not all known."""
    known = observed_m.notna() & assumed_m.notna()
    kind = np.where(observed_m > 0, "observed", np.where(assumed_m > 0, "assumed", "none"))
    return pd.Series(np.where(known, kind, None), index=observed_m.index, dtype=object)


def return_ratio(run_day: pd.Series, distance: pd.Series, longest_run_m: pd.Series,
                 no_data: pd.Series | None = None) -> pd.Series:
    """Per run: distance / the longest run of the 30 days before a >= ``BREAK_DAYS`` break, for runs in
    the first ``BREAK_WINDOW`` days back (NaN otherwise; evidence table ``return_from_break``).

    A break counts run-free days the runner was known not to run: days in a declared data gap
    (``no_data``, indexed by day like ``longest_run_m``) are unknown, not rest, so a gap is no break.
    """
    day = pd.DatetimeIndex(run_day)
    unique = pd.DatetimeIndex(np.unique(day))
    prev = unique.to_series().shift(1)
    free = (unique.to_series() - prev).dt.days - 1          # whole days without a run before this one
    if no_data is not None:
        unknown = no_data.astype(float).cumsum()        # gap days up to and including each day
        upto_now = unknown.reindex(unique).fillna(0.0).to_numpy()
        upto_prev = unknown.reindex(pd.DatetimeIndex(prev)).fillna(0.0).to_numpy()
        free = free - (upto_now - upto_prev)
    back = free >= BREAK_DAYS
    longest30 = longest_run_m.rolling(PRE_BREAK_DAYS, min_periods=1).max()   # the 30 days up to the last run
    pre = pd.Series(longest30.reindex(pd.DatetimeIndex(prev[back])).to_numpy(), index=unique[back])
    start = pd.Series(unique[back], index=unique[back]).reindex(unique).ffill()
    first_days = (unique.to_series() - start).dt.days < BREAK_WINDOW
    ref = pre.reindex(start.to_numpy()).to_numpy()
    per_day = pd.Series(np.where(first_days.to_numpy(), ref, np.nan), index=unique)
    ref_run = per_day.reindex(day).to_numpy()
    return pd.Series(distance.to_numpy() / np.where(ref_run > 0, ref_run, np.nan), index=run_day.index)


def athlete_days(store: Store, athlete: str, zone: ZoneInfo, spec: LabelSpec) -> pd.DataFrame:
    """Every day of one athlete from the first run to the last run or pain entry, all columns."""
    feats = store.run_features(athlete)
    rf = runs_frame(counted(store.activities(athlete), store.reviews(athlete)), zone, feats)
    runs = rf.frame
    if runs.empty:
        return pd.DataFrame()
    entries = store.pain_entries(athlete)
    weeks = store.ostrc_weeks(athlete)
    last = runs["day"].max()
    if entries:
        last = max(last, pd.Timestamp(max(e.time_utc for e in entries).astimezone(zone).date()))
    if weeks:  # an answer speaks for its whole week
        last = max(last, pd.Timestamp(weeks[-1].week + pd.Timedelta(days=6)))
    daily = daily_series(rf, store.gaps(athlete), start=runs["day"].min().date(), end=last.date())
    days = daily.index
    out = daily_metrics(daily)[["dist_7d", "dist_ref_7d", "week_ratio", "week_jump", "ewma_7", "ewma_28",
                                "monotony", "descent_ratio", "descent_spike"]].copy()
    known = ~daily["no_data"].to_numpy(bool)

    # -- per-run features over trailing windows (days <= t) -------------------------------------
    pr = _per_run(feats, runs)
    prev_longest = longest_previous(daily["longest_run_m"]).reindex(pd.DatetimeIndex(pr["day"])).to_numpy()
    pr["spike_ratio"] = pr["distance_m"].to_numpy() / np.where(prev_longest > 0, prev_longest, np.nan)
    pr["return_ratio"] = return_ratio(pr["day"], pr["distance_m"], daily["longest_run_m"], daily["no_data"])
    summed = ["abs_cad_w", "abs_cad_x", *CADENCE_SUMS, "dh5_m", "camber_measured_m", "road_m", "road_left_low_m",
              "road_right_low_m", "track_ccw_m", "track_cw_m", "road_obs_m", "road_obs_left_low_m",
              "road_obs_right_low_m", "road_assumed_m", "track_m"]
    by_day = pr.groupby("day")
    d = by_day[summed].sum(min_count=1).reindex(days)
    d.loc[known, summed] = d.loc[known, summed].fillna(0.0)   # a rest day is 0; a gap day stays NaN
    d["dh5_m"] = by_day["dh5_m"].sum(min_count=1).reindex(days).where(~known | daily["runs"].gt(0), 0.0)
    spike = by_day["spike_ratio"].max().reindex(days)
    out["spike_max_7d"] = spike.rolling(WEEK, min_periods=1).max()
    out["spike_max_14d"] = spike.rolling(2 * WEEK, min_periods=1).max()
    out["return_ratio_7d"] = by_day["return_ratio"].max().reindex(days).rolling(WEEK, min_periods=1).max()
    w7 = {c: rolling_sum(d[c], WEEK) for c in summed}
    w28 = {c: rolling_sum(d[c], MONTH) for c in summed}
    out = out.join(cadence_window(w7))
    out["cad_level_7d"] = w7["abs_cad_x"] / w7["abs_cad_w"].where(w7["abs_cad_w"] > 0)   # runs at >= 2.5 m/s
    for c in ("cad_base_runs", "cad_base_pct"):   # as of the latest run on or before t
        out[c] = by_day[c].last().reindex(days).ffill()
    out["dh5_m_7d"] = w7["dh5_m"]
    out["dh5_ratio"] = w7["dh5_m"] / (w28["dh5_m"] / 4.0).where(w28["dh5_m"] > 0)   # evidence table downhill_load
    out["camber_measured_m_7d"] = w7["camber_measured_m"]
    out["camber_measured_share_28d"] = w28["camber_measured_m"] / rolling_sum(daily["distance_m"], MONTH).where(
        lambda s: s > 0)
    for c in ("road_m", "road_left_low_m", "road_right_low_m", "track_ccw_m", "track_cw_m", "road_obs_m",
              "road_obs_left_low_m", "road_obs_right_low_m", "road_assumed_m", "track_m"):
        out[f"{c}_28d"] = w28[c]
    out["camber_side_evidence"] = camber_side_evidence(out["road_obs_m_28d"], out["road_assumed_m_28d"])
    out["dist_28d"] = rolling_sum(daily["distance_m"], MONTH)
    # Athlete baseline of weekly distance: the mean 7-day distance over the days before t.
    out["dist_7d_rel"] = out["dist_7d"] / out["dist_7d"].expanding(min_periods=MONTH).mean().shift(1)

    # -- pain: lagged features and the label ------------------------------------------------------
    pain = pain_days(entries, zone, days, spec.regions)
    score = pain["pain_max"]
    out["pain_max_7d"] = score.rolling(WEEK, min_periods=1).max()
    out["pain_mean_7d"] = score.rolling(WEEK, min_periods=1).mean()
    for side in ("L", "R"):
        out[f"pain_{side}_28d"] = pain[f"pain_{side}"].rolling(MONTH, min_periods=1).max()
    # Camber speaks for lateral hip and lateral knee pain only (evidence table camber_exposure).
    lateral = pain_days(entries, zone, days, [r for r in spec.regions if r in LATERAL_REGIONS])
    for side in ("L", "R"):
        out[f"lat_pain_{side}_28d"] = lateral[f"pain_{side}"].rolling(MONTH, min_periods=1).max()
    # pain_rising inputs: a day without any entry is unknown (NaN), not 0; a logged day without an
    # entry in these regions is pain-free there.
    logged = pd.Series(days.isin(pd.DatetimeIndex(sorted(logged_days(entries, zone)))), index=days)
    rising_pain = pain_days(entries, zone, days, PAIN_RISING_REGIONS)["pain_max"].where(logged)
    morning = pain_days([e for e in entries if e.when == "next_morning"], zone, days, PAIN_RISING_REGIONS)
    out["pain_morning"] = morning["pain_max"]
    out["pain_run_today"] = pain_days([e for e in entries if e.when == "during_run"], zone, days,
                                      PAIN_RISING_REGIONS)["pain_max"]
    idx = np.arange(len(days))
    last_pain = pd.Series(np.where(score.to_numpy() > 0, idx, np.nan), index=days).ffill()
    out["days_since_pain"] = np.minimum(idx - last_pain.fillna(-90).to_numpy(), 90.0)
    problem = ostrc_problem_days(weeks, days, spec.regions) if weeks else (score >= spec.min_score).astype(float)
    out["label_ostrc"] = float(bool(weeks))
    is_pain = problem.eq(1.0)
    # An unanswered OSTRC week (NaN) keeps a day at risk, so the model speaks for the week not yet
    # answered; an onset needs the days before it known to be problem-free.
    recent = problem.fillna(0.0).rolling(spec.pain_free_days, min_periods=1).sum()
    before = problem.fillna(1.0).rolling(spec.pain_free_days, min_periods=1).sum().shift(1)
    onset = is_pain & before.eq(0) & (idx >= spec.pain_free_days)
    out["onset"] = onset.astype(int)
    # A feature on day t sees only what is known when t is over: an NRS onset on t is, but an OSTRC
    # week's answer describes Monday to Sunday and is known on its Sunday, so its onset counts from there.
    known_onset = onset.shift(WEEK - 1, fill_value=False) if weeks else onset
    out["prior_onsets"] = known_onset.cumsum().astype(float)
    out["at_risk"] = recent.eq(0).to_numpy() & (idx >= spec.pain_free_days - 1)
    h = spec.horizon_days
    # A horizon reaching an unanswered week (NaN) is censored like one past the last observed day.
    future = problem[::-1].rolling(h, min_periods=h).max()[::-1].shift(-1)
    out["label"] = future.where(future.notna())
    out["pain_today"] = rising_pain
    out["pain_base_7d"] = rising_pain.shift(1).rolling(BASELINE_DAYS, min_periods=1).mean()   # logged days only
    out["pain_logged_7d"] = logged.astype(float).shift(1).rolling(BASELINE_DAYS, min_periods=1).sum()
    out["pain_log_14d"] = logged.astype(float).rolling(COMPLIANCE_DAYS, min_periods=1).sum()
    # Unlogged pain is unknown, not absent: no entry at all in the 14 days up to t nor in the horizon.
    ahead = logged.astype(float)[::-1].rolling(h, min_periods=1).sum()[::-1].shift(-1).fillna(0.0)
    out["label_unlogged"] = out["pain_log_14d"].eq(0) & ahead.eq(0)
    out["ran"] = daily["runs"].gt(0).astype(float)   # run days: a pain-free run breaks see_a_clinician's chain
    out.index = pd.MultiIndex.from_arrays([[athlete] * len(days), days], names=["athlete", "day"])
    return out
