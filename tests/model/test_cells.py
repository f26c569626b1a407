"""Every cell's backward pass, and the output layer's, against centred finite differences in float64."""
import numpy as np
import pytest

from chemgen.model import network, seed
from chemgen.model.cells import CELLS, Workspace, recurrent_grad
from chemgen.model.vocab import Vocab
from gradcheck import assert_backward_matches, numeric_gradient, perturbed_params

NAMES = ["abc", "b", "dcba", "cab"]
PACKED = ["dcba", "abc", "cab", "b"]  # longest first: the loops skip finished rows


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("names", [NAMES, PACKED], ids=["padded", "packed"])
def test_backward_matches_finite_differences(cell, layers, names):
    vocab = Vocab.from_names(names)
    config, params = perturbed_params(cell, layers, vocab)
    assert_backward_matches(config, params, vocab, names)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("names", [NAMES, PACKED], ids=["padded", "packed"])
def test_backward_with_embedding_matches_finite_differences(cell, layers, names):
    """The embedding E (V, D) and the first layer's input weights (G, D), through the folded table."""
    vocab = Vocab.from_names(names)
    config, params = perturbed_params(cell, layers, vocab, embed=3)
    assert params["E"].shape == (vocab.size, 3) and params["l0." + CELLS[cell].input_keys[0]].shape[1] == 3
    assert_backward_matches(config, params, vocab, names)


def test_embedding_is_an_explicit_lookup_then_projection():
    """The folded table gives the same logits as looking up E's rows and projecting them."""
    vocab = Vocab.from_names(NAMES)
    config, params = perturbed_params("gru", 1, vocab, embed=4)
    inputs, targets, mask = vocab.encode_batch(NAMES)
    folded = network.forward(config, params, inputs, targets, mask)[0]
    cell = CELLS["gru"]
    p = network.layer_params(params, 0)
    X = params["E"][inputs]  # (T, B, D) embedded characters
    Hs, _, _ = cell.forward(p, X, cell.initial_state(len(NAMES), 5, np.float64))
    np.testing.assert_allclose(folded, Hs @ params["Wya"].T + params["by"], atol=1e-12)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_backward_through_dropout_matches_finite_differences(cell):
    vocab = Vocab.from_names(PACKED)
    config, params = perturbed_params(cell, 2, vocab)
    inputs, targets, mask = vocab.encode_batch(PACKED)

    def run():  # the same masks every call: a fresh generator with the same seed
        return network.forward(config, params, inputs, targets, mask, dropout=0.4, rng=np.random.default_rng(7))

    _, _, cache = run()
    assert len(cache.dropout_masks) == 2 and 0 < (cache.dropout_masks[0] == 0).mean() < 1
    grads = network.backward(config, params, targets, mask, cache)
    for key, value in params.items():
        numeric = numeric_gradient(lambda: run()[1], value)
        scale = max(1e-8, np.abs(numeric).max())
        assert np.abs(numeric - grads[key]).max() / scale < 1e-6, key


def test_dropout_only_while_training():
    vocab = Vocab.from_names(NAMES)
    config, params = perturbed_params("gru", 2, vocab)
    inputs, targets, mask = vocab.encode_batch(NAMES)
    plain = network.forward(config, params, inputs, targets, mask)[1]
    dropped = network.forward(config, params, inputs, targets, mask, dropout=0.5, rng=np.random.default_rng(0))[1]
    scoring = network.forward(config, params, inputs, targets, mask, train=False, dropout=0.5,
                              rng=np.random.default_rng(0))[1]
    assert dropped != plain and scoring == plain


def test_output_layer_gradient_alone():
    vocab = Vocab.from_names(NAMES)
    config, params = perturbed_params("rnn", 1, vocab, seed_=3)
    inputs, targets, mask = vocab.encode_batch(NAMES)
    _, _, cache = network.forward(config, params, inputs, targets, mask)
    grads = network.backward(config, params, targets, mask, cache)
    for key in ("Wya", "by"):
        numeric = numeric_gradient(lambda: network.forward(config, params, inputs, targets, mask)[1], params[key])
        np.testing.assert_allclose(grads[key], numeric, atol=1e-7)


def test_batched_vanilla_rnn_equals_the_seed_reference():
    """micrograd-style: the batched network and the seed's per-example loop agree on loss and gradients."""
    vocab = Vocab.from_names(NAMES)
    config, params = perturbed_params("rnn", 1, vocab, seed_=5)
    seed_params = {
        "Wax": params["l0.Wax"], "Waa": params["l0.Waa"], "Wya": params["Wya"],
        "ba": params["l0.ba"][:, None], "by": params["by"][:, None],
    }
    name = "dcba"
    X = [0] + vocab.encode(name).tolist()  # the boundary token as the first input
    Y = X[1:] + [0]
    loss, cache = seed.rnn_forward(X, Y, np.zeros((5, 1)), seed_params, vocab.size)
    seed_grads, _ = seed.rnn_backward(X, Y, seed_params, cache)
    inputs, targets, mask = vocab.encode_batch([name])
    _, mean_loss, ours = network.forward(config, params, inputs, targets, mask)
    grads = network.backward(config, params, targets, mask, ours)
    n = len(Y)
    assert mean_loss * n == pytest.approx(loss, rel=1e-10)
    for ours_key, seed_key in [("l0.Wax", "dWax"), ("l0.Waa", "dWaa"), ("Wya", "dWya")]:
        np.testing.assert_allclose(grads[ours_key] * n, seed_grads[seed_key], atol=1e-10)
    np.testing.assert_allclose(grads["l0.ba"] * n, seed_grads["dba"][:, 0], atol=1e-10)


def test_float32_is_the_default_and_preserved():
    vocab = Vocab.from_names(NAMES)
    config = network.NetConfig(cell="gru", hidden_size=4, vocab_size=vocab.size)
    params = network.init_params(config, np.random.default_rng(0))
    assert all(p.dtype == np.float32 for p in params.values())
    inputs, targets, mask = vocab.encode_batch(NAMES)
    logits, _, cache = network.forward(config, params, inputs, targets, mask)
    assert logits.dtype == np.float32
    assert all(g.dtype == np.float32 for g in network.backward(config, params, targets, mask, cache).values())


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_packed_and_padded_batches_agree(cell):
    vocab = Vocab.from_names(NAMES)
    config, params = perturbed_params(cell, 2, vocab)
    results = []
    for names in (NAMES, PACKED):
        inputs, targets, mask = vocab.encode_batch(names)
        assert (network.active_rows(mask) is None) == (names is NAMES)
        _, loss, cache = network.forward(config, params, inputs, targets, mask)
        results.append((loss, network.backward(config, params, targets, mask, cache)))
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert loss_a == pytest.approx(loss_b, rel=1e-12)
    for key in grads_a:
        np.testing.assert_allclose(grads_a[key], grads_b[key], atol=1e-12)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_every_cell_has_the_whole_protocol(cell):
    from chemgen.model.cells import Cell

    members = [name for name in vars(Cell) if not name.startswith("_")] + list(Cell.__annotations__)
    for member in set(members):
        assert hasattr(CELLS[cell], member), f"{cell} lacks {member}"
    assert CELLS[cell].name == cell


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_step_by_step_equals_the_whole_forward_pass(cell):
    vocab = Vocab.from_names(PACKED)
    config, params = perturbed_params(cell, 2, vocab)
    inputs, _, _ = vocab.encode_batch(PACKED)  # (T, B)
    logits, _, _ = network.forward(config, params, inputs, train=False)  # (T, B, V)
    states = network.initial_states(config, inputs.shape[1])
    for t in range(inputs.shape[0]):
        step, states = network.step_logits(config, params, inputs[t], states)  # (B, V)
        np.testing.assert_allclose(step, logits[t], atol=1e-12)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_sampled_logp_equals_the_score_for_every_cell(cell):
    from chemgen.model.modelfile import Learned
    from chemgen.model.sample import sample_names
    from chemgen.model.score import score_array

    vocab = Vocab.from_names(NAMES)
    config, params = perturbed_params(cell, 2, vocab)
    learned = Learned(config, params, vocab, np.zeros(0, dtype=np.uint64))
    samples = sample_names(learned, 20, temperature=1.5, max_length=12, random_state=0)
    np.testing.assert_allclose([s.logp for s in samples], score_array(learned, [s.name for s in samples]), rtol=1e-9)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_a_reused_workspace_gives_the_fresh_gradients(cell):
    """Buffers kept from a longer, wider minibatch do not leak into the next one."""
    vocab = Vocab.from_names(NAMES + ["abcdabcd"])
    config, params = perturbed_params(cell, 2, vocab)
    ws = Workspace()
    for names in (["abcdabcd", "dcba", "abc", "cab", "b"], PACKED, NAMES):
        inputs, targets, mask = vocab.encode_batch(names)
        _, loss, cache = network.forward(config, params, inputs, targets, mask, ws)
        reused = network.backward(config, params, targets, mask, cache, ws)
        _, fresh_loss, fresh_cache = network.forward(config, params, inputs, targets, mask)
        fresh = network.backward(config, params, targets, mask, fresh_cache)
        assert loss == fresh_loss
        for key in fresh:
            np.testing.assert_array_equal(reused[key], fresh[key])


def test_recurrent_grad_skips_only_zero_padding():
    """The sum over steps of dG[t].T @ h_prev[t], with later steps' ended rows left out, equals the full sum."""
    rng = np.random.default_rng(0)
    rows = [4, 4, 3, 1, 0]
    dG, Hs, h0 = rng.standard_normal((5, 4, 6)), rng.standard_normal((5, 4, 3)), rng.standard_normal((4, 3))
    for t, k in enumerate(rows):
        dG[t, k:] = 0.0
    previous = np.concatenate([h0[None], Hs[:-1]])  # (T, B, H)
    expected = np.einsum("tbg,tbh->gh", dG, previous)
    np.testing.assert_allclose(recurrent_grad(dG, Hs, h0, rows, Workspace()), expected, atol=1e-12)


def test_softmax_down_columns_equals_log_softmax():
    logits = np.random.default_rng(1).standard_normal((7, 5)) * 30  # (V, N)
    logp, probs = network.softmax_columns(logits, Workspace())
    np.testing.assert_allclose(logp, network.log_softmax(logits.T).T, atol=1e-12)
    np.testing.assert_allclose(probs, np.exp(logp), atol=1e-12)
