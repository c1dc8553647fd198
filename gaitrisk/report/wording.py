"""Small formatting helpers shared by the text, Markdown and HTML renderers (one wording everywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.rules import Flag, flag_evidence
from .. import vocab

if TYPE_CHECKING:
    from ..load.weekly import WeekRow

SEVERITY_ORDER = ("high", "warn", "info")
SPIKE_MARK = {"small": "▲", "moderate": "▲▲", "large": "▲▲▲"}
DISCLAIMER = "Decision support, not a diagnosis."


def num(v: float | None, spec: str, scale: float = 1.0, dash: str = "-") -> str:
    return dash if v is None else format(v if scale == 1.0 else v * scale, spec)


def km(v: float | None) -> str:
    return num(v, ".1f", 1e-3)


def flag_title(f: Flag) -> str:
    return "RED FLAG: see a clinician" if f.code == "see_a_clinician" else f"{f.code} ({f.severity})"


def flag_cite(f: Flag) -> str:
    """The flag's sources with its evidence grade: "Frandsen 2025; evidence grade A"."""
    ev = f.evidence or flag_evidence(f.code)
    return f"{f.source}; evidence grade {ev.grade}"


def week_label(w: WeekRow) -> str:
    return f"{w.week_start:%d %b}–{w.week_end:%d %b}"


def spike_cell(w: WeekRow) -> str:
    """The week's largest single-run spike tier with its marker ("-" = none, "?" = too little history)."""
    if w.spike_tier_max in SPIKE_MARK:
        return f"{SPIKE_MARK[w.spike_tier_max]} {w.spike_tier_max}"
    return "?" if w.spike_tier_max == "insufficient_history" else "-"


def change_cell(w: WeekRow) -> str:
    if w.change_pct is None:
        return "-"
    return f"{w.change_pct:+.0f} %" + (" ▲" if w.week_jump else "")


# The weekly cadence column is the residual the overstriding flag judges (assemble._cadence).
CADENCE_NOTE = ("Cadence: the level-ground residual the overstriding flag uses, weighted by level time: against your "
                "own baseline (own: the population line scaled by the median of >= 10 earlier level runs in 90 "
                "days) or, before you have one, against 150 + 6.01·v steps/min (population; VU wearable study). "
                "The flag: >= 10 % of a week's level time 5 % under your own baseline (Heiderscheit 2011), or more "
                "than 12 steps/min under the population model. Cadence for speed is a proxy; where the foot lands "
                "is not measured.")


def cadence_mark(baseline: str | None) -> str:
    """Which baseline a cadence residual is against."""
    return {"personal": " (own)", "population": " (population)"}.get(baseline or "", "")


def region(code: str) -> str:
    return vocab.REGIONS.get(code, code)


def when(code: str) -> str:
    return vocab.WHENS.get(code, code)


def side(code: str) -> str:
    return vocab.SIDES.get(code, code)


def ostrc_line(w) -> str:
    """One week's OSTRC answer in words (:class:`gaitrisk.records.OstrcWeek`)."""
    return (f"OSTRC week of {w.week.isoformat()} ({region(w.area)}): severity {w.severity}/100, "
            f"substantial problem: {'yes' if w.substantial else 'no'}")


RUNS_SHOWN = 10            # the text and Markdown reports list the period's last 10 runs (JSON and HTML: all)
RUN_HEAD = ["date", "km", "time", "pace /km", "cadence spm", "GCT ms", "gain m", "flags raised"]


def clock(seconds: float | None) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def gct(ms: float | None, source: str | None) -> str:
    """Contact time with how it was obtained: "266 measured", "262 estimated"."""
    return "-" if ms is None else f"{ms:.0f} {source}" if source else f"{ms:.0f}"


def run_row(r) -> list[str]:
    """One :class:`~gaitrisk.report.assemble.RunPoint` as a row under :data:`RUN_HEAD`."""
    return [f"{r.day:%a %d %b}", km(r.distance_m), clock(r.moving_time_s), clock(r.pace_s_per_km),
            num(r.cadence_spm, ".0f"), gct(r.gct_ms, r.gct_source), num(r.ascent_m, ".0f"),
            ", ".join(c.replace("_", " ") for c in r.flags) or "-"]


def not_judged_line(rep) -> str:
    return f"Could not judge on {rep.last} (not enough data or history):"


# Short headers keep the exposure table inside a 100-column terminal; the note spells them out.
EXPOSURE_HEAD = ["week", "downhill ≤-5 %", "≤-10 %", "L low", "R low", "road side", "CCW", "CW"]
CAMBER_NOTE = ("Downhill: km at a grade of -5 % (-10 %) or steeper. L low, R low: road km with the left or right "
               "foot low; Left low = the left foot on the low side of the road camber (the right leg up-slope). "
               "Each cell is the km with an observed side, the km the camber flag counts, then (+ km) those "
               "whose side is only assumed. "
               "Road side: observed (out-and-back pairing, or a side you declared), assumed (the profile's "
               "defaults, never flagged; declare yours with gaitrisk athlete set --road-side) or mixed (both in "
               "one week). CCW, CW: track bends run counter-clockwise, clockwise. Camber is a hypothesis.")
_SIDE_CELL = {"observed + assumed": "mixed"}


def road_side_cell(evidence: str | None) -> str:
    """A week's road-side evidence in one short word: observed, assumed or mixed ("-": no road)."""
    return _SIDE_CELL.get(evidence or "", evidence or "-")


def low_side_cell(total_m: float | None, observed_m: float | None) -> str:
    """A week's road km on one low side: the observed km, then "+" the assumed km when there are any."""
    if total_m is None:
        return "-"
    observed = observed_m or 0.0
    assumed = total_m - observed
    return km(observed) + (f" +{km(assumed)}" if round(assumed / 1000.0, 1) > 0 else "")


def exposure_row(w) -> list[str]:
    """One :class:`~gaitrisk.report.assemble.WeekTrend` as a row under :data:`EXPOSURE_HEAD`."""
    return [week_label(w), km(w.downhill5_m), km(w.downhill10_m),
            low_side_cell(w.road_left_low_m, w.road_left_low_observed_m),
            low_side_cell(w.road_right_low_m, w.road_right_low_observed_m),
            road_side_cell(w.road_side_evidence), km(w.track_ccw_m), km(w.track_cw_m)]


def risk_head(risk) -> str:
    """The risk line of a one-day :class:`~gaitrisk.model.risk.RiskReport`, with its day."""
    day = risk.days[-1]
    return f"On {day.date}, {risk.line(day)}"


def risk_note(risk) -> str:
    """What the risk model is and how to read the factors."""
    return (f"Risk model: {risk.model_text}. It starts from published effects (a base rate of running injury, "
            "a hazard ratio per factor; docs/model.md) and needs no pain history; logged onsets update it "
            "(gaitrisk model train). The factors that raise the risk are listed with their evidence; those "
            "present with a hazard ratio of 1.00 are named only.")


def risk_factor_lines(risk) -> list[str]:
    """The factors that raise the day's risk, one line each (hazard ratio, interval, evidence), then those
    present without an effect."""
    return risk.days[-1].factor_lines()


def classifier_line(rep) -> str | None:
    """The older feature classifier's view, only where it exists (trained, with enough onsets)."""
    if rep.model is None:
        return None
    m = rep.model
    top = ", ".join(f"{k} {v:+.2f}" for k, v in m.contributions[:3])
    note = f" ({rep.model_note})" if rep.model_note else ""
    return (f"Feature classifier: {m.probability:.0%} chance of a pain onset in the next {m.horizon_days} days "
            f"(base rate {m.base_rate:.0%}); main contributions (log-odds): {top}{note}")
