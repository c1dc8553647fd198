"""The HTML report's plots: matplotlib figures rendered to inline SVG (no files, no network).

Every plot function takes an :class:`AthleteReport` and returns a :class:`Plot`; time
plots share the report's first..last axis so that load, gait and pain line up.  Figures
are built with :class:`matplotlib.figure.Figure` directly (never pyplot), so nothing
global changes and nothing stays open.  Thresholds drawn are the rules' own.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

from ..model.rules import CADENCE_NOTABLE, PAIN_HIGH, SPIKE_TIERS, TARGET_PAIN
from .assemble import AthleteReport

ACWR_BAND = (0.8, 1.3)      # Gabbett 2016 "sweet spot": context only
ACWR_CAUTION = 1.5          # Gabbett 2016 "danger zone": low evidence for runners
BALANCE_GREEN = 50.7        # Garmin green <= 50.7 % either side
BALANCE_RED = 52.2          # Garmin: > 52.2 % red
TIER_COLOUR = {"small": "#e6a100", "moderate": "#e05a00", "large": "#c00000"}
REGION_COLOUR = {"lateral_hip": "#c0392b", "groin_front_hip": "#8e44ad", "buttock": "#d35400",
                 "lateral_knee_itb": "#2471a3", "knee_front": "#17a589", "shin": "#7d6608", "foot": "#5d6d7e",
                 "lower_back": "#a04000", "other": "#7f8c8d"}


@dataclass(frozen=True)
class Plot:
    key: str          # stable id: the figure is <figure id="plot-{key}" data-plot="{key}">
    title: str
    caption: str
    svg: str


WIDTH_IN = 8.0


def _figure(rows: int = 1, height: float = 2.6, sharex: bool = True, bottom_in: float = 0.35):
    """A figure of ``rows`` stacked axes with fixed margins (in inches).

    Fixed margins instead of matplotlib's constrained layout: that layout draws every
    figure an extra time and doubles the cost of a report.
    """
    from matplotlib.figure import Figure

    h = height * rows
    fig = Figure(figsize=(WIDTH_IN, h), dpi=96)
    fig.subplots_adjust(left=0.75 / WIDTH_IN, right=1 - 0.15 / WIDTH_IN, bottom=bottom_in / h, top=1 - 0.3 / h,
                        hspace=0.45 / height)
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, list(axes)


_STRIP = [
    (re.compile(r"^.*?(?=<svg)", re.DOTALL), ""),                       # XML declaration and DOCTYPE
    (re.compile(r"<metadata>.*?</metadata>", re.DOTALL), ""),           # RDF block with its namespace URLs
    (re.compile(r'\s+xmlns(:\w+)?="[^"]*"'), ""),                  # HTML parsers need no namespaces inline
]


def to_svg(fig) -> str:
    """The figure as an inline ``<svg>`` element: text as paths (no fonts), no URLs, stable ids."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "gaitrisk", "font.size": 9}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    for pattern, repl in _STRIP:
        svg = pattern.sub(repl, svg)
    return svg.strip()


def _time_axis(ax, rep: AthleteReport) -> None:
    import matplotlib.dates as mdates

    ax.set_xlim(rep.first - dt.timedelta(days=1), rep.last + dt.timedelta(days=1))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=9))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.62, text, transform=ax.transAxes, ha="center", va="center", color="#555555",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})


def _week_mid(w) -> dt.date:
    return w.week_start + dt.timedelta(days=3)


def load_plot(rep: AthleteReport) -> Plot:
    fig, (top, runs_ax) = _figure(2, 2.2)
    weeks = [w for w in rep.weeks if w.distance_m is not None]
    top.bar([_week_mid(w) for w in weeks], [w.distance_m / 1000 for w in weeks], width=6, color="#4c78a8",
            label="week (7 days)")
    for w in weeks:
        if w.week_jump:
            top.annotate("▲ > 30 %", (_week_mid(w), w.distance_m / 1000), ha="center", va="bottom", color="#c00000",
                         fontsize=8)
    top.set_ylabel("km / week")
    top.set_title("Weekly distance (▲: > 30 % over the previous 7 days, Nielsen 2014)", loc="left", fontsize=9)
    runs = [r for r in rep.runs if r.distance_m is not None]
    runs_ax.bar([r.day for r in runs], [r.distance_m / 1000 for r in runs], width=0.8, color="#9ecae9",
                label="run")
    prev = [(r.day, r.longest_prev_30d_m / 1000) for r in runs if r.longest_prev_30d_m]
    if prev:
        d, v = zip(*prev)
        runs_ax.plot(d, v, drawstyle="steps-post", color="#333333", linewidth=1.2,
                     label="longest run of the 30 days before")
        runs_ax.plot(d, [x * SPIKE_TIERS[2] for x in v], drawstyle="steps-post", color="#e6a100", linewidth=1,
                     linestyle="--", label=f"× {SPIKE_TIERS[2]:.2f}: spike (Frandsen 2025)")
    for tier, colour in TIER_COLOUR.items():
        pts = [(r.day, r.distance_m / 1000) for r in runs if r.spike_tier == tier]
        if pts:
            d, v = zip(*pts)
            runs_ax.scatter(d, [x + 0.3 for x in v], marker="v", s=40, color=colour, label=f"spike: {tier}",
                            zorder=3)
    if not runs:
        _empty(runs_ax, "no runs in this period")
    runs_ax.set_ylabel("km / run")
    runs_ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    _time_axis(runs_ax, rep)
    n_insufficient = sum(r.spike_tier == "insufficient_history" for r in runs)
    cap = ("Top: distance per 7-day week. Bottom: each run, the longest run of the 30 days before it, and the "
           "+10 % spike line (Frandsen 2025); markers: small > 10 %, moderate > 30 %, large > 100 %.")
    if n_insufficient:
        cap += f" {n_insufficient} run(s) had less than 30 days of history: no spike can be judged."
    return Plot("load", "Training load", cap, to_svg(fig))


def acwr_plot(rep: AthleteReport) -> Plot:
    fig, (ax,) = _figure(1, 2.4)
    ax.axhspan(*ACWR_BAND, color="#d5f5e3", label=f"{ACWR_BAND[0]}–{ACWR_BAND[1]} (Gabbett 2016)")
    ax.axhline(ACWR_CAUTION, color="#c00000", linestyle="--", linewidth=1, label=f"{ACWR_CAUTION} caution")
    for attr, label, style in (("acwr_7_21", "uncoupled 7:21", "-o"), ("acwr_ewma_7_28", "EWMA 7/28", "--s")):
        pts = [(w.week_end, getattr(w, attr)) for w in rep.weeks if getattr(w, attr) is not None]
        if pts:
            d, v = zip(*pts)
            ax.plot(d, v, style, markersize=4, linewidth=1.2, label=label)
    if not any(w.acwr_7_21 is not None or w.acwr_ewma_7_28 is not None for w in rep.weeks):
        _empty(ax, "not enough history: ACWR needs 28 days with data")
    ax.set_ylim(0, max(2.0, *[w.acwr_7_21 or 0 for w in rep.weeks], *[w.acwr_ewma_7_28 or 0 for w in rep.weeks]))
    ax.set_ylabel("acute : chronic")
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=4)
    _time_axis(ax, rep)
    return Plot("acwr", "Acute:chronic workload ratio",
                "As of each week's last day. Information only: the evidence for runners is weak "
                "(Impellizzeri 2020); the band is Gabbett's team-sport 'sweet spot'.", to_svg(fig))


def cadence_plot(rep: AthleteReport) -> Plot:
    import numpy as np

    fig, (ax,) = _figure(1, 3.0, sharex=False, bottom_in=0.55)
    pts = [(r.level_speed_mps, r.level_cadence_spm) for r in rep.runs
           if r.level_speed_mps is not None and r.level_cadence_spm is not None]
    lo, hi = 1.6, 4.7   # the speed range the expected-cadence model was fitted on (VU wearable study)
    if pts:
        v, c = np.array(pts).T
        lo, hi = min(lo, v.min() - 0.2), max(hi, v.max() + 0.2)
    grid = np.linspace(lo, hi, 50)
    e = rep.expected_cadence
    ax.plot(grid, e.a + e.b * grid, color="#333333", label=f"expected: {e.a:.0f} + {e.b:.2f}·v (VU wearable study)")
    ax.plot(grid, (e.a + e.b * grid) * (1 + CADENCE_NOTABLE / 100), color="#e05a00", linestyle=":",
            label=f"{CADENCE_NOTABLE:+.0f} %: notable (Heiderscheit 2011)")
    b = rep.baseline_cadence
    if b is not None:
        how = "personal fit" if b.source == "personal" else "your median offset"
        ax.plot(grid, b.a + b.b * grid, color="#2e86c1", linestyle="--", label=f"your baseline ({how}, {b.n_runs} runs)")
    if pts:
        ax.scatter(v, c, s=22, color="#2e86c1", zorder=3, label="your runs (level ground)")
    else:
        _empty(ax, "no level-ground cadence in this period")
    ax.set_xlabel("speed on level ground, m/s")
    ax.set_ylabel("cadence, steps/min")
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    return Plot("cadence", "Cadence vs speed",
                "Each run's mean cadence on level ground (|grade| ≤ 2 %) against its speed there. Below the dotted "
                "line = at least 5 % under the speed-expected cadence (overstriding flag).", to_svg(fig))


def gct_balance_plot(rep: AthleteReport) -> Plot:
    fig, (bal, gct) = _figure(2, 2.1)
    bal.axhspan(100 - BALANCE_RED, BALANCE_RED, color="#fdebd0", label=f"≤ {BALANCE_RED} % (orange)")
    bal.axhspan(100 - BALANCE_GREEN, BALANCE_GREEN, color="#d5f5e3", label=f"≤ {BALANCE_GREEN} % (green)")
    pts = [(r.day, r.gct_balance_pct) for r in rep.runs if r.gct_balance_pct is not None]
    if pts:
        d, v = zip(*pts)
        bal.plot(d, v, "-o", color="#6c3483", markersize=4, linewidth=1, label="left share of contact time")
        span = max(3.0, max(abs(x - 50) for x in v) + 0.5)
    else:
        span = 3.0
        _empty(bal, "no GCT balance recorded (needs a chest strap or pod)")
    bal.set_ylim(50 - span, 50 + span)
    bal.set_ylabel("GCT balance, L %")
    bal.legend(loc="upper left", fontsize=7, frameon=False, ncols=3)
    for source, marker, colour in (("measured", "o", "#1f618d"), ("estimated", "^", "#aab7b8")):
        pts = [(r.day, r.gct_ms) for r in rep.runs if r.gct_ms is not None and r.gct_source == source]
        if pts:
            d, v = zip(*pts)
            gct.scatter(d, v, marker=marker, color=colour, s=22, label=f"GCT {source}", zorder=3)
    if any(r.gct_ms is not None for r in rep.runs):
        gct.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    else:
        _empty(gct, "no ground-contact time in this period")
    gct.set_ylabel("GCT, ms")
    _time_axis(gct, rep)
    return Plot("gct-balance", "Ground contact time and balance",
                "Top: left share of ground-contact time per run, with Garmin's bands (an injury link is not "
                "established). Bottom: contact time, measured or estimated with Hoyt's model.", to_svg(fig))


def downhill_plot(rep: AthleteReport) -> Plot:
    fig, (ax,) = _figure(1, 2.4)
    weeks = [t for t in rep.trends if t.downhill5_m is not None]
    if weeks:
        mids = [_week_mid(t) for t in weeks]
        steep = [(t.downhill10_m or 0) / 1000 for t in weeks]
        moderate = [max(0.0, (t.downhill5_m or 0) / 1000 - s) for t, s in zip(weeks, steep)]
        ax.bar(mids, moderate, width=6, color="#f5b041", label="-5 % to -10 %")
        ax.bar(mids, steep, bottom=moderate, width=6, color="#af601a", label="≤ -10 %")
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    else:
        _empty(ax, "no grade data in this period (no altitude recorded)")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("downhill km / week")
    _time_axis(ax, rep)
    return Plot("downhill", "Downhill exposure",
                "Metres run at a grade of -5 % or steeper each week (exposure). The downhill_load flag reads "
                "vertical descent, like the load table: it fires when the last 7 days' descent exceeds 1.5 × the "
                "mean week of the 28 days before them (a design choice; Gottschall 2005, Telhan 2010).",
                to_svg(fig))


def camber_plot(rep: AthleteReport) -> Plot:
    fig, (road, track) = _figure(2, 2.0)
    mids = [_week_mid(t) for t in rep.trends]
    left = [(t.road_left_low_m or 0) / 1000 for t in rep.trends]
    right = [(t.road_right_low_m or 0) / 1000 for t in rep.trends]
    # A week whose road side is only assumed (profile defaults) is drawn hatched and pale.
    assumed = [t.road_side_evidence == "assumed" for t in rep.trends]
    for bars in (road.bar([m - dt.timedelta(days=1.5) for m in mids], left, width=3, color="#2874a6",
                          label="left foot low"),
                 road.bar([m + dt.timedelta(days=1.5) for m in mids], right, width=3, color="#cb4335",
                          label="right foot low")):
        for bar, guess in zip(bars, assumed):
            if guess:
                bar.set_hatch("//")
                bar.set_alpha(0.45)
    road.set_ylim(bottom=0)
    road.set_ylabel("road km / week")
    road.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    ccw = [(t.track_ccw_m or 0) / 1000 for t in rep.trends]
    cw = [(t.track_cw_m or 0) / 1000 for t in rep.trends]
    track.bar([m - dt.timedelta(days=1.5) for m in mids], ccw, width=3, color="#117a65", label="counter-clockwise")
    track.bar([m + dt.timedelta(days=1.5) for m in mids], cw, width=3, color="#b7950b", label="clockwise")
    track.set_ylim(bottom=0)
    track.set_ylabel("track bend km")
    track.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    _time_axis(track, rep)
    return Plot("camber", "Road camber and track direction",
                "Road metres with the left or the right foot on the low side of the camber, and track bend metres by "
                "direction, per week. Hatched, pale bars: the road side is assumed from the profile's defaults, "
                "shown as exposure and never flagged; solid bars: observed (out-and-back pairing or a side you "
                "declared). Camber is a hypothesis, flagged only on observed data with lateral pain on the "
                "up-slope leg. One-way track running is flagged only when the track is >= 20 % of the distance "
                "(J Exp Biol 2024).",
                to_svg(fig))


def pain_plot(rep: AthleteReport) -> Plot:
    fig, (ax,) = _figure(1, 2.4)
    ax.axhline(TARGET_PAIN, color="#aaaaaa", linestyle=":", linewidth=1)
    ax.axhline(PAIN_HIGH, color="#c00000", linestyle="--", linewidth=1)
    from . import fmt as F

    for region in sorted({p.region for p in rep.pain}):
        pts = [(p.time.date(), p.score) for p in rep.pain if p.region == region]
        d, v = zip(*pts)
        ax.plot(d, v, "-o", color=REGION_COLOUR.get(region, "#555555"), markersize=5, linewidth=1,
                label=F.region(region))
    if rep.pain:
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=4)
    else:
        _empty(ax, "no pain entries in this period")
    ax.set_ylim(-0.3, 10.3)
    ax.set_ylabel("pain 0–10")
    _time_axis(ax, rep)
    return Plot("pain", "Pain log",
                f"Scores on the 0–10 scale. Dotted: {TARGET_PAIN}/10, the pain-free limit; dashed: "
                f"{PAIN_HIGH:.0f}/10, above which load should come down (pain-monitoring model, Silbernagel 2007).",
                to_svg(fig))


def routes_plot(rep: AthleteReport) -> Plot:
    """Small route sketches (only with --with-maps): shapes in metres, both ends trimmed."""
    routes = rep.routes or ()
    n = max(1, len(routes))
    cols = min(4, n)
    rows = -(-n // cols)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 2.0 * rows), dpi=96, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, r in zip(axes, routes):
        ax.plot(r.x_m, r.y_m, color="#1f618d", linewidth=1)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"{r.day:%d %b}", fontsize=8)
    if not routes:
        _empty(axes[0], "no routes with positions in this period")
    return Plot("routes", "Routes (privacy zone applied)",
                f"Route shapes with the first and last {rep.privacy_zone_m:.0f} m removed (privacy zone), centred on "
                "themselves: no coordinates are included.", to_svg(fig))


PLOTS = (load_plot, acwr_plot, cadence_plot, gct_balance_plot, downhill_plot, camber_plot, pain_plot)
PLOT_KEYS = ("load", "acwr", "cadence", "gct-balance", "downhill", "camber", "pain")


def plots_for(rep: AthleteReport) -> list[Plot]:
    out = [f(rep) for f in PLOTS]
    if rep.routes is not None:
        out.append(routes_plot(rep))
    return out
