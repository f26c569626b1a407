"""Property-based tests of the model core (hypothesis; few examples, so the suite stays fast)."""
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chemgen.model.vocab import Vocab

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def in_vocab_names(chars: str):
    return st.text(alphabet=sorted(set(chars)), min_size=1, max_size=40)


@FAST
@given(st.lists(st.text(min_size=1, max_size=20).filter(lambda s: "\n" not in s), min_size=1, max_size=5))
def test_encode_decode_round_trip(names):
    vocab = Vocab.from_names(names)
    for name in names:
        assert vocab.decode(vocab.encode(name)) == name


@FAST
@given(data=st.data())
def test_log_likelihood_is_finite_and_at_most_zero_for_in_vocab_names(tiny_model, data):
    names = data.draw(st.lists(in_vocab_names(tiny_model.vocab_.chars), min_size=1, max_size=4))
    for logp in tiny_model.score(names):
        assert math.isfinite(logp) and logp <= 0


@FAST
@given(seed=st.integers(0, 2**63 - 1), temperature=st.floats(0.2, 3.0), top_k=st.none() | st.integers(1, 40))
def test_samples_never_leave_the_vocabulary(tiny_model, seed, temperature, top_k):
    chars = set(tiny_model.vocab_.chars)
    for sample in tiny_model.sample(4, temperature=temperature, top_k=top_k, random_state=seed, max_length=60):
        assert sample.name and set(sample.name) <= chars and len(sample.name) <= 60  # max_length is the longest name
        assert math.isfinite(sample.logp) and sample.logp <= 0
