"""Per-athlete analysis of the nightly run: flags and report files.

:func:`analyse_athlete` is a plain module-level function over picklable values so the
executor can run it in another process (or on a cluster): it only reads the store; the
parent process alone writes (the store, the state file).  Errors come back as values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ALERT_SEVERITIES = ("high",)
ALERT_CODES = ("see_a_clinician",)

ReportWriter = Callable[..., list]


@dataclass(frozen=True)
class AthleteTask:
    db_path: str
    athlete: str
    zone: str
    model_path: str | None
    report_dir: str | None
    writer: ReportWriter | None  # None: gaitrisk.report.write_report_files, imported in the worker


@dataclass(frozen=True)
class SeenFlag:
    code: str
    severity: str
    date: str  # ISO day

    @property
    def alerting(self) -> bool:
        return self.severity in ALERT_SEVERITIES or self.code in ALERT_CODES

    def key(self) -> list[str]:
        return [self.code, self.severity, self.date]


@dataclass(frozen=True)
class AthleteResult:
    athlete: str
    flags: tuple[SeenFlag, ...] = ()
    reports: tuple[str, ...] = ()
    error: str | None = None
    note: str = ""


def default_writer() -> ReportWriter:
    # Imported here: the job and its tests work without the report package.
    from ..report import write_report_files

    return write_report_files


def analyse_athlete(task: AthleteTask) -> AthleteResult:
    """Assess the athlete's current flags and write their report files (when a folder is given)."""
    from zoneinfo import ZoneInfo

    from ..model.flags import assess
    from ..store import Store
    from .inbox import private_dirs

    zone = ZoneInfo(task.zone)
    try:
        with Store(task.db_path) as store:
            try:
                a = assess(store, task.athlete, zone, model_path=task.model_path)
            except LookupError:
                return AthleteResult(task.athlete, note="no runs yet")
            flags = tuple(SeenFlag(f.code, f.severity, f.date.isoformat()) for f in a.flags)
            if not task.report_dir:
                return AthleteResult(task.athlete, flags)
            try:
                writer = task.writer or default_writer()
                directory = Path(task.report_dir)
                private_dirs(directory)
                reports = writer(store, task.athlete, directory, zone=zone, model_path=task.model_path,
                                 formats=("html", "json"))
            except Exception as exc:  # noqa: BLE001 - the flags still count; the report is retried next run
                return AthleteResult(task.athlete, flags, error=_one_line("report not written", exc))
    except Exception as exc:  # noqa: BLE001 - one athlete's failure must not stop the others
        return AthleteResult(task.athlete, error=_one_line("analysis failed", exc))
    return AthleteResult(task.athlete, flags, tuple(str(p) for p in reports))


def _one_line(what: str, exc: BaseException) -> str:
    log.debug("%s", what, exc_info=exc)
    text = str(exc).strip().splitlines()
    return f"{what}: {type(exc).__name__}" + (f": {text[0]}" if text else "")
