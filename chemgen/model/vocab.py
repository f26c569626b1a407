"""Character vocabulary: the seed's char_to_ix / ix_to_char maps plus batch encoding.

Index 0 is the single boundary token (``"\\n"``, as in the seed) that both starts
and ends every name; the other characters follow in sorted order. A vocabulary
has a direction: ``forward`` models write a name left to right, ``reverse``
models right to left (the parent first, its locants after); encoding and
decoding turn the name round, so training, scoring and sampling all honour it.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np

from chemgen.errors import VocabularyError
from chemgen.io.names import quoted

BOUNDARY = "\n"
DIRECTIONS = ("forward", "reverse")  # which way a model writes a name


class Vocab:
    """Maps characters to indices and back; index 0 is the boundary token."""

    def __init__(self, chars: Iterable[str], direction: str = "forward"):
        if direction not in DIRECTIONS:
            raise VocabularyError(f"direction must be one of {', '.join(DIRECTIONS)}, not {quoted(direction)}")
        chars = sorted(set(chars) - {BOUNDARY})
        self.ix_to_char: list[str] = [BOUNDARY] + chars
        self.char_to_ix: dict[str, int] = {c: i for i, c in enumerate(self.ix_to_char)}
        self.direction = direction

    @classmethod
    def from_names(cls, names: Iterable[str], direction: str = "forward") -> "Vocab":
        """The vocabulary of every character appearing in ``names``."""
        chars: set[str] = set()
        for name in names:
            chars.update(name)
        if BOUNDARY in chars:
            raise VocabularyError("names must not contain a newline")
        return cls(chars, direction)

    @property
    def reverse(self) -> bool:
        """Does the model write names right to left?"""
        return self.direction == "reverse"

    @property
    def size(self) -> int:
        return len(self.ix_to_char)

    @property
    def chars(self) -> str:
        """The characters other than the boundary, in index order."""
        return "".join(self.ix_to_char[1:])

    def unknown_char(self, name: str) -> Optional[str]:
        """The first character of ``name`` outside the vocabulary, or None."""
        for char in name:
            if char not in self.char_to_ix or char == BOUNDARY:
                return char
        return None

    def check(self, name: str, line: Optional[int] = None) -> None:
        """Raise VocabularyError naming the character (and line) if ``name`` cannot be encoded."""
        char = self.unknown_char(name)
        if char is not None:
            where = f" on line {line}" if line is not None else ""
            raise VocabularyError(f"character {char!r} in {name[:60]!r}{where} is not in the model's vocabulary")

    def encode(self, name: str, line: Optional[int] = None) -> np.ndarray:
        """Indices of the characters of ``name`` (no boundary tokens)."""
        self.check(name, line)
        return np.array([self.char_to_ix[c] for c in (name[::-1] if self.reverse else name)], dtype=np.int32)

    def decode(self, indices: Iterable[int]) -> str:
        """The name written by ``indices`` (in the model's direction), stopping at the first boundary token."""
        out = []
        for ix in indices:
            if ix == 0:
                break
            out.append(self.ix_to_char[int(ix)])
        return "".join(reversed(out) if self.reverse else out)

    def encode_padded(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Codes of many names, zero-padded: codes (N, longest), one byte each where the vocabulary allows
        (a corpus of 1.6 million names then takes a few hundred MB), and lengths (N,)."""
        lengths = np.array([len(n) for n in names], dtype=np.int64)  # (N,)
        dtype = np.uint8 if self.size <= 256 else np.int32
        codes = np.zeros((len(names), int(lengths.max(initial=0))), dtype=dtype)  # (N, L)
        for row, name in enumerate(names):
            codes[row, : len(name)] = self.encode(name)
        return codes, lengths

    def encode_batch(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Padded time-major inputs, targets and mask for a batch of names (see batch_from_codes)."""
        return batch_from_codes(*self.encode_padded(names))


def batch_from_codes(codes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time-major training arrays from padded codes (B, L) and lengths (B,).

    Returns inputs, targets (int32, (T, B)) and mask (float32, (T, B)) with
    T = longest name + 1: inputs are [boundary] + name, targets are
    name + [boundary]; padding positions have mask 0.
    """
    steps = int(lengths.max(initial=0)) + 1
    batch = codes.shape[0]
    targets = np.zeros((steps, batch), dtype=np.int32)  # (T, B)
    targets[: steps - 1] = codes[:, : steps - 1].T
    inputs = np.zeros((steps, batch), dtype=np.int32)  # (T, B)
    inputs[1:] = targets[:-1]
    mask = (np.arange(steps)[:, None] <= lengths[None, :]).astype(np.float32)  # (T, B)
    return inputs, targets, mask
