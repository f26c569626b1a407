"""Worker threads that share a batch's rows: NumPy and OpenBLAS release the GIL, so parts run at once.

Each worker's OpenBLAS calls use one thread (the parts are the parallelism).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable


class Threads:
    """``count`` worker threads (none for 1); a context manager."""

    def __init__(self, count: int = 1):
        self.count, self.executor = count, None
        if count > 1:
            from chemgen.model.train import _one_blas_thread  # train imports sampling: import when needed

            self.executor = ThreadPoolExecutor(count, initializer=_one_blas_thread)

    def run(self, task: Callable[[int], None], count: int) -> None:
        """task(0), ..., task(count - 1): at once in the workers, or in turn without them."""
        if self.executor is None:
            for i in range(count):
                task(i)
        else:
            list(self.executor.map(task, range(count)))  # list(): waits, and re-raises a task's error

    def __enter__(self) -> "Threads":
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.shutdown()
