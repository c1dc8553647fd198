"""Per-run features: gait, terrain, camber proxies, intensity and surface.

Pure functions over numpy/pandas, one job per module:

* :mod:`.profile`   the athlete profile and the defaults used when a value is missing
* :mod:`.clean`     pauses, stops and GPS spikes removed; steady-state windows
* :mod:`.terrain`   robust grade, gain/loss, grade bins, downhill exposure, GAP
* :mod:`.gait`      cadence, step length, GCT (measured or Hoyt-estimated), residuals, drift
* :mod:`.camber`    track direction, road-side exposure, out-and-back pairing
* :mod:`.intensity` heart-rate zones, speed work, long-run marker, surface class
* :mod:`.record`    the per-run feature record (the JSON contract)
* :mod:`.compute`   compute every run's record and store it (recomputed on a version change)
* :mod:`.status`    which records are stale, from the store alone (no numpy), and the computation's report
* :mod:`.handoff`   the run pass made in the import's own task (``import_paths(leg_hook=...)``)
* :mod:`.kept`      a run pass as kept until the records are finished (pickled, compressed)

Formulas, sources and tolerances: ``docs/features.md`` and the evidence base
(``../shared/docs/evidence.md``) sections cited in each docstring.
"""

from __future__ import annotations

# Bump whenever a formula or a threshold changes: stored records of an older
# version are recomputed by ``compute_and_store_features``.
FEATURE_VERSION = 7
