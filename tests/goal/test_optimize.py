"""chemgen optimize on the tiny model with injected filters (no Java): learning, outputs, resume, Ctrl-C, CLI."""
import csv
import hashlib
import json
import os
import signal

import numpy as np
import pytest

from chemgen import CharRNN, Verdict, inject_filter
from chemgen.cli import main
from chemgen.filters import remove_injected
from chemgen.goal import OptimizeInterrupted, optimize
from chemgen.goal.memory import DiversityFilter, ReplayMemory
from chemgen.model import modelfile

FAST = dict(batch_size=16, sigma=20.0, learning_rate=3e-3, random_state=0)


class Chloro:
    """Graded: the share of 'chloro' in a name (up to two), with a fake structure (a chain on a ring)."""

    name = "chloro"
    graded = True

    def check(self, candidates):
        return [Verdict(True, min(1.0, c.name.count("chloro") / 2), "",
                        {"smiles": "C" * (1 + len(c.name) % 5) + ("c1ccccc1" if "chloro" in c.name else "")})
                for c in candidates]


class Interrupting(Chloro):
    """Presses Ctrl-C while scoring the second batch."""

    calls = 0

    def check(self, candidates):
        Interrupting.calls += 1
        if Interrupting.calls == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return super().check(candidates)


@pytest.fixture(autouse=True)
def injected():
    inject_filter("chloro", Chloro)
    inject_filter("interrupting", Interrupting)
    yield
    remove_injected("chloro")
    remove_injected("interrupting")


def test_the_agent_learns_toward_the_score(tiny_model):
    result = optimize("chloro", prior=tiny_model, steps=24, **FAST)
    means = [row["mean_score"] for row in result.history]
    assert np.mean(means[-6:]) > np.mean(means[:6]) + 0.1
    assert isinstance(result.agent, CharRNN) and result.names_scored == 24 * 16
    assert result.best[0]["score"] == 1.0 and result.top_mean(3) > 0.5
    assert all(r["smiles"] for r in result.best)  # one row per structure
    assert len({r["smiles"] for r in result.best}) == len(result.best)


def test_the_prior_is_left_alone(tiny_model):
    before = {k: v.copy() for k, v in tiny_model.params_.items()}
    optimize("chloro", prior=tiny_model, steps=2, **FAST)
    assert all(np.array_equal(before[k], tiny_model.params_[k]) for k in before)


def test_outputs(tiny_model_path, tmp_path):
    out, log, summary = tmp_path / "agent.npz", tmp_path / "run.jsonl", tmp_path / "best.csv"
    lines = []
    optimize("chloro", prior=str(tiny_model_path), steps=3, out=out, log=log, summary=summary, progress=lines.append,
             **FAST)
    agent = CharRNN.load(out)
    assert agent.sample(3, random_state=0)
    meta = modelfile.read_npz(out)[1]
    assert meta["parent"] == {"path": str(tiny_model_path),
                              "sha256": hashlib.sha256(tiny_model_path.read_bytes()).hexdigest()}
    assert meta["training"]["parent"] == {"model": meta["parent"]["path"], "sha256": meta["parent"]["sha256"]}
    assert meta["optimize"]["steps_done"] == 3 and meta["optimize"]["scoring"][0]["filter"] == "chloro"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 3 * 16 and {r["step"] for r in rows} == {1, 2, 3}
    assert set(rows[0]) >= {"step", "name", "logp_prior", "logp_agent", "score", "components", "smiles", "scaffold"}
    assert rows[0]["logp_prior"] < 0 and rows[0]["components"]["chloro"] == rows[0]["score"]
    table = list(csv.DictReader(summary.open()))
    assert table[0]["rank"] == "1" and "chloro" in table[0] and float(table[0]["score"]) >= float(table[-1]["score"])
    assert len(lines) == 3 and lines[0].startswith("step 1/3  score mean") and "valid 100%" in lines[0]
    assert "scaffolds" in lines[0]


def test_resume_continues_exactly(tiny_model_path, tmp_path):
    whole = optimize("chloro", prior=str(tiny_model_path), steps=4, out=tmp_path / "a.npz", log=tmp_path / "a.jsonl",
                     **FAST)
    ckpt = tmp_path / "b.ckpt.npz"
    optimize("chloro", prior=str(tiny_model_path), steps=2, checkpoint=ckpt, log=tmp_path / "b.jsonl", **FAST)
    resumed = optimize("chloro", prior=str(tiny_model_path), steps=4, resume=ckpt, out=tmp_path / "b.npz",
                       log=tmp_path / "b.jsonl", **FAST)
    for key, value in whole.agent.params_.items():
        assert np.array_equal(value, resumed.agent.params_[key]), key
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert [r["mean_score"] for r in whole.history] == [r["mean_score"] for r in resumed.history]


def test_resume_refuses_another_scoring(tiny_model_path, tmp_path):
    ckpt = tmp_path / "c.ckpt.npz"
    optimize("chloro", prior=str(tiny_model_path), steps=1, checkpoint=ckpt, **FAST)
    with pytest.raises(Exception, match="another scoring spec"):
        optimize("chloro[weight=2]", prior=str(tiny_model_path), steps=2, resume=ckpt, **FAST)


def test_ctrl_c_finishes_the_step_and_saves(tiny_model_path, tmp_path):
    Interrupting.calls = 0
    ckpt, out = tmp_path / "i.ckpt.npz", tmp_path / "i.npz"
    with pytest.raises(OptimizeInterrupted) as stop:
        optimize("interrupting", prior=str(tiny_model_path), steps=10, checkpoint=ckpt, out=out, **FAST)
    assert stop.value.step == 2 and stop.value.result.steps_done == 2
    assert modelfile.read_npz(ckpt)[1]["optimize_state"]["step"] == 2 and out.exists()


def test_diversity_filter_buckets():
    df = DiversityFilter(bucket_size=2, min_score=0.4)
    out = df.penalise(np.array([0.9, 0.5, 0.3, 0.8, 0.7, 0.9]), ["A", "A", "A", "A", "B", None])
    assert out.tolist() == [0.9, 0.5, 0.3, 0.0, 0.7, 0.9]
    assert df.buckets == {"A": 2, "B": 1}


def test_replay_memory_keeps_the_best_per_structure():
    memory = ReplayMemory(size=2)
    for name, score, key in [("a", 0.5, "X"), ("b", 0.9, "X"), ("c", 0.7, "Y"), ("d", 0.1, "Z"), ("e", 0.0, "W")]:
        memory.add(name, score, -10.0, key)
    assert [(e["name"], e["score"]) for e in memory.entries] == [("b", 0.9), ("c", 0.7)]
    assert len(memory.sample(5, np.random.default_rng(0))) == 2


def test_cli_run_and_toml(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "cli.npz"
    assert main(["optimize", "--score", "chloro", "--prior", str(tiny_model_path), "--steps", "2", "--batch-size",
                 "8", "--seed", "0", "--out", str(out), "--summary", str(tmp_path / "s.csv")]) == 0
    err = capsys.readouterr().err
    assert "step 2/2" in err and "agent saved to" in err and out.exists()
    run = tmp_path / "run.toml"
    run.write_text(f'prior = "{tiny_model_path}"\nsteps = 2\nbatch_size = 8\nseed = 0\nout = "{tmp_path / "t.npz"}"\n'
                   '[scoring]\n[[scoring.component]]\nfilter = "chloro"\nweight = 2\n')
    assert main(["optimize", "--config", str(run), "--no-replay"]) == 0
    meta = modelfile.read_npz(tmp_path / "t.npz")[1]["optimize"]
    assert meta["scoring"][0]["weight"] == 2 and meta["settings"]["replay"] is False


@pytest.mark.parametrize("argv, message", [
    (["--score", "chloro[wieght=2]"], "unknown scoring setting"),
    (["--score", "nosuch"], "unknown filter 'nosuch'"),
    (["--score", "similar(to=missing.smi)"], "does not exist"),
    ([], "give --score"),
    (["--score", "chloro", "--steps", "-1"], "steps"),
])
def test_cli_bad_specs_are_one_line_errors(argv, message, tiny_model_path, tmp_path, capsys):
    try:
        code = main(["optimize", "--prior", str(tiny_model_path), "--out", str(tmp_path / "x.npz"), *argv])
    except SystemExit as exit_:  # argparse's own one-line usage error
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_cli_resume_takes_settings_and_scoring_from_the_checkpoint(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert main(["optimize", "--score", "chloro[weight=2]", "--prior", str(tiny_model_path), "--steps", "2",
                 "--batch-size", "8", "--seed", "0", "--out", str(out)]) == 0
    assert main(["optimize", "--resume", str(tmp_path / "r.ckpt.npz"), "--steps", "3", "--out", str(out)]) == 0
    assert "step 3/3" in capsys.readouterr().err
    meta = modelfile.read_npz(out)[1]["optimize"]
    assert meta["steps_done"] == 3 and meta["settings"]["batch_size"] == 8


def test_time_limit_stops_early(tiny_model):
    result = optimize("chloro", prior=tiny_model, steps=50, time_limit=1e-9, **FAST)
    assert result.steps_done == 1


def test_threads_share_each_step_and_learn_as_one_thread_does(tiny_model):
    one = optimize("chloro", prior=tiny_model, steps=4, threads=1, **FAST)
    two = optimize("chloro", prior=tiny_model, steps=4, threads=2, **FAST)
    assert [r["mean_score"] for r in one.history] == [r["mean_score"] for r in two.history]  # the same names
    for key, value in one.agent.params_.items():  # the parts' gradients summed: the same steps, up to rounding
        np.testing.assert_allclose(two.agent.params_[key], value, rtol=1e-4, atol=2e-5, err_msg=key)
