"""The features' pass made in the import's own task (``import_paths(leg_hook=ImportPass)``):
the same records as computing them from the store afterwards, without reading those runs'
samples back; passes that no longer match the store (another profile, samples replaced by a
richer file) are not used."""

from __future__ import annotations

import pickle
import shutil

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.executor import PoolExecutor
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.features.handoff import ImportPass, import_pass, loaded
from gaitrisk.ingest import dedup
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.nightly import job as nightly_job
from gaitrisk.store import Store

from .helpers.paths import FIXTURES

pytestmark = pytest.mark.slow

RUNS = FIXTURES / "runs"


def _same_records(got, expected) -> None:
    assert sorted(got.index) == sorted(expected.index) and len(expected)
    for col in sorted(set(expected.columns) - {"computed_at"}):
        for x, y in zip(got.loc[expected.index, col], expected[col]):
            assert repr(x) == repr(y), (col, x, y)


@pytest.fixture
def from_store(tmp_path):
    """The records of the season imported, then computed from the stored samples."""
    with Store(tmp_path / "plain.db") as st:
        import_paths([str(RUNS)], st, "demo")
        compute_and_store_features(st, "demo")
        return st.run_features("demo")


def _counting_reads(st: Store, monkeypatch) -> list[str]:
    read: list[str] = []
    real = st.samples_blob  # what the features read (and ship to workers) per run
    monkeypatch.setattr(st, "samples_blob", lambda aid: read.append(aid) or real(aid))
    return read


@pytest.mark.parametrize("workers", [1, 2])
def test_records_from_the_import_pass_equal_those_computed_from_the_store(tmp_path, from_store, monkeypatch, workers):
    with Store(tmp_path / "fused.db") as st:
        executor = PoolExecutor(workers) if workers > 1 else None  # the hook is shipped to the workers
        try:
            rep = import_paths([str(RUNS)], st, "demo", leg_hook=import_pass(st, "demo"), executor=executor)
            read = _counting_reads(st, monkeypatch)
            feats = compute_and_store_features(st, "demo", passes=rep.leg_results, executor=executor)
        finally:
            if executor:
                executor.close()
        got = st.run_features("demo")
    assert sorted(rep.leg_results) == sorted(from_store.index)  # one pass per new run
    assert feats.computed == len(from_store) and not feats.failed
    assert read == []  # no run's samples were read back
    _same_records(got, from_store)


def test_a_pass_made_under_another_profile_is_not_used(tmp_path, from_store, monkeypatch):
    with Store(tmp_path / "x.db") as st:
        stale_hook = ImportPass(import_pass(st, "demo").profile, "another-profile")
        rep = import_paths([str(RUNS)], st, "demo", leg_hook=stale_hook)
        read = _counting_reads(st, monkeypatch)
        compute_and_store_features(st, "demo", passes=rep.leg_results)
        got = st.run_features("demo")
    assert len(rep.leg_results) == len(from_store) and sorted(read) == sorted(from_store.index)
    _same_records(got, from_store)


def test_a_run_whose_samples_a_richer_file_replaced_has_no_pass(tmp_path):
    """The tempo run as GPX first, then as FIT in the same import: the FIT's samples replace the
    GPX's, so the pass made from the GPX is dropped and the record comes from the stored FIT."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(RUNS / "2024-04-12_tempo_loop.gpx", folder / "a.gpx")
    shutil.copy(RUNS / "2024-04-12_tempo_loop.fit", folder / "b.fit")
    with Store(tmp_path / "x.db") as st:
        rep = import_paths([str(folder)], st, "demo", leg_hook=import_pass(st, "demo"))
        (only,) = st.activities("demo")
        assert (rep.imported, rep.replaced, only.fmt) == (1, 1, "fit")
        assert rep.leg_results == {}
        compute_and_store_features(st, "demo", passes=rep.leg_results)
        fused = st.run_features("demo")
    with Store(tmp_path / "fit.db") as st:
        import_paths([str(folder / "b.fit")], st, "demo")
        compute_and_store_features(st, "demo")
        fit_only = st.run_features("demo")
    assert list(fused["cadence_spm"]) == list(fit_only["cadence_spm"])
    assert fused["gct_source"].iloc[0] == "measured"  # the FIT's pod, not the GPX's estimate


def test_a_failing_hook_costs_its_pass_only(tmp_path):
    with Store(tmp_path / "x.db") as st:
        rep = import_paths([str(RUNS)], st, "demo", leg_hook=_failing_hook)
        assert rep.imported == len(st.activities("demo")) > 0 and rep.leg_results == {}


def _failing_hook(rec, samples):
    raise RuntimeError("boom")


def test_results_beyond_the_cap_are_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(dedup, "LEG_RESULTS_MAX", 3)
    with Store(tmp_path / "x.db") as st:
        rep = import_paths([str(RUNS)], st, "demo", leg_hook=import_pass(st, "demo"))
        assert len(rep.leg_results) == 3 and rep.imported > 3
        feats = compute_and_store_features(st, "demo", passes=rep.leg_results)
        assert feats.computed == rep.imported and not feats.failed


def test_a_pass_is_small_and_picklable(tmp_path):
    with Store(tmp_path / "x.db") as st:
        rep = import_paths([str(RUNS / "2024-04-19_long_loop.fit")], st, "demo", leg_hook=import_pass(st, "demo"))
    ((fingerprint, kept),) = rep.leg_results.values()
    assert isinstance(kept, bytes) and len(kept) < 20_000  # LEG_RESULTS_MAX of them stay in tens of MB
    assert type(loaded(kept)).__name__ == "RunPass" and len(pickle.dumps(rep.leg_results)) < 20_000


def test_cli_import_uses_the_import_pass(tmp_path, from_store, monkeypatch):
    reads: list[str] = []
    real = Store.samples_blob
    monkeypatch.setattr(Store, "samples_blob", lambda self, aid: reads.append(aid) or real(self, aid))
    db = tmp_path / "cli.db"
    res = CliRunner().invoke(cli, ["--db", str(db), "import", "--athlete", "demo", "--workers", "1", str(RUNS)])
    assert res.exit_code == 0, res.output
    assert reads == []
    with Store(db) as st:
        _same_records(st.run_features("demo"), from_store)


def test_nightly_passes_survive_its_chunks_but_not_a_replacement(tmp_path, monkeypatch):
    """The nightly job imports in chunks: a pass from one chunk is used unless a later chunk's
    richer file replaced that run's samples (here one file per chunk: GPX, then FIT)."""
    monkeypatch.setattr(nightly_job, "IMPORT_CHUNK", 1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(RUNS / "2024-04-12_tempo_loop.gpx", inbox / "a_tempo.gpx")
    shutil.copy(RUNS / "2024-04-12_tempo_loop.fit", inbox / "b_tempo.fit")
    shutil.copy(RUNS / "2024-04-19_long_loop.fit", inbox / "c_long.fit")
    db = tmp_path / "n.db"
    with Store(db) as st:
        st.athlete_id("demo")
        read = _counting_reads(st, monkeypatch)
        out = nightly_job.AthleteSummary("demo")
        files = [f for f in nightly_job.ib.scan(inbox, "demo", flat=True, exclude=[])]
        passes = nightly_job._import_activities(st, files, out, tmp_path / "archive", tmp_path / "quarantine",
                                                nightly_job.SerialExecutor(), lambda _rel: None)
        (tempo,) = [r.id for r in st.activities("demo") if any(s.endswith("a_tempo.gpx") for s in r.sources)]
        (long_run,) = [r.id for r in st.activities("demo") if r.id != tempo]
        assert out.imported == 2 and set(passes) == {long_run}  # the tempo run's GPX pass was dropped
        nightly_job._update_features(st, "demo", out, nightly_job.SerialExecutor(), passes)
        got = st.run_features("demo")
    assert read == [tempo] and len(got) == 2  # only the replaced run was read back
    with Store(tmp_path / "plain.db") as st:
        import_paths([str(RUNS / "2024-04-12_tempo_loop.fit"), str(RUNS / "2024-04-19_long_loop.fit")], st, "demo")
        compute_and_store_features(st, "demo")
        assert sorted(st.run_features("demo")["cadence_spm"]) == sorted(got["cadence_spm"])

