"""The HTML report's figures as a physio reads them: nothing hidden under a legend, no bar at the
top edge, no empty track panel, assumed camber labelled, a per-run table.

The geometry is checked on the matplotlib figures themselves (their artists' boxes after a
draw), which runs everywhere and is steadier than pixels; the demo report is then rendered
in headless Chromium where it is installed, and its DOM checked for the same content.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gaitrisk.report import build_athlete_report, render
from gaitrisk.report.plots import camber_plot, gct_balance_plot, plots_for

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store

pytestmark = pytest.mark.slow

UTC = ZoneInfo("UTC")
GENERATED = dt.datetime(2024, 4, 20, 6, 0, tzinfo=dt.UTC)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"]
EDGE_PX = 2.0          # a bar closer than this to the top of its axes touches it


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from gaitrisk.store import Store

    with Store(build_demo_store(tmp_path_factory.mktemp("figs"))) as st:
        return build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY)


# -- geometry on the figures ------------------------------------------------------------------
def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _marks(ax):
    """Display-coordinate boxes of the data marks: each marker or line vertex (as a point) and each bar."""
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import Bbox

    boxes = []
    for line in ax.get_lines():
        if line.get_transform() != ax.transData:
            continue   # axhline: a reference line across the axes, not data
        r = line.get_markersize() / 2 * ax.figure.dpi / 72 if line.get_marker() not in (None, "None", "") else 0
        for x, y in ax.transData.transform(np.asarray(line.get_xydata(), float)):
            if np.isfinite([x, y]).all():
                boxes.append(("point", Bbox([[x - r, y - r], [x + r, y + r]])))
    for coll in ax.collections:
        if coll.get_offset_transform() != ax.transData:
            continue
        sizes = coll.get_sizes()
        for i, (x, y) in enumerate(ax.transData.transform(np.asarray(coll.get_offsets(), float))):
            r = np.sqrt(sizes[i % len(sizes)]) / 2 * ax.figure.dpi / 72 if len(sizes) else 0
            boxes.append(("point", Bbox([[x - r, y - r], [x + r, y + r]])))
    for p in ax.patches:
        if isinstance(p, Rectangle) and p.get_data_transform() == ax.transData and p.get_height() > 0:
            boxes.append(("bar", p.get_window_extent()))
    return boxes


def problems(fig) -> list[str]:
    """What a reader would see as clipped or hidden in ``fig``."""
    renderer = _drawn(fig)
    out = []
    for i, ax in enumerate(fig.axes):
        frame = ax.get_window_extent(renderer)
        legend = ax.get_legend()
        box = legend.get_window_extent(renderer) if legend is not None else None
        for kind, mark in _marks(ax):
            if box is not None and mark.overlaps(box):
                out.append(f"axes {i}: a {kind} at y={mark.y1:.0f}px under the legend (bottom {box.y0:.0f}px)")
            if kind == "bar" and mark.y1 > frame.y1 - EDGE_PX:
                out.append(f"axes {i}: a bar touches the top edge ({mark.y1:.0f}px of {frame.y1:.0f}px)")
    return out


def test_the_checker_sees_a_point_under_a_legend_and_a_bar_at_the_top():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2), dpi=96)
    ax = fig.subplots()
    ax.bar([0, 1], [1.0, 2.0])
    ax.plot([0.0], [2.0], "o", label="a point at the top left")
    ax.set_ylim(0, 2.0)
    ax.legend(loc="upper left")
    found = problems(fig)
    assert any("under the legend" in p for p in found) and any("touches the top edge" in p for p in found)


def test_no_demo_figure_hides_data_under_a_legend_or_touches_the_top(demo):
    for plot in plots_for(demo):
        assert problems(plot.figure) == [], plot.key


def _with_runs(rep, **changes_by_index):
    runs = list(rep.runs)
    for i, changes in changes_by_index.items():
        runs[int(i[1:])] = dataclasses.replace(runs[int(i[1:])], **changes)
    return dataclasses.replace(rep, runs=tuple(runs))


def test_the_gct_chart_keeps_its_top_point_clear_of_the_legend(demo):
    # The highest contact time on the first run: right under the upper-left legend.
    rep = _with_runs(demo, r0={"gct_ms": 320.0, "gct_source": "measured"})
    plot = gct_balance_plot(rep)
    gct_ax = plot.figure.axes[1]
    assert gct_ax.get_legend() is not None
    assert problems(plot.figure) == []


def test_the_downhill_and_load_bars_have_headroom(demo):
    for plot in plots_for(demo):
        if plot.key in ("downhill", "load", "camber"):
            for ax in plot.figure.axes:
                tops = [p.get_y() + p.get_height() for p in ax.patches if p.get_height() > 0]
                if tops:
                    assert ax.get_ylim()[1] >= max(tops) * 1.1, plot.key


def test_camber_says_which_kilometres_are_assumed(demo):
    plot = camber_plot(demo)
    labels = [t.get_text() for t in plot.figure.axes[0].get_legend().get_texts()]
    assert any("assumed" in t for t in labels) and any("observed" in t for t in labels)
    assert "Assumed (light, hatched)" in plot.caption
    hatched = [p for p in plot.figure.axes[0].patches if p.get_hatch()]
    solid = [p for p in plot.figure.axes[0].patches if not p.get_hatch() and p.get_height() > 0]
    assert hatched and solid


def test_no_track_panel_without_track_running(demo):
    no_track = dataclasses.replace(demo, trends=tuple(dataclasses.replace(t, track_ccw_m=0.0, track_cw_m=None)
                                                      for t in demo.trends))
    plot = camber_plot(no_track)
    assert len(plot.figure.axes) == 1 and plot.title == "Road camber"
    assert "No track running in this period." in plot.caption
    with_track = camber_plot(demo)
    assert len(with_track.figure.axes) == 2 and with_track.figure.axes[1].get_ylim()[1] > 1.0


def test_citations_are_by_author_and_year(demo):
    html = render([demo], "html", generated_at=GENERATED)
    assert "§" not in html and "rows 19" not in html


# -- the demo report in headless Chromium ------------------------------------------------------
class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figures: list[str] = []
        self.tables: list[str] = []
        self.unjudged: list[str] = []
        self.captions: dict[str, str] = {}
        self._figure: str | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self._figure = a.get("data-plot")
            self.figures.append(self._figure)
        elif tag == "table":
            self.tables.append(a.get("class") or "")
        elif tag == "li" and "data-unjudged" in a:
            self.unjudged.append(a["data-unjudged"])
        elif tag == "figcaption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False
        elif tag == "figure":
            self._figure = None

    def handle_data(self, data):
        if self._in_caption and self._figure:
            self.captions[self._figure] = self.captions.get(self._figure, "") + data


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package: chromium)")
def test_demo_report_in_headless_chromium(demo, tmp_path):
    page = tmp_path / "demo.html"
    page.write_text(render([demo], "html", generated_at=GENERATED), encoding="utf-8")
    profile = tmp_path / "profile"
    profile.mkdir()
    res = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln] == []
    dom = _Dom()
    dom.feed(res.stdout)
    assert "runs" in dom.tables                                   # the per-run table
    assert "run" in dom.figures and "camber" in dom.figures        # the per-run chart, the camber chart
    assert "assumed" in dom.captions["camber"].lower()
    assert dom.unjudged == [u.code for u in demo.not_judged] and dom.unjudged
    shot = tmp_path / "demo.png"
    res = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
                          "--window-size=1000,3000", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=180, check=False)
    assert res.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
