"""The ``suffix`` filter: rule-based plausibility of systematic and common names.

Works offline with no Java: four checks on the lower-cased name, driven by the
rules in ``data/suffix_rules.json`` (endings, multipliers, locants, forbidden
runs), not by code:

- ``characters``: no impossible runs ("--", ",,", a letter 4+ times, a trailing "-")
- ``brackets``: (), [] and {} balanced and properly nested
- ``locants``: a locant list before a multiplier has as many locants as it counts
  ("2,3-dimethyl" ok, "2-dimethyl" not)
- ``ending``: every component ends in a recognised ending (-ane, -ol, -oic acid,
  -ate, ...), a bare element or substance, and a salt ("sodium ...") in an anion

Score = fraction of checks passed; passed iff all pass.

Options: ``rules=PATH`` to use another rules file of the same shape.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict, parse_path

RULES_PATH = Path(__file__).resolve().parent / "data" / "suffix_rules.json"
CHECKS = ("characters", "brackets", "locants", "ending")


@dataclass(frozen=True)
class SuffixRules:
    """The rules file, compiled."""

    separators: tuple[str, ...]
    strip_trailing: tuple[re.Pattern, ...]
    endings: tuple[str, ...]
    not_endings: tuple[str, ...]
    whole_words: tuple[str, ...]
    last_words: tuple[re.Pattern, ...]
    cation_words: frozenset[str]
    anion_endings: tuple[str, ...]
    multipliers: dict[str, int]  # longest first
    bracket_multipliers: dict[str, int]
    relational_locants: dict[str, int]
    roots: tuple[str, ...]
    replacement_prefixes: tuple[str, ...]
    heads: tuple[str, ...]
    composite: re.Pattern  # multiplier tail that forms one composite substituent
    locant_list: re.Pattern  # a locant list followed by "-" and a letter
    forbidden: tuple[tuple[re.Pattern, str], ...]
    brackets: dict[str, str]

    @classmethod
    def load(cls, path: Path | str = RULES_PATH) -> "SuffixRules":
        """Read and compile a rules file; a missing or malformed one is a ConfigError."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls._compile(data)
        except OSError as exc:
            raise ConfigError(f"cannot read suffix rules {path}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError, re.error) as exc:
            raise ConfigError(f"malformed suffix rules {path}: {type(exc).__name__}: {exc}") from None

    @classmethod
    def _compile(cls, data: dict[str, Any]) -> "SuffixRules":
        salts = data["salts"]
        cations = {p + w for w in salts["cation_words"] for p in salts["cation_prefixes"]}
        heads = "|".join(map(re.escape, data["composite_heads"]))
        return cls(
            separators=tuple(data["component_separators"]),
            strip_trailing=tuple(re.compile(p) for p in data["strip_trailing"]),
            endings=tuple(e.lower() for e in data["endings"]),
            not_endings=tuple(e.lower() for e in data["not_endings"]),
            whole_words=tuple(w.lower() for w in data["whole_words"]),
            last_words=tuple(re.compile(p) for p in data["last_word_patterns"]),
            cation_words=frozenset(cations),
            anion_endings=tuple(salts["anion_endings"]),
            multipliers=_longest_first(data["multipliers"]),
            bracket_multipliers=_longest_first(data["bracket_multipliers"]),
            relational_locants=dict(data["relational_locants"]),
            roots=tuple(data["multiplier_roots"]),
            replacement_prefixes=tuple(data["replacement_prefixes"]),
            heads=tuple(data["composite_heads"]),
            composite=re.compile(rf"[a-z]+?(?:yl|o|y)(?:{heads})"),
            locant_list=_locant_pattern(data["letter_locants"]),
            forbidden=tuple((re.compile(r["pattern"]), r["reason"]) for r in data["forbidden_runs"]),
            brackets=dict(data["brackets"]),
        )


def _longest_first(mapping: dict[str, int]) -> dict[str, int]:
    return {k: int(mapping[k]) for k in sorted(mapping, key=len, reverse=True)}


def _locant_pattern(letter_locants: list[str]) -> re.Pattern:
    letters = "|".join(sorted(map(re.escape, letter_locants), key=len, reverse=True))
    item = rf"(?:\d+[a-z]?|(?:{letters})\d*)['\"]*"
    return re.compile(rf"(?<![\w'\",)])({item}(?:,{item})*)-(?=[a-z])")


# ---------------------------------------------------------------- the checks


def check_characters(name: str, rules: SuffixRules) -> list[str]:
    """Impossible runs of characters."""
    return [reason for pattern, reason in rules.forbidden if pattern.search(name)]


def check_brackets(name: str, rules: SuffixRules) -> list[str]:
    """Unbalanced or crossed brackets."""
    closers = {close: open_ for open_, close in rules.brackets.items()}
    stack: list[str] = []
    for char in name:
        if char in rules.brackets:
            stack.append(char)
        elif char in closers:
            if not stack or stack[-1] != closers[char]:
                return [f"unmatched {char!r}"]
            stack.pop()
    return [f"unclosed {stack[-1]!r}"] if stack else []


def check_locants(name: str, rules: SuffixRules) -> list[str]:
    """Locant lists whose count differs from the multiplier after them."""
    problems = []
    for match in rules.locant_list.finditer(name):
        locants = match.group(1).split(",")
        if any(re.fullmatch(r"\d+h", loc) for loc in locants):
            continue  # indicated hydrogen ("2h-pyran"), not a substitution locant
        found = multiplier_after(name[match.end():], rules)
        if found is None:
            continue
        word, count, shared = found
        if shared and len(locants) >= count:
            continue  # other hetero atoms share the list ("1,2,4,3,5-trithiadiborolane")
        allowed = {len(locants)}
        if len(locants) == 1 and locants[0] in rules.relational_locants:
            allowed.add(rules.relational_locants[locants[0]])
        if count not in allowed:
            problems.append(f"'{match.group(1)}-{word}' has {len(locants)} locant(s) for {word} ({count})")
    return problems


def multiplier_after(rest: str, rules: SuffixRules) -> Optional[tuple[str, int, bool]]:
    """``(multiplier, count, shared)`` for the multiplier just after a locant list, or None.

    A multiplier followed by another is a chain stem ("hexa" in "2,4-hexadienal"),
    so the last one counts; roots ("pentan", "tetrazol") and composite
    substituents ("dimethylamino", "bis(chloranyl)phosphoryl") are not counts.
    ``shared`` is true before a replacement prefix ("trithia"), whose locant list
    other hetero atoms share.
    """
    current = _multiplier_at(rest, 0, rules)
    if current is None:
        return None
    pos = 0
    while (following := _multiplier_at(rest, pos + len(current[0]), rules)) is not None:
        pos, current = pos + len(current[0]), following
    end = pos + len(current[0])
    if rest.startswith(rules.roots, pos) or _is_composite(rest, end, rules):
        return None
    return current[0], current[1], rest.startswith(rules.replacement_prefixes, end)


def _is_composite(text: str, pos: int, rules: SuffixRules) -> bool:
    """Does the multiplier ending at ``pos`` belong inside one composite substituent?"""
    if text[pos: pos + 1] in rules.brackets:
        close = _matching_bracket(text, pos, rules)
        return close is not None and text.startswith(rules.heads, close + 1)
    return rules.composite.match(text, pos) is not None


def _matching_bracket(text: str, pos: int, rules: SuffixRules) -> Optional[int]:
    depth = 0
    closers = set(rules.brackets.values())
    for index in range(pos, len(text)):
        if text[index] in rules.brackets:
            depth += 1
        elif text[index] in closers:
            depth -= 1
            if depth == 0:
                return index
    return None


def _multiplier_at(text: str, pos: int, rules: SuffixRules) -> Optional[tuple[str, int]]:
    for word, count in rules.bracket_multipliers.items():
        if text.startswith(word, pos) and text[pos + len(word): pos + len(word) + 1] in ("(", "[", "{"):
            return word, count
    for word, count in rules.multipliers.items():
        if text.startswith(word, pos):
            return word, count
    return None


def check_ending(name: str, rules: SuffixRules) -> list[str]:
    """Components that do not end like a compound (or a salt that does not end in an anion)."""
    problems = []
    for component in _components(name, rules):
        text = _strip_trailing(component, rules)
        words = text.split()
        if not words:
            problems.append("empty component")
            continue
        last = words[-1]
        if not _ends_well(last, rules):
            problems.append(f"unrecognised ending {_tail(last)!r}")
        elif len(words) > 1 and _strip_trailing(words[0], rules) in rules.cation_words:
            if not last.endswith(rules.anion_endings):
                problems.append(f"salt of {words[0]!r} ends in {_tail(last)!r}, not an anion")
    return problems


def _ends_well(word: str, rules: SuffixRules) -> bool:
    if any(pattern.match(word) for pattern in rules.last_words):
        return True
    return not word.endswith(rules.not_endings) and word.endswith(rules.endings + rules.whole_words)


def _components(name: str, rules: SuffixRules) -> list[str]:
    parts = [name]
    for separator in rules.separators:
        parts = [piece for part in parts for piece in part.split(separator)]
    return parts


def _strip_trailing(text: str, rules: SuffixRules) -> str:
    """Remove trailing decorations until none is left."""
    previous, text = None, text.strip()
    while text != previous:
        previous = text
        for pattern in rules.strip_trailing:
            text = pattern.sub("", text).strip()
    return text


def _tail(word: str, width: int = 12) -> str:
    return word if len(word) <= width else "…" + word[-width:]


_CHECK_FUNCTIONS = {
    "characters": check_characters,
    "brackets": check_brackets,
    "locants": check_locants,
    "ending": check_ending,
}


# ---------------------------------------------------------------- the filter


class SuffixFilter:
    """Rule-based name plausibility (no Java, no network)."""

    name = "suffix"

    def __init__(self, rules: Optional[str] = None) -> None:
        self.rules_path = RULES_PATH if rules is None else parse_path("suffix", "rules", rules)
        self.rules = SuffixRules.load(self.rules_path)

    def available(self) -> tuple[bool, str]:
        return True, ""

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        return [self.judge(candidate.name) for candidate in candidates]

    def judge(self, name: str) -> Verdict:
        """One name's verdict: score = fraction of checks passed, reason = failed checks."""
        text = (name or "").strip().lower()
        failures = {}
        for check, function in _CHECK_FUNCTIONS.items():
            problems = function(text, self.rules) if text else ["empty name"]
            if problems:
                failures[check] = problems
        score = 1.0 - len(failures) / len(CHECKS)
        reason = "; ".join(f"{check}: {', '.join(problems)}" for check, problems in failures.items())
        return Verdict(passed=not failures, score=score, reason=reason)
