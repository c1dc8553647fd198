"""The weekly OSTRC-O2 questionnaire: scoring, storage, CLI, CSV import, delete, reports and the model label.

Expected scores are worked out here from the published option scores (0, 8, 17, 25 per
question; Clarsen 2020), never read back from the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk import records
from gaitrisk.pain.ostrc import build_week
from gaitrisk.records import OstrcWeek
from gaitrisk.pain.ostrc_csv import read_ostrc_csv
from gaitrisk.store import Store

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store

UTC = ZoneInfo("UTC")
NOW = dt.datetime(2024, 4, 20, 8, 0, tzinfo=dt.UTC)


def week(day: str, area: str = "lateral_hip", *answers: int | None, athlete: str = ATHLETE) -> OstrcWeek:
    p, *rest = answers
    rest = rest or [None, None, None]
    return OstrcWeek(athlete, dt.date.fromisoformat(day), area, p, *rest, entered_at=NOW)


# -- scoring ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("answers, expected", [
    ((0, None, None, None), 0),          # full participation without problems: the questionnaire ends at 0
    ((3, None, None, None), 100),        # could not participate: the questionnaire ends at 100
    ((1, 0, 0, 0), 8),                   # 8 + 0 + 0 + 0
    ((1, 2, 1, 2), 50),                  # 8 + 17 + 8 + 17
    ((2, 1, 3, 0), 50),                  # 17 + 8 + 25 + 0
    ((2, 3, 3, 3), 92),                  # 17 + 25 + 25 + 25: the highest score short of not participating
])
def test_severity_is_the_sum_of_the_published_option_scores(answers, expected):
    assert records.severity(*answers) == expected
    assert week("2024-04-08", "lateral_hip", *answers).severity == expected


@pytest.mark.parametrize("answers, substantial", [
    ((1, 1, 1, 3), False),   # minor training and performance effects, severe pain: not substantial
    ((2, 1, 1, 1), False),   # reduced participation alone is not substantial (O2 definition)
    ((1, 2, 0, 0), True),    # training modified to a moderate extent
    ((1, 0, 2, 0), True),    # performance affected to a moderate extent
    ((1, 3, 0, 0), True),
    ((1, 0, 3, 0), True),
    ((3, None, None, None), True),   # could not participate
    ((0, None, None, None), False),
])
def test_substantial_problem_at_each_boundary(answers, substantial):
    assert week("2024-04-08", "lateral_hip", *answers).substantial is substantial


@pytest.mark.parametrize("answers, why", [
    ((0, 1, 0, 0), "ends the questionnaire"),
    ((3, 0, None, None), "ends the questionnaire"),
    ((1, 2, None, 1), "need an option 0-3"),
    ((4, None, None, None), "not an option"),
    ((1, 4, 0, 0), "need an option 0-3"),
])
def test_inconsistent_answers_are_refused(answers, why):
    with pytest.raises(ValueError, match=why):
        week("2024-04-08", "lateral_hip", *answers)


def test_a_week_is_keyed_by_its_monday_and_areas_are_pain_log_regions():
    w = build_week(ATHLETE, day=dt.date(2024, 4, 11), area="Lateral knee/ITB", participation="1", training="0",
                   performance="0", symptoms="1")
    assert (w.week, w.area) == (dt.date(2024, 4, 8), "lateral_knee_itb")
    with pytest.raises(ValueError, match="not a Monday"):
        week("2024-04-10", "lateral_hip", 0)
    with pytest.raises(ValueError, match="area 'elbow' is not one of"):
        build_week(ATHLETE, day=dt.date(2024, 4, 8), area="elbow", participation=0)


# -- store and CLI ---------------------------------------------------------------------------------
def _run(db, *args, input=None):
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input)


def test_the_cli_asks_the_four_questions_and_a_new_answer_replaces_the_old(tmp_path):
    db = tmp_path / "s.db"
    res = _run(db, "pain", "week", "--athlete", "ann", "--area", "lateral hip", "--week", "2024-04-10",
               input="1\n2\n1\n2\n")
    assert res.exit_code == 0, res.output
    assert "1. Have you had any difficulties participating" in res.output and "3  to a major extent" in res.output
    assert "saved the week of 2024-04-08, lateral hip: severity 50/100, substantial problem: yes" in res.output
    # "could not participate" ends the questionnaire: one question asked, one answer read.
    res = _run(db, "pain", "week", "--athlete", "ann", "--area", "lateral_hip", "--week", "2024-04-14", input="3\n")
    assert res.exit_code == 0, res.output
    assert "2. To what extent" not in res.output
    assert "replaced the week of 2024-04-08, lateral hip: severity 100/100, substantial problem: yes" in res.output
    with Store(db, read_only=True) as st:
        (w,) = st.ostrc_weeks("ann")
    assert (w.week, w.answers, w.severity) == (dt.date(2024, 4, 8), (3, None, None, None), 100)


def test_the_cli_takes_answers_as_options_and_lists_them(tmp_path):
    db = tmp_path / "s.db"
    for day, extra in (("2024-04-01", ["--participation", "0"]),
                       ("2024-04-08", ["--participation", "1", "--training", "1", "--performance", "1",
                                       "--symptoms", "3"])):
        res = _run(db, "pain", "week", "--athlete", "ann", "--area", "shin", "--week", day, *extra)
        assert res.exit_code == 0, res.output
    res = _run(db, "pain", "weeks", "--athlete", "ann", "--json")
    rows = json.loads(res.output)
    assert [(r["week_start"], r["severity"], r["substantial"]) for r in rows] == \
        [("2024-04-01", 0, False), ("2024-04-08", 8 + 8 + 8 + 25, False)]
    text = _run(db, "pain", "weeks", "--athlete", "ann").output
    assert "2024-04-08  shin" in text and "49/100" in text


@pytest.mark.parametrize("args, why", [
    (["--participation", "1", "--training", "2"], "need an option 0-3"),
    (["--participation", "0", "--symptoms", "1"], "ends the questionnaire"),
    (["--participation", "7"], "participation '7' is not an option 0-3"),
])
def test_bad_options_fail_in_one_line_and_store_nothing(tmp_path, args, why):
    db = tmp_path / "s.db"
    res = _run(db, "pain", "week", "--athlete", "ann", "--area", "shin", *args)
    assert res.exit_code == 1 and why in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not db.exists() or not sqlite3.connect(db).execute("SELECT * FROM ostrc_weeks").fetchall()


# -- CSV import ------------------------------------------------------------------------------------
GOOD = b"""week,area,participation,training,performance,symptoms,note
2024-04-01,lateral hip,0,,,,
2024-04-10,lateral_hip,1,2,1,2,after the hill session
2024-04-15,groin/front hip,3,,,,
"""


def test_csv_rows_become_weeks_and_bad_rows_name_their_line():
    parsed = read_ostrc_csv(GOOD, ATHLETE)
    assert not parsed.fatal and not parsed.errors
    assert [(ln, w.week.isoformat(), w.area, w.severity) for ln, w in parsed.weeks] == [
        (2, "2024-04-01", "lateral_hip", 0), (3, "2024-04-08", "lateral_hip", 50),
        (4, "2024-04-15", "groin_front_hip", 100)]
    bad = (b"week;area;participation;training;performance;symptoms\n"
           b"2024-04-01;knee front;1;1;1;1\n"
           b"2024-04-08;knee front;1;1;;1\n"           # a missing answer
           b"2024-04-15;elbow;0;;;\n"                  # an unknown area
           b"2024-04-03;knee front;0;;;\n")            # the week of line 2 again
    parsed = read_ostrc_csv(bad, ATHLETE)
    assert [ln for ln, _ in parsed.weeks] == [2]
    assert [(e.line, e.reason.split(":")[0]) for e in parsed.errors] == [
        (3, "training, performance and symptoms each need an option 0-3"), (4, "area 'elbow' is not one of"),
        (5, "a second answer for the week of 2024-04-01 and area knee_front (the first is on line 2)")]
    assert read_ostrc_csv(b"date,score\n1,2\n", ATHLETE).fatal.startswith("line 1: wrong header")


def test_week_import_stores_good_rows_and_strict_stores_nothing(tmp_path):
    db = tmp_path / "s.db"
    f = tmp_path / "weeks.csv"
    f.write_bytes(GOOD + b"2024-04-22,lateral hip,1,9,0,0,\n")
    strict = _run(db, "pain", "week-import", str(f), "--athlete", "ann", "--strict")
    assert strict.exit_code == 1 and "weeks.csv, line 5: training '9' is not an option 0-3" in strict.output
    with Store(db) as st:
        assert st.ostrc_weeks("ann") == []
    res = _run(db, "pain", "week-import", str(f), "--athlete", "ann")
    assert res.exit_code == 0 and "3 imported (0 replacing earlier answers), 1 rejected" in res.output
    again = _run(db, "pain", "week-import", str(f), "--athlete", "ann")
    assert "3 imported (3 replacing earlier answers)" in again.output
    with Store(db) as st:
        assert len(st.ostrc_weeks("ann")) == 3


# -- privacy ---------------------------------------------------------------------------------------
def test_export_holds_the_answers_and_delete_leaves_no_row(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as st:
        st.put_ostrc_weeks([week("2024-04-08", "lateral_hip", 1, 2, 1, 2, athlete="ann"),
                            week("2024-04-08", "shin", 0, athlete="bob")])
    exported = json.loads(_run(db, "export", "--athlete", "ann").output)
    assert [(o["week_start"], o["area"], o["severity"], o["substantial"]) for o in exported["ostrc"]] == \
        [("2024-04-08", "lateral_hip", 50, True)]
    res = _run(db, "delete", "--athlete", "ann", "--yes")
    assert res.exit_code == 0, res.output
    rows = sqlite3.connect(db).execute("SELECT a.name FROM ostrc_weeks o JOIN athletes a ON a.id=o.athlete_id")
    assert [r[0] for r in rows] == ["bob"]
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM ostrc_weeks").fetchone()[0] == 1


# -- the demo season: label and reports -------------------------------------------------------------
@pytest.fixture(scope="module")
def season_db(tmp_path_factory):
    return build_demo_store(tmp_path_factory.mktemp("ostrc"))


@pytest.fixture()
def season(season_db, tmp_path):
    """A copy of the demo season (runs 2024-04-01 .. 04-19, Mondays 04-01, 04-08, 04-15) without its pain log."""
    db = tmp_path / "season.db"
    shutil.copy(season_db, db)
    st = Store(db)
    for e in st.pain_entries(ATHLETE):
        st.delete_pain_entry(ATHLETE, e.id)
    yield st
    st.close()


def _frame(store):
    from gaitrisk.model.dataset import build_dataset

    return build_dataset(store, [ATHLETE], UTC)


def _at(frame, day: str, col: str):
    return frame.loc[(ATHLETE, dt.datetime.fromisoformat(day)), col]


def test_a_substantial_week_in_a_target_region_is_the_label(season):
    from gaitrisk.model.dataset import label_sources
    from gaitrisk.model.persist import label_card

    before = _frame(season)
    assert before.rows["label"].sum() == 0 and label_sources(before.frame) == {ATHLETE: "nrs_onset"}
    season.put_ostrc_weeks([week("2024-04-01", "lateral_hip", 1, 1, 0, 1),   # a problem, not substantial
                            week("2024-04-08", "lateral_hip", 1, 2, 1, 2),   # substantial
                            week("2024-04-15", "lateral_hip", 0)])
    ds = _frame(season)
    f = ds.frame
    assert _at(f, "2024-04-08", "onset") == 1 and f["onset"].sum() == 1
    assert _at(f, "2024-04-07", "at_risk") and _at(f, "2024-04-07", "label") == 1   # 04-08 is in 04-08..04-14
    assert not _at(f, "2024-04-08", "at_risk")                                       # inside the problem week
    assert _at(f, "2024-04-14", "label") == 0                                         # 04-15..04-21 answered, fine
    assert label_sources(f) == {ATHLETE: "ostrc_substantial"}
    card = label_card(ds)
    assert card["sources"] == {ATHLETE: "ostrc_substantial"} and "OSTRC-O2" in card["definitions"]["ostrc_substantial"]


def test_an_ostrc_week_reaches_the_features_only_on_its_sunday(season):
    season.put_ostrc_weeks([week("2024-04-01", "lateral_hip", 0),
                            week("2024-04-08", "lateral_hip", 1, 2, 1, 2),   # substantial, known on 04-14
                            week("2024-04-15", "lateral_hip", 0)])
    f = _frame(season).frame
    assert _at(f, "2024-04-08", "onset") == 1                  # the label dates the onset on the Monday
    for day in ("2024-04-08", "2024-04-13"):                   # the answer is not yet known on these days
        assert _at(f, day, "prior_onsets") == 0
    assert _at(f, "2024-04-14", "prior_onsets") == 1 and _at(f, "2024-04-19", "prior_onsets") == 1


def test_an_nrs_onset_counts_in_the_features_of_its_own_day(season):
    from gaitrisk.records import PainEntry

    season.add_pain_entries([PainEntry(ATHLETE, dt.datetime(2024, 4, 12, 18, 0, tzinfo=dt.UTC), 5, "lateral_hip", "L",
                                       "after_run")])
    f = _frame(season).frame
    assert _at(f, "2024-04-12", "onset") == 1
    assert _at(f, "2024-04-11", "prior_onsets") == 0 and _at(f, "2024-04-12", "prior_onsets") == 1


def test_outside_a_target_region_or_in_an_unanswered_week_there_is_no_label(season):
    season.put_ostrc_weeks([week("2024-04-01", "shin", 3),              # substantial, but not a target region
                            week("2024-04-15", "lateral_hip", 3)])      # 04-08's week is unanswered
    f = _frame(season).frame
    assert f["onset"].sum() == 0        # 04-15 follows an unknown week: no onset can be dated
    assert _at(f, "2024-04-07", "at_risk")
    assert pd_isna(_at(f, "2024-04-07", "label"))    # its horizon 04-08..04-14 is unanswered: censored
    # An unanswered week keeps its days at risk (the model speaks for the week not yet answered),
    # but its rows are not labelled: their horizons reach into it.
    assert _at(f, "2024-04-09", "at_risk") and pd_isna(_at(f, "2024-04-09", "label"))
    assert _at(f, "2024-04-14", "label") == 1       # 04-15..04-21: the answered substantial week


def pd_isna(v) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


@pytest.mark.slow
def test_reports_show_the_weekly_chart_a_line_and_the_answers(season):
    import jsonschema

    from gaitrisk.report import build_athlete_report, render
    from gaitrisk.report.jsonout import schema

    season.put_ostrc_weeks([week("2024-04-08", "lateral_hip", 1, 2, 1, 2), week("2024-04-15", "shin", 1, 0, 0, 1)])
    rep = build_athlete_report(season, ATHLETE, UTC, today=LAST_DAY)
    text = render([rep], "text")
    assert "OSTRC week of 2024-04-08 (lateral hip): severity 50/100, substantial problem: yes" in text
    assert "OSTRC week of 2024-04-15 (shin): severity 16/100, substantial problem: no" in text
    html = render([rep], "html")
    assert 'data-plot="ostrc"' in html and "substantial problem: yes" in html
    doc = json.loads(render([rep], "json"))
    jsonschema.Draft202012Validator(schema()).validate(doc)
    assert [(o["week_start"], o["severity"], o["substantial"]) for o in doc["athletes"][0]["ostrc"]] == \
        [("2024-04-08", 50, True), ("2024-04-15", 16, False)]


def test_forgetting_an_athlete_drops_a_model_whose_card_names_their_label(tmp_path):
    from gaitrisk.model.persist import CARD_VERSION, card_path
    from gaitrisk.nightly.forget import forget_athlete

    model = tmp_path / "s.db.model.skops"
    model.write_bytes(b"model")
    card_path(model).write_text(json.dumps({"card_version": CARD_VERSION, "data": {"athletes": [], "onsets": {}},
                                            "label": {"sources": {"ann": "ostrc_substantial"}}}))
    left = forget_athlete(tmp_path / "s.db", "ann", model)
    assert left.model_dropped == str(model) and not model.exists() and not card_path(model).exists()
