"""Bad input through the Python API: a ChemgenError subclass with a one-line message, never a stray TypeError."""
import math
import os

import numpy as np
import pytest

import chemgen
from chemgen import CharRNN, ChemgenError, ConfigError, FilterError
from chemgen.model.sample import SamplingFailed


def one_line(info, fragment):
    message = str(info.value)
    assert fragment in message and "\n" not in message, message


@pytest.mark.parametrize("call, error, fragment", [
    (lambda m: m.score("ethanol"), ConfigError, "not one string"),
    (lambda m: m.score([None]), ConfigError, "item 0 (None) is not a string"),
    (lambda m: m.score([b"ethanol"]), ConfigError, "is not a string"),
    (lambda m: m.sample(2, prefix=None), ConfigError, "prefix must be a string"),
    (lambda m: m.sample(2, random_state=-1), ConfigError, "random_state must be a non-negative integer"),
    (lambda m: m.sample(2, temperature=math.inf), ConfigError, "temperature must be a positive finite number"),
    (lambda m: m.sample(2, top_k=1.5), ConfigError, "top-k must be a whole number"),
    (lambda m: m.sample(2, max_length="long"), ConfigError, "max length"),
    (lambda m: m.sample(2, threads=0), ConfigError, "threads must be a whole number of at least 1"),
    (lambda m: chemgen.check("ethanol", filters="suffix"), ConfigError, "not one string"),
    (lambda m: chemgen.check([None], filters="suffix"), ConfigError, "item 0 (None) is not a string"),
    (lambda m: chemgen.check([1], filters="suffix"), ConfigError, "item 0 (1) is not a string"),
    (lambda m: chemgen.load(123), ConfigError, "file path or a shipped model's name, not 123"),
    (lambda m: chemgen.generate(2, model=m, filters=[42]), FilterError, "not a filter: 42"),
    (lambda m: chemgen.generate(2, model=m, filters="none", seed=-1), ConfigError, "must be a non-negative"),
    (lambda m: chemgen.generate(2, model=m, filters="none", random_state=-1), ConfigError, "must be a non-negative"),
    (lambda m: chemgen.generate(2, model=m, filters="none", seed=1, random_state=2), ConfigError, "not both"),
    (lambda m: chemgen.generate(10**7, model=m, filters="none"), ConfigError, "at most 1,000,000"),
    (lambda m: chemgen.generate(2, model=m, filters="none", max_tries=0), ConfigError, "max_tries"),
    (lambda m: CharRNN(steps=1, hidden_size=4).fit(["meth\tane"]), ConfigError, "control character '\\t'"),
    (lambda m: CharRNN(random_state=-1).fit(["methane", "ethane"]), ConfigError, "random_state"),
])
def test_api_errors_are_chemgen_errors(tiny_model, call, error, fragment):
    with pytest.raises(error) as info:
        call(tiny_model)
    assert isinstance(info.value, ChemgenError)
    one_line(info, fragment)


NAMES = ["methane", "ethane"]


@pytest.mark.parametrize("call, fragment", [
    (lambda m: chemgen.check(["ethanol"], filters=None), "filters are a spec such as 'opsin,rdkit'"),
    (lambda m: chemgen.check(["ethanol"], filters=42), "not 42"),
    (lambda m: chemgen.check(["ethanol"], filters="suffix", filter_options=5), "filter_options must be a dict"),
    (lambda m: chemgen.check(["ethanol"], filters="suffix", client=5), "client must be a dask.distributed Client"),
    (lambda m: chemgen.check(None, filters="suffix"), "names must be a list of names, not NoneType"),
    (lambda m: chemgen.generate(2, model=m, filters=None), "filters are a spec"),
    (lambda m: chemgen.generate(2, model=m, filters="none", rank_by=[]), "rank-by must be one of"),
    (lambda m: chemgen.generate(2, model=m, filters="none", filter_options=[1]), "filter_options must be a dict"),
    (lambda m: chemgen.generate(2, model=m, filters="none", dedupe=None), "dedupe must be True or False"),
    (lambda m: chemgen.generate(2, model=m, filters="none", client=5), "client must be a dask.distributed"),
    (lambda m: chemgen.generate(2, model=m, filters="none", task_size=-1), "task_size must be a positive"),
    (lambda m: chemgen.generate(None, model=m, filters="none"), "n must be a non-negative integer, not None"),
    (lambda m: chemgen.load(b"druglike"), "a model is a file path or a shipped model's name, not b"),
    (lambda m: chemgen.load([]), "a model is a file path"),
    (lambda m: chemgen.to_frame(None), "to_frame needs a list of candidates"),
    (lambda m: chemgen.to_frame("ethanol"), "to_frame needs a list of candidates"),
    (lambda m: chemgen.to_frame(["ethanol"]), "item 0 ('ethanol') is not a Candidate"),
    (lambda m: chemgen.to_frame([None]), "item 0 (None) is not a Candidate"),
    (lambda m: chemgen.to_frame([chemgen.Candidate("ethanol")], mol_column=None), "mol_column a column name"),
    (lambda m: CharRNN("gru"), "CharRNN takes its settings by name"),
    (lambda m: CharRNN(hidden_size=None).fit(NAMES), "hidden_size must be a positive integer, not None"),
    (lambda m: CharRNN(steps=1).fit(None), "training names must be a list of names, not NoneType"),
    (lambda m: CharRNN(steps=1).fit(5), "training names must be a list of names, not int"),
    (lambda m: CharRNN(steps=1).fit([]), "no names given"),
    (lambda m: CharRNN(steps=1).fit(NAMES, 5), "validation names must be a list of names, not int"),
    (lambda m: CharRNN(steps=1).fit(NAMES, checkpoint=5), "checkpoint must be a file path, not 5"),
    (lambda m: CharRNN(steps=1).fit(NAMES, checkpoint_every=None), "checkpoint_every must be a non-negative"),
    (lambda m: CharRNN(steps=1).fit(NAMES, bogus=1), "fit takes no option 'bogus'"),
    (lambda m: CharRNN(steps=1).fit(NAMES, log=5), "log must be a function"),
    (lambda m: m.fine_tune(None), "training names must be a list of names, not NoneType"),
    (lambda m: m.fine_tune(NAMES, settings=5), "settings must be a dict"),
    (lambda m: m.score(None), "names must be a list of names, not NoneType"),
    (lambda m: m.score(5), "names must be a list of names, not int"),
    (lambda m: m.sample(None), "must be a non-negative integer, not None"),
    (lambda m: m.sample(2, temperature=None), "temperature must be a positive finite number, not None"),
    (lambda m: m.sample(2, max_length=None), "max length must be a whole number"),
    (lambda m: m.sample(2, grammar=None), "grammar must be True or False"),
    (lambda m: CharRNN().sample(2), "not fitted"),
    (lambda m: chemgen.inject_filter(None, lambda: None), "a filter's name is a word"),
    (lambda m: chemgen.inject_filter("a,b", lambda: None), "not 'a,b'"),
    (lambda m: chemgen.inject_filter("mine", None), "the factory must be callable"),
])
def test_the_public_api_with_none_wrong_types_and_empty_input(tiny_model, call, fragment):
    """Every public function (optimize aside) answers None, a wrong type or an empty input with a ChemgenError."""
    with pytest.raises(ChemgenError) as info:
        call(tiny_model)
    one_line(info, fragment)


def test_empty_inputs_that_have_an_answer_give_it(tiny_model):
    assert len(chemgen.check([], filters="suffix")) == 0
    assert [c.passed for c in chemgen.check(["ethanol"], filters=[])] == [True]  # [] as "none": no filters
    assert tiny_model.score([]).shape == (0,) and tiny_model.sample(0) == []


def test_an_unfitted_save_writes_nothing(tmp_path):
    with pytest.raises(ConfigError, match="not fitted"):
        CharRNN().save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("max_length", [1, 2])
def test_sampling_that_cannot_finish_says_so_quickly(tiny_model, max_length):
    with pytest.raises(SamplingFailed) as info:
        tiny_model.sample(50, max_length=max_length, random_state=0)
    one_line(info, f"ended within max length {max_length}")


@pytest.mark.parametrize("max_length", [1, 2])
def test_generate_with_a_tiny_max_length_is_bounded_by_max_tries(tiny_model, max_length):
    """Greedy draws (top_k 1) are tiny_model's likeliest name every time, longer than max_length: none ends
    (with the full distribution, one in about a thousand would), and max_tries stops the run."""
    assert len(tiny_model.sample(1, top_k=1, random_state=0)[0].name) > 2
    with pytest.raises(SamplingFailed) as info:
        chemgen.generate(5, model=tiny_model, filters="none", max_length=max_length, max_tries=500, seed=0, top_k=1)
    one_line(info, f"none of 500 sampled names ended within --max-length {max_length}: raise --max-length")


def test_generate_within_max_length_1_keeps_the_one_letter_names(short_names_model):
    """Three one-letter names exist: all three are found, and the run goes on to max_tries for more."""
    results = chemgen.generate(5, model=short_names_model, filters="none", max_length=1, max_tries=500, seed=0)
    assert sorted(c.name for c in results) == ["a", "b", "c"] and results.tried == 500


def test_generate_within_max_length_2_stops_when_enough_pass(short_names_model):
    results = chemgen.generate(5, model=short_names_model, filters="none", max_length=2, max_tries=500, seed=0)
    names = [c.name for c in results]
    assert len(set(names)) == 5 and all(1 <= len(n) <= 2 and set(n) <= set("abc") for n in names)
    assert results.tried < 500


def test_generate_takes_random_state_as_seed(tiny_model):
    a = chemgen.generate(3, model=tiny_model, filters="none", seed=5)
    b = chemgen.generate(3, model=tiny_model, filters="none", random_state=5)
    assert [c.name for c in a] == [c.name for c in b]


def test_numpy_integer_seeds_are_accepted(tiny_model):
    assert len(tiny_model.sample(2, random_state=np.int64(3))) == 2


def test_fit_verbose_prints_progress_lines(corpus, capsys):
    CharRNN(hidden_size=8, steps=4, eval_every=2, n_print=0, batch_size=8, random_state=0).fit(corpus, verbose=True)
    err = capsys.readouterr().err
    assert "step 2/4" in err and "step 4/4" in err
    CharRNN(hidden_size=8, steps=4, eval_every=2, n_print=0, batch_size=8, random_state=0).fit(corpus)
    assert capsys.readouterr().err == ""


def test_a_batch_far_above_the_names_warns(corpus):
    with pytest.warns(chemgen.errors.ChemgenWarning, match="far above the 4 training names"):
        CharRNN(hidden_size=8, steps=1, batch_size=64, n_print=0, valid_fraction=0.0).fit(corpus[:4])


def test_a_refused_fine_tuning_leaves_the_model_as_it_was(tiny_model_path):
    model = CharRNN.load(tiny_model_path)
    before = model.get_params()
    for call in (lambda: model.fine_tune(None), lambda: model.fine_tune(["ethane", "methane"], settings={"hidden_size": 8, "batch_size": 1})):
        with pytest.raises(ConfigError):
            call()
        assert model.get_params() == before
