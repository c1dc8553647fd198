"""The ``report --format json`` contract: versioned, described by ``report.schema.json`` beside this file.

Bump :data:`SCHEMA_VERSION` (major for a removed or renamed key, minor for an added
one) and the schema file together; ``tests/test_report_json.py`` validates the output
against the schema.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

from ..model.flags import flag_json
from .assemble import (
    AthleteReport,
    CadenceLine,
    PainPoint,
    RouteTrace,
    RunPoint,
    WeekTrend,
)

SCHEMA_VERSION = "1.4"
SCHEMA_FILE = "report.schema.json"


def schema() -> dict:
    """The JSON Schema (draft 2020-12) of the report document."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(float(v), nd)


def _run(r: RunPoint) -> dict:
    out = {"id": r.id, "date": r.day.isoformat(), "spike_tier": r.spike_tier, "gct_source": r.gct_source,
           "road_side_evidence": r.road_side_evidence}
    for name in ("distance_m", "longest_prev_30d_m", "gct_ms", "descent_m", "downhill5_m", "downhill10_m",
                 "road_left_low_m", "road_right_low_m", "track_ccw_m", "track_cw_m", "level_cadence_spm",
                 "cadence_expected_spm"):
        out[name] = _r(getattr(r, name))
    for name in ("spike_pct", "level_speed_mps", "cadence_residual_pct", "gct_balance_pct"):
        out[name] = _r(getattr(r, name), 2)
    for name in ("moving_time_s", "pace_s_per_km", "cadence_spm", "ascent_m", "hr_avg_bpm"):
        out[name] = _r(getattr(r, name))
    out["flags"] = list(r.flags)
    return out


def _trend(t: WeekTrend) -> dict:
    out = {"week_start": t.week_start.isoformat(), "week_end": t.week_end.isoformat(), "runs": t.runs,
           "road_side_evidence": t.road_side_evidence}
    for name in ("cadence_residual_pct", "gct_balance_pct"):
        out[name] = _r(getattr(t, name), 2)
    for name in ("gct_ms", "downhill5_m", "downhill10_m", "road_left_low_m", "road_right_low_m", "track_ccw_m",
                 "track_cw_m", "road_left_low_observed_m", "road_right_low_observed_m", "road_observed_m",
                 "road_assumed_m"):
        out[name] = _r(getattr(t, name))
    return out


def _pain(p: PainPoint) -> dict:
    return {"time": p.time.isoformat(), "date": p.time.date().isoformat(), "date_only": p.date_only,
            "score": p.score, "region": p.region, "side": p.side, "when": p.when, "behaviour": p.behaviour,
            "note": p.note}


def _ostrc(w) -> dict:
    return {"week_start": w.week.isoformat(), "area": w.area, "participation": w.participation,
            "training": w.training, "performance": w.performance, "symptoms": w.symptoms,
            "severity": w.severity, "substantial": w.substantial}


def _line(c: CadenceLine | None) -> dict | None:
    return None if c is None else {"intercept_spm": round(c.a, 3), "slope_spm_per_mps": round(c.b, 3),
                                   "source": c.source, "n_runs": c.n_runs}


def _route(t: RouteTrace) -> dict:
    return {"id": t.id, "date": t.day.isoformat(), "trimmed_m": t.trimmed_m, "x_m": list(t.x_m), "y_m": list(t.y_m)}


def athlete_json(rep: AthleteReport) -> dict:
    out = {
        "name": rep.athlete, "zone": rep.zone, "from": rep.first.isoformat(), "to": rep.last.isoformat(),
        "latest_data": rep.latest_data.isoformat() if rep.latest_data else None, "stale_days": rep.stale_days,
        "flags_from": rep.flag_first.isoformat() if rep.flag_first else None,
        "flags": [flag_json(f) for f in rep.flags],
        "model": rep.model.as_json() if rep.model else None, "model_note": rep.model_note,
        "weeks": [w.as_json() for w in rep.weeks], "trends": [_trend(t) for t in rep.trends],
        "runs": [_run(r) for r in rep.runs], "pain": [_pain(p) for p in rep.pain],
        "expected_cadence": _line(rep.expected_cadence), "baseline_cadence": _line(rep.baseline_cadence),
        "notes": list(rep.load_notes) + list(rep.notes),
        "pain_log": rep.pain_log.as_json() if rep.pain_log else None,
        "ostrc": [_ostrc(w) for w in rep.ostrc],
        "not_judged": [u.as_json() for u in rep.not_judged],
        "risk": rep.risk_today.as_json() if rep.risk_today else None,
    }
    if rep.routes is not None:
        out["privacy_zone_m"] = rep.privacy_zone_m
        out["routes"] = [_route(t) for t in rep.routes]
    return out


def report_json(reports: list[AthleteReport], generated_at: dt.datetime) -> dict:
    return {"schema_version": SCHEMA_VERSION, "generated_at": generated_at.isoformat(timespec="seconds"),
            "athletes": [athlete_json(r) for r in reports]}


def render_json(reports: list[AthleteReport], generated_at: dt.datetime) -> str:
    return json.dumps(report_json(reports, generated_at), indent=2, allow_nan=False) + "\n"
