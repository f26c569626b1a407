"""Learning curve: chemgen's NumPy learner against PyTorch, per step and per second.

Same corpus (a seeded random subset of datasets/<corpus>/train.txt, lower-cased,
and held-out names from valid.txt), same architecture size, batch, optimiser
(Adam, global-norm clipping at 5), step count and minibatches (PyTorch draws
the very rows chemgen draws). chemgen runs as ``chemgen train`` with default
flags would, except for the sizes given here (and any ``--set key=value``);
PyTorch is the 30-line model a newcomer writes: ``nn.Embedding(V, E)`` →
``nn.GRU(E, H)`` → ``nn.Linear(H, V)``, default initialisation, constant
learning rate, packed sequences.

Both run in alternating chunks of ``--every`` steps (chemgen's chunk, then
PyTorch's on the same rows), so a busy moment on the machine hits both; only
the training steps are timed, not the held-out evaluations. Per-step figures
do not depend on machine load; per-second ones do. On a busy machine two BLAS
or PyTorch threads per side can stall for seconds at a time (one loaded run:
50 steps in 92 s instead of 4 s), so run both sides on one thread there:

    python bench/learning_curve.py [--steps 600] [--hidden 128] [--batch 64] [--every 50] [--set embed=0 ...]
    OPENBLAS_NUM_THREADS=1 python bench/learning_curve.py --threads 1     # one core each
    python bench/learning_curve.py --no-torch --set embed=0 --set weight_init=seed --set decay_share=1.0  # the old defaults
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import ROOT, parse_setting, print_table  # noqa: E402
from chemgen.model import train as chemgen_train  # noqa: E402
from chemgen.model.config import TrainConfig  # noqa: E402
from chemgen.model.vocab import Vocab, batch_from_codes  # noqa: E402


def load_corpus(name: str, n_train: int, n_valid: int, seed: int) -> tuple[list[str], list[str]]:
    """A seeded random subset of the corpus's training names and of its validation names, lower-cased."""
    folder = ROOT / "datasets" / name
    rng = np.random.default_rng(seed)

    def subset(path, count):
        names = sorted({n.lower() for n in path.read_text(encoding="utf-8").split("\n") if n})
        return [names[i] for i in sorted(rng.permutation(len(names))[:count])]

    return subset(folder / "train.txt", n_train), subset(folder / "valid.txt", n_valid)


class ChemgenRun:
    """``chemgen train``'s loop (train._loop) stepped in chunks: same draws, same learning-rate schedule."""

    def __init__(self, settings: dict, train_names, valid_names):
        self.config = TrainConfig(**settings)
        self.rng = np.random.default_rng(self.config.random_state)
        self.train = chemgen_train._prepare(self.config, train_names, valid_names, self.rng)
        self.train.pool = chemgen_train.ThreadParts(self.config.threads) if self.config.threads > 1 else None
        self.codes, self.lengths = self.train.learned.vocab.encode_padded(train_names)
        self.valid = self.train.learned.vocab.encode_padded(sorted(valid_names, key=len, reverse=True))
        self.step = 0

    def run(self, steps: int) -> list[np.ndarray]:
        drawn = []
        train = self.train
        for _ in range(steps):
            train.optimizer.learning_rate = chemgen_train.learning_rate_at(self.config, self.step)
            rows = self.rng.integers(0, len(self.lengths), size=self.config.batch_size)
            chemgen_train.train_step(self.config, train.learned, train.optimizer, self.codes, self.lengths, rows,
                                     train.workspace, self.rng, train.pool)
            drawn.append(rows)
            self.step += 1
        return drawn

    def held_out(self) -> float:
        return float(chemgen_train.mean_loss(self.train.learned.config, self.train.learned.params, *self.valid))


class TorchRun:
    """Embedding -> GRU/RNN/LSTM -> Linear in PyTorch, default initialisation, Adam, norm clipping."""

    def __init__(self, args, vocab: Vocab, train_names, valid_names):
        import torch

        self.torch = torch
        torch.manual_seed(args.seed)
        torch.set_num_threads(args.threads)
        V, E, H = vocab.size, args.torch_embed or args.hidden, args.hidden
        rnn_class = {"gru": torch.nn.GRU, "rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[args.cell]
        self.embed, self.rnn, self.head = torch.nn.Embedding(V, E), rnn_class(E, H), torch.nn.Linear(H, V)
        self.params = [*self.embed.parameters(), *self.rnn.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.Adam(self.params, lr=args.lr)
        self.clip, self.V = args.clip, V
        self.codes, self.lengths = vocab.encode_padded(train_names)
        self.valid = vocab.encode_padded(sorted(valid_names, key=len, reverse=True))

    def _loss(self, codes, lengths, reduction_sum: bool = False):
        torch = self.torch
        order = np.argsort(-lengths, kind="stable")
        inputs, targets, mask = (torch.from_numpy(a) for a in batch_from_codes(codes[order], lengths[order]))
        x = self.embed(inputs.long())  # (T, B, E)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.from_numpy(lengths[order] + 1), enforce_sorted=True)
        out, _ = self.rnn(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])  # (T, B, H)
        logits = self.head(out)  # (T, B, V)
        losses = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), targets.reshape(-1).long(),
                                                   reduction="none")
        total = (losses * mask.reshape(-1)).sum()
        return total if reduction_sum else total / mask.sum()

    def run(self, rows_list) -> None:
        for rows in rows_list:
            loss = self._loss(self.codes[rows], self.lengths[rows])
            self.optimizer.zero_grad()
            loss.backward()
            self.torch.nn.utils.clip_grad_norm_(self.params, self.clip)
            self.optimizer.step()

    def held_out(self) -> float:
        codes, lengths = self.valid
        total = 0.0
        with self.torch.no_grad():
            for start in range(0, len(lengths), 1024):
                total += float(self._loss(codes[start : start + 1024], lengths[start : start + 1024], True))
        return total / float((lengths + 1).sum())


def at_time(curve: list[tuple[int, float, float]], seconds: float) -> float:
    """Held-out loss at a wall-clock second, linear between evaluations: curve rows (step, seconds, loss)."""
    times, losses = [c[1] for c in curve], [c[2] for c in curve]
    return float(np.interp(seconds, times, losses)) if seconds <= times[-1] else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="systematic")
    parser.add_argument("--train-names", type=int, default=20000)
    parser.add_argument("--valid-names", type=int, default=2000)
    parser.add_argument("--cell", default="gru", choices=["rnn", "gru", "lstm"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--torch-embed", type=int, default=0, help="PyTorch's embedding width (default: hidden)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=5.0)
    parser.add_argument("--every", type=int, default=50, help="steps per chunk; held-out loss after each")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a further CharRNN setting for chemgen (e.g. lr_decay=true, embed=0)")
    parser.add_argument("--no-torch", action="store_true", help="chemgen only (per-step curve)")
    args = parser.parse_args()

    train_names, valid_names = load_corpus(args.corpus, args.train_names, args.valid_names, args.seed)
    settings = dict(cell=args.cell, hidden_size=args.hidden, batch_size=args.batch, steps=args.steps,
                    learning_rate=args.lr, clip="norm", clip_value=args.clip, optimizer="adam", n_print=0,
                    random_state=args.seed)
    settings.update(parse_setting(s) for s in args.set)
    ours = ChemgenRun(settings, train_names, valid_names)
    peer = None if args.no_torch else TorchRun(args, ours.train.learned.vocab, train_names, valid_names)
    curves: dict[str, list[tuple[int, float, float]]] = {"chemgen": [(0, 0.0, ours.held_out())]}
    if peer:
        curves["torch"] = [(0, 0.0, peer.held_out())]
    clock = {"chemgen": 0.0, "torch": 0.0}
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    while ours.step < args.steps:
        chunk = min(args.every, args.steps - ours.step)
        start = time.perf_counter()
        rows = ours.run(chunk)
        clock["chemgen"] += time.perf_counter() - start
        curves["chemgen"].append((ours.step, clock["chemgen"], ours.held_out()))
        if peer:
            start = time.perf_counter()
            peer.run(rows)
            clock["torch"] += time.perf_counter() - start
            curves["torch"].append((ours.step, clock["torch"], peer.held_out()))
        print(f"step {ours.step}: " + "  ".join(f"{k} {c[-1][2]:.4f} ({c[-1][1]:.1f} s)" for k, c in curves.items()),
              file=sys.stderr, flush=True)

    shown = {k: v for k, v in settings.items() if k not in ("n_print",)}
    print(f"{args.corpus}: {len(train_names)} training names (lower-cased), {len(valid_names)} held out; "
          f"{args.cell} {args.hidden}, batch {args.batch}, Adam {args.lr:g}, clip norm {args.clip:g}, "
          f"{args.steps} steps; started {started}, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"chemgen settings: {shown}")
    if peer:
        print(f"torch: Embedding({ours.train.learned.vocab.size}, {args.torch_embed or args.hidden}) -> "
              f"{args.cell.upper()}({args.torch_embed or args.hidden}, {args.hidden}) -> Linear, "
              f"default init, constant lr, {args.threads} threads")
    print("\nheld-out nats/char at equal steps")
    rows = []
    for i, (step, seconds, loss) in enumerate(curves["chemgen"]):
        row = [step, f"{loss:.4f}", f"{seconds:.1f}"]
        if peer:
            _, t_seconds, t_loss = curves["torch"][i]
            row += [f"{t_loss:.4f}", f"{t_seconds:.1f}", f"{loss / t_loss:.3f}"]
        rows.append(tuple(row))
    header = ["step", "chemgen", "chemgen s"] + (["torch", "torch s", "chemgen/torch"] if peer else [])
    print_table(header, rows)
    if not peer:
        return
    total = min(curves["chemgen"][-1][1], curves["torch"][-1][1])
    ours_s, peer_s = curves["chemgen"][-1][1], curves["torch"][-1][1]
    print(f"\nheld-out nats/char at equal training seconds (training time: chemgen {ours_s:.1f} s, "
          f"torch {peer_s:.1f} s; speed ratio {peer_s / ours_s:.2f}x)")
    rows = []
    for share in (0.25, 0.5, 0.75, 1.0):
        seconds = share * total
        a, b = at_time(curves["chemgen"], seconds), at_time(curves["torch"], seconds)
        rows.append((f"{seconds:.1f}", f"{a:.4f}", f"{b:.4f}", f"{a / b:.3f}"))
    print_table(["seconds", "chemgen", "torch", "chemgen/torch"], rows)


if __name__ == "__main__":
    main()
