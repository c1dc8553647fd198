"""The features' share of an import: each new run's pass made in the import's own task.

:func:`gaitrisk.ingest.pipeline.import_paths` runs a ``leg_hook`` on every run it decodes,
while the samples are in memory.  :class:`ImportPass` is that hook for the features: it
makes the run's :func:`.compute.run_pass` there, so that :func:`.compute.compute_and_store_features`
(given ``passes=report.leg_results``) neither reads those samples back from the store nor
ships them to a worker again -- on a cluster the samples cross the network once.

Light to import (no numpy or pandas until a worker calls it): ``gaitrisk import`` builds
one before it knows whether any file is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .profile import AthleteProfile, ResolvedProfile, profile_fingerprint, resolve

if TYPE_CHECKING:
    import pandas as pd

    from ..records import ActivityRecord
    from .compute import RunPass


@dataclass(frozen=True)
class ImportPass:
    """Picklable (it is shipped to the workers with each file); returns ``(profile fingerprint,
    pass)``, so that a pass made under another profile than the stored one is never used."""

    profile: ResolvedProfile
    fingerprint: str

    def __call__(self, rec: ActivityRecord, samples: pd.DataFrame) -> tuple[str, RunPass]:
        from .compute import run_pass

        return self.fingerprint, run_pass(rec, samples, self.profile)


def import_pass(store, athlete: str) -> ImportPass:
    """The :class:`ImportPass` for ``athlete``'s stored profile."""
    profile = AthleteProfile.from_dict(store.profile(athlete))
    return ImportPass(resolve(profile), profile_fingerprint(profile))
