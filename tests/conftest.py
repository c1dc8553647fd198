"""Fixtures shared by the test modules (their helpers live in tests/helpers/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers.cohort import SYNTHETIC_COHORT
from .helpers.paths import real_data_or_skip


@pytest.fixture(scope="session")
def real_data() -> Path:
    return real_data_or_skip()


@pytest.hookimpl(tryfirst=True)  # before -m selects by the marks
def pytest_collection_modifyitems(items) -> None:
    """A test that takes the ``real_data`` fixture reads the real watch files: it is ``realdata``."""
    for item in items:
        if "real_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)


@pytest.fixture(scope="session")
def synthetic_cohort(tmp_path_factory):
    """Files -> ``gaitrisk import`` -> ``pain import`` -> ``model train`` -> athlete-day rows.

    Returns (config, truth, db, dataset, card).  Tests that write to the store copy ``db`` first.
    """
    from zoneinfo import ZoneInfo

    from click.testing import CliRunner

    from gaitrisk.cli.main import cli
    from gaitrisk.model.dataset import build_dataset
    from gaitrisk.store import Store
    from gaitrisk.synth.cohort import CohortConfig, write_cohort

    def run(*args):
        return CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])

    cfg = CohortConfig(**SYNTHETIC_COHORT)
    out = tmp_path_factory.mktemp("cohort15")
    truth = write_cohort(cfg, out)
    db = out / "c.db"
    for name in truth["athletes"]:
        r = run("import", out / name / "runs", "--athlete", name, "--json")
        assert r.exit_code == 0 and json.loads(r.output)["failed"] == [], r.output
        r = run("pain", "import", out / name / "pain.csv", "--athlete", name, "--tz", "UTC")
        assert r.exit_code == 0, r.output
    r = run("model", "train", "--model-kind", "auto", "--tz", "UTC", "--json")
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)["card"]
    with Store(db) as store:
        ds = build_dataset(store, zone=ZoneInfo("UTC"))
    return cfg, truth, db, ds, card


def pytest_report_header(config) -> str:
    """Say which FIT message walk these tests exercise (the C one is built by ``pip install -e .``)."""
    from gaitrisk.ingest.fit import walk

    where = walk._fitwalk.__file__ if walk._fitwalk is not None else "Python (the C extension is not built here)"
    return f"gaitrisk FIT walk: {where}"


@pytest.fixture(autouse=True)
def feature_records_on_their_own_runs(monkeypatch):
    """After every test, every store the test opened holds each feature record on its own run.

    The invariant is checked on the database file itself (read-only), so it covers every import
    path a test drives in-process: the CLI, the nightly job, the library calls.
    """
    import sqlite3

    from gaitrisk.store import sqlite as store_sqlite

    opened: set[str] = set()
    init = store_sqlite.Store.__init__

    def recording_init(self, path=None, *args, **kwargs):
        init(self, path, *args, **kwargs)
        opened.add(str(self.path))

    monkeypatch.setattr(store_sqlite.Store, "__init__", recording_init)
    yield
    for path in sorted(opened):
        try:
            conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            continue
        try:
            misfiled = [r[0] for r in conn.execute(store_sqlite.MISFILED_FEATURES_SQL)]
        except sqlite3.Error:  # not a store (a hostile-input test), or one from before the features
            continue
        finally:
            conn.close()
        assert not misfiled, f"{path}: feature records on the wrong run: {misfiled[:5]}"
