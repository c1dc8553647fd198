"""The athlete profile and the defaults used when a value is missing.

Every derived value says where it came from: a feature that needs a profile
value carries a note such as ``"leg_length_m: default 0.53 x height"`` in the
run's record, so nothing silently rests on an assumption.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

DrivingSide = Literal["right", "left"]
# "facing"/"with" traffic gives the side through the driving side; "left"/"right" is the side of the
# road the runner keeps to, seen in the direction of running; "mixed": no one side.
RoadSide = Literal["facing", "with", "left", "right", "mixed"]
ROAD_SIDES: tuple[str, ...] = ("facing", "with", "left", "right", "mixed")

# Leg length ~ 0.53 x height, a rule of thumb for the Hoyt GCT model (evidence.md 2.2, table 0 #6).
LEG_LENGTH_PER_HEIGHT = 0.53
# Height when none is set: the worked step-length example of evidence.md 1.5 (step 4) uses a
# 1.75 m runner.  It only enters the Hoyt GCT estimate and step length / height.
DEFAULT_HEIGHT_M = 1.75
# Most of the world drives on the right; the pedestrian rule without a sidewalk is to
# face traffic (evidence.md 5.6, e.g. NY VAT 1156(b)).
DEFAULT_DRIVING_SIDE: DrivingSide = "right"
DEFAULT_ROAD_SIDE: RoadSide = "facing"
# Maximum heart rate when neither set nor estimable from the data: 220 - age (Fox 1971,
# convention [D]); with no birth year either, the zones are not computed.
HR_MAX_AGE_INTERCEPT = 220.0

_SETTABLE = ("height_m", "leg_length_m", "mass_kg", "birth_year", "driving_side", "road_side",
             "hr_max_bpm", "hr_threshold_bpm", "threshold_speed_mps")


# The plausible range of each numeric profile value, in the profile's units.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "height_m": (1.0, 2.5), "leg_length_m": (0.5, 1.4), "mass_kg": (25.0, 250.0),
    "hr_max_bpm": (120.0, 240.0), "hr_threshold_bpm": (100.0, 230.0),
    # 2:30/km (faster than the 10,000 m world record) to 8:20/km
    "threshold_speed_mps": (2.0, 6.67),
}


@dataclass(frozen=True)
class AthleteProfile:
    """What the athlete told us; ``None`` = not set.  Metres, kilograms, beats/min."""

    height_m: float | None = None
    leg_length_m: float | None = None
    mass_kg: float | None = None
    birth_year: int | None = None
    driving_side: DrivingSide | None = None
    road_side: RoadSide | None = None
    hr_max_bpm: float | None = None
    hr_threshold_bpm: float | None = None
    threshold_speed_mps: float | None = None  # the pace zones' reference; unset: the best 20 min of the data

    def __post_init__(self) -> None:
        for name, (lo, hi) in PLAUSIBLE.items():
            v = getattr(self, name)
            if v is not None and not lo <= v <= hi:
                raise ValueError(f"{name}={v} is outside the plausible range {lo}-{hi}")
        if self.birth_year is not None and not 1900 <= self.birth_year <= dt.date.today().year:
            raise ValueError(f"birth_year={self.birth_year} is not plausible")
        if self.driving_side not in (None, "right", "left"):
            raise ValueError("driving_side must be 'right' or 'left'")
        if self.road_side not in (None, *ROAD_SIDES):
            raise ValueError("road_side must be 'facing' or 'with' (traffic), or 'left', 'right' or 'mixed' "
                             "(the side of the road you keep to)")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "AthleteProfile":
        d = d or {}
        return cls(**{k: d.get(k) for k in _SETTABLE})

    def updated(self, **changes: Any) -> "AthleteProfile":
        """A copy with the given (non-``None``) values replaced."""
        unknown = set(changes) - set(_SETTABLE)
        if unknown:
            raise KeyError(f"unknown profile fields {sorted(unknown)}")
        return AthleteProfile(**(self.as_dict() | {k: v for k, v in changes.items() if v is not None}))


@dataclass(frozen=True)
class ResolvedProfile:
    """Every value a feature may need, with the notes saying which defaults were used."""

    height_m: float
    leg_length_m: float
    mass_kg: float | None
    age_years: float | None
    driving_side: DrivingSide
    road_side: RoadSide
    hr_max_bpm: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The road side follows from values the athlete set (not from a default): camber exposure from
    # it is observed evidence, from a default only an assumption.
    road_side_declared: bool = False

    @property
    def low_side_foot(self) -> Literal["left", "right"] | None:
        """The foot on the low side of a crowned road, from habit and driving side (evidence.md 5.6);
        ``None`` for a runner who declared no one side ("mixed").

        Facing traffic in a right-driving country puts the runner on the road's left
        edge, whose crossfall runs down to the runner's left: the left foot is low.
        Either switch (left-hand traffic, or running with traffic) flips the side.  A side
        declared directly ("left"/"right", the edge the runner keeps to) is the low foot's side.
        """
        if self.road_side in ("left", "right"):
            return self.road_side
        if self.road_side == "mixed":
            return None
        left = (self.driving_side == "right") == (self.road_side == "facing")
        return "left" if left else "right"

    @property
    def road_side_source(self) -> str:
        """Where the road side comes from, as the feature record states it: declared or assumed."""
        if self.road_side_declared:
            return "declared habit"
        traffic = "facing traffic" if self.road_side == "facing" else "with traffic"
        return f"assumed: {traffic} where traffic drives on the {self.driving_side} (not declared in the profile)"


def resolve(profile: AthleteProfile | None, *, on: dt.date | None = None,
            hr_max_from_data: float | None = None) -> ResolvedProfile:
    """Fill the gaps of ``profile`` with documented defaults and note each one used.

    ``hr_max_from_data`` is the athlete's highest sustained heart rate over all runs
    (see :func:`gaitrisk.features.intensity.rolling_max_hr`, maximised over runs in :mod:`.compute`); it is preferred to the
    age formula because it is the athlete's own.
    """
    p = profile or AthleteProfile()
    notes: list[str] = []
    height = p.height_m
    if height is None:
        height = DEFAULT_HEIGHT_M
        notes.append(f"height_m: default {DEFAULT_HEIGHT_M} m (not set)")
    leg = p.leg_length_m
    if leg is None:
        leg = LEG_LENGTH_PER_HEIGHT * height
        notes.append(f"leg_length_m: default {LEG_LENGTH_PER_HEIGHT} x height = {leg:.3f} m")
    age = None
    if p.birth_year is not None:
        age = float((on or dt.date.today()).year - p.birth_year)
    driving = p.driving_side
    if driving is None:
        driving = DEFAULT_DRIVING_SIDE
        notes.append(f"driving_side: default {DEFAULT_DRIVING_SIDE}")
    road = p.road_side
    # "left"/"right"/"mixed" name the side itself; facing/with traffic needs the driving side as well.
    declared = road in ("left", "right", "mixed") or (road is not None and p.driving_side is not None)
    if road is None:
        road = DEFAULT_ROAD_SIDE
        notes.append("road_side: default facing traffic")
    hr_max = p.hr_max_bpm
    if hr_max is None and hr_max_from_data is not None:
        hr_max = hr_max_from_data
        notes.append(f"hr_max_bpm: estimated from the data ({hr_max:.0f}, highest sustained 30 s heart rate)")
    elif hr_max is None and age is not None:
        hr_max = HR_MAX_AGE_INTERCEPT - age
        notes.append(f"hr_max_bpm: default 220 - age = {hr_max:.0f}")
    elif hr_max is None:
        notes.append("hr_max_bpm: unknown (not set, not enough runs with heart rate to estimate it, "
                     "no birth year): no HR zones")
    if p.mass_kg is None:
        notes.append("mass_kg: not set (no mass-scaled features)")
    return ResolvedProfile(height_m=height, leg_length_m=leg, mass_kg=p.mass_kg, age_years=age,
                           driving_side=driving, road_side=road, hr_max_bpm=hr_max, notes=tuple(notes),
                           road_side_declared=declared)


def profile_fingerprint(profile: AthleteProfile) -> str:
    """A short hash of the stored profile: a changed profile makes stored records stale."""
    return hashlib.sha256(json.dumps(profile.as_dict(), sort_keys=True).encode()).hexdigest()[:12]
