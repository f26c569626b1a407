"""The similar filter: largest Tanimoto similarity to reference molecules (file or inline SMILES)."""
import pytest

from chemgen.errors import ConfigError
from chemgen.filters import Candidate, build_filters
from chemgen_plugins.similar import SimilarityFilter

CELECOXIB = "Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F"


def tanimoto(a, b, fp="bits", radius=2, bits=2048):
    """RDKit's Tanimoto similarity of two SMILES, through its original Morgan functions (the reference)."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import AllChem

    from chemgen.chem.molecules import quiet_rdkit

    with quiet_rdkit():  # the original functions are deprecated in favour of the generators the filter uses
        if fp == "counts":
            fps = [AllChem.GetMorganFingerprint(Chem.MolFromSmiles(s), radius) for s in (a, b)]
        else:
            fps = [AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(s), radius, nBits=bits) for s in (a, b)]
    return DataStructs.TanimotoSimilarity(*fps)


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
    to_ethanol, to_celecoxib = tanimoto("CCCCCCCC", "CCO"), tanimoto("CCCCCCCC", CELECOXIB)
    assert to_ethanol > to_celecoxib > 0  # octane: nearer ethanol's chain than celecoxib's methyl
    assert far.score == far.annotations["similarity"] == to_ethanol and far.annotations["similar_to"] == "ethanol"


def test_min_is_a_pass_threshold_and_no_structure_fails():
    f = SimilarityFilter(to=CELECOXIB, min="0.4")
    low, high, missing = f.check([Candidate("x", smiles="CCO"), Candidate("z", smiles="Cc1ccc(cc1)S(N)(=O)=O"),
                                  Candidate("y")])
    expected = tanimoto("CCO", CELECOXIB)
    assert not low.passed and low.score == expected and low.reason == f"similarity {expected:.3f} < 0.4"
    assert high.passed and high.score == tanimoto("Cc1ccc(cc1)S(N)(=O)=O", CELECOXIB) == 0.45 and high.reason == ""
    assert not missing.passed and missing.score == 0.0 and "no structure" in missing.reason


def test_count_fingerprints_as_guacamol():
    f = SimilarityFilter(to=CELECOXIB, fp="counts")
    assert f.check([Candidate("a", smiles=CELECOXIB)])[0].score == pytest.approx(1.0)
    tosyl = "Cc1ccc(cc1)S(N)(=O)=O"
    assert f.check([Candidate("b", smiles=tosyl)])[0].score == tanimoto(tosyl, CELECOXIB, "counts")
    assert tanimoto(tosyl, CELECOXIB, "counts") != tanimoto(tosyl, CELECOXIB)  # counts, not bits


@pytest.mark.parametrize("radius, bits", [(1, 2048), (3, 1024), (2, 64)])
def test_radius_and_bits_give_rdkits_similarity(radius, bits):
    f = SimilarityFilter(to=CELECOXIB, radius=radius, bits=bits)
    for smiles in ("Cc1ccc(cc1)S(N)(=O)=O", "c1ccccc1C(F)(F)F", "CCO"):
        assert f.check([Candidate("x", smiles=smiles)])[0].score == tanimoto(smiles, CELECOXIB, radius=radius,
                                                                              bits=bits)


@pytest.mark.parametrize("to, message", [
    (None, "^similar needs options: to=PATH"), ("missing.smi", "does not exist"), ("notasmiles(", "neither"),
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
