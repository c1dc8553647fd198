"""The per-run feature record: one typed object, and its JSON form (the ``features --json`` contract).

Every key is present in the JSON; a value that cannot be computed is ``null``
(never 0, which is a real value for most of them).  Units are in the key names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .camber import Camber
from .gait import Gait
from .intensity import Intensity
from .terrain import Terrain


@dataclass(frozen=True)
class RunFeatures:
    """Everything computed for one run, plus provenance."""

    activity_id: str
    feature_version: int
    distance_m: float | None
    moving_time_s: float
    running_time_s: float
    pause_s: float
    stopped_s: float
    gps_spikes_rejected: int
    distance_source: str
    avg_speed_mps: float | None
    gait: Gait
    terrain: Terrain
    camber: Camber
    intensity: Intensity
    surface: str
    surface_reason: str
    long_run: bool
    profile_notes: tuple[str, ...]
    profile_fingerprint: str
    threshold_speed_mps: float | None = None  # reference of the pace zones

    def to_record(self) -> dict[str, Any]:
        """The flat JSON record (see docs/features.md for every key)."""
        g, t, c, i = self.gait, self.terrain, self.camber, self.intensity
        rec: dict[str, Any] = {
            "activity_id": self.activity_id,
            "feature_version": self.feature_version,
            "distance_m": self.distance_m,
            "moving_time_s": self.moving_time_s,
            "running_time_s": self.running_time_s,
            "pause_s": self.pause_s,
            "stopped_s": self.stopped_s,
            "gps_spikes_rejected": self.gps_spikes_rejected,
            "distance_source": self.distance_source,
            "avg_speed_mps": self.avg_speed_mps,
            # gait
            "cadence_spm": g.cadence_spm,
            "cadence_expected_spm": g.cadence_expected_spm,
            "cadence_residual_pct": g.cadence_residual_pct,
            "cadence_low_share": g.cadence_low_share,
            "cadence_baseline": g.cadence_baseline,
            "cadence_baseline_runs": g.cadence_baseline_runs,
            "cadence_baseline_pct": g.cadence_baseline_pct,
            "level_time_s": g.level_time_s,
            "level_speed_mps": g.level_speed_mps,
            "level_cadence_spm": g.level_cadence_spm,
            "step_length_m": g.step_length_m,
            "step_length_source": g.step_length_source,
            "step_length_per_height": g.step_length_per_height,
            "gct_ms": g.gct_ms,
            "gct_source": g.gct_source,
            "gct_estimated_ms": g.gct_estimated_ms,
            "gct_balance_pct": g.gct_balance_pct,
            # Filled by compute_and_store_features, which sees the athlete's earlier runs.
            "gct_balance_baseline_pct": None,
            "gct_balance_shift_pct": None,
            "vertical_oscillation_mm": g.vertical_oscillation_mm,
            "vertical_ratio_pct": g.vertical_ratio_pct,
            "drift": dict(g.drift),
            "overstride_score": g.overstride_score,
            "overstride_flags": list(g.overstride_flags),
            # terrain
            "grade": t.grade_stats,
            "grade_bins_m": t.grade_bins_m,
            "grade_bins_s": t.grade_bins_s,
            "ascent_m": t.ascent_m,
            "descent_m": t.descent_m,
            "distance_m_grade_le_minus5": t.distance_m_grade_le_minus5,
            "distance_m_grade_le_minus10": t.distance_m_grade_le_minus10,
            "time_s_grade_le_minus5": t.time_s_grade_le_minus5,
            "time_s_grade_le_minus10": t.time_s_grade_le_minus10,
            "gap_distance_m": t.gap_distance_m,
            "gap_pace_s_per_km": t.gap_pace_s_per_km,
            # camber
            "is_track": c.is_track,
            "track_laps": c.track_laps,
            "track_ccw_m": c.track_ccw_m,
            "track_cw_m": c.track_cw_m,
            "curve_ccw_m": c.curve_ccw_m,
            "curve_cw_m": c.curve_cw_m,
            "out_and_back_paired_m": c.out_and_back_paired_m,
            "out_and_back_side": c.out_and_back_side,
            "out_and_back_separation_m": c.out_and_back_separation_m,
            "balance_out_pct": c.balance_out_pct,
            "balance_back_pct": c.balance_back_pct,
            "road_m": c.road_m,
            "road_low_side": c.road_low_side,
            "road_low_side_source": c.road_low_side_source,
            "road_left_low_m": c.road_left_low_m,
            "road_right_low_m": c.road_right_low_m,
            "camber_exposure_index": c.camber_exposure_index,
            "camber_confidence": dict(c.confidence),
            # intensity and surface
            "hr_avg_bpm": i.hr_avg_bpm,
            "hr_zone_s": i.hr_zone_s,
            "hr_zone_m": i.hr_zone_m,
            "pace_zone_s": i.pace_zone_s,
            "pace_zone_m": i.pace_zone_m,
            "threshold_speed_mps": self.threshold_speed_mps,
            "speed_work_s": i.speed_work_s,
            "speed_work_reps": i.speed_work_reps,
            "long_run": self.long_run,
            "surface": self.surface,
            "surface_reason": self.surface_reason,
            # provenance
            "profile_notes": list(self.profile_notes),
            "profile_fingerprint": self.profile_fingerprint,
        }
        safe: dict[str, Any] = json_safe(rec)
        return safe


def json_safe(value: Any) -> Any:
    """NaN/inf -> None, numpy scalars -> Python, recursively (the record must be strict JSON)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["RunFeatures", "json_safe"]
