"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, fonts or links).

A Content-Security-Policy forbids every network load, so even a copy opened in a
browser that follows links cannot leak that the report was opened.  Each plot is a
``<figure id="<athlete>-<key>" data-plot="<key>" data-athlete="<name>">``.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from ..textsafe import plain
from . import wording as F
from .assemble import AthleteReport
from .filenames import safe_file_stem
from .plots import plots_for

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;
color:#222;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
h3{margin:1.5rem 0 .4rem}.meta,.note{color:#555;font-size:.9rem}
.flag{border-left:6px solid #999;background:#f7f7f7;padding:.4rem .8rem;margin:.4rem 0;border-radius:3px}
.flag.high{border-color:#c00000;background:#fdecea}.flag.warn{border-color:#e6a100;background:#fff8e1}
.flag.info{border-color:#2e86c1;background:#eaf2f8}.flag .title{font-weight:600}.flag .do{font-weight:600}
.flag.red{border-width:10px}.stale{background:#fff3cd;padding:.4rem .8rem;border-radius:3px}
table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0 1rem}th,td{padding:.15rem .6rem;text-align:right}
th{border-bottom:1px solid #999}.l{text-align:left}tr.alert td{color:#b00000}.unjudged ul{margin:.2rem 0 1rem}
figure{margin:1rem 0 1.5rem}figure svg{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#555}
"""


def _esc(s: str) -> str:
    """Text for HTML: no control characters (a report may be viewed with cat or less), markup escaped."""
    return escape(plain(s))


def _table(head: list[str], rows: list[tuple[list[str], bool]], text_cols: int = 1, cls: str = "") -> str:
    """A table; the first ``text_cols`` columns hold text (left-aligned), the rest numbers."""
    def cell(tag: str, i: int, c: str) -> str:
        return f"<{tag} class='l'>{_esc(c)}</{tag}>" if i < text_cols else f"<{tag}>{_esc(c)}</{tag}>"

    h = "".join(cell("th", i, c) for i, c in enumerate(head))
    body = "".join(("<tr class='alert'>" if alert else "<tr>") + "".join(cell("td", i, c) for i, c in enumerate(r))
                   + "</tr>" for r, alert in rows)
    opening = f'<table class="{cls}">' if cls else "<table>"
    return f"{opening}<thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def render_html(reports: list[AthleteReport], generated_at: dt.datetime) -> str:
    names = ", ".join(r.athlete for r in reports)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>gaitrisk report: {_esc(names)}</title><style>{CSS}</style></head><body>",
        "<h1>gaitrisk report</h1>",
        f'<p class="meta">Generated {generated_at:%Y-%m-%d %H:%M %Z}. {F.DISCLAIMER}</p>',
    ]
    for rep in reports:
        parts.append(athlete_html(rep))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def athlete_html(rep: AthleteReport) -> str:
    stem = safe_file_stem(rep.athlete)
    out = [f'<section class="athlete" data-athlete="{_esc(rep.athlete)}">',
           f"<h2>{_esc(rep.athlete)}</h2>",
           f'<p class="meta">{rep.first} to {rep.last}, calendar days in {_esc(rep.zone)}.</p>']
    out += [f'<p class="stale">{_esc(n)}</p>' for n in rep.notes]
    span = f"{rep.flag_first} to {rep.last}" if rep.flag_first else str(rep.last)
    out.append(f"<h3>Flags ({span})</h3>")
    if not rep.flags:
        out.append('<p class="flag none">No flags. Keep logging pain after runs.</p>')
    for f in rep.flags:
        red = " red" if f.code == "see_a_clinician" else ""
        out.append(f'<div class="flag {f.severity}{red}" data-flag="{_esc(f.code)}">'
                   f'<div class="title">{_esc(F.flag_title(f))}, {f.date}</div>'
                   f"<div>{_esc(f.explanation)} <span class='note'>[{_esc(F.flag_cite(f))}]</span></div>"
                   f'<div class="do">→ {_esc(f.suggestion)}</div></div>')
    if rep.not_judged:
        out.append(f'<div class="unjudged"><p class="note">{_esc(F.not_judged_line(rep))}</p><ul class="note">'
                   + "".join(f'<li data-unjudged="{_esc(u.code)}">{_esc(u.text())}</li>' for u in rep.not_judged)
                   + "</ul></div>")
    plots = {p.key: p for p in plots_for(rep)}
    out.append("<h3>Risk</h3>")
    risk = rep.risk_today
    if risk is None:
        out.append('<p class="note">No data on the report\'s days to judge it.</p>')
    else:
        out.append(f'<p class="risk"><b>{_esc(F.risk_head(risk))}</b></p><ul class="risk-factors">'
                   + "".join(f"<li>{_esc(line)}</li>" for line in F.risk_factor_lines(risk))
                   + f'</ul><p class="note">{_esc(F.risk_note(risk))}</p>')
    classifier = F.classifier_line(rep)
    if classifier:
        out.append(f"<p>{_esc(classifier)}</p>")

    def fig(key: str) -> str:
        p = plots.pop(key)
        return (f'<figure id="{_esc(stem)}-{p.key}" data-plot="{p.key}" data-athlete="{_esc(rep.athlete)}">'
                f"{p.svg}<figcaption><b>{_esc(p.title)}.</b> {_esc(p.caption)}</figcaption></figure>")

    if "risk" in plots:
        out.append(fig("risk"))
    out.append("<h3>Load</h3>")
    out.append(_table(["week", "km", "runs", "longest km", "change", "spike", "ACWR 7:21", "pain max"],
                      [([F.week_label(w), F.km(w.distance_m), str(w.runs), F.km(w.longest_run_m), F.change_cell(w),
                         F.spike_cell(w), F.num(w.acwr_7_21, ".2f"), F.num(w.pain_max, "d")],
                        bool(w.week_jump) or w.spike_tier_max in ("moderate", "large")) for w in rep.weeks]))
    out += [fig("load"), fig("acwr"), "<h3>Runs</h3>"]
    out.append(_table(F.RUN_HEAD, [(F.run_row(r), bool(r.flags)) for r in rep.runs], cls="runs") if rep.runs
               else '<p class="note">No runs in this period.</p>')
    out.append('<p class="note">Time: moving time; pace from it. GCT: measured by a sensor or estimated (Hoyt\'s '
               "model). Flags raised: the rules this run fed that fired on its day.</p>")
    if "run" in plots:
        out.append(fig("run"))
    elif rep.runs:
        out.append('<p class="note">No per-run chart: the latest run has no stored samples with distance.</p>')
    out.append("<h3>Gait</h3>")
    out.append(_table(["week", "runs", "cadence vs expected %", "GCT ms", "GCT balance L %"],
                      [([F.week_label(w), str(w.runs), F.num(w.cadence_residual_pct, "+.1f") + F.cadence_mark(w.cadence_baseline), F.num(w.gct_ms, ".0f"),
                         F.num(w.gct_balance_pct, ".1f")], False) for w in rep.trends]))
    out += [fig("cadence"), fig("gct-balance"), "<h3>Terrain, camber and track</h3>", fig("downhill"),
            fig("camber"), "<h3>Pain</h3>", fig("pain")]
    if rep.pain_log:
        out.append(f'<p class="note">{_esc(rep.pain_log.summary())}</p>')
    if rep.pain:
        out.append(_table(["date", "score", "where", "when", "note"],
                          [([f"{p.time:%a %d %b}" + ("" if p.date_only else f" {p.time:%H:%M}"), f"{p.score}/10",
                             f"{F.region(p.region)} ({F.side(p.side)})",
                             F.when(p.when) + (f", {p.behaviour.replace('_', ' ')}" if p.behaviour else ""),
                             p.note or ""], p.score > 5) for p in rep.pain], text_cols=5))
    if "ostrc" in plots:
        out.append(fig("ostrc"))
        out += [f'<p class="note">{_esc(F.ostrc_line(w))}</p>' for w in rep.ostrc]
    if "routes" in plots:
        out += ["<h3>Routes</h3>", fig("routes")]
    notes = list(rep.load_notes)
    if notes:
        out.append('<p class="note">' + "<br>".join(_esc(n) for n in notes) + "</p>")
    out.append("</section>")
    return "\n".join(out)
