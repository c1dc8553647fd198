"""Saving and loading the trained risk model safely, with a model card.

The model file is a skops archive (``skops.io``): loading it never runs pickle, and
only the types in :data:`TRUSTED_TYPES` (the estimator, the calibration wrappers and
the boosting tree predictor; everything else skops trusts by default: numpy arrays,
scikit-learn's own estimators) may appear in it.  A file that asks for any other type
is refused with a one-line reason.

Beside it, ``<model>.card.json`` is the model card: data range, athletes, onsets,
rows, metrics, the library versions and the model file's SHA-256 (a card that does not
match its model file is refused).  Both files are created user-only (0600), like the
store, and written atomically (temporary file, then rename).

Loading costs bounded memory whatever the files hold: the card and the model file are
read only up to a size cap, the model's SHA-256 is computed as it is read and checked
before any of it is parsed, and the archive's own member sizes (``schema.json`` and the
arrays, as declared in the zip directory that also bounds what unpacking may produce) are
checked before skops opens it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import platform
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Sequence
from zoneinfo import ZoneInfo

from ..privatefile import write_private

if TYPE_CHECKING:
    from .dataset import Dataset, LabelSpec
    from .estimator import GaitRiskClassifier
    from .posterior import Posterior
    from .prior import PriorRiskClassifier

if TYPE_CHECKING:
    from ..store import Store

CARD_VERSION = 1
MIN_ONSETS = 5   # below this many labelled onsets an athlete's flags come from the rules alone
# Types skops does not trust by default that a GaitRiskClassifier (logistic or boosting head; the
# calibration is plain arrays) or a PriorRiskClassifier holds.  Checked in tests/test_model_persist.py against every variant.
TRUSTED_TYPES: tuple[str, ...] = (
    "gaitrisk.model.estimator.GaitRiskClassifier",
    "gaitrisk.model.prior.PriorRiskClassifier",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


# Size caps (bytes).  A boosting model with isotonic calibration fitted on 20,000 rows of 100
# athletes is 0.7 MB (schema.json 0.5 MB); trees are bounded by max_iter, arrays grow with rows.
MAX_CARD_BYTES = 4 << 20
MAX_MODEL_BYTES = 64 << 20
MAX_SCHEMA_BYTES = 16 << 20           # skops's schema.json, parsed whole as JSON
MAX_UNPACKED_BYTES = 256 << 20        # every member unpacked
MAX_MEMBERS = 20_000
READ_CHUNK = 1 << 20


class ModelFileError(RuntimeError):
    """The model file or its card is missing, unreadable, untrusted or does not match."""


def default_model_path(db_path: str | os.PathLike) -> Path:
    """``<db>.model.skops`` beside the database."""
    return Path(str(db_path) + ".model.skops")


def card_path(model_path: str | os.PathLike) -> Path:
    return Path(str(model_path) + ".card.json")


def library_versions() -> dict[str, str]:
    import numpy as np
    import pandas
    import skops
    import sklearn

    from ..version import VERSION

    return {"gaitrisk": VERSION, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pandas.__version__, "scikit-learn": sklearn.__version__, "skops": skops.__version__}


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, user-only (0600), in a 0700 folder if it must create one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, data)


def save_model(estimator: GaitRiskClassifier | PriorRiskClassifier, card: dict, path: str | os.PathLike) -> Path:
    """Write the model (skops) and its card; returns the model path."""
    import skops.io as sio

    path = Path(path)
    data = sio.dumps(estimator)
    card = {**card, "model_file": path.name, "model_sha256": hashlib.sha256(data).hexdigest()}
    _write_private(path, data)
    _write_private(card_path(path), (json.dumps(card, indent=1, sort_keys=True) + "\n").encode())
    return path


def read_card(path: str | os.PathLike) -> dict:
    """The model card of the model at ``path`` (the model itself is not loaded)."""
    cp = card_path(path)
    try:
        with open(cp, "rb") as f:
            raw = f.read(MAX_CARD_BYTES + 1)
        if len(raw) > MAX_CARD_BYTES:
            raise ModelFileError(f"{cp}: model card larger than {MAX_CARD_BYTES >> 20} MiB; refused")
        card = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"no trained model at {path} (run: gaitrisk model train)") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{cp}: unreadable model card ({exc})") from exc
    if not isinstance(card, dict) or card.get("card_version") != CARD_VERSION:
        raise ModelFileError(f"{cp}: not a gaitrisk model card of version {CARD_VERSION}")
    return card


def _checked(path: Path) -> tuple[dict, bytes]:
    """The card of the model at ``path`` and the model file's bytes, after the hash and archive checks."""
    card = read_card(path)
    data = read_model_bytes(path, card.get("model_sha256"))
    try:
        check_archive(data)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return card, data


def read_model(path: str | os.PathLike) -> tuple[GaitRiskClassifier | PriorRiskClassifier, dict]:
    """Load a model saved by :func:`save_model`: only trusted types, and only with its matching card."""
    import skops.io as sio

    from .estimator import GaitRiskClassifier
    from .prior import PriorRiskClassifier

    path = Path(path)
    card, data = _checked(path)
    try:
        untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelFileError(f"{path}: refused, it holds untrusted types: {', '.join(sorted(untrusted))}")
        model = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except ModelFileError:
        raise
    except Exception as exc:   # a damaged archive raises zipfile/JSON/attribute errors
        raise ModelFileError(f"{path}: not a readable model file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(model, (GaitRiskClassifier, PriorRiskClassifier)):
        raise ModelFileError(f"{path}: holds a {type(model).__name__}, not a gaitrisk risk model")
    return model, card


def read_posterior(path: str | os.PathLike) -> tuple[Posterior | None, dict]:
    """The prior model at ``path`` as a :class:`~gaitrisk.model.posterior.Posterior` with its card;
    None for a model of another kind.

    A prior model's archive holds three arrays that matter (intercept, coefficients, covariance);
    they are read with numpy (no pickle) after the same hash and size checks as :func:`read_model`,
    so a risk costs no scikit-learn or skops import.  An archive holding anything but what
    :func:`save_model` writes for a prior model goes through :func:`read_model` and its checks.
    """
    path = Path(path)
    card, data = _checked(path)
    posterior = _prior_arrays(data)
    if posterior is not None:
        return posterior, card
    from .prior import PriorRiskClassifier

    model, card = read_model(path)
    return (model.posterior() if isinstance(model, PriorRiskClassifier) else None), card


# The node types of a prior model's skops archive: the estimator, plain values and numpy arrays.
_PRIOR_NODE_TYPES = frozenset({
    ("gaitrisk.model.prior", "PriorRiskClassifier"), ("numpy", "ndarray"),
    *(("builtins", t) for t in ("dict", "list", "tuple", "str", "int", "float", "bool", "NoneType")),
})


def _node_types(node: object) -> set[tuple[object, object]]:
    if isinstance(node, list):
        return set().union(*(_node_types(v) for v in node))
    if not isinstance(node, dict):
        return set()
    own = {(node.get("__module__"), node.get("__class__"))} if "__class__" in node else set()
    return own.union(*(_node_types(v) for v in node.values()))


def _prior_arrays(data: bytes) -> Posterior | None:
    """The intercept, coefficients and covariance of a prior model's archive, or None when the
    archive holds anything else or anything unexpected."""
    import numpy as np

    from .posterior import Posterior

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        schema = json.loads(archive.read("schema.json"))
        if (schema.get("__module__"), schema.get("__class__")) != ("gaitrisk.model.prior", "PriorRiskClassifier"):
            return None
        if not _node_types(schema) <= _PRIOR_NODE_TYPES:
            return None
        attrs = schema["content"]["content"]
        arrays = {}
        for name in ("intercept_", "coef_", "covariance_"):
            node = attrs[name]
            if node.get("__loader__") != "NdArrayNode" or node.get("type") != "numpy":
                return None
            arrays[name] = np.load(io.BytesIO(archive.read(node["file"])), allow_pickle=False)
    except (zipfile.BadZipFile, KeyError, TypeError, AttributeError, ValueError, EOFError, OSError):
        return None
    intercept, coef, cov = arrays["intercept_"], arrays["coef_"], arrays["covariance_"]
    n = coef.shape[-1] if coef.ndim == 2 else -1
    if (intercept.shape != (1,) or coef.shape != (1, n) or cov.shape != (n + 1, n + 1)
            or not all(a.dtype == np.float64 and np.all(np.isfinite(a)) for a in (intercept, coef, cov))):
        return None
    return Posterior(float(intercept[0]), coef[0], cov)


def read_model_bytes(path: Path, sha256: object) -> bytes:
    """The model file's bytes, only when they hash to ``sha256`` (the card's) and fit :data:`MAX_MODEL_BYTES`.

    The hash is taken over the very bytes returned, as they are read: a file swapped after
    the check cannot slip through, and a huge file is refused before it fills memory.
    """
    digest = hashlib.sha256()
    buf = bytearray()
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_MODEL_BYTES:
                raise ModelFileError(f"{path}: model file larger than {MAX_MODEL_BYTES >> 20} MiB; refused")
            while chunk := f.read(READ_CHUNK):
                if len(buf) + len(chunk) > MAX_MODEL_BYTES:   # grew while being read
                    raise ModelFileError(f"{path}: model file larger than {MAX_MODEL_BYTES >> 20} MiB; refused")
                digest.update(chunk)
                buf += chunk
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    if digest.hexdigest() != sha256:
        raise ModelFileError(f"{path}: the model file does not match its card (changed after training?); "
                             "train again")
    return bytes(buf)


def check_archive(data: bytes) -> None:
    """Refuse an archive whose members would unpack beyond the caps (message without the path).

    zipfile never unpacks a member past the size its directory declares, so checking the
    declared sizes bounds what skops can make of the archive.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ModelFileError(f"not a readable model file (BadZipFile: {exc})") from exc
    if len(members) > MAX_MEMBERS:
        raise ModelFileError(f"refused, the archive has {len(members)} members (at most {MAX_MEMBERS})")
    for m in members:
        if m.filename == "schema.json" and m.file_size > MAX_SCHEMA_BYTES:
            raise ModelFileError(f"refused, its schema.json unpacks to {m.file_size} bytes "
                                 f"(at most {MAX_SCHEMA_BYTES >> 20} MiB)")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ModelFileError(f"refused, it unpacks to {unpacked} bytes (at most {MAX_UNPACKED_BYTES >> 20} MiB)")


def _jsonable(x):
    import numpy as np

    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def label_card(ds: Dataset) -> dict:
    """The label definition: the onset spec, which label each athlete's rows use, and what each means."""
    from .dataset import LABEL_SOURCES, label_sources

    sources = label_sources(ds.frame)
    return {**asdict(ds.spec), "sources": sources,
            "definitions": {k: LABEL_SOURCES[k] for k in sorted(set(sources.values()))}}


def model_card(ds: Dataset, estimator: GaitRiskClassifier, zone: ZoneInfo, validation: list | None = None) -> dict:
    """What the model was trained on and how well it did, as plain JSON."""
    from .dataset import FEATURES
    from .evaluate import metrics

    rows = ds.rows
    days = ds.days
    onsets = ds.onsets()
    X = ds.X.to_numpy(float)
    apparent = metrics(ds.y, estimator.predict_proba(X)[:, 1])
    return _jsonable({
        "card_version": CARD_VERSION,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "libraries": library_versions(),
        "zone": str(zone),
        "label": label_card(ds),
        "features": list(FEATURES),
        "data": {"first_day": days.min().date().isoformat() if len(days) else None,
                 "last_day": days.max().date().isoformat() if len(days) else None,
                 "athletes": sorted(set(rows.index.get_level_values("athlete"))),
                 "rows": len(rows), "positive_rows": int(ds.y.sum()),
                 "onsets": {str(k): int(v) for k, v in onsets.items()}, "onsets_total": int(onsets.sum())},
        "model": {"selected": estimator.selected_, "params": estimator.get_params(),
                  "calibration": estimator.calibration_,
                  # athlete-grouped OOF log loss after a 2-parameter recalibration (the model choice)
                  "validation_log_loss": estimator.validation_loss_},
        "min_onsets_for_model": MIN_ONSETS,
        "metrics": {
            # In-sample: optimistic by construction, shown only as a sanity check.
            "apparent": asdict(apparent),
            # Athlete-grouped out-of-fold (model vs rules vs intercept); null unless asked for.
            "validation": [r.as_json() for r in validation] if validation else None,
        },
    })


def train(store: Store, zone: ZoneInfo, athletes: Sequence[str] | None = None, estimator: GaitRiskClassifier | None = None,
          spec: LabelSpec | None = None, folds: int = 0) -> tuple[GaitRiskClassifier, dict, Dataset]:
    """Build the dataset, fit the pooled model (groups = athletes) and write its card.

    ``folds`` >= 2 adds athlete-grouped out-of-fold metrics (model, rules, intercept) to the
    card; each fold refits the model, so it costs ``folds`` extra fits.
    Raises ``ValueError`` with a one-line reason when there is nothing to learn from.
    """
    import numpy as np

    from .dataset import build_dataset
    from .estimator import GaitRiskClassifier

    ds = build_dataset(store, athletes, zone, spec)
    y = ds.y
    if len(y) == 0:
        raise ValueError("no labelled athlete-days: import runs and a pain log first")
    if y.min() == y.max():
        raise ValueError(f"all {len(y)} labelled athlete-days have the same outcome "
                         f"({'an onset ahead' if y[0] else 'no onset ahead'}); a risk model needs both")
    est = (estimator or GaitRiskClassifier()).fit(ds.X.to_numpy(float), y, groups=ds.groups)
    validation = None
    if folds >= 2 and len(np.unique(ds.groups)) >= 2:
        from .evaluate import SplitReport, grouped_predictions, metrics

        oof = grouped_predictions(ds, est, folds)
        validation = [SplitReport("athlete_grouped", *(metrics(y, oof[k]) for k in ("model", "rules", "intercept")))]
    return est, model_card(ds, est, zone, validation), ds
