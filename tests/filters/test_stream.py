"""The filter stage fed as names end: the same verdicts and survivors as filtering the batch at once."""
import pytest

from chemgen.errors import FilterError
from chemgen.filters import Candidate, FilterStage, Verdict
from chemgen.filters.stage import CHUNK, FilterStream


class Slow:
    """A background filter: passes names of even length, notes each chunk it was given."""

    name, background = "even", True

    def __init__(self):
        self.chunks = []

    def check(self, candidates):
        self.chunks.append(len(candidates))
        return [Verdict(len(c.name) % 2 == 0, reason="odd") for c in candidates]


class Short:
    name = "short"

    def check(self, candidates):
        if any(c.name == "boom" for c in candidates):
            return []  # a broken plugin: no verdicts
        return [Verdict(len(c.name) < 9, reason="long") for c in candidates]


NAMES = [f"name{'x' * (i % 7)}" for i in range(300)]


def test_a_stream_fed_in_pieces_keeps_the_verdicts_of_one_run():
    with FilterStage([Short(), Slow()]) as at_once:
        expected = at_once.run([Candidate(n) for n in NAMES], keep_failed=False)
    stage = FilterStage([Short(), Slow()]).__enter__()
    stream = stage.stream()
    with stream:
        for start in range(0, len(NAMES), 17):  # names arrive a few at a time, as they end
            stream.put([Candidate(n) for n in NAMES[start:start + 17]])
        survivors = stream.finish()
    assert [c.name for c in survivors] == [c.name for c in expected]
    # lengths 4 + i % 7: 215 of the 300 are under 9 (i % 7 <= 4), 129 of those even (i % 7 in 0, 2, 4)
    assert {k: (v.seen, v.passed) for k, v in stage.stats.items()} == {"short": (300, 215), "even": (215, 129)}
    chunks = stage.filters[1].chunks
    assert max(chunks) <= CHUNK and sum(chunks) == 215


def test_a_stream_raises_a_filters_error_and_its_threads_end():
    stream = FilterStream([Short(), Slow()], {})
    with pytest.raises(FilterError, match="returned 0 verdicts for 1 candidates"), stream:
        stream.put([Candidate("boom")])
        stream.finish()
    assert not any(lane.is_alive() for lane in stream.lanes)


def test_only_a_stage_with_a_filter_that_waits_outside_python_streams():
    assert FilterStage([Short()]).__enter__().stream() is None
    assert isinstance(FilterStage([Short(), Slow()]).__enter__().stream(), FilterStream)
