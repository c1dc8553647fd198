"""The import workflow: files, then their feature records, with progress reported as it goes."""

from __future__ import annotations

import shutil

import gaitrisk.features.status as status
from gaitrisk.store import Store
from gaitrisk.workflow import import_files

from .helpers.paths import FIXTURES


class _Seen:
    """A progress display that records what it hears and, like a hidden bar, never asks the count."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.started = 0
        self.runs: list[str] = []

    def file_done(self, outcome) -> None:
        self.files.append(outcome.file)

    def features_start(self, stale) -> None:
        self.started += 1

    def run_done(self, activity_id: str) -> None:
        self.runs.append(activity_id)


def _three_runs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for p in sorted((FIXTURES / "runs").glob("*.fit"))[:3]:
        shutil.copy(p, folder / p.name)
    return folder


def test_an_import_stores_the_runs_and_their_feature_records(tmp_path):
    progress = _Seen()
    with Store(tmp_path / "s.db") as st:
        out = import_files(st, [str(_three_runs(tmp_path))], "ann", progress=progress)
        assert out.imported.imported == 3 and out.features.computed == 3
        assert sorted(st.feature_versions("ann")) == sorted(a.id for a in st.activities("ann"))
    assert len(progress.files) == 3 and progress.started == 1 and len(progress.runs) == 3


def test_a_display_that_does_not_show_the_count_never_pays_for_it(tmp_path, monkeypatch):
    # Counting the stale records reads every stored record: a second on a large store.
    def counted(*args, **kwargs):
        raise AssertionError("stale_count called for a display that does not show it")

    monkeypatch.setattr(status, "stale_count", counted)
    with Store(tmp_path / "s.db") as st:
        out = import_files(st, [str(_three_runs(tmp_path))], "ann", progress=_Seen())
    assert out.features.computed == 3


def test_an_import_with_nothing_new_asks_the_store_and_starts_no_computation(tmp_path, monkeypatch):
    """The nightly job's usual run: every record up to date, so the feature code is not even called.
    A changed profile, a new feature version or a record gone makes it compute again."""
    import gaitrisk.features.compute as compute

    folder = _three_runs(tmp_path)
    with Store(tmp_path / "s.db") as st:
        import_files(st, [str(folder)], "ann")
        real = compute.compute_and_store_features

        def refused(*args, **kwargs):
            raise AssertionError("the feature computation started with nothing to compute")

        monkeypatch.setattr(compute, "compute_and_store_features", refused)
        again = import_files(st, [str(folder)], "ann")
        assert again.imported.duplicates == 3 and again.features.as_json() == {
            "computed": 0, "up_to_date": 3, "failed": [], "not_a_run": []}
        assert status.up_to_date(st, "ann") == 3 and status.stale_count(st, "ann") == 0

        monkeypatch.setattr(compute, "compute_and_store_features", real)
        st.set_profile("ann", {"height_m": 1.9})
        assert status.up_to_date(st, "ann") is None and status.stale_count(st, "ann") == 3
        assert import_files(st, [str(folder)], "ann").features.computed == 3
        assert status.up_to_date(st, "ann") == 3

        monkeypatch.setattr(status, "FEATURE_VERSION", status.FEATURE_VERSION + 1)
        assert status.up_to_date(st, "ann") is None
        monkeypatch.undo()
        latest = st.activities("ann")[-1].id
        st.set_review(latest, st.reviews("ann")[latest])   # drops the records from this run on
        assert status.up_to_date(st, "ann") is None and status.stale_count(st, "ann") == 1
