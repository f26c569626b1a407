"""The sampler's step: buffers reused in place give the same bits as the plain step, for every cell."""
import numpy as np
import pytest

from chemgen.model import network
from chemgen.model.cells import CELLS, Workspace
from chemgen.model.vocab import Vocab
from gradcheck import perturbed_params

VOCAB = Vocab.from_names(["abc", "b", "dcba", "cab"])


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("embed", [0, 3])
def test_step_in_a_workspace_equals_the_plain_step_as_rows_leave(cell, embed):
    config, params = perturbed_params(cell, 2, VOCAB, embed=embed)
    weights, ws, rng = network.step_weights(config, params), Workspace(), np.random.default_rng(0)
    plain = network.initial_states(config, 7)
    kept = network.initial_states(config, 7)
    tokens = rng.integers(0, VOCAB.size, 7)  # (A,)
    for _ in range(6):
        expected, plain = network.step_logits(config, params, tokens, plain)  # (A, V)
        logits, kept = network.step_logits(config, weights, tokens, kept, ws)  # (A, V)
        np.testing.assert_array_equal(logits, expected)
        running = rng.random(len(tokens)) < 0.8  # (A,) some rows end
        running[0] = True
        plain = [tuple(s[running] for s in layer) for layer in plain]
        kept = network.keep_rows(kept, running)
        tokens = rng.integers(0, VOCAB.size, int(running.sum()))
    assert len(tokens) < 7


def test_keep_rows_moves_the_kept_rows_to_the_front():
    h = np.arange(12.0).reshape(4, 3)  # (B, H)
    (kept,), = network.keep_rows([(h,)], np.array([False, True, False, True]))
    np.testing.assert_array_equal(kept, [[3.0, 4.0, 5.0], [9.0, 10.0, 11.0]])
    assert np.shares_memory(kept, h)


@pytest.mark.parametrize("grammar", [True, False])
def test_threads_share_the_rows_and_draw_the_same_names(tiny_model, grammar):
    one = tiny_model.sample(60, temperature=1.2, random_state=3, grammar=grammar)
    two = tiny_model.sample(60, temperature=1.2, random_state=3, grammar=grammar, threads=2)
    three = tiny_model.sample(60, temperature=1.2, prefix="2-", random_state=3, grammar=grammar, threads=3)
    assert [s.name for s in two] == [s.name for s in one]
    np.testing.assert_allclose([s.logp for s in two], [s.logp for s in one], rtol=1e-5)
    np.testing.assert_allclose([s.logp for s in three], tiny_model.score([s.name for s in three]), rtol=1e-4)
    assert all(s.name.startswith("2-") for s in three)


def test_more_threads_than_rows():
    from chemgen.model.modelfile import Learned
    from chemgen.model.sample import sample_batch
    from chemgen.model.threads import Threads

    config, params = perturbed_params("lstm", 2, VOCAB)
    learned = Learned(config, params, VOCAB, np.zeros(0, dtype=np.uint64))
    one = sample_batch(learned, 3, 1.0, None, "", 12, np.random.default_rng(0))
    with Threads(8) as threads:
        many = sample_batch(learned, 3, 1.0, None, "", 12, np.random.default_rng(0), threads=threads)
    for a, b in zip(one, many):
        np.testing.assert_allclose(a, b, rtol=1e-12)
