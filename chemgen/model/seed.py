"""The seed: a per-example vanilla RNN on one-hot column vectors, kept as the reference.

This is the original min-char-rnn / "Dinosaurus Island" code path, one name at
a time: ``x`` is a one-hot column (n_x, 1), ``a`` a column (n_a, 1). chemgen's
batched network (chemgen.model.network with cell="rnn") computes the same numbers;
tests compare the two and bench/train_throughput.py times this loop as the
"seed-style" baseline. Use chemgen.CharRNN for real work.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def initialize_parameters(n_a: int, n_x: int, n_y: int, rng: Optional[np.random.Generator] = None) -> dict:
    """Small random weights, zero biases, column-vector shapes."""
    rng = rng if rng is not None else np.random.default_rng(1)
    return {
        "Wax": rng.standard_normal((n_a, n_x)) * 0.01,  # input to hidden
        "Waa": rng.standard_normal((n_a, n_a)) * 0.01,  # hidden to hidden
        "Wya": rng.standard_normal((n_y, n_a)) * 0.01,  # hidden to output
        "ba": np.zeros((n_a, 1)),
        "by": np.zeros((n_y, 1)),
    }


def rnn_step_forward(parameters: dict, a_prev: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = parameters
    a_next = np.tanh(p["Wax"] @ x + p["Waa"] @ a_prev + p["ba"])  # (n_a, 1)
    p_t = softmax(p["Wya"] @ a_next + p["by"])  # (n_y, 1)
    return a_next, p_t


def rnn_forward(X: Sequence[Optional[int]], Y: Sequence[int], a0: np.ndarray, parameters: dict,
                vocab_size: int) -> tuple[float, tuple]:
    """Loss (summed cross-entropy) and cache; ``None`` in X is the seed's zero input vector."""
    x, a, y_hat = {}, {-1: np.copy(a0)}, {}
    loss = 0.0
    for t in range(len(X)):
        x[t] = np.zeros((vocab_size, 1))  # (n_x, 1)
        if X[t] is not None:
            x[t][X[t]] = 1
        a[t], y_hat[t] = rnn_step_forward(parameters, a[t - 1], x[t])
        loss -= np.log(y_hat[t][Y[t], 0])
    return loss, (y_hat, a, x)


def rnn_step_backward(dy: np.ndarray, gradients: dict, parameters: dict, x: np.ndarray, a: np.ndarray,
                      a_prev: np.ndarray) -> dict:
    gradients["dWya"] += dy @ a.T
    gradients["dby"] += dy
    da = parameters["Wya"].T @ dy + gradients["da_next"]  # (n_a, 1)
    daraw = (1 - a * a) * da  # (n_a, 1)
    gradients["dba"] += daraw
    gradients["dWax"] += daraw @ x.T
    gradients["dWaa"] += daraw @ a_prev.T
    gradients["da_next"] = parameters["Waa"].T @ daraw
    return gradients


def rnn_backward(X: Sequence[Optional[int]], Y: Sequence[int], parameters: dict, cache: tuple) -> tuple[dict, dict]:
    y_hat, a, x = cache
    gradients = {f"d{k}": np.zeros_like(v) for k, v in parameters.items()}
    gradients["da_next"] = np.zeros_like(a[0])
    for t in reversed(range(len(X))):
        dy = np.copy(y_hat[t])
        dy[Y[t]] -= 1
        gradients = rnn_step_backward(dy, gradients, parameters, x[t], a[t], a[t - 1])
    return gradients, a


def clip(gradients: dict, max_value: float) -> dict:
    for key in ("dWax", "dWaa", "dWya", "dba", "dby"):
        np.clip(gradients[key], -max_value, max_value, out=gradients[key])
    return gradients


def update_parameters(parameters: dict, gradients: dict, lr: float) -> dict:
    for key in ("Wax", "Waa", "Wya", "ba", "by"):
        parameters[key] -= lr * gradients["d" + key]
    return parameters


def optimize(X, Y, a_prev, parameters: dict, learning_rate: float = 0.01) -> tuple[float, dict, np.ndarray]:
    """One step on one example: forward, backward, clip to ±5, update."""
    loss, cache = rnn_forward(X, Y, a_prev, parameters, parameters["Wya"].shape[0])
    gradients, a = rnn_backward(X, Y, parameters, cache)
    gradients = clip(gradients, 5)
    parameters = update_parameters(parameters, gradients, learning_rate)
    return loss, gradients, a[len(X) - 1]


def sample(parameters: dict, char_to_ix: dict, rng: np.random.Generator, max_length: int = 50) -> list[int]:
    """One name, one character at a time, ending at the newline index."""
    vocab_size, n_a = parameters["Wya"].shape[0], parameters["Waa"].shape[1]
    x, a_prev = np.zeros((vocab_size, 1)), np.zeros((n_a, 1))
    indices, newline = [], char_to_ix["\n"]
    while len(indices) < max_length:
        a_prev, y = rnn_step_forward(parameters, a_prev, x)
        idx = int(rng.choice(vocab_size, p=y.ravel()))
        if idx == newline:
            break
        indices.append(idx)
        x = np.zeros((vocab_size, 1))
        x[idx] = 1
    return indices
