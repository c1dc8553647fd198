"""Which sports count as running.  One place, so every format agrees."""

from __future__ import annotations

# FIT sport enum names, TCX Sport attribute values (lower-cased), GPX <type> values
# seen in Garmin/Strava exports, and Strava's numeric activity-type code for "Run" (9).
_RUNNING = {"running", "run", "trail_running", "trail run", "treadmill", "virtual_run", "9"}
# Readers that cannot tell the sport (GPX without <type>, a FIT file cut before its
# session message) say "unknown"; the user imported it, so it is kept.
_UNKNOWN = {"unknown", "", "none", "generic"}


def normalise_sport(value: str | None) -> str:
    v = (value or "").strip().lower()
    if v in _UNKNOWN:
        return "unknown"
    if v in _RUNNING:
        return "running"
    return v


# Sport names that also say the surface: Strava's "Trail Run", GPX <type>trail_running</type>.
_SURFACE = {"trail run": "trail", "trail_running": "trail", "trailrun": "trail", "treadmill": "treadmill",
            "treadmill_running": "treadmill", "virtual_run": "treadmill"}


def sub_sport_of(value: str | None) -> str | None:
    """The surface a sport name implies ("Trail Run" -> "trail"), as the FIT sub-sport says it."""
    return _SURFACE.get((value or "").strip().lower())


def is_running(value: str | None) -> bool:
    """True for running or an unknown sport (kept rather than silently dropped)."""
    return normalise_sport(value) in {"running", "unknown"}
