"""The feature classifier recovers the planted mechanisms of a seeded cohort, from files (a sanity check of
the pipeline on the project's own generator, not evidence of predictive value).

One cohort (``synthetic_cohort`` in conftest.py: seed 2, 15 athletes x 14 weeks, three per
planted mechanism and three never hurt) is written through the real file writers and goes
through the real pipeline once per test session: ``gaitrisk import`` -> ``gaitrisk pain
import`` -> features -> ``gaitrisk model train`` -> ``gaitrisk flags``.  The assertions use
athlete-grouped out-of-fold predictions only (every athlete is scored by a model that never
saw them).

Margins (``MARGINS``) hold on every seed measured offline with the same code: the default
``C`` was chosen on seeds 1-5 and everything checked again on the held-out seeds 6-10
(docs/model.md, "The feature classifier (kept for comparison)"), so the fixed seed here is not a lucky draw.  Spread over
seeds 1-10: model minus intercept ROC-AUC +0.17 .. +0.37; model minus rules +0.001 ..
+0.144 (mean +0.084; +0.04 or more on 8 of 10, but +0.016 on seed 6 and +0.001 on seed
10).  The margins below are for this fixed seed (seed 2: +0.109 over the rules, measured
before the margin was set) and are stated with that spread: "beats the rules by >= 0.05" is a
claim about this cohort, not about every seed (on all 10 the model is ahead, by 0.001 at
least).  The out-of-fold model is the logistic one (what ``auto`` keeps unless boosting is
clearly better), which keeps this module's cost to 5 cheap fits on the shared cohort.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.model.dataset import FEATURE_GROUPS
from gaitrisk.model.estimator import GaitRiskClassifier
from gaitrisk.model.evaluate import flag_groups, grouped_predictions, metrics
from gaitrisk.synth.cohort import MECHANISM_GROUP

pytestmark = pytest.mark.slow

FOLDS = 5
FLAGGED_SHARE = 0.2          # an athlete-day is "flagged" when its OOF risk is in the top 20 %
MARGINS = {
    "auc_over_intercept": 0.15,   # ROC-AUC model - intercept-only ("clearly"); seeds 1-10: see the docstring
    "auc_over_rules": 0.05,       # ROC-AUC model - rules-only at seed 2 (+0.109); seeds 1-10: +0.001 .. +0.144
    "mechanism_match": 0.35,      # flagged mechanism athletes whose top group is the planted one; chance ~ 1/7
}
CALIBRATION_SLOPE = (0.4, 2.0)    # out of fold; seeds 1-10: 0.45 .. 0.99 (docs/model.md)
BRIER_TOLERANCE = 0.005           # model Brier - intercept Brier; seeds 1-10: -0.035 .. +0.003
# The planted spike is also a week jump (the long run is ~half the week): both load groups speak for it.
PLANTED_GROUPS = {m: {g} for m, g in MECHANISM_GROUP.items()} | {"session_spike": {"session_spike", "mileage_jump"}}


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])


@pytest.fixture(scope="module")
def pipeline(synthetic_cohort):
    _, truth, db, ds, card = synthetic_cohort
    return truth, db, ds, card


@pytest.fixture(scope="module")
def oof(pipeline):
    _, _, ds, _ = pipeline
    return grouped_predictions(ds, GaitRiskClassifier(model="logistic"), FOLDS, contributions=True)


def test_model_beats_intercept_clearly_and_rules_measurably(pipeline, oof):
    _, _, ds, _ = pipeline
    m, rules, intercept = (metrics(ds.y, oof[k]) for k in ("model", "rules", "intercept"))
    assert m.roc_auc >= intercept.roc_auc + MARGINS["auc_over_intercept"], (m, intercept)
    assert m.roc_auc >= rules.roc_auc + MARGINS["auc_over_rules"], (m, rules)
    assert m.pr_auc > intercept.pr_auc
    # Calibrated on athletes the fold model never saw: a Brier score no worse than the base rate's
    # (better on 9 of seeds 1-10; seed 6: 0.148 vs 0.145) and no gross miscalibration.
    assert m.brier <= intercept.brier + BRIER_TOLERANCE
    assert CALIBRATION_SLOPE[0] <= m.calibration_slope <= CALIBRATION_SLOPE[1], m


def test_flagged_athletes_are_explained_by_their_planted_mechanism(pipeline, oof):
    truth, _, ds, _ = pipeline
    p, contrib, athlete = oof["model"], oof["contributions"], ds.groups
    names = list(flag_groups())
    flagged = p >= np.quantile(p, 1 - FLAGGED_SHARE)
    matched, checked = [], []
    for name, t in truth["athletes"].items():
        rows = flagged & (athlete == name)
        if t["mechanism"] == "none" or not rows.any():
            continue
        # The group that raised this athlete's flagged days most (positive contributions summed).
        top = names[int(np.argmax(contrib[rows].clip(min=0).sum(axis=0)))]
        checked.append(name)
        if top in PLANTED_GROUPS[t["mechanism"]]:
            matched.append(name)
    assert len(checked) >= 9, checked            # most of the 12 mechanism athletes (seeds 1-5: 9-12)
    assert len(matched) / len(checked) >= MARGINS["mechanism_match"], (matched, checked)
    # Never-hurt athletes are flagged less often than the athletes with a mechanism.
    share = {n: flagged[athlete == n].mean() for n in truth["athletes"] if (athlete == n).any()}
    never = [share[n] for n, t in truth["athletes"].items() if t["mechanism"] == "none" and n in share]
    hurt = [share[n] for n, t in truth["athletes"].items() if t["mechanism"] != "none" and n in share]
    assert np.mean(never) < np.mean(hurt)


def test_auto_selection_is_honest_and_recorded_in_the_card(pipeline):
    _, _, _, card = pipeline
    model = card["model"]
    assert set(model["validation_log_loss"]) == {"logistic", "boosting"}
    loss = model["validation_log_loss"]
    margin = model["params"]["select_margin"]
    expected = "boosting" if loss["boosting"] < loss["logistic"] * (1 - margin) else "logistic"
    assert model["selected"] == expected and model["calibration"] in ("sigmoid", "isotonic")


def test_the_flags_carry_the_models_contributors_for_the_planted_mechanism(pipeline, monkeypatch):
    """From files to flags: on a day inside an exposure block the flag of the planted mechanism
    (a rule flag or the model's info flag) lists model features of that group with their log-odds."""
    from gaitrisk.model import persist

    truth, db, _, _ = pipeline
    monkeypatch.setattr(persist, "MIN_ONSETS", 0)    # 14 weeks give 1-4 onsets per athlete
    hits = total = 0
    for name, t in truth["athletes"].items():
        if t["mechanism"] == "none" or not t["exposure_days"]:
            continue
        group = MECHANISM_GROUP[t["mechanism"]]
        day = t["exposure_days"][-1]
        r = run(db, "flags", "--athlete", name, "--tz", "UTC", "--until", day, "--json")
        assert r.exit_code == 0, r.output
        out = json.loads(r.output)
        if out["model"] is None:     # inside a pain episode on that day: nothing to show
            continue
        total += 1
        mine = [f for f in out["flags"] if f["code"] == group]
        model_feats = [c for f in mine for c in f["contributors"] if c["weight"] is not None]
        assert all(FEATURE_GROUPS[c["feature"]] == group for c in model_feats)
        hits += bool(model_feats) and max(c["weight"] for c in model_feats) > 0
        for f in out["flags"]:
            assert f["suggestion"] and f["contributors"]
    assert total >= 6 and hits / total >= 0.6, (hits, total)
