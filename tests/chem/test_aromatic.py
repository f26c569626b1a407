"""Names that mean what they say: the default filters refuse a name whose structure has fewer aromatic rings
than the name's aromatic parents and prefixes promise (chemgen.chem.aromatic, applied by the rdkit filter)."""
import pytest

from chemgen.chem.aromatic import named_aromatic_rings
from chemgen.filters import Candidate, apply_filters, build_filters


@pytest.mark.parametrize("name, rings", [
    ("benzene", 1),
    ("N-benzylacetamide", 1),
    ("2-(2,5-dichloro-5-methoxy-4-methylphenyl)acetic acid", 1),
    ("cyclohexa-2,5-dien-1-ylacetic acid", 0),
    ("naphthalene", 2),
    ("1,2,3,4-tetrahydronaphthalene", 0),  # hydro: counting stops (a lower bound, never more)
    ("6-methoxy-1,2,3,4-tetrahydroisoquinoline", 0),
    ("N-phenyl-4,5-dihydro-1H-pyrazole-1-carboxamide", 1),  # phenyl before the hydro prefix still counts
    ("1H-pyrazole", 1),
    ("4H-pyrazole", 0),  # indicated hydrogen on a carbon
    ("1H-1,2,4-triazol-3-yl", 1),
    ("4H-1,2,4-triazol-3-yl", 1),
    ("3H-1,2,4-triazole", 0),
    ("9H-purine", 2),
    ("5H-purine", 0),  # a ring-fusion atom saturated
    ("1H-indole", 2),
    ("3H-indole", 0),
    ("2,3-dihydro-1H-indole", 0),
    ("indolin-2-one", 1),  # its benzo ring is certain
    ("3,3-dimethyl-2-phenyl-indole", 1),  # two substituents on position 3: the pyrrole ring is gone
    ("quinolin-2(1H)-one", 0),
    ("isoindole-1,3-dione", 0),
    ("4-oxo-4-phenylbutanoic acid", 1),  # benzenoid words keep their ring beside an oxo
    ("bis(4-chlorophenyl)methanol", 2),
    ("[1,1'-biphenyl]-4-ol", 2),
    ("2,2-diphenylacetic acid", 2),
    ("N-(1H-benzimidazol-2-yl)benzamide", 2),
    ("2H-spiro[1-benzofuran-3,4'-piperidine]", 1),
    ("thiophene 1,1-dioxide", 0),
    ("2-methyltetrahydrofuran", 0),
    ("4-hydroxyphenyl", 1),
    ("1,3-benzodioxol-5-yl", 1),
    ("pyrrolidine", 0),
    ("imidazolidin-2-one", 0),
    ("sulfuryl chloride", 0),
    ("2-(1,3-thiazol-2-yl)pyridine", 2),
    ("3-(1-methyl-1H-pyrazol-4-yl)-5-(3-methylimidazo[4,5-b]pyridin-6-yl)-1,2,4-oxadiazole", 4),
    ("2-(2-(unbalanced", 0),
    ("(" * 5000 + "phenyl" + ")" * 5000, 0),  # nested too deep to judge
])
def test_rings_a_name_promises(name, rings):
    assert named_aromatic_rings(name)[0] == rings


@pytest.fixture(scope="module")
def read():
    """Names read by the real OPSIN, once per module."""
    opsin = build_filters("opsin")

    def run(names):
        return apply_filters(opsin, [Candidate(n) for n in names])

    yield run
    for filter_ in opsin:
        filter_.close()


WRONG = {  # OPSIN reads these, and RDKit sanitises the reading, but a ring the name promises is not aromatic
    "2-(2,5-dichloro-5-methoxy-4-methylphenyl)acetic acid": "name promises 1 aromatic ring (phenyl), structure has 0",
    "(3,5-dimethyl-2-phenylmorpholin-4-yl)(6-(3-methyl-1H-1,2,4-triazol-4-yl)pyridin-3-yl)methanone":
        "name promises 3 aromatic rings (phenyl, triazol, pyridin), structure has 2",
    "4-amino-N-(4-chloro-2-methoxy-5-methylphenyl)-4-hydroxybenzamide":
        "name promises 2 aromatic rings (phenyl, benz), structure has 1",
}
RIGHT = ["1,2,3,4-tetrahydronaphthalene", "4,5-dihydro-1H-pyrazole", "3,3-dimethyl-2-phenyl-3H-indole",
         "quinolin-2(1H)-one", "2-phenyl-1H-indole", "1-benzyl-1H-1,2,4-triazole", "9H-purin-6-amine",
         "5,5-diphenylimidazolidine-2,4-dione", "2-(4-isobutylphenyl)propanoic acid", "thiophene 1,1-dioxide",
         "1H-1,2,4-triazol-3-amine", "N-(4-hydroxyphenyl)acetamide", "2H-spiro[1-benzofuran-3,4'-piperidine]"]


def test_default_filters_refuse_rings_the_structure_lacks(read):
    candidates = read(list(WRONG) + RIGHT)
    assert all(c.smiles for c in candidates)
    verdicts = build_filters("rdkit")[0].check(candidates)
    assert {c.name: v.reason for c, v in zip(candidates, verdicts) if not v.passed} == WRONG
    assert all(v.score == 0.0 for c, v in zip(candidates, verdicts) if c.name in WRONG)


def test_the_check_is_on_by_default_and_switched_off_by_an_option(read):
    candidates = read(list(WRONG))
    assert not any(v.passed for v in build_filters("rdkit")[0].check(candidates))
    assert all(v.passed for v in build_filters("rdkit(allow_missing_aromatics)")[0].check(candidates))
    assert all(v.passed for v in build_filters("rdkit(allow_missing_aromatics=yes)")[0].check(candidates))


def test_the_default_chain_names_the_reason(read):
    (candidate,) = apply_filters(build_filters("opsin,rdkit"), [Candidate(next(iter(WRONG)))])
    assert not candidate.passed and candidate.verdicts["opsin"].passed
    assert candidate.verdicts["rdkit"].reason == WRONG[candidate.name]
