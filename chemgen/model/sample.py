"""Sampling: many names at once, vectorised across the batch.

Every running name advances one character per step through
``network.step_logits``; temperature and top-k shape the distribution drawn
from, while each name's log-likelihood is accumulated under the model itself
(temperature 1, no top-k), so it equals ``model.score([name])``.
Names that reach ``max_length`` without the end token are dropped and drawn
again, so ``n`` complete names come back, or SamplingFailed says why not
after a bounded number of batches.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

import numpy as np

from chemgen.errors import ChemgenError, ConfigError
from chemgen.model import network
from chemgen.model.cells import Workspace
from chemgen.model.config import seed
from chemgen.model.grammar import BracketGrammar
from chemgen.model.modelfile import Learned

MAX_BATCH = 2048


class SamplingFailed(ChemgenError):
    """Too few sampled names ended within the maximum length."""


class Sample(NamedTuple):
    """A sampled name with its log-likelihood under the model (temperature 1, no top-k)."""

    name: str
    logp: float  # natural log, characters and the end token
    logp_per_char: float  # logp / (len(name) + 1)
    in_training: bool  # the name is one of the model's training names


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_sampling_options(model: Learned, n: int, temperature: float, top_k: Optional[int], prefix: str,
                           max_length: int, random_state: Optional[int] = None, grammar: bool = True) -> None:
    """ConfigError in one line for a bad sampling option."""
    if not isinstance(grammar, bool):
        raise ConfigError(f"grammar must be True or False, not {grammar!r}")
    if not _is_int(n) or n < 0:
        raise ConfigError(f"number of names must be a non-negative integer, not {n!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 < temperature < math.inf:
        raise ConfigError(f"temperature must be a positive finite number, not {temperature!r}")
    if top_k is not None and (not _is_int(top_k) or top_k < 1):
        raise ConfigError(f"top-k must be a whole number of at least 1 (or None), not {top_k!r}")
    if not isinstance(prefix, str):
        raise ConfigError(f"prefix must be a string (\"\" for none), not {prefix!r}")
    if not _is_int(max_length) or max_length < 1 or len(prefix) >= max_length:
        raise ConfigError(f"max length {max_length!r} must be a whole number above the prefix length ({len(prefix)})")
    message = seed("random_state", int(random_state) if isinstance(random_state, np.integer) else random_state)
    if message:
        raise ConfigError(message)
    model.vocab.check(prefix)


def draw(logits: np.ndarray, temperature: float, top_k: Optional[int], rng: np.random.Generator) -> np.ndarray:
    """One token per row of logits (B, V) after temperature and top-k: (B,) int."""
    scaled = logits.astype(np.float64) / temperature  # (B, V)
    if top_k is not None and top_k < scaled.shape[1]:
        kth = np.partition(scaled, -top_k, axis=1)[:, -top_k][:, None]  # (B, 1)
        scaled = np.where(scaled >= kth, scaled, -np.inf)
    probs = np.exp(scaled - scaled.max(axis=1, keepdims=True))  # (B, V)
    cdf = np.cumsum(probs, axis=1)  # (B, V)
    u = rng.random(len(cdf))[:, None] * cdf[:, -1:]  # (B, 1)
    return np.minimum((cdf < u).sum(axis=1), cdf.shape[1] - 1)


def sample_batch(model: Learned, batch: int, temperature: float, top_k: Optional[int], prefix: str, max_length: int,
                 rng: np.random.Generator, grammar: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens (B, max_length), their log-likelihood (B,), and which names ended (B,).

    Only names still running are computed: ended rows leave the batch. With
    ``grammar``, brackets are kept balanced (:mod:`chemgen.model.grammar`).
    """
    config, weights, ws = model.config, network.step_weights(model.config, model.params), Workspace()
    states = network.initial_states(config, batch)
    forced = model.vocab.encode(prefix)
    tokens = np.zeros((batch, max_length), dtype=np.int32)  # (B, L) 0 = boundary / padding
    logp = np.zeros(batch)  # (B,)
    done = np.zeros(batch, dtype=bool)  # (B,)
    active = np.arange(batch)  # (A,) rows still running
    current = np.zeros(batch, dtype=np.int32)  # (A,) the boundary token starts every name
    brackets = BracketGrammar(model.vocab, batch) if grammar else None
    for t in range(max_length + 1):
        logits, states = network.step_logits(config, weights, current, states, ws)  # (A, V)
        if t < len(forced):
            current = np.full(len(active), forced[t], dtype=np.int32)
        else:
            shaped = logits if brackets is None else brackets.mask(logits, active)
            current = draw(shaped, temperature, top_k, rng)
        if brackets is not None:
            brackets.advance(active, current)
        log_probs = network.log_softmax(logits.astype(np.float64))  # (A, V)
        logp[active] += np.take_along_axis(log_probs, current[:, None], 1)[:, 0]
        if t < max_length:
            tokens[active, t] = current
        running = current != 0  # (A,)
        done[active[~running]] = True
        if not running.all():
            active, current = active[running], current[running]
            states = network.keep_rows(states, running)
        if active.size == 0:
            break
    return tokens, logp, done


def sample_names(model: Learned, n: int, temperature: float = 1.0, top_k: Optional[int] = None, prefix: str = "",
                 max_length: int = 200, random_state: Optional[int] = None, max_attempts: int = 10,
                 grammar: bool = True) -> list[Sample]:
    """n complete names with their log-likelihoods, flagged when they copy a training name.

    grammar: keep brackets balanced while sampling (the log-likelihood stays the model's own).
    SamplingFailed when max_attempts batches give fewer than n names that end
    within max_length (the model's names are longer: raise max_length).
    """
    check_sampling_options(model, n, temperature, top_k, prefix, max_length, random_state)
    samples, drawn = draw_names(model, n, temperature, top_k, prefix, max_length,
                                np.random.default_rng(random_state), max_attempts, grammar)
    if len(samples) < n:
        raise SamplingFailed(f"only {len(samples)} of {drawn} sampled names ended within max length {max_length} "
                             f"({n} wanted): raise max_length")
    return samples


def draw_names(model: Learned, n: int, temperature: float, top_k: Optional[int], prefix: str, max_length: int,
               rng: np.random.Generator, max_attempts: int = 1, grammar: bool = True) -> tuple[list[Sample], int]:
    """Up to n complete names from at most max_attempts batches, and how many names were drawn."""
    names: list[str] = []
    logps: list[float] = []
    drawn = 0
    for _ in range(max_attempts):
        missing = n - len(names)
        if missing <= 0:
            break
        batch = min(MAX_BATCH, max(missing + missing // 8 + 1, 1)) if max_attempts > 1 else missing
        tokens, logp, done = sample_batch(model, batch, temperature, top_k, prefix, max_length, rng, grammar)
        drawn += batch
        complete = np.flatnonzero(done & (tokens[:, 0] != 0))  # ended, and not an empty name
        for row in complete[:missing]:
            names.append(model.vocab.decode(tokens[row]))
            logps.append(float(logp[row]))
    seen = model.in_training(names)
    return [Sample(name, lp, lp / (len(name) + 1), bool(flag)) for name, lp, flag in zip(names, logps, seen)], drawn
