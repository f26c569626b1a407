"""Shared fixtures: a tiny corpus and a tiny trained model (seconds, not minutes)."""
from __future__ import annotations

import os
import random

import pytest

os.environ.setdefault("CHEMGEN_NO_PROGRESS", "1")

STEMS = ["meth", "eth", "prop", "but", "pent", "hex", "hept", "oct"]
ENDINGS = ["ane", "ene", "yne", "anol", "anal", "anone", "anoic acid", "ylamine"]


def make_corpus(count: int = 2000, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    names = {
        rng.choice(["", "2-", "3-", "1-"]) + rng.choice(["", "methyl", "chloro"]) + rng.choice(STEMS) + rng.choice(ENDINGS)
        for _ in range(count)
    }
    return sorted(names)


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    return make_corpus()


@pytest.fixture(scope="session")
def tiny_model(corpus):
    from chemgen import CharRNN

    return CharRNN(cell="gru", hidden_size=48, steps=300, batch_size=32, eval_every=100, n_print=0,
                   random_state=0).fit(corpus)


@pytest.fixture(scope="session")
def tiny_model_path(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny.npz"
    tiny_model.save(path)
    return path


SHORT_NAMES = ["a", "b", "c", "ab", "ba", "ca"]


@pytest.fixture(scope="session")
def short_names_model():
    """A model of one- and two-letter names: unlike tiny_model, it ends names within max length 1 or 2."""
    from chemgen import CharRNN

    return CharRNN(cell="gru", hidden_size=8, steps=60, batch_size=8, eval_every=30, n_print=0, valid_fraction=0,
                   random_state=0).fit(SHORT_NAMES)


@pytest.fixture(scope="session")
def short_names_model_path(short_names_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "short.npz"
    short_names_model.save(path)
    return path


@pytest.fixture
def qed_calls(monkeypatch):
    """How often QED (the slowest property) is computed."""
    from chemgen.chem import molecules

    calls = []
    original = molecules._PROPERTY_FUNCTIONS["qed"]
    monkeypatch.setitem(molecules._PROPERTY_FUNCTIONS, "qed", lambda mol: calls.append(mol) or original(mol))
    return calls
