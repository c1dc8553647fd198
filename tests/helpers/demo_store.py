"""The bundled demo season's first three weeks and their pain log in a store of their own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from .paths import FIXTURES

UTC = ZoneInfo("UTC")
ATHLETE = "demo"
LAST_DAY = dt.date(2024, 4, 19)   # the last run before the season's watch gap
FIRST_WEEKS = sorted(p for p in (FIXTURES / "runs").iterdir() if p.name[:10] <= LAST_DAY.isoformat())


def build_demo_store(folder: Path) -> Path:
    """Import the season's first three weeks and their pain log into ``folder/demo.db`` (as ``gaitrisk demo`` does)."""
    from gaitrisk.features.compute import compute_and_store_features
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.pain.csvio import read_pain_csv
    from gaitrisk.store import Store

    db = folder / "demo.db"
    with Store(db) as store:
        import_paths([str(p) for p in FIRST_WEEKS], store, ATHLETE)
        compute_and_store_features(store, ATHLETE)
        parsed = read_pain_csv((FIXTURES / "pain" / "demo_pain.csv").read_bytes(), ATHLETE, UTC)
        assert not parsed.fatal and not parsed.errors
        store.add_pain_entries([e for _, e in parsed.entries if e.time_utc.date() <= LAST_DAY])
    return db
