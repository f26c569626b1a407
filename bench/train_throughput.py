"""Training throughput: chemgen's NumPy char-RNN against PyTorch (CPU) and the seed-style loop.

Same architecture on both sides: one recurrent layer (vanilla RNN or GRU) of
256 units over one-hot characters (chemgen's row lookup is the same
arithmetic), a linear softmax output, masked cross-entropy, Adam, global-norm
clipping; batches of 128 names of ~40 characters. Prints characters per second
(real, unpadded characters incl. the end token) and the ratios, with chemgen
on one thread and with its minibatch dealt to ``--chemgen-threads`` threads,
and each rate's share of the BLAS-bound limit: the sgemm rate measured in the
same run divided by the matrix-product arithmetic per character (forward,
backward and weight gradients of the recurrent and output products).

    python bench/train_throughput.py [--steps 30] [--hidden 256] [--batch 128] [--threads 2] [--chemgen-threads 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import corpus, print_table  # noqa: E402
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
    config = TrainConfig(cell=cell, hidden_size=args.hidden, batch_size=args.batch, random_state=0, threads=threads,
                         embed=0)
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
    torch.set_num_threads(args.threads)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side is kept")
    parser.add_argument("--chemgen-threads", type=int, default=2, help="chemgen's threads per minibatch (--threads)")
    args = parser.parse_args()
    names = corpus(mean_length=40)
    vocab = Vocab.from_names(names)
    rows = []
    seed_cps = seed_rate(names, vocab, args)
    peak = 0.0
    for cell in ("rnn", "gru"):
        ours, split, peer = 0.0, 0.0, 0.0
        for _ in range(args.rounds):  # alternate, so a busy moment does not favour one side
            peak = max(peak, sgemm_peak())
            ours = max(ours, chemgen_rate(cell, names, vocab, args))
            split = max(split, chemgen_rate(cell, names, vocab, args, args.chemgen_threads))
            peer = max(peer, torch_rate(cell, names, vocab, args))
        limit = peak / flops_per_char(cell, args.hidden, vocab.size)
        rows.append((cell, ours, split, peer, split / peer, f"{ours / limit:.0%}", f"{split / limit:.0%}",
                     f"{peer / limit:.0%}", split / seed_cps))
    print(f"training, hidden {args.hidden}, batch {args.batch}, ~40 chars/name, Adam, best of {args.rounds} "
          f"alternating rounds; seed-style loop (vanilla, one name per step) {seed_cps:,.0f} chars/s; "
          f"sgemm {peak / 1e9:.1f} GFLOP/s; load average {os.getloadavg()[0]:.2f}")
    t = args.chemgen_threads
    print_table(["cell", "chemgen chars/s", f"chemgen {t} threads", "torch chars/s", f"chemgen {t}t/torch",
                 "share of limit", f"{t}t share", "torch share", f"{t}t/seed"], rows)


if __name__ == "__main__":
    main()
