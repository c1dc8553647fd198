"""The reports' per-run table and "could not judge" list, from stores of synthetic runs.

The numbers of the table are the stored activity and feature records' own; the flags a run
raised are those of the rules it fed on its day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.report import build_athlete_report, render
from gaitrisk.report import wording as F
from gaitrisk.report.assemble import camber_basis
from gaitrisk.report.jsonout import report_json, schema
from gaitrisk.report.runsamples import run_samples

from .helpers.demo_store import ATHLETE, LAST_DAY
from .helpers.runs_store import DAY0, daily_runs_store

UTC = ZoneInfo("UTC")
GENERATED = dt.datetime(2024, 4, 20, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo(demo_db):
    from gaitrisk.store import Store

    with Store(demo_db) as st:
        rep = build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY)
        feats = st.run_features(ATHLETE)
        acts = {a.id: a for a in st.activities(ATHLETE)}
        samples = st.samples(rep.runs[-1].id)
    return rep, feats, acts, samples


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from .helpers.demo_store import build_demo_store

    return build_demo_store(tmp_path_factory.mktemp("runs"))


def test_each_run_shows_its_stored_numbers(demo):
    rep, feats, acts, _ = demo
    assert [r.id for r in rep.runs] == [a for a in feats.index if acts[a].start_time.date() >= rep.first]
    for r in rep.runs:
        f, a = feats.loc[r.id], acts[r.id]
        assert r.distance_m == pytest.approx(f["distance_m"])
        assert r.moving_time_s == pytest.approx(f["moving_time_s"])
        assert r.pace_s_per_km == pytest.approx(f["moving_time_s"] / f["distance_m"] * 1000)
        assert r.cadence_spm == pytest.approx(f["cadence_spm"]) and r.ascent_m == pytest.approx(f["ascent_m"])
        assert r.hr_avg_bpm == pytest.approx(f["hr_avg_bpm"])
        assert (r.gct_ms, r.gct_source) == (pytest.approx(f["gct_ms"]), f["gct_source"])
        assert a.start_time.date() == r.day
    assert {r.gct_source for r in rep.runs} == {"measured", "estimated"}


def test_the_json_lists_every_run_of_the_period_and_validates(demo):
    import jsonschema

    rep, feats, _, _ = demo
    doc = report_json([rep], GENERATED)
    jsonschema.validate(doc, schema())
    assert doc["schema_version"] == "1.4"
    runs = doc["athletes"][0]["runs"]
    assert len(runs) == len(rep.runs)
    for j in runs:
        f = feats.loc[j["id"]]
        assert j["moving_time_s"] == round(f["moving_time_s"], 1) and j["ascent_m"] == round(f["ascent_m"], 1)
        assert j["cadence_spm"] == round(f["cadence_spm"], 1) and j["gct_source"] == f["gct_source"]
        assert j["pace_s_per_km"] == round(f["moving_time_s"] / f["distance_m"] * 1000, 1)
        assert j["road_side_evidence"] in ("observed", "assumed", None) and j["flags"] == []
    assert [u["code"] for u in doc["athletes"][0]["not_judged"]] == [u.code for u in rep.not_judged]


def test_text_and_markdown_show_the_table_with_the_gct_source(demo):
    rep, feats, _, _ = demo
    text = render([rep], "text", generated_at=GENERATED)
    md = render([rep], "markdown", generated_at=GENERATED)
    for doc in (text, md):
        assert f"Runs, the last {len(rep.runs)} of {len(rep.runs)} in this period" in doc
        assert "estimated" in doc and "measured" in doc
        assert f"Could not judge on {rep.last}" in doc
        assert "session spike: needs 30 days of runs before the run, you have 18" in doc
    last = rep.runs[-1]
    row = F.run_row(last)
    assert row[:4] == ["Fri 19 Apr", "7.2", "40:00", "5:33"]
    assert row[5] == f"{feats.loc[last.id, 'gct_ms']:.0f} measured"
    assert re.search(r"Fri 19 Apr\s+7\.2\s+40:00\s+5:33\s+166\s+266 measured\s+25\s+-", text)


@pytest.mark.slow
def test_text_shows_the_last_10_runs_json_and_html_all(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(40)}) as st:
        rep = build_athlete_report(st, "ann", UTC, today=DAY0 + dt.timedelta(days=39))
    assert len(rep.runs) > F.RUNS_SHOWN
    text = render([rep], "text", generated_at=GENERATED)
    rows = re.findall(r"^ \w{3} \d\d \w{3}\s+5\.0\s", text, re.MULTILINE)
    assert len(rows) == F.RUNS_SHOWN
    assert f"Runs, the last {F.RUNS_SHOWN} of {len(rep.runs)}" in text
    assert f"{rep.runs[-1].day:%a %d %b}" in rows[-1] and f"{rep.runs[-10].day:%a %d %b}" in rows[0]
    html = render([rep], "html", generated_at=GENERATED)
    table = html.split('<table class="runs">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == len(rep.runs) + 1
    assert len(report_json([rep], GENERATED)["athletes"][0]["runs"]) == len(rep.runs)


@pytest.mark.slow
def test_the_run_that_spiked_carries_the_flag(tmp_path):
    # 5 km a day for 35 days, then 7 km (+40 % over the 30-day longest run), then 5 km again.
    runs = {d: 5.0 for d in range(35)} | {35: 7.0, 36: 5.0}
    with daily_runs_store(tmp_path, runs) as st:
        rep = build_athlete_report(st, "ann", UTC, today=DAY0 + dt.timedelta(days=36))
    assert [f.code for f in rep.flags] == ["session_spike"]
    raised = {r.day: r.flags for r in rep.runs if r.flags}
    assert raised == {DAY0 + dt.timedelta(days=35): ("session_spike",)}
    doc = report_json([rep], GENERATED)["athletes"][0]
    assert [r["flags"] for r in doc["runs"] if r["flags"]] == [["session_spike"]]
    html = render([rep], "html", generated_at=GENERATED)
    table = html.split('<table class="runs">', 1)[1].split("</table>", 1)[0]
    alert = re.findall(r"<tr class='alert'>(.*?)</tr>", table)
    assert len(alert) == 1 and "session spike" in alert[0] and "7.0" in alert[0]


def test_return_from_break_belongs_to_the_run_that_raised_it(tmp_path):
    # 10 km runs for 5 weeks, 30 days off, then 6 km (60 % of the pre-break longest) and 3 km.
    runs = {d: 10.0 for d in range(0, 35, 2)} | {64: 6.0, 66: 3.0}
    with daily_runs_store(tmp_path, runs) as st:
        rep = build_athlete_report(st, "ann", UTC, today=DAY0 + dt.timedelta(days=66),
                                   since=DAY0 + dt.timedelta(days=60))
    assert "return_from_break" in {f.code for f in rep.flags}
    assert {r.day: r.flags for r in rep.runs} == {DAY0 + dt.timedelta(days=64): ("return_from_break",),
                                                  DAY0 + dt.timedelta(days=66): ()}


@pytest.mark.parametrize("source, metres, expected", [
    ("out-and-back pairing", 5000.0, "observed"), ("declared for this route", 5000.0, "observed"),
    ("road-side habit and driving side", 5000.0, "assumed"), (None, 5000.0, "assumed"), ("declared", 0.0, None)])
def test_camber_basis(source, metres, expected):
    assert camber_basis(source, metres) == expected


def test_camber_weeks_split_observed_from_assumed(demo):
    rep = demo[0]
    week = next(t for t in rep.trends if t.road_right_low_observed_m)
    observed = sum(r.road_right_low_m for r in rep.runs
                   if week.week_start <= r.day <= week.week_end and r.road_side_evidence == "observed")
    assert week.road_right_low_observed_m == pytest.approx(observed)
    assert all((t.road_left_low_observed_m or 0) <= (t.road_left_low_m or 0) for t in rep.trends)


def test_run_samples_bin_by_distance():
    n = 1200                                             # 20 min at 3 m/s, 1 Hz, a 2-minute stop in the middle
    speed = np.full(n, 3.0)
    speed[600:720] = 0.0
    dist = np.concatenate([[0.0], np.cumsum(speed[1:])])
    df = pd.DataFrame({S.ELAPSED: np.arange(n, dtype=float), S.DISTANCE: dist, S.SPEED: speed,
                       S.HEART_RATE: np.full(n, 150.0), S.ALTITUDE: 100 + dist / 100})
    rs = run_samples(df, "x", dt.date(2024, 1, 1))
    assert rs.cadence_spm is None and rs.gct_ms is None
    assert [name for name, _, _ in rs.present()] == ["pace_s_per_km", "heart_rate_bpm", "altitude_m"]
    assert len(rs.distance_km) <= 300 and rs.distance_km[-1] == pytest.approx(dist[-1] / 1000, abs=0.05)
    assert all(p == pytest.approx(1000 / 3.0, abs=0.01) for p in rs.pace_s_per_km if p == p)
    assert rs.altitude_m[-1] == pytest.approx(100 + dist[-1] / 100, abs=0.5)
    assert run_samples(df.drop(columns=[S.DISTANCE]), "x", dt.date(2024, 1, 1)) is None


def test_the_latest_run_chart_reads_the_stored_samples(demo):
    rep, _, _, samples = demo
    rs = rep.samples
    assert rs.id == rep.runs[-1].id
    assert rs.distance_km[-1] == pytest.approx(samples[S.DISTANCE].max() / 1000, abs=0.05)
    assert np.nanmean(rs.heart_rate_bpm) == pytest.approx(samples[S.HEART_RATE].mean(), abs=1.0)
    assert np.nanmax(rs.altitude_m) <= samples[S.ALTITUDE].max() + 1e-9
    assert [n for n, _, _ in rs.present()] == ["pace_s_per_km", "heart_rate_bpm", "cadence_spm", "gct_ms",
                                               "altitude_m"]
    doc = json.loads(json.dumps(report_json([rep], GENERATED)))
    assert "samples" not in doc["athletes"][0]          # the chart's samples stay out of the JSON contract


@pytest.mark.slow
def test_a_period_without_runs_says_so(tmp_path):
    # Runs on days 0-9, pain logged on day 30: the last week of the report holds no run.
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(10)}, pain_days=(30,)) as st:
        rep = build_athlete_report(st, "ann", UTC, today=DAY0 + dt.timedelta(days=30),
                                   since=DAY0 + dt.timedelta(days=25))
    assert rep.runs == () and rep.samples is None
    assert "Runs: none in this period." in render([rep], "text", generated_at=GENERATED)
    assert "None in this period." in render([rep], "markdown", generated_at=GENERATED)
    html = render([rep], "html", generated_at=GENERATED)
    assert "No runs in this period." in html and 'data-plot="run"' not in html
