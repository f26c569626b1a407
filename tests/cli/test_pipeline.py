"""generate / check: sampling until enough pass, dedupe by structure, ranking, bad input."""
import pytest

import chemgen
from chemgen.cli import main
from chemgen.errors import ConfigError
from chemgen.filters import Verdict


class FakeStructure:
    """Gives every name ending in 'ol' a 'structure' keyed by its length (so duplicates exist)."""

    name = "fake"

    def check(self, candidates):
        return [Verdict(True, 1.0, "", {"inchikey": f"KEY{len(c.name)}"}) if c.name.endswith("ol")
                else Verdict(False, 0.0, "not an alcohol") for c in candidates]


def test_generate_until_enough_pass_dedupe_and_rank(tiny_model):
    results = chemgen.generate(n=5, model=tiny_model, filters=[FakeStructure()], seed=0)
    assert len(results) == 5 and all(c.name.endswith("ol") for c in results)
    assert len({c.inchikey for c in results}) == 5
    assert [c.logp for c in results] == sorted((c.logp for c in results), reverse=True)
    assert results.tried >= 5 and results.filter_stats["fake"].seen == results.tried
    per_char = chemgen.generate(n=5, model=tiny_model, filters=[FakeStructure()], seed=0, rank_by="logp-per-char")
    assert [c.logp_per_char for c in per_char] == sorted((c.logp_per_char for c in per_char), reverse=True)


def test_threads_give_the_names_of_one_thread(tiny_model_path, capsys):
    outputs = []
    for threads in ("1", "2"):
        assert main(["generate", "--model", str(tiny_model_path), "-n", "40", "--seed", "4", "--filters", "none",
                     "--format", "names", "--threads", threads]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 40
    with pytest.raises(ConfigError, match="threads"):
        chemgen.generate(n=1, model=str(tiny_model_path), filters="none", threads=0)


def test_duplicates_keep_the_likeliest_name(tiny_model):
    class SameStructure:
        name = "same"
        seen = []

        def check(self, candidates):
            self.seen.extend(candidates)
            return [Verdict(True, 1.0, "", {"inchikey": "SAME"}) for _ in candidates]

    same = SameStructure()
    results = chemgen.generate(n=1, model=tiny_model, filters=[same], seed=2)
    assert len(results) == 1 and len(same.seen) > 1
    assert results[0].logp == max(c.logp for c in same.seen)
    assert results.duplicates == len(same.seen) - 1


ETHANOL, ISOPROPANOL = "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "KFZMGEQAYNKOFK-UHFFFAOYSA-N"


class Seen:
    """Passes everything, recording each candidate's name, InChIKey and logp."""

    name = "seen"

    def __init__(self):
        self.seen = []

    def check(self, candidates):
        self.seen.extend((c.name, c.inchikey, c.logp) for c in candidates)
        return [Verdict(True) for _ in candidates]


def test_two_spellings_through_opsin_keep_the_likelier_and_rank_by_it():
    """A model of two spellings of each of two alcohols, the longer (later) spelling three times as often:
    OPSIN gives each pair one InChIKey, and the likelier spelling is kept, whatever its length or order."""
    model = chemgen.CharRNN(cell="gru", hidden_size=32, steps=400, batch_size=8, eval_every=50, n_print=0,
                            valid_fraction=0, random_state=0).fit(
        ["2-propanol"] + ["propan-2-ol"] * 3 + ["ethanol"] + ["ethyl alcohol"] * 3)
    seen = Seen()
    results = chemgen.generate(10, model=model, filters=["opsin", seen], seed=0, max_tries=300)
    spellings = {}
    for name, key, logp in seen.seen:
        spellings.setdefault(key, {})[name] = logp
    assert {"ethanol", "ethyl alcohol"} <= set(spellings[ETHANOL])
    assert {"2-propanol", "propan-2-ol"} <= set(spellings[ISOPROPANOL])
    kept = {c.inchikey: c.name for c in results}
    assert kept[ETHANOL] == "ethyl alcohol" and kept[ISOPROPANOL] == "propan-2-ol"
    assert all(kept[key] == max(names, key=names.get) for key, names in spellings.items())
    assert len(results) == len(spellings) and results.duplicates == len(seen.seen) - len(spellings)
    logps = [c.logp for c in results]
    assert logps == sorted(logps, reverse=True)
    assert logps == pytest.approx(list(model.score([c.name for c in results])), rel=1e-5)


def test_max_tries_caps_the_work(tiny_model):
    class Nothing:
        name = "nothing"

        def check(self, candidates):
            return [Verdict(False, 0.0, "no") for _ in candidates]

    results = chemgen.generate(n=10, model=tiny_model, filters=[Nothing()], seed=0, max_tries=150)
    assert len(results) == 0 and results.tried == 150


def test_no_filters_gives_raw_samples(tiny_model):
    results = chemgen.generate(n=7, model=tiny_model, filters="none", seed=3, dedupe=False)
    assert len(results) == 7 and all(c.verdicts == {} for c in results)


def test_check_keeps_input_order_and_scores_with_a_model(tiny_model):
    names = ["methanol", "ethane", "propanol"]
    results = chemgen.check(names, filters=[FakeStructure()], model=tiny_model)
    assert [c.name for c in results] == names
    assert [c.passed for c in results] == [True, False, True]
    assert all(c.logp is not None for c in results)
    assert chemgen.check(names, filters=[FakeStructure()])[0].logp is None


def test_bad_rank_key(tiny_model):
    with pytest.raises(ConfigError):
        chemgen.generate(n=1, model=tiny_model, filters="none", rank_by="size")


def test_filter_command_survives_empty_huge_and_binary_lines(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["filter", str(empty), "--filters", "suffix", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip().count("\n") == 0  # header only
    odd = tmp_path / "odd.txt"
    odd.write_bytes(b"ethanol\n" + b"x" * 10_000 + b"\n\x00nul\nmethanol\n")
    assert main(["filter", str(odd), "--filters", "suffix", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"ethanol\n\xff\xfe\x00binary\nmethanol\n")  # one reader rule: not UTF-8 is an error
    assert main(["filter", str(binary), "--filters", "suffix", "--format", "jsonl"]) == 2
    assert "binary.txt: line 2 is not valid UTF-8 text" in capsys.readouterr().err


# ---------------------------------------------------------------- properties: what the output shows or is asked for


class Ethanol:
    """Gives every name ethanol's structure, so the rdkit filter has something to describe."""

    name = "ethanol"
    makes_structure = True

    def check(self, candidates):
        return [Verdict(True, 1.0, "", {"smiles": "CCO", "inchikey": f"K{i}"}) for i, _ in enumerate(candidates)]


@pytest.fixture
def ethanol_filter():
    chemgen.inject_filter("ethanol", Ethanol)
    yield
    from chemgen.filters import remove_injected

    remove_injected("ethanol")


def generate_json(model_path, capsys, *flags):
    import json

    code = main(["generate", "--model", str(model_path), "-n", "3", "--seed", "0", "--filters", "ethanol,rdkit",
                 *flags])
    assert code == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()] if "jsonl" in flags else out


def test_a_table_computes_no_property(tiny_model_path, ethanol_filter, qed_calls, capsys):
    table = generate_json(tiny_model_path, capsys, "--format", "table")
    assert table.startswith("rank") and "CCO" in table and not qed_calls


def test_jsonl_has_every_property_by_default(tiny_model_path, ethanol_filter, qed_calls, capsys):
    rows = generate_json(tiny_model_path, capsys, "--format", "jsonl")
    assert len(rows) == 3 and qed_calls
    assert rows[0]["qed"] == pytest.approx(0.4068, abs=1e-4) and rows[0]["mw"] == pytest.approx(46.069)


def test_properties_asked_for_are_present_and_the_others_are_not_computed(tiny_model_path, ethanol_filter,
                                                                           qed_calls, capsys):
    rows = generate_json(tiny_model_path, capsys, "--format", "jsonl", "--properties", "mw,tpsa")
    assert rows[0]["mw"] == pytest.approx(46.069) and rows[0]["tpsa"] == pytest.approx(20.23)
    assert rows[0]["qed"] is None and "scaffold" not in rows[0] and not qed_calls
    rows = generate_json(tiny_model_path, capsys, "--format", "table", "--properties", "qed")
    assert len(qed_calls) >= 3


def test_a_bad_property_is_one_line_and_exit_2(tiny_model_path, capsys):
    assert main(["generate", "--model", str(tiny_model_path), "-n", "1", "--properties", "mw,colour"]) == 2
    err = capsys.readouterr().err
    assert "unknown property 'colour'" in err and len(err.strip().splitlines()) == 1
