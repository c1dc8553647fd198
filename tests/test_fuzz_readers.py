"""The bounded fuzz pass: mutated real files through every hostile-input reader.

Property: whatever the bytes, FIT (both decoders), GPX, TCX, the archive walker and the
pain CSV import end in a clean one-line error, a skip or a (partial) import -- never an
exception, a hang (each input has a 10 s limit) or more rows than input bytes.  The fast
FIT decoder runs with its fitparse fallback off, so that a fallback cannot hide a crash in it.
Hypothesis runs derandomized with a fixed number of examples, so every run tries the
same cases; ``scripts/fuzz.py`` (atheris, or its fault-class engine) is the open-ended
version and shares the mutators and the contract checked here.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers.fuzzing import CLEAN, fuzz

# Small seeds keep fitparse fast; the campaign in scripts/fuzz.py uses bigger ones.
# Without ../shared the seeds come from fixtures/, whose smallest FIT files are 8-10 kB.
SEEDS = {"fit": fuzz.seeds("fit", 8_000) or fuzz.seeds("fit", 10_000)[:2], "gpx": fuzz.seeds("gpx", 40_000)[:6], "tcx": fuzz.seeds("tcx")[:2],
         "zip": fuzz.seeds("zip"), "pain": fuzz.seeds("pain")}
BOUNDED = settings(derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _cases(target: str):
    return st.tuples(st.integers(0, len(SEEDS[target]) - 1), st.sampled_from(fuzz.CLASSES[target]),
                     st.integers(0, 2**32 - 1), st.integers(1, 3))


def _run(target: str, case) -> str:
    seed_index, fault, rng_seed, rounds = case
    name, data = SEEDS[target][seed_index]
    rng = random.Random(rng_seed)
    for _ in range(rounds):
        data = fuzz.mutate(data, rng, fault, target)
    outcome = fuzz.check(target, data, timeout_s=10.0)  # raises on a crash, a broken contract or a hang
    assert outcome in CLEAN, (name, fault, outcome)
    return outcome


@pytest.mark.slow
def test_seeds_are_there():
    for target, pool in SEEDS.items():
        assert pool, f"no {target} seeds"
        for _, data in pool:  # unmutated seeds are no errors (else the mutations test nothing)
            assert fuzz.check(target, data) in CLEAN


@settings(BOUNDED, max_examples=45)
@given(_cases("fit"))
def test_fit_mutations_keep_the_contract_in_both_decoders(case):
    _run("fit", case)


@settings(BOUNDED, max_examples=40)
@given(_cases("gpx"))
def test_gpx_mutations_keep_the_contract(case):
    _run("gpx", case)


@pytest.mark.slow
@settings(BOUNDED, max_examples=25)
@given(_cases("tcx"))
def test_tcx_mutations_keep_the_contract(case):
    _run("tcx", case)


@settings(BOUNDED, max_examples=60)
@given(_cases("zip"))
def test_archive_mutations_keep_the_contract(case):
    _run("zip", case)


@settings(BOUNDED, max_examples=80)
@given(_cases("pain"))
def test_pain_csv_mutations_keep_the_contract(case):
    _run("pain", case)


_cell = st.one_of(st.text(max_size=30), st.sampled_from(
    ["2024-05-01", "07:30", "25:99", "4", "-1", "11", "1e9", "lateral hip", "R", "both", "after run",
     "worsens", '"', '""', "\r", "\n", ",", ";", "\t", "\x00", "2024-02-30", "02:30"]))


@pytest.mark.slow
@settings(BOUNDED, max_examples=60)
@given(st.lists(st.lists(_cell, min_size=0, max_size=12), min_size=0, max_size=8),
       st.sampled_from([",", ";", "\t"]), st.booleans())
def test_pain_csv_from_arbitrary_cells(rows, sep, bom):
    """Any grid of cells under a valid header: each row is an entry or a one-line rejection."""
    header = sep.join(["date", "time", "score", "region", "side", "when", "behaviour", "note"])
    text = ("\ufeff" if bom else "") + "\n".join([header] + [sep.join(r) for r in rows]) + "\n"
    assert fuzz.check("pain", text.encode("utf-8", "surrogatepass")) in CLEAN


@settings(BOUNDED, max_examples=60)
@given(st.binary(max_size=2_000))
def test_random_bytes_are_clean_errors_everywhere(data):
    for target in ("fit", "gpx", "tcx", "pain"):
        assert fuzz.check(target, data) in CLEAN


# -- the harness itself can fail ------------------------------------------------------


def test_harness_reports_crashes_hangs_and_broken_contracts(monkeypatch):
    from gaitrisk.records import DecodeResult

    monkeypatch.setitem(fuzz.CHECKS, "gpx", lambda data: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        fuzz.check("gpx", b"x")
    monkeypatch.setitem(fuzz.CHECKS, "gpx", lambda data: time.sleep(5))
    t0 = time.monotonic()
    with pytest.raises(fuzz.Hang):
        fuzz.check("gpx", b"x", timeout_s=0.2)
    assert time.monotonic() - t0 < 2
    with pytest.raises(fuzz.ContractViolation):
        fuzz._check_result(DecodeResult(error="two\nlines"), b"x")
    with pytest.raises(fuzz.ContractViolation):
        fuzz._check_result(DecodeResult(), b"x")  # neither an error, a skip nor an activity


def test_structure_aware_fit_mutators_hit_definitions():
    name, data = SEEDS["fit"][-1]
    defs, header = fuzz._fit_definitions(data)
    assert defs and header in (12, 14), name
    rng = random.Random(1)
    huge = fuzz.huge_field_counts(data, rng)
    assert huge != data and len(huge) in (len(data), len(data) + 1)
    assert fuzz.bogus_definitions(data, rng) != data
