"""Values for people: rounded, with units, and labels instead of codes.

Human text goes through these; JSON keeps the codes and full precision.
"""

from __future__ import annotations

import re
from typing import Any

# Device strings the readers store as "<manufacturer> <product number>" when the FIT profile they
# read with does not know the product.
_CODED_DEVICE = re.compile(r"^([a-z][a-z0-9_]*) (\d+)$")
_PRODUCT_WORD = re.compile(r"^([a-z][a-z0-9_]*) (\S.*)$")


def duration(seconds: float | None) -> str:
    """``h:mm:ss`` (``m:ss`` under an hour); "-" for none."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def pace(seconds_per_km: float | None) -> str:
    """``m:ss /km``; "-" for none."""
    if seconds_per_km is None or not seconds_per_km > 0:
        return "-"
    s = int(round(seconds_per_km))
    return f"{s // 60}:{s % 60:02d} /km"


def _manufacturer(code: str) -> str:
    return code.replace("_", " ").title()


def _garmin_product(number: int) -> str | None:
    """The product name the FIT profile of fitparse gives a Garmin product number, if it knows it."""
    try:
        from fitparse.profile import FIELD_TYPES
    except ImportError:  # pragma: no cover - fitparse is a dependency
        return None
    return FIELD_TYPES["garmin_product"].values.get(number)


def device_label(device: str | None) -> str:
    """"garmin 2158" -> "Garmin (product 2158)" (or its name when the FIT profile knows it),
    "nielsen_kellerman 0" -> "Nielsen Kellerman (product 0)", "garmin fenix2" -> "Garmin fenix2";
    a creator string from a GPX or TCX file stays as it is."""
    if not device:
        return "-"
    if m := _CODED_DEVICE.match(device):
        maker, number = m.group(1), int(m.group(2))
        name = _garmin_product(number) if maker == "garmin" else None
        return f"{_manufacturer(maker)} {name}" if name else f"{_manufacturer(maker)} (product {number})"
    if m := _PRODUCT_WORD.match(device):
        return f"{_manufacturer(m.group(1))} {m.group(2)}"
    return device


def quantity(key: str, value: Any) -> str:
    """A value named by its key's unit suffix (``_m``, ``_s``, ``_mps``, ``_spm``...) in a person's units."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if key.endswith("_mps"):
        return f"{pace(1000.0 / value) if value > 0 else '-'} ({value * 3.6:.1f} km/h)"
    if key.endswith("_m"):
        return f"{value / 1000:.2f} km" if "distance" in key else f"{value:.0f} m"
    if key.endswith("_s"):
        return duration(value)
    for suffix, unit, spec in (("_spm", "spm", ".0f"), ("_bpm", "bpm", ".0f"), ("_ms", "ms", ".0f"),
                               ("_mm", "mm", ".1f"), ("_pct", "%", ".1f")):
        if key.endswith(suffix):
            return f"{value:{spec}} {unit}"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def label(key: str) -> str:
    """``avg_cadence_spm`` -> "avg cadence": the key without its unit suffix, in words."""
    for suffix in ("_mps", "_spm", "_bpm", "_ms", "_mm", "_pct", "_m", "_s"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
            break
    return key.replace("_", " ")
