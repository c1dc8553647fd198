"""``report --format json``: the document validates against the shipped JSON Schema and says what the store holds."""

from __future__ import annotations

import copy
import datetime as dt
import json
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from gaitrisk.report import build_athlete_report, render
from gaitrisk.report.jsonout import SCHEMA_VERSION, schema

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store

UTC = ZoneInfo("UTC")
GENERATED = dt.datetime(2024, 4, 20, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from gaitrisk.store import Store

    db = build_demo_store(tmp_path_factory.mktemp("json"))
    with Store(db) as st:
        plain = build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY)
        maps = build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY, with_maps=True)
    return plain, maps


def _validator():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_document_validates_and_holds_the_report(reports):
    plain, _ = reports
    doc = json.loads(render([plain], "json", generated_at=GENERATED))
    _validator().validate(doc)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["generated_at"] == "2024-04-20T06:00:00+00:00"
    (a,) = doc["athletes"]
    assert a["name"] == ATHLETE and a["to"] == LAST_DAY.isoformat()
    assert [f["code"] for f in a["flags"]] == ["pain_rising"]
    f = a["flags"][0]
    assert set(f) >= {"code", "severity", "date", "explanation", "suggestion", "contributors"}
    assert f["contributors"][0]["feature"] == "pain_today" and f["contributors"][0]["value"] == 5.0
    assert f["evidence"]["grade"] in ("A", "B", "C") and f["evidence"]["threshold_origin"] in ("study", "design choice")
    assert f["evidence"]["source"] == f["source"] and "§" not in f["source"]
    assert [w["runs"] for w in a["weeks"]] == [w.runs for w in plain.weeks]
    assert [p["score"] for p in a["pain"]] == [p.score for p in plain.pain]
    assert len(a["runs"]) == len(plain.runs) and "routes" not in a


def test_no_positions_without_maps_and_shapes_with(reports):
    _, maps = reports
    text = render([maps], "json", generated_at=GENERATED)   # built with routes, rendered without maps
    assert '"routes"' not in text and "lat_deg" not in text and "lon_deg" not in text
    # The season's routes start at 46.05 N 14.47 E (scripts/make_fixtures.py): no number near either.
    assert not [v for v in _numbers(json.loads(text)) if abs(v - 46.05) < 0.05 or abs(v - 14.47) < 0.05]
    doc = json.loads(render([maps], "json", with_maps=True, generated_at=GENERATED))
    _validator().validate(doc)
    routes = doc["athletes"][0]["routes"]
    assert routes and doc["athletes"][0]["privacy_zone_m"] == 500.0
    assert all(len(r["x_m"]) == len(r["y_m"]) > 10 for r in routes)


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield float(obj)


def test_the_schema_rejects_what_breaks_the_contract(reports):
    plain, _ = reports
    doc = json.loads(render([plain], "json", generated_at=GENERATED))
    v = _validator()
    for breaking in (
        lambda d: d["athletes"][0].pop("flags"),
        lambda d: d["athletes"][0]["flags"][0].update(severity="urgent"),
        lambda d: d["athletes"][0]["flags"][0].update(code="made_up"),
        lambda d: d["athletes"][0]["flags"][0].pop("evidence"),
        lambda d: d["athletes"][0]["flags"][0]["evidence"].update(grade="D"),
        lambda d: d["athletes"][0]["pain"][0].update(score=11),
        lambda d: d.update(schema_version="2.0"),
        lambda d: d["athletes"][0]["weeks"][0].update(unexpected=1),
    ):
        bad = copy.deepcopy(doc)
        breaking(bad)
        with pytest.raises(jsonschema.ValidationError):
            v.validate(bad)


def test_schema_ships_with_the_package():
    from importlib import resources

    assert resources.files("gaitrisk.report").joinpath("report.schema.json").is_file()
    import tomllib
    from pathlib import Path

    py = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert "report.schema.json" in py["tool"]["setuptools"]["package-data"]["gaitrisk.report"]
    assert "gaitrisk.report" in py["tool"]["setuptools"]["packages"]
