"""The model file: skops round trip, the card, user-only files, refusal of anything untrusted."""

from __future__ import annotations

import hashlib
import json
import pickle
import stat

import numpy as np
import pytest

from gaitrisk.model.estimator import GaitRiskClassifier
from gaitrisk.model.persist import (TRUSTED_TYPES, ModelFileError, card_path, default_model_path, read_model,
                                    read_card, save_model)


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[::9, 2] = np.nan
    y = (X[:, 0] + rng.normal(size=n) > 1.0).astype(int)
    return X, y, np.repeat(np.arange(10), n // 10)


class Evil:
    """Stands for any type the model file must not be allowed to construct."""

    def __init__(self) -> None:
        self.payload = "x"


@pytest.mark.slow
@pytest.mark.parametrize("kind, calibration", [("logistic", "sigmoid"), ("boosting", "sigmoid"),
                                               ("boosting", "isotonic"), ("logistic", None)])
def test_round_trip_gives_the_same_predictions_and_card(tmp_path, kind, calibration):
    import skops.io as sio

    X, y, g = _data()
    m = GaitRiskClassifier(model=kind, calibration=calibration).fit(X, y, groups=g)
    # Every type the file needs is either trusted by skops or in our explicit list.
    assert set(sio.get_untrusted_types(data=sio.dumps(m))) <= set(TRUSTED_TYPES)
    path = save_model(m, {"card_version": 1, "data": {"athletes": ["a", "b"]}}, tmp_path / "g.db.model.skops")
    for p in (path, card_path(path)):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    back, card = read_model(path)
    assert isinstance(back, GaitRiskClassifier) and back.selected_ == m.selected_
    np.testing.assert_allclose(back.predict_proba(X), m.predict_proba(X))
    np.testing.assert_allclose(back.contributions(X[:5], {"a": [0], "b": [1, 2]}),
                               m.contributions(X[:5], {"a": [0], "b": [1, 2]}))
    assert card["data"]["athletes"] == ["a", "b"] and card == read_card(path)
    assert card["model_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not list(tmp_path.glob(".*"))   # no temporary files left behind


def test_default_path_sits_beside_the_database(tmp_path):
    assert default_model_path(tmp_path / "x.db") == tmp_path / "x.db.model.skops"


@pytest.mark.slow
def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelFileError, match="gaitrisk model train"):
        read_model(tmp_path / "none.skops")


def test_a_changed_model_file_is_refused(tmp_path):
    X, y, g = _data()
    path = save_model(GaitRiskClassifier(model="logistic").fit(X, y, groups=g), {"card_version": 1},
                      tmp_path / "m.skops")
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelFileError, match="does not match its card"):
        read_model(path)


def _forge(path, data: bytes) -> None:
    """Write ``data`` as the model file with a card that matches it (an attacker controls both)."""
    path.write_bytes(data)
    card_path(path).write_text(json.dumps({"card_version": 1, "model_sha256": hashlib.sha256(data).hexdigest()}))


def test_untrusted_types_and_pickles_are_refused(tmp_path):
    import skops.io as sio

    path = tmp_path / "m.skops"
    _forge(path, sio.dumps({"model": Evil()}))
    with pytest.raises(ModelFileError, match="untrusted types: .*Evil"):
        read_model(path)
    _forge(path, pickle.dumps(Evil()))
    with pytest.raises(ModelFileError, match="not a readable model file"):
        read_model(path)
    _forge(path, sio.dumps(np.arange(3)))   # trusted, but not a model
    with pytest.raises(ModelFileError, match="not a gaitrisk risk model"):
        read_model(path)


def _saved(tmp_path):
    X, y, g = _data()
    return save_model(GaitRiskClassifier(model="logistic").fit(X, y, groups=g), {"card_version": 1},
                      tmp_path / "m.skops")


def _peak_bytes(fn) -> int:
    """Peak Python memory (bytes) allocated while ``fn`` runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _refused(path, match: str) -> None:
    with pytest.raises(ModelFileError, match=match) as exc:
        read_model(path)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def test_an_oversized_model_file_is_refused_without_reading_it(tmp_path):
    from gaitrisk.model import persist

    path = tmp_path / "m.skops"
    with open(path, "wb") as f:   # sparse: no disk space, but read() would return every byte
        f.truncate(persist.MAX_MODEL_BYTES + 1)
    card_path(path).write_text(json.dumps({"card_version": 1, "model_sha256": "0" * 64}))
    peak = _peak_bytes(lambda: _refused(path, "larger than 64 MiB"))
    assert peak < persist.MAX_MODEL_BYTES // 8


def test_the_hash_is_checked_before_anything_is_parsed(tmp_path, monkeypatch):
    import zipfile

    import skops.io as sio

    path = _saved(tmp_path)
    path.write_bytes(path.read_bytes() + b"\0")

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed a model file that does not match its card")

    monkeypatch.setattr(sio, "get_untrusted_types", no_parsing)
    monkeypatch.setattr(sio, "loads", no_parsing)
    monkeypatch.setattr(zipfile, "ZipFile", no_parsing)
    _refused(path, "does not match its card")


def _rewrite(path, extra: dict[str, bytes] | None = None, schema_pad: int = 0) -> None:
    """Re-pack the model archive (schema.json padded with whitespace, extra members) with a matching card."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "schema.json":
                data += b" " * schema_pad   # still valid JSON, the same model
            dst.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    _forge(path, out.getvalue())


def test_a_huge_schema_in_a_small_model_file_is_refused(tmp_path):
    from gaitrisk.model import persist

    path = _saved(tmp_path)
    _rewrite(path, schema_pad=persist.MAX_SCHEMA_BYTES)
    assert path.stat().st_size < 1 << 20            # deflate packs the padding to a few kB
    peak = _peak_bytes(lambda: _refused(path, "schema.json unpacks to"))
    assert peak < persist.MAX_SCHEMA_BYTES // 2   # the schema is never unpacked


def test_an_archive_that_unpacks_too_far_is_refused(tmp_path, monkeypatch):
    from gaitrisk.model import persist

    path = _saved(tmp_path)
    _rewrite(path, extra={f"pad{i}.bin": bytes(1 << 16) for i in range(8)})
    monkeypatch.setattr(persist, "MAX_UNPACKED_BYTES", 1 << 19)
    _refused(path, r"unpacks to \d+ bytes")
    monkeypatch.setattr(persist, "MAX_UNPACKED_BYTES", 1 << 30)
    monkeypatch.setattr(persist, "MAX_MEMBERS", 10)
    _refused(path, "members")


def test_an_oversized_card_is_refused(tmp_path):
    from gaitrisk.model import persist

    path = _saved(tmp_path)
    card = card_path(path)
    card.write_bytes(card.read_bytes() + b" " * persist.MAX_CARD_BYTES)   # still valid JSON
    with pytest.raises(ModelFileError, match="model card larger than"):
        read_model(path)
    with pytest.raises(ModelFileError, match="model card larger than"):
        read_card(path)
