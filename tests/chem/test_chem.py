"""chemgen.chem.molecules: RDKit helpers give None/NaN on bad input, never raise, and stay quiet."""
import math

import pytest
from rdkit import rdBase

from chemgen.chem import molecules as chem

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_mol_from_smiles_valid_and_invalid():
    assert chem.mol_from_smiles(ASPIRIN).GetNumHeavyAtoms() == 13
    for bad in ["C1CC", "c1cccc1", "C[N](C)(C)(C)C", "", "   ", None, 42]:
        assert chem.mol_from_smiles(bad) is None


def test_parse_smiles_gives_one_line_reasons():
    assert chem.parse_smiles(ASPIRIN)[1] == ""
    assert "valence" in chem.parse_smiles("C[N](C)(C)(C)C")[1].lower()
    assert "kekulize" in chem.parse_smiles("c1cccc1")[1].lower()
    assert chem.parse_smiles("C1CC")[1].startswith("unparsable SMILES")
    assert chem.parse_smiles(None) == (None, "empty SMILES")
    for smiles in ["C[N](C)(C)(C)C", "c1cccc1", "C1CC"]:
        assert "\n" not in chem.parse_smiles(smiles)[1]


def test_inchikey_of():
    assert chem.inchikey_of(chem.mol_from_smiles(ASPIRIN)) == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    assert chem.inchikey_of(None) is None


def test_compute_properties_aspirin():
    props = chem.compute_properties(chem.mol_from_smiles(ASPIRIN))
    assert tuple(props) == chem.PROPERTY_NAMES
    assert props["mw"] == pytest.approx(180.159, abs=1e-3)
    assert props["clogp"] == pytest.approx(1.31, abs=0.01)
    assert props["tpsa"] == pytest.approx(63.6, abs=0.1)
    assert (props["hbd"], props["hba"], props["rotatable_bonds"], props["heavy_atoms"]) == (1, 3, 2, 13)
    assert 0.0 < props["qed"] < 1.0
    assert all(isinstance(props[k], int) for k in chem.INTEGER_PROPERTIES)


def test_compute_properties_of_nothing_is_nan():
    props = chem.compute_properties(None)
    assert tuple(props) == chem.PROPERTY_NAMES
    assert all(math.isnan(v) for v in props.values())


def test_morgan_fingerprint():
    fp = chem.morgan_fingerprint(chem.mol_from_smiles(ASPIRIN), n_bits=1024)
    assert fp.GetNumBits() == 1024 and fp.GetNumOnBits() > 0
    assert chem.morgan_fingerprint(None) is None


def test_quiet_rdkit_silences_then_restores(capfd):
    before = rdBase.LogStatus()
    chem.mol_from_smiles("C[N](C)(C)(C)C")
    chem.mol_from_smiles("C1CC")
    assert capfd.readouterr().err == ""
    assert rdBase.LogStatus() == before


def test_is_missing():
    assert chem.is_missing(None) and chem.is_missing(float("nan"))
    assert not chem.is_missing(0) and not chem.is_missing("x")


@pytest.mark.parametrize("smiles", [ASPIRIN, "[H]OC([H])([H])C", "[2H]C(Cl)(Cl)Cl", "CC(=O)Nc1ccc(O)cc1.Cl",
                                    "O=C1CCCN1C1CC(C(F)(F)F)=NN1S(=O)(=O)c1ccccc1"])
def test_qed_is_rdkits_value_with_or_without_hydrogens_to_remove(smiles):
    from rdkit.Chem import QED

    before = chem.compute_properties(chem.mol_from_smiles(smiles))  # clogp computed first, then reused by QED
    assert before["qed"] == QED.qed(chem.mol_from_smiles(smiles))
    assert chem.compute_properties(chem.mol_from_smiles(smiles), ["qed"])["qed"] == before["qed"]
