"""Small formatting helpers shared by the text, Markdown and HTML renderers (one wording everywhere)."""

from __future__ import annotations

from ..load.weekly import WeekRow
from ..model.rules import Flag, flag_evidence
from ..pain import vocab

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


def region(code: str) -> str:
    return vocab.REGIONS.get(code, code)


def when(code: str) -> str:
    return vocab.WHENS.get(code, code)


def side(code: str) -> str:
    return vocab.SIDES.get(code, code)


CAMBER_NOTE = ("Left low = the left foot on the low side of the road camber (the right leg up-slope). Road side: "
               "observed (out-and-back pairing, or a side you declared) or assumed (the profile's defaults, "
               "never flagged; declare yours with gaitrisk athlete set --road-side). Camber is a hypothesis.")
