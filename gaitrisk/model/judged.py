"""The rules that could not be judged on a day, each with what it lacks.

A rule that stays silent because its input is unknown is not a rule that found nothing:
a report that lists only the flags that fired would read "no spike" where it should read
"too little history to tell".  :func:`unjudged` reads one athlete's day table
(:func:`gaitrisk.model.dataset.day_table`, days up to the one judged) and names every
rule whose input is missing on that day, with the history or data it needs and how much
there is.  The windows are the rules' own (:mod:`gaitrisk.model.rules`,
:mod:`gaitrisk.load.metrics`).  Rules graded "hypothesis" never flag, so they are not
listed; ``return_from_break`` and ``see_a_clinician`` need no history and are always judged.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..load import metrics as M
from ..pain.compliance import BASELINE_DAYS, BASELINE_MIN_LOGGED
from . import rules as R
from .daytable import DayTable, number

if TYPE_CHECKING:
    import pandas as pd

WEEK_CHANGE_DAYS = 3 * M.WEEK_DAYS                        # the current 7 days, the 14 before them
DESCENT_BASELINE_DAYS = M.DESCENT_WEEKS * M.WEEK_DAYS      # the 28 days before the current 7
TRACK_DAYS = 28                                            # the track rule's window

LABEL = {
    "session_spike": "session spike", "mileage_jump": "mileage jump", "overstriding": "overstriding",
    "cadence_abs_low": "low cadence", "downhill_load": "downhill load", "track_direction": "track direction",
    "pain_rising": "pain rising",
}


@dataclass(frozen=True)
class Unjudged:
    """A rule that could not be evaluated: what it lacks, with how much there is and how much it needs.

    ``have``/``need`` are in the unit the reason names (days, km); None when the lack is not a count.
    """

    code: str
    reason: str
    have: float | None = None
    need: float | None = None

    def text(self) -> str:
        return f"{LABEL.get(self.code, self.code)}: {self.reason}"

    def as_json(self) -> dict:
        return {"code": self.code, "reason": self.reason, "have": self.have, "need": self.need}


def _value(row: R.Row, key: str) -> float:
    return number(row.get(key))


def _flags_at_all(code: str) -> bool:
    return R.rule_factor(code).severity != "none"


def unjudged(frame: pd.DataFrame | DayTable, day: dt.date) -> tuple[Unjudged, ...]:
    """The rules that could not be judged on ``day`` from one athlete's day table.

    ``frame``: the table, or a DataFrame indexed by day (or by athlete and day, one athlete); only
    rows up to ``day`` are read.  A day outside the table (before the first run, after the last day
    with data) judges nothing: every rule is listed with that reason.
    """
    table = R.as_table(frame)
    upto = table.take(table.days <= np.datetime64(day, "D"))
    n = len(upto)                                   # days of history, the judged day included
    if n == 0:
        return tuple(Unjudged(code, "no runs up to this day", 0, None) for code in LABEL if _flags_at_all(code))
    if upto.days.max() != np.datetime64(day, "D"):
        end = upto.days.max().item()
        return tuple(Unjudged(code, f"no data after {end}") for code in LABEL if _flags_at_all(code))
    row = upto.row(n - 1)
    out: list[Unjudged] = []

    ran = np.nan_to_num(upto.col("ran")) > 0 if "ran" in upto else None
    run_pos = np.flatnonzero(ran) if ran is not None else np.array([], int)
    if len(run_pos) and run_pos[-1] >= n - M.WEEK_DAYS and math.isnan(_value(row, "spike_max_7d")):
        have = int(run_pos[-1])                      # days of history before the latest run
        if have < M.SPIKE_WINDOW_DAYS:
            out.append(Unjudged("session_spike", f"needs {M.SPIKE_WINDOW_DAYS} days of runs before the run, "
                                f"you have {have}", have, M.SPIKE_WINDOW_DAYS))
        else:
            out.append(Unjudged("session_spike", f"no run, or a declared data gap, in the {M.SPIKE_WINDOW_DAYS} "
                                "days before the run"))

    if math.isnan(_value(row, "week_ratio")) or _value(row, "dist_ref_7d") < M.WEEK_JUMP_MIN_M:
        ref = _value(row, "dist_ref_7d")
        if n < WEEK_CHANGE_DAYS:
            out.append(Unjudged("mileage_jump", f"needs {WEEK_CHANGE_DAYS} days of history, you have {n}", n,
                                WEEK_CHANGE_DAYS))
        elif math.isnan(ref):
            out.append(Unjudged("mileage_jump", f"a declared data gap in the last {WEEK_CHANGE_DAYS} days"))
        elif ref < M.WEEK_JUMP_MIN_M:
            km = round(ref / 1000, 1)
            out.append(Unjudged("mileage_jump", f"reference week under {M.WEEK_JUMP_MIN_M / 1000:.0f} km "
                                f"(you have {km:.1f} km)", km, M.WEEK_JUMP_MIN_M / 1000))
        else:
            out.append(Unjudged("mileage_jump", f"no running in the {M.WEEK_DAYS} days before the last "
                                f"{M.WEEK_DAYS} (a return is judged by return_from_break)"))

    if _flags_at_all("overstriding") and math.isnan(_value(row, "cad_low_share_7d")):
        out.append(Unjudged("overstriding", f"no level-ground cadence in the last {M.WEEK_DAYS} days"))
    if _flags_at_all("cadence_abs_low") and math.isnan(_value(row, "cad_level_7d")):
        out.append(Unjudged("cadence_abs_low", f"no level-ground cadence at {R.ABS_CADENCE_MIN_SPEED} m/s or "
                            f"faster in the last {M.WEEK_DAYS} days"))

    if _flags_at_all("downhill_load") and math.isnan(_value(row, "descent_ratio")):
        before = max(0, n - M.WEEK_DAYS)
        if before < DESCENT_BASELINE_DAYS:
            out.append(Unjudged("downhill_load", f"needs {DESCENT_BASELINE_DAYS} days of history before the last "
                                f"{M.WEEK_DAYS}, you have {before}", before, DESCENT_BASELINE_DAYS))
        else:
            out.append(Unjudged("downhill_load", f"no descent recorded in the {DESCENT_BASELINE_DAYS} days before "
                                f"the last {M.WEEK_DAYS} (no altitude, or flat running), or a declared data gap"))

    if _flags_at_all("track_direction") and math.isnan(_value(row, "track_ccw_m_28d")):
        if n < TRACK_DAYS:
            out.append(Unjudged("track_direction", f"needs {TRACK_DAYS} days of history, you have {n}", n,
                                TRACK_DAYS))
        else:
            out.append(Unjudged("track_direction", f"a declared data gap in the last {TRACK_DAYS} days"))

    logged = _value(row, "pain_logged_7d")
    logged = 0 if math.isnan(logged) else int(logged)
    if _flags_at_all("pain_rising") and logged < BASELINE_MIN_LOGGED:
        out.append(Unjudged("pain_rising", f"needs {BASELINE_MIN_LOGGED} logged days of the {BASELINE_DAYS} "
                            f"before, you have {logged}", logged, BASELINE_MIN_LOGGED))
    return tuple(out)
