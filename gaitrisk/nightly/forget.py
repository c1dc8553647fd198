"""What deleting an athlete removes outside the store: the nightly run's traces of them.

The nightly run leaves an athlete's name and data in five places beside the store: its
state file (flag history, pending alerts, report and file paths), the report files, the
raw files in the archive and the quarantine, the inbox folder named after them, and the
model trained on their data (the model card names them and counts their pain onsets).  :func:`forget_athlete` removes all
of them -- the model is dropped, the next nightly run trains a new one without them --
and says what it removed and what it had to leave, with why.  Call it holding the
nightly lock, so no run writes the state meanwhile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .state import NightlyState, state_path


@dataclass
class Forgotten:
    """What :func:`forget_athlete` did: paths removed, and what remains with the reason."""

    removed: list[str] = field(default_factory=list)
    model_dropped: str | None = None  # the model file removed because it was trained on the athlete's data
    kept: list[str] = field(default_factory=list)  # "<what>: <why>", one line each

    @property
    def found(self) -> bool:
        return bool(self.removed or self.model_dropped)


def forget_athlete(db_path: str | os.PathLike, athlete: str, model_path: str | os.PathLike) -> Forgotten:
    """Remove ``athlete``'s traces kept beside the store at ``db_path`` (see the module docstring)."""
    out = Forgotten()
    state_file = state_path(db_path)
    state = NightlyState.load(state_file)
    entry = state.athletes.pop(athlete, None) or {}
    for p in sorted(set(entry.get("reports", [])) | set(entry.get("written", []))):
        if os.path.isabs(p):
            _remove(Path(p), out)
        elif not any(os.path.isabs(w) and w.endswith(os.sep + p) for w in entry.get("written", [])):
            # Relative to the folder that run was started in, which is not known here.
            out.kept.append(f"{p}: a report written with a relative --report-dir; not removed, remove it yourself")
    for root, rel in entry.get("files", []):
        _remove(Path(root) / rel, out, prune_below=Path(root))
    for folder in entry.get("inbox_folders", []):
        _remove_inbox_folder(Path(folder), out)
    dropped = _drop_model(Path(model_path), athlete, out)
    changed = bool(entry) or dropped
    tried = state.model.get("tried_onsets") or {}
    if dropped:
        state.model = {}  # no model now: the next nightly run trains one on the others' data
    elif athlete in tried:
        del tried[athlete]
        changed = True
    if changed and state_file.exists():
        try:
            state.save(state_file)
        except OSError as exc:
            out.kept.append(f"{state_file}: still names the athlete, it could not be rewritten "
                            f"({exc.strerror or exc})")
        else:
            out.removed.append(f"{state_file} (the athlete's entry)")
    return out


def _remove(path: Path, out: Forgotten, prune_below: Path | None = None) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        out.kept.append(f"{path}: could not be removed ({exc.strerror or exc})")
        return
    else:
        out.removed.append(str(path))
    if prune_below is not None:
        _prune(path.parent, prune_below)


def _remove_inbox_folder(folder: Path, out: Forgotten) -> None:
    """The athlete's inbox folder goes when empty; one still holding files is the user's to clear."""
    try:
        folder.rmdir()
    except FileNotFoundError:
        return
    except OSError as exc:
        out.kept.append(f"{folder}: the athlete's inbox folder, not removed ({exc.strerror or exc}); files left "
                        "in it would be imported for them again by the next nightly run")
        return
    out.removed.append(str(folder))


def _prune(folder: Path, root: Path) -> None:
    """Remove the folders left empty up to ``root`` (a folder may bear the athlete's name)."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (another athlete's or the user's files), or gone
            return
        folder = folder.parent


def _drop_model(model_path: Path, athlete: str, out: Forgotten) -> bool:
    from ..model.persist import ModelFileError, card_path, read_card

    if not model_path.exists() and not card_path(model_path).exists():
        return False
    try:
        card = read_card(model_path)
    except ModelFileError as exc:
        out.kept.append(f"{model_path}: kept, its card cannot be read, so whether it was trained on the "
                        f"athlete's data is unknown ({exc}); remove it if in doubt")
        return False
    data = card.get("data") or {}
    label = card.get("label") or {}
    named = {*(data.get("athletes") or []), *(data.get("onsets") or {}), *(label.get("sources") or {})}
    if athlete not in named:
        return False
    gone = []
    for p in (model_path, card_path(model_path)):
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            out.kept.append(f"{p}: trained on the athlete's data, but could not be removed ({exc.strerror or exc})")
        else:
            gone.append(p)
    if len(gone) == 2:
        out.model_dropped = str(model_path)
    return bool(gone)
