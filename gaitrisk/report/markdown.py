"""The report as Markdown: the text report's content, for a wiki, an e-mail or a pull request."""

from __future__ import annotations

import datetime as dt

from ..textsafe import markdown_inline as _esc
from . import wording as F
from .assemble import AthleteReport


# Columns of words (labels, places, notes, flag names) read from the left; every other column is a number.
TEXT_COLUMNS = frozenset({"week", "date", "where", "when", "note", "flags raised", "spike", "road side"})


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---" if h in TEXT_COLUMNS else "---:" for h in head]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(_esc(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(reports: list[AthleteReport], generated_at: dt.datetime) -> str:
    lines = ["# gaitrisk report", "", f"Generated {generated_at:%Y-%m-%d %H:%M %Z}. {F.DISCLAIMER}", ""]
    for rep in reports:
        lines += athlete_markdown(rep)
    return "\n".join(lines).rstrip() + "\n"


def athlete_markdown(rep: AthleteReport) -> list[str]:
    L = [f"## {_esc(rep.athlete)}: {rep.first} to {rep.last} ({rep.zone})", ""]
    L += [f"> **{_esc(n)}**" for n in rep.notes] + ([""] if rep.notes else [])
    span = f"{rep.flag_first} to {rep.last}" if rep.flag_first else str(rep.last)
    L += [f"### Flags ({span})", ""]
    if not rep.flags:
        L += ["None. Keep logging pain after runs.", ""]
    for f in rep.flags:
        L += [f"- **{F.flag_title(f)}**, {f.date}: {_esc(f.explanation)} \\[{_esc(F.flag_cite(f))}\\]  ",
              f"  → {_esc(f.suggestion)}"]
    L += [""]
    if rep.not_judged:
        L += [F.not_judged_line(rep), ""] + [f"- {_esc(u.text())}" for u in rep.not_judged] + [""]
    L += ["### Risk", ""]
    risk = rep.risk_today
    if risk is None:
        L += ["No data on the report's days to judge it.", ""]
    else:
        L += [f"**{_esc(F.risk_head(risk))}**", ""] + [f"- {_esc(line)}" for line in F.risk_factor_lines(risk)]
        L += ["", F.risk_note(risk), ""]
    classifier = F.classifier_line(rep)
    if classifier:
        L += [_esc(classifier), ""]
    L += [f"### Load, last {len(rep.weeks)} weeks", ""]
    L += _table(["week", "km", "runs", "longest km", "change", "spike", "ACWR 7:21", "pain max"],
                [[F.week_label(w), F.km(w.distance_m), str(w.runs), F.km(w.longest_run_m), F.change_cell(w),
                  F.spike_cell(w), F.num(w.acwr_7_21, ".2f"), F.num(w.pain_max, "d")] for w in rep.weeks])
    L += [("▲ spike: a run > 10 % over the longest run of the 30 days before (Frandsen 2025); change ▲: "
           "> 30 % over the reference week (the larger of the previous 7 days and the 14-day mean week, from "
           "10 km; Nielsen 2014). ACWR is information only (Impellizzeri 2020)."), ""]
    shown = rep.runs[-F.RUNS_SHOWN:]
    L += [f"### Runs, the last {len(shown)} of {len(rep.runs)} in this period", ""]
    L += _table(F.RUN_HEAD, [F.run_row(r) for r in shown]) if shown else ["None in this period.", ""]
    L += ["Time: moving time; pace from it. GCT: measured by a sensor or estimated (Hoyt's model). Flags raised: "
          "the rules this run fed that fired on its day.", ""]
    L += ["### Gait trends", ""]
    L += _table(["week", "runs", "cadence vs expected %", "GCT ms", "GCT balance L %"],
                [[F.week_label(w), str(w.runs), F.num(w.cadence_residual_pct, "+.1f") + F.cadence_mark(w.cadence_baseline), F.num(w.gct_ms, ".0f"),
                  F.num(w.gct_balance_pct, ".1f")] for w in rep.trends])
    L += [F.CADENCE_NOTE, ""]
    L += ["### Terrain, camber and track exposure (km)", ""]
    L += _table(F.EXPOSURE_HEAD, [F.exposure_row(w) for w in rep.trends])
    L += [F.CAMBER_NOTE, ""]
    L += ["### Pain log", ""]
    if rep.pain_log:
        L += [_esc(rep.pain_log.summary()), ""]
    if not rep.pain:
        L += ["No entries in this period.", ""]
    else:
        L += _table(["date", "score", "where", "when", "note"],
                    [[f"{p.time:%a %d %b}" + ("" if p.date_only else f" {p.time:%H:%M}"), f"{p.score}/10",
                      f"{F.region(p.region)} ({F.side(p.side)})",
                      F.when(p.when) + (f", {p.behaviour.replace('_', ' ')}" if p.behaviour else ""), p.note or ""]
                     for p in rep.pain])
    if rep.ostrc:
        L += ["### Weekly OSTRC questionnaire", ""] + [f"- {_esc(F.ostrc_line(w))}" for w in rep.ostrc] + [""]
    return L
