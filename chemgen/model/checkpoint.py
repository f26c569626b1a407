"""Checkpoints and interrupts, for every loop that learns (training, fine-tuning, optimize).

A checkpoint is a model file (loadable as a model: its parameters are the
current ones) that also holds the optimiser's moments (``optim/*`` arrays), the
random generator's state and the loop's own state, under one meta key per kind
of loop. Ctrl-C during a loop sets a flag the loop reads between steps, so a
step is never cut in half and the checkpoint is written before the loop stops.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import numpy as np

from chemgen.errors import ModelFileError
from chemgen.model import modelfile
from chemgen.model.cells import Params
from chemgen.model.modelfile import Learned

OPTIMIZER_PREFIX = "optim/"


def save(path, learned: Learned, settings: dict[str, Any], training: dict[str, Any], kind: str,
         state: dict[str, Any], optimizer: Any, rng: np.random.Generator, params: Optional[Params] = None,
         arrays: Optional[dict[str, np.ndarray]] = None, meta: Optional[dict[str, Any]] = None) -> None:
    """Write a checkpoint atomically: the model file of ``learned`` plus the loop's ``state`` under ``kind``."""
    extra_arrays = {f"{OPTIMIZER_PREFIX}{k}": v for k, v in optimizer.state().items()} | (arrays or {})
    loop_state = state | {"optimizer_t": optimizer.t, "rng": rng.bit_generator.state}
    modelfile.write_model(path, learned, settings, training, params, extra_arrays=extra_arrays,
                          extra_meta=(meta or {}) | {kind: loop_state})


def load(path, kind: str, not_one: str) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, Any]]:
    """A checkpoint's arrays, meta and the loop state saved under ``kind``; ``not_one`` says what else it is."""
    arrays, meta = modelfile.read_npz(path)
    if kind not in meta:
        raise ModelFileError(f"{path}: {not_one}")
    return arrays, meta, meta[kind]


def restore_optimizer(arrays: dict[str, np.ndarray], state: dict[str, Any], optimizer: Any,
                      rng: np.random.Generator) -> None:
    """Put the saved optimiser moments and random state back into a freshly made optimiser and generator."""
    moments = {k[len(OPTIMIZER_PREFIX):]: v for k, v in arrays.items() if k.startswith(OPTIMIZER_PREFIX)}
    optimizer.load_state(moments, state["optimizer_t"])
    rng.bit_generator.state = state["rng"]


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and a polite kill (a scheduler's time limit)


class Interrupt:
    """Whether Ctrl-C (or SIGTERM) came during a :func:`deferred_interrupt` block."""

    requested = False


@contextmanager
def deferred_interrupt() -> Iterator[Interrupt]:
    """Ctrl-C or SIGTERM sets a flag that the loop reads between steps, so no step is cut in half and the
    loop saves its checkpoint before it stops.

    Only the main thread can take signals; elsewhere they behave as usual.
    """
    interrupt = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield interrupt
        return

    def request(signum, frame) -> None:
        interrupt.requested = True

    previous = {sig: signal.signal(sig, request) for sig in STOP_SIGNALS}
    try:
        yield interrupt
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
