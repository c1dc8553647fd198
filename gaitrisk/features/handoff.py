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

from .kept import pack, unpack
from .profile import AthleteProfile, ResolvedProfile, profile_fingerprint, resolve

if TYPE_CHECKING:
    from ..store import Store
    import pandas as pd

    from ..records import ActivityRecord
    from .compute import RunPass


@dataclass(frozen=True)
class ImportPass:
    """Picklable (it is shipped to the workers with each file); returns ``(profile fingerprint,
    pickled pass)``, so that a pass made under another profile than the stored one is never used.

    Pickled and compressed here because the importing process keeps one per new run until the
    records are finished: a one-hour run's pass is ≈ 22 kB as objects, 7 kB pickled, 2.7 kB
    compressed (0.1 ms).  On a 2 GB export zip of 4,200 runs the importing process peaks at
    126 MB without the passes, 220 MB keeping them as objects, 200 MB as pickles.
    """

    profile: ResolvedProfile
    fingerprint: str

    def __call__(self, rec: ActivityRecord, samples: pd.DataFrame) -> tuple[str, bytes]:
        from .compute import run_pass  # numpy/pandas: only where a run is decoded

        return self.fingerprint, pack(run_pass(rec, samples, self.profile))


def loaded(kept: bytes) -> RunPass:
    """The pass :class:`ImportPass` returned, as kept (:func:`.kept.unpack`)."""
    return unpack(kept)


def import_pass(store: Store, athlete: str) -> ImportPass:
    """The :class:`ImportPass` for ``athlete``'s stored profile."""
    profile = AthleteProfile.from_dict(store.profile(athlete))
    return ImportPass(resolve(profile), profile_fingerprint(profile))
