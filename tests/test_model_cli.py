"""``gaitrisk model train|info`` and ``gaitrisk flags`` through click's CliRunner, from files.

The session's seeded cohort (``synthetic_cohort`` in conftest.py: 15 athletes x 14 weeks)
went through the real pipeline: generate files -> ``gaitrisk import`` -> ``gaitrisk pain
import`` -> ``gaitrisk model train``; these tests read it (``flags``, ``model info|evaluate``)
and copy the store before writing to it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.model.dataset import FEATURE_GROUPS

pytestmark = pytest.mark.slow


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])


@pytest.fixture(scope="module")
def cohort(synthetic_cohort):
    cfg, truth, db, _, _ = synthetic_cohort
    return truth, db, cfg


def flags(db, athlete, *extra) -> dict:
    r = run(db, "flags", "--athlete", athlete, "--tz", "UTC", "--json", *extra)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_help():
    for args in (["model"], ["model", "train"], ["model", "info"], ["flags"]):
        r = CliRunner().invoke(cli, [*args, "--help"])
        assert r.exit_code == 0 and "Usage:" in r.output
    text = " ".join(CliRunner().invoke(cli, ["flags", "--help"]).output.split())
    assert "associated with a higher injury rate" in text and "Frandsen 2025" in text and "evidence" in text
    assert "most likely" not in text and "drives" not in text


def test_train_saves_a_private_skops_file_and_its_card(cohort):
    truth, db, cfg = cohort
    path = db.parent / "c.db.model.skops"      # the default path beside the store
    for p in (path, db.parent / "c.db.model.skops.card.json"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert path.read_bytes()[:2] == b"PK"       # a skops zip archive, not a pickle
    r = run(db, "model", "info", "--json")
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)
    assert sorted(card["data"]["athletes"]) == sorted(truth["athletes"])
    assert card["data"]["onsets_total"] == sum(len(t["onsets"]) for t in truth["athletes"].values())
    assert card["data"]["first_day"] >= cfg.start.isoformat() and card["libraries"]["skops"]
    assert card["metrics"]["apparent"]["n"] == card["data"]["rows"] and card["metrics"]["validation"] is None
    text = run(db, "model", "info").output
    assert f"{len(truth['athletes'])} athletes" in text and "scikit-learn" in text


def test_end_to_end_from_files_to_flags(cohort):
    truth, db, cfg = cohort
    spikes = [n for n, t in truth["athletes"].items() if t["mechanism"] == "session_spike"]
    never = [n for n, t in truth["athletes"].items() if t["mechanism"] == "none"]
    assert spikes and never
    for name in spikes:
        # The week of the planted spike (the long run 1.8-2.3 x the usual long run).
        day = truth["athletes"][name]["exposure_days"][0]
        out = flags(db, name, "--until", day)
        spike = [f for f in out["flags"] if f["code"] == "session_spike"]
        assert spike and spike[0]["severity"] == "warn", (name, out["flags"])   # never high: not a red flag
        assert spike[0]["source"] == "Frandsen 2025" and spike[0]["evidence"]["grade"] == "A"
        for f in out["flags"]:
            assert set(f["evidence"]) == {"grade", "source", "effect", "threshold_origin"}, f
        assert spike[0]["contributors"][0]["feature"] == "spike_max_7d"
        assert spike[0]["contributors"][0]["value"] > 1.3 and spike[0]["suggestion"]
        assert out["model"] is None and "rules only" in out["model_note"]   # 1-3 onsets in 14 weeks
    for name in never:
        out = flags(db, name, "--days", 7 * cfg.weeks)   # the whole season
        assert not [f for f in out["flags"] if f["severity"] == "high"], out["flags"]
        assert not [f for f in out["flags"] if f["code"] in ("session_spike", "see_a_clinician")]


def test_model_probability_is_shown_beside_the_rules_with_enough_onsets(cohort, monkeypatch):
    import gaitrisk.model.persist as persist

    truth, db, _ = cohort
    name = next(n for n, t in truth["athletes"].items() if t["onsets"])
    monkeypatch.setattr(persist, "MIN_ONSETS", 1)   # the cohort has 0-3 onsets per athlete
    out = flags(db, name)
    m = out["model"]
    assert m is not None and 0.0 <= m["probability"] <= 1.0 and m["horizon_days"] == 7
    assert {c["flag"] for c in m["contributions"]} == set(FEATURE_GROUPS.values())
    text = run(db, "flags", "--athlete", name, "--tz", "UTC").output
    assert "chance of a pain onset in the next 7 days" in text


def test_red_flags_come_first(cohort, tmp_path):
    truth, db, _ = cohort
    copy = tmp_path / "c.db"
    shutil.copy(db, copy)
    name = next(n for n, t in truth["athletes"].items() if t["mechanism"] == "session_spike")
    day = truth["athletes"][name]["exposure_days"][0]
    r = run(copy, "pain", "add", "--athlete", name, "--tz", "UTC", "--score", "3", "--region", "lateral hip",
            "--side", "R", "--when", "at_night", "--date", day)
    assert r.exit_code == 0, r.output
    out = flags(copy, name, "--until", day, "--model", tmp_path / "none.skops")
    assert out["flags"][0]["code"] == "see_a_clinician" and out["flags"][0]["severity"] == "high"
    assert "night" in out["flags"][0]["explanation"] and len(out["flags"]) > 1
    assert "no trained model" in out["model_note"]
    text = run(copy, "flags", "--athlete", name, "--tz", "UTC", "--until", day).output
    assert text.splitlines()[1].startswith("!!high see_a_clinician")


def test_errors_are_one_line(cohort, tmp_path):
    _, db, _ = cohort
    for args in (["flags", "--athlete", "nobody"], ["model", "info"], ["model", "train"]):
        r = run(tmp_path / "empty.db", *args)
        assert r.exit_code == 1 and r.output.startswith("Error: ") and r.output.count("\n") == 1, r.output
    r = run(db, "model", "info", "--model", tmp_path / "missing.skops")
    assert r.exit_code == 1 and "gaitrisk model train" in r.output


def test_a_damaged_model_leaves_the_rules_working(cohort, tmp_path, monkeypatch):
    import gaitrisk.model.persist as persist

    truth, db, _ = cohort
    monkeypatch.setattr(persist, "MIN_ONSETS", 0)
    bad = tmp_path / "m.skops"
    shutil.copy(db.parent / "c.db.model.skops", bad)
    shutil.copy(db.parent / "c.db.model.skops.card.json", tmp_path / "m.skops.card.json")
    bad.write_bytes(bad.read_bytes()[:1000])
    out = flags(db, next(iter(truth["athletes"])), "--model", bad, "--days", 30)
    assert out["model"] is None and "does not match its card" in out["model_note"]
    assert dt.date.fromisoformat(out["to"]) - dt.date.fromisoformat(out["from"]) == dt.timedelta(days=29)


def test_evaluate_reports_both_splits_with_baselines_on_the_same_rows(cohort):
    _, db, _ = cohort
    r = run(db, "model", "evaluate", "--tz", "UTC", "--folds", "3", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["rows"] > 0 and 0 < out["positives"] < out["rows"] and out["athletes"] == len(cohort[0]["athletes"])
    grouped = out["splits"][0]
    assert grouped["split"] == "athlete_grouped"
    assert {grouped[k]["n"] for k in ("model", "rules", "intercept")} == {out["rows"]}
    for split in out["splits"]:
        for who in ("model", "rules", "intercept"):
            m = split[who]
            assert 0.0 <= m["brier"] <= 1.0
            assert m["roc_auc"] is None or 0.0 <= m["roc_auc"] <= 1.0
    text = run(db, "model", "evaluate", "--tz", "UTC", "--folds", "2")
    assert text.exit_code == 0 and "athlete_grouped model" in text.output and "intercept" in text.output


def test_evaluate_scores_the_prior_model_beside_the_unupdated_prior_by_default(cohort):
    from zoneinfo import ZoneInfo

    from gaitrisk.model.dataset import build_dataset
    from gaitrisk.model.evaluate import metrics
    from gaitrisk.model.factors import risk_factors
    from gaitrisk.model.prior import PriorRiskClassifier
    from gaitrisk.store import Store

    _, db, _ = cohort
    r = run(db, "model", "evaluate", "--tz", "UTC", "--folds", "3", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    with Store(db) as store:
        rows = build_dataset(store, zone=ZoneInfo("UTC")).logged_rows
    y = rows["label"].to_numpy(int)
    assert out["model_kind"] == "prior" and (out["rows"], out["positives"]) == (len(y), int(y.sum()))
    grouped = out["splits"][0]
    assert grouped["split"] == "athlete_grouped" and grouped["fits"] == 3
    assert {grouped[k]["n"] for k in ("model", "prior", "rules", "intercept")} == {len(y)}
    # The un-updated prior needs no training: its scores are the population prior's on every logged row.
    p = PriorRiskClassifier().from_prior().predict_proba(risk_factors(rows).to_numpy(float))[:, 1]
    assert grouped["prior"]["brier"] == pytest.approx(metrics(y, p).brier)
    assert grouped["model"]["brier"] != grouped["prior"]["brier"]   # the folds updated it
    text = run(db, "model", "evaluate", "--tz", "UTC", "--folds", "2")
    assert text.exit_code == 0, text.output
    assert "athlete_grouped prior" in text.output and "athlete_grouped model" in text.output
    old = run(db, "model", "evaluate", "--tz", "UTC", "--folds", "2", "--model-kind", "logistic", "--json")
    assert old.exit_code == 0 and "prior" not in json.loads(old.output)["splits"][0]


def test_evaluate_without_onsets_is_one_clear_line_and_one_athlete_gets_the_forward_split(cohort, tmp_path):
    truth, db, _ = cohort
    name = next(n for n, t in truth["athletes"].items() if t["onsets"])
    one = tmp_path / "one.db"
    assert run(one, "import", db.parent / name / "runs", "--athlete", name).exit_code == 0
    r = run(one, "model", "evaluate", "--tz", "UTC")   # runs, no pain log: nothing labelled
    assert r.exit_code == 1 and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert "cannot evaluate: no labelled athlete-days with a pain log" in r.output, r.output
    assert run(one, "pain", "import", db.parent / name / "pain.csv", "--athlete", name, "--tz", "UTC").exit_code == 0
    r = run(one, "model", "evaluate", "--tz", "UTC")   # one athlete: no athlete-grouped folds
    assert r.exit_code == 0 and "at least 2 athletes" in r.output, r.output
    assert "forward_in_time model" in r.output and "athlete_grouped" not in r.output


def test_evaluate_on_an_empty_store_is_one_clear_line(tmp_path):
    r = run(tmp_path / "empty.db", "model", "evaluate", "--tz", "UTC")
    assert r.exit_code == 1 and "cannot evaluate" in r.output and "Traceback" not in r.output
