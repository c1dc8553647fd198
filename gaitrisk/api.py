"""gaitrisk as a library: read watch files, compute one run's features, and work with a store.

The functions here are what the CLI commands call underneath, without the command line:

* :func:`read` decodes a FIT, GPX or TCX file (or a folder, ``.gz`` or export zip of them)
  into :class:`Activity` values, damaged files included (their problems are values);
* :func:`features` computes one run's :class:`~gaitrisk.features.record.RunFeatures` without a store;
* :class:`Store` opens a store; its :class:`Athlete` handles import files (decode, deduplicate,
  store and compute the features: :func:`gaitrisk.workflow.import_files`), and give the runs,
  the training load, the pain log, the flags, the risk and the report.

Decision support, not a diagnosis.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Sequence
from zoneinfo import ZoneInfo

from .features.profile import AthleteProfile
from .features.record import RunFeatures
from .records import ActivityRecord
from .store import StoreError

if TYPE_CHECKING:
    import pandas as pd

    from .load.weekly import LoadReport
    from .model.flags import Assessment
    from .model.risk import RiskReport
    from .records import PainEntry
    from .store import Store as _Store
    from .workflow import ImportOutcome

__all__ = ["Activity", "Activities", "Athlete", "AthleteProfile", "PainLog", "RunFeatures", "Store",
           "StoreError", "read", "run_features"]

ReportFormat = Literal["text", "json", "html", "markdown"]
# ``read`` gives its activities to this athlete unless told otherwise: the CLI's default athlete,
# so that an activity's id is the one ``gaitrisk import`` stores it under.
DEFAULT_ATHLETE = "me"


@dataclass(frozen=True, eq=False)  # equal only to itself: DataFrames have no one truth value of ==
class Activity:
    """One activity of a file: its record (what the store would hold), its samples (one row per
    recorded second or point, columns named in :mod:`gaitrisk.schema`) and the file's problems."""

    record: ActivityRecord
    samples: pd.DataFrame
    problems: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """Whether it comes from a damaged file (only what precedes the damage was kept)."""
        return self.record.partial


class Activities(list[Activity]):
    """What :func:`read` found: a list of activities, with each file's problems beside it.

    ``problems`` holds one line per problem (a damaged file, a file that holds no activity, a file
    of no supported kind), each naming its file.
    """

    def __init__(self, activities: Sequence[Activity] = (), problems: Sequence[str] = ()) -> None:
        super().__init__(activities)
        self.problems: tuple[str, ...] = tuple(problems)


def read(source: str | os.PathLike[str] | bytes, name: str | None = None, *,
         athlete: str = DEFAULT_ATHLETE) -> Activities:
    """The activities in ``source``: a path (a FIT/GPX/TCX file, optionally ``.gz``, a folder or an
    export zip) or the bytes of one FIT/GPX/TCX file.

    ``name`` names bytes in problems and records (its extension gives the format, else the bytes
    do). Bad content never raises: a damaged file gives what it holds, with its problems in
    :attr:`Activity.problems` and :attr:`Activities.problems`; a file with nothing to read gives
    no activity and a problem. A path that does not exist raises ``FileNotFoundError``.
    """
    if isinstance(source, bytes):
        return _read_bytes(source, name or "<bytes>", athlete)
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or folder")
    from .ingest.sources import SourceFile, SourceProblem, iter_sources

    found = Activities()
    problems: list[str] = []
    for item in iter_sources([path]):
        if isinstance(item, SourceProblem):
            problems.append(f"{item.name}: {item.reason}")
        elif isinstance(item, SourceFile):
            one = _decode(item.fmt, item.data, item.name, athlete)
            found.extend(one)
            problems.extend(one.problems)
    found.problems = tuple(problems)
    return found


def _read_bytes(data: bytes, name: str, athlete: str) -> Activities:
    from .ingest.sources import activity_format

    if data[:2] == b"\x1f\x8b" or data[:4] == b"PK\x03\x04":
        return Activities(problems=[f"{name}: compressed (gzip or zip); give read() its path instead"])
    fmt = activity_format(name, data)
    if fmt is None:
        return Activities(problems=[f"{name}: not a FIT, GPX or TCX file"])
    return _decode(fmt, data, name, athlete)


def _decode(fmt: str, data: bytes, name: str, athlete: str) -> Activities:
    from .ingest.decoders import DEFAULT

    res = DEFAULT.decode(fmt, data, name)
    problems = [f"{name}: {p}" for p in res.problems]
    if res.error:
        problems.append(f"{name}: {res.error}")
    elif res.skipped_reason and not res.activities:
        problems.append(f"{name}: {res.skipped_reason}")
    sha = hashlib.sha256(data).hexdigest()
    from .ingest.worker import record_of

    acts = [Activity(record_of(athlete, act, sha, name, res), act.samples, tuple(res.problems))
            for act in res.activities]
    return Activities(acts, problems)


def run_features(activity: Activity, profile: AthleteProfile | None = None) -> RunFeatures:
    """The features of one run on its own (no store): gait, terrain, camber, intensity.

    ``profile``: the athlete's body and habits (``None``: the documented defaults, noted in
    ``profile_notes``). What needs the athlete's other runs (the personal cadence baseline, the
    heart-rate maximum from the data, the long-run share of the week) is left out, as for a
    first run.
    """
    from .features.compute import compute_features
    from .features.profile import profile_fingerprint, resolve

    given = profile or AthleteProfile()
    resolved = resolve(given, on=activity.record.start_time.date())
    return compute_features(activity.record, activity.samples, resolved, fingerprint=profile_fingerprint(given))


class Store:
    """A gaitrisk store (an SQLite file, created user-only when new); a context manager.

    A folder, or a file that is not a gaitrisk store, is refused with a
    :class:`~gaitrisk.store.StoreError` naming the path. ``tz``: the IANA time zone whose
    calendar days the load, flags, risk and report count (default: ``$TZ`` or this machine's).
    """

    def __init__(self, path: str | os.PathLike[str], *, tz: str | None = None) -> None:
        from .times import resolve_zone
        from .store import Store as SqliteStore

        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: a folder, not a database file (give a file path, e.g. "
                             f"{self.path / 'gaitrisk.db'})")
        self.zone: ZoneInfo = resolve_zone(tz)
        self._store: _Store = SqliteStore(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._store.close()

    def athletes(self) -> list[str]:
        """The names of the athletes in the store."""
        return self._store.athletes()

    def athlete(self, name: str) -> Athlete:
        """The handle of athlete ``name`` (created in the store by their first import or pain entry)."""
        if not name.strip():
            raise ValueError("an athlete's name cannot be empty")
        return Athlete(self._store, name, self.zone)


class Athlete:
    """One athlete of a :class:`Store`: their imports, runs, load, pain log, flags, risk and report."""

    def __init__(self, store: _Store, name: str, zone: ZoneInfo) -> None:
        self._store, self.name, self.zone = store, name, zone
        self.pain = PainLog(store, name, zone)

    def import_files(self, paths: Sequence[str | os.PathLike[str]], *, workers: int = 1) -> ImportOutcome:
        """Import activity files, folders, ``.gz`` and export zips, then compute the new runs'
        features (the ``gaitrisk import`` workflow). ``workers``: processes (1: this one; 0: all
        cores). Damaged and unreadable files are in the outcome, never raised."""
        from .executor import make_executor
        from .workflow import import_files

        executor = make_executor(workers)
        try:
            return import_files(self._store, [os.fspath(p) for p in paths], self.name, executor=executor)
        finally:
            close = getattr(executor, "close", None)
            if close is not None:
                close()

    def runs(self) -> pd.DataFrame:
        """One row per stored activity, oldest first, indexed by activity id: the activity's
        ``start_time`` (UTC), ``sport``, ``fmt``, ``device``, ``partial`` and whether it
        ``counts`` as a run, then its feature columns (NaN where not computed)."""
        import pandas as pd

        from .review import counts

        reviews = self._store.reviews(self.name)
        rows = [{"activity_id": r.id, "start_time": r.start_time, "sport": r.sport, "sub_sport": r.sub_sport,
                 "fmt": r.fmt, "device": r.device, "name": r.name, "partial": r.partial,
                 "counts": counts(reviews.get(r.id), r.sport)} for r in self._store.activities(self.name)]
        acts = pd.DataFrame.from_records(rows, columns=["activity_id", "start_time", "sport", "sub_sport", "fmt",
                                                        "device", "name", "partial", "counts"])
        feats = self._store.run_features(self.name)
        return acts.set_index("activity_id").join(feats, how="left")

    def load(self, weeks: int = 12, until: dt.date | None = None) -> LoadReport:
        """The weekly training load of the ``weeks`` 7-day blocks ending on ``until`` (default: the
        last day with a run or a pain entry), as ``gaitrisk load`` shows it."""
        from .load.weekly import load_report

        if weeks < 1:
            raise ValueError(f"weeks must be at least 1, not {weeks}")
        return load_report(self._store, self.name, self.zone, until or self._last_day(), weeks)

    def flags(self, day: dt.date | None = None, *, days: int = 7) -> Assessment:
        """The flags (red flags first) of the ``days`` days ending on ``day`` (default: the last day
        with a run or a pain entry), as ``gaitrisk flags`` shows them."""
        from .model.flags import assess

        self._last_day()
        return assess(self._store, self.name, self.zone, last=day, days=days, model_path=self._model_path())

    def risk(self, day: dt.date | None = None) -> RiskReport:
        """The probability of a hip or lateral-knee pain onset in the 7 days after ``day`` (default:
        the last day with data), with its interval and drivers, as ``gaitrisk risk`` shows it."""
        from .model.risk import risk_for

        self._last_day()
        return risk_for(self._store, self.name, self.zone, day, day, model_path=self._model_path())

    def report(self, format: ReportFormat = "text", *, day: dt.date | None = None) -> str:
        """The athlete's report as of ``day`` (default: today, capped at the last day with data), in
        ``format``: text, json (the versioned contract), html (one self-contained file) or markdown."""
        from .report import build_athlete_report, render

        if format not in ("text", "json", "html", "markdown"):
            raise ValueError(f"format must be text, json, html or markdown, not {format!r}")
        self._last_day()
        built = build_athlete_report(self._store, self.name, self.zone, today=day, model_path=self._model_path())
        return render([built], format)

    def _last_day(self) -> dt.date:
        """The last day with a run or a pain entry; ``LookupError`` naming the store without runs."""
        from .load.daily import latest_days

        days = latest_days(self._store, self.name, self.zone)
        if days is None:
            raise LookupError(f"no runs stored for athlete {self.name!r} in {self._store.path}")
        return days[1]

    def _model_path(self) -> Path:
        from .model.persist import default_model_path

        return default_model_path(self._store.path)


class PainLog:
    """An athlete's pain log: 0-10 scores by region and side, entered in local time."""

    def __init__(self, store: _Store, athlete: str, zone: ZoneInfo) -> None:
        self._store, self._athlete, self._zone = store, athlete, zone

    def add(self, score: int, region: str, side: str, when: str, *, date: dt.date | None = None,
            time: str | None = None, behaviour: str | None = None, note: str | None = None) -> PainEntry:
        """Log one entry (``gaitrisk pain add``): ``region`` such as ``"lateral hip"``, ``side``
        L, R or both, ``when`` such as ``"after_run"``; ``date`` without ``time`` records the day
        only, neither records now. A bad value or an entry already logged raises ``ValueError``."""
        from .pain.entry_input import build_entry

        if date is None and time is None:
            now = dt.datetime.now(self._zone)
            date, time = now.date(), now.strftime("%H:%M")
        day = date or dt.datetime.now(self._zone).date()
        entry = build_entry(self._athlete, self._zone, date=day.isoformat(), time=time, score=score, region=region,
                            side=side, when=when, behaviour=behaviour, note=note)
        (new_id,) = self._store.add_pain_entries([entry])
        if new_id is None:
            raise ValueError("the same entry (time, region, side, when) is already in the log")
        return entry.with_id(new_id)

    def list(self, since: dt.date | None = None) -> builtins.list[PainEntry]:
        """The entries, oldest first (``since``: only those on or after this local day)."""
        lower = None if since is None else \
            dt.datetime.combine(since, dt.time(0, 0), tzinfo=self._zone).astimezone(dt.timezone.utc)
        entries: builtins.list[PainEntry] = self._store.pain_entries(self._athlete, since=lower)
        return entries
