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

from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from chemgen.errors import ChemgenError, ConfigError
from chemgen.io.names import quoted
from chemgen.model import network
from chemgen.model.cells import Workspace
from chemgen.model.config import SamplingConfig, seed
from chemgen.model.grammar import BracketGrammar
from chemgen.model.modelfile import Learned
from chemgen.model.threads import Threads

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


def check_sampling_options(model: Learned, n: int, random_state: Optional[int] = None,
                           **options: Any) -> SamplingConfig:
    """The sampling options as a checked :class:`SamplingConfig`; ConfigError in one line for a bad one."""
    if not _is_int(n) or n < 0:
        raise ConfigError(f"number of names must be a non-negative integer, not {quoted(n)}")
    config = SamplingConfig(**{k: v.item() if isinstance(v, np.generic) else v for k, v in options.items()})
    message = seed("random_state", int(random_state) if isinstance(random_state, np.integer) else random_state)
    if message:
        raise ConfigError(message)
    model.vocab.check(config.prefix)
    if config.prefix and model.vocab.reverse:
        raise ConfigError("this model writes names right to left (direction reverse), so a prefix cannot be given: "
                          "its first characters are the name's last")
    return config


def draw(logits: np.ndarray, temperature: float, top_k: Optional[int], uniforms: np.ndarray) -> np.ndarray:
    """One token per row of logits (B, V) after temperature and top-k, from one uniform in [0, 1) per row: (B,) int."""
    scaled = logits.astype(np.float64) / temperature  # (B, V)
    if top_k is not None and top_k < scaled.shape[1]:
        kth = np.partition(scaled, -top_k, axis=1)[:, -top_k][:, None]  # (B, 1)
        scaled = np.where(scaled >= kth, scaled, -np.inf)
    probs = np.exp(scaled - scaled.max(axis=1, keepdims=True))  # (B, V)
    cdf = np.cumsum(probs, axis=1)  # (B, V)
    u = uniforms[:, None] * cdf[:, -1:]  # (B, 1)
    return np.minimum((cdf < u).sum(axis=1), cdf.shape[1] - 1)


class Rows:
    """A contiguous part of a batch, stepped in one thread: its rows still running (ascending), their last
    tokens, and the network's states and buffers for them."""

    def __init__(self, config: network.NetConfig, start: int, stop: int):
        self.active = np.arange(start, stop)  # (A,) rows still running
        self.ended = np.zeros(0, dtype=np.int64)  # (E,) rows that ended at the last step
        self.current = np.zeros(stop - start, dtype=np.int32)  # (A,) the boundary token starts every name
        self.states = network.initial_states(config, stop - start)
        self.ws = Workspace()


class Batch:
    """A batch of names being sampled: tokens (B, max_length), log-likelihoods (B,), which ended (B,).

    Its rows are dealt into parts (one per thread). At each step the generator gives one uniform per
    running row, in row order, and each part draws from its share: the draws are those of one part.
    """

    def __init__(self, model: Learned, batch: int, temperature: float, top_k: Optional[int], prefix: str,
                 max_length: int, grammar: bool, parts: int = 1):
        self.config, self.weights = model.config, network.step_weights(model.config, model.params)
        self.temperature, self.top_k, self.forced = temperature, top_k, model.vocab.encode(prefix)
        self.tokens = np.zeros((batch, max_length), dtype=np.int32)  # (B, L) 0 = boundary / padding
        self.logp = np.zeros(batch)  # (B,)
        self.done = np.zeros(batch, dtype=bool)  # (B,)
        self.brackets = BracketGrammar(model.vocab, batch) if grammar else None
        bounds = np.linspace(0, batch, max(1, min(parts, batch)) + 1).astype(int)
        self.parts = [Rows(self.config, start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]

    def running(self) -> int:
        return sum(len(part.active) for part in self.parts)

    def step(self, t: int, uniforms: Optional[np.ndarray], threads: Threads) -> None:
        """Every running name's character t: forced by the prefix, or drawn with uniforms (A,)."""
        starts = np.cumsum([0] + [len(part.active) for part in self.parts])
        shares = [None if uniforms is None else uniforms[a:b] for a, b in zip(starts[:-1], starts[1:])]
        threads.run(lambda i: self.step_part(self.parts[i], t, shares[i]), len(self.parts))

    def ended(self) -> np.ndarray:
        """The rows that ended at the last step, ascending: (E,)."""
        return np.sort(np.concatenate([part.ended for part in self.parts]))

    def step_part(self, part: Rows, t: int, uniforms: Optional[np.ndarray]) -> None:
        part.ended = part.active[:0]
        if part.active.size == 0:
            return
        logits, part.states = network.step_logits(self.config, self.weights, part.current, part.states,
                                                  part.ws)  # (A, V)
        active, brackets = part.active, self.brackets
        if uniforms is None:
            current = np.full(len(active), self.forced[t], dtype=np.int32)
        else:
            shaped = logits if brackets is None else brackets.mask(logits, active)
            current = draw(shaped, self.temperature, self.top_k, uniforms)
        if brackets is not None:
            brackets.advance(active, current)
        log_probs = network.log_softmax(logits.astype(np.float64))  # (A, V)
        self.logp[active] += np.take_along_axis(log_probs, current[:, None], 1)[:, 0]
        if t < self.tokens.shape[1]:
            self.tokens[active, t] = current
        running = current != 0  # (A,)
        part.ended = active[~running]
        self.done[part.ended] = True
        part.active, part.current = active[running], current[running]
        if not running.all():
            part.states = network.keep_rows(part.states, running)


def sample_batch(model: Learned, batch: int, temperature: float, top_k: Optional[int], prefix: str, max_length: int,
                 rng: np.random.Generator, grammar: bool = True, threads: Optional[Threads] = None,
                 on_ended: Optional[Callable[[np.ndarray, np.ndarray, np.ndarray], None]] = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens (B, max_length), their log-likelihood (B,), and which names ended (B,).

    Only names still running are computed: ended rows leave the batch. With
    ``grammar``, brackets are kept balanced (:mod:`chemgen.model.grammar`);
    with ``threads``, each thread steps a part of the rows; ``on_ended(rows,
    tokens, logp)`` is called after each step with the rows that ended in it
    (their tokens and log-likelihoods are final), so a caller can use finished
    names while the rest are still being written.
    """
    threads = threads or Threads()
    state = Batch(model, batch, temperature, top_k, prefix, max_length, grammar, threads.count)
    for t in range(max_length + 1):
        running = state.running()
        if running == 0:
            break
        state.step(t, None if t < len(state.forced) else rng.random(running), threads)
        if on_ended is not None:
            on_ended(state.ended(), state.tokens, state.logp)
    return state.tokens, state.logp, state.done


def sample_names(model: Learned, n: int, temperature: float = 1.0, top_k: Optional[int] = None, prefix: str = "",
                 max_length: int = 200, random_state: Optional[int] = None, max_attempts: int = 10,
                 grammar: bool = True, threads: int = 1) -> list[Sample]:
    """n complete names with their log-likelihoods, flagged when they copy a training name.

    grammar: keep brackets balanced while sampling (the log-likelihood stays the model's own).
    threads: threads sharing each batch's rows (names then depend on it only through rounding).
    SamplingFailed when max_attempts batches give fewer than n names that end
    within max_length (the model's names are longer: raise max_length).
    """
    check_sampling_options(model, n, random_state, temperature=temperature, top_k=top_k, prefix=prefix,
                           max_length=max_length, grammar=grammar, threads=threads)
    samples, drawn = draw_names(model, n, temperature, top_k, prefix, max_length,
                                np.random.default_rng(random_state), max_attempts, grammar, threads)
    if len(samples) < n:
        raise SamplingFailed(f"only {len(samples)} of {drawn} sampled names ended within max length {max_length} "
                             f"({n} wanted): raise max_length")
    return samples


def draw_names(model: Learned, n: int, temperature: float, top_k: Optional[int], prefix: str, max_length: int,
               rng: np.random.Generator, max_attempts: int = 1, grammar: bool = True, threads: int = 1,
               on_names: Optional[Callable[[list[Sample]], None]] = None) -> tuple[list[Sample], int]:
    """Up to n complete names from at most max_attempts batches, and how many names were drawn.

    on_names (one batch only): called with the names that ended at each step, as they end.
    """
    if on_names is not None and max_attempts != 1:
        raise ValueError("on_names streams one batch: max_attempts must be 1")
    samples: list[Sample] = []
    drawn = 0
    with Threads(threads) as pool:
        for _ in range(max_attempts):
            missing = n - len(samples)
            if missing <= 0:
                break
            batch = min(MAX_BATCH, max(missing + missing // 8 + 1, 1)) if max_attempts > 1 else missing
            found: dict[int, Sample] = {}

            def take(rows: np.ndarray, tokens: np.ndarray, logp: np.ndarray) -> None:
                new = rows[tokens[rows, 0] != 0]  # (E,) ended, and not an empty name
                found.update(zip(new.tolist(), _samples(model, tokens[new], logp[new])))
                if on_names is not None and new.size:
                    on_names([found[row] for row in new.tolist()])

            sample_batch(model, batch, temperature, top_k, prefix, max_length, rng, grammar, pool, take)
            drawn += batch
            samples += [found[row] for row in sorted(found)[:missing]]
    return samples, drawn


def _samples(model: Learned, tokens: np.ndarray, logp: np.ndarray) -> list[Sample]:
    """Samples of finished rows: tokens (E, L), log-likelihoods (E,)."""
    names = [model.vocab.decode(row) for row in tokens]
    seen = model.in_training(names)
    return [Sample(name, float(lp), float(lp) / (len(name) + 1), bool(flag))
            for name, lp, flag in zip(names, logp, seen)]
