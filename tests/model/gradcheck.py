"""Helpers for the gradient tests: centred finite differences and a small float64 network off its zero biases."""
import numpy as np

from chemgen.model import network


def numeric_gradient(f, array, eps=1e-6):
    """d f() / d array by centred differences, changing array in place and restoring it."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + eps
        plus = f()
        array[index] = old - eps
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def perturbed_params(cell, layers, vocab, seed_=0, embed=0, init=None):
    """A float64 network of 5 units (and an embedding of that width, if given) with every parameter moved."""
    config = network.NetConfig(cell=cell, hidden_size=5, num_layers=layers, vocab_size=vocab.size, dtype="float64",
                               embed=embed)
    rng = np.random.default_rng(seed_)
    params = network.init_params(config, rng, init)
    for key in params:  # move off the zero biases so every path carries gradient
        params[key] += rng.normal(0, 0.3, params[key].shape)
    return config, params


def assert_backward_matches(config, params, vocab, names):
    """network.backward's gradient of every parameter equals the finite-difference one (relative 1e-6)."""
    inputs, targets, mask = vocab.encode_batch(names)
    _, _, cache = network.forward(config, params, inputs, targets, mask)
    grads = network.backward(config, params, targets, mask, cache)
    assert set(grads) == set(params)
    for key, value in params.items():
        numeric = numeric_gradient(lambda: network.forward(config, params, inputs, targets, mask)[1], value)
        scale = max(1e-8, np.abs(numeric).max())
        assert np.abs(numeric - grads[key]).max() / scale < 1e-6, key
