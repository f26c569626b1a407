import os
import signal

import numpy as np
import pytest

from chemgen import CharRNN
from chemgen.errors import ConfigError, ModelFileError
from chemgen.model.train import TrainingInterrupted


def small(**kw):
    settings = dict(cell="gru", hidden_size=24, steps=40, batch_size=16, eval_every=20, n_print=0, random_state=3)
    settings.update(kw)
    return CharRNN(**settings)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_tiny_corpus_is_learned(cell, corpus):
    model = CharRNN(cell=cell, hidden_size=48, steps=250, batch_size=32, eval_every=50, n_print=0, random_state=0)
    model.fit(corpus)
    losses = [row["valid_loss"] for row in model.history_]
    assert losses[-1] < 0.75 * losses[0]
    assert np.log(model.vocab_.size) > losses[-1]  # far better than uniform guessing


def test_samples_resemble_the_corpus(tiny_model, corpus):
    names = [c.name for c in tiny_model.sample(200, temperature=0.7, random_state=0)]
    endings = ("ane", "ene", "yne", "ol", "al", "one", "acid", "amine")
    assert sum(n.endswith(endings) for n in names) > 0.8 * len(names)
    assert sum(n in set(corpus) for n in names) > 0.3 * len(names)


def test_same_seed_same_model(corpus):
    a, b = small().fit(corpus), small().fit(corpus)
    for key in a.params_:
        np.testing.assert_array_equal(a.params_[key], b.params_[key])


def test_resume_reproduces_the_uninterrupted_run(corpus, tmp_path):
    straight = small(steps=40, lr_decay=False).fit(corpus)
    ckpt = tmp_path / "ckpt.npz"
    small(steps=20, lr_decay=False).fit(corpus, checkpoint=ckpt)
    resumed = small(steps=40, lr_decay=False).fit(corpus, resume=ckpt)
    for key in straight.params_:
        np.testing.assert_array_equal(straight.params_[key], resumed.params_[key])
    assert resumed.training_info_["steps_done"] == 40


def test_dropout_trains_reproducibly_and_resumes_exactly(corpus, tmp_path):
    straight = small(steps=40, dropout=0.3, lr_decay=False).fit(corpus)
    assert not np.array_equal(straight.params_["Wya"], small(steps=40, lr_decay=False).fit(corpus).params_["Wya"])
    ckpt = tmp_path / "ckpt.npz"
    small(steps=20, dropout=0.3, lr_decay=False).fit(corpus, checkpoint=ckpt)
    resumed = small(steps=40, dropout=0.3, lr_decay=False).fit(corpus, resume=ckpt)
    for key in straight.params_:
        np.testing.assert_array_equal(straight.params_[key], resumed.params_[key])
    straight.save(tmp_path / "m.npz")
    assert CharRNN.load(tmp_path / "m.npz").dropout == 0.3


def test_short_names_are_drawn_less_often(corpus):
    from chemgen.model.train import draw_chances

    lengths = np.array([5, 5, 40, 40])
    assert draw_chances(small().train_config(), lengths) is None
    chances = draw_chances(small(short_below=10, short_weight=0.25).train_config(), lengths)
    np.testing.assert_allclose(chances, [0.1, 0.1, 0.4, 0.4])
    model = small(steps=30, short_below=12, short_weight=0.2).fit(corpus)
    assert model.get_params()["short_below"] == 12


def test_name_floor_keeps_every_name_below_the_capped_chance(tmp_path):
    names = ["methane", "ethane", "propane", "butane", "pentane"] * 4
    settings = dict(hidden_size=32, steps=300, batch_size=8, valid_fraction=0, random_state=0, embed=0, weight_init="seed")
    free = -small(**settings).fit(names).score(names[:5])  # (5,) nats per name
    floored_model = small(name_floor=3.5, **settings).fit(names)
    floored = -floored_model.score(names[:5])
    assert free.max() < 2.7 < floored.min()  # learnt by heart without the floor; held near it with
    floored_model.save(tmp_path / "m.npz")
    assert CharRNN.load(tmp_path / "m.npz").name_floor == 3.5


def test_name_floor_holds_names_up_with_the_default_network():
    """With an embedding, names sharing most characters pull each other below the floor more
    (here propane, to 2.0 nats): the floor holds them up on average, not each one tightly."""
    names = ["methane", "ethane", "propane", "butane", "pentane"] * 4
    settings = dict(hidden_size=32, steps=300, batch_size=8, valid_fraction=0, random_state=0)
    free = -small(**settings).fit(names).score(names[:5])  # (5,) nats per name
    floored = -small(name_floor=3.5, **settings).fit(names).score(names[:5])
    assert free.max() < 2.2 and floored.mean() > 2.7 and floored.min() > free.min()


def test_names_under_the_name_floor_give_no_gradient(corpus):
    from chemgen.model.network import logp_of_targets
    from chemgen.model.train import above_floor

    model = small(steps=1, name_floor=1e9, lr_decay=False).fit(corpus)
    untouched = small(steps=0).fit(corpus)
    for key in model.params_:
        np.testing.assert_array_equal(model.params_[key], untouched.params_[key])
    logp = np.log(np.full((3, 2, 4), 0.25, dtype=np.float32))  # (T, B, V)
    targets, mask = np.zeros((3, 2), dtype=np.int32), np.array([[1, 1], [1, 1], [1, 0]], dtype=np.float32)
    name_logp = logp_of_targets(logp, targets, mask)  # (B,)
    for floor, expected in ((4.5, [0, 0]), (3.5, [1, 0]), (2.5, [1, 1])):  # losses: 3 and 2 chars x ln 4 nats
        np.testing.assert_array_equal(above_floor(name_logp, floor), expected)


def test_resume_refuses_other_names_or_a_plain_model(corpus, tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    model = small(steps=10).fit(corpus, checkpoint=ckpt)
    with pytest.raises(ConfigError, match="other names"):
        small().fit(corpus[:-50], resume=ckpt)
    model.save(tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        small().fit(corpus, resume=tmp_path / "plain.npz")


def test_best_model_is_kept_and_written(corpus, tmp_path):
    best = tmp_path / "best.npz"
    model = small(steps=60).fit(corpus, best_path=best)
    assert best.exists()
    rows = model.history_
    best_row = min(rows, key=lambda r: r["valid_loss"])
    assert model.training_info_["best_step"] == best_row["step"]
    reloaded = CharRNN.load(best)
    np.testing.assert_allclose(reloaded.score(corpus[:20]), model.score(corpus[:20]))


def ctrl_c_on_call(monkeypatch, call: int) -> dict[str, int]:
    """Make train_step send a real Ctrl-C in the middle of its call-th call; returns the running count of calls."""
    import chemgen.model.train as train

    calls = {"n": 0}
    real_step = train.train_step

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == call:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(*args)

    monkeypatch.setattr(train, "train_step", interrupted)
    return calls


def test_ctrl_c_stops_between_steps_and_resume_is_exact(corpus, tmp_path, monkeypatch):
    straight = small(steps=20, lr_decay=False).fit(corpus)
    ctrl_c_on_call(monkeypatch, 7)
    ckpt = tmp_path / "ckpt.npz"
    with pytest.raises(TrainingInterrupted) as info:
        small(steps=20, lr_decay=False).fit(corpus, checkpoint=ckpt)
    assert info.value.step == 7 and ckpt.exists()  # the step in progress was finished, then saved
    resumed = small(steps=20, lr_decay=False).fit(corpus, resume=ckpt)
    for key in straight.params_:
        np.testing.assert_array_equal(straight.params_[key], resumed.params_[key])


def test_interrupted_fine_tuning_resumes_exactly_with_its_warmup_and_decay(corpus, tmp_path, monkeypatch):
    small(steps=20).fit(corpus[:150]).save(tmp_path / "base.npz")
    settings = dict(epochs=0, steps=30, lr_decay=True, decay_share=1.0, warmup=5, batch_size=16)

    def tuned(**options) -> CharRNN:
        return CharRNN.load(tmp_path / "base.npz").fine_tune(corpus[150:], settings=settings, **options)

    straight = tuned()
    calls = ctrl_c_on_call(monkeypatch, 12)
    with pytest.raises(TrainingInterrupted):
        tuned(checkpoint=tmp_path / "ckpt.npz")
    resumed = tuned(resume=tmp_path / "ckpt.npz")
    assert calls["n"] == 30  # 12 before the Ctrl-C, 18 after: it went on from the checkpoint, not from the start
    for key in straight.params_:
        np.testing.assert_array_equal(straight.params_[key], resumed.params_[key])
    assert resumed.training_info_["steps_done"] == 30


def test_a_diverging_loss_stops_with_a_message_and_keeps_earlier_files(corpus, tmp_path, monkeypatch):
    import chemgen.model.train as train
    from chemgen.errors import ChemgenError

    calls = {"n": 0}
    real_step = train.train_step

    def diverging(*args):
        calls["n"] += 1
        return float("nan") if calls["n"] == 25 else real_step(*args)

    monkeypatch.setattr(train, "train_step", diverging)
    ckpt, best = tmp_path / "ckpt.npz", tmp_path / "best.npz"
    with pytest.raises(ChemgenError, match="diverged at step 25"):
        small(steps=40).fit(corpus, checkpoint=ckpt, checkpoint_every=10, best_path=best)
    assert CharRNN.load(ckpt).training_info_["steps_done"] == 20 and CharRNN.load(best).training_info_["steps_done"] == 20


@pytest.mark.parametrize("bad", [dict(cell="transformer"), dict(hidden_size=0), dict(learning_rate=-1.0),
                                 dict(clip="both"), dict(valid_fraction=1.5), dict(dtype="float16"),
                                 dict(dropout=1.0), dict(dropout=-0.1), dict(short_below=-1),
                                 dict(short_weight=0.0), dict(short_weight=2.0), dict(name_floor=-1.0),
                                 dict(name_floor=float("nan")), dict(embed=-1), dict(warmup=-2),
                                 dict(weight_init="glorot"), dict(weight_init="chemgen,gate_bias=x"), dict(decay_share=0.0),
                                 dict(threads=0)])
def test_bad_settings_are_one_line_errors(bad, corpus):
    with pytest.raises(ConfigError):
        small(**bad).fit(corpus)


def test_bad_names_are_refused():
    with pytest.raises(ConfigError):
        small().fit("ethanol")
    with pytest.raises(ConfigError):
        small().fit(["ethanol", ""])
    with pytest.raises(ConfigError):
        small().fit([])


def test_seed_settings_train_through_the_batched_path(corpus):
    """The seed's recipe: vanilla cell, one name per step, SGD, clip by value."""
    model = CharRNN(cell="rnn", hidden_size=32, optimizer="sgd", learning_rate=0.05, batch_size=1, clip="value",
                    steps=300, eval_every=100, n_print=0, random_state=0, lr_decay=False).fit(corpus)
    assert model.history_[-1]["valid_loss"] < model.history_[0]["valid_loss"]


def test_learning_rate_warms_up_then_stays_or_decays():
    from chemgen.model.train import learning_rate_at

    flat = small(learning_rate=1.0, steps=100, warmup=3, lr_decay=False).train_config()
    assert [learning_rate_at(flat, s) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert learning_rate_at(flat, 99) == 1.0
    late = small(learning_rate=1.0, steps=100).train_config()  # by default the rate decays over the last 20% of the steps only
    assert learning_rate_at(late, 0) == learning_rate_at(late, 80) == 1.0
    assert learning_rate_at(late, 90) == pytest.approx(0.55) and learning_rate_at(late, 100) == pytest.approx(0.1)
    whole = small(learning_rate=1.0, steps=100, decay_share=1.0).train_config()  # the schedule before warm-up and decay_share
    assert learning_rate_at(whole, 50) == pytest.approx(0.55) and learning_rate_at(whole, 100) == pytest.approx(0.1)


def test_init_schemes(corpus):
    from chemgen.model import network
    from chemgen.model.cells import init_scheme

    config = network.NetConfig("gru", 8, 1, 10, "float64", embed=0)
    seed = network.init_params(config, np.random.default_rng(0), init_scheme("seed"))
    ours = network.init_params(config, np.random.default_rng(0), init_scheme("chemgen"))
    torch_like = network.init_params(config, np.random.default_rng(0), init_scheme("torch"))
    assert np.abs(seed["l0.Wx"]).max() <= 8 ** -0.5 < np.abs(ours["l0.Wx"]).max() <= 1.0  # one-hot rows at ±1
    assert not seed["l0.bx"].any() and np.all(ours["l0.bx"][8:16] == 1.0) and not ours["l0.bx"][:8].any()
    assert torch_like["l0.bx"].any() and torch_like["by"].any()
    model = small(steps=0).fit(corpus)  # default init: the output starts at the characters' log frequencies
    assert model.weight_init == "chemgen" and np.exp(model.params_["by"]).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        init_scheme("chemgen,recurrent=diagonal")


def test_embedding_model_saves_loads_and_scores_alike(corpus, tmp_path):
    model = small(embed=8).fit(corpus)
    assert model.params_["E"].shape == (model.vocab_.size, 8)
    model.save(tmp_path / "m.npz")
    again = CharRNN.load(tmp_path / "m.npz")
    assert again.embed == 8 and again.net_config_.embed == 8
    np.testing.assert_array_equal(again.score(corpus[:10]), model.score(corpus[:10]))


def test_model_files_without_the_learner_settings_load_as_trained(corpus, tmp_path):
    """Files written before embed/init/warmup existed: one-hot input, the seed's init, no warm-up."""
    from chemgen.model import modelfile

    model = small(embed=0, weight_init="seed", steps=10).fit(corpus)
    model.save(tmp_path / "m.npz")
    arrays, meta = modelfile.read_npz(tmp_path / "m.npz")
    for key in ("embed", "weight_init", "warmup", "decay_share"):
        del meta["settings"][key]
    del meta["config"]["embed"]
    modelfile.write_npz(tmp_path / "old.npz", arrays, meta)
    old = CharRNN.load(tmp_path / "old.npz")
    assert (old.embed, old.weight_init, old.warmup, old.decay_share, old.net_config_.embed) == (0, "seed", 0, 1.0, 0)
    np.testing.assert_array_equal(old.score(corpus[:10]), model.score(corpus[:10]))


def test_threads_split_the_minibatch_and_stay_deterministic(corpus):
    """Parts of a minibatch in threads: the same gradients up to rounding, and the same run twice."""
    from chemgen.model.cells import Workspace
    from chemgen.model.train import ThreadParts, _gradients

    model = small(dtype="float64", name_floor=30.0, steps=0).fit(corpus)
    config = model.train_config()
    codes, lengths = model.vocab_.encode_padded(corpus)
    rows = np.random.default_rng(0).integers(0, len(corpus), size=16)
    rows = rows[np.argsort(-lengths[rows], kind="stable")]
    whole, loss, _ = _gradients(config, model.learned_, codes, lengths, rows, None, Workspace(), None)
    pool = ThreadParts(3)
    parts, parts_loss = pool.gradients(config, model.learned_, codes, lengths, rows, None)
    pool.close()
    assert parts_loss == pytest.approx(loss, rel=1e-12)
    for key in whole:
        np.testing.assert_allclose(parts[key], whole[key], rtol=1e-9, atol=1e-12)
    a, b = small(threads=2, dropout=0.2).fit(corpus), small(threads=2, dropout=0.2).fit(corpus)
    for key in a.params_:
        np.testing.assert_array_equal(a.params_[key], b.params_[key])
