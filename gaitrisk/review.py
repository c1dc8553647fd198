"""Whether a stored activity counts as a run: the screening's verdict and the user's word.

An activity counts -- in baselines, thresholds and load -- unless it was screened as
"not a run?" and not confirmed since, or the user excluded it, or its sport is not
running.  The user's word (``included``, ``excluded``) is never overturned by a later
screening; the screening's own verdicts (``run``, ``not_a_run``) are redone whenever
the run's features are computed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .ingest.sports import is_running

SCREENED_RUN = "run"
NOT_A_RUN = "not_a_run"
INCLUDED = "included"
EXCLUDED = "excluded"
# Statuses the screening may set and replace; None = not screened yet.
AUTOMATIC = (None, SCREENED_RUN, NOT_A_RUN)
STATUSES = (SCREENED_RUN, NOT_A_RUN, INCLUDED, EXCLUDED)
LABELS = {None: "", SCREENED_RUN: "", NOT_A_RUN: "not a run?", INCLUDED: "included", EXCLUDED: "excluded"}


@dataclass(frozen=True)
class Review:
    """An activity's status (one of :data:`STATUSES`, ``None`` = not screened) and why."""

    status: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"unknown review status {self.status!r}")

    @property
    def label(self) -> str:
        return LABELS[self.status]


def counts(review: Review | None, sport: str | None) -> bool:
    """True when the activity enters baselines, thresholds and load."""
    status = review.status if review is not None else None
    return status not in (NOT_A_RUN, EXCLUDED) and is_running(sport)


def counted(records: Iterable, reviews: dict[str, Review]) -> list:
    """The records (``ActivityRecord``) that count, in their order."""
    return [r for r in records if counts(reviews.get(r.id), r.sport)]
