"""Per-athlete analysis of the nightly run: flags and rendered reports, from shipped data.

:func:`analyse_athlete` is a plain module-level function over picklable values so the
executor can run it in another process or on another machine.  Its task carries the
athlete's data as a value -- a snapshot of their rows (:meth:`Store.snapshot_athlete`,
zlib-compressed) and the model file with its card -- never a path into the client's
disk: a worker on another host has no such path, and SQLite must not be shared over a
network filesystem.  The worker writes them to a private temporary folder, opens the
snapshot read-only, and returns the flags and the report texts; the client alone writes
(the store, the state file, the report files).  Errors come back as values.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)

ALERT_SEVERITIES = ("high",)
ALERT_CODES = ("see_a_clinician",)
REPORT_FORMATS = ("html", "json")
SNAPSHOT_LEVEL = 6  # zlib: the snapshot's pages are mostly repeated JSON keys and free space (~20x)

# (store, athlete, *, zone, model_path, formats, generated_at) -> [(file name, text), ...]
ReportRenderer = Callable[..., list]


@dataclass(frozen=True)
class ModelFiles:
    """The trained model as bytes: the model file and its card, under the model file's name."""

    name: str
    model: bytes
    card: bytes

    @classmethod
    def read(cls, path: str | os.PathLike) -> ModelFiles | None:
        """The model at ``path`` with its card; ``None`` when there is none (the worker then shows rules only)."""
        from ..model.persist import card_path

        path = Path(path)
        try:
            return cls(path.name, path.read_bytes(), card_path(path).read_bytes())
        except FileNotFoundError:
            return None

    def write(self, folder: Path) -> Path:
        """Write both files below ``folder`` (user-only); the model file's path."""
        from ..model.persist import card_path

        path = folder / self.name
        _write_new(path, self.model)
        _write_new(card_path(path), self.card)
        return path


@dataclass(frozen=True)
class AthleteTask:
    athlete: str
    zone: str
    snapshot: bytes                   # zlib(Store.snapshot_athlete(athlete)): no path, no other athlete
    model: ModelFiles | None
    formats: tuple[str, ...]          # report formats to render; () = flags only
    generated_at: dt.datetime         # one moment for every report of the run
    renderer: ReportRenderer | None   # None: render_reports (gaitrisk.report, imported in the worker)

    @classmethod
    def build(cls, store: Store, athlete: str, zone: str, model: ModelFiles | None, formats: tuple[str, ...],
              generated_at: dt.datetime, renderer: ReportRenderer | None = None) -> AthleteTask:
        """The task of ``athlete``, with their rows read from ``store`` now (and, when a report is
        rendered, the samples of the latest run its chart shows)."""
        latest = latest_run_id(store, athlete, zone, generated_at) if formats else None
        snapshot = zlib.compress(store.snapshot_athlete(athlete, samples_of=(latest,) if latest else ()),
                                 SNAPSHOT_LEVEL)
        return cls(athlete, zone, snapshot, model, tuple(formats), generated_at, renderer)


def latest_run_id(store: Store, athlete: str, zone: str, now: dt.datetime) -> str | None:
    """The id of ``athlete``'s latest counted run up to ``now``'s day in ``zone``: the run whose
    samples a report's latest-run chart shows (None without one)."""
    from zoneinfo import ZoneInfo

    from ..review import counted

    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    acts = [a for a in counted(store.activities(athlete), store.reviews(athlete))
            if a.start_time.astimezone(tz).date() <= today]
    return max(acts, key=lambda a: (a.start_time, a.id)).id if acts else None


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
class DayRisk:
    """The risk model's answer for the athlete's last day (:func:`gaitrisk.model.risk.risk_for`)."""

    date: str  # ISO day
    probability: float
    low: float
    high: float
    base_rate: float
    horizon_days: int
    model: str  # "population prior" or what the store's model was updated with
    text: str   # the one-line risk of ``gaitrisk flags``

    @classmethod
    def of(cls, report) -> DayRisk:
        d = report.days[-1]
        return cls(d.date.isoformat(), d.probability, d.low, d.high, report.base_rate, report.horizon_days,
                   report.model, report.line(d))

    def as_json(self) -> dict:
        return {"date": self.date, "probability": self.probability, "low": self.low, "high": self.high,
                "base_rate": self.base_rate, "horizon_days": self.horizon_days, "model": self.model}


@dataclass(frozen=True)
class RenderedReport:
    name: str  # a file name, no folder: the client decides where it goes
    text: str


@dataclass(frozen=True)
class AthleteResult:
    athlete: str
    flags: tuple[SeenFlag, ...] = ()
    reports: tuple[RenderedReport, ...] = ()
    error: str | None = None
    note: str = ""
    risk: DayRisk | None = None  # a number beside the flags, never an alert


def render_reports(store: Store, athlete: str, *, zone, model_path=None, formats=REPORT_FORMATS,
                   generated_at: dt.datetime | None = None) -> list[tuple[str, str]]:
    """``athlete``'s report in each format as (file name, text), built once (gaitrisk.report)."""
    from ..report import EXTENSIONS, build_athlete_report, render, safe_file_stem

    rep = build_athlete_report(store, athlete, zone, model_path=model_path)
    stem = safe_file_stem(athlete)
    return [(f"{stem}.{EXTENSIONS[f]}", render([rep], f, generated_at=generated_at)) for f in formats]


def analyse_athlete(task: AthleteTask) -> AthleteResult:
    """Assess the athlete's current flags and last day's risk, and render their reports (when formats are
    asked for)."""
    from zoneinfo import ZoneInfo

    from ..model.flags import assess
    from ..model.risk import risk_for
    from ..store import Store

    zone = ZoneInfo(task.zone)
    try:
        # mkdtemp: 0700, private to this user; removed with everything in it when done.
        with tempfile.TemporaryDirectory(prefix="gaitrisk-athlete-") as tmp:
            db = Path(tmp) / "athlete.db"
            _write_new(db, zlib.decompress(task.snapshot))
            model_path = task.model.write(Path(tmp)) if task.model else None
            with Store(db, read_only=True) as store:
                try:
                    a = assess(store, task.athlete, zone, model_path=model_path)
                except LookupError:
                    return AthleteResult(task.athlete, note="no runs yet")
                flags = tuple(SeenFlag(f.code, f.severity, f.date.isoformat()) for f in a.flags)
                try:
                    risk = DayRisk.of(risk_for(store, task.athlete, zone, a.last, a.last, model_path=model_path))
                except LookupError:  # no day with data up to the flags' last day: no risk to give
                    risk = None
                except Exception as exc:  # noqa: BLE001 - the flags still count; the risk is retried next run
                    return AthleteResult(task.athlete, flags, error=_one_line("risk not computed", exc))
                if not task.formats:
                    return AthleteResult(task.athlete, flags, risk=risk)
                try:
                    renderer = task.renderer or render_reports
                    texts = renderer(store, task.athlete, zone=zone, model_path=model_path, formats=task.formats,
                                     generated_at=task.generated_at)
                except Exception as exc:  # noqa: BLE001 - the flags still count; the report is retried next run
                    return AthleteResult(task.athlete, flags, error=_one_line("report not written", exc), risk=risk)
    except Exception as exc:  # noqa: BLE001 - one athlete's failure must not stop the others
        return AthleteResult(task.athlete, error=_one_line("analysis failed", exc))
    return AthleteResult(task.athlete, flags, tuple(RenderedReport(name, text) for name, text in texts), risk=risk)


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` user-only (0600) from its first byte; an existing file is an error."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _one_line(what: str, exc: BaseException) -> str:
    log.debug("%s", what, exc_info=exc)
    text = str(exc).strip().splitlines()
    return f"{what}: {type(exc).__name__}" + (f": {text[0]}" if text else "")
