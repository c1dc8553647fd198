"""Whether a stored activity counts as a run: the screening's verdict and the user's word.

An activity counts -- in baselines, thresholds and load -- unless it was screened as
"not a run?" and not confirmed since, or the user excluded it, or its sport is not
running.  The user's word (``included``, ``excluded``) is never overturned by a later
screening; the screening's own verdicts (``run``, ``not_a_run``) are redone whenever
the run's features are computed again.
"""

from __future__ import annotations

from typing import Iterable

from .ingest.sports import is_running
from .records import EXCLUDED, NOT_A_RUN, Review


def counts(review: Review | None, sport: str | None) -> bool:
    """True when the activity enters baselines, thresholds and load."""
    status = review.status if review is not None else None
    return status not in (NOT_A_RUN, EXCLUDED) and is_running(sport)


def counted(records: Iterable, reviews: dict[str, Review]) -> list:
    """The records (``ActivityRecord``) that count, in their order."""
    return [r for r in records if counts(reviews.get(r.id), r.sport)]
