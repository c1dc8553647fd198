"""The nightly run's retrain policy: the pooled risk model is retrained only when some athlete has
more pain onsets than it was trained on (its card records them), and each data state is tried once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .state import NightlyState
from .summary import NightlySummary

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)


def digest(parts: object) -> str:
    """A short stable hash of JSON-able ``parts`` (fingerprints of data, models and settings)."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]


def model_sha(model_path: Path) -> str | None:
    """The model file's sha256 as its card records it; ``None`` without a readable model."""
    from ..model.persist import ModelFileError, read_card

    try:
        return read_card(model_path).get("model_sha256")
    except ModelFileError:
        return None


def maybe_train(store: Store, zone: ZoneInfo, model_path: Path, data_fp: dict[str, str], state: NightlyState,
                 summary: NightlySummary, model_kind: str) -> None:
    """Retrain the pooled model when some athlete has more pain onsets than it was trained on.

    A model of the other family (the prior vs the older feature classifier) counts as trained on
    nothing, so switching ``model_kind`` retrains once; without any onset the prior model has
    nothing to learn and the population prior stands.
    """
    from ..model.persist import ModelFileError, read_card
    from ..model.update import MODEL_KIND

    key = digest([sorted(data_fp.items()), model_sha(model_path), model_kind])
    if state.model.get("data_key") == key:
        summary.model_note = "no new data since the last check"
        return
    try:
        card = read_card(model_path)
        trained_on = card["data"]["onsets"] if (card["model"]["selected"] == MODEL_KIND) == \
            (model_kind == MODEL_KIND) else {}
    except (ModelFileError, KeyError, TypeError):
        trained_on = {}
    from ..model.dataset import build_dataset

    onsets = {str(a): int(n) for a, n in build_dataset(store, None, zone).onsets().items() if int(n) > 0}
    same_kind = state.model.get("tried_kind", model_kind) == model_kind
    tried = (state.model.get("tried_onsets") or {}) if same_kind else {}
    new = {a: n - max(int(trained_on.get(a, 0)), int(tried.get(a, 0))) for a, n in onsets.items()}
    new = {a: n for a, n in new.items() if n > 0}
    if not onsets and model_kind == MODEL_KIND:
        summary.model, summary.model_note = "not_trained", ("no pain onset in the store: nothing to update the "
                                                           "population prior with; gaitrisk risk uses it as is")
    elif not new:
        summary.model_note = f"no new pain onsets since the last training ({sum(onsets.values())} in all)"
    else:
        _train(store, zone, model_path, summary, model_kind, new)
        state.model["tried_onsets"] = onsets
        state.model["tried_kind"] = model_kind
        state.model["tried_utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        state.model["result"] = summary.model
    state.model["data_key"] = digest([sorted(data_fp.items()), model_sha(model_path), model_kind])


def _train(store: Store, zone: ZoneInfo, model_path: Path, summary: NightlySummary, model_kind: str,
           new: dict[str, int]) -> None:
    from ..model.persist import save_model
    from ..model.update import MODEL_KIND, train_model, update_lines

    what = ", ".join(f"{a} +{n}" for a, n in sorted(new.items()))
    try:
        est, card = train_model(store, zone, model_kind)
        save_model(est, card, model_path)
    except ValueError as exc:  # nothing to learn from yet: not a failure of the run
        summary.model, summary.model_note = "not_trained", f"new onsets ({what}) but cannot train: {exc}"
        return
    except Exception as exc:
        log.debug("training failed", exc_info=True)
        summary.model, summary.model_note = "failed", f"training failed: {type(exc).__name__}: {exc}"
        summary.errors.append(summary.model_note)
        return
    d = card["data"]
    summary.model = "trained"
    if model_kind == MODEL_KIND:
        summary.model_note = f"{what} new onset(s): " + "; ".join(update_lines(card))
    else:
        summary.model_note = (f"retrained ({what} new onset(s)): {card['model']['selected']} on {d['rows']} "
                              f"athlete-days of {len(d['athletes'])} athlete(s), {d['onsets_total']} onsets")
    log.info("model %s", summary.model_note)
