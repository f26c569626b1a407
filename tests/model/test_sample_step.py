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
