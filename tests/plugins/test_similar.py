"""The similar filter: largest Tanimoto similarity to reference molecules (file or inline SMILES)."""
import pytest

from chemgen.errors import ConfigError
from chemgen.filters import Candidate, build_filters
from chemgen_plugins.similar import SimilarityFilter

CELECOXIB = "Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F"


def test_identical_structure_scores_one_and_is_annotated():
    f = SimilarityFilter(to=CELECOXIB)
    verdict = f.check([Candidate("celecoxib", smiles="CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F")])[0]
    assert verdict.passed and verdict.score == pytest.approx(1.0)
    assert verdict.annotations["similarity"] == pytest.approx(1.0)


def test_largest_similarity_over_a_file_with_labels_comments_and_header(tmp_path):
    path = tmp_path / "refs.smi"
    path.write_text(f"smiles name\n# a comment\n\nCCO ethanol\n{CELECOXIB} celecoxib\n")
    f = SimilarityFilter(to=str(path))
    near, far = f.check([Candidate("a", smiles=CELECOXIB), Candidate("b", smiles="CCCCCCCC")])
    assert near.annotations["similar_to"] == "celecoxib" and near.score == pytest.approx(1.0)
    assert 0 <= far.score < 0.5


def test_min_is_a_pass_threshold_and_no_structure_fails():
    f = SimilarityFilter(to=CELECOXIB, min="0.5")
    low, missing = f.check([Candidate("x", smiles="CCO"), Candidate("y")])
    assert not low.passed and low.score < 0.5 and "similarity" in low.reason
    assert not missing.passed and missing.score == 0.0 and "no structure" in missing.reason


def test_count_fingerprints_as_guacamol():
    f = SimilarityFilter(to=CELECOXIB, fp="counts")
    assert f.check([Candidate("a", smiles=CELECOXIB)])[0].score == pytest.approx(1.0)
    assert 0 < f.check([Candidate("b", smiles="Cc1ccc(cc1)S(N)(=O)=O")])[0].score < 1


@pytest.mark.parametrize("to, message", [
    (None, "needs a SMILES file"), ("missing.smi", "does not exist"), ("notasmiles(", "neither"),
])
def test_bad_references_are_one_line_errors(to, message):
    with pytest.raises(ConfigError, match=message):
        SimilarityFilter(to=to)


def test_bad_line_in_file_names_the_line(tmp_path):
    path = tmp_path / "bad.smi"
    path.write_text("CCO\nC1CC\n")
    with pytest.raises(ConfigError, match="line 2"):
        SimilarityFilter(to=str(path))


def test_registered_and_options_bound_from_a_spec():
    (f,) = build_filters(f"similar(to={CELECOXIB},min=0.2,bits=1024)")
    assert f.name == "similar" and f.min == 0.2 and f.bits == 1024
    with pytest.raises(ConfigError, match="min"):
        build_filters("similar(to=CCO,min=2)")


def test_references_from_sdf_and_csv(tmp_path):
    from rdkit import Chem

    from chemgen.filters import Candidate, build_filters

    sdf = tmp_path / "refs.sdf"
    writer = Chem.SDWriter(str(sdf))
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    mol.SetProp("_Name", "aspirin")
    writer.write(mol)
    writer.close()
    table = tmp_path / "refs.csv"
    table.write_text("id,smiles\nasp,CC(=O)Oc1ccccc1C(=O)O\n")
    for path in (sdf, table):
        [similar] = build_filters(f"similar(to={path})")
        [verdict] = similar.check([Candidate("aspirin", smiles="CC(=O)Oc1ccccc1C(=O)O")])
        assert verdict.score == 1.0 and verdict.annotations["similar_to"] in ("aspirin", "asp")
