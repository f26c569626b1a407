"""The plugin contract: specs, discovery through entry points, injection, isolation of failures."""
import configparser
import sys
from pathlib import Path

import pytest

from chemgen.errors import ConfigError, FilterError
from chemgen.filters import (
    Candidate, Verdict, apply_filters, build_filters, discover_filters, filter_status, inject_filter,
    parse_spec, remove_injected, split_specs,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "chemgen-example-plugin"


def test_spec_parsing():
    assert split_specs("suffix, rdkit(mw=150:500,lipinski),opsin") == ["suffix", "rdkit(mw=150:500,lipinski)", "opsin"]
    assert parse_spec("rdkit(mw=150:500,lipinski)") == ("rdkit", {"mw": "150:500", "lipinski": True})
    assert parse_spec("opsin") == ("opsin", {})
    for unbalanced in ["rdkit(mw=1", "rdkit)"]:
        with pytest.raises(ConfigError, match="unbalanced"):
            split_specs(unbalanced)
    for malformed in ["9bad", "rdkit(=3)"]:
        with pytest.raises(ConfigError, match="malformed"):
            parse_spec(malformed)


def test_unknown_filter_lists_installed_ones():
    with pytest.raises(FilterError, match="installed filters: .*opsin"):
        build_filters("nosuchfilter")


def test_none_means_no_filters():
    assert build_filters("none") == [] and build_filters([]) == []
    with pytest.raises(FilterError, match="or 'none' for no filters; not None$"):
        build_filters(None)  # the default filters, or none? Refused rather than guessed


class Even:
    name = "even"

    def check(self, candidates):
        return [Verdict(len(c.name) % 2 == 0, reason="odd length") for c in candidates]


class Crashy:
    name = "crashy"

    def check(self, candidates):
        if any("boom" in c.name for c in candidates):
            raise RuntimeError("boom in name")
        return [Verdict(True) for _ in candidates]


class Short:
    name = "short"

    def check(self, candidates):
        return [Verdict(True)]


def test_injected_filters_run_without_installing():
    inject_filter("even", lambda: Even())
    try:
        [filter_] = build_filters("even")
        cands = [Candidate("ab"), Candidate("abc")]
        apply_filters([filter_], cands)
        assert [c.passed for c in cands] == [True, False]
        assert cands[1].reasons == ["even: odd length"]
        assert discover_filters()["even"].source == "injected"
    finally:
        remove_injected("even")


def test_a_crash_fails_only_the_names_that_crash():
    cands = [Candidate("fine"), Candidate("boom"), Candidate("also fine")]
    apply_filters([Crashy()], cands)
    assert [c.passed for c in cands] == [True, False, True]
    assert "boom in name" in cands[1].verdicts["crashy"].reason


def test_wrong_verdict_count_is_an_error():
    with pytest.raises(FilterError, match="returned 1 verdicts for 2"):
        apply_filters([Short()], [Candidate("a"), Candidate("b")])


def test_failed_candidates_skip_later_filters_and_stats_count():
    stats = {}
    cands = [Candidate("ab"), Candidate("abc"), Candidate("abcd")]
    kept = apply_filters([Even(), Crashy()], cands, stats, keep_failed=False)
    assert [c.name for c in kept] == ["ab", "abcd"]
    assert "crashy" not in cands[1].verdicts
    assert (stats["even"].seen, stats["even"].passed, stats["crashy"].seen) == (3, 2, 2)


def test_annotations_lift_structure_onto_the_candidate():
    c = Candidate("ethanol")
    c.record("x", Verdict(True, 1.0, "", {"smiles": "CCO", "inchikey": "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "mw": 46.07}))
    assert (c.smiles, c.inchikey, c.properties["mw"]) == ("CCO", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", 46.07)
    assert Verdict(True, 7.0).score == 1.0 and Verdict(False, -1).score == 0.0


def _fake_distribution(site: Path, name: str, entry_points: str) -> None:
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_third_party_and_broken_plugins_through_entry_points(tmp_path, monkeypatch):
    """Real entry-point discovery: distributions on sys.path, as pip would leave them."""
    site = tmp_path / "site"
    _fake_distribution(site, "chemgen_example_plugin", "[chemgen.filters]\nlength = chemgen_example_plugin:LengthFilter\n")
    _fake_distribution(site, "broken_plugin", "[chemgen.filters]\nbroken = broken_plugin_module:Nothing\n")
    (site / "broken_plugin_module.py").write_text("raise ImportError('needs a library that is not here')\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    sys.modules.pop("chemgen_example_plugin", None)
    found = discover_filters()  # from metadata alone: nothing is imported
    assert found["length"].source == "chemgen-example-plugin[length]" and found["length"].factory is None
    assert found["broken"].source == "broken-plugin[broken]" and found["broken"].load_error is None
    assert "chemgen_example_plugin" not in sys.modules and "broken_plugin_module" not in sys.modules
    assert filter_status(found["broken"]).startswith("cannot load: ImportError: needs a library")
    assert filter_status(found["suffix"]) == "ready"  # the others still load
    [length] = build_filters("length(max=5)")
    cands = [Candidate("ethane"), Candidate("meth")]
    apply_filters([length], cands)
    assert [c.passed for c in cands] == [False, True]
    with pytest.raises(FilterError, match=r"broken-plugin\[broken\] failed to load"):
        build_filters("broken")
    with pytest.raises(ConfigError):
        build_filters("length(min=9,max=2)")
    sys.modules.pop("chemgen_example_plugin", None)


def test_every_registered_filter_has_a_test():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    registered = [line.split("=")[0].strip() for line in config["options.entry_points"]["chemgen.filters"].splitlines() if line.strip()]
    assert registered
    for name in registered:
        module = config["options.entry_points"]["chemgen.filters"].split(f"{name} =")[1].split(":")[0].strip().split(".")[-1]
        candidates = [*ROOT.glob(f"tests/**/test_{module}.py"), *ROOT.glob(f"tests/**/test_{name}.py")]
        assert any(p.exists() and name in p.read_text() for p in candidates), f"filter {name!r} has no test file"


def test_prepare_is_called_before_sampling(tiny_model):
    import chemgen

    class Slow:
        name = "slow"
        prepared = False

        def prepare(self):
            self.prepared = True

        def check(self, candidates):
            assert self.prepared
            return [Verdict(True) for _ in candidates]

    slow = Slow()
    assert len(chemgen.generate(n=3, model=tiny_model, filters=[slow], seed=0)) == 3 and slow.prepared


def test_distribution_names_are_normalised_as_packaging_does(tmp_path, monkeypatch):
    """An egg-info left by installing the example from source spells the name with dashes: same source."""
    from chemgen.filters.loading import normalize_distribution

    assert normalize_distribution("Chemgen_Example.plugin") == "chemgen-example-plugin"
    for spelling in ("chemgen-example-plugin", "chemgen_example_plugin", "Chemgen.Example_Plugin"):
        site = tmp_path / spelling
        info = site / "chemgen_example_plugin.egg-info"
        info.mkdir(parents=True)
        (info / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {spelling}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("[chemgen.filters]\nlength = chemgen_example_plugin:LengthFilter\n")
        with monkeypatch.context() as patch:
            patch.syspath_prepend(str(site))
            assert discover_filters()["length"].source == "chemgen-example-plugin[length]"


def test_rdkit_without_a_structure_maker_warns_and_opsin_first_does_not(recwarn):
    import warnings

    from chemgen.errors import ChemgenWarning
    from chemgen.filters import FilterStage

    with pytest.warns(ChemgenWarning, match="filter 'rdkit' needs a structure.*opsin,rdkit"):
        with FilterStage("suffix,rdkit"):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChemgenWarning)
        with FilterStage("opsin,rdkit"):
            pass


# ---------------------------------------------------------------- filters side by side


class Recording:
    """Passes names whose length is divisible by ``modulo``; records the chunks it saw and from which thread."""

    def __init__(self, name, modulo, background=False):
        self.name, self.modulo, self.background = name, modulo, background
        self.calls = []

    def check(self, candidates):
        import threading

        self.calls.append(([c.name for c in candidates], threading.current_thread().name))
        return [Verdict(len(c.name) % self.modulo == 0, 1.0, "", {self.name: len(c.name)}) for c in candidates]


def run_both_ways(names, keep_failed):
    results = []
    for background in (False, True):
        filters = [Recording("a", 2, background), Recording("b", 3), Recording("c", 1)]
        stats = {}
        out = apply_filters(filters, [Candidate(n) for n in names], stats, keep_failed=keep_failed)
        results.append((filters, stats, [(c.name, sorted(c.verdicts), c.properties) for c in out]))
    return results


@pytest.mark.parametrize("keep_failed", [True, False])
def test_side_by_side_gives_the_verdicts_and_counts_of_running_in_turn(keep_failed):
    from chemgen.filters.stage import CHUNK

    names = ["x" * (i % 13 + 1) + str(i) for i in range(3 * CHUNK + 5)]
    (in_turn, stats_in_turn, out_in_turn), (side, stats_side, out_side) = run_both_ways(names, keep_failed)
    assert out_side == out_in_turn and stats_side == stats_in_turn and list(stats_side) == ["a", "b", "c"]
    assert len(in_turn[0].calls) == 1 and len(side[0].calls) == 4  # one batch; four chunks
    assert [n for chunk, _ in side[1].calls for n in chunk] == in_turn[1].calls[0][0]  # same names, same order
    assert {thread for _, thread in side[1].calls} == {"filter b"}  # one thread per filter


def test_side_by_side_skips_filters_nothing_reaches_and_passes_errors_on():
    from chemgen.filters.stage import CHUNK

    names = ["y" * (2 * i + 1) for i in range(2 * CHUNK)]  # odd lengths: filter a passes none
    [_, (filters, stats, out)] = run_both_ways(names, keep_failed=False)
    assert out == [] and list(stats) == ["a"] and not filters[1].calls

    class Broken(Recording):
        def check(self, candidates):
            return []

    with pytest.raises(FilterError, match="returned 0 verdicts"):
        apply_filters([Recording("a", 1, background=True), Broken("b", 1)], [Candidate(n) for n in names])
