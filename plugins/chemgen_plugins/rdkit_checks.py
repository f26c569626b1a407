"""The ``rdkit`` filter: sanitise the candidate's structure, compute properties, apply ranges.

Needs a SMILES on the candidate (put there by the ``opsin`` or ``pubchem``
filter earlier in the chain). Annotates the properties chosen with
``properties`` (by default every one of :data:`chemgen.chem.molecules.PROPERTY_NAMES`
and the Murcko ``scaffold``), those its ranges and ``lipinski`` need, and,
when the candidate has none, its InChIKey.

Options (all optional)::

    properties=all   the annotations to compute: all, none, or names joined by +
                     (mw+qed+scaffold); ``chemgen generate --properties`` sets it from
                     what the output shows

    mw=150:500  clogp=:5  tpsa=:140  hbd=:5  hba=:10  rotatable_bonds=:10  qed=0.5:  heavy_atoms=10:
        a range LO:HI on that property; either end may be left open
    lipinski     rule of five: mw <= 500, clogp <= 5, hbd <= 5, hba <= 10, no violation allowed
    lipinski=1   the same, allowing up to 1 violation (Lipinski's own formulation)

Chemistry checks, on by default (each bare flag switches one off)::

    allow_radicals   pass structures with unpaired electrons ([CH2]O, [C]=O)
    allow_metals     pass uncharged metal atoms bonded to nothing ([Ca].[Mg])
    allow_mixtures   pass salts and mixtures (more than one component)
    allow_missing_aromatics
                     pass structures with fewer aromatic rings than the name's aromatic
                     parents and prefixes promise (a "phenyl" OPSIN read as a cyclohexadiene;
                     the rule: :mod:`chemgen.chem.aromatic`)
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Optional

from chemgen.chem import molecules as chem
from chemgen.chem.aromatic import aromatic_mismatch
from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict, options
from chemgen.filters.options import parse_flag
from chemgen.io.names import quoted

NO_STRUCTURE = "no structure (run opsin or pubchem first)"
CHEMISTRY_CHECKS = ("allow_radicals", "allow_metals", "allow_mixtures", "allow_missing_aromatics")  # each switches a check off
LIPINSKI_LIMITS = {"mw": 500.0, "clogp": 5.0, "hbd": 5.0, "hba": 10.0}
OPTION_NAMES = ("properties",) + chem.PROPERTY_NAMES + ("lipinski",) + CHEMISTRY_CHECKS  # every option it takes


@dataclass(frozen=True)
class Range:
    """A closed interval on one property; ``None`` leaves an end open."""

    prop: str
    low: Optional[float] = None
    high: Optional[float] = None

    def violation(self, value: Any) -> str:
        """Why ``value`` is outside the range, or ``""`` when inside."""
        if chem.is_missing(value):
            return f"{self.prop} unavailable"
        if self.low is not None and value < self.low:
            return f"{self.prop} {_fmt(value)} < {_fmt(self.low)}"
        if self.high is not None and value > self.high:
            return f"{self.prop} {_fmt(value)} > {_fmt(self.high)}"
        return ""


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def parse_range(prop: str, value: Any) -> Range:
    """``"150:500"``, ``":5"``, ``"0.5:"`` (or a ``(low, high)`` pair) -> :class:`Range`."""
    return Range(prop, *options.parse_range("rdkit", prop, value))


def parse_lipinski(value: Any) -> Optional[int]:
    """Allowed rule-of-five violations: bare flag -> 0, ``"1"`` -> 1, ``"false"`` -> off (None)."""
    if value is True:
        return 0
    if value is False or (isinstance(value, str) and value.strip().lower() in ("false", "no", "off")):
        return None
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on"):
        return 0
    try:
        allowed = int(value)
    except (TypeError, ValueError):
        allowed = -1
    if not 0 <= allowed <= 3:
        raise ConfigError(f"malformed option lipinski={quoted(value)} for rdkit (bare flag, or 0-3 violations allowed)")
    return allowed


class RDKitFilter:
    """Sanitisation, properties and property ranges for candidates that have a structure."""

    name = "rdkit"
    needs_structure = True  # needs a SMILES from an earlier filter

    def __init__(self, **options: Any) -> None:
        self.ranges: list[Range] = []
        self.lipinski: Optional[int] = None  # rule-of-five violations allowed; None = not applied
        self.allowed = {flag: False for flag in CHEMISTRY_CHECKS}  # chemistry checks switched off
        self.properties = chem.PROPERTY_CHOICES  # annotations asked for
        for key, value in options.items():
            if key in CHEMISTRY_CHECKS:
                self.allowed[key] = parse_flag("rdkit", key, value)
            elif key == "lipinski":
                self.lipinski = parse_lipinski(value)
            elif key == "properties":
                self.properties = chem.property_selection(value, "rdkit: option properties")
            elif key in chem.PROPERTY_NAMES:
                self.ranges.append(parse_range(key, value))
            else:
                raise ConfigError(f"unknown rdkit option {quoted(key)} (known: {', '.join(OPTION_NAMES)})")
        self.computed = self.needed_properties()
        self.annotations = (*self.computed, *([chem.SCAFFOLD] if chem.SCAFFOLD in self.properties else []), "inchikey",
                            *(["lipinski_violations"] if self.lipinski is not None else []))  # what verdicts carry

    def needed_properties(self) -> tuple[str, ...]:
        """The properties to compute: those asked for, plus those the ranges and Lipinski's rule read."""
        needed = set(self.properties) | {r.prop for r in self.ranges}
        if self.lipinski is not None:
            needed |= set(LIPINSKI_LIMITS)
        return tuple(name for name in chem.PROPERTY_NAMES if name in needed)

    def available(self) -> tuple[bool, str]:
        return True, ""

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        with chem.quiet_rdkit():
            return [self.judge(candidate) for candidate in candidates]

    def judge(self, candidate: Candidate) -> Verdict:
        """One candidate's verdict, with the chosen properties as annotations."""
        if not candidate.smiles:
            return Verdict(False, 0.0, NO_STRUCTURE)
        mol, error = chem.parse_smiles(candidate.smiles)
        if mol is None:
            return Verdict(False, 0.0, f"sanitisation failed: {error}")
        annotations: dict[str, Any] = chem.compute_properties(mol, self.computed)
        if chem.SCAFFOLD in self.properties:
            annotations[chem.SCAFFOLD] = chem.murcko_scaffold(mol) or None
        if not candidate.inchikey:
            annotations["inchikey"] = chem.inchikey_of(mol)
        wrong = self.chemistry_problems(mol, candidate.name)
        if wrong:
            return Verdict(False, 0.0, "; ".join(wrong), annotations)
        problems = [p for p in (r.violation(annotations[r.prop]) for r in self.ranges) if p]
        n_checks = len(self.ranges)
        if self.lipinski is not None:
            broken = self._lipinski_violations(annotations)
            annotations["lipinski_violations"] = len(broken)
            n_checks += 1
            if len(broken) > self.lipinski:
                problems.append(f"Lipinski: {', '.join(broken)}")
        score = 1.0 - len(problems) / n_checks if n_checks else 1.0
        return Verdict(not problems, score, "; ".join(problems), annotations)

    def chemistry_problems(self, mol: Any, name: str = "") -> list[str]:
        """Radicals, bare metals, several components, aromatic rings the name promises and the structure
        lacks: what a chemist would not accept as the one compound the name says."""
        problems = []
        radicals = chem.radical_electrons(mol)
        if radicals and not self.allowed["allow_radicals"]:
            problems.append(f"radical ({radicals} unpaired electron{'s' if radicals > 1 else ''})")
        metals = chem.bare_metals(mol)
        if metals and not self.allowed["allow_metals"]:
            problems.append(f"bare metal atom ({', '.join(sorted(set(metals)))})")
        parts = chem.component_count(mol)
        if parts > 1 and not self.allowed["allow_mixtures"]:
            problems.append(f"salt or mixture ({parts} components)")
        missing = "" if self.allowed["allow_missing_aromatics"] else aromatic_mismatch(name or "", mol)
        if missing:
            problems.append(missing)
        return problems

    @staticmethod
    def _lipinski_violations(props: dict[str, Any]) -> list[str]:
        ranges = (Range(prop, None, limit) for prop, limit in LIPINSKI_LIMITS.items())
        return [p for p in (r.violation(props[r.prop]) for r in ranges) if p]


# The options by name, so that run-wide options (``offline``) reach only the filters that take them.
RDKitFilter.__signature__ = inspect.Signature(
    [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in OPTION_NAMES])
