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
