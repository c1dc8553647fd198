"""The nightly run under attack: nothing lost, nothing mixed up, nothing leaked.

Nothing written through a symbolic link in the archive or the quarantine.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from zoneinfo import ZoneInfo

from gaitrisk.nightly import run_nightly
from gaitrisk.nightly.inbox import REASON_SUFFIX

from .conftest import FIXTURES

UTC = ZoneInfo("UTC")
RUNS = sorted((FIXTURES / "runs").iterdir())


def _nightly(root: Path, **kw):
    kw.setdefault("model_kind", "logistic")
    return run_nightly(root / "g.db", root / "inbox", report_dir=root / "reports", zone=UTC, min_age_s=0, **kw)


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


