"""Schema migrations, applied in order; ``PRAGMA user_version`` records the level."""

from __future__ import annotations

V1_ACTIVITIES = (
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
    """
)

# 2: pain log and data gaps.
# The vocabularies (region, side, when, behaviour) are checked in gaitrisk.vocab,
# their single source of truth; the table only guards what can never change.
V2_PAIN = """
    CREATE TABLE pain_entries (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        time_utc TEXT NOT NULL,            -- ISO 8601 UTC with Z
        ts REAL NOT NULL,                  -- epoch seconds, for range queries
        date_only INTEGER NOT NULL DEFAULT 0,
        zone TEXT NOT NULL,                -- IANA zone the entry was made in
        score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
        region TEXT NOT NULL,
        side TEXT NOT NULL,
        context TEXT NOT NULL,             -- when it hurts (during_run, next_morning, ...)
        behaviour TEXT,
        note TEXT,
        created_at TEXT NOT NULL,
        -- the same report twice (a CSV imported again) is one entry
        UNIQUE (athlete_id, ts, region, side, context)
    );
    CREATE INDEX pain_entries_athlete_ts ON pain_entries(athlete_id, ts);
    CREATE TABLE data_gaps (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        first_day TEXT NOT NULL,           -- local calendar date, inclusive
        last_day TEXT NOT NULL,            -- local calendar date, inclusive
        reason TEXT,
        created_at TEXT NOT NULL,
        CHECK (first_day <= last_day)
    );
    CREATE INDEX data_gaps_athlete ON data_gaps(athlete_id, first_day);
"""

# 3: athlete profiles and per-run features.
V3_FEATURES = """
    CREATE TABLE athlete_profiles (
        athlete_id INTEGER PRIMARY KEY REFERENCES athletes(id) ON DELETE CASCADE,
        profile_json TEXT NOT NULL,        -- gaitrisk.features.profile.AthleteProfile fields, null = not set
        updated_at TEXT NOT NULL
    );
    -- One feature record per activity.  feature_version is the code's FEATURE_VERSION when the
    -- record was computed: an older version is recomputed.  The record is JSON (the contract
    -- printed by gaitrisk features --json), with the columns other stages query kept beside it.
    CREATE TABLE run_features (
        activity_id TEXT PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        feature_version INTEGER NOT NULL,
        computed_at TEXT NOT NULL,
        distance_m REAL,
        moving_time_s REAL,
        descent_m REAL,
        gap_distance_m REAL,
        record_json TEXT NOT NULL
    );
    CREATE INDEX run_features_athlete ON run_features(athlete_id)
"""

# 4: which files on disk were fully imported.  A re-import that finds
# a file with the same path, size and modification time trusts this row instead of reading and
# hashing the file again; the activities it points to (by sha256) must still be stored for that.
# Plain files carry their sha256; an archive carries members_json, a list of
# [member name suffix, sha256 or null, skip reason or null], and is only entered once every
# member was fully processed.
V4_FILE_INDEX = """
    CREATE TABLE file_index (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        path TEXT NOT NULL,                -- absolute path when it was imported
        size_bytes INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT,
        members_json TEXT,
        indexed_at TEXT NOT NULL,
        PRIMARY KEY (athlete_id, path)
    )
"""

# 5: whether an activity counts as a run (gaitrisk.review): the screening's verdict or the
# user's, and why.  NULL: not screened yet, which makes the features screen it.
V5_REVIEW = """
    ALTER TABLE activities ADD COLUMN review TEXT;
    ALTER TABLE activities ADD COLUMN review_reason TEXT
"""

# 6: weekly OSTRC-O2 answers (gaitrisk.pain.ostrc): one row per athlete, week and area, the four
# answers as option indices 0-3 (questions 2-4 NULL when question 1 ends the questionnaire).  The
# area and the answer rules are checked in gaitrisk.pain.ostrc; the table guards the ranges.
V6_OSTRC = """
    CREATE TABLE ostrc_weeks (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        week_start TEXT NOT NULL,          -- local calendar date of the week's Monday
        area TEXT NOT NULL,                -- a pain-log region code
        participation INTEGER NOT NULL CHECK (participation BETWEEN 0 AND 3),
        training INTEGER CHECK (training BETWEEN 0 AND 3),
        performance INTEGER CHECK (performance BETWEEN 0 AND 3),
        symptoms INTEGER CHECK (symptoms BETWEEN 0 AND 3),
        entered_at TEXT NOT NULL,          -- ISO 8601 UTC with Z
        note TEXT,
        UNIQUE (athlete_id, week_start, area)
    )
"""

# 7: the side of the road the runner declared for one run (left, right or mixed; NULL: not declared).
# Camber exposure from it is observed evidence, unlike a side assumed from the profile's defaults.
V7_RUN_ROAD_SIDE = """
    ALTER TABLE activities ADD COLUMN road_side TEXT
"""

MIGRATIONS: tuple[str, ...] = (V1_ACTIVITIES, V2_PAIN, V3_FEATURES, V4_FILE_INDEX, V5_REVIEW, V6_OSTRC, V7_RUN_ROAD_SIDE)
