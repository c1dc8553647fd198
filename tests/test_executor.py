"""The local executors and make_executor's choices; Dask itself is in test_dask_scale.py."""

from __future__ import annotations

import sys
import time

import pytest

from gaitrisk.executor import (
    ExecutorError,
    PoolExecutor,
    SerialExecutor,
    make_executor,
    parse_local,
)


def _square(x: int) -> int:
    return x * x


def test_make_executor_picks_serial_or_pool():
    assert isinstance(make_executor(None), SerialExecutor)
    assert isinstance(make_executor(1), SerialExecutor)
    with make_executor(2) as pool:
        assert isinstance(pool, PoolExecutor) and pool.workers == 2
        assert list(pool.map(_square, range(20))) == [i * i for i in range(20)]


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
        pass
    with pytest.raises(RuntimeError):
        pool._pool.submit(_square, 1)


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
