"""chemgen.chem.known and the novel filter, on a tiny index written to tmp_path."""
import gzip

import pytest

from chemgen.errors import ConfigError, FilterError
from chemgen.filters import Candidate, apply_filters, build_filters
from chemgen.chem.known import HEADER, KnownIndex, write_index
from chemgen_plugins.novel import NoveltyFilter

ETHANOL = ("ethanol", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "CCO")
ALANINE_L = ("l-alanine", "QNAYBMKLOCPYGJ-REOHCLBHSA-N", "C[C@H](N)C(=O)O")
ASPIRIN = ("aspirin", "BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "CC(=O)Oc1ccccc1C(=O)O")
ALANINE_ANY_KEY = "QNAYBMKLOCPYGJ-UHFFFAOYSA-N"  # racemic: same skeleton as l-alanine


@pytest.fixture
def index_path(tmp_path):
    path = tmp_path / "known.tsv.gz"
    write_index([ETHANOL, ("Ethyl Alcohol", ETHANOL[1], "CCO"), ALANINE_L, ASPIRIN], path)
    return path


def test_write_and_load_index(index_path):
    with gzip.open(index_path, "rt") as handle:
        assert handle.readline().rstrip("\n").split("\t") == list(HEADER)
    index = KnownIndex.load(index_path)
    assert len(index) == 4
    assert index.by_name("ETHYL   alcohol").inchikey == ETHANOL[1]
    assert index.by_inchikey(ASPIRIN[1].lower()).name == "aspirin"
    assert index.by_skeleton(ALANINE_ANY_KEY).name == "l-alanine"
    assert index.by_name("propanol") is None and index.by_inchikey(None) is None
    assert index.by_skeleton("SHORT") is None
    assert KnownIndex.load(index_path) is index  # loaded once


def test_bad_index_files_are_one_line_errors(tmp_path):
    with pytest.raises(FilterError, match="not found"):
        KnownIndex.load(tmp_path / "missing.tsv.gz")
    headerless = tmp_path / "headerless.tsv.gz"
    with gzip.open(headerless, "wt") as handle:
        handle.write("ethanol\tX\tCCO\n")
    with pytest.raises(FilterError, match="header"):
        KnownIndex.load(headerless)
    not_gzip = tmp_path / "plain.tsv.gz"
    not_gzip.write_text("name\tinchikey\tsmiles\n")
    with pytest.raises(FilterError, match="cannot read"):
        KnownIndex.load(not_gzip)


def test_large_index_loads_once_and_is_cached(tmp_path):
    path = tmp_path / "big.tsv.gz"
    rows = ((f"compound number {i}", f"{i:014d}-UHFFFAOYSA-N", "C" * (1 + i % 20)) for i in range(150_000))
    write_index(rows, path)
    index = KnownIndex.load(path)
    assert len(index) == 150_000 and index.by_name("compound number 149999").smiles == "C" * 20
    assert KnownIndex.load(path) is index


def judge(filter_, **fields):
    (verdict,) = filter_.check([Candidate(**fields)])
    return verdict


def test_novel_candidate_passes(index_path):
    novel = NoveltyFilter(index=str(index_path))
    verdict = judge(novel, name="2-methylpentan-3-ol", in_training=False)
    assert verdict.passed and verdict.score == 1.0 and verdict.reason == ""
    assert verdict.annotations["in_training"] is False and verdict.annotations["known_name"] is None


def test_training_names_fail(index_path):
    verdict = judge(NoveltyFilter(index=str(index_path)), name="2-methylpentan-3-ol", in_training=True)
    assert not verdict.passed and verdict.reason == "seen in training"


def test_known_name_fails_and_lends_its_structure(index_path):
    verdict = judge(NoveltyFilter(index=str(index_path)), name="Ethyl alcohol")
    assert not verdict.passed and verdict.reason == "known name"
    assert verdict.annotations["known_name"] == "ethyl alcohol"
    assert verdict.annotations["known_inchikey"] == ETHANOL[1]
    assert verdict.annotations["smiles"] == "CCO"  # candidate had no structure yet
    assert verdict.annotations["in_training"] is None


def test_known_structure_under_a_new_name_fails(index_path):
    verdict = judge(NoveltyFilter(index=str(index_path)), name="hydroxyethane", inchikey=ETHANOL[1], smiles="OCC")
    assert not verdict.passed and verdict.reason == "known structure (ethanol)"
    assert "smiles" not in verdict.annotations


def test_same_skeleton_is_reported_but_fails_only_when_strict(index_path):
    loose = judge(NoveltyFilter(index=str(index_path)), name="dl-alanine", inchikey=ALANINE_ANY_KEY)
    assert loose.passed and loose.reason == "same skeleton as l-alanine" and loose.score == 0.5
    assert loose.annotations["same_skeleton"] == "l-alanine"
    strict = judge(NoveltyFilter(index=str(index_path), strict=True), name="dl-alanine", inchikey=ALANINE_ANY_KEY)
    assert not strict.passed and strict.reason == "same skeleton as l-alanine"


def test_mode_known_inverts(index_path):
    known = NoveltyFilter(index=str(index_path), mode="known")
    assert judge(known, name="aspirin").passed
    assert judge(known, name="made-up-ane", in_training=True).passed
    verdict = judge(known, name="2-methylpentan-3-ol")
    assert not verdict.passed and verdict.reason == "not a known compound"


def test_options_are_validated(index_path, tmp_path):
    for options, message in [
        ({"mode": "old"}, "mode='old' must be one of"),
        ({"mode": True}, "must be one of"),
        ({"index": True}, "needs a file path"),
        ({"index": str(tmp_path / "nope.tsv.gz")}, "does not exist"),
        ({"index": str(index_path), "strict": "maybe"}, "is a flag"),
    ]:
        with pytest.raises(ConfigError, match=message):
            NoveltyFilter(**options)


def test_available_reports_a_missing_index(index_path, tmp_path):
    assert NoveltyFilter(index=str(index_path)).available() == (True, "")
    missing = NoveltyFilter(index=str(index_path))
    missing.index_path = tmp_path / "gone.tsv.gz"
    ok, why = missing.available()
    assert not ok and "not found" in why and "index=PATH" in why


def test_built_from_a_spec_and_applied_in_a_chain(index_path):
    (novel,) = build_filters(f"novel(index={index_path},strict)")
    assert novel.strict and novel.mode == "novel"
    candidates = [Candidate("aspirin"), Candidate("4-ethylnonan-2-one", in_training=False)]
    apply_filters([novel], candidates)
    assert not candidates[0].passed and candidates[0].smiles == ASPIRIN[2]
    assert candidates[0].properties["known_name"] == "aspirin"
    assert candidates[1].passed and candidates[1].properties["in_training"] is False
