"""The substructure filter: SMARTS to keep and to exclude, written inline or in files."""
import pytest

from chemgen.errors import ConfigError, FilterError
from chemgen.filters import Candidate, apply_filters, build_filters

INDOLE, NITRO = "c1ccc2[nH]ccc2c1", "[N+](=O)[O-]"


def judged(spec, smiles):
    [filter_] = build_filters(spec)
    cands = [Candidate(s, smiles=s) for s in smiles]
    apply_filters([filter_], cands)
    return cands


def test_keeps_matches_and_drops_excluded_patterns_from_the_command_line():
    tryptamine, nitroindole, benzene = "NCCc1c[nH]c2ccccc12", "O=[N+]([O-])c1ccc2[nH]ccc2c1", "c1ccccc1"
    cands = judged(f"substructure(smarts={INDOLE},exclude={NITRO})", [tryptamine, nitroindole, benzene])
    assert [c.passed for c in cands] == [True, False, False]
    assert "contains excluded" in cands[1].reasons[0] and f"lacks {INDOLE}" in cands[2].reasons[0]
    assert [c.verdicts["substructure"].score for c in cands] == [1.0, 0.0, 0.0]


def test_patterns_from_files(tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("# amide and aromatic ring\nC(=O)N\nc1ccccc1\n")
    cands = judged(f"substructure(file={keep})", ["CC(=O)Nc1ccccc1", "CC(=O)NC"])
    assert [c.passed for c in cands] == [True, False]


def test_no_structure_fails_with_a_hint():
    [filter_] = build_filters("substructure(smarts=C)")
    assert "run opsin" in filter_.check([Candidate("ethanol")])[0].reason


@pytest.mark.parametrize("spec, error, message", [
    ("substructure", ConfigError, "substructure needs options: smarts=, file=, exclude= or exclude_file="),
    ("substructure(smarts=C1CC)", ConfigError, "substructure: option smarts='C1CC' is not valid SMARTS"),
    ("substructure(smarts)", ConfigError, "substructure: option smarts needs a SMARTS pattern (smarts=SMARTS)"),
    ("substructure(file=/nonexistent.txt)", ConfigError,
     "substructure: option file='/nonexistent.txt': /nonexistent.txt does not exist"),
    ("substructure(colour=red)", FilterError,
     "filter 'substructure' has no option 'colour' (its options: exclude, exclude_file, file, smarts)"),
])
def test_bad_options_are_one_line_errors(spec, error, message):
    with pytest.raises(error) as info:
        build_filters(spec)
    assert str(info.value) == message
