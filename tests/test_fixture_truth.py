"""Import the generated fixtures and recover their known truth (the files' own writers made them)."""

from __future__ import annotations

import json

import pytest

from gaitrisk.ingest.decoders import REFERENCE
from gaitrisk.ingest.frame import totals
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store

from .helpers.paths import FIXTURES

TRUTH = json.loads((FIXTURES / "truth" / "truth.json").read_text())
SEASON = json.loads((FIXTURES / "truth" / "season.json").read_text())


def _decode(rel: str):
    path = FIXTURES / rel
    return REFERENCE.decode(path.suffix.lstrip("."), path.read_bytes(), str(path))


@pytest.mark.parametrize("name", sorted(n for n, t in TRUTH.items() if t["sport"] == "running"))
def test_truth_runs_recovered(name):
    truth = TRUTH[name]
    res = _decode(f"truth/{name}")
    assert res.error is None and len(res.activities) == 1
    act = res.activities[0]
    t = totals(act.samples)
    assert len(act.samples) == truth["n_samples"]
    assert t["duration_s"] == pytest.approx(truth["elapsed_s"], abs=1e-6)
    # A pause of D s leaves a hole of D + one sample interval between two samples.
    n_pauses = len(truth["pauses"])
    assert t["moving_time_s"] == pytest.approx(truth["moving_time_s"] - n_pauses * truth["sample_interval_s"], abs=1e-6)
    assert act.samples["timer_segment"].max() == n_pauses
    if name != "spike.fit":  # positions-derived distance includes the displaced fix (device distance does not)
        assert t["distance_m"] == pytest.approx(truth["distance_m"], rel=0.01)
    if truth["recorded"]["cadence"]:
        cad = act.samples["cadence_spm"]
        # FIT keeps 1/128 stride resolution; GPX/TCX store whole strides per minute.
        tol = 0.05 if name.endswith(".fit") else 1.0
        assert cad.mean() == pytest.approx(truth["cadence_spm"], abs=tol)
    else:
        assert "cadence_spm" not in act.samples.columns
    if truth["recorded"]["dynamics"] and name.endswith(".fit"):
        assert t["avg_stance_time_ms"] == pytest.approx(truth["gct_ms"], abs=0.5)
        assert act.samples["stance_time_balance_pct"].mean() == pytest.approx(truth["gct_balance_pct"], abs=0.05)
        assert act.samples["step_length_mm"].mean() / 1000 == pytest.approx(truth["step_length_m"], rel=0.002)


def test_spike_fit_device_distance_ignores_the_spike():
    act = _decode("truth/spike.fit").activities[0]
    assert totals(act.samples)["distance_m"] == pytest.approx(TRUTH["spike.fit"]["distance_m"], rel=0.01)


def test_cycling_fixture_is_skipped():
    res = _decode("truth/cycling.fit")
    assert not res.activities and "cycling" in res.skipped_reason


def test_demo_season_imports_once_with_the_cross_format_duplicate_merged(tmp_path):
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(FIXTURES / "runs")], st, "demo")
        recs = st.activities()
        assert (rep.imported, rep.duplicates, len(rep.failed)) == (len(SEASON) - 1, 1, 0)
        tempo = [r for r in recs if r.start_time.date().isoformat() == "2024-04-12"]
        assert len(tempo) == 1 and tempo[0].fmt == "fit" and len(tempo[0].sources) == 2
        for r in recs:
            key = next(k for k in SEASON if r.sources[0].endswith(k.split("/")[-1]))
            assert r.distance_m == pytest.approx(SEASON[key]["distance_m"], rel=0.01)
        again = import_paths([str(FIXTURES / "runs")], st, "demo")
        assert (again.imported, again.duplicates) == (0, len(SEASON))
