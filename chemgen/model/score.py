"""Scoring: each name's log-likelihood under the model, streamed in batches.

``logp`` is the natural-log probability of the name's characters and the end
token, from the same forward pass as the training loss; ``logp_per_char``
divides by ``n_chars + 1`` (the end token counts). Names are scored in
length-sorted batches (longest first), so padding costs nothing.

Memory is bounded by the batch, whatever the input: a name longer than
MAX_NAME_CHARS is an error for that name only (never encoded), and a batch
holds as many names as its longest allows within SCORE_BYTES of activations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

from chemgen.errors import ConfigError
from chemgen.io.names import name_list
from chemgen.model import network
from chemgen.model.modelfile import Learned
from chemgen.model.network import NetConfig
from chemgen.model.vocab import batch_from_codes

SCORE_BATCH = 512  # names per scoring batch, at most
SCORE_BYTES = 256 << 20  # activations a scoring batch may hold, at most (names x longest x bytes_per_char)
MAX_NAME_CHARS = 1000  # longer names are not scored (an error for that name; OPSIN refuses them too)


@dataclass
class ScoreRecord:
    """One name's score, or why it has none."""

    name: str
    logp: Optional[float]  # natural log; None when the name could not be scored
    logp_per_char: Optional[float]
    n_chars: int
    error: str = ""  # empty when scored


def name_error(model: Learned, name: str) -> str:
    """Why a name cannot be scored, or "" when it can."""
    if not name:
        return "empty name"
    if len(name) > MAX_NAME_CHARS:
        return f"name longer than {MAX_NAME_CHARS:,} characters"
    char = model.vocab.unknown_char(name)
    if char is not None:
        return f"character {char!r} is not in the model's vocabulary"
    return ""


def bytes_per_char(config: NetConfig) -> int:
    """Activation bytes a forward pass keeps per character, at most: 12 floats per hidden unit a layer
    (the LSTM keeps 11, the GRU 6) and 4 per character of the vocabulary (logits, log-probabilities...)."""
    return np.dtype(config.dtype).itemsize * (12 * config.hidden_size * config.num_layers + 4 * config.vocab_size)


def batch_rows(config: NetConfig, longest: int, most: int = SCORE_BATCH) -> int:
    """Names in a scoring batch (at most ``most``) whose longest name has ``longest`` characters (the end
    token adds a step), so that its activations stay within SCORE_BYTES."""
    return int(min(most, max(1, SCORE_BYTES // (bytes_per_char(config) * (longest + 1)))))


def logp_of(model: Learned, names: Sequence[str]) -> np.ndarray:
    """Log-likelihoods of encodable names (N,), batched by length within SCORE_BYTES."""
    out = np.empty(len(names))
    order = np.argsort([-len(n) for n in names], kind="stable")  # longest first: packed batches
    start = 0
    while start < len(order):
        rows = order[start : start + batch_rows(model.config, len(names[order[start]]))]
        codes, lengths = model.vocab.encode_padded([names[i] for i in rows])
        out[rows] = network.sequence_logp(model.config, model.params, *batch_from_codes(codes, lengths))
        start += len(rows)
    return out


def score_array(model: Learned, names: Sequence[str]) -> np.ndarray:
    """Log-likelihoods (N,); a ChemgenError for the first name that is too long or cannot be encoded."""
    names = name_list(names)
    for line, name in enumerate(names, start=1):
        if len(name) > MAX_NAME_CHARS:
            raise ConfigError(f"name {line} is {len(name):,} characters long: the model scores names of at most "
                              f"{MAX_NAME_CHARS:,}")
        model.vocab.check(name, line)
    return logp_of(model, names)


def _blocks(names: Iterable[str], chunk: int) -> Iterator[list[str]]:
    """Lists of up to ``chunk`` names; a name over MAX_NAME_CHARS closes its list, so each holds one at most."""
    block: list[str] = []
    for name in names:
        block.append(name)
        if len(block) >= chunk or len(name) > MAX_NAME_CHARS:
            yield block
            block = []
    if block:
        yield block


def score_names(model: Learned, names: Iterable[str], chunk: int = 8192) -> Iterator[ScoreRecord]:
    """A record per name, in input order, streamed chunk by chunk; bad names carry an error."""
    for block in _blocks(names, chunk):
        errors = [name_error(model, n) for n in block]
        good = [n for n, e in zip(block, errors) if not e]
        logps = iter(logp_of(model, good))
        for name, error in zip(block, errors):
            if error:
                yield ScoreRecord(name, None, None, len(name), error)
            else:
                lp = float(next(logps))
                yield ScoreRecord(name, lp, lp / (len(name) + 1), len(name))
