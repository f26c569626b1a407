"""CLI smoke tests: exit codes, one-line errors, the TSV of `chemgen score`."""
import subprocess
import sys

import pytest

from chemgen import CharRNN
from chemgen.cli import main


def run(*args, stdin=None):
    proc = subprocess.run([sys.executable, "-m", "chemgen.cli", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def names_file(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("cli") / "names.txt"
    path.write_text("\n".join(corpus) + "\n")
    return path


def test_train_generate_score_round(names_file, tmp_path):
    out = tmp_path / "m.npz"
    code, _, err = run("train", names_file, "--out", out, "--cell", "gru", "--hidden", 32, "--steps", 60,
                       "--batch-size", 16, "--eval-every", 30, "--seed", 0, "--print", 2)
    assert code == 0, err
    assert out.exists() and (tmp_path / "m.ckpt.npz").exists()
    assert "step 30/60" in err and "valid" in err
    code, stdout, err = run("generate", "--model", out, "-n", 5, "--filters", "none", "--seed", 1, "--format", "csv")
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("rank,name,logp,logp_per_char") and len(lines) == 6
    code, stdout, err = run("score", "--model", out, "-", stdin="ethanol\nbad€name\n\nmethane\n")
    assert code == 0, err
    rows = [line.split("\t") for line in stdout.splitlines()]
    assert rows[0] == ["name", "logp", "logp_per_char", "n_chars", "error"]
    assert [r[0] for r in rows[1:]] == ["ethanol", "bad€name", "methane"]
    assert rows[2] == ["bad€name", "", "", "8", "character '€' is not in the model's vocabulary"]
    assert [rows[1], rows[3]] == score_rows(CharRNN.load(out), ["ethanol", "methane"])


def score_rows(model, names):
    """What `chemgen score` prints for names the model can score: CharRNN.score's logp, over the characters
    and the end token, and the character count."""
    return [[name, f"{logp:.6f}", f"{logp / (len(name) + 1):.6f}", str(len(name)), ""]
            for name, logp in zip(names, model.score(names))]


def test_score_prints_the_models_log_likelihoods(tiny_model, tiny_model_path, tmp_path, capsys):
    names = ["ethanol", "2-methylpropan-1-ol", "hexanoic acid", "x"]
    path = tmp_path / "names.txt"
    path.write_text("\n".join(names) + "\n")
    assert main(["score", "--model", str(tiny_model_path), str(path)]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows == [["name", "logp", "logp_per_char", "n_chars", "error"]] + score_rows(tiny_model, names)


def test_resume_continues_to_more_steps(names_file, tmp_path):
    out = tmp_path / "m.npz"
    common = ["--hidden", 16, "--batch-size", 8, "--eval-every", 10, "--seed", 0, "--print", 0]
    assert run("train", names_file, "--out", out, "--steps", 10, "--name-floor", 30, *common)[0] == 0
    code, _, err = run("train", names_file, "--out", out, "--steps", 20, "--resume", tmp_path / "m.ckpt.npz", *common)
    assert code == 0, err
    assert "step 20/20" in err and "step 10/20" not in err
    assert CharRNN.load(out).name_floor == 30  # settings come from the checkpoint


def test_a_negative_name_floor_is_one_line_and_exit_2(names_file, tmp_path):
    code, _, err = run("train", names_file, "--out", tmp_path / "m.npz", "--name-floor", -1)
    assert code == 2 and "name_floor must be a non-negative number of nats" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["generate", "--model", "/nonexistent/model.npz"], "does not exist"),
    (["generate", "--temperature", "0"], "must be a positive finite number"),
    (["score", "--model", "nosuchmodel", "-"], "shipped models"),
    (["train", "/nonexistent/names.txt", "--out", "x.npz"], "does not exist"),
    (["generate", "--format", "sdf", "--filters", "none"], "--output"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        sys.exit(main(args))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_score_a_non_model_file_is_refused(names_file, capsys):
    assert main(["score", "--model", str(names_file), str(names_file)]) == 2
    assert "not a chemgen model file" in capsys.readouterr().err


def test_learner_flags_round_trip(names_file, tmp_path):
    out = tmp_path / "m.npz"
    code, _, err = run("train", names_file, "--out", out, "--hidden", 16, "--steps", 10, "--batch-size", 8,
                       "--eval-every", 10, "--seed", 0, "--print", 0, "--embed", 6,
                       "--weight-init", "torch,recurrent=orthogonal", "--warmup", 5, "--lr-decay")
    assert code == 0, err
    model = CharRNN.load(out)
    assert (model.embed, model.weight_init, model.warmup, model.lr_decay) == (6, "torch,recurrent=orthogonal", 5, True)
    assert model.net_config_.embed == 6 and model.params_["E"].shape == (model.vocab_.size, 6)


def test_a_bad_init_is_one_line_and_exit_2(names_file, tmp_path):
    code, _, err = run("train", names_file, "--out", tmp_path / "m.npz", "--weight-init", "chemgen,bias=huge")
    assert code == 2 and "weight_init:" in err and len(err.splitlines()) == 1


def test_resume_of_a_checkpoint_older_than_the_learner_settings(names_file, tmp_path):
    """A checkpoint written before embed/init/warmup existed resumes with the network it was trained with."""
    from chemgen.model import modelfile

    out, ckpt = tmp_path / "m.npz", tmp_path / "m.ckpt.npz"
    common = ["--hidden", 16, "--batch-size", 8, "--eval-every", 10, "--seed", 0, "--print", 0]
    assert run("train", names_file, "--out", out, "--steps", 10, "--embed", 0, "--weight-init", "seed", *common)[0] == 0
    arrays, meta = modelfile.read_npz(ckpt)
    for key in ("embed", "weight_init", "warmup", "decay_share"):
        del meta["settings"][key]
    del meta["config"]["embed"]
    modelfile.write_npz(ckpt, arrays, meta)
    code, _, err = run("train", names_file, "--out", out, "--steps", 20, "--resume", ckpt, *common)
    assert code == 0, err
    model = CharRNN.load(out)
    assert (model.embed, model.weight_init, model.decay_share, model.net_config_.embed) == (0, "seed", 1.0, 0)


def loaded_after(statement):
    """Which heavy modules a fresh interpreter has loaded after running ``statement``."""
    code = (f"import sys; {statement}; print(' '.join(sorted(m for m in ('numpy', 'rdkit', 'chemgen.goal.agent', "
            f"'chemgen.generation.pipeline') if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_the_command_line_and_the_package_load_their_parts_on_first_use():
    assert loaded_after("import chemgen, chemgen.cli") == []
    assert loaded_after("import chemgen.goal.config") == []  # the settings, not the agent (nor NumPy)
    assert loaded_after("import chemgen; chemgen.generate") == ["chemgen.generation.pipeline", "numpy"]
