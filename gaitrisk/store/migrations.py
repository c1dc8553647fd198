"""Schema migrations, applied in order; ``PRAGMA user_version`` records the level."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: athletes, activities, their source files and samples.
    """
    CREATE TABLE athletes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE activities (
        id TEXT PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        fmt TEXT NOT NULL,
        sport TEXT NOT NULL,
        sub_sport TEXT,
        device TEXT,
        name TEXT,
        start_time TEXT NOT NULL,          -- ISO 8601 UTC with Z
        start_ts REAL NOT NULL,            -- epoch seconds, for range queries
        duration_s REAL NOT NULL,
        moving_time_s REAL NOT NULL,
        distance_m REAL,
        avg_cadence_spm REAL,
        avg_stance_time_ms REAL,
        partial INTEGER NOT NULL DEFAULT 0,
        summary_json TEXT,
        laps_json TEXT,
        problems_json TEXT,
        imported_at TEXT NOT NULL
    );
    CREATE INDEX activities_athlete_start ON activities(athlete_id, start_ts);
    CREATE TABLE activity_sources (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        leg_index INTEGER NOT NULL,
        activity_id TEXT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        file_name TEXT NOT NULL,
        fmt TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (athlete_id, sha256, leg_index)
    );
    CREATE INDEX activity_sources_activity ON activity_sources(activity_id);
    -- Files that held nothing to import (not a run, a settings file, ...), remembered
    -- per gaitrisk version so that re-importing a whole export folder skips them fast,
    -- while a newer gaitrisk that can read more looks at them again.
    CREATE TABLE skipped_files (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        reader_version TEXT NOT NULL,
        file_name TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (athlete_id, sha256, reader_version)
    );
    CREATE TABLE samples (
        activity_id TEXT PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
        format TEXT NOT NULL,
        n_rows INTEGER NOT NULL,
        blob BLOB NOT NULL
    );
    """,
)
