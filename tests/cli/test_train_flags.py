"""chemgen train's input and checkpoint flags, each checked against what it must do, and Ctrl-C's exit status."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from chemgen import CharRNN
from chemgen.cli import main

SMALL = ("--hidden", 16, "--batch-size", 8, "--eval-every", 10, "--seed", 0, "--print", 0)


def train(capsys, *args):
    code = main(["train", *map(str, args)])
    out, err = capsys.readouterr()
    return code, err


@pytest.fixture
def names(corpus, tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(corpus[:300]) + "\n")
    return path


def test_valid_names_are_the_validation_set_and_every_input_name_trains(corpus, names, tmp_path, capsys):
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(corpus[300:340]) + "\n")
    out = tmp_path / "m.npz"
    code, err = train(capsys, names, "--out", out, "--valid", valid, "--steps", 20, *SMALL)
    assert code == 0, err
    model = CharRNN.load(out)  # the best model by the loss on --valid
    info = model.training_info_
    assert (info["n_train"], info["n_valid"]) == (300, 40) and model.in_training(corpus[:300]).all()
    expected = -np.sum(model.score(corpus[300:340])) / sum(len(name) + 1 for name in corpus[300:340])
    assert info["best_valid_loss"] == pytest.approx(expected, rel=1e-5)
    assert f"best validation loss {info['best_valid_loss']:.4f} nats/char at step {info['best_step']}" in err


def test_input_format_reads_a_file_as_it_says(corpus, tmp_path, capsys):
    path = tmp_path / "names.smi"  # names, whatever the extension says
    path.write_text("\n".join(corpus[:100]) + "\n")
    code, err = train(capsys, path, "--out", tmp_path / "a.npz", "--steps", 5, "--valid-fraction", 0, *SMALL)
    assert code == 2 and "no usable molecules or names (100 records read)" in err  # read as SMILES: none is
    code, err = train(capsys, path, "--out", tmp_path / "b.npz", "--input-format", "txt", "--steps", 5,
                      "--valid-fraction", 0, *SMALL)
    assert code == 0, err
    model = CharRNN.load(tmp_path / "b.npz")
    assert model.training_info_["n_train"] == 100 and model.in_training(corpus[:100]).all()


def test_names_from_standard_input(corpus, tmp_path):
    out = tmp_path / "m.npz"
    proc = subprocess.run([sys.executable, "-m", "chemgen.cli", "train", "-", "--out", str(out), "--steps", "5",
                           "--valid-fraction", "0", *map(str, SMALL)],
                          input="\n".join(corpus[:50]) + "\n", capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    model = CharRNN.load(out)
    assert model.training_info_["n_train"] == 50 and model.in_training(corpus[:50]).all()
    assert not model.in_training(corpus[50:60]).any()


@pytest.mark.parametrize("every, steps_saved", [(10, [10, 20, 25]), (0, [25]), (7, [7, 14, 21, 25])])
def test_checkpoint_every_writes_the_checkpoint_at_those_steps(names, tmp_path, capsys, monkeypatch, every,
                                                               steps_saved):
    import chemgen.model.train as training
    from chemgen.model import modelfile

    saved, real_save = [], training.save_checkpoint

    def save_and_read_back(run, path):
        real_save(run, path)
        saved.append(modelfile.read_npz(path)[1][training.CHECKPOINT_KEY]["state"]["step"])

    monkeypatch.setattr(training, "save_checkpoint", save_and_read_back)
    ckpt = tmp_path / "run.ckpt.npz"
    code, err = train(capsys, names, "--out", tmp_path / "m.npz", "--steps", 25, "--checkpoint", ckpt,
                      "--checkpoint-every", every, *SMALL)
    assert code == 0, err
    assert saved == steps_saved and ckpt.exists()


def test_ctrl_c_saves_a_checkpoint_and_exits_130(names, tmp_path):
    """A real SIGINT to a long training run: the step in progress ends, the checkpoint is written, status 130."""
    out, ckpt = tmp_path / "m.npz", tmp_path / "m.ckpt.npz"
    proc = subprocess.Popen([sys.executable, "-m", "chemgen.cli", "train", str(names), "--out", str(out),
                             "--steps", "1000000", "--hidden", "16", "--batch-size", "8", "--eval-every", "5",
                             "--print", "0", "--seed", "0"],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    try:
        started = time.monotonic()
        line = proc.stderr.readline()
        while "step 5/1000000" not in line:  # training is under way
            assert line and time.monotonic() - started < 120, "training did not start"
            line = proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert f"checkpoint saved to {ckpt} (continue with --resume {ckpt}); best model so far in {out}" in err
    assert "Traceback" not in err
    step = CharRNN.load(ckpt).training_info_["steps_done"]
    assert 5 <= step < 1000000 and f"chemgen: interrupted at step {step};" in err
    assert CharRNN.load(out).training_info_["steps_done"] == step
