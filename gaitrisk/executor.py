"""The execution seam: where per-file and per-athlete work runs.

Callers only use ``executor.map(fn, items)`` and consume results in input order;
a serial map, a local process pool or a Dask cluster plug in here without the
caller changing.  Work functions are pure and module-level (no store access) so
they can be shipped to other processes or machines; only the caller writes.

Every executor keeps a bounded number of items in flight (memory stays bounded
on a 100,000-file export) and is a context manager that releases its workers.
Dask (``pip install 'gaitrisk[dask]'``) is imported only when a scheduler is
asked for, so the library and ``gaitrisk --help`` never pay for it.

A local Dask cluster is reachable only with its own credentials: the scheduler, workers
and client speak TLS with a certificate made in memory for this cluster alone, so another
user of the machine who finds its loopback port can neither connect nor run code as us.
Its spill and scratch files go to a private (0700) folder removed on close.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Items submitted ahead per worker thread: enough to keep every worker busy while
# the caller consumes (and writes) the head result, few enough to bound memory.
AHEAD_PER_THREAD = 2
CONNECT_TIMEOUT_S = 10.0
# Re-submissions of one item after its task failed (an exception, or its workers
# kept dying: Dask's KilledWorker).  Pure functions make a re-run harmless.
RETRIES = 2
LOCAL = "local"
# LocalCluster on loopback only, without a dashboard, its HTTP endpoint on a free port: health data
# never leaves the machine and no port is opened to the network.  One thread per worker process
# because decoding holds the GIL.
LOCAL_ONLY = {"host": "127.0.0.1", "dashboard_address": None,
              "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"}}
SCRATCH_PREFIX = "gaitrisk-dask-"


class ExecutorError(RuntimeError):
    """An executor could not be set up; the message is one line, fit for the CLI."""


class MapExecutor(Protocol):
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


class _Closing:
    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(_Closing):
    """In-process, lazy: memory stays bounded by one file at a time."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return map(fn, items)


class PoolExecutor(_Closing):
    """A local process pool that keeps at most ``2 x workers`` items in flight (bounded memory)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor = ProcessPoolExecutor(max_workers=workers, initializer=init_worker,
                                                   initargs=(os.getpid(),))

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: deque = deque()
        for item in items:
            pending.append(self._pool.submit(fn, item))
            if len(pending) >= AHEAD_PER_THREAD * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def init_worker(parent_pid: int) -> None:
    """Set up a pool worker: Ctrl-C is the parent's, and the worker ends when its parent does."""
    ignore_sigint()
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="gaitrisk-orphan-watch",
                     daemon=True).start()


def ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent: it stops the run and shuts the pool down.

    A terminal sends SIGINT to the whole foreground process group; a worker that took it
    would print its own ``KeyboardInterrupt`` traceback on top of the parent's message.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# How often a worker looks for its parent.  A killed parent's workers would otherwise wait on
# their task queue for ever, holding their memory and the parent's stdout and stderr: cron,
# or any caller reading the output, would never see the end of a killed run.
ORPHAN_POLL_S = 0.5


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(ORPHAN_POLL_S)
    os._exit(1)


class DaskExecutor(_Closing):
    """``map`` on a ``dask.distributed`` cluster, with the local executors' contract.

    Results come back in input order; at most ``ahead x`` (worker threads) tasks
    are in flight.  A worker that dies takes no result with it: the scheduler
    re-runs its tasks elsewhere (``distributed.scheduler.allowed-failures``
    times); when it gives up (``KilledWorker``) the item is submitted again, up
    to ``retries`` times.  A task that raises is re-run by the scheduler up to
    ``retries`` times before its error reaches the caller.
    """

    def __init__(self, client: Any, cluster: Any = None, *, retries: int = RETRIES,
                 ahead: int = AHEAD_PER_THREAD, timeout: float = CONNECT_TIMEOUT_S,
                 scratch: str | None = None) -> None:
        self.client = client
        self._cluster = cluster  # only a cluster this executor started is closed with it
        self.scratch = scratch  # that cluster's private scratch folder, removed with it
        self.retries = retries
        self.ahead = ahead
        self.timeout = timeout

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def threads(self) -> int:
        """Worker threads the cluster has now (waits up to ``timeout`` for a first worker)."""
        nthreads = self.client.nthreads()
        if not nthreads:
            try:
                self.client.wait_for_workers(1, timeout=self.timeout)
            except TimeoutError as exc:
                raise ExecutorError(f"no Dask worker joined the scheduler at {self.address} within "
                                    f"{self.timeout:g} s") from exc
            nthreads = self.client.nthreads()
        return sum(nthreads.values())

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        from distributed import KilledWorker

        limit = max(1, self.ahead * self.threads())
        pending: deque = deque()  # (item, future, attempts so far)

        def submit(item: T, attempt: int) -> None:
            # pure=False: every item is its own task (no hashing of file bytes for a key);
            # retries=: the scheduler re-runs a task that raised, e.g. a flaky shared-storage read.
            pending.append((item, self.client.submit(fn, item, pure=False, retries=self.retries), attempt))

        def head() -> R:
            while True:
                item, future, attempt = pending.popleft()
                try:
                    return future.result()
                except KilledWorker as exc:
                    if attempt >= self.retries:
                        raise
                    log.warning("task %s: its workers kept dying (%s); submitted again", future.key, exc)
                    pending.appendleft((item, self.client.submit(fn, item, pure=False, retries=self.retries),
                                        attempt + 1))
                finally:
                    del future  # release the result on the cluster as soon as we hold it

        for item in items:
            submit(item, 0)
            if len(pending) >= limit:
                yield head()
        while pending:
            yield head()

    def close(self) -> None:
        try:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)


def make_executor(workers: int | None, scheduler: str | None = None, *, retries: int = RETRIES,
                  connect_timeout: float = CONNECT_TIMEOUT_S) -> SerialExecutor | PoolExecutor | DaskExecutor:
    """The executor for ``--workers`` / ``--scheduler``.

    Without a scheduler: ``None`` or 1 -> serial; 0 -> all cores; N -> N processes.
    With one, ``workers`` is ignored (the cluster has its own): ``"local"`` starts a
    Dask LocalCluster of one single-threaded process per core on this machine,
    ``"local:N"`` one of N processes; anything else is a scheduler address
    (``tcp://HOST:PORT``, ``tls://HOST:PORT``) to connect to within ``connect_timeout`` s.
    """
    if scheduler:
        return _dask_executor(scheduler.strip(), retries=retries, timeout=connect_timeout)
    if workers is None or workers == 1:
        return SerialExecutor()
    n = os.cpu_count() or 1 if workers == 0 else workers
    return SerialExecutor() if n <= 1 else PoolExecutor(n)


def parse_local(scheduler: str) -> int | None:
    """Worker processes of a ``local`` / ``local:N`` scheduler spec; ``None`` for an address."""
    name, _, count = scheduler.partition(":")
    if name.lower() != LOCAL:
        return None
    if not count:
        return os.cpu_count() or 1
    if not count.isdigit() or int(count) < 1:
        raise ExecutorError(f"--scheduler {scheduler!r}: expected local:N with N >= 1 worker processes")
    return int(count)


def _dask_executor(scheduler: str, *, retries: int, timeout: float) -> DaskExecutor:
    n_local = parse_local(scheduler)
    try:
        from distributed import Client
    except ImportError as exc:
        raise ExecutorError(f"--scheduler {scheduler} needs Dask: install gaitrisk[dask] "
                            f"(pip install 'gaitrisk[dask]') ({exc})") from exc
    follow_log_level()
    if n_local is not None:
        return _local_executor(n_local, retries=retries, timeout=timeout)
    try:
        # set_as_default=False: connecting must not reroute every other dask computation in the process.
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                            f"({type(exc).__name__}: {exc})") from exc
    executor = DaskExecutor(client, retries=retries, timeout=timeout)
    try:
        _check_versions(executor)
    except BaseException:
        executor.close()
        raise
    return executor


def follow_log_level() -> None:
    """Dask's loggers speak at gaitrisk's level, never more than INFO.

    ``distributed`` sets its own loggers to INFO when imported: some thirty lines per
    local cluster, every night in the cron mail.  Below -v they stay quiet.
    """
    level = max(logging.getLogger("gaitrisk").getEffectiveLevel(), logging.INFO)
    logging.getLogger("distributed").setLevel(level)


def _local_executor(n_workers: int, *, retries: int, timeout: float) -> DaskExecutor:
    """A LocalCluster of ``n_workers`` processes that only this process can use (see the module docstring)."""
    from distributed import Client, LocalCluster

    try:
        from distributed.security import Security

        security = Security.temporary()
    except ImportError as exc:   # the certificate is made with `cryptography`, part of gaitrisk[dask]
        raise ExecutorError(f"--scheduler local needs `cryptography` for the cluster's TLS: install "
                            f"gaitrisk[dask] (pip install 'gaitrisk[dask]') ({exc})") from exc
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)  # 0700, not the shared /tmp/dask-scratch-space
    cluster = None
    try:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, protocol="tls://",
                               security=security, local_directory=scratch, **LOCAL_ONLY)
        client = Client(cluster, security=security, set_as_default=False)
    except BaseException:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return DaskExecutor(client, cluster, retries=retries, timeout=timeout, scratch=scratch)


def _check_versions(executor: DaskExecutor) -> None:
    """Refuse workers that run other gaitrisk code: results must not depend on which node decoded a file.

    The version number alone misses a half-upgraded node or an edited install, and a worker whose
    module lacks a shipped function fails to unpickle the task (a hang, not an error), so the
    sources are compared too.
    """
    mine = _code_identity()

    def probe() -> tuple[str, str] | None:  # a closure: pickled by value, so it runs where gaitrisk is missing
        try:
            from gaitrisk.executor import _code_identity
        except ImportError:
            return None
        return _code_identity()

    seen = executor.client.run(probe)
    wrong = {addr: got for addr, got in seen.items() if got != mine}
    if wrong:
        addr, got = next(iter(wrong.items()))
        what = "no (or a much older) gaitrisk" if got is None else f"gaitrisk {got[0]} (code {got[1]})"
        raise ExecutorError(f"Dask worker {addr} runs {what}, this client gaitrisk {mine[0]} (code {mine[1]}); "
                            f"install the same gaitrisk[dask] on every node ({len(wrong)} of {len(seen)} workers differ)")


def _code_identity() -> tuple[str, str]:
    """(version, digest of the package's sources) of the gaitrisk running here."""
    import hashlib
    from pathlib import Path

    from .version import VERSION

    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return VERSION, digest.hexdigest()[:12]
