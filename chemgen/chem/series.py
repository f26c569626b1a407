"""A chemist's series as names: molecules from any input file, named and verified, with per-record reasons.

``load_series("actives.sdf")`` reads the records, strips a salt or solvate
to its parent (largest fragment, uncharged), names every structure with
openclatura and keeps a name only when OPSIN reads it back to the same
structure. Records that cannot be used are reported (record number, SMILES,
reason) and left out; the rest go on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from chemgen.chem.molecules import PARENT_RULE, parent_smiles
from chemgen.chem.namer import name_molecules
from chemgen.chem.opsin import OpsinProcess
from chemgen.chem.records import Record, input_format, read_records
from chemgen.errors import ConfigError
from chemgen.io.names import printable

CHUNK = 500


@dataclass
class Series:
    """The usable names of an input file, with what was left out and why."""

    names: list[str] = field(default_factory=list)
    smiles: list[Optional[str]] = field(default_factory=list)  # the structure each name is of (None for names)
    titles: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "record N (SMILES): reason"
    total: int = 0  # records read
    stripped: int = 0  # records named as their parent (a salt's counter-ions or a solvate's solvent removed)

    def summary(self) -> str:
        stripped = f"; {self.stripped} salts or charged forms named as their parent ({PARENT_RULE})" \
            if self.stripped else ""
        return f"used {len(self.names)} of {self.total} records ({len(self.problems)} left out){stripped}"


def load_series(path: str, fmt: Optional[str] = None) -> Series:
    """Names for every usable record of ``path`` (format from the extension unless given)."""
    fmt = input_format(path, fmt)
    series, pending = Series(), []
    with OpsinProcess() as opsin:
        for record in read_records(path, fmt):
            series.total += 1
            if record.problem:
                series.problems.append(_problem(record, record.problem))
            elif record.smiles is None:
                _keep(series, record.name, None, record.title)
            else:
                pending.append(record)
                if len(pending) >= CHUNK:
                    _name_all(series, pending, opsin)
        _name_all(series, pending, opsin)
    if not series.names:
        raise ConfigError(f"{path}: no usable molecules or names ({series.total} records read"
                          + (f"; first problem: {series.problems[0]}" if series.problems else "") + ")")
    return series


def _name_all(series: Series, records: list[Record], opsin: OpsinProcess) -> None:
    parents = [parent_smiles(r.smiles) for r in records]
    for record, parent, named in zip(records, parents, name_molecules(parents, opsin)):
        if named.name is None:
            series.problems.append(_problem(record, named.reason))
        else:
            series.stripped += parent != record.smiles
            _keep(series, named.name, parent, record.title)
    records.clear()


def _keep(series: Series, name: str, smiles: Optional[str], title: str) -> None:
    series.names.append(name)
    series.smiles.append(smiles)
    series.titles.append(title)


def _problem(record: Record, reason: str) -> str:
    what = f" ({printable(record.smiles)})" if record.smiles else ""
    return f"record {record.number}{what}: {reason}"
