"""``gaitrisk risk``: the JSON contract with the population prior and with a cohort-trained model, and the
one-line messages of ``model train|evaluate`` where the data cannot support them."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.model.factors import RISK_FACTORS
from gaitrisk.synth.cohort import CohortConfig, write_cohort

pytestmark = pytest.mark.slow

DAY_KEYS = {"date", "probability", "low", "high", "contributors"}
CONTRIBUTOR_KEYS = {"factor", "value", "hazard_ratio", "low", "high", "evidence"}
EVIDENCE_KEYS = {"grade", "source", "effect", "threshold_origin"}


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A small synthetic cohort (runs and pain logs) and one runner with a month of runs and no pain log."""
    out = tmp_path_factory.mktemp("risk")
    truth = write_cohort(CohortConfig(seed=3, athletes=6, weeks=10, warmup_weeks=4, sample_interval_s=60,
                                      hazard_per_exposure=0.15), out)
    month = tmp_path_factory.mktemp("month")
    write_cohort(CohortConfig(seed=5, athletes=1, weeks=5, warmup_weeks=5, sample_interval_s=60), month)
    db = out / "c.db"
    for name in truth["athletes"]:
        assert run(db, "import", out / name / "runs", "--athlete", name).exit_code == 0
        assert run(db, "pain", "import", out / name / "pain.csv", "--athlete", name, "--tz", "UTC").exit_code == 0
    (only,) = [p for p in month.iterdir() if (p / "runs").is_dir()]
    assert run(db, "import", only / "runs", "--athlete", "newbie").exit_code == 0
    return db, truth


def check_contract(out: dict, athlete: str) -> None:
    assert set(out) == {"athlete", "horizon_days", "base_rate", "label", "days"}
    assert out["athlete"] == athlete and out["horizon_days"] == 7
    assert 0 < out["base_rate"] < 1 and "lateral knee" in out["label"]
    assert out["days"]
    for day in out["days"]:
        assert set(day) == DAY_KEYS
        assert 0 <= day["low"] <= day["probability"] <= day["high"] <= 1
        for c in day["contributors"]:
            assert set(c) == CONTRIBUTOR_KEYS and c["factor"] in RISK_FACTORS
            assert c["low"] <= c["hazard_ratio"] <= c["high"] and set(c["evidence"]) == EVIDENCE_KEYS


def test_a_runner_with_no_pain_log_gets_the_population_risk(cohort, tmp_path):
    db, _ = cohort
    r = run(db, "risk", "--athlete", "newbie", "--json", "--model", tmp_path / "none.skops")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    check_contract(out, "newbie")
    assert len(out["days"]) == 1   # default: the last day with data
    text = run(db, "risk", "--athlete", "newbie", "--model", tmp_path / "none.skops")
    assert text.exit_code == 0
    assert "risk of a hip/lateral-knee pain onset in the next 7 days:" in text.output
    assert "typical for your running:" in text.output and "population prior" in text.output
    # The base rate with where it comes from: Videbæk 2015's rate, the design choices, the grade.
    assert (f"population base rate {out['base_rate'] * 100:.2f} % in 7 days: 7.7 running injuries per 1,000 h"
            in text.output)
    assert "Videbæk 2015" in text.output and "evidence grade A" in text.output
    flags = run(db, "flags", "--athlete", "newbie", "--model", tmp_path / "none.skops")
    # The risk line is the model; the older classifier's "no trained model" would contradict it.
    assert "risk of a hip/lateral-knee pain onset" in flags.output and "no trained model" not in flags.output


def test_a_range_gives_one_entry_per_day_and_factors_raise_the_risk(cohort, tmp_path):
    db, _ = cohort
    r = run(db, "risk", "--athlete", "newbie", "--from", "2024-01-01", "--to", "2024-02-04", "--json",
            "--model", tmp_path / "none.skops")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    check_contract(out, "newbie")
    dates = [dt.date.fromisoformat(d["date"]) for d in out["days"]]
    # every day from the first run to the end of the range, in order
    assert dates[-1] == dt.date(2024, 2, 4) and dates[0] >= dt.date(2024, 1, 1) and len(dates) > 28
    assert all((b - a).days == 1 for a, b in zip(dates, dates[1:]))
    for day in out["days"]:
        raised = any(c["hazard_ratio"] > 1 for c in day["contributors"])
        lowered = any(c["hazard_ratio"] < 1 for c in day["contributors"])
        if not day["contributors"]:
            assert math.isclose(day["probability"], out["base_rate"], rel_tol=1e-9)
        elif raised and not lowered:
            assert day["probability"] > out["base_rate"]


def test_a_cohort_trained_model_follows_the_same_contract(cohort, tmp_path):
    db, truth = cohort
    model = tmp_path / "m.skops"
    r = run(db, "model", "train", "--tz", "UTC", "--out", model)
    assert r.exit_code == 0, r.output
    assert "updated the population prior" in r.output and "days left out" in r.output
    info = run(db, "model", "info", "--model", model)
    assert info.exit_code == 0 and "population prior version" in info.output and "onsets" in info.output
    name = truth["athletes"][0] if isinstance(truth["athletes"], list) else next(iter(truth["athletes"]))
    r = run(db, "risk", "--athlete", name, "--json", "--model", model)
    assert r.exit_code == 0, r.output
    check_contract(json.loads(r.output), name)
    flags = run(db, "flags", "--athlete", name, "--tz", "UTC", "--model", model)
    assert flags.exit_code == 0 and "risk of a hip/lateral-knee pain onset" in flags.output


def test_train_and_evaluate_without_an_onset_are_one_line(cohort, tmp_path):
    db, _ = cohort
    # the runner with runs only: no pain logged, so no labelled day at all
    only = tmp_path / "only.db"
    month = tmp_path / "month"
    write_cohort(CohortConfig(seed=5, athletes=1, weeks=5, warmup_weeks=5, sample_interval_s=60), month)
    (folder,) = [p for p in month.iterdir() if (p / "runs").is_dir()]
    assert run(only, "import", folder / "runs", "--athlete", "newbie").exit_code == 0
    r = run(only, "model", "train", "--tz", "UTC")
    assert r.exit_code == 1 and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert "population prior" in r.output
    csv = tmp_path / "pain.csv"
    csv.write_text("date,score,region,side,when\n" + "".join(
        f"2024-01-{d:02d},1,shin,L,next_morning\n" for d in range(1, 31)), encoding="utf-8")
    assert run(only, "pain", "import", csv, "--athlete", "newbie", "--tz", "UTC").exit_code == 0
    r = run(only, "model", "evaluate", "--tz", "UTC")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "no pain onset in the labelled days: nothing to evaluate" in r.output
    r = run(only, "model", "train", "--tz", "UTC")
    assert r.exit_code == 1 and "no pain onset in the" in r.output and "nothing to learn" in r.output
