"""Where the feature records stand: which runs need theirs (re)computed, and what a computation did.

Light on purpose (no numpy or pandas): a nightly import that finds nothing new asks the
store for each record's version and profile fingerprint in one query and stops there, without
importing the feature code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

from ..records import Review
from . import FEATURE_VERSION
from .profile import AthleteProfile, profile_fingerprint

if TYPE_CHECKING:
    from ..store import Store

# The key under which a record keeps its run's first pass (what later runs' records need of it).
FIRST_PASS_KEY = "_first_pass"


@dataclass
class FeatureReport:
    computed: int = 0
    up_to_date: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    not_a_run: list[dict[str, str]] = field(default_factory=list)  # screened out by this computation

    def as_json(self) -> dict:
        return {"computed": self.computed, "up_to_date": self.up_to_date, "failed": self.failed,
                "not_a_run": self.not_a_run}


def is_stale(version: int | None, fingerprint: str | None, current: str) -> bool:
    """A stored record needs computing again: none, another version or another profile."""
    return version is None or version != FEATURE_VERSION or fingerprint != current


def stale_runs(store: Store, athlete: str, ids: Sequence[str], fingerprint: str, force: bool,
               reviews: Mapping[str, Review]) -> list[bool]:
    """Per run of ``ids``: whether its record needs computing (none, another version or profile,
    ``force``, or a run never screened)."""
    states = store.feature_states(athlete)
    return [force or is_stale(*states.get(i, (None, None)), fingerprint) or reviews.get(i, Review()).status is None
            for i in ids]


def kept_passes(store: Store, athlete: str, ids: Sequence[str], stale: Sequence[bool]) -> list[dict | None]:
    """The first pass each up-to-date record carries (``None`` where stale)."""
    passes = store.run_feature_values(athlete, (FIRST_PASS_KEY,))
    # SQLite's json_extract gives an object as its JSON text.
    return [None if s else _json(passes.get(i, {}).get(FIRST_PASS_KEY)) for i, s in zip(ids, stale)]


def _json(value: object) -> dict | None:
    return json.loads(value) if isinstance(value, str) else None


def stale_count(store: Store, athlete: str) -> int:
    """How many of ``athlete``'s runs need their record (re)computed: the length of a progress bar.

    Every run from the first stale one on: the up-to-date ones after it are computed again
    once it has a record (their history changed).
    """
    fp = profile_fingerprint(AthleteProfile.from_dict(store.profile(athlete)))
    ids = [r.id for r in store.activities(athlete)]   # oldest first
    stale = stale_runs(store, athlete, ids, fp, False, store.reviews(athlete))
    return len(stale) - stale.index(True) if True in stale else 0


def up_to_date(store: Store, athlete: str) -> int | None:
    """The number of ``athlete``'s runs when every one of them has an up-to-date record, else ``None``."""
    reviews = store.reviews(athlete)   # every activity of the athlete, without reading the activities
    if not reviews:
        return 0
    fp = profile_fingerprint(AthleteProfile.from_dict(store.profile(athlete)))
    return None if any(stale_runs(store, athlete, list(reviews), fp, False, reviews)) else len(reviews)
