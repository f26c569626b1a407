"""Bracket grammar for sampling: never close a bracket that is not open, never end a name with one open.

Names this long (nested parentheses three deep in drug-like names) leave many
places to go wrong; an unbalanced bracket is the commonest. While sampling,
each running name keeps a stack of its open brackets; a closing bracket is
allowed only when it matches the innermost open one, the end token only when
none is open, and an opening bracket only below the depth limit. Disallowed
characters get probability zero and the rest are renormalised; the
log-likelihood reported stays the model's own.
"""
from __future__ import annotations

import numpy as np

from chemgen.model.vocab import Vocab

PAIRS = {"(": ")", "[": "]", "{": "}"}
MAX_DEPTH = 12


class BracketGrammar:
    """Open-bracket stacks of a batch of names being sampled, and the masks they imply."""

    def __init__(self, vocab: Vocab, batch: int):
        index = vocab.char_to_ix
        self.vocab_size = vocab.size
        written = [(c, o) if vocab.reverse else (o, c) for o, c in PAIRS.items()]  # right to left: ")" opens
        pairs = [(index[o], index[c]) for o, c in written if o in index and c in index]
        self.openers = np.array([o for o, _ in pairs], dtype=np.int64)  # (P,)
        self.closers = np.array([c for _, c in pairs], dtype=np.int64)  # (P,)
        self.stack = np.zeros((batch, MAX_DEPTH), dtype=np.int64)  # (B, D) opener indices
        self.depth = np.zeros(batch, dtype=np.int64)  # (B,)

    def allowed(self, rows: np.ndarray) -> np.ndarray:
        """Which tokens each of these rows may take next: (A, V) bool."""
        depth = self.depth[rows]  # (A,)
        top = self.stack[rows, np.maximum(depth - 1, 0)]  # (A,) innermost open bracket
        ok = np.ones((len(rows), self.vocab_size), dtype=bool)  # (A, V)
        ok[:, 0] = depth == 0  # the end token closes nothing
        for opener, closer in zip(self.openers, self.closers):
            ok[:, closer] = (depth > 0) & (top == opener)
            ok[:, opener] = depth < MAX_DEPTH
        return ok

    def mask(self, logits: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Logits (A, V) with disallowed tokens at -inf."""
        return np.where(self.allowed(rows), logits, -np.inf)

    def advance(self, rows: np.ndarray, tokens: np.ndarray) -> None:
        """Push opened brackets, pop closed ones, for these rows' tokens (A,)."""
        opened = np.isin(tokens, self.openers)  # (A,)
        closed = np.isin(tokens, self.closers) & (self.depth[rows] > 0)  # (A,)
        pushing = rows[opened & (self.depth[rows] < MAX_DEPTH)]
        self.stack[pushing, self.depth[pushing]] = tokens[opened & (self.depth[rows] < MAX_DEPTH)]
        self.depth[pushing] += 1
        self.depth[rows[closed]] -= 1
