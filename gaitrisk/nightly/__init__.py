"""The scheduled nightly run (``gaitrisk nightly``): inbox -> store -> model -> reports, resumable.

``inbox`` finds and moves the files, ``lock`` keeps one run per database, ``state``
remembers what was already done, ``analysis`` is the per-athlete work that may run in
other processes, ``retrain`` decides when the model is retrained, ``summary`` says what a run did,
and ``job`` puts the steps together (:func:`run_nightly`).
"""

from .job import run_nightly
from .lock import LockBusy, LockUnavailable
from .summary import AthleteSummary, NightlySummary

__all__ = ["AthleteSummary", "LockBusy", "LockUnavailable", "NightlySummary", "run_nightly"]
