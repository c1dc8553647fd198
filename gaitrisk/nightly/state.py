"""What the nightly run remembers between runs, in ``<database>.nightly.json``.

Per athlete: the fingerprint of the data the last report and flags were made from, the
flags seen then (for ``--fail-on-new-high``), the new alerts not yet delivered, the report
files written and where the athlete's files went (archive, quarantine), so that deleting
the athlete can remove every one of them.  For the
model: the pain onsets per athlete it was last trained on (or last tried to train on).
The store stays the single source of truth for the data; this file only says what was
already done with it.  Losing it costs one full night of work, never data.  It is
written atomically and user-only, like the store.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..privatefile import write_private

log = logging.getLogger(__name__)

STATE_VERSION = 1


def state_path(db_path: str | os.PathLike) -> Path:
    return Path(str(db_path) + ".nightly.json")


# What write_private's mkstemp adds to a name: 8 characters of tempfile's alphabet and ".tmp".
_MKSTEMP = r"\.[a-z0-9_]{8}\.tmp"


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files that runs killed inside :meth:`NightlyState.save` left beside ``path``.

    Only names :meth:`~NightlyState.save` makes are touched.  Call it holding the nightly
    lock: no other run can be saving then.  Returns the files removed.
    """
    return _sweep(path.parent, f".{glob.escape(path.name)}.*", re.escape(f".{path.name}") + _MKSTEMP,
                  "left by a run killed while saving its state")


def remove_stale_report_temps(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Remove the report temp files (``.<name>.<suffix>.XXXXXXXX.tmp``, suffixes without the dot) a killed run left.

    A report is written to a temp file and renamed; a run killed between the two leaves the
    temp file, which no later run would ever overwrite.  Call it holding the nightly lock.
    """
    kinds = "|".join(re.escape(s) for s in suffixes)
    return _sweep(folder, ".*.tmp", r"\.[^/]+\.(?:" + kinds + ")" + _MKSTEMP,
                  "report left half-written by a killed run")


def _sweep(folder: Path, shell_glob: str, name_pattern: str, why: str) -> list[Path]:
    pattern = re.compile(name_pattern)
    gone: list[Path] = []
    try:
        candidates = list(folder.glob(shell_glob))
    except OSError:
        return gone
    for p in candidates:
        if not pattern.fullmatch(p.name) or p.is_symlink() or not p.is_file():
            continue
        try:
            p.unlink()
        except OSError as exc:  # harmless: only a stray file stays
            log.warning("%s: stale temp file not removed (%s)", p, exc.strerror or exc)
            continue
        gone.append(p)
        log.info("%s: removed, %s", p, why)
    return gone


@dataclass
class NightlyState:
    athletes: dict[str, dict] = field(default_factory=dict)
    model: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> NightlyState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("%s: unreadable (%s); starting afresh (reports are rewritten, flags count as new)",
                        path, exc)
            return cls()
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return cls()
        return cls(dict(data.get("athletes") or {}), dict(data.get("model") or {}))

    def save(self, path: Path) -> None:
        text = json.dumps({"version": STATE_VERSION, "athletes": self.athletes, "model": self.model},
                          indent=1, sort_keys=True) + "\n"
        write_private(path, text)


def remember_files(state: NightlyState, athlete: str, moved: list[tuple[str, str]]) -> None:
    """Add (root, path below it) pairs of ``athlete``'s archived or quarantined files."""
    entry = state.athletes.setdefault(athlete, {})
    entry["files"] = sorted({tuple(x) for x in entry.get("files", [])} | {tuple(x) for x in moved})


def remember_inbox_folders(state: NightlyState, athlete: str, folders: Iterable[str]) -> None:
    """Add the inbox folders (absolute paths) that bear ``athlete``'s name."""
    entry = state.athletes.setdefault(athlete, {})
    entry["inbox_folders"] = sorted(set(entry.get("inbox_folders", [])) | set(folders))


def pending_alerts(state: NightlyState) -> dict[str, list[dict[str, str]]]:
    """Athlete -> the alerts found and not yet delivered, as ``{"code", "severity", "date"}``."""
    return {name: [{"code": c, "severity": s, "date": d} for c, s, d in entry["pending_alerts"]]
            for name, entry in sorted(state.athletes.items()) if entry.get("pending_alerts")}


def mark_delivered(state: NightlyState) -> None:
    """Every pending alert was delivered: none stays pending."""
    for entry in state.athletes.values():
        entry.pop("pending_alerts", None)
