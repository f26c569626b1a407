"""Learning curve: chemgen's training set-up against PyTorch's, per step and per second.

This compares set-ups, not only learners: chemgen's initialisation and
learning-rate schedule (constant, cosine decay over the last steps) against a
PyTorch model with its default initialisation at a constant rate. A third run,
"torch, chemgen's set-up", gives PyTorch chemgen's initial weights (copied:
embedding, every layer, output bias at the characters' frequencies) and its
schedule (``learning_rate_at``: warm-up, decay), so that row differs from
chemgen's only in the learner (the same model, data, optimiser and steps);
at step 0 its held-out loss must equal chemgen's, which is checked.

Same corpus (a seeded random subset of datasets/<corpus>/train.txt, lower-cased,
and held-out names from valid.txt), same architecture size, batch, optimiser
(Adam, global-norm clipping at 5), step count and minibatches (PyTorch draws
the very rows chemgen draws). chemgen runs as ``chemgen train`` with default
flags would, except for the sizes given here (and any ``--set key=value``);
PyTorch with its defaults is the 30-line model a newcomer writes:
``nn.Embedding(V, E)`` → ``nn.GRU(E, H)`` → ``nn.Linear(H, V)``, default
initialisation, constant learning rate, packed sequences.

All run in alternating chunks of ``--every`` steps (chemgen's chunk, then each
PyTorch run's on the same rows), so a busy moment on the machine hits all; only
the training steps are timed, not the held-out evaluations. Every BLAS and
OpenMP pool is held to ``--threads`` threads (checked), and chemgen deals each
minibatch to that many threads (``chemgen train --threads``). Per-step figures
do not depend on machine load; per-second ones do. On a busy machine two
threads per side can stall for seconds at a time (one loaded run: 50 steps in
92 s instead of 4 s), so run one thread a side there:

    python bench/learning_curve.py [--steps 600] [--hidden 128] [--batch 64] [--every 50] [--threads 1]
    python bench/learning_curve.py --set embed=0 ...                   # a further chemgen setting
    python bench/learning_curve.py --no-torch --set embed=0 --set weight_init=seed --set decay_share=1.0  # old
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import ROOT, parse_setting, pinned_threads, print_table, torch_modules  # noqa: E402
from chemgen.model import train as chemgen_train  # noqa: E402
from chemgen.model.config import ModelConfig, TrainConfig, split_settings  # noqa: E402
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
        model, training = split_settings(settings)
        self.model, self.config = ModelConfig(**model), TrainConfig(**training)
        self.rng = np.random.default_rng(self.config.random_state)
        self.train = chemgen_train._prepare(self.model, self.config, train_names, valid_names, self.rng)
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
    """Embedding (or one-hot input) -> GRU/RNN/LSTM -> Linear in PyTorch, Adam, norm clipping.

    The cell, size and layers are those of ``ours`` (a ChemgenRun not yet trained). With ``same_setup`` False:
    PyTorch's default initialisation at a constant learning rate; True: ours's initial weights copied and its
    learning rate at each step.
    """

    def __init__(self, args, vocab: Vocab, train_names, valid_names, ours: "ChemgenRun", same_setup: bool):
        import torch

        self.torch, self.chemgen = torch, ours if same_setup else None
        torch.manual_seed(args.seed)
        net = ours.train.learned.config  # cell, size and layers as chemgen's
        V, H = vocab.size, net.hidden_size
        if not same_setup:
            E = args.torch_embed or H
            rnn_class = {"gru": torch.nn.GRU, "rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[net.cell]
            self.embed, self.rnn = torch.nn.Embedding(V, E), rnn_class(E, H, num_layers=net.num_layers)
            self.head = torch.nn.Linear(H, V)  # created in this order, so a seed draws the weights it always drew
        else:
            self.embed, self.rnn, self.head = torch_modules(net, ours.train.learned.params, fold_embedding=False)
        modules = [m for m in (self.embed, self.rnn, self.head) if m is not None]
        self.params = [p for m in modules for p in m.parameters()]
        self.optimizer = torch.optim.Adam(self.params, lr=args.lr)
        self.clip, self.V, self.step = args.clip, V, 0
        self.codes, self.lengths = vocab.encode_padded(train_names)
        self.valid = vocab.encode_padded(sorted(valid_names, key=len, reverse=True))

    def _loss(self, codes, lengths, reduction_sum: bool = False):
        torch = self.torch
        order = np.argsort(-lengths, kind="stable")
        inputs, targets, mask = (torch.from_numpy(a) for a in batch_from_codes(codes[order], lengths[order]))
        if self.embed is None:  # chemgen without an embedding: one-hot characters
            x = torch.nn.functional.one_hot(inputs.long(), self.V).float()  # (T, B, V)
        else:
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
            if self.chemgen is not None:
                for group in self.optimizer.param_groups:
                    group["lr"] = chemgen_train.learning_rate_at(self.chemgen.config, self.step)
            loss = self._loss(self.codes[rows], self.lengths[rows])
            self.optimizer.zero_grad()
            loss.backward()
            self.torch.nn.utils.clip_grad_norm_(self.params, self.clip)
            self.optimizer.step()
            self.step += 1

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


PEERS = {"torch": "torch, PyTorch's defaults", "torch-setup": "torch, chemgen's set-up"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="systematic")
    parser.add_argument("--train-names", type=int, default=20000)
    parser.add_argument("--valid-names", type=int, default=2000)
    parser.add_argument("--cell", default="gru", choices=["rnn", "gru", "lstm"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--torch-embed", type=int, default=0,
                        help="embedding width of PyTorch with its defaults (default: hidden)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=5.0)
    parser.add_argument("--every", type=int, default=50, help="steps per chunk; held-out loss after each")
    parser.add_argument("--threads", type=int, default=2, help="threads of each side (BLAS, OpenMP, chemgen's parts)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a further CharRNN setting for chemgen (e.g. lr_decay=true, embed=0)")
    parser.add_argument("--no-torch", action="store_true", help="chemgen only (per-step curve)")
    args = parser.parse_args()
    if not args.no_torch:
        import torch  # noqa: F401  (loaded before the threads are pinned, so its pools are held too)
    with pinned_threads(args.threads):
        run(args)


def run(args) -> None:
    train_names, valid_names = load_corpus(args.corpus, args.train_names, args.valid_names, args.seed)
    settings = dict(cell=args.cell, hidden_size=args.hidden, batch_size=args.batch, steps=args.steps,
                    learning_rate=args.lr, clip="norm", clip_value=args.clip, optimizer="adam", n_print=0,
                    random_state=args.seed, threads=args.threads)
    settings.update(parse_setting(s) for s in args.set)
    ours = ChemgenRun(settings, train_names, valid_names)
    vocab = ours.train.learned.vocab
    peers = {} if args.no_torch else {
        "torch": TorchRun(args, vocab, train_names, valid_names, ours, same_setup=False),
        "torch-setup": TorchRun(args, vocab, train_names, valid_names, ours, same_setup=True),
    }
    curves: dict[str, list[tuple[int, float, float]]] = {"chemgen": [(0, 0.0, ours.held_out())]}
    for key, peer in peers.items():
        curves[key] = [(0, 0.0, peer.held_out())]
    if peers and abs(curves["torch-setup"][0][2] - curves["chemgen"][0][2]) > 1e-3:
        sys.exit(f"PyTorch given chemgen's initial weights starts at {curves['torch-setup'][0][2]:.5f} nats/char, "
                 f"chemgen at {curves['chemgen'][0][2]:.5f}: the copy is not the same model")
    clock = dict.fromkeys(curves, 0.0)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    while ours.step < args.steps:
        chunk = min(args.every, args.steps - ours.step)
        start = time.perf_counter()
        rows = ours.run(chunk)
        clock["chemgen"] += time.perf_counter() - start
        curves["chemgen"].append((ours.step, clock["chemgen"], ours.held_out()))
        for key, peer in peers.items():
            start = time.perf_counter()
            peer.run(rows)
            clock[key] += time.perf_counter() - start
            curves[key].append((ours.step, clock[key], peer.held_out()))
        print(f"step {ours.step}: " + "  ".join(f"{k} {c[-1][2]:.4f} ({c[-1][1]:.1f} s)" for k, c in curves.items()),
              file=sys.stderr, flush=True)
    report(args, ours, settings, train_names, valid_names, curves, started)


def report(args, ours, settings, train_names, valid_names, curves, started) -> None:
    shown = {k: v for k, v in settings.items() if k not in ("n_print",)}
    print(f"{args.corpus}: {len(train_names)} training names (lower-cased), {len(valid_names)} held out; "
          f"{args.cell} {args.hidden}, batch {args.batch}, Adam {args.lr:g}, clip norm {args.clip:g}, "
          f"{args.steps} steps, {args.threads} thread(s) a side; started {started}, load average "
          f"{os.getloadavg()[0]:.2f} at the end")
    print(f"chemgen settings: {shown}")
    peers = [k for k in curves if k != "chemgen"]
    if peers:
        config, model = ours.config, ours.model
        print(f"{PEERS['torch']}: Embedding({ours.train.learned.vocab.size}, {args.torch_embed or args.hidden}) -> "
              f"{model.cell.upper()} ({model.num_layers} layer(s)) -> Linear, PyTorch's default initialisation, "
              f"constant lr")
        print(f"{PEERS['torch-setup']}: chemgen's initial weights ({model.weight_init}, embedding {model.embed}) "
              f"and learning rate at each step (warm-up {config.warmup}, decay {config.lr_decay} over the last "
              f"{config.decay_share:g} of the steps)")
        print("This compares training set-ups: chemgen against PyTorch's defaults is set-up and learner together; "
              "against chemgen's set-up in PyTorch, the learner alone.")
    print("\nheld-out nats/char at equal steps")
    rows = []
    for i, (step, seconds, loss) in enumerate(curves["chemgen"]):
        row = [step, f"{loss:.4f}", f"{seconds:.1f}"]
        for key in peers:
            _, t_seconds, t_loss = curves[key][i]
            row += [f"{t_loss:.4f}", f"{t_seconds:.1f}", f"{loss / t_loss:.3f}"]
        rows.append(tuple(row))
    header = ["step", "chemgen", "chemgen s"]
    for key in peers:
        header += [PEERS[key], "s", f"chemgen / {key}"]
    print_table(header, rows)
    for key in peers:
        ours_s, peer_s = curves["chemgen"][-1][1], curves[key][-1][1]
        total = min(ours_s, peer_s)
        print(f"\nheld-out nats/char at equal training seconds against {PEERS[key]} (training time: chemgen "
              f"{ours_s:.1f} s, {key} {peer_s:.1f} s; speed ratio {peer_s / ours_s:.2f}x)")
        rows = []
        for share in (0.25, 0.5, 0.75, 1.0):
            seconds = share * total
            a, b = at_time(curves["chemgen"], seconds), at_time(curves[key], seconds)
            rows.append((f"{seconds:.1f}", f"{a:.4f}", f"{b:.4f}", f"{a / b:.3f}"))
        print_table(["seconds", "chemgen", key, f"chemgen / {key}"], rows)


if __name__ == "__main__":
    main()
