"""Shared bits of the benchmarks: a corpus of names, a plain table printer, threads pinned alike on both sides
(and checked), and a chemgen model's weights copied into PyTorch."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


# ---------------------------------------------------------------- threads: the same on both sides, checked


def thread_counts() -> list[tuple[str, int]]:
    """(pool, threads) for every BLAS and OpenMP pool threadpoolctl finds, and PyTorch's own settings
    (its MKL is linked in, out of threadpoolctl's sight) when torch is imported."""
    from threadpoolctl import threadpool_info

    counts = [(f"{i['internal_api']} ({Path(i['filepath']).name})", i["num_threads"]) for i in threadpool_info()]
    torch = sys.modules.get("torch")
    if torch is not None:
        counts.append(("torch.get_num_threads()", torch.get_num_threads()))
        for line in torch.__config__.parallel_info().splitlines():
            key, _, value = line.strip().partition(" : ")
            if key in ("mkl_get_max_threads()", "omp_get_max_threads()") and value.strip().isdigit():
                counts.append((f"torch {key}", int(value)))
    return counts


@contextmanager
def pinned_threads(count: int) -> Iterator[None]:
    """Hold every BLAS and OpenMP pool (NumPy's and PyTorch's) to ``count`` threads for the block; print what
    each pool reports, and exit if one does not say ``count`` or NumPy's BLAS is not among them.

    Import torch before entering, so that its pools are loaded and held too. chemgen's own worker
    threads (``threads=N``) set one BLAS thread each on top of this, as they always do.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=count):
        if torch is not None:
            torch.set_num_threads(count)
        counts = thread_counts()
        print(f"threads pinned to {count}: " + ", ".join(f"{pool} {n}" for pool, n in counts))
        if not any(i["user_api"] == "blas" for i in threadpool_info()):
            sys.exit("no BLAS found by threadpoolctl: cannot pin NumPy's BLAS threads")
        wrong = [f"{pool} {n}" for pool, n in counts if n != count]
        if wrong:
            sys.exit(f"threads not pinned to {count}: {', '.join(wrong)}")
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def thread_list(text: str) -> list[int]:
    """``--threads 1,2`` as [1, 2]."""
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise ValueError(f"threads must be whole numbers of at least 1, not {text!r}")
    return counts


# ---------------------------------------------------------------- the same weights in PyTorch


def torch_modules(config, params: dict, fold_embedding: bool = True):
    """(embedding or None, torch.nn.RNN/GRU/LSTM with all layers, Linear head) holding a chemgen model's weights.

    config is the model's NetConfig. With ``fold_embedding`` (or no embedding), the first layer reads one-hot
    characters through chemgen's folded (gates, V) table and the embedding is None; otherwise an
    nn.Embedding holds ``E`` and the first layer reads its D-wide rows. Gate orders are PyTorch's already
    (GRU r, z, n with the reset gate on (W_hn h + b_hn); LSTM i, f, g, o); chemgen's single RNN and LSTM bias
    goes into bias_ih, bias_hh is zero.
    """
    import torch

    from chemgen.model import network

    H, V, L, D = config.hidden_size, config.vocab_size, config.num_layers, config.embed
    embed = None if fold_embedding or not D else torch.nn.Embedding(V, D)
    rnn_class = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[config.cell]
    rnn, head = rnn_class(D if embed is not None else V, H, num_layers=L), torch.nn.Linear(H, V)
    keys = {"rnn": ("Wax", "Waa", "ba", None), "gru": ("Wx", "Wh", "bx", "bh"), "lstm": ("Wx", "Wh", "b", None)}
    w_ih, w_hh, b_ih, b_hh = keys[config.cell]
    with torch.no_grad():
        for k in range(L):
            q = network.layer_params(params, k) if embed is not None else network.input_layer_params(config, params, k)
            zeros = np.zeros(q[b_ih].shape, np.float32)
            tensors = {"weight_ih": q[w_ih], "weight_hh": q[w_hh], "bias_ih": q[b_ih],
                       "bias_hh": q[b_hh] if b_hh else zeros}
            for name, value in tensors.items():
                getattr(rnn, f"{name}_l{k}").copy_(torch.from_numpy(np.ascontiguousarray(value, np.float32)))
        if embed is not None:
            embed.weight.copy_(torch.from_numpy(np.ascontiguousarray(params["E"], np.float32)))
        head.weight.copy_(torch.from_numpy(np.ascontiguousarray(params["Wya"], np.float32)))
        head.bias.copy_(torch.from_numpy(np.ascontiguousarray(params["by"], np.float32)))
    return embed, rnn, head
