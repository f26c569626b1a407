"""The goal-directed (DAP) loss and its per-name weights in the backward pass, against finite differences."""
import numpy as np
import pytest

from chemgen.model import network
from chemgen.model.cells import CELLS
from chemgen.model.vocab import Vocab
from gradcheck import numeric_gradient, perturbed_params

PACKED = ["dcba", "abc", "cab", "b"]  # longest first, as the optimize loop batches them


def test_dap_loss_weights_are_minus_its_derivative():
    rng = np.random.default_rng(0)
    agent, prior, scores = rng.normal(-20, 5, 6), rng.normal(-20, 5, 6), rng.random(6)
    loss, weights = network.dap_loss(agent, prior, scores, sigma=4.0)
    assert loss == pytest.approx(np.mean((prior + 4.0 * scores - agent) ** 2))
    numeric = numeric_gradient(lambda: network.dap_loss(agent, prior, scores, 4.0)[0], agent)
    assert np.allclose(-weights, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_dap_gradient_through_the_network_matches_finite_differences(cell):
    vocab = Vocab.from_names(PACKED)
    config, params = perturbed_params(cell, 2, vocab)
    inputs, targets, mask = vocab.encode_batch(PACKED)
    rng = np.random.default_rng(1)
    prior, scores, sigma = rng.normal(-8, 1, len(PACKED)), rng.random(len(PACKED)), 3.0

    def loss() -> float:
        _, _, cache = network.forward(config, params, inputs, targets, mask)
        return network.dap_loss(cache.name_logp, prior, scores, sigma)[0]

    _, _, cache = network.forward(config, params, inputs, targets, mask)
    _, weights = network.dap_loss(cache.name_logp, prior, scores, sigma)
    grads = network.backward(config, params, targets, mask, cache, n_chars=1.0, name_weights=weights)
    for key, value in params.items():
        numeric = numeric_gradient(loss, value)
        scale = max(1e-8, np.abs(numeric).max())
        assert np.abs(numeric - grads[key]).max() / scale < 1e-6, key


def test_unit_name_weights_leave_the_cross_entropy_gradient_unchanged():
    vocab = Vocab.from_names(PACKED)
    config, params = perturbed_params("gru", 1, vocab)
    inputs, targets, mask = vocab.encode_batch(PACKED)
    _, _, cache = network.forward(config, params, inputs, targets, mask)
    plain = {k: v.copy() for k, v in network.backward(config, params, targets, mask, cache).items()}
    _, _, cache = network.forward(config, params, inputs, targets, mask)
    weighted = network.backward(config, params, targets, mask, cache, name_weights=np.ones(len(PACKED)))
    for key in plain:
        assert np.allclose(plain[key], weighted[key]), key


def test_likelihood_penalty_weights_are_minus_its_derivative():
    agent = np.random.default_rng(2).normal(-20, 5, 6)
    penalty, weights = network.likelihood_penalty(agent, 5e3)
    assert penalty == pytest.approx(5e3 * np.mean(-1 / agent))
    numeric = numeric_gradient(lambda: network.likelihood_penalty(agent, 5e3)[0], agent)
    assert np.allclose(-weights, numeric, rtol=1e-6, atol=1e-8)
    assert np.all(weights < 0)  # the penalty pushes every name's likelihood down, the likeliest hardest
    assert np.argmin(weights) == np.argmax(agent)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_dap_loss_with_the_likelihood_penalty_through_the_network_matches_finite_differences(cell):
    vocab = Vocab.from_names(PACKED)
    config, params = perturbed_params(cell, 2, vocab)
    inputs, targets, mask = vocab.encode_batch(PACKED)
    rng = np.random.default_rng(3)
    prior, scores, sigma, weight = rng.normal(-8, 1, len(PACKED)), rng.random(len(PACKED)), 3.0, 50.0

    def loss() -> float:
        _, _, cache = network.forward(config, params, inputs, targets, mask)
        return (network.dap_loss(cache.name_logp, prior, scores, sigma)[0]
                + network.likelihood_penalty(cache.name_logp, weight)[0])

    _, _, cache = network.forward(config, params, inputs, targets, mask)
    weights = (network.dap_loss(cache.name_logp, prior, scores, sigma)[1]
               + network.likelihood_penalty(cache.name_logp, weight)[1])
    grads = network.backward(config, params, targets, mask, cache, n_chars=1.0, name_weights=weights)
    for key, value in params.items():
        numeric = numeric_gradient(loss, value)
        scale = max(1e-8, np.abs(numeric).max())
        assert np.abs(numeric - grads[key]).max() / scale < 1e-6, key
