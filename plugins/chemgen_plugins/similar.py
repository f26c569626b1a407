"""The ``similar`` filter: Tanimoto similarity of the candidate's structure to reference molecules.

Needs a SMILES on the candidate (from ``opsin`` or ``pubchem`` earlier in the
chain). The score is the largest Tanimoto similarity to any reference
molecule, so as a scoring component of ``chemgen optimize`` it rewards
structures close to a lead.

Options::

    to=PATH|SMILES   reference molecules: a .smi / .txt file with one SMILES per line
                     (anything after the first space is a label; blank lines and # comments
                     are skipped), a .csv/.tsv with a smiles column, an .sdf, or one SMILES
                     given inline (required)
    min=0.4          pass only candidates at least this similar (default 0: all pass)
    fp=bits          Morgan bit vector (default, radius 2, 2048 bits: ECFP4-like);
    fp=counts        unhashed Morgan counts (GuacaMol's ECFP4)
    radius=2         Morgan radius;  bits=2048  bit-vector length

Annotations: ``similarity`` (the largest), ``similar_to`` (the label, or SMILES,
of the closest reference).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from rdkit import DataStructs

from chemgen.chem import molecules as chem
from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict, parse_choice, parse_number
from chemgen.io.names import quoted

NO_STRUCTURE = "no structure (run opsin or pubchem first)"
FINGERPRINTS = ("bits", "counts")
FILE_SUFFIXES = (".smi", ".smiles", ".txt", ".csv", ".tsv", ".sdf", ".sd")
TABLE_FORMATS = ("csv", "tsv", "sdf")  # read with chemgen's molecule readers (a smiles column, or SDF records)


def read_references(value: Any) -> list[tuple[str, Any]]:
    """(label, Mol) pairs from a SMILES file or one inline SMILES; ConfigError in one line otherwise."""
    if value is True or value is None or not str(value).strip():
        raise ConfigError("similar needs options: to=PATH (a SMILES file) or to=SMILES")
    text = str(value).strip()
    path = Path(text).expanduser()
    if _is(path.is_file):
        return _read_file(path)
    mol = chem.mol_from_smiles(text) if not text.lower().endswith(FILE_SUFFIXES) else None
    if mol is not None:
        return [(text, mol)]
    if _is(path.is_dir):
        raise ConfigError(f"similar: to={quoted(text)} is a directory, not a SMILES file")
    looks_like_path = "/" in text or text.lower().endswith(FILE_SUFFIXES)
    what = "does not exist" if looks_like_path else "is neither an existing file nor a valid SMILES"
    raise ConfigError(f"similar: to={quoted(text)} {what}")


def _is(test: Any) -> bool:
    """A path test that is False, not an OSError, for text too long to be a file name (a long SMILES)."""
    try:
        return test()
    except OSError:
        return False


def _read_file(path: Path) -> list[tuple[str, Any]]:
    from chemgen.chem.records import input_format, read_records

    if input_format(str(path)) in TABLE_FORMATS:
        return _read_records(path, read_records(str(path), input_format(str(path))))
    references = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"similar: cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        smiles, _, label = line.replace("\t", " ").partition(" ")
        if smiles.lower() == "smiles" and number == 1:  # a header line
            continue
        mol, error = chem.parse_smiles(smiles)
        if mol is None:
            raise ConfigError(f"similar: {path} line {number}: {error}")
        references.append((label.strip() or smiles, mol))
    if not references:
        raise ConfigError(f"similar: {path} holds no SMILES")
    return references


def _read_records(path: Path, records) -> list[tuple[str, Any]]:
    """(label, Mol) for the structures of a table or SDF; a record without one is a one-line error."""
    references = []
    for record in records:
        mol, error = chem.parse_smiles(record.smiles) if record.smiles else (None, record.problem or "no SMILES")
        if mol is None:
            raise ConfigError(f"similar: {path} record {record.number}: {error}")
        references.append((record.title or record.smiles, mol))
    if not references:
        raise ConfigError(f"similar: {path} holds no structures")
    return references


class SimilarityFilter:
    """Largest Tanimoto similarity to reference molecules; passes at ``min`` or above."""

    name = "similar"
    annotations = ("similarity", "similar_to")  # what its verdicts may carry
    graded = True  # the score is a value to optimise, not a pass/fail gate

    def __init__(self, to: Any = None, min: Any = 0.0, fp: Any = "bits", radius: Any = 2, bits: Any = 2048) -> None:
        self.min = parse_number("similar", "min", min, minimum=0.0, maximum=1.0)
        self.fp = parse_choice("similar", "fp", fp, FINGERPRINTS)
        self.radius = parse_number("similar", "radius", radius, minimum=0, maximum=6, integer=True)
        self.bits = parse_number("similar", "bits", bits, minimum=64, maximum=65536, integer=True)
        references = read_references(to)
        self.labels = [label for label, _ in references]
        self.reference_fps = [self.fingerprint(mol) for _, mol in references]

    def available(self) -> tuple[bool, str]:
        return True, ""

    def fingerprint(self, mol: Any) -> Any:
        if self.fp == "counts":
            return chem.count_fingerprint(mol, self.radius)
        return chem.morgan_fingerprint(mol, self.radius, self.bits)

    def similarity(self, smiles: Optional[str]) -> tuple[Optional[float], str]:
        """The largest similarity and the closest reference's label; (None, why) without a structure."""
        mol, error = chem.parse_smiles(smiles) if smiles else (None, NO_STRUCTURE)
        fp = self.fingerprint(mol) if mol is not None else None
        if fp is None:
            return None, error or "no fingerprint"
        values = DataStructs.BulkTanimotoSimilarity(fp, self.reference_fps)
        best = max(range(len(values)), key=values.__getitem__)
        return float(values[best]), self.labels[best]

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        return [self.judge(candidate) for candidate in candidates]

    def judge(self, candidate: Candidate) -> Verdict:
        value, closest = self.similarity(candidate.smiles)
        if value is None:
            return Verdict(False, 0.0, closest)
        annotations = {"similarity": value, "similar_to": closest}
        if value < self.min:
            return Verdict(False, value, f"similarity {value:.3f} < {self.min:g}", annotations)
        return Verdict(True, value, "", annotations)
