import numpy as np
import pytest

from chemgen.errors import VocabularyError
from chemgen.model.vocab import BOUNDARY, Vocab


def test_boundary_is_index_zero_and_maps_round_trip():
    vocab = Vocab.from_names(["ethanol", "2-methylpropan-1-ol"])
    assert vocab.ix_to_char[0] == BOUNDARY and vocab.char_to_ix[BOUNDARY] == 0
    for name in ["ethanol", "2-methylpropan-1-ol", ""]:
        assert vocab.decode(vocab.encode(name)) == name
    assert vocab.size == len(set("ethanol2-methylpropan-1-ol")) + 1


def test_unknown_character_names_character_and_line():
    vocab = Vocab.from_names(["ethanol"])
    with pytest.raises(VocabularyError, match=r"'Z'.*line 7"):
        vocab.encode("ethanZl", line=7)


def test_batch_arrays_are_time_major_with_mask():
    vocab = Vocab.from_names(["ab", "abc"])
    inputs, targets, mask = vocab.encode_batch(["ab", "c"])
    assert inputs.shape == targets.shape == mask.shape == (3, 2)
    a, b, c = (vocab.char_to_ix[ch] for ch in "abc")
    assert inputs[:, 0].tolist() == [0, a, b] and targets[:, 0].tolist() == [a, b, 0]
    assert inputs[:, 1].tolist()[:2] == [0, c] and targets[:, 1].tolist()[:2] == [c, 0]
    assert mask[:, 0].tolist() == [1, 1, 1] and mask[:, 1].tolist() == [1, 1, 0]
    assert mask.dtype == np.float32


def test_newline_in_training_names_is_refused():
    with pytest.raises(VocabularyError):
        Vocab.from_names(["eth\nanol"])
