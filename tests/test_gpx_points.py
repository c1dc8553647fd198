"""GPX points without a position, and heart rate and cadence in Cluetrust and GPX 1.0 extensions.

Both readers (gpxpy's and the fast one) must read each file alike.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest

from gaitrisk import schema as S
from gaitrisk.ingest.xml.gpx_fast import decode_gpx_fast
from gaitrisk.ingest.xml.gpx import decode_gpx
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store
from gaitrisk.synth import RunSpec, generate_run
from gaitrisk.synth.writers import write_gpx

from .helpers.compare import assert_same_result

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def run():
    return generate_run(RunSpec(seed=4, start_time=dt.datetime(2024, 5, 3, 7, tzinfo=UTC), distance_m=1500.0))


@pytest.mark.parametrize("decode", [decode_gpx, decode_gpx_fast], ids=["gpxpy", "fast"])
def test_points_without_a_position_are_skipped_and_reported(tmp_path, run, decode, caplog):
    path = write_gpx(run, tmp_path / "nofix.gpx", positionless=(0, 1, 2, 200))
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.xml.gpx_fast"):
        res = decode(path.read_bytes(), "nofix.gpx")
    assert "fell back" not in caplog.text
    assert res.error is None and "4 points without a position skipped" in res.problems
    samples = res.activities[0].samples
    assert len(samples) == len(run.samples) - 4
    assert samples[S.TIMESTAMP].iloc[0] == run.samples[S.TIMESTAMP].iloc[3]
    assert np.isfinite(samples[S.LAT]).all()


def test_both_readers_agree_on_points_without_a_position(tmp_path, run):
    data = write_gpx(run, tmp_path / "nofix.gpx", positionless=(5, 6)).read_bytes()
    assert_same_result(decode_gpx(data, "nofix.gpx"), decode_gpx_fast(data, "nofix.gpx"))


def test_a_file_of_positionless_points_only_is_skipped_not_failed(tmp_path, run):
    data = write_gpx(run, tmp_path / "nofix.gpx", positionless=range(len(run.samples))).read_bytes()
    for decode in (decode_gpx, decode_gpx_fast):
        res = decode(data, "nofix.gpx")
        assert res.error is None and res.skipped_reason and not res.activities


@pytest.mark.parametrize("flavour", ["gpx10", "cluetrust"])
@pytest.mark.parametrize("decode", [decode_gpx, decode_gpx_fast], ids=["gpxpy", "fast"])
def test_heart_rate_and_cadence_are_read_from_the_extensions(tmp_path, run, flavour, decode):
    res = decode(write_gpx(run, tmp_path / f"{flavour}.gpx", flavour=flavour).read_bytes(), f"{flavour}.gpx")
    samples = res.activities[0].samples
    assert np.array_equal(samples[S.HEART_RATE].to_numpy(), run.samples[S.HEART_RATE].to_numpy())
    # cadence written per foot and rounded: within a step per minute of the run's
    assert np.nanmax(np.abs(samples[S.CADENCE].to_numpy() - run.samples[S.CADENCE].to_numpy())) <= 1.0


@pytest.mark.parametrize("flavour", ["gpx10", "cluetrust"])
def test_both_readers_agree_on_the_extensions(tmp_path, run, flavour, caplog):
    data = write_gpx(run, tmp_path / f"{flavour}.gpx", flavour=flavour).read_bytes()
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.xml.gpx_fast"):
        fast = decode_gpx_fast(data, f"{flavour}.gpx")
    assert "fell back" not in caplog.text
    assert_same_result(decode_gpx(data, f"{flavour}.gpx"), fast)


def test_import_of_a_file_with_a_positionless_point_stores_the_run(tmp_path, run):
    path = write_gpx(run, tmp_path / "nofix.gpx", positionless=(0,))
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(path)], st, "ann")
    assert rep.imported == 1 and not rep.failed
    assert "1 point without a position skipped" in rep.outcomes[0].problems
