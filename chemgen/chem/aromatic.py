"""Names that mean what they say: the aromatic rings a name promises against those its structure has.

A name's aromatic parents and prefixes (benzene, phenyl, pyridinyl, 1H-1,2,4-triazol-3-yl,
naphthalene, indole...) promise aromatic rings. When OPSIN reads an impossible name its own way
("5,5-dichloro...phenyl" as a cyclohexadiene, a triazolyl with a carbon of two substituents as a
triazoline), the structure has fewer aromatic rings than the name promises, and a chemist reading
the name would be misled. :func:`aromatic_mismatch` says so.

The count on the name's side is a lower bound, so that a correct name is never refused:

- Only the words of :data:`RING_WORDS` count, each for the rings it names (naphthalene 2), times
  a multiplier written before it (diphenyl, bis(...), biphenyl).
- A hydro prefix (dihydro, tetrahydro..., also dehydro, perhydro) switches counting off for the
  rest of its bracket level, nested brackets included: 1,2,3,4-tetrahydronaphthalene,
  4,5-dihydro-1H-pyrazole and 5,6,7,8-tetrahydroquinoline count nothing.
- Where a ring may have given up its aromaticity to a double bond out of the ring or a saturated
  atom — an -one, -thione or -imine suffix, an oxo, imino or ylidene prefix (or a substituent
  attached by a double bond, ...ylidene), added hydrogen ``(1H)``, indicated hydrogen not on a ring
  nitrogen (3H-indole, 4H-pyrazole), two substituents on one position (3,3-dimethylindole), a spiro
  atom, an oxide or a lambda-convention atom — only the benzenoid words of that bracket level count
  (phenyl, benzyl, benzo, aniline..., and the benzo rings of indane, indene, indoline, fluorene):
  a pyridinone, an isoindole-1,3-dione or a 4H-quinoxalin-6-one counts nothing.
- Indicated hydrogen on a ring-fusion atom (4aH, 8aH, 5H-purine) also switches counting off.

The structure's side is RDKit's count of aromatic rings after sanitisation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

from rdkit.Chem import rdMolDescriptors


@dataclass(frozen=True)
class RingWord:
    """A word (stem) that names aromatic rings."""

    pattern: str  # regular expression on the lower-case name
    rings: int  # aromatic rings it names
    stable: bool  # True: only a hydro prefix takes them away (benzenoid); False: they may be lost (see above)
    nh: frozenset = frozenset()  # positions that may carry indicated hydrogen in an aromatic ring ("1H-pyrrole")
    fusion: frozenset = frozenset()  # ring-fusion positions numbered without a letter (purine's 4 and 5)
    nh_named: bool = False  # the name's own locants say where the nitrogens are ("1H-1,2,4-triazole")


def _word(pattern: str, rings: int, stable: bool = False, nh: tuple = (), fusion: tuple = (),
          nh_named: bool = False) -> RingWord:
    return RingWord(pattern, rings, stable, frozenset(nh), frozenset(fusion), nh_named)


NOT_REDUCED = r"(?!idin|in|iz|on)"  # not pyrrolidine, pyrazoline, pyrrolizine, pyrazolone...
RING_WORDS: tuple[RingWord, ...] = (
    # benzenoid: one benzene ring each (benzoquinone is no benzene; bis-, di- multiply)
    _word(r"benz(?!oquinon)", 1, True),  # benzene, benzyl, benzoyl, benzoic, benzamide, benzo[...], benzimidazole
    _word(r"phen(?:yl|oxy|ol|ethyl|acyl)", 1, True),  # phenyl(ene), phenoxy, phenol, phenethyl, phenacyl
    _word(r"anili[nd]|anisol|anisidin|toluen|toluidin|tolyl|xylen|xylidin|xylyl|styr(?:en|yl)|mesityl|cumyl", 1, True),
    _word(r"(?<!hydr)indan|inden|indolin", 1, True),  # benzo ring of indane, indene, indoline, isoindoline
    _word(r"fluoren", 2, True),  # the two benzo rings of fluorene
    # heteroaromatic and fused parents (and their prefix forms: pyrido, thieno, imidazo...)
    _word(r"naphthalen|naphthyl", 2),
    _word(r"quinolin(?!on)|quinazolin(?!on)|quinoxalin(?!on)|cinnolin|phthalazin(?!on)|naphthyridin(?!on)"
          r"|pteridin(?!on)", 2),
    _word(r"purin(?!on)", 2, nh=(1, 3, 7, 9), fusion=(4, 5)),
    _word(r"carbazol" + NOT_REDUCED, 3, nh=(9,)),
    _word(r"isoindol" + NOT_REDUCED, 2, nh=(2,)),
    _word(r"indol" + NOT_REDUCED, 2, nh=(1,)),
    _word(r"indazol" + NOT_REDUCED, 2, nh=(1, 2)),
    _word(r"pyrid(?:in(?!on)|yl|o)|picolin|nicotin", 1),
    _word(r"pyrimidin(?!on)|pyrimido|pyrazin(?!on|an)|pyrazino|pyridazin(?!on)|pyridazino|triazin(?!an|on)"
          r"|tetrazin(?!an)", 1),
    _word(r"pyrrol" + NOT_REDUCED, 1, nh=(1,)),
    _word(r"pyrazol" + NOT_REDUCED, 1, nh=(1, 2)),
    _word(r"imidaz(?:ol" + NOT_REDUCED + r"|o(?!l))", 1, nh=(1, 3)),
    _word(r"tetrazol" + NOT_REDUCED, 1, nh=(1, 2, 3, 4)),
    _word(r"(?:oxa|thia)diazol" + NOT_REDUCED, 1),
    _word(r"triazol" + NOT_REDUCED + r"|diazol" + NOT_REDUCED, 1, nh_named=True),
    _word(r"oxazol" + NOT_REDUCED + r"|thiazol" + NOT_REDUCED, 1),  # and iso-, benzo-, -o fused forms
    _word(r"(?<!sul)fur(?:an(?!os|on)|yl|o)", 1),  # furan, furyl, furo[...]; not sulfuryl, furanose
    _word(r"thiophen(?!on)|thien(?:yl|o)", 1),
)
_RING_RE = re.compile("|".join(f"(?P<w{i}>{w.pattern})" for i, w in enumerate(RING_WORDS)))
HYDRO = re.compile(r"hydro(?!x|gen|peroxy|chlor|brom|iod|fluor)")  # dihydro, tetrahydro...; not hydroxy
LOST_RING = re.compile(r"one(?![a-z])|thione|imine(?![a-z])|oxo|imino|ylidene|quinon|spiro|oxide|lambda|λ")
WHOLE_NAME_LOST = re.compile(r"oxide|lambda|λ")  # thiophene 1,1-dioxide: cited apart from the ring it changes
DOUBLE_BOND_SUBSTITUENT = re.compile(r"yliden")  # (propan-2-ylidene), bis(oxidanylidene): a ring atom is sp2
LOCANT_SET = re.compile(r"(?<![\w'])(\d+[a-z]?'*(?:,\d+[a-z]?'*)+)-")  # "2,5-", "1,1'-", "3,3-"
ADDED_HYDROGEN = re.compile(r"\d+[a-z]?h(?:,\d+[a-z]?h)*")  # the inside of "(1H)", "(1H,3H)"
INDICATED = re.compile(r"(?<![a-z])(\d+)([a-z]?)h-(?:(\d+(?:,\d+)*)-)?$")  # "1H-", "4aH-", "1H-1,2,4-" before a word
MULTIPLIER = re.compile(r"(?:^|[^a-z])(di|bi|tri|ter|tetra|bis|tris|tetrakis)$")
FACTORS = {"di": 2, "bi": 2, "bis": 2, "tri": 3, "ter": 3, "tris": 3, "tetra": 4, "tetrakis": 4}
BRACKETS = {"(": ")", "[": "]", "{": "}"}
MAX_DEPTH = 64  # bracket levels read, at most (deeper names are not judged)

Tokens = list[Union[str, "Tokens"]]  # a bracket level: text and nested levels (their opening bracket first)


def named_aromatic_rings(name: str) -> tuple[int, list[str]]:
    """The aromatic rings a name promises, at least, and the words that promise them (see the module)."""
    tokens = _parse(name.lower())
    if tokens is None:  # unbalanced brackets: no reading to hold the structure to
        return 0, []
    words: list[str] = []
    lost = bool(WHOLE_NAME_LOST.search(name.lower()))
    total = sum(_count(part, lost, words) for part in _split_top(tokens))
    return total, words


def aromatic_rings(mol: Any) -> int:
    """Aromatic rings of a sanitised RDKit molecule."""
    return rdMolDescriptors.CalcNumAromaticRings(mol)


def aromatic_mismatch(name: str, mol: Any) -> str:
    """Why the structure does not hold the aromatic rings the name names, or "" when it does."""
    named, words = named_aromatic_rings(name)
    if not named:
        return ""
    found = aromatic_rings(mol)
    if found >= named:
        return ""
    listed = ", ".join(dict.fromkeys(words))
    return f"name promises {named} aromatic ring{'s' if named > 1 else ''} ({listed}), structure has {found}"


# ---------------------------------------------------------------- reading the name


def _parse(text: str) -> Union[Tokens, None]:
    """The name as nested bracket levels; None when its brackets do not balance or nest too deep."""
    stack: list[Tokens] = [[]]
    closing: list[str] = []
    piece = ""
    for char in text:
        if char in BRACKETS or (closing and char == closing[-1]):
            if piece:
                stack[-1].append(piece)
            piece = ""
            if char in BRACKETS:
                child: Tokens = [char]
                if len(stack) > MAX_DEPTH:
                    return None
                stack[-1].append(child)
                stack.append(child)
                closing.append(BRACKETS[char])
            else:
                stack.pop()
                closing.pop()
        elif char in ")]}":
            return None
        else:
            piece += char
    if closing:
        return None
    if piece:
        stack[-1].append(piece)
    return stack[0]


def _split_top(tokens: Tokens) -> list[Tokens]:
    """The top level split at spaces: the words of a functional-class name count apart (an ester's two)."""
    parts: list[Tokens] = [[]]
    for token in tokens:
        if isinstance(token, str):
            for k, word in enumerate(token.split(" ")):
                if k:
                    parts.append([])
                if word:
                    parts[-1].append(word)
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def _is_added_hydrogen(token: Tokens) -> bool:
    return token[0] == "(" and len(token) == 2 and isinstance(token[1], str) and bool(ADDED_HYDROGEN.fullmatch(token[1]))


def _count(tokens: Tokens, lost: bool, words: list[str]) -> int:
    """Rings promised by one bracket level (nested levels included); ``lost``: a ring may be lost here."""
    body = [t for t in tokens if not (isinstance(t, str) and t in BRACKETS)]
    own = "".join(t for t in body if isinstance(t, str))
    children = [t for t in body if not isinstance(t, str)]
    lost = (lost or bool(LOST_RING.search(own)) or _geminal(own)
            or any(_is_added_hydrogen(t) or DOUBLE_BOND_SUBSTITUENT.search(_own_text(t)) for t in children))
    total, off, before = 0, False, ""
    for index, token in enumerate(body):
        if isinstance(token, str):
            counted, off, lost = _count_text(token, body[index + 1:], lost, off, words)
            total += counted
            before = token
            continue
        if off or _is_added_hydrogen(token):
            continue
        inner_lost = re.search(r"spiro$", before) is not None or (lost and token[0] == "[")
        total += _factor(before) * _count(token, inner_lost, words)
        before = ""
    return total


def _own_text(tokens: Tokens) -> str:
    return "".join(t for t in tokens[1:] if isinstance(t, str))


def _geminal(text: str) -> bool:
    """Whether a locant set names one position twice (3,3-dimethyl): that atom is saturated."""
    return any(len(set(group.split(","))) < len(group.split(",")) for group in LOCANT_SET.findall(text))


def _count_text(text: str, after: Tokens, lost: bool, off: bool, words: list[str]) -> tuple[int, bool, bool]:
    """Rings promised by one piece of text of a level: (count, counting switched off, a ring may be lost)."""
    total, position = 0, 0
    events = sorted([(m.start(), "hydro", m) for m in HYDRO.finditer(text)]
                    + [(m.start(), "ring", m) for m in _RING_RE.finditer(text)], key=lambda e: e[0])
    for start, kind, match in events:
        if start < position:
            continue
        position = match.end()
        if kind == "hydro":
            off = True
            continue
        if off:
            continue
        word = RING_WORDS[int(match.lastgroup[1:])]
        indicated = INDICATED.search(text[:start])
        if indicated and (indicated.group(2) or int(indicated.group(1)) in word.fusion):
            off = True  # 4aH-, 8aH-, 5H-purine: a ring-fusion atom is saturated
            continue
        if indicated and not _nitrogen_hydrogen(word, indicated, _fused_prefix(text[match.end():], after)):
            lost = True  # from here on: "3H-indole", "4H-pyrazole", "2H-pyrrolo[...]"
        rings = word.rings if (word.stable or not lost) else 0
        if rings > 0:
            total += _factor(text[:start]) * rings
            words.append(match.group(0))
    return total, off, lost


def _nitrogen_hydrogen(word: RingWord, indicated: re.Match, fused: bool) -> bool:
    """Whether indicated hydrogen before word sits on a ring nitrogen of it (1H-pyrazole yes, 4H-pyrazole no)."""
    if fused:
        return False
    where = int(indicated.group(1))
    if word.nh_named:
        return indicated.group(3) is not None and str(where) in indicated.group(3).split(",")
    return where in word.nh


def _fused_prefix(rest: str, after: Tokens) -> bool:
    """Whether a ring word is the prefix of a fused name (pyrrolo[2,3-b]..., imidazo[1,2-a]...)."""
    rest = rest[1:] if rest.startswith("o") else rest
    if rest:
        return bool(_RING_RE.match(rest))
    return bool(after) and not isinstance(after[0], str) and after[0][0] == "["


def _factor(before: str) -> int:
    match = MULTIPLIER.search(before)
    return FACTORS[match.group(1)] if match else 1
