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


def _full_and_truncated_fit(tmp_path, run):
    full = write_fit(run, tmp_path / "full.fit")
    data = full.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[:len(data) // 4])  # a copy interrupted a quarter of the way through
    return full, cut


def test_a_complete_copy_replaces_a_partial_one(tmp_path, synth_run):
    full, cut = _full_and_truncated_fit(tmp_path, synth_run)
    with Store(tmp_path / "g.db") as st:
        first = import_paths([str(cut)], st, "ann")
        [rec] = st.activities("ann")
        assert rec.partial and rec.distance_m < 1500
        compute_and_store_features(st, "ann")

        rep = import_paths([str(full)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 1)
        [after] = st.activities("ann")
        assert after.id == rec.id == first.outcomes[0].activity_ids[0]
        assert not after.partial
        assert after.distance_m == pytest.approx(4000.0, rel=0.02)
        assert set(after.sources) == {str(cut), str(full)}
        assert st.features(rec.id) is None  # computed again from the whole run


def test_a_partial_copy_never_shortens_a_complete_one(tmp_path, synth_run):
    full, cut = _full_and_truncated_fit(tmp_path, synth_run)
    with Store(tmp_path / "g.db") as st:
        import_paths([str(full)], st, "ann")
        [rec] = st.activities("ann")
        rep = import_paths([str(cut)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 0)
        [after] = st.activities("ann")
        assert not after.partial and after.distance_m == rec.distance_m
        assert st.samples(rec.id).shape == st.samples(after.id).shape
        assert set(after.sources) == {str(cut), str(full)}


def test_a_truncated_richer_file_does_not_replace_a_complete_poorer_one(tmp_path, synth_run):
    gpx = write_gpx(synth_run, tmp_path / "run.gpx")
    _, cut = _full_and_truncated_fit(tmp_path, synth_run)
    with Store(tmp_path / "g.db") as st:
        import_paths([str(gpx)], st, "ann")
        rep = import_paths([str(cut)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 0)
        [rec] = st.activities("ann")
        assert (rec.fmt, rec.partial) == ("gpx", False)
        assert rec.distance_m == pytest.approx(4000.0, rel=0.02)
