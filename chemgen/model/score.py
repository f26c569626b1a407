"""Scoring: each name's log-likelihood under the model, streamed in batches.

``logp`` is the natural-log probability of the name's characters and the end
token, from the same forward pass as the training loss; ``logp_per_char``
divides by ``n_chars + 1`` (the end token counts). Names are scored in
length-sorted batches (longest first), so padding costs nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

from chemgen.io.names import name_list
from chemgen.model import network
from chemgen.model.modelfile import Learned
from chemgen.model.vocab import batch_from_codes

SCORE_BATCH = 512


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
    char = model.vocab.unknown_char(name)
    if char is not None:
        return f"character {char!r} is not in the model's vocabulary"
    return ""


def logp_of(model: Learned, names: Sequence[str]) -> np.ndarray:
    """Log-likelihoods of encodable names (N,), batched by length."""
    out = np.empty(len(names))
    order = np.argsort([-len(n) for n in names], kind="stable")  # longest first: packed batches
    for start in range(0, len(order), SCORE_BATCH):
        rows = order[start : start + SCORE_BATCH]
        codes, lengths = model.vocab.encode_padded([names[i] for i in rows])
        out[rows] = network.sequence_logp(model.config, model.params, *batch_from_codes(codes, lengths))
    return out


def score_array(model: Learned, names: Sequence[str]) -> np.ndarray:
    """Log-likelihoods (N,); VocabularyError for the first name that cannot be encoded."""
    names = name_list(names)
    for line, name in enumerate(names, start=1):
        model.vocab.check(name, line)
    return logp_of(model, names)


def score_names(model: Learned, names: Iterable[str], chunk: int = 8192) -> Iterator[ScoreRecord]:
    """A record per name, in input order, streamed chunk by chunk; bad names carry an error."""
    names = iter(names)
    while True:
        block = list(islice(names, chunk))
        if not block:
            return
        errors = [name_error(model, n) for n in block]
        good = [n for n, e in zip(block, errors) if not e]
        logps = iter(logp_of(model, good))
        for name, error in zip(block, errors):
            if error:
                yield ScoreRecord(name, None, None, len(name), error)
            else:
                lp = float(next(logps))
                yield ScoreRecord(name, lp, lp / (len(name) + 1), len(name))
