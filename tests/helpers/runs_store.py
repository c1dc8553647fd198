"""A store holding one short run a day (its distance given per day), optional features and pain."""

from __future__ import annotations

import datetime as dt

import numpy as np

from gaitrisk import schema as S
from gaitrisk.features import FEATURE_VERSION
from gaitrisk.ingest.frame import build_samples
from gaitrisk.records import ActivityRecord, PainEntry
from gaitrisk.store import SourceRef, Store

DAY0 = dt.date(2024, 1, 1)


def daily_runs_store(tmp_path, km_by_day: dict[int, float], features: dict | None = None, pain_days=()) -> Store:
    st = Store(tmp_path / "u.db")
    for day, km in sorted(km_by_day.items()):
        start = dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(7), tzinfo=dt.timezone.utc)
        ts = np.datetime64(start.replace(tzinfo=None), "ns") + np.arange(10).astype("timedelta64[s]")
        samples = build_samples(ts, {S.LAT: np.linspace(46, 46.001, 10), S.LON: np.full(10, 14.5),
                                     S.TIMER_SEGMENT: np.zeros(10, int)})
        rec = ActivityRecord(id=f"run{day}", athlete="ann", fmt="gpx", sport="running", sub_sport=None, device=None,
                             name=None, start_time=start, duration_s=km * 300, moving_time_s=km * 300,
                             distance_m=km * 1000.0, avg_cadence_spm=None, avg_stance_time_ms=None, partial=False,
                             sources=(f"run{day}.gpx",))
        st.add_activity(rec, samples, SourceRef(f"{day:064x}", 0, f"run{day}.gpx", "gpx", 1))
        if features is not None:
            st.save_features(rec.id, "ann", FEATURE_VERSION, {"activity_id": rec.id, "distance_m": km * 1000.0,
                                                              "moving_time_s": km * 300, **features})
    st.add_pain_entries([PainEntry("ann", dt.datetime.combine(DAY0 + dt.timedelta(days=d), dt.time(20),
                                                              tzinfo=dt.UTC), 1, "lateral_hip", "R", "after_run")
                         for d in pain_days])
    return st
