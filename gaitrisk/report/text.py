"""The terminal report (rich tables; colour only when asked, i.e. on a TTY).

Every string that comes from data (names, notes, flag texts) enters rich as a ``Text``
of :func:`~gaitrisk.textsafe.plain` characters: a plain ``str`` cell would be parsed as
rich markup (``sore [/]`` raises, ``[b]x`` loses its brackets), and a control sequence
would reach the terminal.
"""

from __future__ import annotations

import datetime as dt
import io

from ..textsafe import plain
from . import wording as F
from .assemble import AthleteReport

_STYLE = {"high": "bold red", "warn": "yellow", "info": "cyan"}
WIDTH = 110


def render_text(reports: list[AthleteReport], generated_at: dt.datetime, *, color: bool = False,
                width: int = WIDTH) -> str:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None,
                      no_color=not color, highlight=False, emoji=False, legacy_windows=False)
    console.print(f"gaitrisk report, generated {generated_at:%Y-%m-%d %H:%M %Z}. {F.DISCLAIMER}")
    for rep in reports:
        console.print()
        for part in athlete_parts(rep):
            console.print(part)
    # rich pads table rows to their width; trailing blanks only get in the way of diffs and mail.
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def athlete_parts(rep: AthleteReport) -> list:
    """The rich renderables of one athlete's report, in reading order (red flags first)."""
    from rich.rule import Rule
    from rich.text import Text

    parts: list = [Rule(Text(f"{plain(rep.athlete)}: {rep.first} to {rep.last} ({plain(rep.zone)})", style="bold"),
                        align="left")]
    for note in rep.notes:
        parts.append(Text(f"! {plain(note)}", style="yellow"))
    parts.append(_flags(rep))
    if rep.not_judged:
        parts.append(_not_judged(rep))
    parts.append(_model(rep))
    parts += [_load(rep), _runs(rep), _trends(rep), _exposure(rep), _pain(rep)]
    parts += _ostrc(rep)
    return parts


def _not_judged(rep: AthleteReport):
    from rich.text import Text

    return Text("\n".join([F.not_judged_line(rep)] + [f"  - {plain(u.text())}" for u in rep.not_judged]) + "\n",
                style="dim")


def _runs(rep: AthleteReport):
    from rich.text import Text

    if not rep.runs:
        return Text("Runs: none in this period.\n", style="dim")
    shown = rep.runs[-F.RUNS_SHOWN:]
    t = _table(f"Runs, the last {len(shown)} of {len(rep.runs)} in this period", *F.RUN_HEAD, wrap=(7,))
    t.columns[-1].justify = "left"   # a wrapped list of flags reads from the left
    for r in shown:
        row = F.run_row(r)
        t.add_row(*row[:-1], Text(plain(row[-1])), style="red" if r.flags else None)
    return _with_note(t, "time: moving time; pace from it. GCT: ground-contact time, measured by a sensor or "
                      "estimated (Hoyt's model). Flags raised: the rules this run fed that fired on its day.")


def _table(title: str, *cols: str, right_from: int = 1, wrap: tuple[int, ...] = ()):
    """Columns before ``right_from`` are left-aligned labels; only the ``wrap`` columns may wrap."""
    from rich import box
    from rich.table import Table

    t = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, c in enumerate(cols):
        t.add_column(c, justify="right" if i >= right_from else "left", no_wrap=i not in wrap,
                     ratio=1 if i in wrap else None)
    return t


def _with_note(table, note: str):
    from rich.console import Group
    from rich.text import Text

    return Group(table, Text(note, style="dim"), Text(""))


def _flags(rep: AthleteReport):
    from rich.text import Text

    span = f"{rep.flag_first} to {rep.last}" if rep.flag_first else str(rep.last)
    if not rep.flags:
        return Text(f"Flags ({span}): none. Keep logging pain after runs.", style="green")
    t = _table(f"Flags ({span}): red flags first, then by severity", "flag", "date", "why, and what to do",
               right_from=99, wrap=(2,))
    for f in rep.flags:
        style = _STYLE[f.severity]
        why = Text(f"{plain(f.explanation)} [{plain(F.flag_cite(f))}]\n")
        why.append(f"→ {plain(f.suggestion)}", style="bold")
        t.add_row(Text(F.flag_title(f), style=style), f.date.isoformat(), why)
    return t


def _model(rep: AthleteReport):
    """The risk of the report's last day and what raises it; the older classifier only where it exists."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    risk = rep.risk_today
    if risk is None:
        parts = [Text("Risk: no data on the report's days to judge it.\n", style="dim")]
    else:
        # A grid keeps a wrapped factor line under its own text, not back at column 0.
        factors = Table.grid(padding=0)
        factors.add_column(no_wrap=True)
        factors.add_column()
        for line in F.risk_factor_lines(risk):
            factors.add_row("  - ", Text(plain(line)))
        parts = [Text(plain(F.risk_head(risk)), style="bold"), factors,
                 Text(F.risk_note(risk) + "\n", style="dim")]
    classifier = F.classifier_line(rep)
    if classifier:
        parts.append(Text(plain(classifier) + "\n"))
    return Group(*parts)


def _load(rep: AthleteReport):
    t = _table(f"Load, last {len(rep.weeks)} weeks", "week", "km", "runs", "longest km", "change", "spike",
               "ACWR 7:21", "pain max")
    for w in rep.weeks:
        style = "red" if w.spike_tier_max in ("moderate", "large") or w.week_jump else None
        t.add_row(F.week_label(w), F.km(w.distance_m), str(w.runs), F.km(w.longest_run_m), F.change_cell(w),
                  F.spike_cell(w), F.num(w.acwr_7_21, ".2f"), F.num(w.pain_max, "d"), style=style)
    return _with_note(t, "spike ▲: a run > 10 % over the longest run of the 30 days before it (Frandsen 2025; "
                      "? = under 30 days of history); change ▲: > 30 % over the reference week (the larger of the "
                      "previous 7 days and the 14-day mean week, from 10 km; Nielsen 2014). ACWR is information "
                      "only: weak evidence for runners (Impellizzeri 2020).")


def _trends(rep: AthleteReport):
    t = _table("Gait trends (distance-weighted week means)", "week", "runs", "cadence vs expected",
               "GCT ms", "GCT balance L %")
    for w in rep.trends:
        t.add_row(F.week_label(w), str(w.runs), F.num(w.cadence_residual_pct, "+.1f") + (" %" if
                  w.cadence_residual_pct is not None else "") + F.cadence_mark(w.cadence_baseline), F.num(w.gct_ms, ".0f"), F.num(w.gct_balance_pct, ".1f"))
    return _with_note(t, F.CADENCE_NOTE + " Balance: > 50.7 % either side is outside Garmin's green band.")


def _exposure(rep: AthleteReport):
    t = _table("Terrain, camber and track exposure (km)", *F.EXPOSURE_HEAD)
    for w in rep.trends:
        t.add_row(*F.exposure_row(w))
    return _with_note(t, F.CAMBER_NOTE)


def _ostrc(rep: AthleteReport) -> list:
    """One line per weekly OSTRC answer shown (none without answers)."""
    from rich.text import Text

    return [Text(plain(F.ostrc_line(w)), style="red" if w.substantial else None) for w in rep.ostrc]


def _pain(rep: AthleteReport):
    from rich.console import Group
    from rich.text import Text

    status = Text(rep.pain_log.summary() if rep.pain_log else "", style="dim")
    if not rep.pain:
        return Group(Text("Pain log: no entries in this period.", style="dim"), status)
    t = _table("Pain log", "date", "score", "where", "when", "note", right_from=99, wrap=(4,))
    for p in rep.pain:
        style = "red" if p.score > 5 else ("yellow" if p.score >= 3 else None)
        t.add_row(f"{p.time:%a %d %b}" + ("" if p.date_only else f" {p.time:%H:%M}"),
                  Text(f"{p.score}/10 " + "█" * p.score, style=style),
                  Text(plain(f"{F.region(p.region)} ({F.side(p.side)})")), Text(plain(F.when(p.when) +
                  (f", {p.behaviour.replace('_', ' ')}" if p.behaviour else ""))), Text(plain(p.note or "")))
    return Group(t, status)
