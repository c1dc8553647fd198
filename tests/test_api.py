"""The library front door (gaitrisk.read, gaitrisk.features, gaitrisk.Store) and docs/api.md's example."""

from __future__ import annotations

import datetime as dt
import gzip
import math
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import gaitrisk
from gaitrisk.ingest.pipeline import import_paths

REPO = Path(__file__).resolve().parents[1]
FIXTURE_RUNS = REPO / "fixtures" / "runs"
ONE_FIT = FIXTURE_RUNS / "2024-04-05_hills.fit"


def _python(code: str) -> str:
    """``code`` run by a fresh interpreter importing this worktree's gaitrisk; its stdout."""
    env = os.environ | {"PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          check=True)
    return done.stdout


def test_import_gaitrisk_is_light_and_lists_the_front_door():
    out = _python("import sys, gaitrisk; print(sorted({'pandas', 'numpy', 'sklearn', 'matplotlib'} & "
                  "set(sys.modules))); print(sorted(n for n in dir(gaitrisk) if not n.startswith('_')))")
    heavy, names = out.splitlines()
    assert heavy == "[]"
    assert eval(names) == sorted(gaitrisk.__all__)  # noqa: S307 - our own printed list
    assert {"read", "run_features", "Store", "Activity", "AthleteProfile"} <= set(gaitrisk.__all__)


def test_the_features_package_stays_importable_after_the_front_door_is_used():
    code = ("import gaitrisk\n"
            f"a = gaitrisk.read({str(ONE_FIT)!r})[0]\n"
            "print(type(gaitrisk.run_features(a)).__name__)\n"
            "import gaitrisk.features.handoff as h\n"
            "print(h.__name__)")
    assert _python(code).split() == ["RunFeatures", "gaitrisk.features.handoff"]


# -- read ---------------------------------------------------------------------------------
def test_read_a_fit_file_gives_its_record_samples_and_the_store_id(tmp_path):
    acts = gaitrisk.read(ONE_FIT)
    assert len(acts) == 1 and acts.problems == ()
    a = acts[0]
    assert isinstance(a, gaitrisk.Activity) and not a.partial and a.problems == ()
    assert a.record.sport == "running" and a.record.sources == (str(ONE_FIT),)
    assert len(a.samples) > 100 and {"timestamp", "distance_m", "cadence_spm"} <= set(a.samples.columns)
    # The record is the one an import stores, under the same id.
    with gaitrisk.Store(tmp_path / "g.db") as store:
        import_paths([str(ONE_FIT)], store._store, "me")
        (stored,) = store._store.activities("me")
    assert a.record == stored


def test_read_bytes_names_them_and_finds_the_format_from_the_content():
    data = ONE_FIT.read_bytes()
    by_path = gaitrisk.read(ONE_FIT)[0]
    by_bytes = gaitrisk.read(data, name="hills")[0]
    assert by_bytes.record.sources == ("hills",)
    assert by_bytes.record.id == by_path.record.id
    assert by_bytes.samples.equals(by_path.samples)
    gpx = gaitrisk.read((FIXTURE_RUNS / "2024-04-07_out_and_back.gpx").read_bytes())
    assert [a.record.fmt for a in gpx] == ["gpx"]


def test_read_never_raises_for_bad_content(tmp_path):
    cut = ONE_FIT.read_bytes()[:3000]
    damaged = gaitrisk.read(cut, name="cut.fit")
    assert len(damaged) == 1 and damaged[0].partial
    assert damaged.problems and all(p.startswith("cut.fit: ") for p in damaged.problems)
    assert damaged[0].problems
    nothing = gaitrisk.read(b"not an activity", name="notes.txt")
    assert list(nothing) == [] and nothing.problems == ("notes.txt: not a FIT, GPX or TCX file",)
    packed = gaitrisk.read(gzip.compress(ONE_FIT.read_bytes()), name="hills.fit.gz")
    assert list(packed) == [] and "give read() its path" in packed.problems[0]
    (tmp_path / "hills.fit.gz").write_bytes(gzip.compress(ONE_FIT.read_bytes()))
    assert len(gaitrisk.read(tmp_path / "hills.fit.gz")) == 1
    (tmp_path / "empty.fit").write_bytes(b"")
    empty = gaitrisk.read(tmp_path / "empty.fit")
    assert list(empty) == [] and len(empty.problems) == 1 and str(tmp_path / "empty.fit") in empty.problems[0]


def test_read_a_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.fit"):
        gaitrisk.read(tmp_path / "nope.fit")


def test_read_a_folder_gives_every_activity_in_it(tmp_path):
    for name in ("2024-04-05_hills.fit", "2024-04-07_out_and_back.gpx", "2024-04-10_loop_with_pause.tcx"):
        shutil.copy(FIXTURE_RUNS / name, tmp_path / name)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    acts = gaitrisk.read(tmp_path)
    assert sorted(a.record.fmt for a in acts) == ["fit", "gpx", "tcx"]


# -- features -------------------------------------------------------------------------------
def test_features_of_one_run_without_a_store():
    run = gaitrisk.read(ONE_FIT)[0]
    f = gaitrisk.run_features(run)
    assert isinstance(f, gaitrisk.RunFeatures) and f.activity_id == run.record.id
    assert f.distance_m == pytest.approx(run.record.distance_m, rel=0.05)
    assert f.gait.cadence_spm and 140 < f.gait.cadence_spm < 200
    assert f.terrain.descent_m and f.terrain.descent_m > 0  # the hills fixture goes down as well as up
    assert any(n.startswith("height_m: default") for n in f.profile_notes)
    tall = gaitrisk.run_features(run, gaitrisk.AthleteProfile(height_m=1.95))
    assert not any(n.startswith("height_m") for n in tall.profile_notes)
    assert tall.profile_fingerprint != f.profile_fingerprint


def test_features_match_what_the_store_computes_for_a_first_run(tmp_path):
    run = gaitrisk.read(ONE_FIT)[0]
    with gaitrisk.Store(tmp_path / "g.db") as store:
        me = store.athlete("me")
        me.import_files([ONE_FIT])
        stored = me.runs().loc[run.record.id]
    mine = gaitrisk.run_features(run).to_record()
    for key in ("distance_m", "moving_time_s", "cadence_spm", "gct_ms", "descent_m", "gap_distance_m", "surface"):
        assert stored[key] == mine[key] or (isinstance(mine[key], float) and math.isclose(stored[key], mine[key])), key


# -- the store ------------------------------------------------------------------------------
def test_store_refuses_a_folder_and_a_file_that_is_not_a_store(tmp_path):
    with pytest.raises(gaitrisk.StoreError, match=re.escape(str(tmp_path))):
        gaitrisk.Store(tmp_path)
    other = tmp_path / "notes.db"
    other.write_bytes(b"these are not the droids" * 100)
    with pytest.raises(gaitrisk.StoreError, match="not a usable gaitrisk database"):
        gaitrisk.Store(other)
    assert other.read_bytes() == b"these are not the droids" * 100


def test_a_new_store_is_private(tmp_path):
    with gaitrisk.Store(tmp_path / "new" / "g.db") as store:
        assert store.athletes() == []
    assert stat.S_IMODE((tmp_path / "new" / "g.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A store with the fixture runs imported for ann through the front door."""
    path = tmp_path_factory.mktemp("api") / "g.db"
    with gaitrisk.Store(path, tz="Europe/Berlin") as store:
        outcome = store.athlete("ann").import_files([FIXTURE_RUNS])
    return path, outcome


def test_import_files_stores_the_runs_and_their_features(imported):
    path, outcome = imported
    assert outcome.imported.imported > 30 and outcome.imported.failed == []
    assert outcome.imported.duplicates >= 1  # the tempo loop as FIT and as GPX is one run
    assert outcome.features.computed == outcome.imported.imported
    with gaitrisk.Store(path) as store:
        assert store.athletes() == ["ann"]
        again = store.athlete("ann").import_files([FIXTURE_RUNS])
        runs = store.athlete("ann").runs()
    assert again.imported.imported == 0 and again.features.computed == 0
    assert len(runs) == outcome.imported.imported
    assert list(runs["start_time"]) == sorted(runs["start_time"])
    # Every run has its feature record: the descent and cadence columns are filled.
    assert runs["descent_m"].notna().all() and runs["cadence_spm"].notna().all()
    assert runs["counts"].all()


@pytest.mark.slow
def test_load_flags_risk_and_report(imported):
    path, _ = imported
    with gaitrisk.Store(path, tz="Europe/Berlin") as store:
        ann = store.athlete("ann")
        load = ann.load(weeks=4)
        assessment = ann.flags(days=14)
        risk = ann.risk()
        text = ann.report()
        as_json = ann.report("json")
        html = ann.report("html")
        with pytest.raises(ValueError, match="format"):
            ann.report("pdf")  # type: ignore[arg-type]
    assert load.end == dt.date(2024, 7, 14) and len(load.weeks) == 4
    assert sum(w.runs for w in load.weeks) >= 8
    assert assessment.last == dt.date(2024, 7, 14) and assessment.first == dt.date(2024, 7, 1)
    # The last fixture run is a long spike: more than 10 % over the longest of the 30 days before it.
    assert "session_spike" in {f.code for f in assessment.flags}
    day = risk.days[-1]
    assert day.date == dt.date(2024, 7, 14) and 0 < day.low <= day.probability <= day.high < 1
    assert "ann" in text and '"athlete": "ann"' in as_json.replace("\n", " ").replace("  ", " ")
    assert html.lstrip().lower().startswith("<!doctype html")


def test_the_pain_log(tmp_path):
    with gaitrisk.Store(tmp_path / "g.db", tz="Europe/Berlin") as store:
        pain = store.athlete("bo").pain
        entry = pain.add(4, "lateral hip", "R", "after_run", date=dt.date(2024, 5, 2), time="18:30")
        assert entry.id is not None and entry.region == "lateral_hip" and entry.score == 4
        assert entry.time_utc == dt.datetime(2024, 5, 2, 16, 30, tzinfo=dt.timezone.utc)
        with pytest.raises(ValueError, match="already in the log"):
            pain.add(4, "lateral hip", "R", "after_run", date=dt.date(2024, 5, 2), time="18:30")
        with pytest.raises(ValueError, match="score"):
            pain.add(11, "lateral hip", "R", "after_run", date=dt.date(2024, 5, 3))
        day_only = pain.add(2, "groin_front_hip", "L", "next_morning", date=dt.date(2024, 5, 4))
        assert day_only.date_only
        assert [e.id for e in pain.list()] == [entry.id, day_only.id]
        assert [e.id for e in pain.list(since=dt.date(2024, 5, 3))] == [day_only.id]
        assert "bo" in store.athletes()


def test_an_athlete_without_runs_is_a_lookup_error_naming_the_store(tmp_path):
    with gaitrisk.Store(tmp_path / "g.db") as store:
        nobody = store.athlete("nobody")
        for call in (nobody.load, nobody.flags, nobody.risk, nobody.report):
            with pytest.raises(LookupError, match=re.escape(f"'nobody' in {tmp_path / 'g.db'}")):
                call()
        with pytest.raises(ValueError, match="empty"):
            store.athlete("  ")


# -- docs/api.md ----------------------------------------------------------------------------
def test_the_docs_example_runs(real_data, tmp_path, monkeypatch, capsys):
    text = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/api.md has no python example"
    code = "\n".join(blocks)
    code, n_data = re.subn(r'^DATA = Path\("\.\./shared/real-data"\)', f"DATA = Path({str(real_data)!r})", code,
                           flags=re.M)
    code, n_store = re.subn(r'^STORE = Path\("notebook\.db"\)', f"STORE = Path({str(tmp_path / 'nb.db')!r})", code,
                            flags=re.M)
    assert (n_data, n_store) == (1, 1), "the example's DATA and STORE lines changed: update this test"
    assert "gaitrisk.cli" not in code and "CliRunner" not in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/api.md", "exec"), {"__name__": "docs_api_example"})  # noqa: S102
    out = capsys.readouterr().out
    assert re.search(r"running .* 9\.01 km", out)  # read a real FIT file
    assert re.search(r"cadence \d+ spm", out)  # computed its features
    assert re.search(r"\b(\d+) imported, \d+ duplicate, \1 feature records", out)  # imported a folder
    assert "return_from_break" in out  # printed the flags
    assert "risk of a hip/lateral-knee pain onset in the next 7 days" in out  # and the risk
    assert (tmp_path / "nb.db").is_file()


@pytest.mark.slow
def test_the_front_door_type_checks_strictly(tmp_path):
    pytest.importorskip("mypy")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
                           "gaitrisk/api.py"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
