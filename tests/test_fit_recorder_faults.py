"""FIT files that devices get wrong: clock jumps, records inside a pause, sessions shorter than
their records, an unclosed recording, invalid-altitude markers and developer channels.

Each fixture is written record by record (:func:`gaitrisk.synth.writers.write_fit_stream`) so the
fault is exactly the one described; both decoders must read each one alike.
"""

from __future__ import annotations

import numpy as np
import pytest

from gaitrisk import schema as S
from gaitrisk.features.clean import clean
from gaitrisk.ingest.fit.fast import decode_fit_fast
from gaitrisk.ingest.fit.reference import decode_fit
from gaitrisk.ingest.frame import totals
from gaitrisk.synth.writers import FitStream, write_fit_stream

from .helpers.compare import assert_same_result

pytestmark = pytest.mark.slow

T0 = 1_600_000_000.0  # 2020-09-13, any plausible day
SPEED = 3.0
DAY = 86_400.0


def stream(times, *, distance=None, **kw) -> FitStream:
    times = tuple(float(t) for t in times)
    n = len(times)
    dist = tuple(distance) if distance is not None else tuple(SPEED * i for i in range(n))
    fields = {"distance": dist, "enhanced_speed": (SPEED,) * n, "heart_rate": (150.0,) * n,
              "cadence": (85.0,) * n, "enhanced_altitude": (100.0,) * n}
    fields.update(kw.pop("fields", {}))
    return FitStream(times_s=times, fields=fields, **kw)


def decode(tmp_path, s: FitStream, **kw):
    data = write_fit_stream(s, tmp_path / "f.fit", **kw).read_bytes()
    ref = decode_fit(data, "f.fit")
    assert_same_result(ref, decode_fit_fast(data, "f.fit", fallback=False))
    return ref


def only(res):
    assert res.error is None and res.skipped_reason is None, (res.error, res.skipped_reason)
    assert len(res.activities) == 1
    return res.activities[0]


# -- clock jumps and sessions shorter than their records -------------------------------------

def test_clock_jump_forward_with_continuous_distance_is_repaired(tmp_path):
    # 300 records, 1 s apart; after the 102nd the clock jumps 20 days ahead.
    times = [T0 + i + (20 * DAY if i >= 102 else 0) for i in range(300)]
    res = decode(tmp_path, stream(times, session_elapsed_s=299.0, session_distance_m=SPEED * 299))
    act = only(res)
    t = totals(act.samples)
    assert len(act.samples) == 300
    assert t["distance_m"] == pytest.approx(SPEED * 299)
    assert t["duration_s"] == pytest.approx(299.0)
    assert any("clock jumps forward 20 days" in p and "record 102" in p for p in res.problems), res.problems


def test_clock_jump_back_with_continuous_distance_is_repaired(tmp_path):
    # Inverted times: after record 100 the clock goes back an hour, then runs on.
    times = [T0 + i - (3600 if i >= 100 else 0) for i in range(400)]
    res = decode(tmp_path, stream(times, session_elapsed_s=399.0, session_distance_m=SPEED * 399))
    act = only(res)
    t = totals(act.samples)
    assert len(act.samples) == 400
    assert t["distance_m"] == pytest.approx(SPEED * 399)
    assert t["duration_s"] == pytest.approx(399.0)
    assert act.samples[S.DISTANCE].is_monotonic_increasing
    assert any("clock jumps back 1:00:00" in p for p in res.problems), res.problems


def test_clock_jump_without_continuity_is_reported_and_the_unplaced_records_listed(tmp_path):
    # The distance leaps with the clock: nothing shows where the later records belong.
    times = [T0 + i + (20 * DAY if i >= 102 else 0) for i in range(300)]
    dist = [SPEED * i + (5000.0 if i >= 102 else 0.0) for i in range(300)]
    res = decode(tmp_path, stream(times, distance=dist, session_elapsed_s=101.0))
    act = only(res)
    assert len(act.samples) == 102
    assert res.partial
    assert any("does not carry on" in p for p in res.problems), res.problems
    assert any(p.startswith("198 of 300 records lie outside") for p in res.problems), res.problems


def test_records_past_the_single_sessions_end_are_kept(tmp_path):
    # A Suunto ends its session at its last lap: the 927 s recorded after it are still the run.
    times = [T0 + i for i in range(2000)]
    res = decode(tmp_path, stream(times, session_elapsed_s=2000.0 - 927, session_distance_m=SPEED * 1073))
    act = only(res)
    assert len(act.samples) == 2000
    assert totals(act.samples)["distance_m"] == pytest.approx(SPEED * 1999)
    assert not any("clock" in p for p in res.problems)


# -- pauses ------------------------------------------------------------------------------------

def test_record_stamped_inside_a_pause_opens_the_new_segment(tmp_path):
    # 100 s running, a 120 s pause, 100 s running; the first record after the pause is
    # stamped 1 s before the timer-start event (as a fenix 2 does).
    first = [T0 + i for i in range(100)]
    resume = T0 + 99 + 120
    second = [resume - 1] + [resume + i for i in range(1, 100)]
    times = first + second
    dist = [SPEED * i for i in range(100)] + [SPEED * (99 + i) for i in range(100)]
    hr = [150.0] * 100 + [90.0] + [150.0] * 99
    s = stream(times, distance=dist, fields={"heart_rate": tuple(hr)},
               timer_events=((T0, "start"), (T0 + 99, "stop_all"), (resume, "start"), (times[-1], "stop_all")),
               session_elapsed_s=times[-1] - T0, session_timer_s=99.0 + 100.0, session_distance_m=dist[-1])
    act = only(decode(tmp_path, s))
    seg = act.samples[S.TIMER_SEGMENT].to_numpy()
    assert list(seg[:100]) == [0] * 100 and list(seg[100:]) == [1] * 100
    # 99 s before the pause, 100 s from the early-stamped record on: the pause is not moving.
    assert totals(act.samples)["moving_time_s"] == pytest.approx(99.0 + 100.0)
    # The hole carries no weight: the low heart rate logged as the timer restarts is one
    # recording interval's worth, not the 119 s of the pause.
    run = clean(act.samples)
    assert run.dt_s[100] <= 1.0


def test_record_deep_inside_a_pause_counts_no_moving_time(tmp_path):
    first = [T0 + i for i in range(50)]
    inside = [T0 + 49 + 20, T0 + 49 + 40]  # logged while the timer stood for 60 s
    second = [T0 + 49 + 60 + i for i in range(50)]
    times = first + inside + second
    s = stream(times, timer_events=((T0 + 49, "stop_all"), (T0 + 109, "start")), session_elapsed_s=times[-1] - T0)
    act = only(decode(tmp_path, s))
    seg = act.samples[S.TIMER_SEGMENT].to_numpy()
    assert len(set(seg[49:53])) == 4
    assert list(seg) == sorted(seg)
    assert totals(act.samples)["moving_time_s"] == pytest.approx(49.0 + 49.0)


# -- unclosed recording, invalid altitude, developer channels -----------------------------------

def test_header_without_data_size_reads_the_data_that_is_there(tmp_path):
    times = [T0 + i for i in range(2319)]
    res = decode(tmp_path, stream(times), unfinished=True)
    act = only(res)
    assert len(act.samples) == 2319
    assert res.partial
    assert any("no data size" in p for p in res.problems), res.problems


def test_altitude_raw_zero_is_missing_not_minus_500_m(tmp_path):
    alt = [100.0 + 0.1 * i for i in range(60)]
    alt[10:20] = [-500.0] * 10  # enhanced_altitude raw 0: scale 5, offset 500
    act = only(decode(tmp_path, stream([T0 + i for i in range(60)], fields={"enhanced_altitude": tuple(alt)},
                                       session_elapsed_s=59.0)))
    a = act.samples[S.ALTITUDE].to_numpy()
    assert np.isnan(a[10:20]).all()
    assert np.nanmin(a) == pytest.approx(100.0)


@pytest.mark.parametrize("key,column", [(("Heart Rate", "bpm"), S.HEART_RATE), (("RP_Power", "Watts"), S.POWER)])
def test_developer_channel_fills_a_missing_native_one(tmp_path, key, column):
    n = 60
    values = tuple(float(140 + i % 7) for i in range(n))
    s = stream([T0 + i for i in range(n)], fields={"heart_rate": (np.nan,) * n}, dev_fields={key: values},
               session_elapsed_s=n - 1.0)
    act = only(decode(tmp_path, s))
    assert act.samples[column].tolist() == list(values)
