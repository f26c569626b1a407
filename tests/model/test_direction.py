"""Direction: a model may write names right to left; training, scoring, sampling, its file and fine-tuning honour it."""
import json
import zipfile

import numpy as np
import pytest

from chemgen import CharRNN
from chemgen.errors import ConfigError, ModelFileError
from chemgen.model.grammar import BracketGrammar
from chemgen.model.vocab import Vocab

NAMES = ["2-(4-chlorophenyl)ethanol", "3-(2-methylphenyl)propan-1-ol", "4-[(2-chlorophenyl)methyl]morpholine",
         "1-(3-fluorophenyl)ethan-1-one", "2-(pyridin-3-yl)acetic acid", "N-(4-methylphenyl)acetamide"] * 8
SMALL = dict(cell="gru", hidden_size=24, embed=8, steps=40, batch_size=8, eval_every=20, n_print=0, random_state=3)


@pytest.fixture(scope="module")
def backwards():
    return CharRNN(direction="reverse", **SMALL).fit(NAMES)


@pytest.fixture(scope="module")
def forward_on_reversed():
    return CharRNN(**SMALL).fit([n[::-1] for n in NAMES])


def test_a_reverse_model_is_a_forward_model_of_the_reversed_names(backwards, forward_on_reversed):
    for key, value in backwards.params_.items():
        np.testing.assert_array_equal(value, forward_on_reversed.params_[key])
    name = NAMES[0]
    np.testing.assert_allclose(backwards.score([name]), forward_on_reversed.score([name[::-1]]), rtol=1e-6)
    assert backwards.in_training([name]).all() and not backwards.in_training([name[::-1]]).any()


def test_sampled_names_read_left_to_right_and_their_logp_is_the_score(backwards, forward_on_reversed):
    samples = backwards.sample(40, random_state=0, grammar=False)
    np.testing.assert_allclose([s.logp for s in samples], backwards.score([s.name for s in samples]), atol=1e-4)
    written = forward_on_reversed.sample(40, random_state=0, grammar=False)  # the same draws, as written
    assert [s.name for s in samples] == [s.name[::-1] for s in written]


def test_the_grammar_balances_brackets_written_right_to_left():
    vocab = Vocab("()ab", "reverse")
    grammar = BracketGrammar(vocab, 1)
    rows = np.array([0])
    allowed = grammar.allowed(rows)[0]
    assert allowed[vocab.char_to_ix[")"]] and not allowed[vocab.char_to_ix["("]]  # ")" opens when writing backwards
    grammar.advance(rows, np.array([vocab.char_to_ix[")"]]))
    allowed = grammar.allowed(rows)[0]
    assert allowed[vocab.char_to_ix["("]] and not allowed[0]  # it must close before the name may end


def test_a_prefix_is_refused_for_a_reverse_model(backwards):
    with pytest.raises(ConfigError, match="right to left"):
        backwards.sample(2, prefix="2-")


def test_the_direction_is_stored_and_files_without_it_are_forward(backwards, tmp_path):
    backwards.save(tmp_path / "rev.npz")
    assert CharRNN.load(tmp_path / "rev.npz").learned_.vocab.direction == "reverse"
    np.testing.assert_allclose(CharRNN.load(tmp_path / "rev.npz").score(NAMES[:2]), backwards.score(NAMES[:2]))
    for direction, outcome in ((None, "forward"), ("sideways", ModelFileError)):
        path = rewrite_meta(tmp_path / "rev.npz", tmp_path / f"{direction}.npz", direction)
        if outcome is ModelFileError:
            with pytest.raises(ModelFileError, match="direction"):
                CharRNN.load(path)
        else:
            assert CharRNN.load(path).learned_.vocab.direction == outcome


def rewrite_meta(source, target, direction):
    with zipfile.ZipFile(source) as z:
        members = {name: z.read(name) for name in z.namelist()}
    meta_name = next(n for n in members if n.startswith("meta"))
    raw = np.lib.format.read_array(__import__("io").BytesIO(members[meta_name]))
    meta = json.loads(str(raw))
    meta.pop("direction")
    if direction is not None:
        meta["direction"] = direction
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array(buffer, np.array(json.dumps(meta)))
    members[meta_name] = buffer.getvalue()
    with zipfile.ZipFile(target, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return target


def test_fine_tuning_keeps_the_direction(backwards):
    tuned = CharRNN(direction="reverse", **SMALL).fit(NAMES).fine_tune(NAMES[:6], settings={"epochs": 1, "batch_size": 4})
    assert tuned.learned_.vocab.direction == "reverse"
    with pytest.raises(ConfigError, match="direction"):
        CharRNN(direction="reverse", **SMALL).fit(NAMES).fine_tune(NAMES[:6], settings={"direction": "forward", "batch_size": 4})


def test_a_model_trained_on_reversed_names_converts_to_the_reverse_model(backwards, forward_on_reversed, tmp_path):
    from bench.direction import convert

    forward_on_reversed.save(tmp_path / "trained_on_reversed.npz")
    (tmp_path / "names.txt").write_text("\n".join(NAMES) + "\n")
    convert(tmp_path / "trained_on_reversed.npz", str(tmp_path / "names.txt"), tmp_path / "reverse.npz")
    converted = CharRNN.load(tmp_path / "reverse.npz")
    assert converted.direction == "reverse" and converted.learned_.vocab.reverse
    assert [s.name for s in converted.sample(10, random_state=2)] == [s.name for s in backwards.sample(10, random_state=2)]
    assert converted.in_training(NAMES[:3]).all()
