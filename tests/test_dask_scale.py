"""Scale-out on Dask: a 2-worker LocalCluster imports a synthetic cohort exactly as the serial run.

One LocalCluster (2 worker processes, 1 thread each) serves the whole module; the cohort
(4 athletes x 3 weeks, TCX/GPX) is written once.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'gaitrisk[dask]')")

from gaitrisk.executor import (
    LOCAL_ONLY,
    DaskExecutor,
    ExecutorError,
    SerialExecutor,
    make_executor,
)
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store
from gaitrisk.synth.cohort import CohortConfig, write_cohort

pytestmark = pytest.mark.slow

COHORT = CohortConfig(seed=11, athletes=4, weeks=3, warmup_weeks=1)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, **LOCAL_ONLY) as c:
        yield c


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("cohort")
    truth = write_cohort(COHORT, out)
    return out, truth


def _ship(how: str) -> dict:
    """``ship=`` for import_paths: ``paths`` has the workers read the files themselves."""
    if how == "bytes":
        return {}
    return {"ship": how}


def _import_cohort(cohort_dir, athletes, db, executor, ship: str = "bytes") -> dict:
    """Import every athlete's runs and bring features up to date with ``executor``; what the store holds."""
    opts = _ship(ship)
    with Store(db) as store:
        reports = {a: import_paths([str(cohort_dir / a / "runs")], store, a, executor=executor, **opts).as_json()
                   for a in athletes}
        compute_and_store_features(store, executor=executor)  # both passes on the cluster too
        snap = {"reports": reports, "integrity": store.integrity_check(), "activities": store.activities(),
                "features": {a: store.run_features(a) for a in athletes}}
        snap["samples"] = {r.id: store.samples(r.id) for r in snap["activities"]}
    return snap


def _assert_same(a: dict, b: dict) -> None:
    assert a["reports"] == b["reports"]
    assert a["activities"] == b["activities"]  # ids, times, totals, sources, problems
    assert a["samples"].keys() == b["samples"].keys()
    for aid, df in a["samples"].items():
        pd.testing.assert_frame_equal(df, b["samples"][aid], check_exact=True)
    for athlete, df in a["features"].items():
        pd.testing.assert_frame_equal(df, b["features"][athlete], check_exact=True)


@pytest.fixture(scope="module")
def serial(cohort, tmp_path_factory):
    out, truth = cohort
    return _import_cohort(out, sorted(truth["athletes"]), tmp_path_factory.mktemp("serial") / "s.db",
                          SerialExecutor())


def test_serial_run_imports_every_planned_run(serial, cohort):
    _, truth = cohort
    assert serial["integrity"] == "ok"
    for athlete, t in truth["athletes"].items():
        assert serial["reports"][athlete] == {"imported": t["runs"], "duplicates": 0, "skipped": 0, "partial": 0,
                                              "failed": []}
        assert len(serial["features"][athlete]) == t["runs"]


@pytest.mark.parametrize("ship", ["bytes", "paths"])
def test_cluster_import_equals_serial(cluster, cohort, serial, tmp_path, ship):
    """Shipped bytes, or paths the workers read themselves (one machine: storage is shared)."""
    out, truth = cohort
    with make_executor(None, cluster.scheduler_address) as ex:
        assert isinstance(ex, DaskExecutor) and ex.threads() == 2
        got = _import_cohort(out, sorted(truth["athletes"]), tmp_path / "d.db", ex, ship)
    assert got["integrity"] == "ok"
    _assert_same(serial, got)


def _die_once(marker: str, victim: str, fn, item):
    """Kill this worker process the first time it gets ``victim`` (a file name; the marker holds the pid)."""
    if str(getattr(item, "name", item)).endswith(victim):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os._exit(1)  # no cleanup, no goodbye to the scheduler: as a machine crash or the OOM killer
    return fn(item)


class _KillingExecutor:
    """The Dask executor, with one worker dying in the middle of the run."""

    def __init__(self, inner: DaskExecutor, marker: str, victim: str) -> None:
        self.inner, self.marker, self.victim = inner, marker, victim

    def map(self, fn, items):
        return self.inner.map(functools.partial(_die_once, self.marker, self.victim, fn), items)


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, cohort, serial, tmp_path):
    out, truth = cohort
    athletes = sorted(truth["athletes"])
    # The 4th run of the 2nd athlete: earlier files are stored, later ones are still to come.
    victim = sorted(p.name for p in (out / athletes[1] / "runs").iterdir())[3]
    marker = tmp_path / "killed.pid"
    with make_executor(None, cluster.scheduler_address) as ex:
        got = _import_cohort(out, athletes, tmp_path / "k.db", _KillingExecutor(ex, str(marker), victim))
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker really died
    assert got["integrity"] == "ok"
    _assert_same(serial, got)


def test_results_come_in_order_with_bounded_tasks_in_flight(cluster):
    pulled: list[int] = []

    def items():
        for i in range(40):
            pulled.append(i)
            yield i

    with make_executor(None, cluster.scheduler_address) as ex:
        limit = ex.ahead * ex.threads()
        out = []
        for r in ex.map(abs, items()):
            assert len(pulled) - len(out) <= limit
            out.append(r)
    assert out == list(range(40)) and limit == 4


def test_a_task_that_raises_reaches_the_caller_after_its_retries(cluster, tmp_path):
    with make_executor(None, cluster.scheduler_address, retries=1) as ex, pytest.raises(ZeroDivisionError):
        list(ex.map(functools.partial(divmod, 1), [1, 0, 2]))


def test_unreachable_scheduler_is_a_one_line_error():
    with pytest.raises(ExecutorError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 within 1 s"):
        make_executor(None, "tcp://127.0.0.1:9", connect_timeout=1)


def test_workers_with_another_gaitrisk_are_refused(cluster, monkeypatch):
    import gaitrisk.version

    monkeypatch.setattr(gaitrisk.version, "VERSION", "0.0.0-other")
    with pytest.raises(ExecutorError, match=r"runs gaitrisk 0\.1\.0 \(code \w+\), this client gaitrisk 0\.0\.0-other"):
        make_executor(None, cluster.scheduler_address)


def test_local_spec_starts_and_stops_its_own_cluster():
    with make_executor(None, "local:2") as ex:
        assert ex.threads() == 2 and ex.address.startswith("tls://127.0.0.1:")
        assert list(ex.map(abs, [-3, -2, -1])) == [3, 2, 1]
        cluster = ex._cluster
    assert cluster.status.name == "closed"


def test_a_local_cluster_admits_no_one_without_its_own_certificate():
    """Another user on the machine who finds the loopback port can neither connect nor run code."""
    from distributed import Client
    from distributed.security import Security

    with make_executor(None, "local:1") as ex:
        port = ex.address.rpartition(":")[2]
        intruders = [(f"tcp://127.0.0.1:{port}", None),            # plain TCP to the same port
                     (ex.address, None),                             # TLS without any certificate
                     (ex.address, Security.temporary())]             # TLS with a certificate of its own
        for address, security in intruders:
            with pytest.raises((OSError, TypeError)):
                Client(address, security=security, timeout=5, set_as_default=False).close()
        assert list(ex.map(abs, [-4])) == [4]   # the owner's client still works


def test_a_local_cluster_keeps_its_scratch_files_private_and_removes_them():
    import stat
    import tempfile

    with make_executor(None, "local:1") as ex:
        scratch = ex.scratch
        assert os.path.dirname(scratch) == tempfile.gettempdir()
        assert os.path.basename(scratch) != "dask-scratch-space"
        assert stat.S_IMODE(os.stat(scratch).st_mode) == 0o700
        # every worker spills and keeps its files below the private folder
        dirs = ex.client.run(lambda dask_worker: dask_worker.local_directory)
        assert dirs and all(d.startswith(scratch + os.sep) for d in dirs.values())
    assert not os.path.exists(scratch)


def test_quiet_local_cluster_prints_no_dask_info(tmp_path):
    """--quiet --scheduler local:2 in a nightly cron job: Dask's INFO lines stay out of the mail."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        import logging, sys
        from gaitrisk.executor import make_executor

        if __name__ == "__main__":
            logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
            with make_executor(None, "local:2") as ex:
                print(list(ex.map(abs, [-1, -2])))
    """))
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[1, 2]"
    assert "INFO" not in done.stderr and done.stderr.strip() == ""


@pytest.fixture(scope="module")
def fragile_cluster():
    """A cluster whose scheduler gives a task up (KilledWorker) at the first worker death it sees."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, **LOCAL_ONLY) as c:
        yield c


def test_a_task_the_scheduler_gives_up_on_is_submitted_again(fragile_cluster, tmp_path):
    marker = tmp_path / "killed.pid"
    with make_executor(None, fragile_cluster.scheduler_address) as ex:
        out = list(ex.map(functools.partial(_die_once, str(marker), "-4", abs), range(-9, 0)))
    assert marker.exists() and out == list(range(9, 0, -1))


def test_without_retries_the_killed_worker_error_reaches_the_caller(fragile_cluster, tmp_path):
    marker = tmp_path / "killed.pid"
    with make_executor(None, fragile_cluster.scheduler_address, retries=0) as ex, \
            pytest.raises(distributed.KilledWorker):
        list(ex.map(functools.partial(_die_once, str(marker), "-4", abs), range(-9, 0)))


def _inbox(cohort_dir, athletes, root):
    """The cohort as a nightly inbox: ``<inbox>/<athlete>/runs/*`` and ``<inbox>/<athlete>/<athlete>.pain.csv``."""
    import shutil

    inbox = root / "inbox"
    for a in athletes:
        shutil.copytree(cohort_dir / a / "runs", inbox / a / "runs")
        shutil.copy(cohort_dir / a / "pain.csv", inbox / a / f"{a}.pain.csv")
    return inbox


def _nightly(cohort_dir, athletes, root, *extra):
    """One ``gaitrisk nightly`` over a fresh copy of the cohort; (summary JSON, store snapshot)."""
    import json

    from click.testing import CliRunner

    from gaitrisk.cli.main import cli

    inbox = _inbox(cohort_dir, athletes, root)
    db = root / "g.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "nightly", "--inbox", str(inbox), "--report-dir",
                                   str(root / "reports"), "--min-age", "0", "--tz", "UTC", "--json", *extra])
    assert res.exit_code == 0, res.output
    # Report and quarantine paths: the same names below each run's own folder.
    summary = json.loads(res.output[res.output.index("{"):].replace(str(root), "<root>"))
    with Store(db) as store:
        # Each run has its own inbox: sources compare below it.
        acts = [dataclasses.replace(r, sources=tuple(os.path.relpath(f, root) for f in r.sources))
                for r in store.activities()]
        snap = {"integrity": store.integrity_check(), "activities": acts,
                "features": {a: store.run_features(a) for a in athletes},
                "pain": {a: store.pain_entries(a) for a in athletes}}
    reports = sorted(p.relative_to(root / "reports") for p in (root / "reports").rglob("*.json"))
    # The JSON reports without the moment they were written.
    return summary, snap, {p: json.loads((root / "reports" / p).read_text()) | {"generated_at": None}
                           for p in reports}


def test_nightly_on_the_cluster_equals_the_local_run(cluster, cohort, tmp_path):
    out, truth = cohort
    athletes = sorted(truth["athletes"])
    (tmp_path / "local").mkdir()
    (tmp_path / "dask").mkdir()
    local = _nightly(out, athletes, tmp_path / "local")
    dask_run = _nightly(out, athletes, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert local[0] == dask_run[0]
    assert [a["imported"] for a in local[0]["athletes"]] == [truth["athletes"][a]["runs"] for a in athletes]
    assert all(a["reports"] for a in local[0]["athletes"])  # the analysis did run, on the cluster too
    a, b = local[1], dask_run[1]
    assert a["integrity"] == b["integrity"] == "ok"
    assert a["activities"] == b["activities"] and a["pain"] == b["pain"]
    for athlete in athletes:
        pd.testing.assert_frame_equal(a["features"][athlete], b["features"][athlete], check_exact=True)
    assert local[2].keys() == dask_run[2].keys() and local[2]
    for name, doc in local[2].items():
        assert doc == dask_run[2][name], name
