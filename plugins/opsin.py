"""The ``opsin`` filter: name -> structure with OPSIN, offline.

Each batch goes through one long-lived OPSIN process (chemgen.opsin). Names
are tried with standard case restored first (``n,n-dimethyl`` ->
``N,N-dimethyl``) and, if that fails, as written (``o-xylene`` is *ortho*).
A parsed name passes with its SMILES and InChIKey (RDKit) as annotations.
Option: ``restore_case`` (default on; ``restore_case=no`` sends names as written).
"""
from __future__ import annotations

from typing import Any

from chemgen.casing import restore_case
from chemgen.chem import inchikey_of, mol_from_smiles
from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict
from chemgen.opsin import OpsinProcess, OpsinResult


def _flag(value: Any) -> bool:
    text = str(value).strip().lower()
    if value is True or text in ("1", "yes", "true", "on"):
        return True
    if text in ("0", "no", "false", "off"):
        return False
    raise ConfigError(f"opsin filter: restore_case must be yes or no, not {value!r}")


class OpsinFilter:
    """Pass names OPSIN turns into a structure."""

    name = "opsin"

    def __init__(self, restore_case: Any = True) -> None:
        self.restore_case = _flag(restore_case)
        self.process = OpsinProcess()

    def available(self) -> tuple[bool, str]:
        return self.process.available()

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        names = [c.name for c in candidates]
        results = self._parse_with_fallback(names)
        return [self._verdict(result) for result in results]

    def _parse_with_fallback(self, names: list[str]) -> list[OpsinResult]:
        if not self.restore_case:
            return self.process.parse(names)
        restored = [restore_case(n) for n in names]
        results = self.process.parse(restored)
        retry = [i for i, (r, a, b) in enumerate(zip(results, restored, names)) if r.smiles is None and a != b]
        for i, result in zip(retry, self.process.parse([names[i] for i in retry])):
            if result.smiles is not None:
                results[i] = result
        return results

    @staticmethod
    def _verdict(result: OpsinResult) -> Verdict:
        if result.smiles is None:
            return Verdict(False, 0.0, result.error or "OPSIN could not parse the name")
        inchikey = inchikey_of(mol_from_smiles(result.smiles))
        return Verdict(True, 1.0, "", {"smiles": result.smiles, "inchikey": inchikey})

    def close(self) -> None:
        self.process.close()
