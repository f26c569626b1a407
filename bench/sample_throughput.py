"""Sampling throughput: chemgen's batched NumPy sampler against a batched PyTorch sampler of the same model.

Both sides run the same weights (copied into torch.nn.GRU/RNN, all layers, and a
Linear head; checked by scoring names on both sides), draw names in batches of
chemgen's size one character per step until every name has ended, at
temperature 1, and keep each name's tokens and log-likelihood. PyTorch runs two
ways: stepping every row until the longest name ends, and dropping finished
rows as chemgen does; the ratios against both are printed. chemgen also keeps
brackets balanced (its default), which PyTorch's sampler does not do.

For each thread count N of ``--threads`` (default 1,2), every BLAS and OpenMP
pool of both sides is held to N threads (threadpoolctl for NumPy's OpenBLAS,
``torch.set_num_threads`` for PyTorch), the counts each pool reports are
printed, and the run stops if one is not N; chemgen shares each batch among N
threads (``threads=N``). Each side gets the same warm-up, then the sides take
turns ``--rounds`` times and each keeps its best rate. The seed-style
one-name-at-a-time sampler is timed at one thread.

    python bench/sample_throughput.py [--model systematic] [--names 4096] [--threads 1,2] [--rounds 3] [--warm-up 256]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import pinned_threads, print_table, thread_list, torch_modules  # noqa: E402
from chemgen import load  # noqa: E402
from chemgen.model import network, seed  # noqa: E402
from chemgen.model.sample import MAX_BATCH  # noqa: E402

MAX_LENGTH = 120


def chemgen_rate(model, count: int, threads: int) -> float:
    start = time.perf_counter()
    model.sample(count, random_state=0, max_length=MAX_LENGTH, threads=threads)
    return count / (time.perf_counter() - start)


class TorchSampler:
    """The model in PyTorch, sampling batches of chemgen's size; ``compact`` drops rows whose name has ended."""

    def __init__(self, model):
        import torch

        self.torch, self.config = torch, model.net_config_
        _, self.rnn, self.head = torch_modules(self.config, model.params_)

    def check(self, model, names: list[str]) -> float:
        """The largest difference (nats) between chemgen's and PyTorch's log-likelihoods of names."""
        torch, V = self.torch, self.config.vocab_size
        ours = model.score(names)
        theirs = []
        with torch.no_grad():
            for name in names:
                codes = [0] + [model.vocab_.char_to_ix[c] for c in name] + [0]
                x = torch.nn.functional.one_hot(torch.tensor(codes[:-1]), V).float()[:, None]  # (T, 1, V)
                logp = torch.log_softmax(self.head(self.rnn(x)[0][:, 0]), dim=1)  # (T, V)
                theirs.append(float(logp[torch.arange(len(codes) - 1), torch.tensor(codes[1:])].sum()))
        return float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs))))

    def rate(self, count: int, compact: bool) -> float:
        self.torch.manual_seed(0)
        start = time.perf_counter()
        for first in range(0, count, MAX_BATCH):
            self.batch(min(MAX_BATCH, count - first), compact)
        return count / (time.perf_counter() - start)

    def batch(self, size: int, compact: bool):
        """Tokens (B, MAX_LENGTH) and log-likelihoods (B,) of one batch of names."""
        torch, (V, L, H) = self.torch, (self.config.vocab_size, self.config.num_layers, self.config.hidden_size)
        tokens = torch.zeros(size, MAX_LENGTH, dtype=torch.long)
        logp = torch.zeros(size)
        rows = torch.arange(size)  # the rows computed: those still running (compact) or all of them
        running = torch.ones(size, dtype=torch.bool)
        h, token = torch.zeros(L, size, H), torch.zeros(size, dtype=torch.long)
        with torch.no_grad():
            for t in range(MAX_LENGTH + 1):
                out, h = self.rnn(torch.nn.functional.one_hot(token, V).float()[None], h)
                logprobs = torch.log_softmax(self.head(out[0]), dim=1)
                token = torch.multinomial(logprobs.exp(), 1)[:, 0]
                step_logp = logprobs.gather(1, token[:, None])[:, 0]
                if compact:
                    logp[rows] += step_logp
                    if t < MAX_LENGTH:
                        tokens[rows, t] = token
                    keep = token != 0
                    rows, token, h = rows[keep], token[keep], h[:, keep]
                    if rows.numel() == 0:
                        break
                else:
                    logp += torch.where(running, step_logp, 0.0)
                    if t < MAX_LENGTH:
                        tokens[:, t] = torch.where(running, token, 0)
                    running &= token != 0
                    if not bool(running.any()):
                        break
        return tokens, logp


def seed_rate(model, count: int) -> float:
    """One name at a time with column vectors (vanilla cell only: the seed has no GRU)."""
    config = model.net_config_
    rng = np.random.default_rng(0)
    p = network.init_params(network.NetConfig("rnn", config.hidden_size, 1, config.vocab_size, "float64"), rng)
    params = {"Wax": p["l0.Wax"], "Waa": p["l0.Waa"], "Wya": p["Wya"], "ba": p["l0.ba"][:, None], "by": p["by"][:, None]}
    start = time.perf_counter()
    for _ in range(count):
        seed.sample(params, model.vocab_.char_to_ix, rng, max_length=MAX_LENGTH)
    return count / (time.perf_counter() - start)


def measure(model, peer: TorchSampler, threads: int, args) -> tuple:
    """(threads, chemgen, torch every row, torch compacted, ratios) with every pool held to ``threads``."""
    with pinned_threads(threads):
        chemgen_rate(model, args.warm_up, threads)
        peer.rate(args.warm_up, compact=False)
        peer.rate(args.warm_up, compact=True)
        ours = every = compact = 0.0
        for _ in range(args.rounds):  # alternate, so a busy moment does not favour one side
            ours = max(ours, chemgen_rate(model, args.names, threads))
            every = max(every, peer.rate(args.names, compact=False))
            compact = max(compact, peer.rate(args.names, compact=True))
    return threads, ours, every, compact, ours / every, ours / compact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model file or shipped name (default: the shipped default)")
    parser.add_argument("--names", type=int, default=4096)
    parser.add_argument("--threads", type=thread_list, default=[1, 2],
                        help="thread counts, each a side, comma-separated (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternate the sides this many times, keep each best")
    parser.add_argument("--warm-up", type=int, default=256, help="names each side samples untimed first")
    parser.add_argument("--seed-names", type=int, default=100, help="names timed through the seed-style loop")
    args = parser.parse_args()
    model = load(args.model)
    if model.net_config_.cell == "lstm":
        sys.exit("this benchmark copies rnn/gru models into PyTorch; pick such a model with --model")
    peer = TorchSampler(model)
    gap = peer.check(model, [s.name for s in model.sample(16, random_state=1, max_length=MAX_LENGTH)])
    if gap > 1e-3:
        sys.exit(f"the PyTorch copy scores names {gap:.2g} nats away from chemgen: not the same model")
    rows = [measure(model, peer, threads, args) for threads in args.threads]
    with pinned_threads(1):
        seed_nps = seed_rate(model, args.seed_names)
    config = model.net_config_
    print(f"sampling {args.names} names in batches of up to {MAX_BATCH}, {config.num_layers}-layer {config.cell} "
          f"hidden {config.hidden_size}, temperature 1, best of {args.rounds} alternating rounds after a "
          f"{args.warm_up}-name warm-up a side; PyTorch copy within {gap:.1g} nats of chemgen's scores; "
          f"load average {os.getloadavg()[0]:.2f}; seed-style loop (1-layer vanilla, one name at a time, one "
          f"thread) {seed_nps:,.0f} names/s")
    print_table(["threads a side", "chemgen names/s", "torch, every row", "torch, finished rows dropped",
                 "chemgen / every row", "chemgen / rows dropped"], rows)


if __name__ == "__main__":
    main()
