"""The ``opsin`` filter: does OPSIN find a structure for the candidate's name?

Names are case-restored (:func:`chemgen.chem.casing.restore_case`, so ``n,n-dimethyl``
reaches OPSIN as ``N,N-dimethyl``) and streamed through one long-lived OPSIN
process (:class:`chemgen.chem.opsin.OpsinProcess`), a batch at a time; a name whose
restored form fails is tried once more as written. A candidate passes when
OPSIN returns a structure; the verdict carries the structure as canonical
SMILES and its InChIKey (computed with RDKit, not in Java).

Options::

    restore_case=false   send names exactly as given (default: restore case)
    timeout=SECONDS      how long OPSIN may spend on one name (default 60)
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Optional

from chemgen.chem import molecules as chem
from chemgen.chem.casing import restore_case as restore
from chemgen.chem.opsin import DEFAULT_TIMEOUT, OpsinProcess, OpsinResult, opsin_available
from chemgen.filters import Candidate, Verdict, parse_flag, parse_seconds

PARSE_SLICE = 32  # names per OPSIN call inside a check: the next slice parses while this one becomes verdicts


class OpsinFilter:
    """Name-to-structure with OPSIN, offline."""

    name = "opsin"
    annotations = ("smiles", "inchikey")  # what its verdicts may carry
    makes_structure = True  # puts a SMILES on each candidate it passes
    background = True  # mostly waits on the JVM: the stage overlaps that wait with the other filters' work

    def __init__(self, restore_case: Any = True, timeout: Any = DEFAULT_TIMEOUT) -> None:
        self.restore_case = parse_flag("opsin", "restore_case", restore_case)
        self.timeout = parse_seconds("opsin", "timeout", timeout)
        self._process: Optional[OpsinProcess] = None
        self._warming = threading.Event()  # set: warm-up must stop (a real batch came, or closing)

    def available(self) -> tuple[bool, str]:
        """Whether Java and the OPSIN jar were found."""
        return opsin_available()

    def prepare(self) -> None:
        """Start the JVM now and warm it on shipped names until the first batch comes (while the model samples)."""
        if self.available()[0]:
            self.process.start()
            self._warming.clear()
            threading.Thread(target=self.process.warm_up, args=(self._warming,), daemon=True,
                             name="opsin warm-up").start()

    @property
    def process(self) -> OpsinProcess:
        """The OPSIN process, started on first use."""
        if self._process is None:
            self._process = OpsinProcess(timeout=self.timeout)
        return self._process

    def close(self) -> None:
        self._warming.set()
        if self._process is not None:
            self._process.close()
            self._process = None

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        """One verdict per candidate; all fail with the reason when OPSIN cannot run here (no Java)."""
        self._warming.set()
        ok, why = self.available()
        if not ok:
            return [Verdict(False, 0.0, f"OPSIN cannot run here: {why}") for _ in candidates]
        return [_verdict(result) for result in self.parse_ahead([c.name for c in candidates])]

    def parse_ahead(self, names: list[Any]) -> Iterator[OpsinResult]:
        """:meth:`parse`'s results in order, slice by slice, the JVM parsing the next slice while the caller
        turns this one into verdicts (RDKit's canonical SMILES and InChIKey)."""
        slices = [names[start:start + PARSE_SLICE] for start in range(0, len(names), PARSE_SLICE)]
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opsin parse")  # slices one after another
        try:
            for parsed in [pool.submit(self.parse, part) for part in slices]:
                yield from parsed.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def parse(self, names: list[Any]) -> list[OpsinResult]:
        """OPSIN's results, case restored first and, where that fails, as written."""
        if not self.restore_case:
            return self.process.parse(names)
        restored = [restore(n) if isinstance(n, str) else n for n in names]
        results = self.process.parse(restored)
        retry = [i for i, r in enumerate(results) if r.smiles is None and restored[i] != names[i]]
        for i, result in zip(retry, self.process.parse([names[i] for i in retry])):
            if result.smiles is not None:
                results[i] = result
        return results


def _verdict(result: OpsinResult) -> Verdict:
    """Passed with SMILES and InChIKey when OPSIN found a structure, else failed with the reason."""
    if result.smiles is None:
        reason = result.reason if result.reason.startswith("OPSIN") else f"not sent to OPSIN: {result.reason}"
        return Verdict(False, 0.0, reason)
    mol = chem.mol_from_smiles(result.smiles)
    smiles = chem.smiles_of(mol) or result.smiles
    return Verdict(True, 1.0, "", {"smiles": smiles, "inchikey": chem.inchikey_of(mol)})
