"""The nightly run under attack: nothing lost, nothing mixed up, nothing leaked.

Report files unique per athlete, an alert never lost to a kill before it was delivered,
no trace of a deleted athlete left beside the store, nothing written through a symbolic
link in the archive or the quarantine, and symbolic links in the inbox reported.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.cli.nightly import EXIT_NEW_ALERT
from gaitrisk.nightly import run_nightly
from gaitrisk.nightly.inbox import REASON_SUFFIX
from gaitrisk.nightly.lock import nightly_lock
from gaitrisk.store import Store

from .helpers.nightly import drop_inbox, night_pain_csv, nightly_cohort
from .helpers.paths import FIXTURES

pytestmark = pytest.mark.slow

UTC = ZoneInfo("UTC")
REPO = Path(__file__).resolve().parents[1]
RUNS = sorted((FIXTURES / "runs").iterdir())


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """The nightly tests' seeded cohort: three athletes, 6 weeks of runs, their pain diaries and the truth."""
    return nightly_cohort(tmp_path_factory.mktemp("cohort"))


def _nightly(root: Path, **kw):
    kw.setdefault("model_kind", "logistic")
    return run_nightly(root / "g.db", root / "inbox", report_dir=root / "reports", zone=UTC, min_age_s=0, **kw)


def test_athletes_whose_names_sanitise_alike_get_their_own_reports(tmp_path):
    for name, runs in (("ann b", RUNS[:3]), ("ann_b", RUNS[3:4])):
        (tmp_path / "inbox" / name).mkdir(parents=True)
        for p in runs:
            shutil.copy(p, tmp_path / "inbox" / name / p.name)
    summary = _nightly(tmp_path)  # the real renderer: gaitrisk.report
    assert not summary.failed, [a.line() for a in summary.athletes]
    written = {a.athlete: a.reports for a in summary.athletes}
    assert len({p for ps in written.values() for p in ps}) == 4
    assert len(list((tmp_path / "reports").iterdir())) == 4
    for name, n_runs in (("ann b", 3), ("ann_b", 1)):
        rep = json.loads(Path(next(p for p in written[name] if p.endswith(".json"))).read_text())["athletes"][0]
        assert (rep["name"], len(rep["runs"])) == (name, n_runs)
        html = Path(next(p for p in written[name] if p.endswith(".html"))).read_text()
        assert f'data-athlete="{name}"' in html


_KILL_AT_DELIVERY = """
import os, signal, sys
import gaitrisk.cli.nightly as nightly
from gaitrisk.cli.main import cli

def killed(summary):  # SIGKILL where the summary is printed: after the state recorded the new flags
    os.kill(os.getpid(), signal.SIGKILL)

nightly._print_summary = killed
cli(sys.argv[1:])
"""


def test_an_alert_found_by_a_run_killed_before_it_was_printed_is_delivered_next_time(cohort, tmp_path):
    _, truth = cohort
    name = min(truth["athletes"])
    inbox = drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    args = ["nightly", "--db", str(tmp_path / "g.db"), "--inbox", str(inbox), "--min-age", "0", "--tz", "UTC",
            "--model-kind", "logistic", "--fail-on-new-high"]
    runner = CliRunner()
    first = runner.invoke(cli, [*args, "--json"])
    assert first.exit_code in (0, EXIT_NEW_ALERT), first.output

    (inbox / name / "night.pain.csv").write_text(night_pain_csv(cohort, name))
    killed = subprocess.run([sys.executable, "-c", _KILL_AT_DELIVERY, *args], cwd=REPO, capture_output=True,
                            text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "NEW ALERT" not in killed.stderr
    assert not (inbox / name / "night.pain.csv").exists()  # imported: the next run has nothing new to import

    after = runner.invoke(cli, [*args, "--json"])
    assert after.exit_code == EXIT_NEW_ALERT, after.output
    out = json.loads(after.output)
    assert [(x["athlete"], x["code"]) for x in out["new_alerts"]] == [(name, "see_a_clinician")]
    assert not out["nothing_new"]
    again = runner.invoke(cli, [*args, "--json"])  # delivered now: not new any more
    assert again.exit_code == 0 and json.loads(again.output)["new_alerts"] == [], again.output


def test_an_alert_stays_pending_while_delivery_fails(cohort, tmp_path):
    _, truth = cohort
    name = min(truth["athletes"])
    drop_inbox(cohort, tmp_path, pain=False, athletes=1)
    _nightly(tmp_path)
    (tmp_path / "inbox" / name / "night.pain.csv").write_text(night_pain_csv(cohort, name))

    def broken(summary):
        assert summary.new_alerts
        raise OSError("stdout is gone")

    try:
        _nightly(tmp_path, deliver=broken)
    except OSError:
        pass
    else:
        raise AssertionError("the delivery's error must reach the caller")
    delivered = []
    _nightly(tmp_path, deliver=lambda s: delivered.extend(s.new_alerts))
    assert [(x["athlete"], x["code"]) for x in delivered] == [(name, "see_a_clinician")]
    assert _nightly(tmp_path).new_alerts == []


NOTE = "zebra-crossing-4471 note"


def _traces(root: Path, needles: list[bytes], skip: Path) -> list[str]:
    """Every file or folder below ``root`` (but ``skip``) whose name or bytes hold one of ``needles``."""
    found = []
    for p in root.rglob("*"):
        if skip == p or skip in p.parents:
            continue
        if any(n.decode() in str(p.relative_to(root)) for n in needles):
            found.append(f"name: {p}")
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            found += [f"{n!r} in {p}" for n in needles if n in data]
    return found


def test_delete_leaves_no_trace_of_the_athlete_beside_the_store(cohort, tmp_path, monkeypatch):
    src, truth = cohort
    gone, stays = sorted(truth["athletes"])[:2]  # both have pain onsets: the model is trained on both
    x = "xavierquill"
    inbox = tmp_path / "inbox"
    shutil.copytree(src / gone / "runs", inbox / x / "runs")
    shutil.copy(src / gone / "pain.csv", inbox / x / "diary.pain.csv")
    last = max(p.name[:10] for p in (src / gone / "runs").iterdir())
    (inbox / x / "notes.pain.csv").write_text(f"date,score,region,side,when,note\n{last},3,foot,L,after_run,{NOTE}\n")
    (inbox / x / "junk.fit").write_bytes(b"not a fit file at all")  # quarantined
    shutil.copytree(src / stays / "runs", inbox / stays / "runs")
    shutil.copy(src / stays / "pain.csv", inbox / stays / "diary.pain.csv")
    monkeypatch.chdir(tmp_path)  # the nightly run given relative folders, the delete run from elsewhere
    first = run_nightly("g.db", "inbox", report_dir="reports", zone=UTC, min_age_s=0, model_kind="logistic")
    monkeypatch.chdir(src)
    assert not first.failed and first.model == "trained"
    needles = [x.encode(), NOTE.encode()]
    before = _traces(tmp_path, needles, inbox)
    for where in ("reports", "archive", "quarantine", "g.db.nightly.json", "g.db.model.skops.card.json"):
        assert any(str(tmp_path / where) in t for t in before), where  # the test looks where the traces are

    with nightly_lock(tmp_path / "g.db"):  # a nightly run at work: it would write them back
        busy = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "delete", "--athlete", x, "--yes"])
    assert busy.exit_code == 1 and "nothing deleted" in busy.output
    assert _traces(tmp_path, needles, inbox) == before
    assert (inbox / x).is_dir()  # emptied by the moves, and named after them
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "delete", "--athlete", x, "--yes"])
    assert res.exit_code == 0, res.output
    assert _traces(tmp_path, needles, tmp_path / "nothing skipped") == []
    assert "removed the model" in res.output and not (tmp_path / "g.db.model.skops").exists()
    # The other athlete keeps everything.
    with Store(tmp_path / "g.db") as st:
        assert st.athletes() == [stays] and len(st.activities(stays)) == truth["athletes"][stays]["runs"]
    assert (tmp_path / "reports" / f"{stays}.json").exists()
    assert (tmp_path / "archive" / stays / "diary.pain.csv").exists()
    assert stat.S_IMODE((tmp_path / "g.db.nightly.json").stat().st_mode) == 0o600

    # The next night trains a model without them (or says why it cannot) and writes nothing of theirs back.
    again = _nightly(tmp_path)
    assert again.model in ("trained", "not_trained"), again.model_note
    assert _traces(tmp_path, needles, inbox) == []
    # Deleting them again: nothing left to delete.
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "delete", "--athlete", x, "--yes"])
    assert res.exit_code == 1 and "nothing deleted" in res.output


def _junk_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    (inbox / "ann").mkdir(parents=True)
    (inbox / "ann" / "junk.fit").write_bytes(b"not a fit file")
    return inbox


def test_a_symlink_in_the_quarantine_is_never_written_through(tmp_path):
    _junk_inbox(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "quarantine" / "ann").mkdir(parents=True, mode=0o700)
    planted = tmp_path / "quarantine" / "ann" / ("junk.fit" + REASON_SUFFIX)
    planted.symlink_to(victim)
    summary = _nightly(tmp_path)
    assert victim.read_text() == "precious\n" and planted.is_symlink()
    [q] = summary.athletes[0].quarantined
    moved = Path(q["moved_to"])
    assert moved.parent == planted.parent and moved.name != "junk.fit" and not moved.is_symlink()
    assert moved.read_bytes() == b"not a fit file"
    reason = moved.with_name(moved.name + REASON_SUFFIX)
    assert not reason.is_symlink() and stat.S_IMODE(reason.stat().st_mode) == 0o600


def test_a_symlink_at_the_archive_name_is_never_followed(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "ann").mkdir(parents=True)
    shutil.copy(RUNS[0], inbox / "ann" / RUNS[0].name)
    victim = tmp_path / "victim.fit"
    shutil.copy(RUNS[0], victim)  # the same bytes: must not count as "already archived"
    (tmp_path / "archive" / "ann").mkdir(parents=True, mode=0o700)
    (tmp_path / "archive" / "ann" / RUNS[0].name).symlink_to(victim)
    summary = _nightly(tmp_path)
    assert summary.athletes[0].archived == 1 and not (inbox / "ann" / RUNS[0].name).exists()
    real = [p for p in (tmp_path / "archive" / "ann").iterdir() if not p.is_symlink()]
    assert len(real) == 1 and real[0].read_bytes() == RUNS[0].read_bytes()


def test_a_symlinked_folder_in_the_quarantine_is_refused(tmp_path):
    inbox = _junk_inbox(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "quarantine").mkdir(mode=0o700)
    (tmp_path / "quarantine" / "ann").symlink_to(elsewhere, target_is_directory=True)
    summary = _nightly(tmp_path)
    assert list(elsewhere.iterdir()) == []
    assert (inbox / "ann" / "junk.fit").exists()  # left for the next run, with one line saying why
    [err] = summary.athletes[0].errors
    assert "symbolic link" in err and str(tmp_path / "quarantine" / "ann") in err


def test_loose_archive_and_quarantine_folders_are_made_user_only(tmp_path):
    inbox = _junk_inbox(tmp_path)
    shutil.copy(RUNS[0], inbox / "ann" / RUNS[0].name)
    loose = [tmp_path / "archive", tmp_path / "archive" / "ann", tmp_path / "quarantine",
             tmp_path / "quarantine" / "ann"]
    for d in loose:
        d.mkdir(exist_ok=True)
        os.chmod(d, 0o755)
    summary = _nightly(tmp_path)
    assert summary.athletes[0].archived == 1 and len(summary.athletes[0].quarantined) == 1
    assert {str(d): stat.S_IMODE(d.stat().st_mode) for d in loose} == {str(d): 0o700 for d in loose}


def test_symlinks_in_the_inbox_are_reported_with_a_reason(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "ann").mkdir(parents=True)
    (inbox / "ann" / "link.fit").symlink_to(RUNS[0])
    (inbox / "bob").symlink_to(FIXTURES / "runs", target_is_directory=True)
    summary = _nightly(tmp_path)
    left = {a.athlete: a.left_in_inbox for a in summary.athletes}
    assert [x["file"] for x in left["ann"]] == ["ann/link.fit"] and "symbolic link" in left["ann"][0]["reason"]
    assert [x["file"] for x in left["me"]] == ["bob"]
    assert all("left in the inbox" in a.line() for a in summary.athletes)
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "nightly", "--inbox", str(inbox), "--min-age",
                                   "0", "--tz", "UTC"])
    assert res.exit_code == 0 and "ann/link.fit: a symbolic link, not followed" in res.output, res.output
    assert (inbox / "ann" / "link.fit").is_symlink()


def test_delete_keeps_an_inbox_folder_that_still_holds_files_and_says_so(tmp_path):
    from gaitrisk.nightly.forget import forget_athlete
    from gaitrisk.nightly.state import NightlyState, remember_inbox_folders, state_path

    db = tmp_path / "g.db"
    waiting, emptied = tmp_path / "inbox" / "ann", tmp_path / "inbox2" / "ann"
    waiting.mkdir(parents=True)
    emptied.mkdir(parents=True)
    (waiting / "tomorrow.fit").write_bytes(b"not imported yet")
    state = NightlyState()
    remember_inbox_folders(state, "ann", [str(waiting), str(emptied)])
    state.save(state_path(db))
    out = forget_athlete(db, "ann", tmp_path / "no.model")
    assert not emptied.exists() and str(emptied) in out.removed
    assert (waiting / "tomorrow.fit").exists()
    assert [k for k in out.kept if k.startswith(str(waiting)) and "imported for them again" in k]
    assert "ann" not in NightlyState.load(state_path(db)).athletes
