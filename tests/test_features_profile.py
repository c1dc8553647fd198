"""Athlete profile: stored values, documented defaults, and the notes saying which default was used."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.features.profile import (DEFAULT_HEIGHT_M, LEG_LENGTH_PER_HEIGHT, AthleteProfile, resolve)
from gaitrisk.store import Store


def test_empty_profile_resolves_to_the_documented_defaults_and_says_so():
    r = resolve(None)
    assert r.height_m == DEFAULT_HEIGHT_M
    assert r.leg_length_m == pytest.approx(LEG_LENGTH_PER_HEIGHT * DEFAULT_HEIGHT_M)
    assert (r.driving_side, r.road_side) == ("right", "facing")
    assert r.hr_max_bpm is None
    for key in ("height_m", "leg_length_m", "driving_side", "road_side", "hr_max_bpm"):
        assert any(n.startswith(key) for n in r.notes), key


def test_set_values_are_used_without_a_note():
    r = resolve(AthleteProfile(height_m=1.80, leg_length_m=0.97, driving_side="left", road_side="with",
                               hr_max_bpm=190, mass_kg=70))
    assert (r.height_m, r.leg_length_m, r.hr_max_bpm) == (1.80, 0.97, 190)
    assert r.notes == ()


def test_leg_length_default_follows_the_height_given():
    r = resolve(AthleteProfile(height_m=1.60))
    assert r.leg_length_m == pytest.approx(0.53 * 1.60)
    assert not any(n.startswith("height_m") for n in r.notes)


def test_hr_max_prefers_the_data_then_the_age_formula():
    import datetime as dt

    assert resolve(AthleteProfile(), hr_max_from_data=187).hr_max_bpm == 187
    r = resolve(AthleteProfile(birth_year=1980), on=dt.date(2024, 5, 1))
    assert r.hr_max_bpm == 220 - 44 and any("220 - age" in n for n in r.notes)


@pytest.mark.parametrize("driving,road,low", [("right", "facing", "left"), ("right", "with", "right"),
                                              ("left", "facing", "right"), ("left", "with", "left")])
def test_low_side_foot_from_habit_and_driving_side(driving, road, low):
    # evidence.md 5.6: facing traffic in a right-driving country = road's left edge = left foot low.
    assert resolve(AthleteProfile(driving_side=driving, road_side=road)).low_side_foot == low


@pytest.mark.parametrize("bad", [dict(height_m=3.1), dict(mass_kg=5), dict(driving_side="middle"),
                                 dict(road_side="sideways"), dict(birth_year=1800)])
def test_implausible_values_are_refused(bad):
    with pytest.raises(ValueError):
        AthleteProfile(**bad)


def test_profile_round_trips_through_the_store(tmp_path):
    with Store(tmp_path / "g.db") as st:
        assert st.profile("ann") is None
        st.set_profile("ann", AthleteProfile(height_m=1.7).as_dict())
        st.set_profile("ann", AthleteProfile.from_dict(st.profile("ann")).updated(mass_kg=60).as_dict())
        p = AthleteProfile.from_dict(st.profile("ann"))
    assert (p.height_m, p.mass_kg, p.leg_length_m) == (1.7, 60, None)


def test_cli_athlete_set_and_show(tmp_path):
    db = str(tmp_path / "g.db")
    run = CliRunner().invoke
    res = run(cli, ["--db", db, "athlete", "set", "--athlete", "ann", "--height-cm", "170", "--driving-side", "left"])
    assert res.exit_code == 0, res.output
    out = json.loads(run(cli, ["--db", db, "athlete", "show", "--athlete", "ann", "--json"]).output)
    assert out["stored"]["height_m"] == 1.7 and out["stored"]["leg_length_m"] is None
    assert out["resolved"]["leg_length_m"] == pytest.approx(0.53 * 1.7)
    assert out["resolved"]["low_side_foot"] == "right"  # facing traffic (default) where they drive on the left
    assert any(n.startswith("leg_length_m: default") for n in out["notes"])
    text = run(cli, ["--db", db, "athlete", "show", "--athlete", "ann"]).output
    assert "leg length (m): 0.901  (default)" in text and "height (m): 1.7\n" in text
    assert "road side declared: no" in text and "False" not in text and "_m:" not in text
    bad = run(cli, ["--db", db, "athlete", "set", "--height-cm", "400"])
    assert bad.exit_code != 0 and "--height-cm 400 is outside" in bad.output
