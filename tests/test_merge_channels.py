"""Two devices' files of one run: the copy kept is chosen by the channels each recorded, and it
gains what only the other recorded where their samples align in time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.ingest import merge
from gaitrisk.ingest.pipeline import better_copy, import_paths
from gaitrisk.store import Store, codec
from gaitrisk.synth import RunSpec, generate_run, write_fit, write_gpx

pytestmark = pytest.mark.slow

UTC = dt.timezone.utc
DYNAMICS = (S.STANCE_TIME, S.STANCE_BALANCE, S.VERTICAL_OSCILLATION, S.VERTICAL_RATIO, S.STEP_LENGTH)


@pytest.fixture(scope="module")
def run():
    return generate_run(RunSpec(seed=11, distance_m=3000.0, start_time=dt.datetime(2024, 5, 2, 6, 0, tzinfo=UTC)))


def _other_device(run, without: tuple[str, ...], serial_offset: int):
    """The same run as another watch recorded it: another serial number, ``without`` those channels."""
    samples = run.samples.copy()
    for col in without:
        samples[col] = np.nan
    return dataclasses.replace(run, spec=dataclasses.replace(run.spec, seed=run.spec.seed + serial_offset),
                               samples=samples)


@pytest.fixture()
def fit_pair(tmp_path, run):
    """(FIT without stance time, FIT with it): two devices' files of one run."""
    plain = write_fit(_other_device(run, DYNAMICS, 1), tmp_path / "watch.fit")
    pod = write_fit(_other_device(run, (), 2), tmp_path / "pod.fit")
    assert plain.read_bytes() != pod.read_bytes()
    return plain, pod


@pytest.fixture()
def gpx_and_fit_without_hr(tmp_path, run):
    gpx = write_gpx(run, tmp_path / "strava.gpx")
    fit = write_fit(_other_device(run, (S.HEART_RATE,), 3), tmp_path / "noHR.fit")
    return gpx, fit


def _import_in_order(db, paths):
    with Store(db) as st:
        reports = [import_paths([str(p)], st, "ann") for p in paths]
        [rec] = st.activities("ann")
        return reports, rec, st.samples(rec.id)


def test_a_copy_with_stance_time_provides_the_run_over_one_without(tmp_path, fit_pair):
    plain, pod = fit_pair
    with Store(tmp_path / "g.db") as st:
        import_paths([str(plain)], st, "ann")
        rep = import_paths([str(pod)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 1)
        [rec] = st.activities("ann")
        samples = st.samples(rec.id)
        assert samples[S.STANCE_TIME].notna().all()
        assert rec.avg_stance_time_ms == pytest.approx(250.0, abs=3.0)
        assert set(rec.sources) == {str(plain), str(pod)}
        compute_and_store_features(st, "ann")
        assert st.features(rec.id)[1]["gct_source"] == "measured"


def test_a_copy_without_stance_time_leaves_the_stored_one_as_it_is(tmp_path, fit_pair):
    plain, pod = fit_pair
    with Store(tmp_path / "g.db") as st:
        import_paths([str(pod)], st, "ann")
        [before] = st.activities("ann")
        blob = st.samples_blob(before.id)
        rep = import_paths([str(plain)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 0)
        [rec] = st.activities("ann")
        assert st.samples_blob(rec.id) == blob  # nothing to gain from it: the samples are untouched
        assert set(rec.sources) == {str(plain), str(pod)}
        compute_and_store_features(st, "ann")
        assert st.features(rec.id)[1]["gct_source"] == "measured"


@pytest.mark.parametrize("fit_first", [False, True], ids=["gpx-first", "fit-first"])
def test_the_fit_is_kept_and_gains_the_gpx_heart_rate(tmp_path, run, gpx_and_fit_without_hr, fit_first):
    gpx, fit = gpx_and_fit_without_hr
    order = (fit, gpx) if fit_first else (gpx, fit)
    (_, rep), rec, samples = _import_in_order(tmp_path / "g.db", order)
    assert rep.duplicates == 1 and rec.fmt == "fit"
    assert S.STANCE_TIME in samples and S.HEART_RATE in samples
    # Every sample of this run has a GPX point at the same second: each gains that point's value.
    hr = samples.set_index(S.TIMESTAMP)[S.HEART_RATE]
    truth = run.samples.set_index(S.TIMESTAMP)[S.HEART_RATE].astype(int).astype(float)
    pd.testing.assert_series_equal(hr, truth.reindex(hr.index), check_names=False)
    assert any(p.startswith(S.HEART_RATE) and str(gpx) in p for p in rec.problems)


def test_both_orders_store_the_same_channels_and_values(tmp_path, gpx_and_fit_without_hr):
    gpx, fit = gpx_and_fit_without_hr
    _, a, first = _import_in_order(tmp_path / "a.db", (gpx, fit))
    _, b, second = _import_in_order(tmp_path / "b.db", (fit, gpx))
    assert S.HEART_RATE in first and S.STANCE_TIME in first
    assert list(first.columns) == list(second.columns)
    pd.testing.assert_frame_equal(first, second)
    assert (a.avg_cadence_spm, a.avg_stance_time_ms, a.distance_m) == (b.avg_cadence_spm, b.avg_stance_time_ms,
                                                                       b.distance_m)


def test_the_channels_taken_from_a_file_are_named_with_it(tmp_path, gpx_and_fit_without_hr):
    gpx, fit = gpx_and_fit_without_hr
    _, rec, _ = _import_in_order(tmp_path / "g.db", (fit, gpx))
    [note] = [p for p in rec.problems if "where its samples align" in p]
    assert note.startswith(S.HEART_RATE) and str(gpx) in note


def test_filling_the_stored_copy_drops_its_feature_record(tmp_path, gpx_and_fit_without_hr):
    gpx, fit = gpx_and_fit_without_hr
    with Store(tmp_path / "g.db") as st:
        import_paths([str(fit)], st, "ann")
        compute_and_store_features(st, "ann")
        [rec] = st.activities("ann")
        assert st.features(rec.id)[1]["hr_avg_bpm"] is None
        rep = import_paths([str(gpx)], st, "ann")
        assert (rep.duplicates, rep.replaced) == (1, 0)  # the FIT still provides the run
        assert st.features(rec.id) is None  # made from the samples before they gained heart rate
        compute_and_store_features(st, "ann")
        assert st.features(rec.id)[1]["hr_avg_bpm"] == pytest.approx(148.0, abs=2.0)
        [after] = st.activities("ann")
        assert (after.id, after.fmt, after.start_time) == (rec.id, rec.fmt, rec.start_time)


def test_a_third_copy_with_nothing_new_only_adds_its_source(tmp_path, run, gpx_and_fit_without_hr):
    gpx, fit = gpx_and_fit_without_hr
    third = write_fit(_other_device(run, (S.HEART_RATE,), 4), tmp_path / "again.fit")
    with Store(tmp_path / "g.db") as st:
        import_paths([str(gpx), str(fit)], st, "ann")
        [rec] = st.activities("ann")
        blob = st.samples_blob(rec.id)
        rep = import_paths([str(third)], st, "ann")
        assert (rep.duplicates, rep.replaced) == (1, 0)
        assert st.samples_blob(rec.id) == blob
        [after] = st.activities("ann")
        assert len(after.sources) == 3 and after.problems == rec.problems


def test_stored_samples_that_cannot_be_read_give_way_to_a_readable_copy(tmp_path, fit_pair):
    plain, pod = fit_pair
    with Store(tmp_path / "g.db") as st:
        import_paths([str(plain)], st, "ann")
        [rec] = st.activities("ann")
        with st.transaction() as c:
            c.execute("UPDATE samples SET blob=? WHERE activity_id=?", (b"GRZC\xff\xff\xff\xff", rec.id))
        rep = import_paths([str(pod)], st, "ann")
        assert (rep.duplicates, rep.replaced, rep.failed) == (1, 1, [])
        assert S.STANCE_TIME in st.samples(rec.id)


# --- the pure parts ---------------------------------------------------------------------------

def _frame(seconds, **cols) -> pd.DataFrame:
    t0 = pd.Timestamp("2024-05-02T06:00:00Z")
    el = np.asarray(seconds, dtype=float)
    data = {S.TIMESTAMP: t0 + pd.to_timedelta(el, unit="s"), S.ELAPSED: el}
    data.update({k: np.asarray(v, dtype=float) for k, v in cols.items()})
    data[S.TIMER_SEGMENT] = np.zeros(len(el), dtype=np.int64)
    return pd.DataFrame({c.name: data[c.name] for c in S.SAMPLE_COLUMNS if c.name in data})


def test_fill_takes_the_nearest_sample_within_half_the_coarser_interval():
    chosen = _frame([0, 4, 8, 12, 16], **{S.CADENCE: [170] * 5})  # every 4 s: samples within 2 s align
    other = _frame([0.5, 1.5, 2.5, 5.9, 10.1, 14.2, 15.0, 16.0, 17.0],
                   **{S.HEART_RATE: np.arange(100.0, 109.0), S.CADENCE: np.ones(9)})
    assert merge.align_tolerance_s(chosen, other) == 2.0
    filled = merge.fill(chosen, other)
    assert filled.channels == (S.HEART_RATE,)
    # 4 s: 2.5 is nearer than 5.9; 8 s: 5.9 and 10.1 are both 2.1 s away; 12 s: 10.1 is nearer than 14.2.
    np.testing.assert_array_equal(filled.samples[S.HEART_RATE].to_numpy(), [100, 102, np.nan, 104, 107])
    pd.testing.assert_series_equal(filled.samples[S.CADENCE], chosen[S.CADENCE])  # its own values stay


def test_fill_leaves_out_a_channel_no_sample_aligns_for():
    chosen = _frame(np.arange(0.0, 100.0, 10.0), **{S.CADENCE: np.full(10, 170.0)})
    other = _frame(np.arange(5.0, 105.0, 10.0), **{S.HEART_RATE: np.full(10, 140.0)})  # always 5 s apart
    filled = merge.fill(chosen, other)
    assert filled.channels == () and S.HEART_RATE not in filled.samples


def test_the_alignment_never_reaches_past_two_seconds():
    chosen = _frame([0.0, 60.0], **{S.CADENCE: [170, 170]})
    other = _frame([2.5, 62.0], **{S.HEART_RATE: [120, 130]})
    assert merge.align_tolerance_s(chosen, other) == merge.MAX_ALIGN_S
    np.testing.assert_array_equal(merge.fill(chosen, other).samples[S.HEART_RATE].to_numpy(), [np.nan, 130.0])


def _rec(fmt: str, duration_s: float = 1800.0, partial: bool = False):
    from gaitrisk.records import ActivityRecord

    return ActivityRecord(id="x", athlete="ann", fmt=fmt, sport="running", sub_sport=None, device=None, name=None,
                          start_time=dt.datetime(2024, 5, 2, 6, tzinfo=UTC), duration_s=duration_s,
                          moving_time_s=duration_s, distance_m=None, avg_cadence_spm=None, avg_stance_time_ms=None,
                          partial=partial, sources=())


BASE = frozenset({S.LAT, S.LON, S.DISTANCE, S.SPEED, S.CADENCE})


def test_channels_decide_before_the_format():
    with_stance = BASE | {S.STANCE_TIME}
    assert better_copy(_rec("gpx"), _rec("fit"), with_stance, BASE)  # a strict superset wins
    assert not better_copy(_rec("fit"), _rec("gpx"), BASE, with_stance)
    # Neither holds the other's: more of the feature channels wins (stance and oscillation over heart rate).
    assert better_copy(_rec("tcx"), _rec("fit"), BASE | {S.STANCE_TIME, S.VERTICAL_OSCILLATION}, BASE | {S.HEART_RATE})
    # Speed is no feature channel: the format decides between these two.
    assert not better_copy(_rec("tcx"), _rec("fit"), BASE - {S.SPEED} | {S.HEART_RATE}, BASE | {S.POWER})
    assert better_copy(_rec("fit"), _rec("tcx"), BASE | {S.POWER}, BASE - {S.SPEED} | {S.HEART_RATE})


def test_cover_still_decides_before_the_channels():
    rich = BASE | {S.STANCE_TIME, S.HEART_RATE}
    assert not better_copy(_rec("fit", 600.0, partial=True), _rec("gpx"), rich, BASE)
    assert better_copy(_rec("gpx"), _rec("fit", 600.0, partial=True), BASE, rich)
    # At about the same cover the channels decide, then the complete copy.
    assert better_copy(_rec("fit", 1790.0, partial=True), _rec("fit"), rich, BASE)
    assert better_copy(_rec("fit"), _rec("fit", 1790.0, partial=True), BASE, BASE)


def test_column_names_are_read_from_the_header(run):
    enc = codec.encoded(run.samples)
    assert codec.column_names(enc.blob, enc.format) == tuple(codec.decode(enc.blob).columns)


def test_of_three_gpx_copies_of_one_run_the_one_with_elevations_is_kept(tmp_path, real_data):
    # gpxpy's three copies of one ride: elevations all 0 (a placeholder), none, and real ones.
    names = ["with-elevations-zero", "without-elevations", ""]
    paths = [real_data / "gpx" / f"gpxpy__cerknicko-jezero{'-' + n if n else ''}.gpx" for n in names]
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(p) for p in paths], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (1, 2, 1)
        [rec] = st.activities("ann")
        assert st.samples(rec.id)[S.ALTITUDE].notna().any()
        assert set(rec.sources) == {str(p) for p in paths}
