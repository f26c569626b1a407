"""chemgen optimize with an oracle and a budget, on the tiny model with real OPSIN and RDKit.

The oracle is RDKit's QED (or a length score from an external command): it sees
each valid structure once, after OPSIN and RDKit, all of a step's new ones in
one call, never more than the budget; the run stops at the budget or when the
agent collapses; a checkpoint resumes exactly; a failing oracle loses nothing.
"""
from __future__ import annotations

import csv
import json
import math
import os
import shlex
import signal
import sys

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import QED

from chemgen import Verdict, inject_filter
from chemgen.cli import main
from chemgen.filters import remove_injected
from chemgen.goal import OptimizeInterrupted, optimize
from chemgen.goal import agent as agent_module
from chemgen.goal.oracle import OracleError, auc_top_k, canonical_smiles, top_k_mean
from chemgen.goal.scoring import Component
from chemgen.model import modelfile

FAST = dict(batch_size=16, sigma=20.0, learning_rate=3e-3, random_state=0)
PYTHON = shlex.quote(sys.executable)
LENGTH = "import sys; [print(min(1, len(line.strip()) / 20)) for line in sys.stdin]"  # a score per SMILES line
LENGTH_COMMAND = f"{PYTHON} -c {shlex.quote(LENGTH)}"


def qed(smiles):
    return [QED.qed(Chem.MolFromSmiles(s)) for s in smiles]


class Recorder:
    """A callable oracle (QED unless told) that keeps every batch it is sent; ``fail_at`` makes call N go wrong."""

    def __init__(self, score=qed, fail_at=None, failure=None):
        self.batches, self.score, self.fail_at, self.failure = [], score, fail_at, failure

    def __call__(self, smiles):
        self.batches.append(list(smiles))
        if len(self.batches) == self.fail_at:
            return self.failure(smiles)
        return self.score(smiles)

    @property
    def sent(self):
        return [s for batch in self.batches for s in batch]


def rows_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


class Chloro:
    """Graded, with one of ten fake structures per name: few distinct structures, so a run runs out of new ones."""

    name = "chloro"
    graded = True

    def check(self, candidates):
        return [Verdict(True, min(1.0, c.name.count("chloro") / 2), "",
                        {"smiles": "C" * (1 + len(c.name) % 5) + ("c1ccccc1" if "chloro" in c.name else "")})
                for c in candidates]


@pytest.fixture(autouse=True)
def injected():
    inject_filter("chloro", Chloro)
    yield
    remove_injected("chloro")


# ---------------------------------------------------------------- a callable oracle


def test_a_callable_alone_is_gated_by_opsin_and_rdkit_and_sees_each_structure_once(tiny_model_path, tmp_path):
    oracle, log = Recorder(), tmp_path / "run.jsonl"
    result = optimize(oracle, prior=str(tiny_model_path), steps=4, log=log, **FAST)
    rows = rows_of(log)
    assert set(rows[0]["components"]) == {"opsin", "rdkit", "oracle"}
    for step, batch in enumerate(oracle.batches, start=1):  # one call a step: that step's new structures, in order
        new = [r["smiles"] for r in rows if r["step"] == step and r["call"] is not None]
        assert batch == new and len(set(batch)) == len(batch)
    assert len(oracle.batches) == 4 and len(set(oracle.sent)) == len(oracle.sent)  # never sent twice
    assert all(canonical_smiles(s) == s for s in oracle.sent)  # canonical, valid
    assert [r["call"] for r in rows if r["call"] is not None] == list(range(1, len(oracle.sent) + 1))
    scores = dict(zip(oracle.sent, qed(oracle.sent)))
    for row in rows:
        if row["smiles"] is None:  # OPSIN could not parse it: not sent, scores 0
            assert row["call"] is None and row["score"] == 0.0
        else:  # a duplicate gets the cached score
            assert row["score"] == pytest.approx(scores[row["smiles"]], abs=1e-12)
    assert any(r["call"] is None and r["smiles"] for r in rows)  # there were duplicates
    assert result.valid_names == sum(r["smiles"] is not None for r in rows) and result.names_scored == 64
    assert result.structures == len(oracle.sent) and [s for s, _ in result.scored] == oracle.sent


def test_a_scoring_function_used_again_starts_each_run_afresh(tiny_model_path):
    from chemgen.goal.scoring import ScoringFunction

    oracle = Recorder()
    scoring = ScoringFunction([oracle])
    first = optimize(scoring, prior=str(tiny_model_path), budget=20, **FAST)
    second = optimize(scoring, prior=str(tiny_model_path), budget=20, **FAST)
    assert first.scored == second.scored and len(oracle.sent) == 40  # the same run twice, each with its budget


def test_budget_caps_what_the_oracle_sees_and_stops_the_run(tiny_model_path):
    oracle, lines = Recorder(), []
    result = optimize(oracle, prior=str(tiny_model_path), budget=40, progress=lines.append, **FAST)
    assert len(oracle.sent) == 40 and len(set(oracle.sent)) == 40 and result.structures == 40
    assert result.stop_reason == "budget reached: 40 distinct structures scored" and lines[-1].startswith("stopped: ")
    assert "structures 40/40" in lines[-2] and result.steps_done == len(lines) - 1
    scores = qed(oracle.sent)  # PMO's figures, of what the oracle saw, in its order
    assert result.auc_top10 == pytest.approx(auc_top_k(scores, 10, 100, 40), abs=1e-12)
    assert (result.top1, result.top10, result.top100) == pytest.approx(
        (max(scores), top_k_mean(scores, 10), np.mean(scores)), abs=1e-12)


def test_an_oracle_combines_with_filter_components(tiny_model_path, tmp_path):
    oracle, log = Recorder(), tmp_path / "run.jsonl"
    score = ["opsin", "rdkit(mw=:100)", Component(oracle, weight=3),
             Component("rdkit", value="heavy_atoms", transform="clip", low=0, high=10, name="size")]
    optimize(score, prior=str(tiny_model_path), steps=3, log=log, **FAST)
    rows = rows_of(log)
    light = {r["smiles"] for r in rows if r["components"]["rdkit"] == 1.0}
    heavy = {r["smiles"] for r in rows if r["smiles"] and r["components"]["rdkit"] == 0.0}
    assert heavy and set(oracle.sent) <= light and not set(oracle.sent) & heavy  # the gate before it holds
    for row in rows:
        c = row["components"]
        mean = math.exp((3 * math.log(c["oracle"]) + math.log(c["size"])) / 4) if c["oracle"] and c["size"] else 0.0
        assert row["score"] == pytest.approx(c["opsin"] * c["rdkit"] * mean, abs=1e-9)  # gates x geometric mean


# ---------------------------------------------------------------- collapse


def test_a_run_that_draws_no_new_structure_stops(tiny_model):
    lines = []  # chloro's names have one of ten structures, so new ones soon run out
    result = optimize("chloro", prior=tiny_model, budget=1000, stale_steps=3, progress=lines.append, **FAST)
    assert result.stop_reason == "no new structure in 3 steps: the agent has collapsed"
    assert result.structures <= 10 and lines[-1] == "stopped: " + result.stop_reason
    assert [r["step"] for r in result.history][-3:] == [result.steps_done - 2, result.steps_done - 1,
                                                        result.steps_done]


def test_patience_stops_when_the_best_scores_stay_the_same(tiny_model, monkeypatch):
    monkeypatch.setattr(agent_module, "PATIENCE_AFTER", 4)  # PMO counts after 1,000 structures
    result = optimize("chloro", prior=tiny_model, budget=1000, stale_steps=0, patience=2, **FAST)
    assert result.stop_reason.startswith("the 100 best scores unchanged for 2 steps after")
    assert optimize("chloro", prior=tiny_model, patience=2, **FAST).stop_reason == result.stop_reason  # no budget
    without = optimize("chloro", prior=tiny_model, budget=1000, stale_steps=0, steps=12, **FAST)
    assert without.steps_done == 12 and without.stop_reason == ""  # patience is off unless asked


def test_runs_without_an_oracle_or_budget_log_as_before(tiny_model, tmp_path):
    log = tmp_path / "plain.jsonl"
    result = optimize("chloro", prior=tiny_model, steps=2, log=log, **FAST)
    assert "call" not in rows_of(log)[0] and result.steps_done == 2 and result.stop_reason == ""
    assert result.structures == len({r["smiles"] for r in rows_of(log)})  # still counted for the figures


# ---------------------------------------------------------------- resume


def test_an_interrupted_run_resumes_exactly(tiny_model_path, tmp_path):
    whole_oracle = Recorder()
    whole = optimize(whole_oracle, prior=str(tiny_model_path), budget=60, log=tmp_path / "a.jsonl", **FAST)

    def interrupt_on_second_call(smiles):
        if len(first.batches) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the step finishes, then the run stops
        return qed(smiles)

    first, ckpt = Recorder(interrupt_on_second_call), tmp_path / "b.ckpt.npz"
    with pytest.raises(OptimizeInterrupted) as stop:
        optimize(first, prior=str(tiny_model_path), budget=60, checkpoint=ckpt, log=tmp_path / "b.jsonl", **FAST)
    assert stop.value.step == 2 and stop.value.result.structures == len(first.sent)
    second = Recorder()
    resumed = optimize(second, prior=str(tiny_model_path), budget=60, resume=ckpt, log=tmp_path / "b.jsonl", **FAST)
    assert first.batches + second.batches == whole_oracle.batches  # nothing sent twice, nothing skipped
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert resumed.scored == whole.scored and resumed.auc_top10 == whole.auc_top10
    assert resumed.stop_reason == whole.stop_reason and resumed.valid_names == whole.valid_names
    for key, value in whole.agent.params_.items():
        assert np.array_equal(value, resumed.agent.params_[key]), key


# ---------------------------------------------------------------- bad oracles


def nan(smiles):
    return [math.nan] * len(smiles)


def too_few(smiles):
    return [0.5] * (len(smiles) - 1)


def boom(smiles):
    raise ValueError("docking server\nunreachable")


@pytest.fixture(scope="module")
def good_run(tiny_model_path, tmp_path_factory):
    """Four steps with a working oracle: its batches and its log."""
    good, log = Recorder(), tmp_path_factory.mktemp("good") / "a.jsonl"
    optimize(good, prior=str(tiny_model_path), steps=4, log=log, **FAST)
    return good.batches, log.read_text()


@pytest.mark.parametrize("failure, words", [
    (boom, "oracle 'Recorder' raised ValueError: docking server"),
    (nan, "is nan, outside [0, 1]"),
    (too_few, "scores for"),
])
def test_a_failing_oracle_loses_nothing_and_a_resume_continues(failure, words, good_run, tiny_model_path,
                                                               tmp_path):
    bad = Recorder(fail_at=3, failure=failure)
    ckpt, log, summary = tmp_path / "b.ckpt.npz", tmp_path / "b.jsonl", tmp_path / "b.csv"
    with pytest.raises(OracleError) as error:
        optimize(bad, prior=str(tiny_model_path), steps=4, checkpoint=ckpt, log=log, summary=summary, **FAST)
    message = str(error.value)
    assert words in message and "\n" not in message and "(at step 3;" in message and str(ckpt) in message
    kept = sum(map(len, bad.batches[:2]))
    assert error.value.result.structures == kept and error.value.result.steps_done == 2
    assert {r["step"] for r in rows_of(log)} == {1, 2}  # the log so far
    assert len(list(csv.DictReader(summary.open()))) == len({r["smiles"] for r in rows_of(log) if r["smiles"]})
    saved = modelfile.read_npz(ckpt)[1]["optimize_state"]
    assert saved["step"] == 2 and len(saved["oracles"][0]["smiles"]) == kept
    fixed = Recorder()
    optimize(fixed, prior=str(tiny_model_path), steps=4, resume=ckpt, log=log, **FAST)
    assert bad.batches[:2] + fixed.batches == good_run[0]  # the failed step's batch is drawn again
    assert log.read_text() == good_run[1]


@pytest.mark.parametrize("run, words", [
    ("exit 3", "exited with status 3"),
    ("sleep 20", "did not finish within timeout=0.5 s"),
])
def test_cli_command_oracle_failures_are_one_line_and_keep_the_checkpoint(run, words, tiny_model_path, tmp_path,
                                                                         capsys):
    out = tmp_path / "agent.npz"
    spec = f'command(run="{run}", timeout=0.5)'
    code = main(["optimize", "--score", spec, "--prior", str(tiny_model_path), "--steps", "3", "--batch-size", "8",
                 "--seed", "0", "--out", str(out), "--log", str(tmp_path / "run.jsonl")])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err and len(lines) == 1
    assert lines[0].startswith(f"chemgen: error: command {run!r} {words}")
    assert "(at step 1; 0 structures scored in 0 steps kept; checkpoint" in lines[0]
    assert modelfile.read_npz(tmp_path / "agent.ckpt.npz")[1]["optimize_state"]["step"] == 0 and out.exists()


# ---------------------------------------------------------------- the command line


def test_cli_command_oracle_with_a_budget(tiny_model_path, tmp_path, capsys):
    out, log = tmp_path / "cmd.npz", tmp_path / "cmd.jsonl"
    spec = f'command(run="{LENGTH_COMMAND}", parallel=2)'
    assert main(["optimize", "--score", spec, "--budget", "30", "--prior", str(tiny_model_path), "--batch-size",
                 "16", "--seed", "0", "--out", str(out), "--log", str(log)]) == 0
    err = capsys.readouterr().err
    rows = rows_of(log)
    sent = [r for r in rows if r["call"] is not None]
    assert [r["call"] for r in sent] == list(range(1, 31)) and set(rows[0]["components"]) == {"opsin", "rdkit",
                                                                                               "command"}
    assert all(r["components"]["command"] == min(1, len(r["smiles"]) / 20) for r in sent)
    assert "stopped: budget reached: 30 distinct structures scored" in err
    summary = err.strip().splitlines()[-1]
    assert "30 distinct structures" in summary and "AUC top-10 " in summary and "top-1/10/100 " in summary
    meta = modelfile.read_npz(out)[1]["optimize"]
    assert meta["settings"]["budget"] == 30 and meta["structures"] == 30
    assert [c["filter"] for c in meta["scoring"]][:2] == ["opsin", "rdkit(properties=none)"]
    # the same scoring from a run file, resumed from its checkpoint with the scoring the checkpoint holds
    run = tmp_path / "run.toml"
    run.write_text(f'prior = "{tiny_model_path}"\nsteps = 2\nbatch_size = 8\nseed = 0\nbudget = 100\n'
                   f'out = "{tmp_path / "t.npz"}"\n[scoring]\n[[scoring.component]]\nfilter = "opsin"\n'
                   f"[[scoring.component]]\nfilter = '''command(run=\"{LENGTH_COMMAND}\")'''\n")
    assert main(["optimize", "--config", str(run)]) == 0
    assert main(["optimize", "--resume", str(tmp_path / "t.ckpt.npz"), "--steps", "3", "--out",
                 str(tmp_path / "t.npz")]) == 0
    meta = modelfile.read_npz(tmp_path / "t.npz")[1]["optimize"]
    assert meta["steps_done"] == 3 and meta["scoring"][1]["filter"].startswith("command(")
