"""Sample-efficiency settings of chemgen optimize: distinct structures per step, REINVENT's likelihood penalty,
replay drawn by score, and Augmented Memory (other names of a structure), on the tiny model."""
from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import QED

from chemgen import Verdict, inject_filter
from chemgen.filters import remove_injected
from chemgen.goal import optimize
from chemgen.goal import agent as agent_module
from chemgen.goal.memory import NameVariants, ReplayMemory
from chemgen.goal.oracle import canonical_smiles

FAST = dict(batch_size=16, sigma=20.0, learning_rate=3e-3, random_state=0)


class Chloro:
    """Graded, with one of ten fake structures per name: a batch holds many samples of one structure."""

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


@pytest.fixture
def learnt(monkeypatch):
    """Every call of the learning step: (names, scores)."""
    calls = []
    original = agent_module.learn

    def learn(run, names, scores, **kwargs):
        calls.append((list(names), np.array(scores)))
        return original(run, names, scores, **kwargs)

    monkeypatch.setattr(agent_module, "learn", learn)
    return calls


def qed(smiles):
    return [QED.qed(Chem.MolFromSmiles(s)) for s in smiles]


def test_first_of_each_structure_and_of_each_name_without_one():
    kept = agent_module.first_of_each(["A", None, "A", "B", None, None], ["a", "x", "b", "c", "x", "y"])
    assert kept.tolist() == [0, 1, 3, 5]


def test_unique_structures_learn_each_structure_once_and_log_every_sample(tiny_model, learnt, tmp_path):
    import json

    log = tmp_path / "run.jsonl"
    optimize("chloro", prior=tiny_model, steps=1, unique_structures=True, replay=False, log=log, **FAST)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    names, _ = learnt[0]
    first = {}
    for row in rows:
        first.setdefault(row["smiles"], row["name"])
    assert names == list(first.values()) and len(names) < len(rows) == 16  # one name per structure
    prior = tiny_model.score([r["name"] for r in rows])  # dropped samples are logged with their likelihoods too
    assert np.allclose([r["logp_prior"] for r in rows], prior, atol=1e-4)
    agent = tiny_model.score([r["name"] for r in rows])  # the agent starts as the prior
    assert np.allclose([r["logp_agent"] for r in rows], agent, atol=1e-4)
    optimize("chloro", prior=tiny_model, steps=1, replay=False, **FAST)
    assert len(learnt[1][0]) == 16  # off by default: every sample


def test_likelihood_penalty_adds_reinvents_term_to_the_loss(tiny_model, tmp_path):
    import json

    log = tmp_path / "run.jsonl"
    plain = optimize("chloro", prior=tiny_model, steps=1, **FAST)
    penalised = optimize("chloro", prior=tiny_model, steps=1, likelihood_penalty=5e3, log=log, **FAST)
    agent_logp = np.array([json.loads(line)["logp_agent"] for line in log.read_text().splitlines()])
    assert penalised.history[0]["loss"] - plain.history[0]["loss"] == pytest.approx(
        5e3 * np.mean(-1 / agent_logp), rel=1e-5)  # step 1 replays nothing: the batch is the whole loss
    two = optimize("chloro", prior=tiny_model, steps=2, likelihood_penalty=5e3, **FAST)
    assert not np.array_equal(two.agent.params_["Wya"], optimize("chloro", prior=tiny_model, steps=2,
                                                                 **FAST).agent.params_["Wya"])


def test_replay_by_score_draws_good_names_more_often():
    memory = ReplayMemory(size=3)
    for name, score in [("a", 0.9), ("b", 0.05), ("c", 0.05)]:
        memory.add(name, score, -10.0, name)
    rng = np.random.default_rng(0)
    drawn = [memory.sample(1, rng, by_score=True)[0]["name"] for _ in range(2000)]
    assert drawn.count("a") / 2000 == pytest.approx(0.9, abs=0.03)
    uniform = [memory.sample(1, rng)[0]["name"] for _ in range(2000)]
    assert uniform.count("a") / 2000 == pytest.approx(1 / 3, abs=0.04)
    assert {e["name"] for e in memory.sample(3, rng, by_score=True)} == {"a", "b", "c"}  # without replacement


def test_name_variants_give_another_known_name():
    variants = NameVariants(per_structure=3)
    for name in ["propan-1-ol", "propanol", "propanol", "1-propanol", "n-propanol"]:
        variants.add("CCCO", name)
    variants.add(None, "nothing")
    assert variants.names == {"CCCO": ["propan-1-ol", "propanol", "1-propanol"]}  # distinct, capped
    rng = np.random.default_rng(0)
    assert {variants.other("CCCO", "propanol", rng) for _ in range(50)} == {"propan-1-ol", "1-propanol"}
    assert variants.other("CCO", "ethanol", rng) == "ethanol" and variants.other(None, "x", rng) == "x"
    again = NameVariants()
    again.load(variants.state())
    assert again.names == variants.names


def test_augmented_rounds_learn_from_the_batch_and_the_whole_memory(tiny_model, learnt):
    result = optimize("chloro", prior=tiny_model, steps=2, augment_rounds=2, augment_names=False, replay_size=4,
                      memory_size=8, unique_structures=True, **FAST)
    assert len(learnt) == 2 * 3  # each step: its own update, then two rounds
    (names, scores), first, second = learnt[:3]  # step 1 replays nothing: its names are the kept samples
    assert first[0] == second[0] and np.array_equal(first[1], second[1])  # the same names again (no augmentation)
    memory = first[0][len(names):]
    assert first[0][: len(names)] == names and np.array_equal(first[1][: len(names)], scores)
    assert 0 < len(memory) <= 8 and sorted(first[1][len(names):], reverse=True) == list(first[1][len(names):])
    assert result.steps_done == 2 and len(learnt[3][0]) > len(learnt[3][0]) - 4


def test_augmented_names_replay_a_structure_under_its_other_valid_names(tiny_model_path, learnt):
    result = optimize(qed, prior=str(tiny_model_path), steps=3, augment_rounds=1, **FAST)
    names = [n for step in range(3) for n in learnt[2 * step][0]]  # what the steps learnt as sampled
    rounds = [n for step in range(3) for n in learnt[2 * step + 1][0]]
    other = sorted(set(rounds) - set(names))
    assert other  # names the agent did not write this run: the namer's
    from chemgen.chem.opsin import OpsinProcess

    with OpsinProcess() as opsin:
        parsed = [canonical_smiles(s) for s in opsin.parse_names(other)]
    assert all(parsed)  # each a valid name
    assert set(parsed) <= {s for s, _ in result.scored}  # of a structure the run scored


def test_a_run_with_every_setting_resumes_exactly(tiny_model_path, tmp_path):
    settings = dict(unique_structures=True, likelihood_penalty=50.0, replay_by_score=True, augment_rounds=1,
                    budget=60, **FAST)
    whole = optimize(qed, prior=str(tiny_model_path), log=tmp_path / "a.jsonl", **settings)
    ckpt = tmp_path / "b.ckpt.npz"
    optimize(qed, prior=str(tiny_model_path), log=tmp_path / "b.jsonl", checkpoint=ckpt, steps=2, **settings)
    resumed = optimize(qed, prior=str(tiny_model_path), log=tmp_path / "b.jsonl", resume=ckpt, **settings)
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert resumed.scored == whole.scored
    for key, value in whole.agent.params_.items():
        assert np.array_equal(value, resumed.agent.params_[key]), key


def test_learn_share_learns_from_the_best_of_the_batch_only(tiny_model, learnt, tmp_path):
    import json

    log = tmp_path / "run.jsonl"
    optimize("chloro", prior=tiny_model, steps=1, learn_share=0.25, replay=False, log=log, **FAST)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    names, scores = learnt[0]
    assert len(names) == 4 and sorted(scores) == sorted(r["score"] for r in rows)[-4:]  # AHC: the best quarter
    assert names == [r["name"] for r in rows if r["name"] in names][:4]  # in batch order
    kept = agent_module.learnt_samples(agent_module.OptimizeConfig(unique_structures=True, learn_share=0.5),
                                       ["A", "A", "B", "C", None], list("abcde"), np.array([0.9, 0.9, 0.1, 0.5, 0.0]))
    assert kept.tolist() == [0, 3]  # each structure once, then the best half of the batch's five (two)
    with pytest.raises(Exception, match="learn_share must be in"):
        optimize("chloro", prior=tiny_model, steps=1, learn_share=0.0, **FAST)


def test_hill_climb_raises_the_likelihood_of_the_memory(tiny_model, learnt):
    result = optimize("chloro", prior=tiny_model, steps=24, loss="hill_climb", memory_size=16, **FAST)
    names, _ = learnt[-1]
    assert len(learnt) == 24 and 0 < len(names) <= 16  # one step a batch, on the whole memory: the names scored
    assert all("chloro" in name for name in names)  # above 0, one per (fake) structure
    means = [row["mean_score"] for row in result.history]
    assert np.mean(means[-6:]) > np.mean(means[:6]) + 0.1
    from chemgen.goal.agent import _prepare, learn, scoring_of
    from chemgen.goal.config import OptimizeConfig

    run = _prepare(OptimizeConfig(loss="hill_climb"), scoring_of("chloro"), tiny_model)
    prior, agent, loss = learn(run, ["chloroethane", "propanol"], np.zeros(2), hill_climb=True)
    assert np.isnan(prior).all() and loss == pytest.approx(-np.mean(tiny_model.score(["chloroethane", "propanol"])),
                                                           rel=1e-5)
    from chemgen.model.score import logp_of

    assert np.mean(logp_of(run.agent, ["chloroethane", "propanol"])) > -loss  # one step up their likelihood
