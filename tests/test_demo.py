"""``gaitrisk demo``: the whole main job on the bundled season, ending in the report.

The demo runs once per module (``--keep``); the tests read its output and its store.
Besides the flags the report shows, they check the data facts the camber, track and
personal-cadence rules need, so those rules' flags can be asserted on the same store.
"""

from __future__ import annotations

import csv
import datetime as dt
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
from gaitrisk.model.rules import rule_levels
from gaitrisk.store import Store

from .conftest import FIXTURES, REPO

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
