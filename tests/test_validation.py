"""The validation of the risk model: the independent cohort generator and scripts/validate_model.py."""

from __future__ import annotations

import ast
import csv
import re
import datetime as dt
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
GENERATOR = SCRIPTS / "cohorts" / "independent.py"
sys.path.insert(0, str(SCRIPTS))

from cohorts import independent, scoring  # noqa: E402

TINY = independent.Config(seed=3, athletes=3, weeks=4, sample_interval_s=10)


@pytest.fixture(scope="module")
def tiny_cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("independent")
    return out, independent.generate(TINY, out)


def test_generator_imports_no_gaitrisk_module():
    tree = ast.parse(GENERATOR.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import could reach into gaitrisk"
            imported.add(node.module or "")
    assert not [m for m in imported if m.split(".")[0] == "gaitrisk"]
    # And at run time: loading the generator pulls in no gaitrisk module, directly or indirectly.
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import independent; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'gaitrisk'))")
    done = subprocess.run([sys.executable, "-c", probe, str(GENERATOR.parent)], capture_output=True, text=True,
                          cwd=GENERATOR.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_files_decode_to_the_planted_distance_duration_and_cadence(tiny_cohort, tmp_path):
    """gaitrisk's importer reads each file back as the generator made it (GPX cad and TCX RunCadence per foot)."""
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.store import Store

    out, truth = tiny_cohort
    formats, routes, checked = set(), set(), 0
    with Store(tmp_path / "s.db") as store:
        for name, a in truth["athletes"].items():
            report = import_paths([str(out / name / "runs")], store, name)
            assert report.failed == []
            by_day = {r.start_time.date().isoformat(): r for r in store.activities(name)}
            assert len(by_day) == len(a["files"])
            for f in a["files"]:
                rec = by_day[f["date"]]
                assert rec.sport == "running"
                step = 3 if f["route"] == "track" else TINY.sample_interval_s
                # 0.5 %, or the one sample interval an out-and-back's turn cuts short in a GPX file's path.
                tol = max(0.005 * f["distance_m"], 4.5 * step if f["route"] == "out_and_back" else 0.0)
                assert abs(rec.distance_m - f["distance_m"]) <= tol, f
                assert abs(rec.moving_time_s - f["duration_s"]) <= step, f
                # Per-foot whole strides in the file: the mean moves by < 1 step/min.
                assert rec.avg_cadence_spm == pytest.approx(f["avg_cadence_spm"], abs=1.0), f
                formats.add(f["file"].rsplit(".", 1)[1])
                routes.add(f["route"])
                checked += 1
    assert formats == {"gpx", "tcx"} and checked > 20
    # The files themselves hold per-foot cadence (strides/min), as watches write GPX cad and TCX RunCadence.
    for pattern, ext in ((r"<gpxtpx:cad>(\d+)<", "gpx"), (r"<ns3:RunCadence>(\d+)<", "tcx")):
        f = next(out.glob(f"*/runs/*.{ext}"))
        values = [int(v) for v in re.findall(pattern, f.read_text(encoding="utf-8"))]
        assert values and 65 <= np.mean(values) <= 100
    assert len(routes) >= 3


def test_truth_onsets_match_the_pain_diary(tmp_path):
    out = tmp_path / "painful"
    truth = independent.generate(replace(TINY, baseline_hazard=0.05, weeks=10, athletes=4), out)
    with open(out / "truth_days.csv", encoding="utf-8") as f:
        days = list(csv.DictReader(f))
    n_onsets = 0
    for name, a in truth["athletes"].items():
        with open(out / name / "pain.csv", encoding="utf-8") as f:
            diary = {row["date"]: int(row["score"]) for row in csv.DictReader(f)}
        mine = [d for d in days if d["athlete"] == name]
        # Every logged day has its row with the planted score; an unlogged day has none.
        assert diary == {d["date"]: int(d["pain"]) for d in mine if d["logged"] == "1"}
        assert [d["date"] for d in mine if d["onset"] == "1"] == a["onsets"]
        for d in mine:
            if d["onset"] == "1":
                n_onsets += 1
                assert int(d["pain"]) >= 3 and d["at_risk"] == "1"
        # A logged onset is an onset in the diary: pain >= 3 after 7 days without a logged score >= 3.
        for day in a["onsets"]:
            if day in diary:
                t = dt.date.fromisoformat(day)
                before = [diary.get((t - dt.timedelta(days=k)).isoformat(), 0) for k in range(1, 8)]
                assert diary[day] >= 3 and max(before) < 3
    assert n_onsets >= 5


def test_literature_and_null_cohorts_plant_their_hazards(tmp_path):
    truth = independent.generate(replace(TINY, athletes=2, weeks=6), tmp_path / "lit")
    null = independent.generate(replace(TINY, athletes=2, weeks=6, null=True), tmp_path / "null")
    assert truth["hazard_ratios"] == {"spike": 1.6, "low_cadence": 1.5, "previous_onset": 2.0}
    assert null["hazard_ratios"] == {"spike": 1.0, "low_cadence": 1.0, "previous_onset": 1.0}
    with open(tmp_path / "null" / "truth_days.csv", encoding="utf-8") as f:
        assert {float(d["hazard"]) for d in csv.DictReader(f)} == {TINY.baseline_hazard}
    with open(tmp_path / "lit" / "truth_days.csv", encoding="utf-8") as f:
        for d in csv.DictReader(f):
            expected = TINY.baseline_hazard * (1.6 if d["spike_exposed"] == "1" else 1.0) * (
                1.5 if d["low_cadence_exposed"] == "1" else 1.0) * (2.0 if d["previous_exposed"] == "1" else 1.0)
            assert float(d["hazard"]) == pytest.approx(expected, abs=1e-6)


def test_between_runner_cadence_spread_and_height():
    import random

    runners = [independent.make_runner(i, random.Random(i)) for i in range(2000)]
    cad = np.array([r.cadence_3mps for r in runners])
    height = np.array([r.height_m for r in runners])
    assert 7.0 < cad.std() < 9.0
    assert np.corrcoef(cad, height)[0, 1] < -0.5     # taller runners step less often


def test_oracle_of_a_tiny_cohort_equals_the_hand_computation(tiny_cohort):
    import pandas as pd

    import validate_model as vm

    out, truth = tiny_cohort
    days = pd.read_csv(out / "truth_days.csv", parse_dates=["date"]).rename(columns={"date": "day"})
    days = days.set_index(["athlete", "day"]).sort_index()
    cohort = vm.Cohort("tiny", out, sorted(truth["athletes"]), days["hazard"], days, truth["hazard_ratios"])
    rows = days.iloc[::5]
    got = vm.oracle_of(cohort, rows, 7)
    hr = truth["hazard_ratios"]["previous_onset"]
    for (athlete, day), value in zip(rows.index, got):
        mine = days.loc[athlete]
        window = [day + pd.Timedelta(days=k) for k in range(1, 8)]
        if window[-1] not in mine.index:
            assert np.isnan(value)
            continue
        frozen = hr if mine.loc[window[0], "previous_exposed"] else 1.0
        survive = 1.0
        for d in window:
            own = mine.loc[d, "hazard"] / (hr if mine.loc[d, "previous_exposed"] else 1.0)
            survive *= 1.0 - own * frozen
        assert value == pytest.approx(1.0 - survive, abs=1e-12)
    assert np.isfinite(got).sum() > 5


def test_oracle_7d_by_hand():
    h = np.array([0.1, 0.2, 0.0, 0.5, 0.1, 0.1, 0.1, 0.3, 0.4])
    got = scoring.oracle_7d(h, 7)
    assert got[0] == pytest.approx(1 - 0.8 * 1.0 * 0.5 * 0.9 * 0.9 * 0.9 * 0.7)
    assert got[1] == pytest.approx(1 - 1.0 * 0.5 * 0.9 * 0.9 * 0.9 * 0.7 * 0.6)
    assert np.isnan(got[2:]).all()
    assert len(np.unique(scoring.oracle_7d(np.full(30, 0.004))[:23])) == 1


def test_oracle_7d_an_onset_in_the_window_does_not_raise_its_own_prediction():
    # An onset on day 3 doubles the hazard of the days after it (previous onset, HR 2).
    h = np.array([0.01] * 4 + [0.02] * 8)
    previous = np.array([0] * 4 + [1] * 8)
    got = scoring.oracle_7d(h, 7, previous, 2.0)
    assert got[0] == pytest.approx(1 - 0.99 ** 7)          # days 1-7 at the status of day 1
    assert got[2] == pytest.approx(1 - 0.99 ** 7)          # days 3-9: no onset before day 3
    assert got[3] == pytest.approx(1 - 0.98 ** 7)          # days 4-10: the onset of day 3 counts
    assert np.isnan(got[5:]).all()


@pytest.mark.slow
def test_bootstrap_interval_of_a_separable_case_is_degenerate():
    groups = np.repeat(np.arange(40), 10)
    y = np.tile([0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 40)
    p = np.where(y == 1, 0.8, 0.1)
    est = scoring.bootstrap_scores(y, {"p": p}, scoring.athlete_draws(groups, 200, seed=1))["p"]["roc_auc"]
    assert (est.value, est.low, est.high) == (1.0, 1.0, 1.0)


@pytest.mark.slow
def test_bootstrap_interval_of_a_random_predictor_covers_one_half():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(300), 40)
    y = (rng.random(len(groups)) < 0.2).astype(int)
    p = rng.random(len(groups))
    draws = scoring.athlete_draws(groups, 200, seed=2)
    est = scoring.bootstrap_scores(y, {"p": p}, draws)["p"]["roc_auc"]
    assert est.covers(0.5) and est.high - est.low < 0.05
    # The same draws give the same interval (seedable); another seed another one.
    assert scoring.athlete_draws(groups, 3, seed=2)[0].tolist() == draws[0].tolist()


def test_calibration_of_true_probabilities_is_intercept_0_slope_1():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.01, 0.6, 200_000)
    y = (rng.random(len(p)) < p).astype(int)
    a, b = scoring.calibration(y, p)
    assert a == pytest.approx(0.0, abs=0.03) and b == pytest.approx(1.0, abs=0.03)
    a, b = scoring.calibration(y, np.clip(p * 1.5, 0, 0.99))   # over-confident: slope below 1
    assert b < 0.95


@pytest.mark.slow
def test_validate_model_quick_runs_end_to_end(tmp_path):
    out = tmp_path / "tables.md"
    done = subprocess.run([sys.executable, str(SCRIPTS / "validate_model.py"), "--quick", "--seed", "2",
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    text = done.stdout
    for heading in ("### null cohort", "### literature cohort", "### planted-mechanism cohort",
                    "**athlete-grouped 5-fold**", "**forward in time**", "| predictor | ROC-AUC | PR-AUC | Brier",
                    "| oracle |", "| model |", "| rules |", "| intercept |", "model − intercept Brier",
                    "| factor | planted HR |", "null-cohort checks:"):
        assert heading in text, heading
    assert any(line.startswith(("- PASS", "- FAIL", "- N/A")) for line in text.splitlines())
    assert "### literature cohort" in out.read_text(encoding="utf-8")
