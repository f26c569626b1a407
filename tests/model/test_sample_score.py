import numpy as np
import pytest

from chemgen.errors import ConfigError, VocabularyError
from chemgen.model.score import score_names
from chemgen.model.train import split_names


def test_fixed_seed_reproduces_samples(tiny_model):
    a = tiny_model.sample(20, temperature=0.8, random_state=1)
    b = tiny_model.sample(20, temperature=0.8, random_state=1)
    assert [c.name for c in a] == [c.name for c in b]
    c = tiny_model.sample(20, temperature=0.8, random_state=2)
    assert [x.name for x in a] != [x.name for x in c]


def test_sample_logp_equals_score(tiny_model):
    samples = tiny_model.sample(30, temperature=1.3, top_k=5, random_state=0)
    scores = tiny_model.score([c.name for c in samples])
    np.testing.assert_allclose([c.logp for c in samples], scores, rtol=1e-4)
    for c in samples:
        assert c.logp_per_char == pytest.approx(c.logp / (len(c.name) + 1))


def test_prefix_max_length_and_training_flag(tiny_model, corpus):
    samples = tiny_model.sample(25, prefix="meth", max_length=30, random_state=0)
    assert len(samples) == 25 and all(c.name.startswith("meth") and len(c.name) <= 30 for c in samples)
    train_names, _ = split_names(corpus, tiny_model.valid_fraction, np.random.default_rng(tiny_model.random_state))
    assert all(c.in_training == (c.name in set(train_names)) for c in samples)  # held-out names are not flagged


def test_top_k_one_is_greedy(tiny_model):
    greedy = {c.name for c in tiny_model.sample(10, top_k=1, random_state=0)}
    assert len(greedy) == 1


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(temperature=0), ConfigError, "temperature must be a positive finite number"),
    (dict(top_k=0), ConfigError, "top-k must be"),
    (dict(prefix="é"), VocabularyError, "'é'"),
    (dict(prefix="ab", max_length=2), ConfigError, "max length 2 must be a whole number above the prefix length (2)"),
])
def test_bad_sampling_options(tiny_model, kwargs, error, message):
    with pytest.raises(error) as info:
        tiny_model.sample(3, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_score_orders_real_names_above_noise(tiny_model):
    real, noise = tiny_model.score(["2-methylbutanol", "nhtaeeml"])
    assert real > noise


def test_score_names_reports_bad_names_per_name(tiny_model):
    records = list(score_names(tiny_model.learned_, ["ethanol", "éthanol", "methane"], chunk=2))
    assert [r.error == "" for r in records] == [True, False, True]
    assert "'é'" in records[1].error and records[1].logp is None
    assert records[0].logp_per_char == pytest.approx(records[0].logp / 8)
    with pytest.raises(VocabularyError, match="line 2"):
        tiny_model.score(["ethanol", "éthanol"])


def test_scores_do_not_depend_on_batch_company(tiny_model, corpus):
    alone = [tiny_model.score([n])[0] for n in corpus[:5]]
    together = tiny_model.score(corpus[:5] + ["2-chlorooctanoic acid"] * 3)[:5]
    np.testing.assert_allclose(alone, together, rtol=1e-5)
