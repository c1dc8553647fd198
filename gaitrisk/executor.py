"""The execution seam: where per-file work runs.

The pipeline only calls ``executor.map(fn, items)`` and consumes results in
order; a serial map, a local process pool, or (later) a distributed cluster
plug in here without the pipeline changing.  Work functions are pure and
module-level so they can be shipped to other processes.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MapExecutor(Protocol):
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


class SerialExecutor:
    """In-process, lazy: memory stays bounded by one file at a time."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return map(fn, items)

    def close(self) -> None:
        pass


class PoolExecutor:
    """A local process pool that keeps at most ``2 x workers`` items in flight (bounded memory)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor = ProcessPoolExecutor(max_workers=workers)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        from collections import deque

        pending: deque = deque()
        for item in items:
            pending.append(self._pool.submit(fn, item))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def make_executor(workers: int | None) -> SerialExecutor | PoolExecutor:
    """``None`` or 1 -> serial; 0 -> all cores; N -> N processes."""
    if workers is None or workers == 1:
        return SerialExecutor()
    n = os.cpu_count() or 1 if workers == 0 else workers
    return SerialExecutor() if n <= 1 else PoolExecutor(n)
