"""The rdkit filter: sanitisation, properties as annotations, ranges and the Lipinski preset."""
import pytest

from chemgen.chem.molecules import PROPERTY_NAMES
from chemgen.errors import ConfigError
from chemgen.filters import Candidate, apply_filters, build_filters
from chemgen_plugins.rdkit_checks import NO_STRUCTURE, RDKitFilter, parse_range

ASPIRIN = Candidate("aspirin", smiles="CC(=O)Oc1ccccc1C(=O)O")
# A large lipophilic molecule: MW > 500, cLogP > 5.
BIG = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)Oc1ccccc1C(=O)O"


def fresh(name="x", smiles=None, inchikey=None):
    return Candidate(name, smiles=smiles, inchikey=inchikey)


def test_no_structure_fails_with_the_hint():
    (verdict,) = RDKitFilter().check([fresh("ethanol")])
    assert not verdict.passed and verdict.reason == NO_STRUCTURE and verdict.score == 0.0


def test_unsanitisable_structure_fails_with_reason():
    verdict, bad_parse = RDKitFilter().check([fresh(smiles="C[N](C)(C)(C)C"), fresh(smiles="C1CC")])
    assert not verdict.passed and verdict.reason.startswith("sanitisation failed: Explicit valence")
    assert not bad_parse.passed and "unparsable SMILES" in bad_parse.reason


def test_properties_and_inchikey_are_annotated():
    (verdict,) = RDKitFilter().check([fresh(smiles=ASPIRIN.smiles)])
    assert verdict.passed and verdict.score == 1.0 and verdict.reason == ""
    assert verdict.annotations["mw"] == pytest.approx(180.16, abs=0.01)
    assert verdict.annotations["hbd"] == 1 and verdict.annotations["heavy_atoms"] == 13
    assert verdict.annotations["inchikey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"


def test_existing_inchikey_is_left_alone():
    (verdict,) = RDKitFilter().check([fresh(smiles=ASPIRIN.smiles, inchikey="FROM-OPSIN")])
    assert "inchikey" not in verdict.annotations


@pytest.mark.parametrize(
    "options, passed, fragment",
    [
        ({"mw": "150:500"}, True, ""),
        ({"mw": "200:"}, False, "mw 180.2 < 200"),
        ({"clogp": ":1"}, False, "clogp 1.31 > 1"),
        ({"qed": "0.5:"}, True, ""),
        ({"qed": "0.9:"}, False, "qed"),
        ({"tpsa": ":140", "hbd": ":0"}, False, "hbd 1 > 0"),
        ({"hba": "3:3", "rotatable_bonds": ":"}, True, ""),
        ({"heavy_atoms": (20, None)}, False, "heavy_atoms 13 < 20"),
    ],
)
def test_ranges(options, passed, fragment):
    (verdict,) = RDKitFilter(**options).check([fresh(smiles=ASPIRIN.smiles)])
    assert verdict.passed is passed
    assert fragment in verdict.reason


def test_reason_lists_every_violated_range_and_score_is_the_fraction_met():
    (verdict,) = RDKitFilter(mw="200:", clogp=":1", hbd=":5").check([fresh(smiles=ASPIRIN.smiles)])
    assert verdict.reason == "mw 180.2 < 200; clogp 1.31 > 1"
    assert verdict.score == pytest.approx(1 / 3)


def test_lipinski_preset():
    aspirin, big = RDKitFilter(lipinski=True).check([fresh(smiles=ASPIRIN.smiles), fresh(smiles=BIG)])
    assert aspirin.passed and aspirin.annotations["lipinski_violations"] == 0
    assert not big.passed and big.reason.startswith("Lipinski: mw")
    assert "clogp" in big.reason and big.annotations["lipinski_violations"] == 2
    (lenient,) = RDKitFilter(lipinski="2").check([fresh(smiles=BIG)])
    assert lenient.passed


@pytest.mark.parametrize(
    "options, message",
    [
        ({"mw": "150-500"}, "malformed range mw="),
        ({"mw": "500"}, "malformed range"),
        ({"mw": True}, "malformed range"),
        ({"tpsa": ""}, "malformed range"),
        ({"qed": "a:b"}, "needs a number"),
        ({"mw": "500:150"}, "empty range"),
        ({"clogp": "nan:"}, "must be a finite number"),
        ({"weight": "1:2"}, "unknown rdkit option 'weight'"),
        ({"lipinski": "many"}, "malformed option lipinski"),
    ],
)
def test_bad_options_are_one_line_config_errors(options, message):
    with pytest.raises(ConfigError, match=message) as info:
        RDKitFilter(**options)
    assert "\n" not in str(info.value)


def test_parse_range_open_ends():
    assert (parse_range("mw", ":5").low, parse_range("mw", ":5").high) == (None, 5.0)
    assert (parse_range("mw", " 0.5 : ").low, parse_range("mw", "0.5:").high) == (0.5, None)


def test_built_from_a_spec_string_and_chained_after_a_structure_filter():
    (rdkit_filter,) = build_filters("rdkit(mw=150:500,lipinski)")
    assert rdkit_filter.lipinski == 0 and rdkit_filter.ranges[0].high == 500.0
    with pytest.raises(ConfigError):
        build_filters("rdkit(mw=oops)")
    candidates = [fresh("aspirin", ASPIRIN.smiles), fresh("mystery")]
    apply_filters([rdkit_filter], candidates)
    assert candidates[0].passed and candidates[0].inchikey == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    assert candidates[0].properties["qed"] > 0
    assert candidates[1].reasons == [f"rdkit: {NO_STRUCTURE}"]



@pytest.mark.parametrize("smiles, reason", [
    ("[Ca].[Mg]", "bare metal atom (Ca, Mg); salt or mixture (2 components)"),  # calcium;magnesium
    ("[C]=O", "radical (2 unpaired electrons)"),  # carbon monoxide;cobalt;hydrate, in part
    ("[CH2]O", "radical (1 unpaired electron)"),
    ("[Na+].[Cl-]", "salt or mixture (2 components)"),
    ("[Fe]", "bare metal atom (Fe)"),
])
def test_chemistry_checks_are_on_by_default_and_give_reasons(smiles, reason):
    (verdict,) = RDKitFilter().check([fresh(smiles=smiles)])
    assert not verdict.passed and verdict.reason == reason and verdict.score == 0.0
    assert "mw" in verdict.annotations  # properties still reported


def test_chemistry_checks_switch_off_one_by_one():
    assert RDKitFilter(allow_radicals=True).check([fresh(smiles="[CH2]O")])[0].passed
    assert RDKitFilter(allow_mixtures="yes").check([fresh(smiles="[Na+].[Cl-]")])[0].passed
    (metals,) = RDKitFilter(allow_metals=True).check([fresh(smiles="[Ca].[Mg]")])
    assert metals.reason == "salt or mixture (2 components)"
    (both,) = build_filters("rdkit(allow_metals,allow_mixtures)")[0].check([fresh(smiles="[Ca].[Mg]")])
    assert both.passed
    with pytest.raises(ConfigError, match="allow_radicals"):
        RDKitFilter(allow_radicals="perhaps")
    assert RDKitFilter().check([fresh(smiles="CCO")])[0].passed


# ---------------------------------------------------------------- properties on demand


def test_by_default_every_property_and_the_scaffold_are_annotated(qed_calls):
    (verdict,) = RDKitFilter().check([fresh(smiles=ASPIRIN.smiles)])
    assert set(PROPERTY_NAMES) | {"scaffold"} <= set(verdict.annotations) and len(qed_calls) == 1


def test_only_the_properties_asked_for_are_computed(qed_calls):
    (verdict,) = RDKitFilter(properties="mw+scaffold").check([fresh(smiles=ASPIRIN.smiles)])
    assert verdict.passed and set(verdict.annotations) == {"mw", "scaffold", "inchikey"}
    assert verdict.annotations["scaffold"] == "c1ccccc1" and not qed_calls


def test_no_properties_still_checks_the_chemistry(qed_calls):
    ok, salt = RDKitFilter(properties="none").check([fresh(smiles=ASPIRIN.smiles, inchikey="K"),
                                                      fresh(smiles="[Na+].[Cl-]", inchikey="K")])
    assert ok.passed and ok.annotations == {} and not qed_calls
    assert not salt.passed and "salt or mixture" in salt.reason


def test_ranges_and_lipinski_compute_what_they_read(qed_calls):
    (verdict,) = RDKitFilter(properties="none", qed="0.9:", lipinski=True).check([fresh(smiles=ASPIRIN.smiles)])
    assert not verdict.passed and "qed" in verdict.reason and len(qed_calls) == 1
    assert set(verdict.annotations) == {"mw", "clogp", "hbd", "hba", "qed", "inchikey", "lipinski_violations"}


def test_a_property_list_may_be_a_python_list_and_unknown_names_are_one_line():
    assert RDKitFilter(properties=["qed", "MW"]).properties == ("mw", "qed")
    with pytest.raises(ConfigError, match="unknown property 'weight'"):
        RDKitFilter(properties="mw+weight")


def test_run_wide_options_reach_rdkit_only_when_it_takes_them():
    [rdkit] = build_filters("rdkit(qed=0.5:)", {"offline": True, "properties": ()})
    assert rdkit.properties == () and rdkit.computed == ("qed",)
