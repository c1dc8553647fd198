"""TCX files holding several activities, multisport sessions and cadence already in steps/min."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner

from gaitrisk import schema as S
from gaitrisk.cli.main import cli
from gaitrisk.ingest.frame import cadence_counts_steps, per_foot_to_spm
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.ingest.xml.tcx import decode_tcx
from gaitrisk.store import Store
from gaitrisk.synth import RunSpec, generate_run
from gaitrisk.synth.writers import write_tcx, write_tcx_activities

UTC = dt.timezone.utc


def _run(hour: int, seed: int = 1, **spec):
    return generate_run(RunSpec(seed=seed, start_time=dt.datetime(2024, 5, 2, hour, tzinfo=UTC),
                                distance_m=1500.0, **spec))


def test_three_activities_import_as_three_runs(tmp_path):
    path = write_tcx_activities([(_run(6), "Running"), (_run(12, seed=2), "Running"), (_run(18, seed=3), "Running")],
                                tmp_path / "three.tcx")
    res = decode_tcx(path.read_bytes(), "three.tcx")
    assert [a.leg_index for a in res.activities] == [0, 1, 2]
    out = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", str(path), "--athlete", "ann", "--json"])
    assert out.exit_code == 0, out.output
    assert "Traceback" not in out.output and json.loads(out.output)["imported"] == 3
    with Store(tmp_path / "g.db") as st:
        starts = sorted(a.start_time.hour for a in st.activities("ann"))
    assert starts == [6, 12, 18]


def test_a_one_activity_file_keeps_its_id(tmp_path):
    # Leg 0 for the only activity: the ids of files imported before stay what they were.
    res = decode_tcx(write_tcx(_run(6), tmp_path / "one.tcx").read_bytes(), "one.tcx")
    assert [a.leg_index for a in res.activities] == [0]


def test_multisport_session_imports_every_running_leg_and_says_what_it_skipped(tmp_path):
    legs = [(_run(6), "Running"), (_run(7, seed=2), "Biking"), (_run(8, seed=3), "Running")]
    path = write_tcx_activities(legs, tmp_path / "multi.tcx", multisport=True)
    res = decode_tcx(path.read_bytes(), "multi.tcx")
    assert res.error is None and res.skipped_reason is None
    assert [(a.leg_index, a.start_time.hour) for a in res.activities] == [(0, 6), (2, 8)]
    assert "activity 2 of 3 skipped: not a run (TCX Sport: Biking)" in res.problems
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(path)], st, "ann")
        assert rep.imported == 2 and not rep.failed
        assert sorted(a.start_time.hour for a in st.activities("ann")) == [6, 8]


def test_multisport_session_without_a_running_leg_is_skipped_with_its_sports(tmp_path):
    path = write_tcx_activities([(_run(6), "Biking"), (_run(7, seed=2), "Other")], tmp_path / "m.tcx",
                                multisport=True)
    res = decode_tcx(path.read_bytes(), "m.tcx")
    assert not res.activities and res.skipped_reason == "not a run (TCX Sport: biking, other)"


def test_run_cadence_already_in_steps_per_minute_is_not_doubled(tmp_path):
    # A slow run-walk whose export writes RunCadence in steps/min, median about 119.5: below a
    # fixed threshold of 120 it would be doubled to about 240 steps/min.
    run = _run(6, speed_mps=1.6, cadence_spm=119.5)
    res = decode_tcx(write_tcx(run, tmp_path / "spm.tcx", cadence_in_steps=True).read_bytes(), "spm.tcx")
    cad = res.activities[0].samples[S.CADENCE].to_numpy()
    assert abs(np.nanmedian(cad) - np.nanmedian(run.samples[S.CADENCE])) <= 1.0


def test_per_foot_run_cadence_is_still_doubled(tmp_path):
    run = _run(6, speed_mps=1.6, cadence_spm=119.5)  # the same run written per foot, as Garmin does
    res = decode_tcx(write_tcx(run, tmp_path / "foot.tcx").read_bytes(), "foot.tcx")
    cad = res.activities[0].samples[S.CADENCE].to_numpy()
    assert abs(np.nanmedian(cad) - np.nanmedian(run.samples[S.CADENCE])) <= 1.0


@pytest.mark.parametrize("channel, speed, steps", [
    (119.5, 1.6, True),   # steps/min at a run-walk: as strides the step would be 0.40 m
    (60.0, 1.4, False),   # strides/min of a walk: both readings are a human step, 0.70 m is the usual one
    (95.0, 4.0, False),   # strides/min of a runner: as steps the step would be 2.5 m
    (180.0, 3.5, True),   # steps/min of a runner
    (85.0, 3.0, False),   # strides/min of a runner
])
def test_the_unit_follows_from_the_step_length_the_speed_implies(channel, speed, steps):
    cad = np.full(60, channel)
    assert cadence_counts_steps(cad, np.full(60, speed)) is steps
    assert np.median(per_foot_to_spm(cad, speed_mps=np.full(60, speed))) == (channel if steps else 2 * channel)


def test_without_speed_the_median_decides():
    assert not cadence_counts_steps(np.full(60, 119.5)) and cadence_counts_steps(np.full(60, 170.0))
