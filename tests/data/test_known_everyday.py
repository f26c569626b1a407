"""The shipped known-compounds index knows everyday compounds, by name and by structure, and holds no radicals."""
import pytest

from chemgen.chem import molecules as chem
from chemgen.chem.known import KnownIndex
from chemgen.filters import Candidate
from chemgen_plugins.novel import NoveltyFilter

EVERYDAY = {  # name -> SMILES
    "ethanol": "CCO", "methanol": "CO", "benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "methylbenzene": "Cc1ccccc1",
    "cyclohexane": "C1CCCCC1", "acetone": "CC(C)=O", "acetic acid": "CC(=O)O", "phenol": "Oc1ccccc1",
    "pyridine": "c1ccncc1", "naphthalene": "c1ccc2ccccc2c1", "chloroform": "ClC(Cl)Cl",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O", "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "ibuprofen": "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "sodium chloride": "[Na+].[Cl-]", "dmf": "CN(C)C=O", "n,n-dimethylformamide": "CN(C)C=O", "water": "O",
    "urea": "NC(N)=O", "glycerol": "OCC(O)CO",
}


@pytest.fixture(scope="module")
def index():
    return KnownIndex.load()


@pytest.mark.parametrize("name", sorted(EVERYDAY))
def test_everyday_compounds_are_known_by_name_and_structure(index, name):
    key = chem.inchikey_of(chem.mol_from_smiles(EVERYDAY[name]))
    assert index.by_name(name) is not None and index.by_name(name).inchikey == key
    assert index.by_inchikey(key) is not None


def test_the_novel_filter_calls_them_known(index):
    candidates = [Candidate(name) for name in EVERYDAY]
    verdicts = NoveltyFilter().check(candidates)
    assert not any(v.passed for v in verdicts)


def test_no_radical_structures_in_the_index(index):
    for name in ("methanol", "methylbenzene", "cyclohexane"):
        assert chem.radical_electrons(chem.mol_from_smiles(index.by_name(name).smiles)) == 0
