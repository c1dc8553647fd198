"""The nightly run end to end: idempotence, quarantine, retraining, alerts, the lock, and SIGKILL at random points.

Inputs are a seeded synthetic cohort (gaitrisk.synth.cohort) whose truth.json says how many
runs and pain rows each athlete has; the store must end up holding exactly those.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.cli.nightly import EXIT_LOCKED, EXIT_NEW_ALERT
from gaitrisk.nightly import LockBusy, run_nightly
from gaitrisk.nightly.inbox import REASON_SUFFIX
from gaitrisk.nightly.lock import nightly_lock
from gaitrisk.store import Store

from .helpers.nightly import drop_inbox, json_report_renderer, night_pain_csv, nightly_cohort

pytestmark = pytest.mark.slow

UTC = ZoneInfo("UTC")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Three athletes, 6 weeks of runs each (~50 runs, 2 pain onsets), their pain diaries and the truth."""
    return nightly_cohort(tmp_path_factory.mktemp("cohort"))


def _pain_rows(cohort, name: str) -> int:
    return len((cohort[0] / name / "pain.csv").read_text().strip().splitlines()) - 1


def _digests(*roots: Path) -> list[str]:
    """sha256 of every file below the roots (reason files excluded), sorted: a multiset of contents."""
    return sorted(hashlib.sha256(p.read_bytes()).hexdigest() for r in roots if r.exists() for p in r.rglob("*")
                  if p.is_file() and not p.name.endswith(REASON_SUFFIX))


def _run(root: Path, **kw):
    kw.setdefault("report_renderer", json_report_renderer)
    kw.setdefault("model_kind", "logistic")
    return run_nightly(root / "g.db", root / "inbox", report_dir=root / "reports", zone=UTC, min_age_s=0, **kw)


def _store_state(db: Path) -> dict:
    with Store(db) as st:
        assert st.integrity_check() == "ok"
        orphans = st._conn.execute(
            "SELECT count(*) FROM activities a WHERE NOT EXISTS (SELECT 1 FROM samples s WHERE s.activity_id=a.id)"
            " OR NOT EXISTS (SELECT 1 FROM activity_sources x WHERE x.activity_id=a.id)").fetchone()[0]
        assert orphans == 0
        return {name: {"runs": sorted(r.id for r in st.activities(name)),
                       "pain": sorted((e.time_utc.isoformat(), e.region, e.score) for e in st.pain_entries(name)),
                       "features": len(st.feature_versions(name))} for name in st.athletes()}


def test_second_run_over_the_same_inbox_does_nothing(cohort, tmp_path):
    _, truth = cohort
    inbox = drop_inbox(cohort, tmp_path)
    originals = _digests(inbox)
    first = _run(tmp_path)
    assert not first.failed and not first.nothing_new
    for a in first.athletes:
        t = truth["athletes"][a.athlete]
        assert (a.imported, a.archived, a.pain_added, len(a.quarantined)) == (t["runs"], t["runs"] + 1,
                                                                              _pain_rows(cohort, a.athlete), 0)
        assert a.features_computed == t["runs"]
        report = json.loads((tmp_path / "reports" / f"{a.athlete}.json").read_text())
        assert (report["runs"], report["pain"]) == (t["runs"], _pain_rows(cohort, a.athlete))
    assert first.model == "trained"  # the diaries hold onsets
    # Every file is in the archive at its place in the inbox, and the inbox is empty.
    assert _digests(tmp_path / "archive") == originals and _digests(inbox) == []
    for name in truth["athletes"]:
        assert (tmp_path / "archive" / name / "diary.pain.csv").read_bytes() == \
            (cohort[0] / name / "pain.csv").read_bytes()
    state = _store_state(tmp_path / "g.db")
    reports = {p: p.stat().st_mtime_ns for p in (tmp_path / "reports").iterdir()}
    model_card = (tmp_path / "g.db.model.skops.card.json").read_bytes()
    for a in first.athletes:  # the worker loaded the model it was sent, not some other
        report = json.loads((tmp_path / "reports" / f"{a.athlete}.json").read_text())
        assert report["model_sha256"] == json.loads(model_card)["model_sha256"]

    # The same inbox again (the files put back): all duplicates, archived with a ~1 suffix? No: the
    # identical bytes are already in the archive at that place, so the inbox copies are dropped.
    shutil.rmtree(inbox)
    drop_inbox(cohort, tmp_path)
    again = _run(tmp_path)
    assert not again.failed
    assert sum(a.imported + a.pain_added for a in again.athletes) == 0
    assert sum(a.duplicates for a in again.athletes) == sum(t["runs"] for t in truth["athletes"].values())
    assert _digests(tmp_path / "archive") == originals and _digests(inbox) == []
    assert not any(a.analysed for a in again.athletes) and again.model != "trained"

    # A run killed inside the state file's save left its temp file; ours are removed, nothing else is.
    stray, other = tmp_path / ".g.db.nightly.json.k1ll_3d0.tmp", tmp_path / ".g.db.nightly.json.bak"
    stray.write_text("{")
    other.write_text("{}")
    # ... and one killed while writing a report (the report folder's temp files go; a user's own stay)
    name = min(truth["athletes"])
    half_report = tmp_path / "reports" / f".{name}.html.x7_q2m9z.tmp"
    half_report.write_text("<html")
    users = [tmp_path / "reports" / n for n in (f".{name}.html.notes.tmp", "draft.tmp", f".{name}.pdf.x7_q2m9z.tmp")]
    for p in users:
        p.write_text("mine")
    reports = {p: p.stat().st_mtime_ns for p in (tmp_path / "reports").iterdir() if p != half_report}
    third = _run(tmp_path)
    assert not stray.exists() and other.exists()
    assert not half_report.exists() and all(p.exists() for p in users)
    assert third.nothing_new and all(a.line().endswith("nothing new") for a in third.athletes)
    assert _store_state(tmp_path / "g.db") == state
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "reports").iterdir()} == reports
    assert (tmp_path / "g.db.model.skops.card.json").read_bytes() == model_card


def test_corrupt_files_are_quarantined_with_a_reason_and_the_rest_imported(cohort, tmp_path):
    _, truth = cohort
    inbox = drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    name = min(truth["athletes"])
    good = min((inbox / name / "runs").iterdir())
    (inbox / name / "runs" / "broken.tcx").write_bytes(good.read_bytes()[:200])  # cut mid-XML, before any point
    (inbox / name / "runs" / "zeros.fit").write_bytes(b"\0" * 64)
    (inbox / name / "bad.pain.csv").write_text("when,what\nyesterday,ouch\n")
    (inbox / "readme.txt").write_text("drop files here\n")
    (inbox / name / "runs" / "upload.fit.part").write_bytes(b"still copying")  # left alone
    summary = _run(tmp_path)
    assert not summary.failed  # quarantined files are expected, not a failure of the run
    by = {a.athlete: a for a in summary.athletes}
    assert by[name].imported == truth["athletes"][name]["runs"]
    quarantined = {q["file"]: q["reason"] for a in summary.athletes for q in a.quarantined}
    assert set(quarantined) == {f"{name}/runs/broken.tcx", f"{name}/runs/zeros.fit", f"{name}/bad.pain.csv",
                                "readme.txt"}
    for rel, reason in quarantined.items():
        assert (tmp_path / "quarantine" / rel).exists() and not (inbox / rel).exists()
        text = (tmp_path / "quarantine" / (rel + REASON_SUFFIX)).read_text()
        assert text == reason + "\n" and "\n" not in reason and reason
    assert "header" in quarantined[f"{name}/bad.pain.csv"]
    assert "not a supported file kind" in quarantined["readme.txt"]
    assert (inbox / name / "runs" / "upload.fit.part").exists()
    for folder in ("archive", "quarantine", f"quarantine/{name}", f"archive/{name}/runs", "reports"):
        assert (tmp_path / folder).stat().st_mode & 0o077 == 0, folder  # health data: user-only folders
    with Store(tmp_path / "g.db") as st:
        assert len(st.activities(name)) == truth["athletes"][name]["runs"]


def test_gz_and_zip_files_are_units_of_the_inbox(cohort, tmp_path):
    import gzip
    import zipfile

    src, truth = cohort
    name = min(truth["athletes"])
    runs = sorted((src / name / "runs").iterdir())
    inbox = tmp_path / "inbox" / name
    inbox.mkdir(parents=True)
    (inbox / (runs[0].name + ".gz")).write_bytes(gzip.compress(runs[0].read_bytes()))
    with zipfile.ZipFile(inbox / "export.zip", "w") as z:  # two good members and a broken one
        z.write(runs[1], f"activities/{runs[1].name}")
        z.write(runs[2], f"activities/{runs[2].name}")
        z.writestr("activities/broken.fit", b"\0" * 40)
    with zipfile.ZipFile(inbox / "only-junk.zip", "w") as z:
        z.writestr("readme.txt", "nothing to import")
    summary = _run(tmp_path)
    [a] = summary.athletes
    assert (a.imported, a.archived) == (3, 2)
    assert [m["file"] for m in a.member_failures] == [f"{inbox / 'export.zip'}!activities/broken.fit"]
    assert [(q["file"], q["reason"]) for q in a.quarantined] == [(f"{name}/only-junk.zip",
                                                                  "no activity file (FIT/GPX/TCX) inside")]
    assert sorted(p.name for p in (tmp_path / "archive" / name).iterdir()) == sorted(
        ["export.zip", runs[0].name + ".gz"])


def test_archive_is_never_overwritten(cohort, tmp_path):
    _, truth = cohort
    inbox = drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    name = min(truth["athletes"])
    files = sorted((inbox / name / "runs").iterdir())
    taken, moved = files[0], files[1]
    # Another file already holds the first name in the archive; the second was archived by a run that
    # was killed before it removed the inbox copy (same bytes at the same place).
    (tmp_path / "archive" / name / "runs").mkdir(parents=True)
    (tmp_path / "archive" / name / "runs" / taken.name).write_text("someone else's file")
    shutil.copy(moved, tmp_path / "archive" / name / "runs" / moved.name)
    summary = _run(tmp_path)
    assert not summary.failed
    stem, ext = taken.name.rsplit(".", 1)
    assert (tmp_path / "archive" / name / "runs" / taken.name).read_text() == "someone else's file"
    assert (tmp_path / "archive" / name / "runs" / f"{stem}~1.{ext}").read_bytes() == \
        (cohort[0] / name / "runs" / taken.name).read_bytes()
    assert not list((tmp_path / "archive" / name / "runs").glob(moved.name.rsplit(".", 1)[0] + "~*"))
    assert not (inbox / name / "runs").exists()  # emptied folders below the athlete folder are removed
    assert (inbox / name).is_dir()


def test_layout_athlete_folders_top_level_files_and_flat(cohort, tmp_path):
    src, truth = cohort
    a, b = sorted(truth["athletes"])[:2]
    inbox = tmp_path / "inbox"
    shutil.copytree(src / a / "runs", inbox / "ann")          # a sub-folder names the athlete
    for p in sorted((src / b / "runs").iterdir())[:3]:       # files at the top: --athlete
        shutil.copy(p, inbox / p.name)
    (inbox / "pain").mkdir()
    shutil.copy(src / b / "pain.csv", inbox / "pain" / "log.csv")  # top-level pain/ is the default athlete's
    summary = _run(tmp_path, default_athlete="bea")
    by = {s.athlete: s for s in summary.athletes}
    assert set(by) == {"ann", "bea"}
    assert by["ann"].imported == truth["athletes"][a]["runs"]
    assert (by["bea"].imported, by["bea"].pain_added) == (3, _pain_rows(cohort, b))

    flat = tmp_path / "flat"
    for p in sorted((src / a / "runs").iterdir())[:2]:
        (flat / "inbox" / "some-export" / "runs").mkdir(parents=True, exist_ok=True)
        shutil.copy(p, flat / "inbox" / "some-export" / "runs" / p.name)
    summary = run_nightly(flat / "g.db", flat / "inbox", default_athlete="cy", flat=True, zone=UTC, min_age_s=0,
                          model_kind="logistic")
    assert [(s.athlete, s.imported) for s in summary.athletes] == [("cy", 2)]


def test_model_is_retrained_only_when_new_pain_onsets_arrive(cohort, tmp_path):
    src, truth = cohort
    inbox = tmp_path / "inbox"
    names = [n for n in sorted(truth["athletes"]) if truth["athletes"][n]["onsets"]]
    for name in names:  # runs of the first half of the season, no pain yet
        for p in sorted((src / name / "runs").iterdir())[:-4]:
            (inbox / name / "runs").mkdir(parents=True, exist_ok=True)
            shutil.copy(p, inbox / name / "runs" / p.name)
    first = _run(tmp_path)
    assert first.model != "trained" and not (tmp_path / "g.db.model.skops").exists()
    for name in names:
        shutil.copy(src / name / "pain.csv", inbox / name / "diary.pain.csv")
    second = _run(tmp_path)
    assert second.model == "trained", second.model_note
    card = json.loads((tmp_path / "g.db.model.skops.card.json").read_text())
    assert card["data"]["onsets_total"] > 0
    for name in names:  # more runs, no new pain: no new onsets, no retraining
        (inbox / name / "runs").mkdir(exist_ok=True)
        for p in sorted((src / name / "runs").iterdir())[-4:]:
            shutil.copy(p, inbox / name / "runs" / p.name)
    third = _run(tmp_path)
    assert sum(a.imported for a in third.athletes) == 4 * len(names)
    assert third.model == "unchanged" and "no new pain onsets" in third.model_note
    assert json.loads((tmp_path / "g.db.model.skops.card.json").read_text()) == card
    # Reports follow the new runs even though the model did not change.
    assert all(a.analysed for a in third.athletes)


def test_fail_on_new_high_exits_once_per_new_alert(cohort, tmp_path):
    _, truth = cohort
    name = min(truth["athletes"])
    inbox = drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    db = str(tmp_path / "g.db")
    args = ["nightly", "--db", db, "--inbox", str(inbox), "--min-age", "0", "--tz", "UTC", "--model-kind",
            "logistic", "--fail-on-new-high", "--json"]
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code in (0, EXIT_NEW_ALERT), first.output
    out = json.loads(first.output)
    assert not any(x["code"] == "see_a_clinician" for x in out["new_alerts"])
    quiet = runner.invoke(cli, args)
    assert quiet.exit_code == 0 and json.loads(quiet.output)["nothing_new"]

    (inbox / name / "night.pain.csv").write_text(night_pain_csv(cohort, name))
    alert = runner.invoke(cli, args)
    assert alert.exit_code == EXIT_NEW_ALERT, alert.output
    new = json.loads(alert.output)["new_alerts"]
    assert [(x["athlete"], x["code"]) for x in new] == [(name, "see_a_clinician")]
    again = runner.invoke(cli, args)  # the same flag is not new any more
    assert again.exit_code == 0 and json.loads(again.output)["new_alerts"] == []


def test_second_start_waits_or_exits_with_a_distinct_code(cohort, tmp_path):
    inbox = drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    db = tmp_path / "g.db"
    args = ["nightly", "--db", str(db), "--inbox", str(inbox), "--min-age", "0", "--tz", "UTC"]
    runner = CliRunner()
    with nightly_lock(db):
        busy = runner.invoke(cli, args)
        assert busy.exit_code == EXIT_LOCKED
        assert "another gaitrisk nightly run" in busy.output and "--wait" in busy.output
        with pytest.raises(LockBusy):
            run_nightly(db, inbox, zone=UTC, min_age_s=0, wait_s=0.2)
    assert _digests(tmp_path / "archive") == []  # the refused runs touched nothing
    holder = threading.Thread(target=_hold_lock, args=(db, 1.0))
    holder.start()
    time.sleep(0.2)
    waited = runner.invoke(cli, args + ["--wait", "60", "--model-kind", "logistic"])
    holder.join()
    assert waited.exit_code == 0, waited.output
    assert _digests(inbox) == []


def _hold_lock(db: Path, seconds: float) -> None:
    with nightly_lock(db):
        time.sleep(seconds)


def _cli(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from gaitrisk.cli.main import main; main()", "--db", str(root / "g.db"), "nightly", "--inbox",
            str(root / "inbox"), "--min-age", "0", "--tz", "UTC", "--model-kind", "logistic", "--quiet", *extra]


def test_two_concurrent_starts_give_a_consistent_result(cohort, tmp_path):
    _, truth = cohort
    inbox = drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    originals = _digests(inbox)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen(_cli(tmp_path, *wait), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for wait in (["--wait", "120"], ["--wait", "0"])]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    waiting, impatient = results
    assert waiting[0] == 0, waiting
    assert impatient[0] in (0, EXIT_LOCKED), impatient  # 0 only when it got the lock first
    if impatient[0] == EXIT_LOCKED:
        assert "another gaitrisk nightly run" in impatient[2]
    assert _digests(tmp_path / "archive") == originals and _digests(inbox) == []
    state = _store_state(tmp_path / "g.db")
    name = min(truth["athletes"])
    assert {n: len(s["runs"]) for n, s in state.items()} == {name: truth["athletes"][name]["runs"]}


_DRIVER = """
import sys
from pathlib import Path
from zoneinfo import ZoneInfo
from gaitrisk.nightly import run_nightly
from tests.helpers.nightly import json_report_renderer
root = Path(sys.argv[1])
run_nightly(root / "g.db", root / "inbox", report_dir=root / "reports", zone=ZoneInfo("UTC"), min_age_s=0,
            model_kind="logistic", report_renderer=json_report_renderer)
"""


def _drive(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _DRIVER, str(root)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def _count(db: Path, sql: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_killed_at_random_points_then_rerun_completes_exactly_once(cohort, tmp_path):
    """SIGKILL mid-import, mid-move, mid-features, after training and mid-reports; then a clean re-run.

    Kill points are drawn at random from the run's own progress (files archived, feature
    records stored, report files written), plus a random delay, so they land in every phase
    however loaded the machine is.
    """
    _, truth = cohort
    root = tmp_path
    inbox = drop_inbox(cohort, root)
    (inbox / "readme.txt").write_text("not a watch file\n")  # one quarantined file too
    originals = _digests(inbox)
    n_files, n_runs = len(originals), sum(t["runs"] for t in truth["athletes"].values())
    rng = random.Random(20241128)
    db = root / "g.db"
    k1, k2, k3 = rng.randint(1, n_files // 3), rng.randint(n_files // 3, n_files - 1), rng.randint(1, n_runs - 1)
    points = [lambda: _files(root / "archive") >= k1,                                  # mid-import
              lambda: _files(root / "archive") >= k2,                                  # later in the import
              lambda: _count(db, "SELECT count(*) FROM run_features") >= k3,           # mid-features
              lambda: _files(root / "reports") >= 1]                                   # training done, mid-reports
    for reached in points:
        proc = _drive(root)
        deadline = time.monotonic() + 120
        while proc.poll() is None and not reached() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # After every kill: a sound store, no half activity, no file lost.  (A kill between placing a
        # file in the archive and unlinking the inbox copy leaves it in both; the next run drops the copy.)
        _store_state(db)
        assert set(_digests(inbox, root / "archive", root / "quarantine")) == set(originals)
    assert _drive(root).wait(timeout=300) == 0
    state = _store_state(db)
    assert {n: (len(s["runs"]), len(s["pain"]), s["features"]) for n, s in state.items()} == \
        {n: (t["runs"], _pain_rows(cohort, n), t["runs"]) for n, t in truth["athletes"].items()}
    assert _digests(inbox) == []
    assert _digests(root / "archive", root / "quarantine") == originals  # each file exactly once
    assert (root / "quarantine" / ("readme.txt" + REASON_SUFFIX)).exists()
    for name, t in truth["athletes"].items():
        report = json.loads((root / "reports" / f"{name}.json").read_text())
        assert (report["runs"], report["pain"], report["model"]) == (t["runs"], _pain_rows(cohort, name),
                                                                     "g.db.model.skops")
    with sqlite3.connect(db) as con:
        dup = con.execute("SELECT count(*) FROM (SELECT athlete_id, ts, region, side, context FROM pain_entries"
                          " GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1)").fetchone()[0]
    assert dup == 0
    # The completed state is final: one more run finds nothing to do.
    last = run_nightly(db, inbox, report_dir=root / "reports", zone=UTC, min_age_s=0, model_kind="logistic",
                       report_renderer=json_report_renderer)
    assert last.nothing_new, last.as_json()


@pytest.fixture(scope="module")
def real_run(cohort, tmp_path_factory):
    """One nightly run of one athlete with the real reports (gaitrisk.report): (root, summary)."""
    root = tmp_path_factory.mktemp("real")
    drop_inbox(cohort, root, athletes=1)
    return root, _run(root, report_renderer=None)  # the default: render_reports (gaitrisk.report)


def test_real_reports_are_written_as_html_and_json(real_run):
    root, summary = real_run
    assert not summary.failed, [a.errors for a in summary.athletes]
    for a in summary.athletes:
        suffixes = sorted(Path(p).suffix for p in a.reports)
        assert suffixes == [".html", ".json"], a.reports
        doc = json.loads(next(Path(p) for p in a.reports if p.endswith(".json")).read_text())
        assert a.athlete in json.dumps(doc)
        assert all(Path(p).stat().st_mode & 0o077 == 0 for p in a.reports)  # health data: user-only
    assert (root / "reports").stat().st_mode & 0o077 == 0


def test_analysis_task_carries_the_data_and_runs_where_the_database_is_not(real_run, tmp_path, monkeypatch):
    """A "remote" worker: the task holds no path to the database, which is gone when the task runs elsewhere.

    Its flags and report must equal those made from the full store on the client (a worker that
    opened the path would find nothing there and answer "no runs yet").
    """
    import datetime as dt
    import pickle
    import zlib

    from gaitrisk.model.flags import assess
    from gaitrisk.model.risk import risk_for
    from gaitrisk.nightly.analysis import (
        AthleteResult,
        AthleteTask,
        DayRisk,
        ModelFiles,
        RenderedReport,
        SeenFlag,
        analyse_athlete,
        render_reports,
    )

    root, summary = real_run
    client = tmp_path / "client"
    client.mkdir()
    for p in root.glob("g.db*"):
        if p.is_file() and not p.name.endswith(".lock"):
            shutil.copy(p, client / p.name)
    db, model_path = client / "g.db", client / "g.db.model.skops"
    assert summary.model == "trained" and model_path.exists()  # the model travels too
    name = summary.athletes[0].athlete
    when = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    with Store(db) as st:  # the JSON report only: the HTML one adds its plots (seconds), not other data
        task = AthleteTask.build(st, name, "UTC", ModelFiles.read(model_path), ("json",), when)
        flagged = assess(st, name, UTC, model_path=model_path)
        local = AthleteResult(name, tuple(SeenFlag(f.code, f.severity, f.date.isoformat()) for f in flagged.flags),
                              tuple(RenderedReport(n, t) for n, t in render_reports(
                                  st, name, zone=UTC, model_path=model_path, formats=("json",), generated_at=when)),
                              risk=DayRisk.of(risk_for(st, name, UTC, flagged.last, flagged.last,
                                                       model_path=model_path)))
    assert local.flags and json.loads(local.reports[0].text)["athletes"][0]["runs"]
    shipped = pickle.dumps(task)
    for blob in (shipped, zlib.decompress(task.snapshot), task.model.model, task.model.card):
        assert str(client).encode() not in blob and str(root / "g.db").encode() not in blob  # no database path

    shutil.rmtree(client)  # the client's disk, as seen from another machine
    worker, worker_tmp = tmp_path / "worker", tmp_path / "worker-tmp"
    worker.mkdir()
    worker_tmp.mkdir()
    # The worker's side: the task as it arrives (unpickled), another working and temp folder.
    # (A separate interpreter would cost ~4 s of imports; the LocalCluster test runs it in worker processes.)
    monkeypatch.chdir(worker)
    monkeypatch.setattr(tempfile, "tempdir", str(worker_tmp))
    remote = analyse_athlete(pickle.loads(shipped))
    assert remote == local
    assert not client.exists() and list(worker_tmp.iterdir()) == [] and list(worker.iterdir()) == []


def test_import_and_nightly_take_workers_and_scheduler(tmp_path):
    runner = CliRunner()
    for cmd in ("import", "nightly"):
        out = runner.invoke(cli, [cmd, "--help"]).output
        assert "--workers" in out and "--scheduler" in out and "GAITRISK_SCHEDULER" in out
    (tmp_path / "inbox").mkdir()
    bad = runner.invoke(cli, ["nightly", "--db", str(tmp_path / "g.db"), "--inbox", str(tmp_path / "inbox")],
                        env={"GAITRISK_SCHEDULER": "local:0"})
    assert bad.exit_code == 1 and "local:N" in bad.output
    missing = runner.invoke(cli, ["nightly", "--db", str(tmp_path / "g.db"), "--inbox", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no such inbox" in missing.output
    (tmp_path / "not.db").write_bytes(b"this is not a database" * 100)
    bad_db = runner.invoke(cli, ["nightly", "--db", str(tmp_path / "not.db"), "--inbox", str(tmp_path / "inbox")])
    assert bad_db.exit_code == 1 and "not a usable gaitrisk database" in bad_db.output
    assert bad_db.exception is None or isinstance(bad_db.exception, SystemExit)


def test_nightly_updates_the_prior_model_and_a_second_night_leaves_it_alone(cohort, tmp_path):
    drop_inbox(cohort, tmp_path)
    first = _run(tmp_path, model_kind="prior")
    assert not first.failed and first.model == "trained", first.model_note
    model = tmp_path / "g.db.model.skops"
    card = json.loads((tmp_path / "g.db.model.skops.card.json").read_text())
    # The card holds what model info prints: the prior's version, the data, the label, the unlogged days.
    assert card["model"]["selected"] == "prior" and card["model"]["prior_version"] >= 1
    assert card["data"]["onsets_total"] > 0 and "unlogged_rows_removed" in card["data"] and card["label_text"]
    assert card["model"]["summary"] in first.model_note and "updated the population prior" in first.model_note
    info = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "model", "info"])
    assert info.exit_code == 0 and "population prior version" in info.output, info.output
    for a in first.athletes:   # each athlete's last day carries the model's risk, not an alert
        assert a.analysed and a.risk is not None, a.line()
        assert 0 < a.risk["low"] <= a.risk["probability"] <= a.risk["high"] < 1
        assert 0 < a.risk["base_rate"] < 1 and a.risk["model"].startswith("updated with")
        assert "risk of a hip/lateral-knee pain onset" in a.line()
    assert all(a.athlete in {x["athlete"] for x in first.as_json()["athletes"] if x["risk"]} for a in first.athletes)
    model_bytes = model.read_bytes()

    again = _run(tmp_path, model_kind="prior")
    assert not again.failed and again.model == "unchanged" and again.nothing_new
    assert model.read_bytes() == model_bytes
    assert [a.risk for a in again.athletes] == [a.risk for a in first.athletes]   # remembered, not recomputed


def test_without_pain_onsets_the_population_prior_stands_and_the_night_is_clean(cohort, tmp_path):
    inbox = drop_inbox(cohort, tmp_path, pain=False)
    db = tmp_path / "g.db"
    r = CliRunner().invoke(cli, ["nightly", "--db", str(db), "--inbox", str(inbox), "--min-age", "0",
                                 "--tz", "UTC", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert not out["failed"] and out["model"]["status"] == "not_trained"
    assert "population prior" in out["model"]["note"]
    assert not (tmp_path / "g.db.model.skops").exists()
    assert all(a["risk"]["model"] == "population prior" for a in out["athletes"])
    again = CliRunner().invoke(cli, ["nightly", "--db", str(db), "--inbox", str(inbox), "--min-age", "0",
                                     "--tz", "UTC"])
    assert again.exit_code == 0 and again.output.startswith("nothing new"), again.output


def test_switching_to_the_prior_kind_retrains_once_without_new_onsets(cohort, tmp_path):
    from gaitrisk.model.persist import read_card

    drop_inbox(cohort, tmp_path)
    assert _run(tmp_path, model_kind="logistic").model == "trained"
    card = tmp_path / "g.db.model.skops"
    assert read_card(card)["model"]["selected"] != "prior"
    switched = _run(tmp_path, model_kind="prior")
    assert switched.model == "trained" and read_card(card)["model"]["selected"] == "prior", switched.model_note
    assert _run(tmp_path, model_kind="prior").model == "unchanged"
