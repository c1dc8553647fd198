"""Every feature record sits on its own run, whatever order runs arrive in and whatever else
happens: a profile change, an older run imported after newer ones, two imports at once, a kill.

The known truth is each fixture run's distance (``fixtures/truth/season.json``): a record on
the wrong run carries another run's distance.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.store import Store

from .helpers.paths import FIXTURES

SEASON = json.loads((FIXTURES / "truth" / "season.json").read_text())
RUNS = FIXTURES / "runs"
# One file per run (the tempo run's GPX twin is the same run).
NEWER = ["2024-04-05_hills.fit", "2024-04-07_out_and_back.gpx", "2024-04-10_loop_with_pause.tcx",
         "2024-04-12_tempo_loop.fit", "2024-04-16_easy_loop_cw.fit", "2024-04-19_long_loop.fit"]
OLDER = ["2024-04-01_easy_loop.fit", "2024-04-03_track_ccw.fit"]


def _cli(db, *args):
    r = CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])
    assert r.exit_code == 0, r.output
    return r


def _truth_distance(rec) -> float:
    return SEASON[f"runs/{rec.sources[0].split('/')[-1]}"]["distance_m"]


def assert_records_on_their_runs(db, expect: int) -> None:
    with Store(db) as st:
        assert st.misfiled_features() == []
        recs = st.activities("me")
        got = 0
        for r in recs:
            row = st.features(r.id)
            if row is None:
                continue
            got += 1
            record = row[1]
            assert record["activity_id"] == r.id
            assert record["distance_m"] == pytest.approx(_truth_distance(r), rel=0.01), r.sources
    assert got == expect


def test_older_run_after_a_profile_change_keeps_every_record_on_its_run(tmp_path):
    db = tmp_path / "g.db"
    _cli(db, "import", *[RUNS / f for f in NEWER], "--workers", "1")
    assert_records_on_their_runs(db, len(NEWER))
    _cli(db, "athlete", "set", "--height-cm", "180")
    # The older runs' passes are made by the import; every newer record is stale (profile)
    # and computed from the store: the mix that shifted records by one run.
    _cli(db, "import", *[RUNS / f for f in OLDER], "--workers", "1")
    assert_records_on_their_runs(db, len(NEWER) + len(OLDER))
    with Store(db) as st:
        heights = {st.features(r.id)[1].get("profile_fingerprint") for r in st.activities("me")}
    assert len(heights) == 1  # all under the new profile


@pytest.mark.slow
def test_older_run_with_a_pool_keeps_every_record_on_its_run(tmp_path):
    db = tmp_path / "g.db"
    _cli(db, "import", *[RUNS / f for f in NEWER], "--workers", "2")
    _cli(db, "athlete", "set", "--height-cm", "171")
    _cli(db, "import", *[RUNS / f for f in OLDER], "--workers", "2")
    assert_records_on_their_runs(db, len(NEWER) + len(OLDER))


def test_a_record_naming_another_run_is_refused_by_the_store(tmp_path):
    db = tmp_path / "g.db"
    _cli(db, "import", RUNS / NEWER[0], RUNS / NEWER[1], "--workers", "1")
    with Store(db) as st:
        a, b = st.activities("me")
        record = st.features(a.id)[1]
        with pytest.raises(ValueError, match="offered for"):
            st.save_features(b.id, "me", record["feature_version"], record)
        assert st.features(b.id)[1]["activity_id"] == b.id


def _import_proc(db, files):
    env = dict(os.environ, PYTHONPATH=str(FIXTURES.parent))
    return subprocess.Popen([sys.executable, "-m", "gaitrisk", "--db", str(db), "-q", "import",
                             *map(str, files), "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_two_imports_at_once_keep_every_record_on_its_run(tmp_path):
    db = tmp_path / "g.db"
    _cli(db, "import", RUNS / NEWER[-1], "--workers", "1")  # the store exists before the race
    procs = [_import_proc(db, [RUNS / f for f in NEWER[:3]]),
             _import_proc(db, [RUNS / f for f in OLDER + NEWER[3:5]])]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    _cli(db, "features", "--update")
    assert_records_on_their_runs(db, len(NEWER) + len(OLDER))


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.8, 1.6, 2.4])
def test_a_killed_import_leaves_no_record_on_a_wrong_run(tmp_path, delay_s):
    db = tmp_path / "g.db"
    _cli(db, "import", *[RUNS / f for f in NEWER[3:]], "--workers", "1")
    _cli(db, "athlete", "set", "--height-cm", "185")
    p = _import_proc(db, [RUNS / f for f in OLDER + NEWER[:3]])
    time.sleep(delay_s)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    with Store(db) as st:
        assert st.misfiled_features() == []
    # The same command again finishes the work: every run has its own record.
    _cli(db, "import", *[RUNS / f for f in OLDER + NEWER[:3]], "--workers", "1")
    assert_records_on_their_runs(db, len(NEWER) + len(OLDER))


def test_an_import_killed_before_its_features_gets_them_when_run_again(tmp_path):
    """The import's last commit made, the feature step never ran (the process was killed):
    the same command again finds only duplicates and still computes every record."""
    from gaitrisk.ingest.pipeline import import_paths

    db = tmp_path / "g.db"
    files = [RUNS / f for f in NEWER]
    with Store(db) as st:
        import_paths([str(f) for f in files], st, "me")  # the import alone, as a kill would leave it
        assert st.feature_versions("me") == {}
    r = _cli(db, "import", *files, "--workers", "1", "--json")
    assert json.loads(r.output)["imported"] == 0
    assert_records_on_their_runs(db, len(NEWER))


def test_a_record_naming_no_run_is_refused_by_the_store(tmp_path):
    db = tmp_path / "g.db"
    _cli(db, "import", RUNS / NEWER[0], "--workers", "1")
    with Store(db) as st:
        (a,) = st.activities("me")
        record = {k: v for k, v in st.features(a.id)[1].items() if k != "activity_id"}
        with pytest.raises(ValueError, match="offered for"):
            st.save_features(a.id, "me", record["feature_version"], record)
