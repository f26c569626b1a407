"""Restore the letter case OPSIN needs in lower-cased chemical names.

Corpora such as PubChem's synonym lists are lower case, but OPSIN reads case:
``N-methyl`` is a locant on nitrogen while ``n-butyl`` is normal butyl,
``(2R)`` is a stereo descriptor and ``1H`` indicated hydrogen. The rules below
are data tables and regular expressions applied in a fixed order; each only
touches lower-case letters, so :func:`restore_case` is idempotent and leaves
names that already carry case alone.

Rules, in order:

1. stereo groups: a parenthesis holding only descriptors, e.g. ``(2r,3s)``,
   ``(e)``, ``(4as,8ar)``, ``(rs)``, ``(1r*,2s*)`` -> upper-case descriptors;
   ``(+)``, ``(-)`` are untouched;
2. indicated hydrogen: ``1h-``, ``2(1h)``, ``4ah-``, ``^{2}h`` -> ``1H``...;
3. isotopes: ``^{13}c`` -> ``^{13}C``;
4. heteroatom locants: ``n-``, ``n,n-``, ``n'-``, ``n1,n4-``, ``o-``, ``s-``,
   ``p-`` -> ``N-``... except where the letter is positional (``o-``/``m-``/
   ``p-`` before a benzene-ring word, ``p,p'-``), symmetric (``s-triazine``)
   or normal (``n-butyl acetate``: a bare chain, no nitrogen in the name);
5. configuration prefixes: ``d-``, ``l-``, ``dl-`` -> ``D-``, ``L-``, ``DL-``;
6. oxidation states after an element: ``iron(iii)`` -> ``iron(III)``.

``tert-``, ``sec-``, ``iso``, ``cis``/``trans``, ``alpha``/``beta`` and fusion
letters such as ``[2,3-d]`` stay as they are.
"""
from __future__ import annotations

import re
from typing import Callable, Match, Pattern

# ---------------------------------------------------------------- data tables

STEREO_DESCRIPTORS = ("rs", "sr", "r", "s", "e", "z")  # longest first
HETEROATOM_LOCANTS = {"n": "N", "o": "O", "s": "S", "p": "P"}  # locant letter -> element
POSITIONAL_LETTERS = frozenset("omp")  # ortho/meta/para
CONFIGURATION_PREFIXES = {"d": "D", "l": "L", "dl": "DL", "d,l": "D,L"}
ROMAN_NUMERALS = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii")

# Words after o-/m-/p- that mark a position on a benzene ring, not an O/P locant (regexes).
RING_WORDS = (
    "phen", "tolu", "tolyl", "xylen", "xylyl", "xylid", "cresol", "anis", "benz", "dioxin",
    "cymen", "quinon", "(?<!na)phthal", "carboran", "cumen", "styren", "catechol", "cinnam",
    "cresyl",
)
# Names in which an o- is an O-locant even before a ring word (O-benzylhydroxylamine).
O_ATTACHMENT_WORDS = ("hydroxylamin", "thioate", "serine", "tyrosine", "threonine")
# Words after s- meaning "symmetric".
SYMMETRIC_WORDS = ("triazin", "tetrazin", "trithian", "trioxan", "collidin")
# Chain stems after n- meaning "normal" (unbranched), when nothing else needs an N.
NORMAL_CHAINS = (
    "prop", "but", "pent", "hex", "hept", "oct", "non", "dec", "undec", "dodec", "tridec",
    "tetradec", "pentadec", "hexadec", "heptadec", "octadec", "nonadec", "eicos", "icos",
)
# Fragments that put a nitrogen in a name, so an n- locant has somewhere to sit.
NITROGEN_FRAGMENTS = (
    "amin", "amid", "anil", "imid", "imin", "aza", "azi", "azo", "nitr", "cyan", "urea",
    "guanid", "hydrazi", "pyrid", "pyrr", "indol", "quinol", "purin", "carbam", "ine",
    "oxime", "azet", "ammon",
)
ELEMENT_SYMBOLS = frozenset(
    "h he li be b c n o f ne na mg al si p s cl ar k ca ti v cr mn fe co ni cu zn ga ge as se br "
    "kr rb sr y zr mo ru rh pd ag cd in sn sb te i xe cs ba la ce pt au hg tl pb bi u".split()
)

# ---------------------------------------------------------------- patterns

_LOCANT = r"\d+'*[a-d]?'*"  # 2, 4a, 3'a, 1'
_DESCRIPTOR = "(?:" + "|".join(STEREO_DESCRIPTORS) + r")\*?"
_STEREO_ITEM = re.compile(rf"({_LOCANT})?({_DESCRIPTOR})")
_STEREO_GROUP = re.compile(rf"\((?:{_LOCANT})?{_DESCRIPTOR}(?:,(?:{_LOCANT})?{_DESCRIPTOR})*\)")
_HYDROGEN = re.compile(r"(?<![a-z])(\d+[a-d]?'*|\^\{\d+\})h(?=[-,)\]\s]|$)")
_ISOTOPE = re.compile(r"\^\{(\d+)\}([a-z]{1,2})(?![a-z])")
_LOCANT_ITEM = r"(?:[a-z]\d*'*|\d+[a-z]?'*)"
_LOCANT_LIST = re.compile(rf"(?<![\w'^{{}}])({_LOCANT_ITEM}(?:,{_LOCANT_ITEM})*)-(?=(\S*))")
_MULTIPLIED = re.compile(r"(?:\b(?:di|tri|tetra)|\d'*)-$")  # di-n-butyl, 2-n-butoxy: normal chains
_CONFIGURATION = re.compile(r"(?<![\w',])(d,l|dl|d|l)-(?=[a-z(\[])")
_ROMAN = re.compile(r"(?<=[a-z])( ?)\((" + "|".join(sorted(ROMAN_NUMERALS, key=len, reverse=True)) + r")\)")
_RING_WORD = re.compile("|".join(RING_WORDS))
_O_ATTACHMENT = re.compile("|".join(O_ATTACHMENT_WORDS))
_SYMMETRIC_WORD = re.compile("^(?:" + "|".join(SYMMETRIC_WORDS) + ")")
_NORMAL_CHAIN = re.compile("^(?:" + "|".join(NORMAL_CHAINS) + r")(?:yl|an|en|oxy)")
_NITROGEN = re.compile("|".join(NITROGEN_FRAGMENTS))
_LOCANT_LETTERS = frozenset(HETEROATOM_LOCANTS) | POSITIONAL_LETTERS


# ---------------------------------------------------------------- rules


def _upper_stereo(match: Match[str]) -> str:
    """``(2r,4as)`` -> ``(2R,4aS)``: upper-case each descriptor, keep locants."""
    items = match.group(0)[1:-1].split(",")
    fixed = [_STEREO_ITEM.sub(lambda m: (m.group(1) or "") + m.group(2).upper(), item) for item in items]
    return "(" + ",".join(fixed) + ")"


def _upper_hydrogen(match: Match[str]) -> str:
    return match.group(1) + "H"


def _upper_isotope(match: Match[str]) -> str:
    symbol = match.group(2)
    return match.group(0) if symbol not in ELEMENT_SYMBOLS else f"^{{{match.group(1)}}}{symbol.capitalize()}"


def _is_positional(letters: set[str], items: list[str], following: str, name: str) -> bool:
    """True when the locant letters mean ortho/meta/para rather than O/P atoms."""
    if not letters <= POSITIONAL_LETTERS:
        return False
    if "p" in letters or "m" in letters:
        return True  # para/meta; P-locants come with N or S (n,n,p-), never alone
    bare = all(item.rstrip("'") in POSITIONAL_LETTERS for item in items)
    if not bare or following.startswith(("(", "[")) or _O_ATTACHMENT.search(name):
        return False
    return bool(_RING_WORD.search(following))


def _is_other_sense(items: list[str], following: str, name: str, before: str) -> bool:
    """True when a lone ``s-`` means symmetric or a lone ``n-`` means normal chain."""
    if len(items) != 1:
        return False
    if items[0] == "s":
        return bool(_SYMMETRIC_WORD.match(following))
    if items[0] == "n" and _NORMAL_CHAIN.match(following):
        return bool(_MULTIPLIED.search(before)) or not _NITROGEN.search(name)
    return False


def _locant_rule(name: str) -> Callable[[Match[str]], str]:
    """A replacement for the heteroatom locant lists of ``name``."""

    def replace(match: Match[str]) -> str:
        text, following = match.group(1), match.group(2)
        items = text.split(",")
        letters = {item[0] for item in items if item[0].isalpha()}
        if not letters or not letters <= _LOCANT_LETTERS:
            return match.group(0)
        if _is_positional(letters, items, following, name) or _is_other_sense(items, following, name, name[:match.start()]):
            return match.group(0)
        fixed = [HETEROATOM_LOCANTS[item[0]] + item[1:] if item[0].isalpha() else item for item in items]
        return ",".join(fixed) + "-"

    return replace


def _upper_configuration(match: Match[str]) -> str:
    return CONFIGURATION_PREFIXES[match.group(1)] + "-"


def _upper_roman(match: Match[str]) -> str:
    return f"{match.group(1)}({match.group(2).upper()})"


_EARLY_RULES: tuple[tuple[Pattern[str], Callable[[Match[str]], str]], ...] = (
    (_STEREO_GROUP, _upper_stereo),
    (_HYDROGEN, _upper_hydrogen),
    (_ISOTOPE, _upper_isotope),
)
_LATE_RULES: tuple[tuple[Pattern[str], Callable[[Match[str]], str]], ...] = (
    (_CONFIGURATION, _upper_configuration),
    (_ROMAN, _upper_roman),
)


def restore_case(name: str) -> str:
    """The name with OPSIN's standard case restored (``n,n-dimethyl`` -> ``N,N-dimethyl``)."""
    for pattern, replace in _EARLY_RULES:
        name = pattern.sub(replace, name)
    name = _LOCANT_LIST.sub(_locant_rule(name), name)
    for pattern, replace in _LATE_RULES:
        name = pattern.sub(replace, name)
    return name
