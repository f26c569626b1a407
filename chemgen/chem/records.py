"""Reading a chemist's molecules: SMILES (.smi), tables (.csv/.tsv), SDF and plain name lists (.txt).

Each file gives :class:`Record` objects, one per line or SDF record, carrying
a structure (SMILES) or a name, and a problem when the record is unreadable,
so a bad record is reported by number and the rest go on. The format comes
from the extension unless given (``--input-format``).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from chemgen.errors import ConfigError
from chemgen.io.names import iter_names, not_a_file, quoted

INPUT_FORMATS = ("txt", "smi", "csv", "tsv", "sdf")
EXTENSIONS = {".txt": "txt", ".smi": "smi", ".smiles": "smi", ".csv": "csv", ".tsv": "tsv", ".sdf": "sdf",
              ".sd": "sdf"}
SMILES_COLUMNS, NAME_COLUMNS, TITLE_COLUMNS = ("smiles",), ("name", "iupac_name", "iupac"), ("title", "id", "name")


@dataclass(frozen=True)
class Record:
    """One input record: a structure or a name, or the problem that stopped it being read."""

    number: int  # line number, or SDF record number (from 1)
    smiles: Optional[str] = None
    name: Optional[str] = None
    title: str = ""
    problem: str = ""


def input_format(path: str, given: Optional[str] = None) -> str:
    """The format named (``--input-format``) or the one the extension implies; anything else reads names."""
    if given is not None:
        if given not in INPUT_FORMATS:
            raise ConfigError(f"input format must be one of {', '.join(INPUT_FORMATS)}, not {quoted(given)}")
        return given
    if path == "-":
        return "txt"
    name = Path(path).name.lower()
    return EXTENSIONS.get(Path(name[:-3] if name.endswith(".gz") else name).suffix, "txt")


def read_records(path: str, fmt: str) -> Iterator[Record]:
    """Every record of the file in the given format."""
    if fmt != "txt" and path != "-" and not_a_file(path):
        raise ConfigError(f"input file {path!r} {not_a_file(path)}")
    readers = {"txt": _names, "smi": _smiles_lines, "csv": _table, "tsv": _table, "sdf": _sdf}
    return readers[fmt](path, fmt)


def _names(path: str, fmt: str) -> Iterator[Record]:
    for number, name in iter_names(path):
        yield Record(number, name=name)


def _smiles_lines(path: str, fmt: str) -> Iterator[Record]:
    """SMILES, then an optional title after white space; '#' lines and a 'smiles' header are skipped."""
    for number, line in iter_names(path, errors="replace"):  # an undecodable line is one unreadable record
        smiles, title = (line.split(None, 1) + [""])[:2]
        if line.startswith("#") or (number == 1 and smiles.lower() == "smiles"):
            continue
        yield Record(number, smiles=smiles, title=title.strip())


def _column(header: list[str], wanted: tuple[str, ...]) -> Optional[str]:
    lowered = {column.strip().lower(): column for column in header}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _table(path: str, fmt: str) -> Iterator[Record]:
    """A table with a ``smiles`` or ``name`` column (and an optional title/id column)."""
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:  # -sig: a BOM dropped
        reader = csv.DictReader(handle, delimiter="\t" if fmt == "tsv" else ",")
        header = reader.fieldnames or []
        smiles_col, name_col = _column(header, SMILES_COLUMNS), _column(header, NAME_COLUMNS)
        if smiles_col is None and name_col is None:
            raise ConfigError(f"{path}: no 'smiles' or 'name' column (columns: {', '.join(header) or 'none'})")
        title_col = _column([c for c in header if c not in (smiles_col,)], TITLE_COLUMNS) if smiles_col else None
        for row in reader:
            number = reader.line_num
            title = (row.get(title_col) or "").strip() if title_col else ""
            if smiles_col:
                smiles = (row.get(smiles_col) or "").strip()
                yield Record(number, smiles=smiles, title=title, problem="" if smiles else "empty SMILES")
            else:
                name = (row.get(name_col) or "").strip()
                yield Record(number, name=name, problem="" if name else "empty name")


def _sdf(path: str, fmt: str) -> Iterator[Record]:
    """SDF records read by RDKit; an unreadable record is reported by its number."""
    from rdkit import Chem

    from chemgen.chem.molecules import quiet_rdkit, smiles_of

    if path == "-":
        raise ConfigError("SDF is read from a file, not from standard input: give the file's path")
    if os.path.getsize(path) == 0:
        raise ConfigError(f"{path}: the SDF file is empty (no records)")
    with quiet_rdkit():
        try:
            supplier = Chem.SDMolSupplier(str(path))
        except (OSError, RuntimeError) as exc:  # RDKit's "File error: Invalid input file"
            raise ConfigError(f"{path}: RDKit cannot open it as an SDF file ({str(exc).strip() or 'no reason'})")
        for number, mol in enumerate(supplier, start=1):
            if mol is None:
                yield Record(number, problem="RDKit cannot read this SDF record")
                continue
            title = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
            yield Record(number, smiles=smiles_of(mol), title=title)
