"""Bad input at the command line: one line on stderr, exit 2, nothing lost or half-written.

Each case here is a row of "What chemgen does with bad input" (docs/guide/bad-input.md).
"""
import json
import os
import subprocess
import sys

import pytest

from chemgen.cli import main


def run(capsys, *args):
    """(exit code, stdout, stderr) of one in-process command."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, fragment):
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err, err


@pytest.fixture
def names(tmp_path, corpus):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(corpus[:200]) + "\n")
    return path


# ---------------------------------------------------------------- readers


def test_latin1_input_to_score_names_the_line(capsys, tiny_model_path, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ethanol\ncaf\xe9ine\n")
    code, out, err = run(capsys, "score", "--model", tiny_model_path, path)
    one_line_error(code, err, "latin1.txt: line 2 is not valid UTF-8 text")
    for command in (["train", path, "--out", tmp_path / "m.npz"], ["filter", path, "--filters", "suffix"]):
        code, _, err = run(capsys, *command)
        one_line_error(code, err, "line 2 is not valid UTF-8 text")
    assert not (tmp_path / "m.npz").exists()


def test_score_reports_a_missing_file_before_its_header(capsys, tiny_model_path, tmp_path):
    code, out, err = run(capsys, "score", "--model", tiny_model_path, tmp_path / "missing.txt")
    one_line_error(code, err, "does not exist")
    assert out == ""


def test_a_directory_as_a_names_file(capsys, tiny_model_path, tmp_path):
    for command in (["score", "--model", tiny_model_path, tmp_path], ["filter", tmp_path, "--filters", "suffix"],
                    ["train", tmp_path, "--out", tmp_path / "m.npz"]):
        code, out, err = run(capsys, *command)
        one_line_error(code, err, "is a directory")
        assert out == ""


def test_stdin_closed_is_exit_2_in_one_line(tiny_model_path):
    proc = subprocess.run([sys.executable, "-m", "chemgen.cli", "score", "--model", str(tiny_model_path), "-"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: os.close(0))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "chemgen: error: cannot read names from standard input: it is closed"


def test_control_characters_in_training_names_name_the_line(capsys, tmp_path):
    for text, shown in (("methane\nmeth\tane\n", "'\\t'"), ("methane\nethane\neth\x1banol\n", "'\\x1b'")):
        path = tmp_path / "names.txt"
        path.write_text(text)
        code, _, err = run(capsys, "train", path, "--out", tmp_path / "m.npz")
        one_line_error(code, err, f"control character {shown}")
        assert "line 2" in err or "line 3" in err
    assert not (tmp_path / "m.npz").exists()


# ---------------------------------------------------------------- train


def test_steps_0_one_name_and_no_validation_say_what_the_model_is(capsys, names, tmp_path):
    common = ["--hidden", 8, "--batch-size", 4, "--eval-every", 5, "--print", 0]
    code, _, err = run(capsys, "train", names, "--out", tmp_path / "a.npz", "--steps", 0, *common)
    assert code == 0 and "0 steps, so the model is untrained" in err and "nan" not in err
    one = tmp_path / "one.txt"
    one.write_text("methane\n")
    code, _, err = run(capsys, "train", one, "--out", tmp_path / "b.npz", "--steps", 5, *common)
    assert code == 0 and "only one training name" in err and "nan" not in err and "None" not in err
    code, _, err = run(capsys, "train", names, "--out", tmp_path / "c.npz", "--steps", 5, "--valid-fraction", 0,
                       *common)
    assert code == 0 and "--valid-fraction 0" in err and "valid n/a" in err and "nan" not in err
    assert all((tmp_path / f).exists() for f in ("a.npz", "b.npz", "c.npz"))


def test_a_batch_far_above_the_corpus_warns(capsys, tmp_path):
    path = tmp_path / "few.txt"
    path.write_text("methane\nethane\npropane\nbutane\n")
    code, _, err = run(capsys, "train", path, "--out", tmp_path / "m.npz", "--steps", 2, "--hidden", 8,
                       "--batch-size", 512, "--print", 0)
    assert code == 0 and "chemgen: warning: batch size 512 is far above the 3 training names" in err
    assert (tmp_path / "m.npz").exists()


def test_resume_past_steps_and_a_different_architecture_are_refused(capsys, names, tmp_path):
    out = tmp_path / "m.npz"
    common = ["--hidden", 8, "--batch-size", 4, "--eval-every", 5, "--print", 0, "--seed", 0]
    assert run(capsys, "train", names, "--out", out, "--steps", 10, *common)[0] == 0
    ckpt = tmp_path / "m.ckpt.npz"
    before = ckpt.read_bytes()
    code, _, err = run(capsys, "train", names, "--out", out, "--steps", 5, "--resume", ckpt, *common)
    one_line_error(code, err, "past --steps 5")
    code, _, err = run(capsys, "train", names, "--out", out, "--steps", 20, "--resume", ckpt, "--hidden", 16,
                       "--batch-size", 4, "--print", 0, "--seed", 0)
    one_line_error(code, err, "hidden_size 8 (this run: 16)")
    assert ckpt.read_bytes() == before


# ---------------------------------------------------------------- generate


@pytest.mark.parametrize("max_length", [1, 2])
def test_tiny_max_length_ends_and_says_so(capsys, tiny_model, tiny_model_path, max_length):
    """Greedy draws (--top-k 1) are tiny_model's likeliest name every time, longer than --max-length: none of 500
    ends, and the run stops in one line."""
    assert len(tiny_model.sample(1, top_k=1, random_state=0)[0].name) > 2
    code, out, err = run(capsys, "generate", "--model", tiny_model_path, "-n", 5, "--max-length", max_length,
                         "--filters", "none", "--seed", 0, "--max-tries", 500, "--top-k", 1)
    one_line_error(code, err, f"none of 500 sampled names ended within --max-length {max_length}: raise --max-length")
    assert out == ""


def test_max_length_1_writes_the_names_that_short_and_the_shortfall(capsys, short_names_model_path):
    code, out, err = run(capsys, "generate", "--model", short_names_model_path, "-n", 5, "--max-length", 1,
                         "--filters", "none", "--seed", 0, "--max-tries", 300, "--format", "names")
    assert code == 0, err
    assert sorted(out.split()) == ["a", "b", "c"]
    assert "only 3 of 5 candidates passed within 300 tries" in err


def test_max_tries_bounds_a_run_that_cannot_succeed(capsys, tiny_model_path):
    code, out, err = run(capsys, "generate", "--model", tiny_model_path, "-n", 5, "--max-length", 1,
                         "--filters", "none", "--max-tries", 10, "--seed", 0)
    one_line_error(code, err, "none of 10 sampled names ended within --max-length 1: raise --max-length")


def test_a_huge_n_is_refused_with_the_bound_and_why(capsys, tiny_model_path):
    code, out, err = run(capsys, "generate", "--model", tiny_model_path, "-n", 10**12, "--filters", "none")
    one_line_error(code, err, "at most 1,000,000 candidates")
    assert "memory" in err and out == ""


@pytest.mark.parametrize("args, message", [
    (["--filters", ""], "empty filter list"),
    (["--temperature", "inf"], "--temperature: temperature must be a positive finite number, not inf"),
    (["--seed", "-1"], "must be zero or more"),
    (["--threads", "0"], "--threads: threads must be a whole number of at least 1, not 0"),
])
def test_bad_generate_flags(capsys, tiny_model_path, args, message):
    with pytest.raises(SystemExit) as info:
        sys.exit(main(["generate", "--model", str(tiny_model_path), *args]))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_rdkit_without_a_structure_filter_warns_with_a_hint(capsys, tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("ethanol\n")
    code, out, err = run(capsys, "filter", path, "--filters", "rdkit", "--format", "csv")
    assert code == 0 and "warning: filter 'rdkit' needs a structure" in err and "opsin,rdkit" in err
    assert "ethanol" in out


def test_an_image_without_structures_says_so(capsys, tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("ethanol\n")
    code, out, err = run(capsys, "filter", path, "--filters", "suffix", "--image", tmp_path / "grid.png")
    assert code == 0 and "no candidate has a structure, so no image was written" in err
    assert "ethanol" in out and not (tmp_path / "grid.png").exists()


# ---------------------------------------------------------------- filter output


def test_the_table_escapes_control_and_escape_characters(capsys, tmp_path):
    path = tmp_path / "n.txt"
    path.write_bytes(b"eth\x1b[31manol\neth\x01anol\n")
    code, out, err = run(capsys, "filter", path, "--filters", "suffix", "--format", "table")
    assert code == 0 and "\x1b" not in out and "\x01" not in out
    assert "eth\\x1b[31manol" in out and "eth\\x01anol" in out


def test_filter_streams_every_name_in_order(capsys, tmp_path, monkeypatch):
    import chemgen.generation.pipeline

    monkeypatch.setattr(chemgen.generation.pipeline, "CHECK_CHUNK", 7)
    names = [f"{'meth' * (i % 3 + 1)}ane" if i % 4 else f"junk{i}" for i in range(40)]
    path = tmp_path / "n.txt"
    path.write_text("\n".join(names) + "\n")
    for fmt in ("csv", "jsonl", "names", "table"):
        code, out, err = run(capsys, "filter", path, "--filters", "suffix", "--format", fmt)
        assert code == 0 and "checked 40; passed suffix 30/40" in err
        if fmt == "jsonl":
            rows = [json.loads(line) for line in out.splitlines()]
            assert [r["name"] for r in rows] == names and [r["rank"] for r in rows] == list(range(1, 41))
        elif fmt == "csv":
            assert out.splitlines()[0].startswith("rank,name,") and len(out.splitlines()) == 41
        elif fmt == "names":
            assert out.splitlines() == names


def test_filter_holds_one_chunk_at_a_time(tmp_path, monkeypatch):
    """The stage sees chunks of CHECK_CHUNK names, and rows are written before the input ends."""
    import chemgen.generation.pipeline
    from chemgen import Verdict, inject_filter
    from chemgen.filters import remove_injected
    from chemgen.output import writers

    seen = []

    class Counting:
        name = "counting"

        def check(self, candidates):
            seen.append(len(candidates))
            return [Verdict(True) for _ in candidates]

    monkeypatch.setattr(chemgen.generation.pipeline, "CHECK_CHUNK", 10)
    inject_filter("counting", Counting)
    try:
        names = (f"name{i}" for i in range(35))
        chunks = chemgen.generation.pipeline.check_stream(names, filters="counting")
        out = tmp_path / "out.jsonl"
        with open(out, "w") as handle:
            first = next(chunks)
            assert len(first) == 10 and seen == [10]
            writers.write_stream([first, *chunks], handle, "jsonl")
    finally:
        remove_injected("counting")
    assert seen == [10, 10, 10, 5] and len(out.read_text().splitlines()) == 35


# ---------------------------------------------------------------- output paths


def test_output_into_a_missing_directory_is_refused_before_work(capsys, tiny_model_path, tmp_path):
    for command in (["generate", "--model", tiny_model_path, "--filters", "none", "-n", 2, "--output",
                     tmp_path / "no" / "out.csv"],
                    ["generate", "--model", tiny_model_path, "--filters", "none", "-n", 2, "--image",
                     tmp_path / "no" / "grid.png"],
                    ["train", tmp_path / "x.txt", "--out", tmp_path / "no" / "m.npz"],
                    ["evaluate", "--model", tiny_model_path, "--samples", 5, "--json", tmp_path / "no" / "e.json"]):
        code, out, err = run(capsys, *command)
        one_line_error(code, err, "no such directory")
        assert out == ""
    assert not (tmp_path / "no").exists()


def test_output_to_dev_null_keeps_the_device(capsys, tiny_model_path):
    code, out, err = run(capsys, "generate", "--model", tiny_model_path, "--filters", "none", "-n", 2,
                         "--output", "/dev/null", "--seed", 0)
    assert code == 0, err
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
