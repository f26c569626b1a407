"""optimize's outputs: nothing written before every check passed, the log staged and published at checkpoints,
one run per output file, and SIGTERM saved like Ctrl-C."""
import os
import signal
import subprocess
import sys
import time

import pytest

from chemgen import Verdict, inject_filter
from chemgen.errors import ConfigError
from chemgen.filters import remove_injected
from chemgen.goal import optimize
from chemgen.io.atomic import exclusive
from chemgen.model import modelfile

FAST = dict(batch_size=8, sigma=20.0, learning_rate=3e-3, random_state=0)


class Graded:
    name, graded = "graded", True

    def check(self, candidates):
        return [Verdict(True, min(1.0, len(c.name) / 40), "", {"smiles": "C" * (1 + len(c.name) % 7)})
                for c in candidates]


@pytest.fixture(autouse=True)
def injected():
    inject_filter("graded", Graded)
    yield
    remove_injected("graded")


def test_a_refused_run_leaves_an_existing_log_as_it_was(tiny_model_path, tmp_path):
    lead = tmp_path / "lead.smi"
    lead.write_text("CCO lead\n")
    with pytest.raises(Exception, match="unknown filter 'nosuch'"):
        optimize("graded,nosuch", prior=str(tiny_model_path), steps=2, log=lead, out=tmp_path / "a.npz", **FAST)
    assert lead.read_text() == "CCO lead\n" and not (tmp_path / "a.npz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lead.smi"]  # no staging or lock file left behind


def test_the_log_is_published_at_each_checkpoint_and_at_the_end(tiny_model_path, tmp_path, monkeypatch):
    import chemgen.goal.agent as agent

    log, ckpt = tmp_path / "run.jsonl", tmp_path / "run.ckpt.npz"
    seen = []
    real = agent.save_checkpoint

    def watching(run, path):
        real(run, path)
        seen.append((run.state.step, log.read_text().count("\n") if log.exists() else None))

    monkeypatch.setattr(agent, "save_checkpoint", watching)
    optimize("graded", prior=str(tiny_model_path), steps=4, checkpoint=ckpt, checkpoint_every=2, log=log, **FAST)
    # at the checkpoint of step 2 the file still holds the state before it (published just after); at the end, all
    assert seen[0] == (2, None) and seen[1][0] == 4
    assert log.read_text().count("\n") == 4 * 8
    assert not list(tmp_path.glob(".*"))  # the staging file and the locks are gone


def test_a_second_run_on_the_same_output_is_refused_by_name(tiny_model_path, tmp_path):
    log = tmp_path / "shared.jsonl"
    with exclusive([log]):  # as if another run were writing it
        with pytest.raises(ConfigError, match="shared.jsonl is being written by another chemgen run"):
            optimize("graded", prior=str(tiny_model_path), steps=1, log=log, **FAST)
    optimize("graded", prior=str(tiny_model_path), steps=1, log=log, **FAST)  # free again
    assert log.read_text().count("\n") == 8


def test_sigterm_finishes_the_step_saves_the_checkpoint_and_exits_130(tiny_model_path, tmp_path):
    ckpt, out = tmp_path / "t.ckpt.npz", tmp_path / "t.npz"
    code = ("import sys; from chemgen import Verdict, inject_filter\n"
            "class G:\n    name, graded = 'graded', True\n"
            "    def check(self, c): return [Verdict(True, 0.5, '', {'smiles': 'CC'}) for _ in c]\n"
            "inject_filter('graded', G)\nfrom chemgen.cli import main\n"
            f"sys.exit(main(['optimize', '--prior', {str(tiny_model_path)!r}, '--score', 'graded', '--steps', '100000',"
            f" '--batch-size', '8', '--out', {str(out)!r}, '--checkpoint', {str(ckpt)!r}, '--checkpoint-every', '0']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    line = ""
    while "step 2/" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    os.kill(proc.pid, signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    assert "interrupted at step" in err and ckpt.exists() and out.exists()
    assert modelfile.read_npz(ckpt)[1]["optimize_state"]["step"] >= 2


def test_a_count_beyond_any_run_is_refused(tmp_path, capsys):
    from chemgen.cli import main

    run_file = tmp_path / "run.toml"
    run_file.write_text('steps = 1e22\nout = "x.npz"\n[scoring]\n[[scoring.component]]\nfilter = "graded"\n')
    assert main(["optimize", "--config", str(run_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "steps = 10,000,000,000,000,000,000,000 is more than any run can use" in err


@pytest.mark.parametrize("clash", ["prior", "config", "resume", "log"])
def test_an_output_that_is_an_input_or_another_output_is_refused_before_work(tiny_model_path, tmp_path, capsys, clash):
    import shutil

    from chemgen.cli import main

    prior = tmp_path / "prior.npz"
    shutil.copy(tiny_model_path, prior)
    run_file = tmp_path / "run.toml"
    run_file.write_text("steps = 1\n")
    ckpt = tmp_path / "c.ckpt.npz"
    optimize("graded", prior=str(prior), steps=1, checkpoint=ckpt, **FAST)
    before = {p: p.read_bytes() for p in (prior, run_file, ckpt)}
    out = {"prior": prior, "config": run_file, "resume": ckpt, "log": tmp_path / "a.npz"}[clash]
    argv = ["optimize", "--prior", str(prior), "--score", "graded", "--config", str(run_file), "--out",
            str(tmp_path / "a.npz"), "--log", str(out if clash != "log" else tmp_path / "a.npz")]
    if clash == "resume":
        argv += ["--resume", str(ckpt), "--summary", str(ckpt)]
    elif clash != "log":
        argv[argv.index("--out") + 1] = str(out)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the same file as" in err and "refusing to overwrite it" in err
    assert {p: p.read_bytes() for p in before} == before
