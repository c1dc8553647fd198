"""The HTML report: one self-contained file with every plot, no network, no positions unless asked.

A structural test runs everywhere (stdlib HTML parser); a real headless Chromium renders
the file where /usr/bin/chromium (Debian package ``chromium``) exists, and skips otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gaitrisk.report import build_athlete_report, render
from gaitrisk.report.plots import PLOT_KEYS

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store

pytestmark = pytest.mark.slow

UTC = ZoneInfo("UTC")
GENERATED = dt.datetime(2024, 4, 20, 6, 0, tzinfo=dt.UTC)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from gaitrisk.store import Store

    folder = tmp_path_factory.mktemp("html")
    db = build_demo_store(folder)
    with Store(db) as st:
        rep = build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY, with_maps=True)
        first_fix = st.samples(rep.runs[0].id)[["lat_deg", "lon_deg"]].dropna().iloc[0]
    return {"plain": render([rep], "html", generated_at=GENERATED),
            "maps": render([rep], "html", with_maps=True, generated_at=GENERATED),
            "fix": (float(first_fix["lat_deg"]), float(first_fix["lon_deg"])), "folder": folder}


class _Collect(HTMLParser):
    """Every element with its attributes, and which <figure data-plot> each <svg> sits in."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.figures: dict[str, dict] = {}
        self._figure: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "figure":
            self._figure = a.get("data-plot")
            self.figures[self._figure] = {"attrs": a, "svg": 0, "paths": 0, "caption": False}
        elif self._figure and tag == "svg":
            self.figures[self._figure]["svg"] += 1
        elif self._figure and tag == "path":
            self.figures[self._figure]["paths"] += 1
        elif self._figure and tag == "figcaption":
            self.figures[self._figure]["caption"] = True

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def test_every_plot_is_a_figure_with_an_inline_svg(pages):
    p = _parse(pages["plain"])
    assert set(p.figures) == {*PLOT_KEYS, "run", "risk"}
    for key, f in p.figures.items():
        assert f["attrs"]["id"] == f"{ATHLETE}-{key}" and f["attrs"]["data-athlete"] == ATHLETE
        assert f["svg"] == 1 and f["paths"] > 10 and f["caption"], key
    flags = [a.get("data-flag") for t, a in p.elements if "data-flag" in a]
    assert flags == ["pain_rising"]


def test_self_contained_no_network_no_positions(pages):
    html = pages["plain"]
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    p = _parse(html)
    tags = {t for t, _ in p.elements}
    assert not tags & {"script", "link", "iframe", "img", "object", "embed"}
    for tag, attrs in p.elements:
        for name in ("src", "href", "xlink:href"):
            assert attrs.get(name) is None or attrs[name].startswith("#"), (tag, attrs)
    assert "url(" not in re.sub(r"url\(#", "", html)          # CSS or SVG references only to itself
    assert "default-src 'none'" in html                        # the browser refuses any load anyway
    lat, lon = pages["fix"]
    for v in (lat, lon):
        assert f"{v:.3f}" not in html and f"{v:.2f}" not in html
    assert "routes" not in _parse(html).figures


def test_maps_only_when_asked(pages):
    p = _parse(pages["maps"])
    assert "routes" in p.figures and p.figures["routes"]["svg"] == 1
    lat, lon = pages["fix"]
    assert f"{lat:.3f}" not in pages["maps"] and f"{lon:.3f}" not in pages["maps"]
    assert "500 m" in pages["maps"]


def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=180, check=False)


def _console(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package: chromium)")
def test_headless_chromium_renders_every_plot_without_console_errors(pages, tmp_path):
    # The console check must be able to fail: a page with an error is caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('planted'); missing();</script>")
    caught = _console(_chromium(tmp_path, bad.as_uri(), "--dump-dom").stderr)
    assert any("planted" in ln for ln in caught) and any("missing" in ln for ln in caught)

    page = tmp_path / "report.html"
    page.write_text(pages["maps"], encoding="utf-8")
    res = _chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert res.returncode == 0, res.stderr[-2000:]
    assert _console(res.stderr) == []
    dom = _parse(res.stdout)
    assert set(dom.figures) == {*PLOT_KEYS, "run", "risk", "routes"}
    assert all(f["svg"] == 1 and f["paths"] > 10 for f in dom.figures.values())

    shot = tmp_path / "report.png"
    res = _chromium(tmp_path, page.as_uri(), "--hide-scrollbars", "--window-size=1000,3000", f"--screenshot={shot}")
    assert res.returncode == 0 and _console(res.stderr) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000   # an image with content, not a blank page
