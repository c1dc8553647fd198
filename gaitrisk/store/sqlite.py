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
from typing import Iterable, Iterator, Sequence

from ..records import ActivityRecord, DataGap, DeviceSummary, Lap, OstrcWeek, PainEntry, Review
from ..times import iso, parse_iso
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


@dataclass(frozen=True)
class SourceRef:
    sha256: str
    leg_index: int
    file_name: str
    fmt: str
    size_bytes: int


@dataclass(frozen=True)
class FileIndexEntry:
    """A file on disk that was fully imported: a plain file's ``sha256``, or an archive's ``members``.

    ``members`` holds (name suffix after the archive's path, sha256 or ``None``, skip reason or
    ``None``) per activity member; ``None`` for a plain file.
    """

    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    members: tuple[tuple[str, str | None, str | None], ...] | None = None


# A feature record that is not its row's run (see ``Store.misfiled_features``).
MISFILED_FEATURES_SQL = (
    "SELECT f.activity_id FROM run_features f LEFT JOIN activities a ON a.id = f.activity_id"
    " WHERE json_extract(f.record_json, '$.activity_id') IS NOT f.activity_id"
    " OR a.athlete_id IS NOT f.athlete_id ORDER BY f.activity_id")


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents user-only (0700), whatever the umask."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:  # made by a concurrent opener
            continue
        os.chmod(d, 0o700)  # mkdir's mode is masked by the umask


class StoreError(RuntimeError):
    """The database cannot be opened or is not a gaitrisk store."""


class AthleteDeleted(StoreError):
    """The athlete a store was writing for was deleted by another command."""


def decode_samples(activity_id: str, fmt: str, blob: bytes, *, decode=codec.decode):
    """The samples frame from :meth:`Store.samples_blob`'s bytes (pure: runs in worker processes too);
    ``decode``: :func:`.codec.decode_columns` for one array per column instead."""
    if fmt not in codec.FORMATS:
        raise StoreError(f"samples of {activity_id} are in an unknown format {fmt!r}")
    try:
        return decode(blob, fmt)
    except codec.CodecError as e:
        raise StoreError(f"samples of {activity_id} are damaged: {e}") from None


class Store:
    """A gaitrisk database.  Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False) -> None:
        """Open (creating and migrating when needed) the store at ``path``.

        ``read_only``: open an existing store of the current schema for reading only (a
        missing file or another schema level is a :class:`StoreError`; nothing is created,
        migrated or written, and a write raises).
        """
        self.path = Path(path) if path is not None else default_db_path()
        self._written: set[str] = set()  # every athlete this store wrote for
        self._conn = self._open_read_only() if read_only else self._open()

    # -- connection and schema -------------------------------------------------
    def _open_read_only(self) -> sqlite3.Connection:
        # Never create: a worker given a path it cannot see must fail, not analyse an empty store.
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no such gaitrisk database")
        uri = self.path.resolve().as_uri()
        try:
            try:
                conn = self._connect_read_only(f"{uri}?mode=ro")
            except sqlite3.OperationalError:
                # In a folder nobody may write, a WAL database cannot get its -shm file and does not
                # open this way.  Without a -wal file beside it the file alone is the whole database,
                # and with its folder read-only no writer can start one: read it as immutable.
                if Path(f"{self.path}-wal").exists():
                    raise
                conn = self._connect_read_only(f"{uri}?mode=ro&immutable=1")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable gaitrisk database ({exc})") from exc
        if version != len(MIGRATIONS):
            conn.close()
            raise StoreError(f"{self.path}: database schema v{version}, this gaitrisk reads v{len(MIGRATIONS)} "
                             "(opened read-only: not migrated)")
        return conn

    @staticmethod
    def _connect_read_only(uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute("PRAGMA query_only=ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opening is lazy: read once
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            try:
                make_private_dirs(self.path.parent)
                if not self.path.exists():
                    # Create the file ourselves so it is user-only from its first byte.
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot create the store ({exc.strerror or exc})") from exc
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate(conn)
        except sqlite3.OperationalError as exc:  # permissions, a full disk, a lock: not the file's fault
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable gaitrisk database ({exc})") from exc
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        # A store at this schema needs no write lock to open: reading commands must not wait
        # for (or fail on) another program's write transaction, nor need a writable file.
        if conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
            return
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
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception, Ctrl-C included.

        Nested use joins the outer transaction, so a batch of writes (``with store.transaction():
        store.add_activity(...); ...``) commits whole or not at all; reads on this store inside
        it see the batch's own uncommitted writes (deduplication within a batch relies on that).
        """
        if self._conn.in_transaction:
            yield self._conn  # the outer transaction commits or rolls back
            return
        self._conn.execute("BEGIN IMMEDIATE")
        written = set(self._written)
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._written = written  # an athlete created in it never existed
            raise
        else:
            self._conn.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[sqlite3.Connection]:
        """Inside a transaction: the writes of the block are undone together when it raises (and
        the exception goes on), the transaction's other writes stay.  Outside one: :meth:`transaction`."""
        if not self._conn.in_transaction:
            with self.transaction() as c:
                yield c
            return
        self._conn.execute("SAVEPOINT gaitrisk_block")
        written = set(self._written)
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK TO gaitrisk_block")
            self._conn.execute("RELEASE gaitrisk_block")
            self._written = written
            raise
        else:
            self._conn.execute("RELEASE gaitrisk_block")

    # -- athletes --------------------------------------------------------------
    def athlete_id(self, name: str, create: bool = True) -> int | None:
        """The athlete's id; with ``create`` (the writers' call) created when new.

        Once this store has written for an athlete, the athlete must stay: when another
        program deleted them meanwhile (``gaitrisk delete`` during an import), a write raises
        :class:`AthleteDeleted` instead of re-creating them, so the delete stays true.
        """
        row = self._conn.execute("SELECT id FROM athletes WHERE name=?", (name,)).fetchone()
        if row or not create:
            if row and create:
                self._written.add(name)
            return row[0] if row else None
        if name in self._written:
            raise AthleteDeleted(f"{self.path}: athlete {name!r} was deleted by another command while this one "
                                 "wrote for them; nothing more was stored")
        if not name.strip():
            raise StoreError("an athlete's name cannot be empty")
        with self.transaction() as c:
            c.execute("INSERT OR IGNORE INTO athletes(name) VALUES (?)", (name,))
        self._written.add(name)
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

    def source_index(self, athlete: str) -> dict[str, list[str]]:
        """sha256 -> activity ids, for every source file imported for ``athlete`` (one query)."""
        aid = self.athlete_id(athlete, create=False)
        out: dict[str, list[str]] = {}
        if aid is None:
            return out
        for sha, act in self._conn.execute("SELECT DISTINCT sha256, activity_id FROM activity_sources"
                                           " WHERE athlete_id=?", (aid,)):
            out.setdefault(sha, []).append(act)
        return out

    def skipped_index(self, athlete: str, reader_version: str) -> dict[str, str]:
        """sha256 -> reason, for every file skipped for ``athlete`` by this reader version."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return {}
        return dict(self._conn.execute("SELECT sha256, reason FROM skipped_files WHERE athlete_id=?"
                                       " AND reader_version=?", (aid, reader_version)))

    def file_index(self, athlete: str) -> dict[str, FileIndexEntry]:
        """Absolute path -> what was imported from it for ``athlete`` (see :meth:`index_file`)."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return {}
        return {r[0]: FileIndexEntry(r[0], r[1], r[2], r[3],
                                     tuple(tuple(m) for m in json.loads(r[4])) if r[4] is not None else None)
                for r in self._conn.execute("SELECT path, size_bytes, mtime_ns, sha256, members_json FROM file_index"
                                            " WHERE athlete_id=?", (aid,))}

    def index_file(self, athlete: str, entry: FileIndexEntry) -> None:
        """Remember that the file at ``entry.path`` with this size and mtime was fully imported."""
        aid = self.athlete_id(athlete)
        members = None if entry.members is None else json.dumps([list(m) for m in entry.members])
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO file_index(athlete_id, path, size_bytes, mtime_ns, sha256, members_json,"
                      " indexed_at) VALUES (?,?,?,?,?,?,?)", (aid, entry.path, entry.size, entry.mtime_ns, entry.sha256,
                                                             members, iso(dt.datetime.now(dt.timezone.utc))))

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
        """Insert a new activity with its source and samples, atomically.

        ``samples``: the samples frame, or :class:`codec.Encoded` samples (encoded elsewhere).
        """
        aid = self.athlete_id(rec.athlete)
        enc = samples if isinstance(samples, codec.Encoded) else codec.encoded(samples)
        now = iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            c.execute(
                "INSERT INTO activities(id, athlete_id, fmt, sport, sub_sport, device, name, start_time, start_ts,"
                " duration_s, moving_time_s, distance_m, avg_cadence_spm, avg_stance_time_ms, partial,"
                " summary_json, laps_json, problems_json, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rec.id, aid, *self._activity_values(rec), now))
            self._insert_source(c, aid, rec.id, source, now)
            c.execute("INSERT INTO samples(activity_id, format, n_rows, blob) VALUES (?,?,?,?)",
                      (rec.id, enc.format, enc.n_rows, enc.blob))

    def replace_activity_data(self, rec: ActivityRecord, samples, source: SourceRef) -> None:
        """Swap an activity's data for a richer source's, keeping its id and all its sources.

        ``samples`` as for :meth:`add_activity`.  The activity's feature record goes in the same
        transaction: it was computed from the samples replaced, and a missing record is what
        makes the features compute the run again.
        """
        aid = self.athlete_id(rec.athlete)
        enc = samples if isinstance(samples, codec.Encoded) else codec.encoded(samples)
        now = iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            c.execute(
                "UPDATE activities SET fmt=?, sport=?, sub_sport=?, device=?, name=?, start_time=?, start_ts=?,"
                " duration_s=?, moving_time_s=?, distance_m=?, avg_cadence_spm=?, avg_stance_time_ms=?, partial=?,"
                " summary_json=?, laps_json=?, problems_json=? WHERE id=?",
                (*self._activity_values(rec), rec.id))
            self._insert_source(c, aid, rec.id, source, now)
            c.execute("UPDATE samples SET format=?, n_rows=?, blob=? WHERE activity_id=?",
                      (enc.format, enc.n_rows, enc.blob, rec.id))
            c.execute("DELETE FROM run_features WHERE activity_id=?", (rec.id,))

    def add_source(self, athlete: str, activity_id: str, source: SourceRef) -> None:
        aid = self.athlete_id(athlete)
        with self.transaction() as c:
            self._insert_source(c, aid, activity_id, source, iso(dt.datetime.now(dt.timezone.utc)))

    @staticmethod
    def _insert_source(c: sqlite3.Connection, aid: int, activity_id: str, s: SourceRef, now: str) -> None:
        c.execute("INSERT OR IGNORE INTO activity_sources(athlete_id, sha256, leg_index, activity_id, file_name,"
                  " fmt, size_bytes, imported_at) VALUES (?,?,?,?,?,?,?,?)",
                  (aid, s.sha256, s.leg_index, activity_id, s.file_name, s.fmt, s.size_bytes, now))

    @staticmethod
    def _activity_values(rec: ActivityRecord) -> tuple:
        return (rec.fmt, rec.sport, rec.sub_sport, rec.device, rec.name, iso(rec.start_time),
                rec.start_time.timestamp(), rec.duration_s, rec.moving_time_s, rec.distance_m,
                rec.avg_cadence_spm, rec.avg_stance_time_ms, int(rec.partial),
                json.dumps(rec.summary.as_dict()) if rec.summary else None,
                json.dumps([{"start_time": iso(lp.start_time), "elapsed_s": lp.elapsed_s, "timer_s": lp.timer_s,
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
                d["start_time"] = parse_iso(d["start_time"])
            summary = DeviceSummary(**d)
        laps = tuple(Lap(start_time=parse_iso(lp["start_time"]), elapsed_s=lp["elapsed_s"], timer_s=lp["timer_s"],
                         distance_m=lp["distance_m"]) for lp in json.loads(row[15] or "[]"))
        return ActivityRecord(
            id=row[0], athlete=row[1], fmt=row[2], sport=row[3], sub_sport=row[4], device=row[5], name=row[6],
            start_time=parse_iso(row[7]), duration_s=row[8], moving_time_s=row[9], distance_m=row[10],
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
        return decode_samples(activity_id, *self.samples_blob(activity_id))

    def sample_arrays(self, activity_id: str) -> dict:
        """One activity's samples as one array per column (:func:`.codec.decode_columns`), without pandas."""
        return decode_samples(activity_id, *self.samples_blob(activity_id), decode=codec.decode_columns)

    def sample_columns(self, activity_id: str) -> tuple[str, ...]:
        """The columns of one activity's stored samples, from the blob's header (not the samples)."""
        row = self._conn.execute("SELECT format, substr(blob, 1, ?) FROM samples WHERE activity_id=?",
                                 (codec.HEADER_BYTES, activity_id)).fetchone()
        if row is None:
            raise KeyError(activity_id)
        fmt, head = row
        if fmt == codec.LEGACY_FORMAT:  # a zip: its directory is at the end
            fmt, head = self.samples_blob(activity_id)
        try:
            return codec.column_names(head, fmt)
        except codec.CodecError as e:
            raise StoreError(f"samples of {activity_id} are damaged: {e}") from None

    def samples_blob(self, activity_id: str) -> tuple[str, bytes]:
        """(format, encoded bytes) of one activity's samples, undecoded: what a worker process is sent."""
        row = self._conn.execute("SELECT format, blob FROM samples WHERE activity_id=?", (activity_id,)).fetchone()
        if row is None:
            raise KeyError(activity_id)
        return row[0], row[1]

    def integrity_check(self) -> str:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]

    # -- pain log ------------------------------------------------------
    _PAIN_COLS = ("p.id, ath.name, p.time_utc, p.score, p.region, p.side, p.context, p.behaviour, p.note,"
                  " p.date_only, p.zone")

    @staticmethod
    def _pain_values(e: PainEntry) -> tuple:
        return (iso(e.time_utc), e.time_utc.timestamp(), int(e.date_only), e.zone, e.score, e.region, e.side,
                e.when, e.behaviour, e.note)

    @staticmethod
    def _pain_record(row: tuple) -> PainEntry:
        return PainEntry(id=row[0], athlete=row[1], time_utc=parse_iso(row[2]), score=row[3], region=row[4],
                         side=row[5], when=row[6], behaviour=row[7], note=row[8], date_only=bool(row[9]),
                         zone=row[10])

    def add_pain_entries(self, entries: Sequence[PainEntry]) -> list[int | None]:
        """Store pain entries in one transaction; the id of each, ``None`` where it was already stored."""
        ids: list[int | None] = []
        if not entries:
            return ids
        aids = {name: self.athlete_id(name) for name in {e.athlete for e in entries}}
        now = iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            for e in entries:
                cur = c.execute(
                    "INSERT INTO pain_entries(athlete_id, time_utc, ts, date_only, zone, score, region, side, context,"
                    " behaviour, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(athlete_id, ts, region, side, context) DO NOTHING",
                    (aids[e.athlete], *self._pain_values(e), now))
                ids.append(cur.lastrowid if cur.rowcount else None)
        return ids

    def pain_entries(self, athlete: str, since: dt.datetime | None = None,
                     until: dt.datetime | None = None) -> list[PainEntry]:
        """An athlete's pain entries, oldest first, optionally within [since, until)."""
        sql = (f"SELECT {self._PAIN_COLS} FROM pain_entries p JOIN athletes ath ON ath.id=p.athlete_id"
               " WHERE ath.name=?")
        args: list = [athlete]
        if since is not None:
            sql += " AND p.ts >= ?"
            args.append(since.timestamp())
        if until is not None:
            sql += " AND p.ts < ?"
            args.append(until.timestamp())
        return [self._pain_record(r) for r in self._conn.execute(sql + " ORDER BY p.ts, p.id", args)]

    def pain_entry(self, athlete: str, entry_id: int) -> PainEntry | None:
        row = self._conn.execute(f"SELECT {self._PAIN_COLS} FROM pain_entries p JOIN athletes ath"
                                 " ON ath.id=p.athlete_id WHERE ath.name=? AND p.id=?", (athlete, entry_id)).fetchone()
        return self._pain_record(row) if row else None

    def update_pain_entry(self, entry: PainEntry) -> bool:
        """Overwrite a stored entry (matched by id and athlete).  False when there is no such entry."""
        aid = self.athlete_id(entry.athlete, create=False)
        if aid is None or entry.id is None:
            return False
        with self.transaction() as c:
            cur = c.execute("UPDATE pain_entries SET time_utc=?, ts=?, date_only=?, zone=?, score=?, region=?,"
                            " side=?, context=?, behaviour=?, note=? WHERE id=? AND athlete_id=?",
                            (*self._pain_values(entry), entry.id, aid))
        return cur.rowcount == 1

    def delete_pain_entry(self, athlete: str, entry_id: int) -> bool:
        return self._delete_owned("pain_entries", athlete, entry_id)

    def row_owner(self, table: str, row_id: int) -> str | None:
        """The athlete a pain entry or data gap belongs to (ids are store-wide); ``None``: no such row."""
        if table not in ("pain_entries", "data_gaps"):
            raise ValueError(f"not a table of per-athlete rows with ids: {table}")
        row = self._conn.execute(f"SELECT ath.name FROM {table} t JOIN athletes ath ON ath.id=t.athlete_id"
                                 " WHERE t.id=?", (row_id,)).fetchone()
        return row[0] if row else None

    def _delete_owned(self, table: str, athlete: str, row_id: int) -> bool:
        """Delete one row of ``table`` only if it belongs to ``athlete``; True if one went."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return False
        with self.transaction() as c:  # table is one of our own names, never user input
            cur = c.execute(f"DELETE FROM {table} WHERE id=? AND athlete_id=?", (row_id, aid))
        return cur.rowcount == 1

    # -- weekly OSTRC questionnaire -----------------------------------------------
    def put_ostrc_weeks(self, weeks: Sequence[OstrcWeek]) -> list[bool]:
        """Store weekly answers in one transaction; per answer, True when it replaced an earlier one
        (one answer per athlete, week and area: the newer one stands)."""
        replaced: list[bool] = []
        if not weeks:
            return replaced
        aids = {name: self.athlete_id(name) for name in {w.athlete for w in weeks}}
        with self.transaction() as c:
            for w in weeks:
                key = (aids[w.athlete], w.week.isoformat(), w.area)
                replaced.append(c.execute("SELECT 1 FROM ostrc_weeks WHERE athlete_id=? AND week_start=? AND area=?",
                                          key).fetchone() is not None)
                c.execute("INSERT INTO ostrc_weeks(athlete_id, week_start, area, participation, training, performance,"
                          " symptoms, entered_at, note) VALUES (?,?,?,?,?,?,?,?,?)"
                          " ON CONFLICT(athlete_id, week_start, area) DO UPDATE SET"
                          " participation=excluded.participation, training=excluded.training,"
                          " performance=excluded.performance, symptoms=excluded.symptoms,"
                          " entered_at=excluded.entered_at, note=excluded.note",
                          (*key, *w.answers, iso(w.entered_at), w.note))
        return replaced

    def ostrc_weeks(self, athlete: str, since: dt.date | None = None, until: dt.date | None = None) -> list[OstrcWeek]:
        """An athlete's weekly answers, oldest week first (then by area), weeks starting in [since, until]."""
        sql = ("SELECT o.id, ath.name, o.week_start, o.area, o.participation, o.training, o.performance, o.symptoms,"
               " o.entered_at, o.note FROM ostrc_weeks o JOIN athletes ath ON ath.id=o.athlete_id WHERE ath.name=?")
        args: list = [athlete]
        if since is not None:
            sql += " AND o.week_start >= ?"
            args.append(since.isoformat())
        if until is not None:
            sql += " AND o.week_start <= ?"
            args.append(until.isoformat())
        return [OstrcWeek(id=r[0], athlete=r[1], week=dt.date.fromisoformat(r[2]), area=r[3], participation=r[4],
                          training=r[5], performance=r[6], symptoms=r[7], entered_at=parse_iso(r[8]), note=r[9])
                for r in self._conn.execute(sql + " ORDER BY o.week_start, o.area", args)]

    # -- data gaps -----------------------------------------------------
    def add_gap(self, gap: DataGap) -> int:
        aid = self.athlete_id(gap.athlete)
        with self.transaction() as c:
            cur = c.execute("INSERT INTO data_gaps(athlete_id, first_day, last_day, reason, created_at)"
                            " VALUES (?,?,?,?,?)", (aid, gap.first_day.isoformat(), gap.last_day.isoformat(),
                                                    gap.reason, iso(dt.datetime.now(dt.timezone.utc))))
        return int(cur.lastrowid)

    def gaps(self, athlete: str) -> list[DataGap]:
        rows = self._conn.execute(
            "SELECT g.id, ath.name, g.first_day, g.last_day, g.reason FROM data_gaps g JOIN athletes ath"
            " ON ath.id=g.athlete_id WHERE ath.name=? ORDER BY g.first_day, g.id", (athlete,))
        return [DataGap(id=r[0], athlete=r[1], first_day=dt.date.fromisoformat(r[2]),
                        last_day=dt.date.fromisoformat(r[3]), reason=r[4]) for r in rows]

    def delete_gap(self, athlete: str, gap_id: int) -> bool:
        return self._delete_owned("data_gaps", athlete, gap_id)

    # -- athlete profiles and per-run features ---------------------------
    def profile(self, athlete: str) -> dict | None:
        """The athlete's stored profile fields (``None`` where not set), or ``None`` if never set."""
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return None
        row = self._conn.execute("SELECT profile_json FROM athlete_profiles WHERE athlete_id=?", (aid,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_profile(self, athlete: str, profile: dict) -> None:
        """Store the athlete's profile fields (replacing the previous ones)."""
        aid = self.athlete_id(athlete)
        now = iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            c.execute("INSERT INTO athlete_profiles(athlete_id, profile_json, updated_at) VALUES (?,?,?)"
                      " ON CONFLICT(athlete_id) DO UPDATE SET profile_json=excluded.profile_json,"
                      " updated_at=excluded.updated_at", (aid, json.dumps(profile, sort_keys=True), now))

    def feature_versions(self, athlete: str | None = None) -> dict[str, int]:
        """activity id -> feature version of its stored record."""
        sql = "SELECT f.activity_id, f.feature_version FROM run_features f"
        args: tuple = ()
        if athlete is not None:
            sql += " JOIN athletes ath ON ath.id=f.athlete_id WHERE ath.name=?"
            args = (athlete,)
        return {r[0]: r[1] for r in self._conn.execute(sql, args)}

    def feature_states(self, athlete: str) -> dict[str, tuple[int, str | None]]:
        """activity id -> (feature version, profile fingerprint) of its stored record, read in one
        query without decoding the records."""
        rows = self._conn.execute(
            "SELECT f.activity_id, f.feature_version, json_extract(f.record_json, '$.profile_fingerprint')"
            " FROM run_features f JOIN athletes ath ON ath.id=f.athlete_id WHERE ath.name=?", (athlete,))
        return {r[0]: (r[1], r[2]) for r in rows}

    def misfiled_features(self) -> list[str]:
        """Activity ids whose stored feature record is not their own: the record names another
        activity, or the row's athlete is not the activity's.  Empty in a sound store."""
        return [r[0] for r in self._conn.execute(MISFILED_FEATURES_SQL)]

    def save_features(self, activity_id: str, athlete: str, version: int, record: dict) -> None:
        """Store (or replace) one activity's feature record; ``record`` must be JSON-serialisable.

        The record names its run (``activity_id``); one that names another run, or none, is
        refused (``ValueError``): a record on the wrong run would pass every later check as up
        to date.
        """
        if record.get("activity_id") != activity_id:
            raise ValueError(f"feature record of {record.get('activity_id')!r} offered for {activity_id}")
        aid = self.athlete_id(athlete)
        now = iso(dt.datetime.now(dt.timezone.utc))
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO run_features(activity_id, athlete_id, feature_version, computed_at,"
                      " distance_m, moving_time_s, descent_m, gap_distance_m, record_json) VALUES (?,?,?,?,?,?,?,?,?)",
                      (activity_id, aid, version, now, record.get("distance_m"), record.get("moving_time_s"),
                       record.get("descent_m"), record.get("gap_distance_m"),
                       json.dumps(record, sort_keys=True, allow_nan=False)))

    def features(self, activity_id: str) -> tuple[int, dict] | None:
        """(feature version, record) of one activity, or ``None`` when not computed yet."""
        row = self._conn.execute("SELECT feature_version, record_json FROM run_features WHERE activity_id=?",
                                 (activity_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    # -- whether an activity counts as a run (gaitrisk.review) --------------------
    def reviews(self, athlete: str | None = None) -> dict[str, Review]:
        """activity id -> its :class:`~gaitrisk.records.Review`, for every activity of ``athlete`` (of all
        athletes when ``None``)."""
        sql = "SELECT a.id, a.review, a.review_reason FROM activities a JOIN athletes ath ON ath.id=a.athlete_id"
        rows = self._conn.execute(sql + " WHERE ath.name=?", (athlete,)) if athlete is not None else \
            self._conn.execute(sql)
        return {r[0]: Review(r[1], r[2]) for r in rows}

    def set_review(self, activity_id: str, review: Review, *, drop_dependent_features: bool = True) -> None:
        """Store an activity's review.  ``drop_dependent_features``: also drop the feature records
        of its athlete's runs from this one on, whose history it is part of (the features then
        compute them again); the screening inside the features' own pass passes ``False``."""
        with self.transaction() as c:
            cur = c.execute("UPDATE activities SET review=?, review_reason=? WHERE id=?",
                            (review.status, review.reason, activity_id))
            if cur.rowcount != 1:
                raise KeyError(activity_id)
            if drop_dependent_features:
                self._drop_features_from(c, activity_id)

    def set_sport(self, activity_id: str, sport: str, sub_sport: str | None) -> None:
        """Correct an activity's sport; its feature record and those of the later runs go (see
        :meth:`set_review`): the surface and whether it counts may change."""
        with self.transaction() as c:
            self._drop_features_from(c, activity_id)
            cur = c.execute("UPDATE activities SET sport=?, sub_sport=? WHERE id=?", (sport, sub_sport, activity_id))
            if cur.rowcount != 1:
                raise KeyError(activity_id)

    def road_sides(self, athlete: str) -> dict[str, str]:
        """activity id -> the road side the runner declared for that run (only runs with one)."""
        rows = self._conn.execute("SELECT a.id, a.road_side FROM activities a JOIN athletes ath ON "
                                  "ath.id=a.athlete_id WHERE ath.name=? AND a.road_side IS NOT NULL", (athlete,))
        return {r[0]: r[1] for r in rows}

    def set_road_side(self, activity_id: str, side: str | None) -> None:
        """Store the road side declared for one run (``None``: forget it); its feature record goes
        (the features compute it again with the declared side)."""
        if side not in (None, "left", "right", "mixed"):
            raise ValueError(f"road side {side!r} is not left, right or mixed")
        with self.transaction() as c:
            cur = c.execute("UPDATE activities SET road_side=? WHERE id=?", (side, activity_id))
            if cur.rowcount != 1:
                raise KeyError(activity_id)
            c.execute("DELETE FROM run_features WHERE activity_id=?", (activity_id,))

    def delete_activity(self, activity_id: str) -> None:
        """Remove one activity -- its row, sources, samples and feature record -- with the feature
        records of the later runs (their history changes).  Freed pages are zeroed
        (``secure_delete``) and the write-ahead log checkpointed, so its samples leave no trace.
        Importing its file again stores it again."""
        self._conn.execute("PRAGMA secure_delete=ON")
        with self.transaction() as c:
            self._drop_features_from(c, activity_id)
            for table in ("samples", "activity_sources", "run_features"):  # our own names
                c.execute(f"DELETE FROM {table} WHERE activity_id=?", (activity_id,))
            if c.execute("DELETE FROM activities WHERE id=?", (activity_id,)).rowcount != 1:
                raise KeyError(activity_id)
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def _drop_features_from(c: sqlite3.Connection, activity_id: str) -> None:
        """Delete the feature records of the activity's athlete's runs starting at or after it."""
        c.execute("DELETE FROM run_features WHERE activity_id IN (SELECT b.id FROM activities a JOIN activities b"
                  " ON b.athlete_id=a.athlete_id AND b.start_ts>=a.start_ts WHERE a.id=?)", (activity_id,))

    def run_features(self, athlete: str):
        """The athlete's feature records as a DataFrame indexed by ``activity_id``, oldest run first.

        One column per scalar key of the record (lists and dicts stay as Python objects);
        ``descent_m`` and ``gap_distance_m`` (grade-adjusted distance, m) are always present,
        NaN where not computable.
        """
        import pandas as pd

        records = [rec | {"activity_id": run_id} for run_id, rec in self.run_feature_records(athlete).items()]
        df = pd.DataFrame.from_records(records, columns=None if records else ["activity_id"])
        for col in ("descent_m", "gap_distance_m", "distance_m", "moving_time_s"):
            if col not in df:
                df[col] = pd.Series(dtype=float)
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        return df.set_index("activity_id")

    def run_feature_records(self, athlete: str) -> dict[str, dict[str, object]]:
        """The athlete's feature records as ``{activity_id: record}``, oldest run first, each with its
        ``feature_version`` (what :meth:`run_features` tabulates, without pandas)."""
        rows = self._conn.execute(
            "SELECT f.activity_id, f.feature_version, f.record_json FROM run_features f"
            " JOIN activities a ON a.id=f.activity_id JOIN athletes ath ON ath.id=f.athlete_id"
            " WHERE ath.name=? ORDER BY a.start_ts, a.id", (athlete,))
        # Keys starting with "_" are the feature code's own cache, not features.
        return {r[0]: {k: v for k, v in json.loads(r[2]).items() if not k.startswith("_")} | {"feature_version": r[1]}
                for r in rows}

    def run_feature_values(self, athlete: str, names: Sequence[str]) -> dict[str, dict[str, object]]:
        """A few values of the athlete's feature records, without reading the records whole:
        ``{activity_id: {name: value}}`` (a value absent from a record is ``None``)."""
        if any(not n.isidentifier() for n in names):
            raise ValueError(f"not a feature name: {names!r}")
        picks = "".join(f", json_extract(f.record_json, '$.{n}')" for n in names)
        rows = self._conn.execute(
            f"SELECT f.activity_id{picks} FROM run_features f JOIN athletes ath ON ath.id=f.athlete_id"
            " WHERE ath.name=?", (athlete,))
        return {r[0]: dict(zip(names, r[1:])) for r in rows}

    # -- privacy: an athlete's data out, and gone -----------------------
    def export_athlete(self, athlete: str) -> dict | None:
        """Everything stored for ``athlete`` as JSON-ready values, or ``None`` for an unknown athlete.

        Activities (with sources, laps, device summary, problems and every sample), feature
        records, pain entries, data gaps, weekly OSTRC answers, the profile, and the files remembered
        as skipped.  NaN samples become ``null``; times are ISO 8601 UTC.
        """
        import numpy as np

        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return None
        activities = []
        for rec in self.activities(athlete):
            sources = [dict(zip(("file_name", "sha256", "leg_index", "format", "size_bytes", "imported_at"), r))
                       for r in self._conn.execute(
                           "SELECT file_name, sha256, leg_index, fmt, size_bytes, imported_at FROM activity_sources"
                           " WHERE activity_id=? ORDER BY imported_at, file_name", (rec.id,))]
            samples = self.samples(rec.id)
            columns: dict[str, list] = {}
            for col in samples.columns:
                values = samples[col]
                if hasattr(values, "dt"):
                    columns[col] = [iso(t.to_pydatetime()) for t in values]
                else:
                    arr = values.to_numpy()
                    columns[col] = [None if isinstance(v, float) and not np.isfinite(v) else v
                                    for v in arr.tolist()]
            activities.append({
                "id": rec.id, "format": rec.fmt, "sport": rec.sport, "sub_sport": rec.sub_sport,
                "device": rec.device, "name": rec.name, "start_time": iso(rec.start_time),
                "duration_s": rec.duration_s, "moving_time_s": rec.moving_time_s, "distance_m": rec.distance_m,
                "avg_cadence_spm": rec.avg_cadence_spm, "avg_stance_time_ms": rec.avg_stance_time_ms,
                "partial": rec.partial, "problems": list(rec.problems), "sources": sources,
                "device_summary": json.loads(json.dumps(rec.summary.as_dict(), default=str)) if rec.summary else None,
                "laps": [{"start_time": iso(lp.start_time), "elapsed_s": lp.elapsed_s, "timer_s": lp.timer_s,
                          "distance_m": lp.distance_m} for lp in rec.laps],
                "samples": {"rows": len(samples), "columns": columns},
            })
        features = [{"activity_id": r[0], "feature_version": r[1], "computed_at": r[2], "record": json.loads(r[3])}
                    for r in self._conn.execute(
                        "SELECT f.activity_id, f.feature_version, f.computed_at, f.record_json FROM run_features f"
                        " JOIN activities a ON a.id=f.activity_id WHERE f.athlete_id=? ORDER BY a.start_ts, a.id",
                        (aid,))]
        pain = [{"id": e.id, "time_utc": iso(e.time_utc), "date_only": e.date_only, "zone": e.zone,
                 "score": e.score, "region": e.region, "side": e.side, "when": e.when, "behaviour": e.behaviour,
                 "note": e.note} for e in self.pain_entries(athlete)]
        gaps = [{"id": g.id, "from": g.first_day.isoformat(), "to": g.last_day.isoformat(), "reason": g.reason}
                for g in self.gaps(athlete)]
        ostrc = [{"id": w.id, "week_start": w.week.isoformat(), "area": w.area, "participation": w.participation,
                  "training": w.training, "performance": w.performance, "symptoms": w.symptoms,
                  "severity": w.severity, "substantial": w.substantial, "entered_at": iso(w.entered_at),
                  "note": w.note} for w in self.ostrc_weeks(athlete)]
        skipped = [dict(zip(("file_name", "sha256", "reader_version", "reason"), r)) for r in self._conn.execute(
            "SELECT file_name, sha256, reader_version, reason FROM skipped_files WHERE athlete_id=?"
            " ORDER BY file_name", (aid,))]
        return {"athlete": athlete, "exported_at": iso(dt.datetime.now(dt.timezone.utc)),
                "schema_version": self.schema_version, "profile": self.profile(athlete),
                "activities": activities, "features": features, "pain": pain, "gaps": gaps, "ostrc": ostrc,
                "skipped_files": skipped}

    def snapshot_athlete(self, athlete: str, *, samples: bool = False, samples_of: Iterable[str] = ()) -> bytes:
        """``athlete``'s rows as the bytes of a stand-alone database of this schema (for a worker).

        What the flags and the reports read -- the athlete, activities with their sources,
        feature records, pain entries, data gaps, the profile -- and with ``samples`` the
        samples (only route maps read them); with ``samples_of`` the samples of those of the
        athlete's activities (a report's latest-run chart).  Never the file index (paths on this machine)
        or the skipped files.  Write the bytes to a user-only file and open it with
        ``Store(path, read_only=True)``.  Reads what is committed (its own read-only
        connection, in one read transaction).  ``LookupError`` for an unknown athlete.
        """
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            raise LookupError(f"{self.path}: no athlete {athlete!r}")
        if str(self.path) == ":memory:":
            raise StoreError("an in-memory store cannot be snapshotted")
        rows = dict(_SNAPSHOT_ROWS, **({"samples": _SNAPSHOT_SAMPLES} if samples else {}))
        # The new database lives in memory and leaves as bytes: nothing of it touches this disk.
        snap = sqlite3.connect(":memory:", uri=True, isolation_level=None)  # uri: ATTACH takes a URI
        try:
            self._migrate(snap)
            snap.execute("ATTACH DATABASE ? AS src", (f"{self.path.resolve().as_uri()}?mode=ro",))
            snap.execute("BEGIN")
            # Same MIGRATIONS on both sides, tables only ever created or appended to: same column order.
            for table, where in rows.items():
                snap.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table} WHERE {where}", (aid,))
            some = [] if samples else sorted(set(samples_of))
            if some:
                marks = ",".join("?" * len(some))
                snap.execute(f"INSERT INTO main.samples SELECT * FROM src.samples WHERE {_SNAPSHOT_SAMPLES}"
                             f" AND activity_id IN ({marks})", (aid, *some))
            snap.execute("COMMIT")
            snap.execute("DETACH DATABASE src")
            return snap.serialize()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot snapshot {athlete!r} ({exc})") from exc
        finally:
            snap.close()

    def delete_athlete(self, athlete: str) -> dict[str, int] | None:
        """Remove ``athlete`` and everything stored for them; rows deleted per table, ``None`` if unknown.

        Every table with an ``athlete_id`` column, and every table with an ``activity_id``
        column for the athlete's activities, is cleared (so tables added later are covered
        too), in one transaction.  Freed pages are zeroed (``secure_delete``), then the
        write-ahead log is checkpointed and truncated and the file rebuilt (``VACUUM``), so
        that no byte of the athlete's data remains in the database or its ``-wal`` file.
        """
        aid = self.athlete_id(athlete, create=False)
        if aid is None:
            return None
        self._conn.execute("PRAGMA secure_delete=ON")
        tables = [r[0] for r in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        cols = {t: {r[1] for r in self._conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
        counts: dict[str, int] = {}
        with self.transaction() as c:
            ids = [r[0] for r in c.execute("SELECT id FROM activities WHERE athlete_id=?", (aid,))]
            c.execute("CREATE TEMP TABLE IF NOT EXISTS _gone(id TEXT PRIMARY KEY)")
            c.execute("DELETE FROM _gone")
            c.executemany("INSERT INTO _gone(id) VALUES (?)", [(i,) for i in ids])
            # Children first: tables keyed by activity, then by athlete, activities, the athlete.
            for t in sorted(tables, key=lambda t: (t == "athletes", t == "activities")):
                if t in ("athletes", "activities"):
                    continue
                n = 0
                if "activity_id" in cols[t]:
                    n += c.execute(f'DELETE FROM "{t}" WHERE activity_id IN (SELECT id FROM _gone)').rowcount
                if "athlete_id" in cols[t]:
                    n += c.execute(f'DELETE FROM "{t}" WHERE athlete_id=?', (aid,)).rowcount
                if n:
                    counts[t] = n
            counts["activities"] = c.execute("DELETE FROM activities WHERE athlete_id=?", (aid,)).rowcount
            c.execute("DELETE FROM athletes WHERE id=?", (aid,))
            c.execute("DROP TABLE _gone")
        self._written.discard(athlete)  # gone by this store's own hand: writing for them again re-creates
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.execute("VACUUM")
        busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            log.warning("another connection kept the write-ahead log busy; old pages may remain in %s-wal "
                        "until it closes", self.path)
        return counts


# Rows of one athlete in a snapshot (table -> condition on the athlete's id); our own SQL, no user input.
_SNAPSHOT_ROWS = {
    "athletes": "id=?",
    "activities": "athlete_id=?",
    "activity_sources": "athlete_id=?",
    "run_features": "athlete_id=?",
    "pain_entries": "athlete_id=?",
    "data_gaps": "athlete_id=?",
    "athlete_profiles": "athlete_id=?",
    "ostrc_weeks": "athlete_id=?",
}
_SNAPSHOT_SAMPLES = "activity_id IN (SELECT id FROM src.activities WHERE athlete_id=?)"


def _statements(script: str) -> list[str]:
    """Split a migration script on ';' (the scripts hold no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
