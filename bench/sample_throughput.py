"""Sampling throughput: chemgen's batched NumPy sampler against a batched PyTorch sampler of the same model.

Both sides run the same weights (copied into torch.nn.GRU/RNN, all layers, and a
Linear head), draw whole batches one character per step until every name has
ended, at temperature 1. Prints names per second and the ratio, plus the
seed-style one-name-at-a-time sampler.

    python bench/sample_throughput.py [--model systematic] [--names 4096] [--threads 2] [--rounds 1]

--threads is the thread count of both sides (chemgen deals each batch's rows to that many threads);
with --rounds N the two sides take turns N times and each keeps its best rate (steadier on a busy machine).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import print_table  # noqa: E402
from chemgen import load
from chemgen.model import network, seed  # noqa: E402


def chemgen_rate(model, count: int, threads: int) -> float:
    start = time.perf_counter()
    model.sample(count, random_state=0, max_length=120, threads=threads)
    return count / (time.perf_counter() - start)


def torch_rnn(model):
    """torch.nn.GRU/RNN (all layers) and a Linear head holding the model's weights."""
    import torch

    config, p = model.net_config_, model.params_
    H, V, L = config.hidden_size, config.vocab_size, config.num_layers
    rnn = (torch.nn.GRU if config.cell == "gru" else torch.nn.RNN)(V, H, num_layers=L)
    head = torch.nn.Linear(H, V)
    with torch.no_grad():
        for k in range(L):
            q = network.input_layer_params(config, p, k)  # with an embedding, layer 0's input is folded into (G, V)
            if config.cell == "gru":
                tensors = {"weight_ih": q["Wx"], "weight_hh": q["Wh"], "bias_ih": q["bx"], "bias_hh": q["bh"]}
            else:
                tensors = {"weight_ih": q["Wax"], "weight_hh": q["Waa"], "bias_ih": q["ba"],
                           "bias_hh": np.zeros(H, np.float32)}
            for name, value in tensors.items():
                getattr(rnn, f"{name}_l{k}").copy_(torch.from_numpy(np.ascontiguousarray(value)))
        head.weight.copy_(torch.from_numpy(p["Wya"]))
        head.bias.copy_(torch.from_numpy(p["by"]))
    return rnn, head


def torch_rate(model, count: int, threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rnn, head = torch_rnn(model)
    V, L, H = model.net_config_.vocab_size, model.net_config_.num_layers, model.net_config_.hidden_size
    start = time.perf_counter()
    with torch.no_grad():
        h = torch.zeros(L, count, H)
        token = torch.zeros(count, dtype=torch.long)
        done = torch.zeros(count, dtype=torch.bool)
        logp = torch.zeros(count)
        for _ in range(121):
            out, h = rnn(torch.nn.functional.one_hot(token, V).float()[None], h)
            logprobs = torch.log_softmax(head(out[0]), dim=1)
            token = torch.multinomial(logprobs.exp(), 1)[:, 0]
            logp += torch.where(done, 0.0, logprobs.gather(1, token[:, None])[:, 0])
            done |= token == 0
            if bool(done.all()):
                break
    return count / (time.perf_counter() - start)


def seed_rate(model, count: int) -> float:
    """One name at a time with column vectors (vanilla cell only: the seed has no GRU)."""
    config = model.net_config_
    rng = np.random.default_rng(0)
    p = network.init_params(network.NetConfig("rnn", config.hidden_size, 1, config.vocab_size, "float64"), rng)
    params = {"Wax": p["l0.Wax"], "Waa": p["l0.Waa"], "Wya": p["Wya"], "ba": p["l0.ba"][:, None], "by": p["by"][:, None]}
    start = time.perf_counter()
    for _ in range(count):
        seed.sample(params, model.vocab_.char_to_ix, rng, max_length=120)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model file or shipped name (default: the shipped default)")
    parser.add_argument("--names", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2, help="threads of each side (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the sides this many times, keep each best")
    args = parser.parse_args()
    model = load(args.model)
    if model.net_config_.cell == "lstm":
        sys.exit("this benchmark copies rnn/gru models into PyTorch; pick such a model with --model")
    chemgen_rate(model, 256, args.threads)  # warm-up
    ours = peer = 0.0
    for _ in range(args.rounds):
        ours = max(ours, chemgen_rate(model, args.names, args.threads))
        peer = max(peer, torch_rate(model, args.names, args.threads))
    seed_nps = seed_rate(model, 100)
    config = model.net_config_
    print(f"sampling {args.names} names, {config.num_layers}-layer {config.cell} hidden {config.hidden_size}, "
          f"temperature 1, {args.threads} thread(s) a side; seed-style loop (1-layer vanilla, one name at a time) {seed_nps:,.0f} names/s")
    print_table(["sampler", "names/s", "vs torch"], [("chemgen", ours, ours / peer), ("torch", peer, 1.0),
                                                     ("seed-style", seed_nps, seed_nps / peer)])


if __name__ == "__main__":
    main()
