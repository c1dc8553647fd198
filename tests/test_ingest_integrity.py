"""Nothing lost, nothing mixed up: a richer or more complete copy of a run takes over its data
(and its feature record goes with the data it was computed from); impossible and spiking
positions stay out of a run's totals."""

from __future__ import annotations

import datetime as dt

import pytest

from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store
from gaitrisk.synth import RunSpec, generate_run, write_fit, write_gpx

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def synth_run():
    return generate_run(RunSpec(seed=7, distance_m=4000.0, start_time=dt.datetime(2024, 4, 1, 6, 30, tzinfo=UTC)))


def test_richer_file_replacing_the_samples_drops_the_old_feature_record(tmp_path, synth_run):
    gpx = write_gpx(synth_run, tmp_path / "run.gpx")
    fit = write_fit(synth_run, tmp_path / "run.fit")
    with Store(tmp_path / "g.db") as st:
        import_paths([str(gpx)], st, "ann")
        compute_and_store_features(st, "ann")
        [rec] = st.activities("ann")
        before = st.features(rec.id)[1]
        assert before["gct_source"] == "estimated" and before["gct_balance_pct"] is None

        rep = import_paths([str(fit)], st, "ann")
        assert rep.replaced == 1
        assert st.features(rec.id) is None  # gone with the samples it was computed from
        fr = compute_and_store_features(st, "ann")
        assert fr.computed == 1
        after = st.features(rec.id)[1]
        assert after["gct_source"] == "measured"
        assert after["gct_balance_pct"] == pytest.approx(50.0, abs=1.0)
