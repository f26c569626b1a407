"""Worker threads that share a batch's rows: NumPy and OpenBLAS release the GIL, so parts run at once.

Each worker's OpenBLAS calls use one thread (the parts are the parallelism).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np


def warn_above_cores(count: int) -> None:
    """A ChemgenWarning when more threads are asked for than the machine has cores."""
    cores = os.cpu_count() or 1
    if count > cores:
        import warnings

        from chemgen.errors import ChemgenWarning

        warnings.warn(f"{count} threads asked for, more than the {cores} cores of this machine: the extra ones "
                      f"only wait their turn (give {cores} or fewer)", ChemgenWarning, stacklevel=3)


class Threads:
    """``count`` worker threads (none for 1); a context manager."""

    def __init__(self, count: int = 1):
        self.count, self.executor = count, None
        warn_above_cores(count)
        if count > 1:
            self.executor = ThreadPoolExecutor(count, initializer=one_blas_thread)

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


def sum_parts(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The parts' gradients summed in their order (deterministic for a given part count), into the first."""
    total = parts[0]
    for other in parts[1:]:
        for key, value in other.items():
            total[key] += value
    return total


def one_blas_thread() -> None:
    """In a worker thread: OpenBLAS calls made from this thread use one thread (the parts are the parallelism).
    Needs OpenBLAS 0.3.27+ (NumPy's wheels); elsewhere a no-op."""
    import ctypes
    import glob

    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    for path in glob.glob(libs):
        try:
            ctypes.CDLL(path).openblas_set_num_threads_local(ctypes.c_int(1))
            return
        except (OSError, AttributeError):
            continue
