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
from dataclasses import dataclass, field

from ..features.gait import POP_LOW_SPM
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
    figure: object = field(default=None, repr=False, compare=False)   # the matplotlib Figure drawn


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


BAR_HEADROOM = 0.12        # free space above the tallest bar, as a share of the bar's height
LEGEND_GAP = 0.04          # axes fraction kept between the legend's lower edge and the data below it


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def data_points(ax):
    """Data-coordinate points drawn on ``ax``: line vertices, markers and the top corners of bars.

    Reference lines and bands drawn across the axes (``axhline``, ``axhspan``) are not data and
    are left out: their transform is not the axes' data transform.
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    pts = [np.empty((0, 2))]
    for line in ax.get_lines():
        if line.get_transform() == ax.transData:
            pts.append(np.asarray(line.get_xydata(), float).reshape(-1, 2))
    for coll in ax.collections:
        if coll.get_offset_transform() == ax.transData and len(coll.get_offsets()):
            pts.append(np.asarray(coll.get_offsets(), float).reshape(-1, 2))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_data_transform() == ax.transData:
            x, y, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
            if h > 0:
                pts.append(np.array([[x, y + h], [x + w / 2, y + h], [x + w, y + h]], float))
    xy = np.concatenate(pts)
    return xy[np.isfinite(xy).all(axis=1)]


def _bar_tops(ax) -> list[float]:
    from matplotlib.patches import Rectangle

    return [p.get_y() + p.get_height() for p in ax.patches
            if isinstance(p, Rectangle) and p.get_data_transform() == ax.transData and p.get_height() > 0]


def _bar_headroom(ax) -> None:
    """Bars end below the top edge: the axis reaches ``BAR_HEADROOM`` above the tallest bar."""
    tops = _bar_tops(ax)
    if not tops:
        return
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, max(hi, lo + (max(tops) - lo) * (1 + BAR_HEADROOM)))


def _clear_of_legend(ax, renderer) -> None:
    """Raise the top of ``ax`` until no data point under its legend's width reaches the legend.

    The legend sits at a fixed place in axes fractions; raising the y limit lowers the data
    without moving it, so the highest point under it ends ``LEGEND_GAP`` below its lower edge.
    On a bar chart every bar counts, not only those under the legend: a bar beside the legend
    as tall as its text reads as clipped.
    """
    legend = ax.get_legend()
    if legend is None or not legend.get_visible():
        return
    box = legend.get_window_extent(renderer).transformed(ax.transAxes.inverted())
    xy = data_points(ax)
    if not len(xy):
        return
    frac = ax.transAxes.inverted().transform(ax.transData.transform(xy))
    under = (frac[:, 0] >= box.x0 - 0.01) & (frac[:, 0] <= box.x1 + 0.01)
    if _bar_tops(ax):
        under[:] = True
    if not under.any():
        return
    room = box.y0 - LEGEND_GAP
    lo, hi = ax.get_ylim()
    top = float(xy[under, 1].max())
    if room > 0.2 and (top - lo) / (hi - lo) > room:
        ax.set_ylim(lo, lo + (top - lo) / room)


def tidy(fig) -> None:
    """Headroom above every bar and no data under a legend, on every axes of ``fig``."""
    renderer = None
    for ax in fig.axes:
        _bar_headroom(ax)
        if ax.get_legend() is not None:
            renderer = renderer or _renderer(fig)
            _clear_of_legend(ax, renderer)


def to_svg(fig) -> str:
    """The figure as an inline ``<svg>`` element: text as paths (no fonts), no URLs, stable ids.

    The figure is tidied first (:func:`tidy`): nothing the reader needs is hidden or clipped.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "gaitrisk", "font.size": 9}):
        tidy(fig)
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
    return Plot("load", "Training load", cap, to_svg(fig), fig)


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
                "(Impellizzeri 2020); the band is Gabbett's team-sport 'sweet spot'.", to_svg(fig), fig)


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
    b = rep.baseline_cadence
    # The overstriding cut of the baseline the latest run was judged against.
    if b is not None:
        ax.plot(grid, b.a + b.b * grid, color="#2e86c1", linestyle="--",
                label=f"your own baseline (median of {b.n_runs} earlier level runs)")
        ax.plot(grid, (b.a + b.b * grid) * (1 + CADENCE_NOTABLE / 100), color="#e05a00", linestyle=":",
                label=f"{CADENCE_NOTABLE:+.0f} % of your own (Heiderscheit 2011)")
    else:
        ax.plot(grid, e.a + e.b * grid - POP_LOW_SPM, color="#e05a00", linestyle=":",
                label=f"-{POP_LOW_SPM:.0f} steps/min: population fallback (no baseline of your own yet)")
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
                "line = low for speed by the overstriding flag's cut: 5 % under your own baseline, or 12 steps/min "
                "under the population model before you have one; the flag needs 10 % of a week's level time there. "
                "Cadence for speed is a proxy: where the foot lands is not measured.", to_svg(fig), fig)


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
                "established). Bottom: contact time, measured or estimated with Hoyt's model.", to_svg(fig), fig)


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
                to_svg(fig), fig)


ASSUMED_ALPHA = 0.35        # an assumed quantity is drawn lighter (this share of its colour) and hatched


def camber_plot(rep: AthleteReport) -> Plot:
    """Road camber by low-side foot, observed (solid) or assumed (light, hatched); track bends by direction.

    The track panel is drawn only when the period holds track bend metres: an empty panel on
    a near-zero axis reads like data.
    """
    from matplotlib.colors import to_rgb

    ccw = [(t.track_ccw_m or 0) / 1000 for t in rep.trends]
    cw = [(t.track_cw_m or 0) / 1000 for t in rep.trends]
    has_track = any(v > 0 for v in ccw + cw)
    fig, axes = _figure(2 if has_track else 1, 2.0 if has_track else 2.4)
    road = axes[0]
    mids = [_week_mid(t) for t in rep.trends]
    any_assumed = False
    for side, shift, colour in (("left", -1.5, "#2874a6"), ("right", 1.5, "#cb4335")):
        total = [(getattr(t, f"road_{side}_low_m") or 0) / 1000 for t in rep.trends]
        seen = [min(tot, (getattr(t, f"road_{side}_low_observed_m") or 0) / 1000) for t, tot in zip(rep.trends, total)]
        assumed = [tot - s for tot, s in zip(total, seen)]
        x = [m + dt.timedelta(days=shift) for m in mids]
        if any(v > 0 for v in seen):
            road.bar(x, seen, width=3, color=colour, label=f"{side} foot low, observed")
        if any(v > 0 for v in assumed):
            any_assumed = True
            light = tuple(1 - ASSUMED_ALPHA * (1 - c) for c in to_rgb(colour))   # the colour on white, opaque
            road.bar(x, assumed, bottom=seen, width=3, color=light, hatch="///",
                     edgecolor=colour, linewidth=0.6, label=f"{side} foot low, assumed (profile default)")
    if road.patches:
        road.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    else:
        _empty(road, "no road running in this period")
    road.set_ylim(bottom=0)
    road.set_ylabel("road km / week")
    if has_track:
        track = axes[1]
        track.bar([m - dt.timedelta(days=1.5) for m in mids], ccw, width=3, color="#117a65",
                  label="counter-clockwise")
        track.bar([m + dt.timedelta(days=1.5) for m in mids], cw, width=3, color="#b7950b", label="clockwise")
        track.set_ylim(bottom=0)
        track.set_ylabel("track bend km")
        track.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    _time_axis(axes[-1], rep)
    cap = ("Road metres with the left or the right foot on the low side of the camber, per week. Observed "
           "(solid): the side was seen on an out-and-back run or declared by you. Assumed (light, hatched): "
           "the side comes from a profile or country default, not from the run. Camber is a hypothesis: assumed "
           "exposure is never flagged; observed exposure with lateral pain on the up-slope leg gives an info flag.")
    if any_assumed:
        cap += " Assumed kilometres are a guess about the side, not a measurement."
    if has_track:
        cap += (" Bottom: track bend metres by direction. One-way track running is flagged only when the track "
                "is a material share of the running, together with one-sided pain (J Exp Biol 2024).")
    else:
        cap += " No track running in this period."
    return Plot("camber", "Road camber and track direction" if has_track else "Road camber", cap,
                to_svg(fig), fig)


def run_plot(rep: AthleteReport) -> Plot | None:
    """The latest run over distance: pace, heart rate, cadence, GCT and elevation (what was recorded)."""
    r = rep.samples
    if r is None or not r.present():
        return None
    import matplotlib.ticker as mticker

    series = r.present()
    fig, axes = _figure(len(series), 1.25, bottom_in=0.5)
    colours = {"pace_s_per_km": "#1f618d", "heart_rate_bpm": "#c0392b", "cadence_spm": "#117a65",
               "gct_ms": "#6c3483", "altitude_m": "#7d6608"}
    for ax, (name, label, values) in zip(axes, series):
        if name == "altitude_m":
            lo = min(v for v in values if v == v)
            ax.fill_between(r.distance_km, values, lo, color=colours[name], alpha=0.25, linewidth=0)
        ax.plot(r.distance_km, values, color=colours[name], linewidth=1)
        ax.set_ylabel(label, fontsize=7)
        if name == "pace_s_per_km":
            ax.invert_yaxis()   # faster is higher, as on a watch's pace chart
            ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{int(v) // 60}:{int(v) % 60:02d}"))
    axes[-1].set_xlabel("distance, km")
    # GCT over the run exists only where a sensor recorded it; an estimate is per run, not per stretch.
    gct_note = " GCT: measured by a sensor." if r.gct_ms is not None else " No GCT: no sensor recorded it on this run."
    shown = ", ".join(label.split(",")[0] for _, label, _ in series)
    return Plot("run", f"Latest run, {r.day:%a %d %b %Y}",
                f"{shown} over the run, from the stored samples, averaged over short stretches of distance "
                f"(pace: moving speed; standing still is left out).{gct_note}", to_svg(fig), fig)


def pain_plot(rep: AthleteReport) -> Plot:
    fig, (ax,) = _figure(1, 2.4)
    ax.axhline(TARGET_PAIN, color="#aaaaaa", linestyle=":", linewidth=1)
    ax.axhline(PAIN_HIGH, color="#c00000", linestyle="--", linewidth=1)
    from . import wording as F

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
                to_svg(fig), fig)


def ostrc_plot(rep: AthleteReport) -> Plot:
    """Weekly OSTRC severity (0-100) per area, substantial-problem weeks marked."""
    from ..records import SEVERITY_MAX
    from . import wording as F

    fig, (ax,) = _figure(1, 2.4)
    areas = sorted({w.area for w in rep.ostrc})
    width = 6.0 / max(1, len(areas))
    for i, area in enumerate(areas):
        weeks = [w for w in rep.ostrc if w.area == area]
        x = [w.week + dt.timedelta(days=0.5 + width * (i + 0.5)) for w in weeks]
        colour = REGION_COLOUR.get(area, "#555555")
        ax.bar(x, [w.severity for w in weeks], width=width, color=colour, label=F.region(area))
        for xi, w in zip(x, weeks):
            if w.substantial:
                ax.annotate("▲", (xi, w.severity), ha="center", va="bottom", color="#c00000", fontsize=9)
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=4)
    ax.set_ylim(0, SEVERITY_MAX + 12)
    ax.set_ylabel("severity 0–100")
    _time_axis(ax, rep)
    return Plot("ostrc", "Weekly OSTRC questionnaire",
                "Severity score of the weekly OSTRC overuse-injury questionnaire per body area (0 = no problem, "
                "100 = could not take part), one bar per answered week. ▲: a substantial problem, one that stopped "
                "running or reduced training or performance to a moderate or major extent (Clarsen 2020).",
                to_svg(fig), fig)


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
                "themselves: no coordinates are included.", to_svg(fig), fig)


PLOTS = (load_plot, acwr_plot, cadence_plot, gct_balance_plot, downhill_plot, camber_plot, pain_plot)
PLOT_KEYS = ("load", "acwr", "cadence", "gct-balance", "downhill", "camber", "pain")


def risk_plot(rep: AthleteReport) -> Plot | None:
    """The risk model's daily probability over the report's days, its interval and the base rate (None: no risk)."""
    if rep.risk is None or not rep.risk.days:
        return None
    risk = rep.risk
    fig, (ax,) = _figure(1, 2.4)
    d = [r.date for r in risk.days]
    ax.fill_between(d, [r.low * 100 for r in risk.days], [r.high * 100 for r in risk.days], color="#f5b7b1",
                    alpha=0.6, linewidth=0, step="mid", label="95 % interval")
    ax.plot(d, [r.probability * 100 for r in risk.days], "-", drawstyle="steps-mid", color="#c00000",
            linewidth=1.4, label="risk")
    ax.axhline(risk.base_rate * 100, color="#555555", linestyle="--", linewidth=1,
               label="typical for your running")
    # The interval spans orders of magnitude: on a log axis the point, the band and the base rate all stay legible.
    ax.set_yscale("log")
    top = max(r.high for r in risk.days) * 100
    ax.set_ylim(min(min(r.low for r in risk.days) * 100, risk.base_rate * 100) / 2, top * 8)  # room for the legend
    ax.set_ylabel(f"% in next {risk.horizon_days} days")
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=3)
    _time_axis(ax, rep)
    return Plot("risk", f"Risk of a hip/lateral-knee pain onset in the next {risk.horizon_days} days",
                f"Each day's probability from {risk.model_text}, with its 95 % interval (band) and the probability "
                "on a day with no risk factor present (dashed). Decision support, not a diagnosis.", to_svg(fig), fig)


def plots_for(rep: AthleteReport) -> list[Plot]:
    out = [f(rep) for f in PLOTS]
    risk = risk_plot(rep)
    if risk is not None:
        out.append(risk)
    if rep.ostrc:
        out.append(ostrc_plot(rep))
    run = run_plot(rep)
    if run is not None:
        out.append(run)
    if rep.routes is not None:
        out.append(routes_plot(rep))
    return out
