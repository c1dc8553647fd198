"""The import workflow: files into the store, then the feature records of the runs they hold.

One workflow for every caller (``gaitrisk import``, the demo, the nightly job and
:class:`gaitrisk.Store`), so that an import always leaves feature records behind:

* :func:`import_runs` decodes, deduplicates and stores the files, making each new run's
  feature pass in its decode task (:mod:`gaitrisk.features.handoff`);
* :func:`update_features` brings the athlete's feature records up to date, using those passes;
* :func:`import_files` does both.

Feature records are decided by what is stored, not by what one import added: an import
stopped after its last commit left runs without records, and the next call computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

if TYPE_CHECKING:
    from .executor import MapExecutor
    from .features.status import FeatureReport
    from .ingest.decoders import Decoders
    from .ingest.pipeline import FileOutcome, ImportReport
    from .store import Store


class ImportProgress(Protocol):
    """What a progress display hears from :func:`import_files`."""

    def file_done(self, outcome: FileOutcome) -> None:
        """One file's outcome, committed."""

    def features_start(self, stale: Callable[[], int]) -> None:
        """The feature records are next; ``stale()`` counts the runs they are computed for (it reads
        every stored record: call it only to show the count)."""

    def run_done(self, activity_id: str) -> None:
        """One run's feature record, computed."""


@dataclass(frozen=True)
class ImportOutcome:
    """What one :func:`import_files` call did: the files' outcomes and the feature records'."""

    imported: ImportReport
    features: FeatureReport


def import_runs(store: Store, paths: Sequence[str], athlete: str, *, decoders: Decoders | None = None,
                executor: MapExecutor | None = None, on_file: Callable[[FileOutcome], None] | None = None,
                passes: dict[str, Any] | None = None) -> ImportReport:
    """Import the activity files under ``paths`` for ``athlete``; the new runs' feature passes are
    in the report's ``leg_results`` (``passes``: an earlier call's, to go on filling)."""
    from .features.handoff import import_pass
    from .ingest.decoders import DEFAULT
    from .ingest.pipeline import import_paths

    return import_paths(list(paths), store, athlete, decoders=decoders or DEFAULT, executor=executor,
                        on_file=on_file, leg_hook=import_pass(store, athlete), leg_results=passes)


def update_features(store: Store, athlete: str, *, passes: dict[str, Any] | None = None,
                    executor: MapExecutor | None = None,
                    on_run: Callable[[str], None] | None = None) -> FeatureReport:
    """Compute the feature records ``athlete``'s stored runs lack (or hold under another version
    or profile); ``passes``: the import's ``leg_results``, whose runs are not read again."""
    from .features.status import FeatureReport, up_to_date

    if not passes:   # nothing new imported: one query says whether there is anything to compute
        runs = up_to_date(store, athlete)
        if runs is not None:
            return FeatureReport(up_to_date=runs)
    from .features.compute import compute_and_store_features

    return compute_and_store_features(store, athlete, on_run=on_run, executor=executor, passes=passes)


def import_files(store: Store, paths: Sequence[str], athlete: str, *, decoders: Decoders | None = None,
                 executor: MapExecutor | None = None, progress: ImportProgress | None = None) -> ImportOutcome:
    """:func:`import_runs` then :func:`update_features`. Feature failures are in the outcome;
    they never undo the import."""
    report = import_runs(store, paths, athlete, decoders=decoders, executor=executor,
                         on_file=progress.file_done if progress else None)
    if progress:
        from .features.status import stale_count

        progress.features_start(lambda: stale_count(store, athlete))
    feats = update_features(store, athlete, passes=report.leg_results, executor=executor,
                            on_run=progress.run_done if progress else None)
    return ImportOutcome(report, feats)
