"""Restoring the standard case of lower-cased systematic names.

Corpora come lower case; OPSIN needs heteroatom locants upper case
(``n,n-dimethylformamide`` fails, ``N,N-dimethylformamide`` parses;
``o-acetyl`` reads as *ortho*, ``O-acetyl`` as the oxygen locant). Stereo
descriptors, indicated hydrogen and D/L are restored too, for names as a
chemist writes them. The rules are data (pattern, what to upper-case), applied
in order.
"""
from __future__ import annotations

import re

_HETERO = r"(?:n|o|s|se|te|as|si)"  # element symbols used as locants (not p: p-xylene is para)
_LOCANT = _HETERO + r"\d*'*"  # n, n1, n', n''
_BEFORE = r"(?<![a-z0-9'])"  # not inside a word or a longer locant

RULES: list[tuple[re.Pattern, str]] = [
    # heteroatom locant lists before a hyphen: n,n-  n1,n1-  n'-  o-  s-  n,o-
    (re.compile(_BEFORE + r"(" + _LOCANT + r"(?:," + _LOCANT + r")*)(?=-)"), "letters"),
    # stereo descriptors: (e) (z) (2r) (2s,3r) (rs) (1r,2s,5r) (2e,4z)
    (re.compile(r"(?<=[(,])(\d*[a-z]?)(r|s|e|z|rs|sr)(?=[,)])"), "descriptor"),
    # indicated hydrogen: 1h-indole  4ah-carbazole  2h,6h-
    (re.compile(r"(?<![a-z])(\d+[a-z]?)h(?=[-,)\]])"), "hydrogen"),
    # d-/l-/dl- configuration prefixes at the start of a word
    (re.compile(r"(?:(?<=^)|(?<=[\s(\[]))(dl|d|l)(?=-[a-z])"), "letters"),
]


def _upper(kind: str, match: re.Match) -> str:
    if kind == "letters":
        return match.group(0).upper()
    if kind == "descriptor":
        return match.group(1) + match.group(2).upper()
    return match.group(1) + "H"  # hydrogen


def restore_case(name: str) -> str:
    """The name with standard case for locants, descriptors, indicated hydrogen and D/L."""
    for pattern, kind in RULES:
        name = pattern.sub(lambda m, k=kind: _upper(k, m), name)
    return name
