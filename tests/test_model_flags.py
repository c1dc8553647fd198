"""Merging the model's view into the rule flags (gaitrisk.model.flags.merge_model), on hand-built inputs."""

from __future__ import annotations

import datetime as dt

from gaitrisk.model.flags import MODEL_FLAG_LOG_ODDS, ModelView, flag_json, merge_model
from gaitrisk.model.rules import Contributor, Flag

DAY = dt.date(2024, 3, 10)


def view(at_risk: bool = True) -> ModelView:
    groups = (("overstriding", 0.9), ("mileage_jump", -0.3), ("downhill_load", MODEL_FLAG_LOG_ODDS - 0.01),
              ("camber_exposure", 0.6))
    feats = (("overstriding", "cad_resid_7d", -8.0, 0.7), ("camber_exposure", "camber_measured_m_7d", 9000.0, 0.6),
             ("overstriding", "low_cad_m_7d", 12000.0, 0.2), ("mileage_jump", "week_ratio", 0.9, -0.3),
             ("downhill_load", "dh5_ratio", None, 0.49))
    return ModelView(0.3, DAY, 7, at_risk, 0.15, groups, feats)


def rule(code: str) -> Flag:
    return Flag(code, "warn", DAY, "rule text", "do this", (Contributor("rule_input", 1.0),), "Heiderscheit 2011")


def test_rule_flags_get_the_model_features_of_their_group():
    out = merge_model([rule("overstriding"), rule("mileage_jump")], view(), DAY)
    over = next(f for f in out if f.code == "overstriding" and f.source == "Heiderscheit 2011")
    assert [c.feature for c in over.contributors] == ["rule_input", "cad_resid_7d", "low_cad_m_7d"]
    assert over.contributors[0].weight is None and over.contributors[1].weight == 0.7
    jump = next(f for f in out if f.code == "mileage_jump")
    assert [(c.feature, c.weight) for c in jump.contributors[1:]] == [("week_ratio", -0.3)]
    assert flag_json(over)["contributors"][1] == {"feature": "cad_resid_7d", "value": -8.0, "weight": 0.7}


def test_a_strong_group_without_its_rule_becomes_a_model_info_flag():
    v = view()
    v = ModelView(v.probability, v.date, v.horizon_days, v.at_risk, v.base_rate,
                  v.contributions + (("track_direction", 0.6),),
                  v.features + (("track_direction", "track_ccw_m_28d", 9000.0, 0.6),))
    out = merge_model([rule("overstriding")], v, DAY)
    model_only = [f for f in out if f.source == "model"]
    # track 0.6 >= 0.5 fires; camber 0.6 does not (a hypothesis is never a model-only flag); overstriding already
    # has its rule; downhill 0.49 and mileage -0.3 do not.
    assert [(f.code, f.severity) for f in model_only] == [("track_direction", "info")]
    f = model_only[0]
    assert "x1.8" in f.explanation and "track_ccw_m_28d = 9e+03" in f.explanation
    assert f.suggestion and f.contributors[0].feature == "track_ccw_m_28d"
    assert flag_json(f)["evidence"]["grade"] == "C" and flag_json(f)["source"] == "model"


def test_no_model_flags_inside_a_pain_episode():
    out = merge_model([rule("overstriding")], view(at_risk=False), DAY)
    assert [f.source for f in out] == ["Heiderscheit 2011"] and len(out[0].contributors) == 3
