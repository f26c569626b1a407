"""Training throughput: chemgen's NumPy char-RNN against PyTorch (CPU) and the seed-style loop.

Same architecture on both sides: one recurrent layer (vanilla RNN or GRU) of
256 units over one-hot characters (chemgen's row lookup is the same
arithmetic), a linear softmax output, masked cross-entropy, Adam, global-norm
clipping; the same batches of 128 names of ~40 characters. PyTorch runs the
padded batch (every row to the longest name, as a plain PyTorch loop does);
chemgen computes only the rows still running; characters per second count the
real, unpadded characters (end token included) on both sides.

For each thread count N of ``--threads`` (default 1,2) every BLAS and OpenMP
pool of both sides is held to N threads (threadpoolctl; ``torch.set_num_threads``),
the counts are printed and checked, chemgen deals each minibatch to N threads
(``chemgen train --threads N``), and the sides alternate ``--rounds`` times,
each keeping its best rate after ``--warmup`` untimed steps. Printed per cell
and thread count: both rates, their ratio, and each rate's share of the
BLAS-bound limit: the sgemm rate at N threads measured in the same run divided
by the matrix-product arithmetic per character (forward, backward and weight
gradients of the recurrent and output products).

    python bench/train_throughput.py [--steps 30] [--hidden 256] [--batch 128] [--threads 1,2] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import corpus, pinned_threads, print_table, thread_list  # noqa: E402
from chemgen.model import network, seed  # noqa: E402
from chemgen.model.cells import Workspace  # noqa: E402
from chemgen.model.config import TrainConfig  # noqa: E402
from chemgen.model.modelfile import Learned  # noqa: E402
from chemgen.model.optim import Adam  # noqa: E402
from chemgen.model.train import ThreadParts, train_step  # noqa: E402
from chemgen.model.vocab import Vocab  # noqa: E402


def batches(names: list[str], vocab: Vocab, batch: int, steps: int, rng) -> list:
    codes, lengths = vocab.encode_padded(names)
    return [(codes, lengths, rng.integers(0, len(names), size=batch)) for _ in range(steps)]


def sgemm_peak(size: int = 1024, repeats: int = 5) -> float:
    """Best float32 matrix-product rate of this NumPy's BLAS, FLOP/s."""
    a, b = (np.random.default_rng(0).random((size, size), dtype=np.float32) for _ in range(2))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def flops_per_char(cell: str, hidden: int, vocab: int) -> float:
    """Matrix-product FLOPs per character of one training step: recurrent product forward, backward and
    weight gradient (3 x 2HG), the input table's gradient (2VG), and the output layer (3 x 2HV)."""
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[cell] * hidden
    return 6 * hidden * gates + 2 * vocab * gates + 6 * hidden * vocab


def chemgen_rate(cell: str, names, vocab, args, threads: int = 1) -> float:
    config = TrainConfig(batch_size=args.batch, random_state=0, threads=threads)
    net = network.NetConfig(cell, args.hidden, 1, vocab.size, "float32")
    learned = Learned(net, network.init_params(net, np.random.default_rng(0)), vocab, np.zeros(0, np.uint64))
    optimizer, workspace = Adam(1e-3), Workspace()
    pool = ThreadParts(threads) if threads > 1 else None
    work = batches(names, vocab, args.batch, args.steps + args.warmup, np.random.default_rng(1))
    chars = 0
    for i, (codes, lengths, rows) in enumerate(work):
        if i == args.warmup:
            start, chars = time.perf_counter(), 0
        train_step(config, learned, optimizer, codes, lengths, rows, workspace, pool=pool)
        chars += int(lengths[rows].sum() + len(rows))
    return chars / (time.perf_counter() - start)


def torch_rate(cell: str, names, vocab, args) -> float:
    import torch

    torch.manual_seed(0)
    rnn_class = torch.nn.RNN if cell == "rnn" else torch.nn.GRU
    rnn = rnn_class(vocab.size, args.hidden)
    head = torch.nn.Linear(args.hidden, vocab.size)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    work = batches(names, vocab, args.batch, args.steps + args.warmup, np.random.default_rng(1))
    from chemgen.model.vocab import batch_from_codes

    chars = 0
    for i, (codes, lengths, rows) in enumerate(work):
        if i == args.warmup:
            start, chars = time.perf_counter(), 0
        inputs, targets, mask = (torch.from_numpy(a) for a in batch_from_codes(codes[rows], lengths[rows]))
        x = torch.nn.functional.one_hot(inputs.long(), vocab.size).float()  # (T, B, V)
        out, _ = rnn(x)  # (T, B, H)
        logits = head(out)  # (T, B, V)
        losses = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab.size), targets.reshape(-1).long(), reduction="none")
        loss = (losses * mask.reshape(-1)).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optimizer.step()
        chars += int(lengths[rows].sum() + len(rows))
    return chars / (time.perf_counter() - start)


def seed_rate(names, vocab, args) -> float:
    """The seed's loop: one name per step, one-hot column vectors, float64."""
    params = seed.initialize_parameters(args.hidden, vocab.size, vocab.size)
    a_prev = np.zeros((args.hidden, 1))
    start, chars, count = time.perf_counter(), 0, max(20, args.steps // 2)
    for name in names[:count]:
        X = [None] + [vocab.char_to_ix[c] for c in name]
        Y = X[1:] + [0]
        _, _, a_prev = seed.optimize(X, Y, a_prev, params, 0.01)
        chars += len(name) + 1
    return chars / (time.perf_counter() - start)


def measure(cell: str, threads: int, names, vocab, args) -> tuple[float, float, float]:
    """(chemgen chars/s, torch chars/s, sgemm FLOP/s), best of the alternating rounds, at ``threads`` a side."""
    import torch  # noqa: F401  (loaded before the pools are pinned, so its pools are held too)

    ours = peer = peak = 0.0
    with pinned_threads(threads):
        for _ in range(args.rounds):  # alternate, so a busy moment does not favour one side
            peak = max(peak, sgemm_peak())
            ours = max(ours, chemgen_rate(cell, names, vocab, args, threads))
            peer = max(peer, torch_rate(cell, names, vocab, args))
    return ours, peer, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=thread_list, default=[1, 2],
                        help="thread counts, each a side, comma-separated (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side is kept")
    args = parser.parse_args()
    names = corpus(mean_length=40)
    vocab = Vocab.from_names(names)
    with pinned_threads(1):
        seed_cps = seed_rate(names, vocab, args)
    rows, peaks = [], {threads: 0.0 for threads in args.threads}
    for cell in ("rnn", "gru"):
        row: list = [cell]
        for threads in args.threads:
            ours, peer, peak = measure(cell, threads, names, vocab, args)
            limit = peak / flops_per_char(cell, args.hidden, vocab.size)
            row += [ours, peer, ours / peer, f"{ours / limit:.0%} / {peer / limit:.0%}"]
            peaks[threads] = max(peaks[threads], peak)
        rows.append((*row, row[1] / seed_cps))
    print(f"training, hidden {args.hidden}, batch {args.batch}, ~40 chars/name, Adam, best of {args.rounds} "
          f"alternating rounds; seed-style loop (vanilla, one name per step, one thread) {seed_cps:,.0f} chars/s; "
          f"sgemm {', '.join(f'{p / 1e9:.1f} GFLOP/s at {t} thread(s)' for t, p in peaks.items())}; "
          f"load average {os.getloadavg()[0]:.2f}")
    header = ["cell"]
    for t in args.threads:
        header += [f"chemgen {t}t chars/s", f"torch {t}t chars/s", f"chemgen/torch {t}t",
                   f"{t}t share of limit (chemgen / torch)"]
    print_table(header + [f"chemgen {args.threads[0]}t / seed"], rows)


if __name__ == "__main__":
    main()
