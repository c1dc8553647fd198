"""The evidence table: it loads, it refuses a broken table, severity follows the grade, the doc is its rendering."""

from __future__ import annotations

import copy
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from gaitrisk.model import evidence, rules
from gaitrisk.model.evidence import Effect, EvidenceError, allowed_severity, parse, render_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "evidence.md"


def shipped() -> dict:
    return tomllib.loads(resources.files("gaitrisk.model").joinpath("evidence.toml").read_text("utf-8"))


def test_the_shipped_table_loads_and_validates():
    table = evidence.load()
    assert table.factors and table.sources
    assert {f.kind for f in table.factors} == {"rule", "red_flag", "model_factor"}


def test_the_doc_is_the_rendering_of_the_table():
    # Regenerate with: python -m gaitrisk.model.evidence > docs/evidence.md
    assert DOC.read_text("utf-8") == render_markdown(evidence.load())


def test_the_module_prints_the_doc(capsys):
    assert evidence.main() == 0
    assert capsys.readouterr().out == render_markdown(evidence.load())


def test_every_flag_code_has_an_entry():
    # rules.SUGGESTIONS is the rule-flag registry: every flag code the rules can raise has a suggestion.
    codes = set(rules.SUGGESTIONS) | {evidence.RED_FLAG_CODE}
    table = evidence.load()
    assert {code for code in codes if not table.for_flag(code)} == set()


def test_only_the_red_flag_is_high_and_the_session_spike_is_warn():
    table = evidence.load()
    assert {f.flag for f in table.factors if f.severity == "high"} == {evidence.RED_FLAG_CODE}
    assert all(f.severity == "high" for f in table.for_flag(evidence.RED_FLAG_CODE))
    assert [f.severity for f in table.for_flag("session_spike")] == ["warn"]
    assert [f.severity for f in table.for_flag("mileage_jump")] == ["info"]
    # camber: a hypothesis that opts in to the runner's own observed data shows as info, still graded hypothesis.
    assert [(f.severity, f.grade, f.on_observed_data) for f in table.for_flag("camber_exposure")] == [
        ("info", "hypothesis", True)]


def test_every_factor_cites_its_sources_by_a_short_key():
    table = evidence.load()
    spike = table.for_flag("session_spike")[0]
    assert spike.cite == "Frandsen 2025"
    assert table.source("Frandsen 2025").n == 5205
    for f in table.factors:
        assert "§" not in f.cite + f.wording + f.threshold + (f.note or "")


@pytest.mark.parametrize("kind, grade, effects, expected", [
    ("red_flag", "C", (), "high"),
    ("rule", "A", (Effect("spike", "HRR", 1.64, ci_low=1.31, ci_high=2.05),), "warn"),
    ("rule", "A", (Effect("subgroup", "HR", 1.59, ci_low=0.96, ci_high=2.66),), "info"),
    ("rule", "A", (Effect("protective", "HR", 0.6, ci_low=0.4, ci_high=0.9),), "warn"),
    ("rule", "A", (Effect("rate", "rate", 10.0, " per 1,000 h"),), "info"),
    ("rule", "B", (), "info"),
    ("rule", "C", (), "info"),
    ("rule", "hypothesis", (), "none"),
    ("model_factor", "A", (Effect("previous", "OR", 1.88, ci_low=1.01, ci_high=3.51),), "none"),
])
def test_the_grade_and_effect_mapping(kind, grade, effects, expected):
    assert allowed_severity(kind, grade, effects) == expected


@pytest.mark.parametrize("kind, grade, expected", [
    ("rule", "hypothesis", "info"),        # opts in: shown when the runner's own observed data support it
    ("rule", "C", "info"),                 # the opt-in changes nothing for a graded rule
    ("model_factor", "hypothesis", "none"),
    ("red_flag", "C", "high"),
])
def test_a_hypothesis_rule_on_observed_data_maps_to_info(kind, grade, expected):
    assert allowed_severity(kind, grade, (), on_observed_data=True) == expected


def test_the_doc_states_the_mapping():
    text = render_markdown(evidence.load())
    for row, severity in evidence.severity_mapping():
        assert f"| {row} | {severity} |" in text


def _broken(edit) -> str:
    data = copy.deepcopy(shipped())
    edit(data)
    with pytest.raises(EvidenceError) as err:
        parse(data, "evidence.toml")
    message = str(err.value)
    assert message.startswith("evidence.toml: ") and "\n" not in message
    return message


def test_a_missing_source_is_refused():
    def edit(data):
        del data["sources"]["Frandsen 2025"]
    message = _broken(edit)
    assert "factor 'session_spike' cites 'Frandsen 2025', which is not in the sources" in message


def test_an_a_graded_rule_with_severity_high_is_refused():
    def edit(data):
        data["factors"]["session_spike"]["severity"] = "high"
    assert "factor 'session_spike': severity 'high' does not follow the evidence" in _broken(edit)


def test_a_grade_not_in_the_set_is_refused():
    def edit(data):
        data["factors"]["downhill_load"]["grade"] = "D"
    assert "factor 'downhill_load': grade 'D' is not one of A, B, C, hypothesis" in _broken(edit)


def test_a_warn_without_an_effect_that_excludes_no_effect_is_refused():
    def edit(data):
        data["factors"]["mileage_jump"]["grade"] = "A"
        data["factors"]["mileage_jump"]["severity"] = "warn"
    assert "grade A allows 'info'" in _broken(edit)


def test_a_hypothesis_shown_as_a_flag_is_refused():
    # Without the opt-in to observed data a hypothesis stays "none": no flag.
    def edit(data):
        del data["factors"]["camber_exposure"]["on_observed_data"]
    assert "factor 'camber_exposure': severity 'info' does not follow the evidence" in _broken(edit)


def test_the_observed_data_opt_in_is_for_hypothesis_rules_only():
    def edit(data):
        data["factors"]["track_direction"]["on_observed_data"] = True
    assert "factor 'track_direction': on_observed_data is for a rule graded hypothesis" in _broken(edit)

    def edit_text(data):
        data["factors"]["camber_exposure"]["on_observed_data"] = "yes"
    assert "on_observed_data must be true or false" in _broken(edit_text)


def test_a_red_flag_trigger_must_belong_to_the_red_flag():
    def edit(data):
        data["factors"]["clinician_groin_run_days"]["flag"] = "pain_rising"
    assert "belongs to see_a_clinician" in _broken(edit)


def test_an_unknown_field_and_a_bad_threshold_origin_are_refused():
    def edit(data):
        data["factors"]["pain_rising"]["threshold_origin"] = "guess"
        data["sources"]["Farrar 2001"]["jounal"] = "Pain"
    message = _broken(edit)
    assert "threshold_origin 'guess' is not one of study, design choice" in message
    assert "source 'Farrar 2001': unknown field(s) jounal" in message


def test_an_estimate_outside_its_interval_is_refused():
    def edit(data):
        data["factors"]["session_spike"]["effects"][0]["ci_high"] = 1.5
    assert "the estimate lies outside its 95 % CI" in _broken(edit)


def test_an_unreadable_file_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "evidence.toml"
    bad.write_text("[sources\n", encoding="utf-8")
    with pytest.raises(EvidenceError, match="^" + re.escape(f"{bad}: not a valid TOML evidence table")):
        evidence.load(bad)
    with pytest.raises(EvidenceError, match="cannot read the evidence table"):
        evidence.load(tmp_path / "missing.toml")
