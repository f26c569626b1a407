"""Naming structures with openclatura, each name verified by an OPSIN round trip."""
from chemgen.chem.namer import name_molecules
from chemgen.chem.opsin import OpsinProcess


def test_names_are_verified_and_failures_explained():
    with OpsinProcess() as opsin:
        named = name_molecules(["CC(=O)Oc1ccccc1C(=O)O", "C1CC", "", "c1ccccc1CCN"], opsin)
    assert [n.name for n in named] == ["2-(acetyloxy)benzoic acid", None, None, "2-phenylethan-1-amine"]
    assert "unreadable SMILES" in named[1].reason and "unreadable SMILES" in named[2].reason
    assert named[0].reason == "" and named[0].smiles == "CC(=O)Oc1ccccc1C(=O)O"
