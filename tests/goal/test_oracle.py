"""Oracles: checked answers, the external command, the cache and budget, PMO's AUC top-k."""
from __future__ import annotations

import math
import shlex
import sys
import time

import numpy as np
import pytest

from chemgen.errors import ChemgenError, ConfigError
from chemgen.filters import Candidate
from chemgen.goal.oracle import (
    CommandOracle, Oracle, OracleError, OracleFilter, ScoredStructures, auc_top_k, canonical_smiles, check_scores,
    is_command_spec, oracle_of, parse_command_spec, top_k_mean,
)

PYTHON = shlex.quote(sys.executable)


def python(code: str) -> str:
    """A shell command running ``code`` with this Python."""
    return f"{PYTHON} -c {shlex.quote(code)}"


LENGTHS = python("import sys\nfor line in sys.stdin: print(len(line.strip()) / 100)")  # a score per line


class Recorder:
    """A callable oracle that remembers every batch it is sent."""

    def __init__(self, score=lambda s: len(s) / 100):
        self.batches: list[list[str]] = []
        self.score = score

    def __call__(self, smiles):
        self.batches.append(list(smiles))
        return [self.score(s) for s in smiles]


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    assert isinstance(exc.value, ChemgenError)
    return message


# ---------------------------------------------------------------- a callable


def test_callable_answers_pass_through_as_floats():
    oracle = Oracle(lambda smiles: np.array([0.0, 1, 0.25]))
    assert oracle(["C", "CC", "CCC"]) == [0.0, 1.0, 0.25]
    assert Oracle(lambda smiles: (len(s) / 10 for s in smiles))(["C", "CC"]) == [0.1, 0.2]
    assert oracle([]) == []


@pytest.mark.parametrize("answer, words", [
    ([0.5], "answered 1 scores for 2 SMILES"),
    ([0.5, float("nan")], "score 2 of 2 is nan, outside [0, 1]"),
    ([float("inf"), 0.5], "score 1 of 2 is inf"),
    ([0.5, 1.5], "score 2 of 2 is 1.5, outside [0, 1]"),
    ([-0.1, 0.5], "score 1 of 2 is -0.1"),
    ([0.5, "0.7"], "score 2 of 2 is '0.7', not a number"),
    ([None, 0.5], "score 1 of 2 is None, not a number"),
    ([True, 0.5], "score 1 of 2 is True, not a number"),
    (0.5, "answered 0.5, not a list of 2 scores"),
    ("0.5", "answered '0.5', not a list of 2 scores"),
    ({"C": 0.5, "CC": 0.5}, "not a list of 2 scores"),
])
def test_callable_bad_answers_are_one_line_errors(answer, words):
    def score(smiles):
        return answer

    with pytest.raises(OracleError) as exc:
        Oracle(score)(["C", "CC"])
    assert one_line(exc).startswith("oracle 'score'") and words in str(exc.value)


def test_callable_that_raises_is_one_line_error_naming_the_exception():
    def dock(smiles):
        raise RuntimeError("receptor file missing\nsecond line")

    with pytest.raises(OracleError) as exc:
        Oracle(dock)(["C"])
    assert one_line(exc) == "oracle 'dock' raised RuntimeError: receptor file missing"


def test_rounding_just_outside_the_range_is_clipped():
    assert check_scores([1 + 1e-12, -1e-12], 2, "x") == [1.0, 0.0]


def test_oracle_of_accepts_callables_specs_and_oracles():
    oracle = Oracle(len)
    assert oracle_of(oracle) is oracle
    assert isinstance(oracle_of(len), Oracle)
    assert isinstance(oracle_of('command(run="cat")'), CommandOracle)
    with pytest.raises(ConfigError) as exc:
        oracle_of(42)
    assert "not 42" in one_line(exc)


# ---------------------------------------------------------------- an external command


def test_command_scores_each_line_in_order():
    oracle = CommandOracle(LENGTHS)
    assert oracle(["C", "CCO", "c1ccccc1"]) == [0.01, 0.03, 0.08]


def test_parallel_chunks_run_as_separate_processes_and_keep_the_order(tmp_path):
    code = ("import os, sys\nopen(os.path.join(sys.argv[1], str(os.getpid())), 'w').close()\n"
            "for line in sys.stdin: print(len(line.strip()) / 100)")
    run = f"{python(code)} {shlex.quote(str(tmp_path))}"
    smiles = ["C" * n for n in range(1, 8)]
    assert CommandOracle(run, parallel=3)(smiles) == CommandOracle(LENGTHS)(smiles) == [n / 100 for n in range(1, 8)]
    assert len(list(tmp_path.iterdir())) == 3  # one process per chunk
    assert CommandOracle(LENGTHS, parallel=8)(["C", "CC"]) == [0.01, 0.02]  # never more processes than SMILES


def test_command_wrong_line_count_is_an_error():
    run = python("import sys\nlines = sys.stdin.read().split()\nprint('\\n'.join(['0.5'] * (len(lines) - 1)))")
    with pytest.raises(OracleError) as exc:
        CommandOracle(run)(["C", "CC", "CCC"])
    assert "wrote 2 lines for 3 SMILES" in one_line(exc)
    with pytest.raises(OracleError) as exc:
        CommandOracle(run, parallel=2)(["C", "CC", "CCC", "CCCC"])
    assert "(chunk 1 of 2) wrote 1 lines for 2 SMILES" in one_line(exc)


def test_command_unparsable_line_and_out_of_range_score_are_errors():
    with pytest.raises(OracleError) as exc:
        CommandOracle(python("import sys\nsys.stdin.read()\nprint('0.5'); print('high')"))(["C", "CC"])
    assert "line 2 is 'high', not a number" in one_line(exc)
    with pytest.raises(OracleError) as exc:
        CommandOracle(python("import sys\nsys.stdin.read()\nprint('nan')"))(["C"])
    assert one_line(exc).startswith("command ") and "score 1 of 1 is nan" in str(exc.value)


def test_command_non_zero_exit_reports_status_and_stderr_tail():
    run = python("import sys\nsys.stderr.write('loading\\nreceptor not found\\n')\nsys.exit(3)")
    with pytest.raises(OracleError) as exc:
        CommandOracle(run)(["C"])
    assert one_line(exc).endswith("exited with status 3: receptor not found")
    with pytest.raises(OracleError) as exc:
        CommandOracle("no-such-docking-program-here")(["C"])
    assert "exited with status 127" in one_line(exc)


def test_command_timeout_kills_it_and_its_children():
    started = time.monotonic()
    with pytest.raises(OracleError) as exc:
        CommandOracle("sleep 30; echo 0.5", parallel=2, timeout=0.5)(["C", "CC"])
    assert time.monotonic() - started < 10
    assert "did not finish within timeout=0.5 s; it was killed" in one_line(exc)


def test_command_spec_parsing():
    oracle = parse_command_spec('command(run="python dock.py --box 1,2 (x)", parallel=4, timeout=600)')
    assert (oracle.run, oracle.parallel, oracle.timeout) == ("python dock.py --box 1,2 (x)", 4, 600.0)
    oracle = parse_command_spec("command(run='echo \"a\\'b\"')")
    assert (oracle.run, oracle.parallel, oracle.timeout) == ("echo \"a'b\"", 1, 3600.0)  # an hour unless told
    assert parse_command_spec("command(run=cat,timeout=1.5)").timeout == 1.5
    assert oracle.describe() == {"oracle": "command", "run": "echo \"a'b\"", "parallel": 1, "timeout": 3600.0}
    assert parse_command_spec("command(run=cat, timeout=none)").timeout is None
    assert CommandOracle("cat").timeout == 3600.0 and CommandOracle("cat", timeout=None).timeout is None
    assert is_command_spec(" command(run=cat)") and not is_command_spec("commando") and not is_command_spec(len)


@pytest.mark.parametrize("spec, words", [
    ("command(parallel=2)", "names no command"),
    ("command(run=cat, workers=2)", "unknown option 'workers'"),
    ("command(run=cat, parallel=0)", "parallel='0' must be at least 1"),
    ("command(run=cat, parallel=two)", "needs a whole number"),
    ("command(run=cat, timeout=-1)", "timeout='-1' must be at least 0"),
    ("command(run=cat, timeout=0)", "positive number of seconds"),
    ('command(run="cat)', "unclosed \" quote"),
    ("command(run=)", "needs a value"),
    ("command", "malformed command spec"),
])
def test_bad_command_specs_are_one_line_config_errors(spec, words):
    with pytest.raises(ConfigError) as exc:
        parse_command_spec(spec)
    assert words in one_line(exc)


# ---------------------------------------------------------------- cache and budget


def test_cache_sends_each_valid_structure_once_in_one_call():
    recorder = Recorder()
    scored = ScoredStructures(recorder)
    assert scored.score(["OCC", "CCO", None, "C1CC", "C"]) == [0.03, 0.03, None, None, 0.01]
    assert recorder.batches == [["CCO", "C"]]  # canonical, each once, invalid ones never
    assert scored.score(["CCO", "N#N", "C"]) == [0.03, 0.03, 0.01]
    assert recorder.batches == [["CCO", "C"], ["N#N"]]
    scored.score(["OCC", "C"])
    assert scored.calls == 2 and len(recorder.batches) == 2  # nothing new: no call
    assert [scored.call_index(s) for s in ("CCO", "C", "N#N", "CC")] == [1, 2, 3, None]
    assert canonical_smiles("OCC") == "CCO" and canonical_smiles("C1CC") is None and canonical_smiles(None) is None


def test_budget_caps_what_the_oracle_sees():
    recorder = Recorder()
    scored = ScoredStructures(recorder, budget=3)
    assert scored.score(["C", "CC", "C", "CCC", "CCCC", "CCCCC"]) == [0.01, 0.02, 0.01, 0.03, None, None]
    assert recorder.batches == [["C", "CC", "CCC"]] and scored.exhausted and scored.remaining == 0
    assert scored.score(["CCCCCC", "CC"]) == [None, 0.02]  # the cache still answers
    assert len(recorder.batches) == 1


def test_a_failed_call_loses_nothing_already_scored():
    answers = iter([[0.5], "broken"])
    scored = ScoredStructures(lambda smiles: next(answers), budget=10)
    scored.score(["C"])
    before = scored.state()
    with pytest.raises(OracleError):
        scored.score(["CC", "C"])
    assert scored.state() == before == {"budget": 10, "smiles": ["C"], "scores": [0.5], "calls": 1}


def test_state_round_trips_through_plain_data():
    import json

    scored = ScoredStructures(Recorder(), budget=5)
    scored.score(["CCO", "C", "CC"])
    restored = ScoredStructures(Recorder(), budget=5)
    restored.load(json.loads(json.dumps(scored.state())))
    assert restored.scores_in_order() == [0.03, 0.01, 0.02] and restored.call_index("CC") == 3
    assert restored.score(["C", "CCCC"]) == [0.01, 0.04] and restored.oracle.function.batches == [["CCCC"]]
    with pytest.raises(ConfigError):
        ScoredStructures(Recorder(), budget=2).load(scored.state())


def test_without_an_oracle_it_records_scores_found_elsewhere():
    ledger = ScoredStructures(None, budget=2)
    assert [ledger.add("CCO", 0.5), ledger.add("CCO", 0.9), ledger.add("C", 0.25), ledger.add("CC", 1.0)] == [
        1, None, 2, None]  # a structure once, and no more than the budget
    assert ledger.scores_in_order() == [0.5, 0.25] and ledger.exhausted and ledger.call_index("C") == 2
    assert ledger.score(["OCC"]) == [0.5]  # the cache still answers
    with pytest.raises(ConfigError, match="no oracle"):
        ScoredStructures(None).score(["CCO"])


def test_best_and_top_means():
    scored = ScoredStructures(Recorder(), budget=None)
    scored.score(["CC", "CCCC", "C", "CCC", "N#N"])
    assert scored.best(3) == [("CCCC", 0.04, 2), ("CCC", 0.03, 4), ("N#N", 0.03, 5)]
    assert scored.top_mean(1) == 0.04 and scored.top_mean(2) == pytest.approx(0.035)
    assert top_k_mean([0.2, 0.4], 100) == pytest.approx(0.3) and top_k_mean([], 10) == 0.0


def test_oracle_filter_scores_structures_through_the_cache():
    recorder = Recorder()
    filter_ = OracleFilter(recorder, ScoredStructures(recorder, budget=2))
    candidates = [Candidate("ethanol", smiles="OCC"), Candidate("x"), Candidate("methane", smiles="C"),
                  Candidate("ethane", smiles="CC")]
    verdicts = filter_.check(candidates)
    assert [(v.passed, v.score, v.reason) for v in verdicts] == [
        (True, 0.03, ""), (False, 0.0, "no structure"), (True, 0.01, ""), (False, 0.0, "over the oracle budget")]
    assert recorder.batches == [["CCO", "C"]] and filter_.graded and filter_.name == "oracle"


# ---------------------------------------------------------------- PMO's AUC


def test_auc_constant_run_of_the_full_budget():
    # points 0, c, c, ... c at 0, 100, ..., 10,000: 100 * c / 2 + 9,900 * c = 9,950 c
    assert auc_top_k([1.0] * 10_000) == pytest.approx(0.995)
    assert auc_top_k([0.4] * 10_000) == pytest.approx(0.398)


def test_auc_linear_run():
    scores = [i / 10_000 for i in range(1, 10_001)]
    assert auc_top_k(scores, k=1) == pytest.approx(0.5)  # the area under x / 10,000
    # top-10 at m is (m - 4.5) / 10,000; the curve starts at 0, not -0.00045: + 100 * 0.00045 / 2
    assert auc_top_k(scores, k=10) == pytest.approx((5_000 - 4.5 + 0.0225) / 10_000)


def test_auc_small_cases_by_hand():
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    # points (0, 0) (2, .2) (4, .4) (6, .6): .2 + .6 + 1.0 = 1.8
    assert auc_top_k(scores, k=1, freq=2, budget=6) == pytest.approx(1.8 / 6)
    # a short run: (0, 0) (2, .2) (4, .4) (5, .5), then flat at .5 to 10: .2 + .6 + .45 + 2.5
    assert auc_top_k(scores[:5], k=1, freq=2, budget=10) == pytest.approx(3.75 / 10)
    assert auc_top_k(scores[:5], k=1, freq=2, budget=10, extend=False) == pytest.approx(1.25 / 10)
    # fewer than k so far: the mean of those there are
    assert auc_top_k([0.4], k=2, freq=1, budget=2) == pytest.approx((0.2 + 0.4) / 2)
    # only the first budget scores count
    assert auc_top_k([1.0, 1.0, 0.0, 0.0], k=1, freq=1, budget=2) == pytest.approx((0.5 + 1.0) / 2)
    assert auc_top_k([]) == 0.0


def test_auc_matches_the_integral_of_the_top_k_curve():
    rng = np.random.default_rng(0)
    for n, k, freq, budget in [(1_234, 10, 100, 2_000), (500, 3, 7, 500), (999, 100, 100, 999), (37, 10, 100, 100)]:
        scores = rng.random(n) ** 3
        points = [i for i in range(freq, n, freq)] + [n]
        x = [0.0] + points
        y = [0.0] + [np.sort(scores[:m])[::-1][:k].mean() for m in points]
        area = float(np.sum((np.diff(x)) * (np.array(y[1:]) + np.array(y[:-1])) / 2)) + (budget - n) * y[-1]
        assert auc_top_k(scores, k, freq, budget) == pytest.approx(area / budget, rel=1e-12)


def test_scored_structures_auc_uses_the_budget():
    scored = ScoredStructures(lambda smiles: [1.0] * len(smiles), budget=4)
    scored.score(["C", "CC"])
    assert scored.auc(k=1, freq=1) == pytest.approx((0.5 + 1 + 1 + 1) / 4)
    assert math.isclose(scored.auc(k=1, freq=1, extend=False), 1.5 / 4)
