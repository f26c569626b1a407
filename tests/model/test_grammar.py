"""Bracket grammar while sampling: balanced, properly nested names; log-likelihoods stay the model's own."""
import numpy as np

from chemgen.io.text import UnbalancedBrackets, split_outside_brackets
from chemgen.model import network
from chemgen.model.grammar import BracketGrammar
from chemgen.model.modelfile import Learned
from chemgen.model.sample import sample_names
from chemgen.model.score import score_array
from chemgen.model.vocab import Vocab

VOCAB = Vocab("ab()[]{}")


def balanced(name: str) -> bool:
    try:
        split_outside_brackets(name, ",", strict=True)
    except UnbalancedBrackets:
        return False
    stack = []
    for char in name:
        if char in "([{":
            stack.append(")]}"["([{".index(char)])
        elif char in ")]}":
            if not stack or stack.pop() != char:
                return False
    return not stack


def test_masks_follow_the_open_brackets():
    grammar = BracketGrammar(VOCAB, 2)
    ix = VOCAB.char_to_ix
    rows = np.array([0, 1])
    grammar.advance(rows, np.array([ix["("], ix["a"]]))
    grammar.advance(rows[:1], np.array([ix["["]]))
    ok = grammar.allowed(rows)
    assert ok[0, ix["]"]] and not ok[0, ix[")"]] and not ok[0, 0]  # inside "([": only "]" closes, no end
    assert not ok[1, ix[")"]] and not ok[1, ix["]"]] and ok[1, 0]  # nothing open: no closer, may end
    assert ok[:, ix["a"]].all() and ok[:, ix["{"]].all()


def random_model():
    config = network.NetConfig("gru", 16, 1, VOCAB.size, "float64")
    params = network.init_params(config, np.random.default_rng(0))
    params["by"][:] = 1.0  # every character as likely as the end token: long, bracket-heavy names
    return Learned(config, params, VOCAB, np.zeros(0, dtype=np.uint64))


def test_sampled_names_are_balanced_only_with_the_grammar():
    model = random_model()
    free = [s.name for s in sample_names(model, 300, max_length=40, random_state=0, grammar=False)]
    kept = sample_names(model, 300, max_length=40, random_state=0, grammar=True)
    assert sum(not balanced(n) for n in free) > 100
    assert all(balanced(s.name) for s in kept)
    np.testing.assert_allclose([s.logp for s in kept], score_array(model, [s.name for s in kept]), rtol=1e-9)
