"""Synthetic runs with known truth, and writers that turn them into real FIT/GPX/TCX files.

Used to build the test fixtures (``scripts/make_fixtures.py``) and to test the
importers and feature extractors against values that are known exactly.
"""

from .runs import TRACK_LAP_M, RunSpec, SyntheticRun, generate_run
from .writers import lap_slices, write_fit, write_gpx, write_tcx

__all__ = [
    "TRACK_LAP_M",
    "RunSpec",
    "SyntheticRun",
    "generate_run",
    "lap_slices",
    "write_fit",
    "write_gpx",
    "write_tcx",
]
