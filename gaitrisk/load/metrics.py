"""Load metrics: pure, vectorised functions on a daily series.

Every function takes a daily series of consecutive local calendar days (see
:mod:`.daily`) and returns values aligned to it: given numpy arrays it answers in
numpy arrays (a dict of them for several columns; a flag is 1.0, 0.0 or NaN), and
given a pandas ``Series`` it answers in a ``Series`` or ``DataFrame`` on the same
index (a flag as a nullable boolean).  The weekly load table uses the arrays, so it
needs no pandas; the model's athlete-day table uses the frames.  A value on day *d*
uses days <= *d* only (the day itself once it is over) -- never a centred or
future window; the single-run spike compares a run with the 30 days *before* its
day.  Windows count calendar days, not ISO weeks.

"Not enough history" is NaN (``<NA>`` for flags): a window of N days needs N
known days.  Days before the first run are not in the series and days in a
declared gap are NaN, so both make every window that touches them NaN -- the
rolling functions' ``min_periods=N`` does that without any special case.

Thresholds and their sources:

============================  =======================  ==========================================
metric                        threshold / window       source
============================  =======================  ==========================================
single-run spike              > 10 / 30 / 100 % over   Frandsen et al. 2025 BJSM (evidence table: session_spike)
                              longest run, prev. 30 d
week-to-week change           > 30 % over the reference Nielsen et al. 2014 JOSPT (the 30 %);
                              week, from >= 10 km       reference and guard: design choice
ACWR, uncoupled               7 d : days t-27..t-7     Windt & Gabbett via Lolli 2019
ACWR, EWMA                    N = 7 / 28, λ = 2/(N+1)  Williams et al. 2017
ACWR caution (display only)   > 1.5, low evidence      Gabbett 2016
monotony / strain             7 d; SD floored          Foster 1998
monotony soft flag            > 2.0                    convention, Fellrnr/Afitpilot [D]
return to run                 >= 21 days without a run design choice (evidence table: return_from_break)
descent spike                 7 d > 1.5 x the mean     design choice (Gottschall 2005, Telhan
                              week of the 28 d before   2010: downhill raises impact forces)
============================  =======================  ==========================================
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# --- thresholds (each names its source; see the table above) -------------------
SPIKE_WINDOW_DAYS = 30                 # Frandsen 2025: longest run in the previous 30 days
SPIKE_TIERS = ((1.00, "large"), (0.30, "moderate"), (0.10, "small"))  # Frandsen 2025: > 100/30/10 %
TIER_NONE, TIER_INSUFFICIENT = "none", "insufficient_history"
WEEK_DAYS = 7                          # rolling 7 calendar days
WEEK_JUMP = 0.30                       # Nielsen 2014: > 30 % over the previous 7 days
WEEK_JUMP_MIN_M = 10_000.0             # design choice: no jump from a reference week under 10 km
ACUTE_DAYS, CHRONIC_DAYS = 7, 21       # uncoupled 7:21 (Lolli 2019 / Windt & Gabbett)
EWMA_ACUTE_N, EWMA_CHRONIC_N = 7, 28   # Williams 2017: λ = 2/(N+1) = 0.25 / 0.069
ACWR_CAUTION = 1.5                     # Gabbett 2016 "danger zone"; low evidence for runners
MONOTONY_CAP = 10.0                    # Foster: SD floored so that monotony <= 10
MONOTONY_HIGH = 2.0                    # convention [D]
RETURN_BREAK_DAYS = 21                 # >= 21 days without a run (evidence table: return_from_break)
DESCENT_WEEKS = 4                      # 28-day window as a mean week (evidence table: downhill_load)
DESCENT_SPIKE = 1.5                    # design choice (evidence table: downhill_load)
# "Exactly 10 %" as a person writes it must not become a spike through float rounding
# (11000 / 10000 - 1 == 0.10000000000000009).
_EPS = 1e-9
# Running sums leave rounding residue (1e-12 m) after a big value leaves the window;
# micrometres are far below any distance a watch measures.
_SUM_DECIMALS = 6
# Columns that are flags: 1.0 / 0.0 / NaN in arrays, nullable booleans in frames.
FLAGS = frozenset({"week_jump", "monotony_high", "return_to_run", "descent_spike"})


def _on_index(name: str | None = None) -> Callable:
    """Let a function of daily arrays also take a pandas ``Series`` and answer on its index."""
    def wrap(fn: Callable) -> Callable:
        @wraps(fn)
        def call(x: Any, *args: Any, **kwargs: Any) -> Any:
            if not hasattr(x, "index"):
                return fn(np.asarray(x, float), *args, **kwargs)
            import pandas as pd   # the caller already holds a pandas object

            out = fn(x.to_numpy(float, na_value=np.nan), *args, **kwargs)
            if isinstance(out, dict):
                return pd.DataFrame({k: _column(pd, v, x.index, k) for k, v in out.items()}, index=x.index)
            return _column(pd, out, x.index, name)
        return call
    return wrap


def _column(pd: Any, values: np.ndarray, index: Any, name: str | None) -> Any:
    series = pd.Series(values, index=index, name=name)
    if name in FLAGS:
        return series.astype("boolean").mask(np.isnan(values))
    return series


def _window(x: np.ndarray, days: int, reduce: Callable[..., np.ndarray], **kwargs: Any) -> np.ndarray:
    """``reduce`` over the ``days`` days ending on each day; NaN until ``days`` days exist, and NaN
    where any of them is (pandas' ``rolling(days, min_periods=days)``)."""
    out = np.full(len(x), np.nan)
    if len(x) >= days:
        out[days - 1:] = reduce(sliding_window_view(x, days), axis=1, **kwargs)
    return out


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """Values ``k`` days earlier (later for negative ``k``); NaN where there are none."""
    out = np.full(len(x), np.nan)
    if 0 < k < len(x):
        out[k:] = x[:-k]
    elif -len(x) < k < 0:
        out[:k] = x[-k:]
    elif k == 0:
        out[:] = x
    return out


@_on_index()
def rolling_sum(x: np.ndarray, days: int) -> np.ndarray:
    """Sum over the ``days`` calendar days ending on each day; NaN unless all of them are known."""
    return np.round(_window(x, days, np.sum), _SUM_DECIMALS)


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 or unknown (a ratio to nothing is not a number)."""
    with np.errstate(invalid="ignore"):
        return num / np.where(den > 0, den, np.nan)


def _flag(values: np.ndarray, threshold: float) -> np.ndarray:
    """value > threshold (to _EPS) as 1.0 / 0.0; NaN where the value is unknown."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(values), np.nan, (values > threshold + _EPS).astype(float))


@_on_index()
def week_change(distance: np.ndarray) -> dict[str, np.ndarray]:
    """7-day distance vs the reference week (Nielsen 2014's > 30 %).  Needs 21 days.

    The reference week is the larger of the previous 7 days and the mean week of the 14
    days before the current 7.  Rolling 7-day windows of a steady runner who runs every
    other day hold 3 and 4 runs in turn (+33 % without any change in training); the
    14-day mean week sees all of them, so only a rise over both counts.  This one
    definition feeds the weekly table and the ``mileage_jump`` flag.

    Columns: ``dist_7d``, ``dist_prev_7d``, ``dist_ref_7d``, ``week_ratio``,
    ``week_change_pct``, ``week_jump`` (ratio > 1.30 with a reference of at least
    ``WEEK_JUMP_MIN_M``; False below it).  The ratio is NaN when the previous 7 days
    hold no running: any increase from nothing is undefined, not infinite (a return
    after a break is judged by its own rule).
    """
    d7 = rolling_sum(distance, WEEK_DAYS)
    prev = shift(d7, WEEK_DAYS)
    fortnight_week = shift(rolling_sum(distance, 2 * WEEK_DAYS), WEEK_DAYS) / 2.0
    ref = np.maximum(prev, fortnight_week)          # NaN when either is unknown
    with np.errstate(invalid="ignore"):
        ratio = safe_ratio(d7, np.where(prev > 0, ref, np.nan))
        jump = np.where(np.isnan(ratio), np.nan, _flag(ratio, 1.0 + WEEK_JUMP) * (ref >= WEEK_JUMP_MIN_M))
    return {"dist_7d": d7, "dist_prev_7d": prev, "dist_ref_7d": ref, "week_ratio": ratio,
            "week_change_pct": (ratio - 1.0) * 100.0, "week_jump": jump}


@_on_index()
def longest_previous(daily_longest: np.ndarray, days: int = SPIKE_WINDOW_DAYS) -> np.ndarray:
    """Longest single run on the ``days`` calendar days *before* each day (Frandsen 2025)."""
    return shift(_window(daily_longest, days, np.max), 1)


def spike_tier(ratio: np.ndarray) -> np.ndarray:
    """Frandsen 2025 tiers from ``distance / longest previous run``; NaN -> insufficient_history.

    "> 10 %" is strict: a run exactly 10 % longer is ``none`` (the study's reference
    category is "regression or <= 10 % increase").
    """
    ratio = np.asarray(ratio, float)
    known = ~np.isnan(ratio)
    with np.errstate(invalid="ignore"):
        conds = [known & (ratio > 1.0 + t + _EPS) for t, _ in SPIKE_TIERS]
    return np.select(conds + [known], [name for _, name in SPIKE_TIERS] + [TIER_NONE], TIER_INSUFFICIENT)


def spikes_of(run_day: np.ndarray, run_distance: np.ndarray, days: np.ndarray,
              daily_longest: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`run_spikes` on arrays: ``run_day`` and ``days`` are ``datetime64[D]``, ``days`` the
    daily series' consecutive days and ``daily_longest`` its longest run per day."""
    prev_by_day = longest_previous(np.asarray(daily_longest, float))
    pos = (np.asarray(run_day, "datetime64[D]") - days[0]).astype(int) if len(days) else np.zeros(0, int)
    inside = (pos >= 0) & (pos < len(days))
    prev = np.full(len(pos), np.nan)
    prev[inside] = prev_by_day[pos[inside]]
    ratio = safe_ratio(np.asarray(run_distance, float), prev)
    return {"longest_prev_30d_m": prev, "spike_pct": (ratio - 1.0) * 100.0, "spike_tier": spike_tier(ratio)}


def run_spikes(run_day: Any, run_distance: Any, daily_longest: Any) -> Any:
    """Each run against the longest run of the 30 days before its day (Frandsen 2025).

    ``run_day``/``run_distance``: per run (same index, e.g. the activity id);
    ``daily_longest``: the daily series' longest run (indexed by its days).  Needs the full
    30 days before the run's day (so the first 30 days of history are ``insufficient_history``).
    Earlier runs on the same day do not count: the window is calendar days before the
    run's day, like every other window here.  When those 30 days hold no run at all
    there is no reference either (``longest_prev_30d_m`` 0, tier
    ``insufficient_history``); the return-to-run flag covers that case.
    """
    import pandas as pd   # the pandas form; spikes_of is the arrays'

    days = daily_longest.index.to_numpy("datetime64[D]")
    out = spikes_of(run_day.to_numpy("datetime64[D]"), run_distance.to_numpy(float), days,
                    daily_longest.to_numpy(float))
    return pd.DataFrame(out, index=run_day.index)


@_on_index("acwr_7_21")
def acwr_uncoupled(load: np.ndarray) -> np.ndarray:
    """Mean of days t-6..t over mean of days t-27..t-7 (uncoupled 7:21, Lolli 2019).  Needs 28 days.

    A feature for display and models only: the evidence for runners is weak
    (Frandsen 2025 found a negative dose-response; Impellizzeri 2020).
    """
    acute = rolling_sum(load, ACUTE_DAYS) / ACUTE_DAYS
    chronic = shift(rolling_sum(load, CHRONIC_DAYS) / CHRONIC_DAYS, ACUTE_DAYS)
    return safe_ratio(acute, chronic)


@_on_index()
def ewma(load: np.ndarray, n: int, warmup: int | None = None) -> np.ndarray:
    """Exponentially weighted load, ``λ = 2/(n+1)`` (Williams et al. 2017).

    ``EWMA_t = λ·load_t + (1-λ)·EWMA_{t-1}``, started at the first known day's load.
    A gap (NaN) restarts it: what happened during the gap is unknown, so the average
    must warm up again.  NaN until ``warmup`` (default ``n``) known days have been seen
    -- chronic load is used only after 28 days (design choice).
    """
    warmup = n if warmup is None else warmup
    alpha = 2.0 / (n + 1.0)
    out = np.full(len(load), np.nan)
    level, seen = np.nan, 0
    for t, x in enumerate(load.tolist()):   # a recursion: one pass over a few thousand days
        if x != x:   # NaN: unknown day, the average starts again after it
            level, seen = np.nan, 0
            continue
        level = x if seen == 0 else alpha * x + (1.0 - alpha) * level
        seen += 1
        if seen >= warmup:
            out[t] = level
    return out


@_on_index()
def acwr_ewma(load: np.ndarray) -> dict[str, np.ndarray]:
    """EWMA 7 and EWMA 28 and their ratio (Williams et al. 2017).  Both need 28 known days (design choice)."""
    acute = ewma(load, EWMA_ACUTE_N, warmup=EWMA_CHRONIC_N)
    chronic = ewma(load, EWMA_CHRONIC_N)
    return {"ewma_7": acute, "ewma_28": chronic, "acwr_ewma": safe_ratio(acute, chronic)}


@_on_index()
def monotony_strain(load: np.ndarray) -> dict[str, np.ndarray]:
    """Foster 1998 monotony and strain over the last 7 days.  Needs 7 days.

    monotony = mean daily load / SD (sample SD of the 7 days, rest days as 0);
    strain = 7-day load x monotony.  The SD is floored at mean/10 so that a week of
    identical days gives monotony 10 instead of infinity (Foster 1998 sets no bound;
    a floor keeps it finite).  A week without load has monotony 0 and strain 0.
    """
    total = rolling_sum(load, WEEK_DAYS)
    mean = total / WEEK_DAYS
    sd = _window(load, WEEK_DAYS, np.std, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        monotony = mean / np.maximum(sd, mean / MONOTONY_CAP)
    monotony = np.where(mean == 0, 0.0, monotony)
    return {"monotony": monotony, "strain": total * monotony, "monotony_high": _flag(monotony, MONOTONY_HIGH)}


@_on_index("return_to_run")
def return_to_run(runs: np.ndarray) -> np.ndarray:
    """True on a day with a run after >= 21 days without one (evidence table: return_from_break).  Needs 21 days.

    "21 days without a run" counts the run-free days in between: runs on day 0 and
    day 22 are 21 days apart without running (flag); day 0 and day 21 are not.
    """
    before = shift(_window(runs, RETURN_BREAK_DAYS, np.sum), 1)
    with np.errstate(invalid="ignore"):
        ran = runs > 0
        flag = (ran & (before == 0)).astype(float)
    # A rest day is known not to be a return; a run day needs its 21 days of history.
    return np.where(np.isnan(runs) | (ran & np.isnan(before)), np.nan, flag)


@_on_index()
def descent_spike(descent: np.ndarray) -> dict[str, np.ndarray]:
    """7-day vertical descent vs the mean week of the 28 days before those 7.  Needs 35 days.

    Vertical descent is gaitrisk's one measure of downhill: the weekly table and the
    ``downhill_load`` flag both read this.  The baseline leaves the current 7 days out,
    so a spike is measured against what came before it, and a baseline without descent
    (after a break, or on flat ground) gives no ratio.
    """
    d7 = rolling_sum(descent, WEEK_DAYS)
    week_mean = shift(rolling_sum(descent, DESCENT_WEEKS * WEEK_DAYS), WEEK_DAYS) / DESCENT_WEEKS
    ratio = safe_ratio(d7, week_mean)
    return {"descent_7d": d7, "descent_ratio": ratio, "descent_spike": _flag(ratio, DESCENT_SPIKE)}


def daily_metrics(daily: Any) -> Any:
    """Every daily metric for a daily series: a :class:`gaitrisk.load.daily.Daily` gives a dict of
    arrays, a DataFrame (:func:`gaitrisk.load.daily.daily_series`) a DataFrame on its index.

    Load is distance in metres, the unit Frandsen and Nielsen used.
    """
    if hasattr(daily, "index"):
        import pandas as pd

        out = daily_metrics({c: daily[c].to_numpy(float, na_value=np.nan) for c in ("distance_m", "runs", "descent_m")})
        return pd.DataFrame({k: _column(pd, v, daily.index, k) for k, v in out.items()}, index=daily.index)
    dist = daily["distance_m"]
    return {**week_change(dist), "acwr_7_21": acwr_uncoupled(dist), **acwr_ewma(dist), **monotony_strain(dist),
            "return_to_run": return_to_run(daily["runs"]), **descent_spike(daily["descent_m"])}

