"""``gaitrisk demo``: the whole main job on the bundled season, ending in the report.

The demo runs once per module (``--keep``); the tests read its output and its store.
Besides the flags the report shows, they check the data facts the camber, track and
personal-cadence rules need, so those rules' flags can be asserted on the same store.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fnmatch
import json
import re
import shutil
import stat
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gaitrisk.cli.demo import DEMO_ATHLETE, read_demo_gaps
from gaitrisk.cli.main import cli
from gaitrisk.features.gait import POP_CADENCE_INTERCEPT, POP_CADENCE_SLOPE
from gaitrisk.model.dataset import LabelSpec, athlete_days
from gaitrisk.model.judged import unjudged
from gaitrisk.model.rules import rule_levels
from gaitrisk.model.persist import default_model_path
from gaitrisk.report import build_athlete_report, render
from gaitrisk.report.text import render_text
from gaitrisk.store import Store

from .helpers.paths import FIXTURES, REPO

pytestmark = pytest.mark.slow

SEASON = json.loads((FIXTURES / "truth" / "season.json").read_text())
PAIN = list(csv.DictReader((FIXTURES / "pain" / "demo_pain.csv").open()))
UTC = ZoneInfo("UTC")


def _population(speed_mps):
    """The population speed-expected cadence, steps/min (VU wearable study)."""
    return POP_CADENCE_INTERCEPT + POP_CADENCE_SLOPE * speed_mps


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """The demo's output and the folder it kept (store, model, HTML report)."""
    folder = tmp_path_factory.mktemp("demo") / "kept"
    res = CliRunner().invoke(cli, ["demo", "--keep", str(folder)])
    assert res.exit_code == 0, res.output
    return res.output, folder


@pytest.fixture(scope="module")
def runs(kept) -> pd.DataFrame:
    """One row per stored run: its local day, source file name and feature record."""
    with Store(kept[1] / "demo.db", read_only=True) as st:
        feats = st.run_features(DEMO_ATHLETE)
        acts = {a.id: a for a in st.activities(DEMO_ATHLETE)}
    feats["day"] = [pd.Timestamp(acts[i].start_time.astimezone(UTC).date()) for i in feats.index]
    feats["file"] = [acts[i].sources[0].split("/")[-1] for i in feats.index]
    return feats.sort_values("day")


def _last_day(runs: pd.DataFrame) -> pd.Timestamp:
    return runs["day"].max()


def test_demo_runs_every_step_and_prints_the_report(kept):
    out, folder = kept
    n_runs = sum("duplicate_of" not in t for t in SEASON.values())
    steps = [re.escape(s) for s in (
        "1. import", f"2. features {n_runs} runs", f"3. pain     {len(PAIN)} entries", "1 declared data gap",
        f"4. load     {n_runs} runs in 12 weeks", "5. model", "6. report")]
    assert re.search(".*".join(steps), out, re.DOTALL), out
    assert f"{n_runs} imported, 1 duplicate" in out
    for section in ("Load, last", "Gait trends", "Terrain, camber and track", "Pain log"):
        assert section in out
    assert len(re.findall(r"^ \w{3} \d\d \w{3} \d\d:\d\d +\d+/10", out, re.MULTILINE)) >= 10   # the log's last weeks
    assert (folder / "demo.db").is_file() and stat.S_IMODE((folder / "demo.html").stat().st_mode) == 0o600
    assert 'data-plot="load"' in (folder / "demo.html").read_text()


def test_the_report_shows_the_planted_flags_of_the_last_week(kept):
    out = kept[0]
    flags = out[out.index("Flags (2024-07-08 to 2024-07-14)"):out.index("Load, last")]
    assert re.search(r"^ RED FLAG: see a clinician +2024-07-11 ", flags, re.MULTILINE), flags   # shin, at night
    assert "shin (right) pain 5/10 at night" in " ".join(flags.split())
    assert "see a clinician before the next run" in " ".join(flags.split())   # the referral
    assert re.search(r"^ session_spike \(\w+\) +2024-07-14 .*1\.60 x the longest run", flags, re.MULTILINE)
    assert re.search(r"^ downhill_load \(\w+\) +2024-07-14", flags, re.MULTILINE)
    assert re.search(r"^ pain_rising \(\w+\) +2024-07-14 +pain today 6/10", flags, re.MULTILINE)
    # The red flag comes first, whatever the others' order.
    assert flags.index("RED FLAG") < min(flags.index(c) for c in ("session_spike", "downhill_load", "pain_rising"))


def test_the_season_is_twelve_weeks_of_runs_around_a_declared_gap(runs):
    weeks = runs["day"].dt.to_period("W-SUN").unique()
    assert len(weeks) == 12
    gap = read_demo_gaps(FIXTURES / "pain" / "demo_gaps.csv")
    assert [(g.first_day, g.last_day) for g in gap] == [(dt.date(2024, 4, 20), dt.date(2024, 5, 12))]
    inside = runs["day"].between(pd.Timestamp(gap[0].first_day), pd.Timestamp(gap[0].last_day))
    assert not inside.any() and gap[0].days >= 21            # long enough to be a break if undeclared
    logged = pd.to_datetime([r["date"] for r in PAIN])
    assert (logged.max() - logged.min()).days >= 63           # about ten weeks of pain log ...
    assert logged.normalize().nunique() < (logged.max() - logged.min()).days / 2   # ... not every day
    assert np.diff(np.sort(logged.normalize().unique())).max() >= np.timedelta64(10, "D")   # and a real gap


def test_the_declared_gap_keeps_return_from_break_silent(kept, tmp_path):
    """The first run back after the watch gap is no return from a break; without the gap it is."""
    db = tmp_path / "demo.db"
    shutil.copy(kept[1] / "demo.db", db)
    back = slice("2024-05-13", "2024-05-19")

    def fired() -> int:
        frame = athlete_days(st, DEMO_ATHLETE, UTC, LabelSpec()).xs(DEMO_ATHLETE)
        return int(rule_levels(frame).loc[back, "return_from_break"].max())

    with Store(db) as st:
        assert fired() == 0
        for gap in st.gaps(DEMO_ATHLETE):
            assert st.delete_gap(DEMO_ATHLETE, gap.id)
        assert fired() == 1


def test_a_single_run_spike_in_the_last_week(runs):
    last = _last_day(runs)
    week = runs[runs["day"] > last - pd.Timedelta(days=7)]
    spike = week.loc[week["distance_m"].idxmax()]
    before = runs[(runs["day"] < spike["day"]) & (runs["day"] >= spike["day"] - pd.Timedelta(days=30))]
    assert spike["distance_m"] > 1.3 * before["distance_m"].max()


def test_a_track_block_counter_clockwise_with_inside_leg_pain(runs):
    last = _last_day(runs)
    recent = runs[runs["day"] > last - pd.Timedelta(days=28)]
    track = recent[recent["is_track"].astype(bool)]
    assert len(track) >= 5 and (track["track_laps"] >= 10).all()
    assert track["distance_m"].sum() >= 0.30 * recent["distance_m"].sum()
    bends_ccw, bends_cw = track["track_ccw_m"].sum(), track["track_cw_m"].sum()
    assert bends_ccw >= 0.80 * (bends_ccw + bends_cw)
    # Every metre on detected laps of a 400 m oval, as the camber feature measures them.
    assert np.allclose(track["track_laps"] * 400, track["distance_m"], rtol=0.02)
    # Counter-clockwise: the left leg is inside; that is the side of the logged lateral hip pain.
    block = [r for r in PAIN if pd.Timestamp(r["date"]) > last - pd.Timedelta(days=28)]
    assert {r["side"] for r in block if r["region"] == "lateral_hip"} == {"L"}


def test_hills_and_a_week_of_far_more_descent(runs):
    hills = runs[runs["file"].str.contains("hills")]
    assert len(hills) >= 5 and (hills["descent_m"] > 100).all()
    last = _last_day(runs)
    week = runs[runs["day"] > last - pd.Timedelta(days=7)]["descent_m"].sum()
    base = runs[(runs["day"] <= last - pd.Timedelta(days=7)) & (runs["day"] > last - pd.Timedelta(days=35))]
    assert base["descent_m"].sum() > 0 and week > 1.5 * base["descent_m"].sum() / 4


def test_a_cadence_drop_from_the_runners_own_level_baseline(runs):
    """>= 10 earlier level runs at a steady cadence inside the population band; the last week ~7 % below it."""
    level = runs.dropna(subset=["level_cadence_spm", "level_speed_mps"]).copy()
    level["resid"] = level["level_cadence_spm"] / _population(level["level_speed_mps"]) - 1
    last = _last_day(runs)
    earlier = level[level["day"] <= last - pd.Timedelta(days=7)]
    week = level[level["day"] > last - pd.Timedelta(days=7)]
    assert len(earlier) >= 10 and len(week) >= 3
    baseline = earlier["resid"].median()
    assert abs(baseline) < 0.03 and earlier["resid"].between(-0.03, 0.04).all()   # a normal runner
    drop = (1 + week["resid"]) / (1 + baseline) - 1
    assert (drop <= -0.06).all() and (drop >= -0.09).all(), drop
    # Inside the population fallback's 12 steps/min: only the drop from the own baseline stands out.
    short = _population(week["level_speed_mps"]) - week["level_cadence_spm"]
    assert (short < 12).all(), short


def test_out_and_back_runs_give_observed_road_side_and_up_slope_pain(runs):
    last = _last_day(runs)
    paired = runs[runs["road_low_side_source"].fillna("").str.startswith("out-and-back")]
    assert len(paired) >= 8 and (paired["out_and_back_side"] == "right").all()
    assert len(paired[paired["day"] > last - pd.Timedelta(days=28)]) >= 3
    # Keeping to the right-hand edge of a crowned road: the right foot is low, the left up-slope;
    # the lateral hip pain is on the up-slope (left) side.
    assert (paired["road_low_side"] == "right").all()
    recent = [r for r in PAIN if pd.Timestamp(r["date"]) > last - pd.Timedelta(days=28)]
    assert any(r["region"] == "lateral_hip" and r["side"] == "L" and int(r["score"]) >= 3 for r in recent)


def _report(out: str) -> str:
    """The report the demo printed, without its step lines and the closing "Kept ..." line."""
    return out[out.index("gaitrisk report, generated"):out.index("\nKept the store")]


def _flag_text(out: str, code: str) -> str:
    """One flag's row of the flags table, its wrapped lines joined into one line of words."""
    flags = " ".join(out[out.index("Flags (2024-07-08 to 2024-07-14)"):out.index("Load, last")].split())
    start = flags.index(f" {code} (")
    nxt = re.search(r" [a-z_]+ \((?:info|warn)\) 2024-| Model:", flags[start + 1:])
    return flags[start:start + 1 + nxt.start()] if nxt else flags[start:]


def _level_week(runs: pd.DataFrame) -> pd.DataFrame:
    last = _last_day(runs)
    return runs[(runs["day"] > last - pd.Timedelta(days=7)) & (runs["level_time_s"] > 0)]


def test_overstriding_is_judged_against_the_runners_own_baseline(kept, runs):
    why = _flag_text(kept[0], "overstriding")
    week = _level_week(runs)
    flag_run = runs.iloc[-1]                       # the flag's day is the last run's
    share = (week["cadence_low_share"] * week["level_time_s"]).sum() / week["level_time_s"].sum()
    mean = (week["cadence_residual_pct"] * week["level_time_s"]).sum() / week["level_time_s"].sum()
    assert (week["cadence_baseline"] == "personal").all()
    assert (f"{share * 100:.0f} % of your level running in the last 7 days was >= 5 % below your own cadence for the "
            f"speed (the median of your {int(flag_run['cadence_baseline_runs'])} earlier level runs in 90 days: "
            f"{flag_run['cadence_baseline_pct']:+.1f} % against the population model)") in why, why
    assert f"Mean level cadence {mean:+.1f} % against your own baseline" in why, why
    assert mean < -5 and "population fallback" not in why


def test_camber_exposure_names_the_up_slope_left_leg_from_an_observed_side(kept, runs):
    why = _flag_text(kept[0], "camber_exposure")
    last = _last_day(runs)
    recent = runs[runs["day"] > last - pd.Timedelta(days=28)]
    observed = recent[recent["road_low_side_source"].fillna("").str.startswith("out-and-back")]
    right_low = observed["road_right_low_m"].sum()
    pain = max(int(r["score"]) for r in PAIN if r["region"] == "lateral_hip" and r["side"] == "L"
               and pd.Timestamp(r["date"]) > last - pd.Timedelta(days=28))
    # The right foot low on every observed metre: the left leg is up-slope on all of them.
    assert right_low == pytest.approx(observed["road_m"].sum()) and observed["road_left_low_m"].sum() == 0
    road = observed["road_m"].sum()
    assert (f"{100 * right_low / road:.0f} % of your {road / 1000:.1f} km of road running in 28 days with an "
            "observed road side") in why, why
    assert "had your left leg on the up-slope side of the camber" in why
    assert f"you logged left lateral hip/knee pain up to {pain}/10" in why
    assert "evidence grade hypothesis" in why


def test_track_direction_names_the_inside_left_leg(kept, runs):
    why = _flag_text(kept[0], "track_direction")
    last = _last_day(runs)
    recent = runs[runs["day"] > last - pd.Timedelta(days=28)]
    track = recent[recent["is_track"].astype(bool)]
    ccw, cw = track["track_ccw_m"].sum(), track["track_cw_m"].sum()
    on_track, total = track["distance_m"].sum(), recent["distance_m"].sum()
    assert (f"track running was {100 * on_track / total:.0f} % of your distance in "
            f"28 days ({on_track / 1000:.1f} km), {100 * ccw / (ccw + cw):.0f} % of its bends "
            "counter-clockwise, so your left leg ran on the inside") in why, why
    assert "you logged left-side pain (your inside leg)" in why and "evidence grade C" in why


def _ostrc_rows() -> list[dict]:
    return list(csv.DictReader((FIXTURES / "pain" / "demo_ostrc.csv").open()))


def _severity(row: dict) -> int:
    """OSTRC-O2 severity by its definition (docs/pain_csv.md): each option scores 0, 8, 17 or 25."""
    if row["participation"] in ("0", "3"):
        return 0 if row["participation"] == "0" else 100
    return sum((0, 8, 17, 25)[int(row[k])] for k in ("participation", "training", "performance", "symptoms"))


def _substantial(row: dict) -> bool:
    return row["participation"] == "3" or any(row[k] and int(row[k]) >= 2 for k in ("training", "performance"))


def test_the_demo_imports_the_ostrc_weeks_and_the_report_shows_them(kept):
    out, folder = kept
    rows = _ostrc_rows()
    assert re.search(rf"^3\. pain .*\n +{len(rows)} weekly OSTRC answers from demo_ostrc\.csv", out, re.MULTILINE)
    first, last = (dt.date.fromisoformat(d) for d in
                   re.search(r"^demo: (\S+) to (\S+) \(UTC\)", _report(out), re.MULTILINE).groups())
    shown = [r for r in rows if first - dt.timedelta(days=6) <= dt.date.fromisoformat(r["week"]) <= last]
    lines = re.findall(r"^OSTRC week of .*$", out, re.MULTILINE)
    assert lines == [f"OSTRC week of {r['week']} (lateral hip): severity {_severity(r)}/100, substantial problem: "
                     f"{'yes' if _substantial(r) else 'no'}" for r in shown]
    # The planted story: no problem early, a growing one through the track block, substantial in the last week.
    assert [_substantial(r) for r in rows] == [False] * (len(rows) - 1) + [True]
    assert _severity(rows[0]) == 0 and 0 < _severity(rows[-3]) < _severity(rows[-2]) < _severity(rows[-1])
    shipped = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(fnmatch.fnmatch("pain/demo_ostrc.csv", g) for g in shipped["gaitrisk._fixtures"])
    html = (folder / "demo.html").read_text()
    assert 'data-plot="ostrc"' in html and f"OSTRC week of {rows[-1]['week']}" in html
    with Store(folder / "demo.db", read_only=True) as st:
        assert len(st.ostrc_weeks(DEMO_ATHLETE)) == len(rows)
        frame = athlete_days(st, DEMO_ATHLETE, UTC, LabelSpec()).xs(DEMO_ATHLETE)
    # With answers the label is the OSTRC onset: the Monday of the first substantial week after an answered one.
    onset = next(r["week"] for prev, r in zip(rows, rows[1:]) if _substantial(r) and not _substantial(prev))
    assert (frame["label_ostrc"] == 1).all()
    assert [d.date().isoformat() for d in frame.index[frame["onset"] > 0]] == [onset]


def test_nothing_is_left_unjudged_on_the_last_day_but_early_days_list_what_they_lack(kept, runs):
    out, folder = kept
    last = _last_day(runs).date()
    with Store(folder / "demo.db", read_only=True) as st:
        frame = athlete_days(st, DEMO_ATHLETE, UTC, LabelSpec()).xs(DEMO_ATHLETE)
        early = runs[runs["day"] < pd.Timestamp("2024-04-20")]["day"]
        day = early.max().date()
        rep = build_athlete_report(st, DEMO_ATHLETE, UTC, today=day)
    # Twelve weeks of runs and a pain log: every rule has its history on the last day.
    assert unjudged(frame, last) == () and "Could not judge" not in out
    # Three weeks in, the 30-day spike and the 28-day rules cannot be judged yet.
    have = (day - early.min().date()).days
    lacking = {u.code: u for u in unjudged(frame, day)}
    assert {"session_spike", "downhill_load", "track_direction"} <= set(lacking)
    assert lacking["session_spike"].have == have < lacking["session_spike"].need == 30
    text = render([rep], "text")
    assert f"Could not judge on {day} (not enough data or history):" in text
    assert f"session spike: needs 30 days of runs before the run, you have {have}" in text


def _run_rows(out: str) -> dict[str, str]:
    """The per-run table's rows by their date label, each row's wrapped lines joined."""
    table = out[out.index("Runs, the last"):out.index("time: moving time")]
    rows: dict[str, str] = {}
    key = None
    for line in table.splitlines()[3:]:
        m = re.match(r"^ (\w{3} \d\d \w{3}) ", line)
        if m:
            key = m.group(1)
            rows[key] = line
        elif key and line.strip():
            rows[key] += " " + line.strip()
    return rows


def test_the_per_run_table_lists_the_last_runs_with_the_flags_they_raised(kept, runs):
    out = kept[0]
    rows = _run_rows(out)
    shown = runs.tail(10)
    assert f"Runs, the last 10 of {len(runs[runs['day'] >= pd.Timestamp('2024-05-20')])} in this period" in out
    assert list(rows) == [f"{d:%a %d %b}" for d in shown["day"]]
    last = _last_day(runs)
    spike = runs[runs["day"] > last - pd.Timedelta(days=7)]["distance_m"].idxmax()
    for run_id, r in shown.iterrows():
        cells = rows[f"{r['day']:%a %d %b}"].split()
        h, m, sec = int(r["moving_time_s"]) // 3600, int(r["moving_time_s"]) // 60 % 60, round(r["moving_time_s"]) % 60
        assert cells[3:5] == [f"{r['distance_m'] / 1000:.1f}", f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"]
        assert f"{r['cadence_spm']:.0f}" in cells and f"{r['gct_ms']:.0f}" in cells
        last_week = r["day"] > last - pd.Timedelta(days=7)
        observed = str(r["road_low_side_source"] or "").startswith("out-and-back")
        expected = {"track direction"} if r["is_track"] else {"camber exposure"} if observed else set()
        if last_week:
            expected.add("overstriding")
            if r["descent_m"] > 0 and not r["is_track"]:
                expected.add("downhill load")
        if run_id == spike:
            expected.add("session spike")
        raised = set(" ".join(cells[cells.index("measured") + 2:]).split(", "))
        # The rule counts observed road sides only: a loop with an assumed side does not raise it.
        assert raised == (expected or {"-"}), (r["day"], raised)


def test_the_text_report_fits_100_columns_without_truncation(kept):
    """Every table of the demo's report, rendered for a 100-column terminal, keeps its headers and cells whole."""
    folder = kept[1]
    with Store(folder / "demo.db", read_only=True) as st:
        last = max(a.start_time for a in st.activities(DEMO_ATHLETE)).astimezone(UTC).date()
        rep = build_athlete_report(st, DEMO_ATHLETE, UTC, today=last, model_path=default_model_path(folder / "demo.db"))
    report = render_text([rep], dt.datetime(2024, 7, 15, tzinfo=dt.UTC), width=100)
    assert "…" not in report
    assert max(len(line) for line in report.splitlines()) <= 100
    table = report[report.index("Terrain, camber and track exposure (km)"):report.index("Pain log")]
    assert re.search(r"^ week +downhill ≤-5 % +≤-10 % +L low +R low +road side +CCW +CW$", table, re.MULTILINE)
    assert re.search(r"^ 08 Jul–14 Jul .* mixed +\d+\.\d +\d+\.\d$", table, re.MULTILINE)   # observed + assumed
    legend = " ".join(table.split())
    assert "L low, R low: road km with the left or right foot low" in legend and "mixed (both in one week)" in legend
    assert "CCW, CW: track bends run counter-clockwise, clockwise" in legend


def test_demo_leaves_nothing_behind_without_keep(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)   # re-read TMPDIR
    res = CliRunner().invoke(cli, ["demo", "--format", "markdown"])
    assert res.exit_code == 0, res.output
    assert "### Flags (2024-07-08 to 2024-07-14)" in res.output
    assert list(tmp_path.iterdir()) == []


def test_the_pain_log_and_gaps_ship_with_the_package():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "pain/*" in py["tool"]["setuptools"]["package-data"]["gaitrisk._fixtures"]
    assert Path(FIXTURES / "pain" / "demo_pain.csv").is_file()
    assert Path(FIXTURES / "pain" / "demo_gaps.csv").is_file()


def test_demo_updates_the_population_risk_model_and_the_report_shows_the_risk(kept):
    out, folder = kept
    flat = " ".join(out.split())
    step = re.search(r"5\. model (.*?) 6\. report", flat).group(1)
    assert "risk model: the population prior (published effects)" in step and "onset" in step, step
    assert "trained on" not in step and "ROC" not in step
    card = json.loads((folder / "demo.db.model.skops.card.json").read_text())
    assert card["model"]["selected"] == "prior" and card["data"]["onsets_total"] >= 1
    assert re.search(r"risk of a hip/lateral-knee pain onset in the next 7 days: [\d.]+ % \([\d.]+ %–[\d.]+ %\); "
                     r"typical for your running: [\d.]+ %", flat), flat
    n = card["data"]["onsets_total"]
    assert f"Risk model: the population prior updated with {n} onset{'' if n == 1 else 's'}" in flat
    assert "the model is shown from" not in flat


def test_risk_and_flags_text_name_only_the_factors_that_raise_the_risk(kept, tmp_path):
    _, folder = kept
    db, prior_only = folder / "demo.db", tmp_path / "none.skops"   # no model there: the population prior
    base = ["--db", str(db)]
    res = CliRunner().invoke(cli, [*base, "risk", "--athlete", DEMO_ATHLETE, "--from", "2024-07-01", "--to",
                                   "2024-07-14", "--json", "--model", str(prior_only)])
    assert res.exit_code == 0, res.output
    days = json.loads(res.output)["days"]
    # A day with a factor present that raises nothing beside one that raises the risk.
    day = next(d["date"] for d in days
               if {round(c["hazard_ratio"], 2) <= 1.0 for c in d["contributors"]} == {True, False})
    for args in (["risk", "--to", day], ["flags", "--until", day]):
        res = CliRunner().invoke(cli, [*base, *args, "--athlete", DEMO_ATHLETE, "--model", str(prior_only)])
        assert res.exit_code == 0, res.output
        ratios = [float(m) for m in re.findall(r"HR (\d+\.\d\d) \(", res.output)]
        assert ratios and all(hr > 1.0 for hr in ratios), (args, res.output)
        assert "HR 1.00" not in res.output


def _demo_report(folder: Path, zone: ZoneInfo = UTC, **kw):
    with Store(folder / "demo.db", read_only=True) as st:
        last = max(a.start_time for a in st.activities(DEMO_ATHLETE)).astimezone(UTC).date()
        return build_athlete_report(st, DEMO_ATHLETE, zone, today=kw.pop("today", last),
                                    model_path=kw.pop("model_path", default_model_path(folder / "demo.db")), **kw)


def test_camber_exposure_is_raised_only_by_runs_with_an_observed_side_and_the_flagged_up_slope_leg(kept):
    from gaitrisk.model.dataset import build_dataset
    from gaitrisk.report.assemble import with_run_flags

    folder = kept[1]
    rep = _demo_report(folder)
    cambered = [r for r in rep.runs if "camber_exposure" in r.flags]
    assert cambered, "the demo's observed out-and-back runs raise camber_exposure"
    # The flag names the left leg up-slope (the right foot low) and counts observed sides only.
    assert all(r.road_side_evidence == "observed" and r.road_right_low_m for r in cambered), cambered
    with Store(folder / "demo.db", read_only=True) as st:
        frame = build_dataset(st, [DEMO_ATHLETE], UTC).frame.loc[[DEMO_ATHLETE]]
    levels = rule_levels(frame)["camber_exposure"]
    fired = {d.date() for d, lv in zip(frame.index.get_level_values("day"), levels, strict=True) if lv > 0}
    # Road runs with an assumed side on days the flag fires (the long loops) do not carry it.
    assumed = [r for r in rep.runs if r.day in fired and r.road_side_evidence == "assumed"]
    assert assumed and not any("camber_exposure" in r.flags for r in assumed), assumed
    # The same observed run with the other foot low (its right leg up-slope) does not feed a left-leg flag.
    swapped = tuple(dataclasses.replace(r, flags=(), road_left_low_m=r.road_right_low_m, road_right_low_m=0.0)
                    for r in cambered)
    assert not any("camber_exposure" in r.flags for r in with_run_flags(swapped, frame))
    assert all("camber_exposure" in r.flags for r in with_run_flags(tuple(cambered), frame))


def test_the_terrain_table_shows_the_observed_km_the_camber_flag_counts_then_the_assumed(kept):
    rep = _demo_report(kept[1])
    week = rep.trends[-1]
    observed, total = week.road_right_low_observed_m or 0.0, week.road_right_low_m
    left_obs, left_total = week.road_left_low_observed_m or 0.0, week.road_left_low_m
    assert total and observed and left_total and left_total > left_obs   # the last week mixes both kinds
    report = render_text([rep], dt.datetime(2024, 7, 15, tzinfo=dt.UTC), width=100)
    table = report[report.index("Terrain, camber and track exposure (km)"):report.index("Pain log")]
    left = f"{left_obs / 1000:.1f} +{(left_total - left_obs) / 1000:.1f}"
    right = f"{observed / 1000:.1f}" + (f" +{(total - observed) / 1000:.1f}" if total - observed >= 50 else "")
    row = next(line for line in table.splitlines() if line.startswith(" 08 Jul–14 Jul"))
    assert f" {left}   {right} " in row or re.search(rf" {re.escape(left)} +{re.escape(right)} +mixed", row), row
    assert "the km the camber flag counts, then (+ km) those whose side is only assumed" in " ".join(table.split())
    md = render([rep], "markdown", generated_at=dt.datetime(2024, 7, 15, tzinfo=dt.UTC))
    assert f"| {left} | {right} | mixed |" in md


def _risk_days(folder: Path, prior_only: Path) -> list[dict]:
    res = CliRunner().invoke(cli, ["--db", str(folder / "demo.db"), "risk", "--athlete", DEMO_ATHLETE, "--from",
                                   "2024-06-01", "--to", "2024-07-14", "--json", "--model", str(prior_only)])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)["days"]


def test_factors_present_with_a_hazard_ratio_of_one_are_named_as_present_without_effect(kept, tmp_path):
    folder, prior_only = kept[1], tmp_path / "none.skops"
    days = _risk_days(folder, prior_only)
    day = next(d for d in days if d["contributors"] and all(round(c["hazard_ratio"], 2) <= 1.0
                                                             for c in d["contributors"]))
    from gaitrisk.model.risk import FACTOR_LABELS

    labels = ", ".join(FACTOR_LABELS[c["factor"]] for c in day["contributors"])
    said = f"present, with no published effect on injury rate (hazard ratio 1.00): {labels}"
    base = ["--db", str(folder / "demo.db")]
    for args in (["risk", "--to", day["date"]], ["flags", "--until", day["date"]]):
        res = CliRunner().invoke(cli, [*base, *args, "--athlete", DEMO_ATHLETE, "--model", str(prior_only)])
        assert res.exit_code == 0, res.output
        assert said in " ".join(res.output.split()) and "no factor present raises it" not in res.output, args
    rep = _demo_report(folder, today=dt.date.fromisoformat(day["date"]), model_path=prior_only)
    for fmt in ("text", "markdown"):
        out = " ".join(render([rep], fmt, generated_at=dt.datetime(2024, 7, 15, tzinfo=dt.UTC)).split())
        assert said in out and "no factor present raises it" not in out, fmt


def test_risk_over_days_is_a_table_with_each_factors_evidence_once(kept, tmp_path):
    folder, prior_only = kept[1], tmp_path / "none.skops"
    days = [d for d in _risk_days(folder, prior_only) if d["date"] >= "2024-07-01"]
    raising = {c["factor"] for d in days for c in d["contributors"] if round(c["hazard_ratio"], 2) > 1.0}
    assert raising
    res = CliRunner().invoke(cli, ["--db", str(folder / "demo.db"), "risk", "--athlete", DEMO_ATHLETE, "--from",
                                   "2024-07-01", "--to", "2024-07-14", "--model", str(prior_only)])
    assert res.exit_code == 0, res.output
    rows = re.findall(r"^(\d{4}-\d\d-\d\d) +([\d.]+ %) +([\d.]+ %–[\d.]+ %) +(.*)$", res.output, re.MULTILINE)
    assert [r[0] for r in rows] == [d["date"] for d in days]
    assert res.output.count("evidence grade") == len(raising) + 1   # each factor once, and the base rate's
    assert "risk of a hip/lateral-knee pain onset in the next 7 days" in res.output


def test_the_text_risk_lines_keep_their_hanging_indent_and_markdown_aligns_words_left(kept):
    rep = _demo_report(kept[1])
    report = render_text([rep], dt.datetime(2024, 7, 15, tzinfo=dt.UTC), width=100)
    factors = [line for line in report[report.index("\n  - raised by"):report.index("Risk model:")].splitlines()
               if line.strip()]
    assert any(not line.startswith("  - ") for line in factors)   # some factor line wraps at 100 columns
    assert all(line.startswith(("  - ", "    ")) for line in factors), factors
    md = render([rep], "markdown", generated_at=dt.datetime(2024, 7, 15, tzinfo=dt.UTC))
    lines = md.splitlines()
    runs_head = next(i for i, line in enumerate(lines) if line.startswith("| date | km |"))
    assert lines[runs_head + 1] == "|---|---:|---:|---:|---:|---:|---:|---|"
    pain_head = next(i for i, line in enumerate(lines) if line.startswith("| date | score |"))
    assert lines[pain_head + 1] == "|---|---:|---|---|---|"


def test_the_report_names_utc_the_same_whichever_alias_the_machine_uses(kept):
    rep = _demo_report(kept[1], zone=ZoneInfo("Etc/UTC"))
    assert rep.zone == "UTC"
    assert f"{DEMO_ATHLETE}: {rep.first} to {rep.last} (UTC)" in render_text([rep], dt.datetime(2024, 7, 15,
                                                                                               tzinfo=dt.UTC))
    # The load table names it the same way (the machine's zone is the default of every command).
    res = CliRunner().invoke(cli, ["--db", str(kept[1] / "demo.db"), "load", "--athlete", DEMO_ATHLETE, "--tz", "Etc/UTC"])
    assert res.exit_code == 0, res.output
    assert "(UTC calendar days)" in res.output.splitlines()[0]
