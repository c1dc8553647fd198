"""Import with worker processes and with either decoder set stores the same activities."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.executor import PoolExecutor
from gaitrisk.ingest.decoders import DEFAULT, FAST, REFERENCE
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run

pytestmark = pytest.mark.slow

UTC = dt.timezone.utc


def _folder(tmp_path, real_data):
    runs = tmp_path / "runs"
    runs.mkdir()
    for i in range(4):
        (runs / f"run{i}.gpx").write_bytes(gpx_run(dt.datetime(2024, 3, 1 + i, 7, tzinfo=UTC), minutes=5))
    for name in ("fitparse__activity-small-fenix2-run.fit", "fitdecode__garmin-fr935-cr.fit"):
        shutil.copy(real_data / "fit" / name, runs)
    return runs


def _summary(store: Store) -> list[tuple]:
    return [(r.id, r.fmt, r.start_time, r.distance_m, r.duration_s, r.moving_time_s, r.avg_cadence_spm)
            for r in store.activities()]


def test_fast_decoders_are_the_default():
    assert DEFAULT is FAST and FAST.fit is not REFERENCE.fit and FAST.gpx is not REFERENCE.gpx


def test_pool_import_with_fast_decoders_matches_serial_reference(tmp_path, real_data):
    runs = _folder(tmp_path, real_data)
    with Store(tmp_path / "ref.db") as ref, Store(tmp_path / "fast.db") as fast:
        a = import_paths([str(runs)], ref, "ann", decoders=REFERENCE)
        pool = PoolExecutor(2)
        try:
            b = import_paths([str(runs)], fast, "ann", executor=pool)
        finally:
            pool.close()
        assert a.as_json() == b.as_json()
        assert _summary(ref) == _summary(fast)
        for rec in ref.activities():
            assert list(ref.samples(rec.id).columns) == list(fast.samples(rec.id).columns)


def test_cli_decoder_option_selects_the_reference(tmp_path, real_data):
    runs = _folder(tmp_path, real_data)
    out = {}
    for decoder in ("fitparse", "fast"):
        db = tmp_path / f"{decoder}.db"
        res = CliRunner().invoke(cli, ["--db", str(db), "import", str(runs), "--decoder", decoder, "--json",
                                       "--workers", "2"])
        assert res.exit_code == 0, res.output
        out[decoder] = json.loads(res.output[res.output.index("{"):])
        with Store(db) as st:
            out[decoder + "-acts"] = _summary(st)
    assert out["fitparse"] == out["fast"] and out["fitparse"]["imported"] >= 5
    assert out["fitparse-acts"] == out["fast-acts"]


def test_cli_rejects_an_unknown_decoder(tmp_path):
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "import", str(tmp_path), "--decoder", "nope"])
    assert res.exit_code != 0 and "nope" in res.output


class _Recording:
    """An executor that runs in-process and keeps the items it was given."""

    def __init__(self) -> None:
        self.items: list = []

    def map(self, fn, items):
        for item in items:
            self.items.append(item)
            yield fn(item)


def test_jobs_carry_the_work_estimate_the_executor_weighs(tmp_path, real_data):
    from gaitrisk.executor import work_of
    from gaitrisk.ingest.worker import estimated_work

    runs = _folder(tmp_path, real_data)
    for ship in ("bytes", "paths"):
        rec = _Recording()
        with Store(tmp_path / f"{ship}.db") as st:
            assert import_paths([str(runs)], st, "me", executor=rec, ship=ship).imported >= 5
        sizes = {p.name: p.stat().st_size for p in runs.iterdir()}
        assert sorted(j.name.rsplit("/", 1)[-1] for j in rec.items) == sorted(sizes)
        for job in rec.items:
            assert work_of(job) == job.work == estimated_work(job.fmt, sizes[job.name.rsplit("/", 1)[-1]]) > 0
        # the estimate grows with the file: a 220 kB FIT run weighs more than a 5-minute GPX
        by_name = {j.name.rsplit("/", 1)[-1]: j.work for j in rec.items}
        assert by_name["fitdecode__garmin-fr935-cr.fit"] > by_name["run0.gpx"]
