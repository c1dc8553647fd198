"""The import workflow: files, then their feature records, with progress reported as it goes."""

from __future__ import annotations

import shutil

import gaitrisk.features.compute as compute
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

    monkeypatch.setattr(compute, "stale_count", counted)
    with Store(tmp_path / "s.db") as st:
        out = import_files(st, [str(_three_runs(tmp_path))], "ann", progress=_Seen())
    assert out.features.computed == 3
