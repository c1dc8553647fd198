"""The single source of truth for sample column names, units and dtypes.

Every reader produces a samples frame whose columns are a subset of
:data:`SAMPLE_COLUMNS`; every later stage (features, load, model, report)
reads columns by the constants defined here.  ``docs/nomenclature.md`` is
generated from this table (``python -m gaitrisk.schema``) and a test keeps the
two in step.

A column that a file does not carry is absent or all-NaN, never zero: zero is
a real value for speed or power and would silently bias every average.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    dtype: str
    description: str


TIMESTAMP = "timestamp"
ELAPSED = "elapsed_s"
LAT = "lat_deg"
LON = "lon_deg"
ALTITUDE = "altitude_m"
DISTANCE = "distance_m"
SPEED = "speed_mps"
HEART_RATE = "heart_rate_bpm"
CADENCE = "cadence_spm"
STANCE_TIME = "stance_time_ms"
STANCE_BALANCE = "stance_time_balance_pct"
VERTICAL_OSCILLATION = "vertical_oscillation_mm"
VERTICAL_RATIO = "vertical_ratio_pct"
STEP_LENGTH = "step_length_mm"
POWER = "power_w"
TIMER_SEGMENT = "timer_segment"

SAMPLE_COLUMNS: tuple[Column, ...] = (
    Column(TIMESTAMP, "UTC", "datetime64[ns, UTC]", "Sample time in UTC."),
    Column(ELAPSED, "s", "float64", "Seconds since the activity's first sample (wall clock, pauses included)."),
    Column(LAT, "degrees", "float64", "WGS84 latitude."),
    Column(LON, "degrees", "float64", "WGS84 longitude."),
    Column(ALTITUDE, "m", "float64", "Altitude; FIT enhanced/barometric altitude preferred over GPS altitude; "
           "FIT's raw 0 (−500 m, the device's \"no altitude\") is missing."),
    Column(DISTANCE, "m", "float64", "Cumulative distance as recorded by the device (GPX: computed from positions)."),
    Column(SPEED, "m/s", "float64", "Instantaneous speed; FIT enhanced_speed preferred."),
    Column(HEART_RATE, "1/min", "float64", "Heart rate in beats per minute."),
    Column(CADENCE, "steps/min", "float64",
           "Running cadence in steps (footfalls) per minute: files store strides/min per foot, "
           "converted as 2 x (cadence + fractional_cadence)."),
    Column(STANCE_TIME, "ms", "float64", "Ground-contact (stance) time as measured by a sensor."),
    Column(STANCE_BALANCE, "%", "float64", "Left foot's share of ground-contact time (50 = symmetric)."),
    Column(VERTICAL_OSCILLATION, "mm", "float64", "Vertical oscillation of the torso."),
    Column(VERTICAL_RATIO, "%", "float64", "Vertical oscillation / step length x 100."),
    Column(STEP_LENGTH, "mm", "float64", "One footfall to the next (Garmin calls it stride length)."),
    Column(POWER, "W", "float64", "Running power (FIT power or a developer field such as Stryd's)."),
    Column(TIMER_SEGMENT, "count", "int64",
           "Index of the timer-running segment; increments after every timer stop/start (pause)."),
)

COLUMNS_BY_NAME = {c.name: c for c in SAMPLE_COLUMNS}
FLOAT_COLUMNS = tuple(c.name for c in SAMPLE_COLUMNS if c.dtype == "float64")

# Source formats, richest first: between two copies of one run that their channels do not tell
# apart, the richer format is kept.
FORMAT_RICHNESS = {"fit": 3, "tcx": 2, "gpx": 1}

# The recorded channels the features are made of, by what each measures: between two copies of
# one run, the one recording more of these is kept (``ingest.pipeline.better_copy``) before the
# format decides.  Stance time, oscillation and balance are the gait the risk model reads and
# only a sensor measures them; cadence, heart rate and power set intensity and load; altitude
# the grade; positions the route and the distance where no device distance is recorded.
# Latitude and longitude count once (one is no use without the other).  Speed, distance, step
# length and vertical ratio are left out: they follow from the channels above (distance and speed
# from positions, step length from speed and cadence, vertical ratio from oscillation).
FEATURE_CHANNELS: dict[str, tuple[str, ...]] = {
    "stance time": (STANCE_TIME,),
    "vertical oscillation": (VERTICAL_OSCILLATION,),
    "stance time balance": (STANCE_BALANCE,),
    "cadence": (CADENCE,),
    "heart rate": (HEART_RATE,),
    "power": (POWER,),
    "altitude": (ALTITUDE,),
    "positions": (LAT, LON),
}
# Columns every samples frame has whatever the file recorded (the time axis and its bookkeeping):
# they are no channel of a copy, and filling one copy from another never takes them.
TIME_COLUMNS = (TIMESTAMP, ELAPSED, TIMER_SEGMENT)


def nomenclature_markdown() -> str:
    lines = [
        "# Nomenclature: sample columns",
        "",
        "Generated from `gaitrisk/schema.py` (`python -m gaitrisk.schema > docs/nomenclature.md`);"
        " that module is the single source of truth.",
        "Columns a file does not record are absent or NaN, never zero.",
        "",
        "| column | unit | dtype | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c.name}` | {c.unit} | {c.dtype} | {c.description} |" for c in SAMPLE_COLUMNS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(nomenclature_markdown())
