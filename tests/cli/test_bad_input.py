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


def test_an_output_that_is_an_input_is_refused_before_work(capsys, tiny_model_path, names, tmp_path):
    import shutil

    model = tmp_path / "m.npz"
    shutil.copy(tiny_model_path, model)
    (tmp_path / "alias.png").symlink_to(model)
    series = tmp_path / "series.smi"
    series.write_text("CCO ethanol\n")
    generate = ["generate", "--model", model, "--filters", "none", "-n", 2]
    cases = [
        (generate + ["--output", model], "--output"),
        (generate + ["--output", tmp_path / "alias.png"], "--output"),
        (generate + ["--image", tmp_path / "alias.png"], "--image"),
        (generate + ["--output", tmp_path / "x.png", "--image", tmp_path / "x.png"], "--image"),
        (["filter", names, "--filters", "suffix", "--output", names], "--output"),
        (["filter", names, "--filters", "suffix", "--model", model, "--image", tmp_path / "alias.png"], "--image"),
        (["train", series, "--init", model, "--out", series], "--out"),
        (["train", names, "--init", model, "--out", model], "--out"),
        (["train", names, "--valid", names, "--out", tmp_path / "n.npz", "--checkpoint", names], "--checkpoint"),
        (["train", names, "--out", tmp_path / "n.npz", "--checkpoint", tmp_path / "n.npz"], "--checkpoint"),
        (["train", names, "--out", model, "--resume", model], "--out"),
        (["evaluate", "--model", model, "--samples", 5, "--json", model], "--json"),
        (["evaluate", "--model", model, "--samples", 5, "--reference", names, "--report", names], "--report"),
        (["evaluate", "--model", model, "--samples", 5, "--json", tmp_path / "e", "--report", tmp_path / "e"],
         "--report"),
        (["report", model, "--output", tmp_path / "alias.png"], "--output"),
    ]
    before = {path: path.read_bytes() for path in (model, names, series)}
    for command, flag in cases:
        code, out, err = run(capsys, *command)
        one_line_error(code, err, "is the same file as")
        assert err.startswith(f"chemgen: error: {flag} ") and out == "", (command, err)
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.png", "m.npz", "names.txt", "series.smi"]


def test_standard_output_appended_to_the_input_is_refused(tiny_model_path, names):
    for command in (["score", "--model", tiny_model_path, names], ["filter", names, "--filters", "suffix"]):
        with open(names, "a") as out:
            proc = subprocess.run([sys.executable, "-m", "chemgen.cli", *map(str, command)], stdout=out,
                                  stderr=subprocess.PIPE, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("chemgen: error: standard output is the same file as names file")
    assert names.read_text().count("\n") == 200


# ---------------------------------------------------------------- smaller things (issue 32 item 13)


def test_a_byte_order_mark_is_not_part_of_the_first_name(capsys, tiny_model_path, tmp_path):
    from chemgen.chem.records import read_records

    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfethanol\nmethanol\n")
    code, out, err = run(capsys, "score", "--model", tiny_model_path, path)
    assert code == 0 and out.splitlines()[1].split("\t")[0] == "ethanol", out
    table = tmp_path / "bom.csv"
    table.write_bytes(b"\xef\xbb\xbfsmiles,title\nCCO,e\n")
    assert [r.smiles for r in read_records(str(table), "csv")] == ["CCO"]


@pytest.mark.parametrize("model, message", [
    ("/dev/zero", "model file '/dev/zero' is a character device, not a file"),
    ("DIR", "is a directory, not a file"),
    ("", "the model's name is empty: give a model file or a shipped model's name (common, druglike, systematic)"),
])
def test_a_model_that_is_no_file_says_what_it_is(capsys, tmp_path, model, message):
    import chemgen

    model = str(tmp_path) if model == "DIR" else model
    code, _, err = run(capsys, "score", "--model", model, "-")
    one_line_error(code, err, message)
    with pytest.raises(chemgen.ChemgenError, match=message.replace("(", r"\(").replace(")", r"\)")):
        chemgen.load(model)


def test_a_5000_character_smiles_is_cut_in_messages(capsys, tiny_model_path, tmp_path):
    import chemgen
    from chemgen.io.names import ECHO_CHARS

    smiles = "C" * 5000 + "X"
    path = tmp_path / "long.smi"
    path.write_text(f"{smiles} m1\n")
    code, _, err = run(capsys, "train", path, "--init", tiny_model_path, "--out", tmp_path / "m.npz")
    one_line_error(code, err, "no usable molecules or names")
    assert "C" * ECHO_CHARS not in err and "…" in err and len(err) < 400, err
    for call in (lambda: chemgen.check(["ethanol"], filters=f"similar(to={smiles})"),
                 lambda: chemgen.CharRNN(steps=1).fit(["meth\tane" + "e" * 5000])):
        with pytest.raises(chemgen.ChemgenError) as info:
            call()
        assert len(str(info.value)) < 300 and "…" in str(info.value), str(info.value)


def test_file_formats_count_what_they_wrote(capsys, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("ethanol\nmethanol\npropane\n")
    code, _, err = run(capsys, "filter", names, "--filters", "suffix", "--format", "sdf", "-o", tmp_path / "x.sdf")
    assert code == 0 and f"wrote 0 structures to {tmp_path / 'x.sdf'} (3 without a structure left out)" in err, err
    code, _, err = run(capsys, "filter", names, "--filters", "suffix", "--format", "html", "-o", tmp_path / "x.html")
    assert code == 0 and f"wrote 3 rows to {tmp_path / 'x.html'}" in err, err


def test_threads_above_the_cores_warn(capsys, monkeypatch, tiny_model_path, names, tmp_path):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for command in (["generate", "--model", tiny_model_path, "--filters", "none", "-n", 2, "--threads", 64],
                    ["train", names, "--out", tmp_path / "m.npz", "--steps", 1, "--hidden", 8, "--threads", 3]):
        code, _, err = run(capsys, *command)
        assert code == 0 and "chemgen: warning:" in err and "more than the 2 cores of this machine" in err, err
    code, _, err = run(capsys, "generate", "--model", tiny_model_path, "--filters", "none", "-n", 2, "--threads", 2)
    assert "warning" not in err


def test_an_empty_sdf_is_one_line_of_ours(capsys, tiny_model_path, tmp_path):
    path = tmp_path / "empty.sdf"
    path.write_text("")
    for extra in ([], ["--init", tiny_model_path]):
        code, _, err = run(capsys, "train", path, "--out", tmp_path / "m.npz", *extra)
        one_line_error(code, err, "empty.sdf: the SDF file is empty (no records)")


def test_filters_that_need_options_say_so_in_aligned_columns(capsys):
    code, out, _ = run(capsys, "filters")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0 and lines["similar"].endswith("needs options: to=PATH (a SMILES file) or to=SMILES")
    assert "needs options: smarts=" in lines["substructure"] and "cannot start" not in out
    status_column = {line.index("chemgen[") for line in lines.values() if "chemgen[" in line}
    assert len(status_column) == 1  # sources start in one column, after the longest name
    assert len({line.index(line.split()[2]) for line in lines.values()}) == 1  # and so do the statuses
