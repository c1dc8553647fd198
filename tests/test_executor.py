"""The local executors and make_executor's choices; Dask itself is in test_dask_scale.py."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import pytest

from gaitrisk.executor import (
    ITEM_WORK_S,
    ExecutorError,
    PoolExecutor,
    SerialExecutor,
    WorkAwareExecutor,
    make_executor,
    parse_local,
    work_of,
)


def _square(x: int) -> int:
    return x * x


def test_make_executor_picks_serial_or_pool():
    assert isinstance(make_executor(None), SerialExecutor)
    assert isinstance(make_executor(1), SerialExecutor)
    with make_executor(2) as pool:
        assert isinstance(pool, PoolExecutor) and pool.workers == 2
        assert list(pool.map(_square, range(20))) == [i * i for i in range(20)]


def test_the_default_workers_weigh_the_work(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with make_executor(0) as ex:
        assert isinstance(ex, WorkAwareExecutor) and ex.workers == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert isinstance(make_executor(0), SerialExecutor)


@dataclass(frozen=True)
class _Item:
    value: int
    work: float


def _pid_of(item: _Item) -> tuple[int, int]:
    import os

    return item.value, os.getpid()


def _idle() -> float:
    return 0.0


def _items(works):
    return [_Item(i, w) for i, w in enumerate(works)]


def test_work_aware_keeps_a_small_batch_in_process_however_many_items():
    import os

    with WorkAwareExecutor(2, min_work=1.0, load=_idle) as ex:
        out = list(ex.map(_pid_of, _items([0.01] * 90)))  # 90 items, 0.9 s of work
        assert [v for v, _ in out] == list(range(90))
        assert {pid for _, pid in out} == {os.getpid()} and not ex.started


def test_work_aware_sends_a_few_large_items_to_the_pool():
    import os

    with WorkAwareExecutor(2, min_work=1.0, load=_idle) as ex:
        out = list(ex.map(_pid_of, _items([0.6] * 4)))  # 4 items, 2.4 s of work
        assert [v for v, _ in out] == [0, 1, 2, 3]
        # the first runs here (the workers start with what it imported), the rest in the pool
        assert out[0][1] == os.getpid() and all(pid != os.getpid() for _, pid in out[1:]) and ex.started
        # once started, the pool takes every later batch, however small
        assert all(pid != os.getpid() for _, pid in ex.map(_pid_of, _items([0.01] * 3)))


def test_work_aware_never_starts_a_pool_for_the_last_items():
    """What is left after the in-process items is less than the threshold: no pool."""
    import os

    with WorkAwareExecutor(2, min_work=1.0, load=_idle) as ex:
        out = list(ex.map(_pid_of, _items([0.9, 0.5])))
        assert {pid for _, pid in out} == {os.getpid()} and not ex.started


def test_work_aware_walks_a_bounded_work_ahead():
    pulled = []

    def items():
        for i in range(40):
            pulled.append(i)
            yield _Item(i, 0.125)

    with WorkAwareExecutor(2, min_work=1.0, load=_idle) as ex:
        for k, (v, _) in enumerate(ex.map(_pid_of, items())):
            assert v == k and len(pulled) - k <= 9  # 1.0 s of work ahead, and one item more
            if k == 5:
                break


def test_work_aware_stays_in_process_while_every_core_is_busy(monkeypatch):
    import os

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    loads = iter([4.0, 2.0, 1.9])  # a load of 2 on 2 cores is busy; then the others finish: the pool starts
    with WorkAwareExecutor(2, min_work=1.0, load=lambda: next(loads, 1.9)) as ex:
        out = list(ex.map(_pid_of, _items([0.6] * 6)))
        assert [pid == os.getpid() for _, pid in out] == [True, True, True, False, False, False]


def test_items_without_a_work_estimate_count_as_one_run_each():
    assert work_of(object()) == ITEM_WORK_S and work_of(_Item(0, 2.5)) == 2.5


def test_pool_bounds_items_in_flight_and_keeps_order():
    pulled = []

    def items():
        for i in range(30):
            pulled.append(i)
            yield i

    with PoolExecutor(2) as pool:
        out = []
        for r in pool.map(_square, items()):
            # The k-th result is yielded with at most 2 x 2 items taken from the input.
            assert len(pulled) - len(out) <= 4
            out.append(r)
    assert out == [i * i for i in range(30)]


def test_context_manager_closes_the_pool():
    with PoolExecutor(2) as pool:
        assert list(pool.map(_square, range(3))) == [0, 1, 4]
    with pytest.raises(RuntimeError):
        list(pool.map(_square, range(3)))


def test_pool_starts_no_process_before_its_first_item():
    with PoolExecutor(2) as pool:
        assert not pool.started and list(pool.map(_square, [])) == []
        assert not pool.started
        assert list(pool.map(_square, [3])) == [9] and pool.started


@pytest.mark.parametrize("spec, n", [("local:3", 3), ("LOCAL:1", 1), ("tcp://10.0.0.5:8786", None),
                                     ("scheduler.clinic.lan:8786", None)])
def test_parse_local(spec, n):
    assert parse_local(spec) == n


def test_parse_local_defaults_to_every_core():
    import os

    assert parse_local("local") == (os.cpu_count() or 1)


@pytest.mark.parametrize("spec", ["local:0", "local:x", "local:-2"])
def test_bad_local_spec_is_one_line(spec):
    with pytest.raises(ExecutorError, match="local:N") as exc:
        make_executor(None, spec)
    assert "\n" not in str(exc.value)


def test_scheduler_without_the_extra_names_it(monkeypatch):
    # A None entry in sys.modules makes `import distributed` raise ImportError, as when not installed.
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ExecutorError, match=r"install gaitrisk\[dask\]") as exc:
        make_executor(4, "tcp://127.0.0.1:8786")
    assert "\n" not in str(exc.value)


def _sigint_handler(_: int) -> bool:
    import signal

    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_pool_workers_leave_ctrl_c_to_the_parent():
    with PoolExecutor(2) as pool:
        assert all(pool.map(_sigint_handler, range(4)))


@pytest.mark.slow
def test_ctrl_c_during_a_pool_run_prints_no_worker_tracebacks(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group: only the parent may react to it."""
    import os
    import signal
    import subprocess
    import textwrap

    ready = tmp_path / "ready"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, time
        from gaitrisk.executor import PoolExecutor

        def work(i):
            open({str(ready)!r} + str(os.getpid()), "w").close()
            return i

        if __name__ == "__main__":
            try:
                with PoolExecutor(2) as pool:
                    for _ in pool.map(work, range(1000)):
                        time.sleep(0.05)   # the parent writes each result: the workers wait for work
            except KeyboardInterrupt:
                print("interrupted", file=sys.stderr)
                sys.exit(130)
    """))
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        # Both workers are busy once each has left its mark.
        while len(list(tmp_path.glob("ready*"))) < 2 and proc.poll() is None:
            os.sched_yield()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert "Traceback" not in err and err.strip() == "interrupted", err


def test_pool_workers_end_when_their_parent_is_killed(tmp_path):
    """SIGKILL to a run leaves no worker behind: none waits on its queue for ever, holding the
    run's stdout and stderr (a caller reading them, cron included, would never see the end)."""
    import os
    import signal
    import subprocess
    import textwrap

    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import os, time
        from gaitrisk.executor import PoolExecutor

        def work(i):
            open({str(tmp_path)!r} + "/worker-" + str(os.getpid()), "w").close()
            return i

        if __name__ == "__main__":
            with PoolExecutor(2) as pool:
                for _ in pool.map(work, range(1000)):
                    time.sleep(0.05)
    """))
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        while len(list(tmp_path.glob("worker-*"))) < 2 and proc.poll() is None:
            os.sched_yield()
        workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
        assert len(workers) == 2
        proc.kill()
        # The pipes reach end-of-file only when every process holding them has ended.
        proc.communicate(timeout=60)
        # Each worker is gone, or a zombie left for whoever adopted it to reap.  Its files close
        # before its exit completes, so the pipes' end can come a moment before that.
        for pid in workers:
            for _ in range(600):
                try:
                    state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
                except FileNotFoundError:
                    state = "gone"
                if state in ("Z", "X", "gone"):
                    break
                time.sleep(0.05)
            assert state in ("Z", "X", "gone"), (pid, state)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
