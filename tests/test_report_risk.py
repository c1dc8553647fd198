"""The risk in every report format and in ``flags``: the population prior for a runner without a pain
log, only the factors that raise it, and the same ``risk`` object as ``gaitrisk risk --json``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from html.parser import HTMLParser

import jsonschema
import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.model.evidence import shipped
from gaitrisk.model.factors import factor_priors
from gaitrisk.model.risk import RiskContributor, RiskDay, RiskReport
from gaitrisk.report import build_athlete_report, render
from gaitrisk.report.jsonout import schema
from gaitrisk.store import Store
from gaitrisk.synth.cohort import CohortConfig, write_cohort

pytestmark = pytest.mark.slow

ATHLETE = "newbie"
RISK_LINE = re.compile(r"risk of a hip/lateral-knee pain onset in the next 7 days: [\d.]+ % "
                       r"\([\d.]+ %–[\d.]+ %\); typical for your running: [\d.]+ %")


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A runner with five weeks of runs and no pain log, and a model path with no model behind it."""
    out = tmp_path_factory.mktemp("month")
    write_cohort(CohortConfig(seed=5, athletes=1, weeks=5, warmup_weeks=5, sample_interval_s=60), out)
    (only,) = [p for p in out.iterdir() if (p / "runs").is_dir()]
    db = out / "r.db"
    assert run(db, "import", only / "runs", "--athlete", ATHLETE).exit_code == 0
    return db, out / "none.skops"


def report(db, model, fmt: str) -> str:
    r = run(db, "report", "--athlete", ATHLETE, "--format", fmt, "--tz", "UTC", "--model", model)
    assert r.exit_code == 0, r.output
    return r.output


def test_json_report_carries_the_population_risk_of_its_last_day_and_validates(store):
    db, model = store
    doc = json.loads(report(db, model, "json"))
    jsonschema.validate(doc, schema())
    assert doc["schema_version"] == "1.4"
    (ath,) = doc["athletes"]
    risk = ath["risk"]
    assert risk is not None and risk["athlete"] == ATHLETE and risk["horizon_days"] == 7
    (day,) = risk["days"]
    assert day["date"] <= ath["to"]
    assert 0 <= day["low"] <= day["probability"] <= day["high"] <= 1 and 0 < risk["base_rate"] < 1
    direct = run(db, "risk", "--athlete", ATHLETE, "--to", day["date"], "--tz", "UTC", "--json", "--model", model)
    assert direct.exit_code == 0, direct.output
    assert json.loads(direct.output) == risk


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_shows_the_risk_line_and_the_population_prior(store, fmt):
    db, model = store
    out = report(db, model, fmt)
    if fmt == "html":
        out = re.sub(r"<[^>]+>", " ", out)
    flat = " ".join(out.split())
    assert RISK_LINE.search(flat), flat[:2000]
    assert "Risk model: the population prior (published effects" in flat
    # No old feature classifier exists: its "rules only ... shown from 5" note is not shown.
    assert "the model is shown from" not in flat and "no trained model" not in flat


def test_the_html_report_has_a_risk_chart(store):
    db, model = store
    html = report(db, model, "html")

    class Figures(HTMLParser):
        keys: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "figure":
                self.keys.append(dict(attrs).get("data-plot"))

    p = Figures()
    p.feed(html)
    assert "risk" in p.keys
    fig = html[html.index('data-plot="risk"'):]
    assert "<svg" in fig[:fig.index("</figure>")] and "typical for your running" in fig[:fig.index("</figure>")]


def fake_risk(athlete: str, day: dt.date, ratios: dict[str, float]) -> RiskReport:
    """A one-day risk with the given factors present at the given hazard ratios."""
    entries = {f.id: f for f in shipped().factors}
    priors = {p.factor: p for p in factor_priors()}
    contributors = tuple(RiskContributor(f, 1.0, hr, hr * 0.5, hr * 2.0,
                                         entries[priors[f].evidence_id].flag_evidence())
                         for f, hr in sorted(ratios.items(), key=lambda kv: -kv[1]))
    return RiskReport(athlete, 7, 0.01, "pain", (RiskDay(day, 0.02, 0.01, 0.05, contributors),))


def test_a_factor_with_a_hazard_ratio_of_one_or_less_is_not_raising():
    names = [p.factor for p in factor_priors()]
    risk = fake_risk("x", dt.date(2024, 1, 1), {names[0]: 1.6, names[1]: 1.0, names[2]: 1.004, names[3]: 0.8})
    assert [c.factor for c in risk.days[0].raising()] == [names[0]]
    assert [c.factor for c in risk.days[0].raising(top=None)] == [names[0]]


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_reports_list_only_the_factors_that_raise_the_risk(store, fmt):
    db, model = store
    from zoneinfo import ZoneInfo

    with Store(db, read_only=True) as st:
        rep = build_athlete_report(st, ATHLETE, ZoneInfo("UTC"), model_path=model)
    names = [p.factor for p in factor_priors()]
    fake = fake_risk(ATHLETE, rep.last, {names[0]: 1.6, names[1]: 1.0, names[3]: 0.8})
    out = " ".join(render([dataclasses.replace(rep, risk=fake)], fmt).split())
    up, flat, down = fake.days[0].contributors
    assert up.title in out and "HR 1.60 (0.80–3.20)" in out
    assert "HR 1.00" not in out and "HR 0.80" not in out
    assert flat.title not in out and down.title not in out


def test_flags_json_carries_the_same_risk_as_the_risk_command(store):
    db, model = store
    r = run(db, "flags", "--athlete", ATHLETE, "--tz", "UTC", "--json", "--model", model)
    assert r.exit_code == 0, r.output
    flags = json.loads(r.output)
    assert flags["risk"] is not None and flags["risk"]["days"][0]["date"] == flags["to"]
    direct = run(db, "risk", "--athlete", ATHLETE, "--to", flags["to"], "--tz", "UTC", "--json", "--model", model)
    assert direct.exit_code == 0, direct.output
    assert flags["risk"] == json.loads(direct.output)
