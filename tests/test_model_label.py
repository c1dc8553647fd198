"""The risk model's label as the card, ``model info`` and ``risk`` state it, and ``model evaluate`` of one runner.

The demo athlete answers the weekly OSTRC questionnaire, so the label is the OSTRC
substantial-problem onset; the demo season's first weeks without answers keep the 0-10 label.
"""

from __future__ import annotations

import json
import shutil
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from click.testing import CliRunner

from gaitrisk.cli.demo import DEMO_ATHLETE
from gaitrisk.cli.main import cli
from gaitrisk.model.evaluate import metrics

from .helpers.demo_store import ATHLETE, build_demo_store

pytestmark = pytest.mark.slow

OSTRC_WORDS = "substantial problem (weekly OSTRC)"
NRS_WORDS = "pain >= 3/10"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's kept store (runs, pain log, weekly OSTRC answers) with its trained prior model."""
    folder = tmp_path_factory.mktemp("label") / "kept"
    res = CliRunner().invoke(cli, ["demo", "--keep", str(folder)])
    assert res.exit_code == 0, res.output
    return folder / "demo.db"


def _run(db, *args):
    res = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_the_prior_card_records_each_athletes_label_and_model_info_prints_it(demo):
    card = json.loads(_run(demo, "model", "info", "--json"))
    assert card["model"]["selected"] == "prior"
    assert card["label"]["sources"] == {DEMO_ATHLETE: "ostrc_substantial"}
    assert "OSTRC-O2" in card["label"]["definitions"]["ostrc_substantial"]
    assert OSTRC_WORDS in card["label_text"] and NRS_WORDS not in card["label_text"]
    out = _run(demo, "model", "info")
    assert f"ostrc_substantial (1 athlete(s): {DEMO_ATHLETE})" in out and OSTRC_WORDS in out
    assert NRS_WORDS not in out


def test_risk_states_the_ostrc_label_of_an_athlete_with_weekly_answers(demo):
    args = ("risk", "--athlete", DEMO_ATHLETE, "--from", "2024-07-01", "--to", "2024-07-07")
    text = _run(demo, *args)
    label = [line for line in text.splitlines() if line.startswith("label: ")]
    assert len(label) == 1 and OSTRC_WORDS in label[0] and NRS_WORDS not in label[0]
    got = json.loads(_run(demo, *args, "--json"))
    assert OSTRC_WORDS in got["label"] and NRS_WORDS not in got["label"]


def test_risk_states_the_nrs_label_of_an_athlete_without_weekly_answers(tmp_path):
    from gaitrisk.model.risk import risk_for
    from gaitrisk.store import Store

    with Store(build_demo_store(tmp_path), read_only=True) as st:
        rep = risk_for(st, ATHLETE, ZoneInfo("UTC"))
    assert rep.label.startswith(NRS_WORDS) and "OSTRC" not in rep.label


def test_evaluate_of_a_single_runner_runs_the_forward_split_alone(demo, tmp_path):
    db = tmp_path / "one.db"
    shutil.copy(demo, db)   # the store holds the demo athlete only
    out = _run(db, "model", "evaluate")
    assert "forward-in-time split only (athlete-grouped folds need at least 2 athletes)" in out
    assert "forward_in_time model" in out and "athlete_grouped" not in out
    got = json.loads(_run(db, "model", "evaluate", "--json"))
    assert [s["split"] for s in got["splits"]] == ["forward_in_time"] and got["athletes"] == 1


def test_calibration_of_separated_predictions_is_not_estimable():
    # Every positive sits at the highest prediction, tied with negatives: quasi-complete separation,
    # where the logistic recalibration has no maximum-likelihood estimate.
    y = np.array([0, 0, 0, 0, 1, 1])
    m = metrics(y, np.array([0.01, 0.01, 0.02, 0.03, 0.03, 0.03]))
    assert m.calibration_intercept is None and m.calibration_slope is None
    assert m.calibration_note == "not estimable: the predictions separate the 2 positive rows from the others"
    mixed = metrics(np.array([0, 1, 0, 1, 0, 0]), np.array([0.1, 0.3, 0.2, 0.2, 0.4, 0.1]))
    assert mixed.calibration_slope is not None and mixed.calibration_note is None


def test_the_demo_cards_in_sample_calibration_is_null_with_a_note(demo):
    apparent = json.loads(_run(demo, "model", "info", "--json"))["metrics"]["apparent"]
    assert apparent["calibration_intercept"] is None and apparent["calibration_slope"] is None
    assert apparent["calibration_note"].startswith("not estimable")
