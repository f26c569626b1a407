"""Fine-tuning: start from a fitted model, grow its vocabulary, keep its architecture, record its parent."""
import subprocess
import sys

import numpy as np
import pytest

from chemgen import CharRNN
from chemgen.chem.analogs import widen_names, with_analogs
from chemgen.errors import ConfigError
from chemgen.model import network

SERIES = ["4-bromobutanol", "4-bromopentanol", "4-bromohexanol", "4-bromoheptanol", "4-bromooctanol"] * 3


def test_growing_the_vocabulary_keeps_every_old_weight(tiny_model):
    learned = tiny_model.learned_
    chars = learned.vocab.ix_to_char
    new_vocab = sorted(set(chars[1:]) | {"4", "Z"})
    old_rows = np.array([0] + [1 + new_vocab.index(c) for c in chars[1:]])
    config, params = network.grow_vocab(learned.config, learned.params, old_rows, len(new_vocab) + 1,
                                        np.random.default_rng(0))
    assert config.vocab_size == learned.config.vocab_size + 2
    for key, axis in network.vocab_axes(learned.config).items():
        np.testing.assert_array_equal(np.take(params[key], old_rows, axis=axis), learned.params[key])
    new = [1 + new_vocab.index(c) for c in "4Z"]
    assert params["by"][new].max() < learned.params["by"].min()  # unseen characters start rare


def test_fine_tune_learns_the_series_and_records_its_parent(tiny_model_path):
    model = CharRNN.load(tiny_model_path)
    before = model.learned_
    model.fine_tune(SERIES, settings={"epochs": 150, "learning_rate": 3e-3, "random_state": 0})
    assert model.net_config_.hidden_size == before.config.hidden_size and "4" in model.vocab_.chars
    assert model.training_info_["parent"]["model"] == str(tiny_model_path)
    assert len(model.training_info_["parent"]["sha256"]) == 64
    assert model.valid_fraction == 0.2 and model.batch_size == 16  # the small-set defaults
    assert model.in_training(["4-bromobutanol"]).all()  # the series joins the training fingerprint
    samples = [s.name for s in model.sample(100, random_state=0)]
    assert sum(s.startswith("4-bromo") for s in samples) > 20


def test_held_out_series_members_are_known_to_novel_after_fine_tuning(tiny_model_path, corpus):
    """Known to a fine-tuned model: the parent's training names and every series member, held out or not."""
    import chemgen

    series = ["4-bromo-2-chlorobutanol", "4-bromo-2-chloropentanol", "4-bromo-2-chlorohexanol",
              "4-bromo-2-chloroheptanol", "4-bromo-2-chlorooctanol", "4-bromo-2-chlorononanol"]
    parent = CharRNN.load(tiny_model_path)
    model = CharRNN.load(tiny_model_path).fine_tune(series, settings={"steps": 2, "valid_fraction": 0.5,
                                                                      "batch_size": 2, "random_state": 0})
    assert model.training_info_["n_valid"] == 3  # three members held out from training
    assert model.in_training(series).all() and not parent.in_training(series).any()
    assert (model.in_training(corpus) == parent.in_training(corpus)).all()  # the parent's known names stay known
    verdicts = [c.verdicts["novel"] for c in chemgen.check(series + ["4-bromo-2-chlorodecanol"], filters="novel",
                                                           model=model)]
    assert [v.passed for v in verdicts] == [False] * 6 + [True]
    assert all(v.reason == "seen in training" for v in verdicts[:6])


def test_fine_tune_keeps_the_architecture(tiny_model_path):
    with pytest.raises(ConfigError, match="keeps the starting model's architecture"):
        CharRNN.load(tiny_model_path).fine_tune(SERIES, settings={"hidden_size": 8})


def test_cli_fine_tunes_on_molecules_and_reports_bad_records(tiny_model_path, tmp_path):
    series = tmp_path / "series.smi"
    series.write_text("OCCCCBr s1\nOCCCCCBr s2\nnot_a_smiles s3\nOCCCCCCBr s4\nOCCCCCCCBr s5\n")
    out = tmp_path / "series.npz"
    proc = subprocess.run([sys.executable, "-m", "chemgen.cli", "train", str(series), "--init", str(tiny_model_path),
                           "--out", str(out), "--epochs", "5", "--seed", "0"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "record 3 (not_a_smiles): unreadable SMILES" in proc.stderr and "used 4 of 5 records" in proc.stderr
    assert CharRNN.load(out).training_info_["parent"]["model"] == str(tiny_model_path)


def test_fine_tune_learns_from_the_series_widened_with_verified_analogs(tiny_model_path):
    series = ["2-methylphenol", "2-chlorophenol", "2-bromophenol"]
    lines = []
    names = with_analogs(series, 2, random_state=0, log=lines.append)
    model = CharRNN.load(tiny_model_path).fine_tune(names, settings={"epochs": 1, "batch_size": 4, "random_state": 0})
    info = model.training_info_
    assert names[:3] == series and info["n_train"] + info["n_valid"] == 3 + 6
    assert any("6 analogs" in line for line in lines)
    analogs = widen_names(series, 2, random_state=0)  # the same draw: same names, same seed
    assert names[3:] == analogs and len(analogs) == 6 and not set(analogs) & set(series)
    assert model.in_training(analogs).sum() >= 4  # those not held out for early stopping are training names


def test_analogs_are_a_fine_tuning_default_and_off_for_training_from_scratch():
    from chemgen.chem.analogs import FINE_TUNE_ANALOGS, AnalogConfig

    assert FINE_TUNE_ANALOGS == 10
    assert AnalogConfig().per_name(fine_tuning=True) == 10 and AnalogConfig().per_name(fine_tuning=False) == 0
    assert AnalogConfig(analogs=3).per_name(fine_tuning=True) == 3


def test_fine_tuning_takes_its_schedule_from_the_fine_tuning_defaults_not_the_parent(tiny_model_path, tmp_path):
    parent = CharRNN.load(tiny_model_path).set_params(warmup=200, steps=24000, threads=2, epochs=0.0)
    parent.save(tmp_path / "parent.npz")
    model = CharRNN.load(tmp_path / "parent.npz").fine_tune(SERIES, settings={"random_state": 0})
    assert (model.warmup, model.threads, model.epochs, model.learning_rate) == (0, 1, 10.0, 1e-3)
    info = model.training_info_
    assert info["steps_done"] == -(-10 * info["n_train"] // 16)  # 10 passes of batches of 16, not 24,000 steps


def test_a_large_set_is_not_widened(monkeypatch):
    import chemgen.chem.analogs as analogs

    monkeypatch.setattr(analogs, "MAX_SERIES", 4)
    with pytest.raises(ConfigError, match="widens small series only, at most 4 names, and this set has 5"):
        analogs.with_analogs(SERIES[:5], 10)
