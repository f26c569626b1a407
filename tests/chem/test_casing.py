"""restore_case: the standard case OPSIN needs, restored in lower-cased names."""
import pytest

from chemgen.chem.casing import restore_case

CASES = [
    # heteroatom locants
    ("n-methylacetamide", "N-methylacetamide"),
    ("n,n-dimethylformamide", "N,N-dimethylformamide"),
    ("n,n,n',n'-tetramethylethane-1,2-diamine", "N,N,N',N'-tetramethylethane-1,2-diamine"),
    ("n'-hydroxy-n,n'-dimethylmethanimidamide", "N'-hydroxy-N,N'-dimethylmethanimidamide"),
    ("n4-(6-chloranyl-2-methoxy-acridin-9-yl)-n1,n1-diethyl-pentane-1,4-diamine",
     "N4-(6-chloranyl-2-methoxy-acridin-9-yl)-N1,N1-diethyl-pentane-1,4-diamine"),
    ("2,n-dimethylaniline", "2,N-dimethylaniline"),
    ("4-nitroso-n-phenyl-aniline", "4-nitroso-N-phenyl-aniline"),
    ("pyridine n-oxide", "pyridine N-oxide"),
    ("o-acetyl-l-serine", "O-acetyl-L-serine"),
    ("o-acetylsalicylic acid", "O-acetylsalicylic acid"),
    ("o-methylhydroxylamine", "O-methylhydroxylamine"),
    ("o,o-diethyl o-(4-nitrophenyl) phosphorothioate", "O,O-diethyl O-(4-nitrophenyl) phosphorothioate"),
    ("s-ethyl azepane-1-carbothioate", "S-ethyl azepane-1-carbothioate"),
    ("n,n,p-trimethylphosphinic amide", "N,N,P-trimethylphosphinic amide"),
    # positional, symmetric and normal senses stay lower case
    ("o-xylene", "o-xylene"),
    ("p-toluenesulfonic acid", "p-toluenesulfonic acid"),
    ("m-cresol", "m-cresol"),
    ("p,p'-ddt", "p,p'-ddt"),
    ("2,3,7,8-tetrakis(chloranyl)dibenzo-p-dioxin", "2,3,7,8-tetrakis(chloranyl)dibenzo-p-dioxin"),
    ("s-triazine", "s-triazine"),
    ("n-butyl acetate", "n-butyl acetate"),
    ("n-hexane", "n-hexane"),
    ("tri-n-butylamine", "tri-n-butylamine"),
    ("n-butylamine", "N-butylamine"),
    # stereo descriptors
    ("(e)-but-2-enoic acid", "(E)-but-2-enoic acid"),
    ("(z)-but-2-ene", "(Z)-but-2-ene"),
    ("(2r)-butan-2-ol", "(2R)-butan-2-ol"),
    ("(2s,3r)-2-amino-3-hydroxybutanoic acid", "(2S,3R)-2-amino-3-hydroxybutanoic acid"),
    ("(r)-limonene", "(R)-limonene"),
    ("(s)-ibuprofen", "(S)-ibuprofen"),
    ("(rs)-butan-2-ol", "(RS)-butan-2-ol"),
    ("(1r,2s)-2-methylcyclohexan-1-ol", "(1R,2S)-2-methylcyclohexan-1-ol"),
    ("(4as,8ar)-decalin", "(4aS,8aR)-decalin"),
    ("(1r*,2s*)-x", "(1R*,2S*)-x"),
    ("(2e,4z)-hexa-2,4-dienoic acid", "(2E,4Z)-hexa-2,4-dienoic acid"),
    ("[(2r)-oxiran-2-yl]methanol", "[(2R)-oxiran-2-yl]methanol"),
    ("(+)-camphor", "(+)-camphor"),
    ("(-)-menthol", "(-)-menthol"),
    # indicated hydrogen, isotopes
    ("1h-indole", "1H-indole"),
    ("9-ethyl-9h-purin-6-amine", "9-ethyl-9H-purin-6-amine"),
    ("4ah-carbazole", "4aH-carbazole"),
    ("quinolin-2(1h)-one", "quinolin-2(1H)-one"),
    ("2h-pyran", "2H-pyran"),
    ("(^{2}h_{3})methanol", "(^{2}H_{3})methanol"),
    ("(^{13}c)methane", "(^{13}C)methane"),
    # D/L and oxidation states
    ("l-alanine", "L-alanine"),
    ("d-glucose", "D-glucose"),
    ("dl-alanine", "DL-alanine"),
    ("2-deoxy-d-ribose", "2-deoxy-D-ribose"),
    ("iron(iii) chloride", "iron(III) chloride"),
    ("platinum (ii) chloride", "platinum (II) chloride"),
    # left alone
    ("tert-butyl alcohol", "tert-butyl alcohol"),
    ("sec-butylamine", "sec-butylamine"),
    ("alpha-pinene", "alpha-pinene"),
    ("beta-carotene", "beta-carotene"),
    ("cis-but-2-ene", "cis-but-2-ene"),
    ("naphtho[2,1-d]thiazole", "naphtho[2,1-d]thiazole"),
    ("2-methylpropan-1-ol", "2-methylpropan-1-ol"),
    ("ethanol", "ethanol"),
    ("1-(2-chlorophenyl)ethanone", "1-(2-chlorophenyl)ethanone"),
]


@pytest.mark.parametrize("lower, standard", CASES)
def test_restore_case(lower, standard):
    assert restore_case(lower) == standard


@pytest.mark.parametrize("lower, standard", CASES)
def test_idempotent_and_leaves_cased_names_alone(lower, standard):
    assert restore_case(standard) == standard
    assert restore_case(restore_case(lower)) == restore_case(lower)


def test_ordinary_letters_inside_words_stay_lower():
    words = "hexane pentanoic sulfonamide propanoate benzenesulfonyl dihydrogen oxide thiophene-2-sulfonic acid"
    assert restore_case(words) == words
    for name, _ in CASES:
        changed = [(a, b) for a, b in zip(name, restore_case(name)) if a != b]
        assert all(b.isupper() and b.lower() == a for a, b in changed)  # only case changes, never letters


def test_empty_and_non_letter_names():
    assert restore_case("") == ""
    assert restore_case("1,2-") == "1,2-"
