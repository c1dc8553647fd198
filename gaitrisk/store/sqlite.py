"""The local store: one SQLite file (WAL mode), many athletes.

Every activity -- its row, its source records and its samples -- is written in
one transaction, so a crash or Ctrl-C never leaves half an activity.  The
database and its folder are created readable by the user only: they hold
health data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..records import ActivityRecord, DeviceSummary, Lap
from . import codec
from .migrations import MIGRATIONS

log = logging.getLogger(__name__)

ENV_DB = "GAITRISK_DB"
_BUSY_TIMEOUT_MS = 60_000  # the nightly job and a manual import may overlap


def default_db_path() -> Path:
    """``$GAITRISK_DB`` or ``gaitrisk.db`` in the user's data directory."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("gaitrisk", appauthor=False)) / "gaitrisk.db"


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"


def _parse_iso(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


@dataclass(frozen=True)
class SourceRef:
    sha256: str
    leg_index: int
    file_name: str
    fmt: str
    size_bytes: int


class StoreError(RuntimeError):
    """The database cannot be opened or is not a gaitrisk store."""


class Store:
    """A gaitrisk database.  Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._conn = self._open()

    # -- connection and schema -------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Create the file ourselves so it is user-only from its first byte.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable gaitrisk database ({exc})") from exc
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        while True:
            # The level is read inside the write lock: two processes opening a new
            # store at once must not both apply the same migration.
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise StoreError(f"database schema v{version} is newer than this gaitrisk "
                                     f"(v{len(MIGRATIONS)}); upgrade gaitrisk")
                if version == len(MIGRATIONS):
                    conn.execute("COMMIT")
                    return
                for stmt in _statements(MIGRATIONS[version]):
                    conn.execute(stmt)
                conn.execute(f"PRAGMA user_version={version + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            log.info("store migrated to schema v%d", version + 1)

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception, Ctrl-C included."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    # -- athletes --------------------------------------------------------------
    def athlete_id(self, name: str, create: bool = True) -> int | None:
        row = self._conn.execute("SELECT id FROM athletes WHERE name=?", (name,)).fetchone()
        if row or not create:
            return row[0] if row else None
        with self.transaction() as c:
            c.execute("INSERT OR IGNORE INTO athletes(name) VALUES (?)", (name,))
        return self._conn.execute("SELECT id FROM athletes WHERE name=?", (name,)).fetchone()[0]

    def athletes(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT name FROM athletes ORDER BY name")]

    # -- sources and duplicates ------------------------------------------------
    def known_source(self, athlete: str, sha256: str) -> list[str]:
        """Activity ids already imported from these exact bytes for this athlete."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return []
        return [r[0] for r in self._conn.execute(
            "SELECT DISTINCT activity_id FROM activity_sources WHERE athlete_id=? AND sha256=?", (aid, sha256))]

    def skipped_reason(self, athlete: str, sha256: str, reader_version: str) -> str | None:
        """Why these exact bytes were skipped before by this reader version, if they were."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return None
        row = self._conn.execute(
            "SELECT reason FROM skipped_files WHERE athlete_id=? AND sha256=? AND reader_version=?",
            (aid, sha256, reader_version)).fetchone()
        return row[0] if row else None

    def remember_skipped(self, athlete: str, sha256: str, reader_version: str, file_name: str, reason: str) -> None:
        aid = self.athlete_id(athlete)
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO skipped_files(athlete_id, sha256, reader_version, file_name, reason)"
                      " VALUES (?,?,?,?,?)", (aid, sha256, reader_version, file_name, reason))

    def overlapping(self, athlete: str, start: dt.datetime, window_s: float) -> list[tuple[str, str, float, float]]:
        """(id, fmt, start_ts, duration_s) of the athlete's activities starting within ``window_s``."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return []
        t = start.timestamp()
        return list(self._conn.execute(
            "SELECT id, fmt, start_ts, duration_s FROM activities WHERE athlete_id=? AND start_ts BETWEEN ? AND ?",
            (aid, t - window_s, t + window_s)))

    # -- writing -----------------------------------------------------------------
    def add_activity(self, rec: ActivityRecord, samples, source: SourceRef) -> None:
        """Insert a new activity with its source and samples, atomically."""
        aid = self.athlete_id(rec.athlete)
        blob = codec.encode(samples)
        now = _iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            c.execute(
                "INSERT INTO activities(id, athlete_id, fmt, sport, sub_sport, device, name, start_time, start_ts,"
                " duration_s, moving_time_s, distance_m, avg_cadence_spm, avg_stance_time_ms, partial,"
                " summary_json, laps_json, problems_json, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rec.id, aid, *self._activity_values(rec), now))
            self._insert_source(c, aid, rec.id, source, now)
            c.execute("INSERT INTO samples(activity_id, format, n_rows, blob) VALUES (?,?,?,?)",
                      (rec.id, codec.FORMAT, len(samples), blob))

    def replace_activity_data(self, rec: ActivityRecord, samples, source: SourceRef) -> None:
        """Swap an activity's data for a richer source's, keeping its id and all its sources."""
        aid = self.athlete_id(rec.athlete)
        blob = codec.encode(samples)
        now = _iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            c.execute(
                "UPDATE activities SET fmt=?, sport=?, sub_sport=?, device=?, name=?, start_time=?, start_ts=?,"
                " duration_s=?, moving_time_s=?, distance_m=?, avg_cadence_spm=?, avg_stance_time_ms=?, partial=?,"
                " summary_json=?, laps_json=?, problems_json=? WHERE id=?",
                (*self._activity_values(rec), rec.id))
            self._insert_source(c, aid, rec.id, source, now)
            c.execute("UPDATE samples SET format=?, n_rows=?, blob=? WHERE activity_id=?",
                      (codec.FORMAT, len(samples), blob, rec.id))

    def add_source(self, athlete: str, activity_id: str, source: SourceRef) -> None:
        aid = self.athlete_id(athlete)
        with self.transaction() as c:
            self._insert_source(c, aid, activity_id, source, _iso(dt.datetime.now(dt.timezone.utc)))

    @staticmethod
    def _insert_source(c: sqlite3.Connection, aid: int, activity_id: str, s: SourceRef, now: str) -> None:
        c.execute("INSERT OR IGNORE INTO activity_sources(athlete_id, sha256, leg_index, activity_id, file_name,"
                  " fmt, size_bytes, imported_at) VALUES (?,?,?,?,?,?,?,?)",
                  (aid, s.sha256, s.leg_index, activity_id, s.file_name, s.fmt, s.size_bytes, now))

    @staticmethod
    def _activity_values(rec: ActivityRecord) -> tuple:
        return (rec.fmt, rec.sport, rec.sub_sport, rec.device, rec.name, _iso(rec.start_time),
                rec.start_time.timestamp(), rec.duration_s, rec.moving_time_s, rec.distance_m,
                rec.avg_cadence_spm, rec.avg_stance_time_ms, int(rec.partial),
                json.dumps(rec.summary.as_dict()) if rec.summary else None,
                json.dumps([{"start_time": _iso(lp.start_time), "elapsed_s": lp.elapsed_s, "timer_s": lp.timer_s,
                             "distance_m": lp.distance_m} for lp in rec.laps]),
                json.dumps(list(rec.problems)))

    # -- reading -----------------------------------------------------------------
    _SELECT = ("SELECT a.id, ath.name, a.fmt, a.sport, a.sub_sport, a.device, a.name, a.start_time, a.duration_s,"
               " a.moving_time_s, a.distance_m, a.avg_cadence_spm, a.avg_stance_time_ms, a.partial,"
               " a.summary_json, a.laps_json, a.problems_json FROM activities a JOIN athletes ath ON ath.id=a.athlete_id")

    def _record(self, row: tuple) -> ActivityRecord:
        sources = tuple(r[0] for r in self._conn.execute(
            "SELECT file_name FROM activity_sources WHERE activity_id=? ORDER BY imported_at, file_name", (row[0],)))
        summary = None
        if row[14]:
            d = json.loads(row[14])
            if d.get("start_time"):
                d["start_time"] = _parse_iso(d["start_time"])
            summary = DeviceSummary(**d)
        laps = tuple(Lap(start_time=_parse_iso(lp["start_time"]), elapsed_s=lp["elapsed_s"], timer_s=lp["timer_s"],
                         distance_m=lp["distance_m"]) for lp in json.loads(row[15] or "[]"))
        return ActivityRecord(
            id=row[0], athlete=row[1], fmt=row[2], sport=row[3], sub_sport=row[4], device=row[5], name=row[6],
            start_time=_parse_iso(row[7]), duration_s=row[8], moving_time_s=row[9], distance_m=row[10],
            avg_cadence_spm=row[11], avg_stance_time_ms=row[12], partial=bool(row[13]), sources=sources,
            laps=laps, summary=summary, problems=tuple(json.loads(row[16] or "[]")))

    def activities(self, athlete: str | None = None) -> list[ActivityRecord]:
        sql, args = self._SELECT, ()
        if athlete is not None:
            sql += " WHERE ath.name=?"
            args = (athlete,)
        sql += " ORDER BY a.start_ts, a.id"
        return [self._record(r) for r in self._conn.execute(sql, args)]

    def find(self, id_prefix: str) -> list[ActivityRecord]:
        """Activities whose id starts with ``id_prefix`` (ids may be abbreviated, like git's)."""
        rows = self._conn.execute(self._SELECT + " WHERE a.id LIKE ? ESCAPE '\\' ORDER BY a.start_ts",
                                  (id_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",))
        return [self._record(r) for r in rows]

    def samples(self, activity_id: str):
        row = self._conn.execute("SELECT format, blob FROM samples WHERE activity_id=?", (activity_id,)).fetchone()
        if row is None:
            raise KeyError(activity_id)
        if row[0] != codec.FORMAT:
            raise StoreError(f"samples of {activity_id} are in an unknown format {row[0]!r}")
        return codec.decode(row[1])

    def integrity_check(self) -> str:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]


def _statements(script: str) -> list[str]:
    """Split a migration script on ';' (the scripts hold no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
