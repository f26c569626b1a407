"""Scoring components: transforms, gates and graded scores, aggregation, specs from the CLI and TOML."""

import tomllib

import pytest

from chemgen import Verdict, inject_filter
from chemgen.errors import ChemgenError, ChemgenWarning, ConfigError
from chemgen.filters import Candidate, remove_injected
from chemgen.goal.scoring import (
    Component, ScoringFunction, clip, components_from_spec, double_sigmoid, reverse_sigmoid, scoring_from_table,
    sigmoid, split_component,
)


class Fixed:
    """Scores every name by a table; fails names not in it; annotates mw."""

    graded = True

    def __init__(self, scores=None):
        self.name = "fixed"
        self.scores = scores or {}

    def check(self, candidates):
        return [Verdict(c.name in self.scores, self.scores.get(c.name, 0.0), "",
                        {"mw": 100.0 * len(c.name)}) for c in candidates]


class Gate:
    name = "gate"

    def check(self, candidates):
        return [Verdict(not c.name.startswith("x")) for c in candidates]


@pytest.fixture(autouse=True)
def injected():
    inject_filter("fixed", lambda: Fixed({"a": 0.25, "bb": 1.0, "xa": 0.5}))
    inject_filter("gate", Gate)
    yield
    remove_injected("fixed")
    remove_injected("gate")


def cands(*names):
    return [Candidate(n) for n in names]


def test_transforms():
    assert sigmoid(350, 200, 500) == pytest.approx(0.5)
    assert sigmoid(100, 200, 500) < 0.01 < 0.99 < sigmoid(600, 200, 500)
    assert reverse_sigmoid(100, 200, 500) == pytest.approx(1 - sigmoid(100, 200, 500))
    assert double_sigmoid(350, 200, 500) > 0.99
    assert double_sigmoid(200, 200, 500) == pytest.approx(0.5, abs=0.01)
    assert double_sigmoid(100, 200, 500) < 0.03 and double_sigmoid(600, 200, 500) < 0.03
    assert [clip(x, 0, 0.75) for x in (-1, 0.375, 0.75, 1)] == [0, 0.5, 1, 1]


def test_spec_with_settings():
    spec, mods = split_component("rdkit(mw=100:600)[value=mw,transform=sigmoid,low=200,high=400,weight=2]")
    assert spec == "rdkit(mw=100:600)" and mods["weight"] == "2" and mods["transform"] == "sigmoid"
    comps = components_from_spec("opsin,rdkit[value=qed],similar(to=CC(=O)O)[name=sim]")
    assert [c.label() for c in comps] == ["opsin", "rdkit.qed", "sim"]


@pytest.mark.parametrize("spec, message", [
    ("rdkit[wieght=2]", "unknown scoring setting 'wieght'"),
    ("rdkit[transform=sigmoid]", "needs low= and high="),
    ("rdkit[transform=cubic,low=1,high=2]", "transform"),
    ("rdkit[value=mw,transform=clip,low=3,high=2]", "below high"),
    ("rdkit[weight=-1]", "at least"),
    ("", "empty scoring spec"),
    ("rdkit(", "unbalanced"),
])
def test_bad_specs_are_one_line_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        components_from_spec(spec)


def test_unknown_filter_fails_when_built():
    with pytest.raises(ChemgenError, match="unknown filter 'nosuch'"):
        with ScoringFunction.from_spec("nosuch"):
            pass


def test_gates_multiply_and_graded_components_average():
    with ScoringFunction.from_spec("gate,fixed") as scoring:
        assert scoring.roles == ["gate", "score"]
        table = scoring.score(cands("a", "bb", "xa", "zzz"))
    assert table.total.tolist() == [0.25, 1.0, 0.0, 0.0]  # xa fails the gate, zzz fails fixed
    assert table.components_of(2) == {"gate": 0.0, "fixed": 0.5}


def test_weighted_geometric_and_arithmetic_means():
    spec = "fixed,fixed[value=mw,transform=clip,low=0,high=400,weight=3]"
    with ScoringFunction.from_spec(spec) as geometric:
        g = geometric.score(cands("a", "bb")).total
    with ScoringFunction.from_spec(spec, aggregation="arithmetic") as arithmetic:
        a = arithmetic.score(cands("a", "bb")).total
    assert g == pytest.approx([0.25 ** 0.25 * 0.25 ** 0.75, 1.0 ** 0.25 * 0.5 ** 0.75])
    assert a == pytest.approx([(0.25 + 3 * 0.25) / 4, (1.0 + 3 * 0.5) / 4])


def test_zero_component_zeroes_the_geometric_mean_only():
    spec = "fixed,fixed[value=mw,transform=clip,low=100,high=400]"
    with ScoringFunction.from_spec(spec) as g, ScoringFunction.from_spec(spec, aggregation="arithmetic") as a:
        assert g.score(cands("a")).total[0] == 0.0
        assert a.score(cands("a")).total[0] == pytest.approx(0.125)


def test_structure_found_by_one_component_reaches_the_next():
    class Namer:
        name = "namer"

        def check(self, candidates):
            return [Verdict(True, 1.0, "", {"smiles": "CCO"}) for _ in candidates]

    with ScoringFunction([Component(Namer()), Component("similar(to=CCO)")]) as scoring:
        table = scoring.score(cands("ethanol"))
    assert table.total[0] == pytest.approx(1.0) and scoring.roles == ["gate", "score"]


def test_toml_table():
    table = tomllib.loads('''
        [scoring]
        aggregation = "arithmetic"
        [[scoring.component]]
        filter = "gate"
        [[scoring.component]]
        filter = "fixed"
        weight = 2
        [[scoring.component]]
        filter = "fixed"
        value = "mw"
        transform = "double_sigmoid"
        low = 50
        high = 150
    ''')["scoring"]
    with scoring_from_table(table) as scoring:
        assert scoring.labels == ["gate", "fixed", "fixed.mw"]
        total = scoring.score(cands("a")).total[0]
    assert total == pytest.approx((2 * 0.25 + double_sigmoid(100, 50, 150)) / 3)
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        scoring_from_table({"component": [{"filter": "gate", "colour": "red"}]})
    with pytest.raises(ConfigError, match="needs at least one"):
        scoring_from_table({"aggregation": "geometric"})


# ---------------------------------------------------------------- oracles as components


class Structures:
    """Makes a structure from each name (its name is the SMILES), as opsin does."""

    name = "structures"
    makes_structure = True

    def check(self, candidates):
        return [Verdict(True, 1.0, "", {"smiles": c.name}) for c in candidates]


def test_an_oracle_is_sent_only_what_the_gates_before_it_passed_each_structure_once():
    batches = []

    def length(smiles):
        batches.append(list(smiles))
        return [len(s) / 10 for s in smiles]

    with ScoringFunction([Component(Structures()), "gate", Component(length, weight=3)]) as scoring:
        assert scoring.labels == ["structures", "gate", "oracle"] and scoring.roles == ["gate", "gate", "score"]
        first = scoring.score(cands("CCO", "xCC", "OCC", "C1CC", "CCO")).total
        second = scoring.score(cands("CCO", "CCCC")).total
    assert batches == [["CCO"], ["CCCC"]]  # xCC fails the gate, C1CC has no valid structure, OCC is CCO
    assert first.tolist() == [0.3, 0.0, 0.3, 0.0, 0.3] and second.tolist() == [0.3, 0.4]


def test_an_oracle_alone_is_gated_by_opsin_and_rdkit():
    for score in (lambda smiles: [0.5] * len(smiles), 'command(run="python dock.py --box 1,2")'):
        scoring = ScoringFunction([score])
        assert [c.filter for c in scoring.components[:2]] == ["opsin", "rdkit(properties=none)"]
        assert scoring.labels[2] == ("oracle" if callable(score) else "command") and scoring.scored is not None
    assert len(ScoringFunction(["gate", Component(lambda s: s)]).components) == 2  # with others: as given


def test_command_components_from_the_command_line_and_toml():
    comps = components_from_spec('opsin,command(run="python dock.py --box 1,2", parallel=2)[weight=2]')
    assert [c.label() for c in comps] == ["opsin", "command"] and comps[1].weight == 2
    assert comps[1].oracle_filter().scored.oracle.run == "python dock.py --box 1,2"
    table = tomllib.loads("[scoring]\n[[scoring.component]]\nfilter = 'command(run=\"cat, dog\", timeout=none)'\n")
    scoring = scoring_from_table(table["scoring"])
    assert scoring.labels == ["opsin", "rdkit", "command"] and scoring.oracles[2].scored.oracle.timeout is None
    assert scoring.describe()[2]["filter"] == 'command(run="cat, dog", timeout=none)'
    with pytest.raises(ConfigError, match="unknown option 'workers'"):
        components_from_spec("opsin,command(run=cat, workers=2)")


def test_a_component_that_needs_a_structure_with_none_made_before_it_is_refused():
    for components in (["gate", Component(lambda s: [1.0] * len(s))], [Component("rdkit", value="qed")]):
        with pytest.raises(ConfigError, match="needs a structure, but no component before it makes one"):
            ScoringFunction(components).open()


def test_a_value_no_component_gives_is_refused_and_one_nobody_lists_is_explained():
    with pytest.raises(ConfigError, match="rdkit gives no 'nosuchprop'"):
        ScoringFunction.from_spec("opsin,rdkit[value=nosuchprop]").open()
    with pytest.warns(ChemgenWarning, match=r"first 5 steps scored 0; components that gave 0 to all: "
                                            r"gate.nothing \(no candidate carries 'nothing'\)"):
        with ScoringFunction([Component("gate", value="nothing")]) as scoring:
            for _ in range(5):
                assert scoring.score(cands("a", "b")).total.tolist() == [0.0, 0.0]
