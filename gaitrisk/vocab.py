"""The fixed vocabularies of the pain log (Farrar 2001; Silbernagel 2007).

The regions are the ones this project cares about (Grimaldi 2015, Aderem 2015: lateral hip /
greater trochanter, groin, lateral knee / ITB, ...) plus the common neighbours a
runner confuses them with.  Codes are stored; labels are shown.  Input is accepted
as the code or the label in any case, with spaces, '/' or '-' for '_'
("Lateral knee/ITB" -> ``lateral_knee_itb``).
"""

from __future__ import annotations

import re

REGIONS: dict[str, str] = {
    "lateral_hip": "lateral hip",
    "groin_front_hip": "groin/front hip",
    "buttock": "pelvis/buttock",   # pelvis and buttock: one bone-stress site for see_a_clinician
    "lateral_knee_itb": "lateral knee/ITB",
    "knee_front": "knee front",
    "shin": "shin",
    "foot": "foot",
    "lower_back": "lower back",
    "other": "other",
}

SIDES: dict[str, str] = {"L": "left", "R": "right", "both": "both"}

# When it hurts.  Next-morning and rest/night pain carry the most weight in the
# pain-monitoring model (Silbernagel 2007) and in the bone red flags (evidence table: clinician_rest_night_pain).
WHENS: dict[str, str] = {
    "during_run": "during run",
    "after_run": "after run",
    "next_morning": "next morning",
    "at_rest": "at rest",
    "at_night": "at night",
}

# How it behaves during a run ("pain worsening run to run / during a run" is a bone-stress
# warning sign, evidence table: clinician_worsening_runs; pain that warms up is the typical tendon pattern).
BEHAVIOURS: dict[str, str] = {"warms_up": "warms up", "constant": "constant", "worsens": "worsens"}

SCORE_MIN, SCORE_MAX = 0, 10  # 11-point NRS (Farrar 2001)

_SIDE_ALIASES = {"l": "L", "left": "L", "r": "R", "right": "R", "both": "both", "b": "both", "lr": "both"}


def _key(text: str) -> str:
    return re.sub(r"[\s/\-]+", "_", text.strip().lower())


def _lookup(vocab: dict[str, str], text: str, what: str) -> str:
    key = _key(text)
    for code, label in vocab.items():
        if key in (code.lower(), _key(label)):
            return code
    raise ValueError(f"{what} {text.strip()!r} is not one of: {', '.join(vocab)}")


def region(text: str) -> str:
    return _lookup(REGIONS, text, "region")


def side(text: str) -> str:
    code = _SIDE_ALIASES.get(text.strip().lower())
    if code is None:
        raise ValueError(f"side {text.strip()!r} is not one of: L, R, both")
    return code


def when(text: str) -> str:
    return _lookup(WHENS, text, "when")


def behaviour(text: str) -> str:
    return _lookup(BEHAVIOURS, text, "behaviour")


def score(text: str | int) -> int:
    s = str(text).strip()
    if not re.fullmatch(r"\d{1,2}", s) or not SCORE_MIN <= int(s) <= SCORE_MAX:
        raise ValueError(f"score {s!r} is not a whole number from {SCORE_MIN} to {SCORE_MAX}")
    return int(s)
