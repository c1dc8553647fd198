"""The risk model's label as the card, ``model info`` and ``risk`` state it.

The demo athlete answers the weekly OSTRC questionnaire, so the label is the OSTRC
substantial-problem onset; the demo season's first weeks without answers keep the 0-10 label.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gaitrisk.cli.demo import DEMO_ATHLETE
from gaitrisk.cli.main import cli

from .test_report_assemble import ATHLETE, build_demo_store

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
