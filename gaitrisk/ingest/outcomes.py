"""What an import reports: each file's outcome and the batch's counts (the ``--json`` contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file.  ``status``: imported, duplicate, skipped or failed."""

    file: str
    status: str
    reason: str | None = None
    activity_ids: tuple[str, ...] = ()
    partial: bool = False
    problems: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """Counts follow the ``gaitrisk import --json`` contract.

    ``imported`` and ``duplicates`` count activities (a multisport file can hold
    several runs); ``skipped`` and ``failed`` count files; ``partial`` counts the
    imported activities that came from a damaged file.
    """

    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    partial: int = 0
    replaced: int = 0  # duplicates whose richer source replaced the stored data (not in the JSON)
    unread: int = 0  # files reported from the file index without reading them (not in the JSON)
    failed: list[dict[str, str]] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)
    # activity id -> what ``leg_hook`` returned for it, for new activities only (their stored
    # samples are exactly the ones the hook saw); at most LEG_RESULTS_MAX (not in the JSON)
    leg_results: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "skipped": self.skipped,
                "partial": self.partial, "failed": list(self.failed)}

    def record(self, outcome: FileOutcome) -> None:
        """Count one file's outcome (after its batch committed: what callers see is stored)."""
        self.outcomes.append(outcome)
        if outcome.status == "failed":
            self.failed.append({"file": outcome.file, "reason": outcome.reason or "unknown error"})
        elif outcome.status == "skipped":
            self.skipped += 1
