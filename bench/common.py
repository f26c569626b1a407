"""Shared bits of the benchmarks: a corpus of names and a plain table printer."""
from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SYSTEMATIC_TRAIN = ROOT / "datasets" / "systematic" / "train.txt"


def corpus(mean_length: int = 40, count: int = 5000) -> list[str]:
    """Real systematic names of about mean_length characters, or synthetic ones if the dataset is absent."""
    if SYSTEMATIC_TRAIN.exists():
        names = [n for n in SYSTEMATIC_TRAIN.read_text().split("\n") if abs(len(n) - mean_length) <= 8]
        if len(names) >= 500:
            return names[:count]
    rng = np.random.default_rng(0)
    alphabet = np.array(list("abcdefghiklmnoprstuxyz0123456789-,()[] "))
    lengths = rng.integers(mean_length - 8, mean_length + 9, size=count)
    return ["".join(rng.choice(alphabet, size=n)) for n in lengths]


def print_table(header: list[str], rows: list[tuple]) -> None:
    """Print rows under a header, numbers with thousands separators or two decimals."""
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
        return str(value)

    text = [header] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(header))]
    for row in text:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def parse_setting(text: str) -> tuple[str, object]:
    """A ``--set KEY=VALUE`` argument as (key, int, float, bool or text)."""
    key, _, value = text.partition("=")
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(value.lower(), value)
