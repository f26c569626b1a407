"""Naming a corpus at scale: molecules named by openclatura in parallel, each name checked by an OPSIN round trip,
chunk by chunk into a cache that a stopped run resumes from and a second run reuses.

A chunk is CHUNK molecules. Worker processes (a local pool, or the workers of
a Dask cluster) name chunks ahead while this process checks each named chunk
with one OPSIN process and saves it (gzip JSON, atomically) under the cache
folder. The cache is valid only for the settings it was made with
(``settings.json``: the namer and its version, OPSIN's jar, the chunk size,
whatever the caller adds such as the corpus's digest); other settings start it
afresh. A salt, solvate or charged form is named as its parent (largest
fragment, uncharged: chemgen.chem.molecules.parent_smiles), and its row keeps
the parent's SMILES. A molecule is dropped, under the first reason that applies, when RDKit
cannot read it, the namer fails or takes too long, the name has a character
outside the alphabet (when one is given), OPSIN cannot parse the name, or
OPSIN reads it back to another structure (standard InChIKeys compared).
"""
from __future__ import annotations

import gzip
import json
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

CHUNK = 1000  # molecules per task; a chunk's results are saved as one file
NAME_SECONDS = 30  # a molecule the namer spends longer on is dropped (none took 1 s when measured)

R_SMILES = "RDKit cannot read the SMILES"
R_NAMER = "the namer gives no name"
R_SLOW = f"the namer takes over {NAME_SECONDS} s"
R_ALPHABET = "name has a character outside the alphabet"
R_OPSIN = "OPSIN cannot parse the name"
R_MISMATCH = "OPSIN's structure has another InChIKey"

Row = tuple[str, str, str]  # (SMILES, name or "", reason or "")


# ---------------------------------------------------------------- workers: naming


def init_worker() -> None:
    """A naming process: RDKit quiet, Ctrl-C left to the parent."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_alarm(signum, frame):
    raise TimeoutError()


def name_chunk(smiles: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """``(name, InChIKey, "", parent)`` per SMILES, or ``("", "", reason, parent)``, where ``parent`` is the
    SMILES named (its parent when the molecule is a salt or charged form); runs in a worker."""
    from openclatura import name_smiles
    from rdkit import Chem

    from chemgen.chem.molecules import parent_smiles

    timed = hasattr(signal, "SIGALRM") and _in_main_thread()
    if timed:
        signal.signal(signal.SIGALRM, _on_alarm)
    out = []
    for given in smiles:
        smi = parent_smiles(given) if given else given
        mol = Chem.MolFromSmiles(smi) if smi else None
        key = Chem.MolToInchiKey(mol) if mol is not None else ""
        if not key:
            out.append(("", "", R_SMILES, smi))
            continue
        if timed:
            signal.alarm(NAME_SECONDS)
        try:
            name = name_smiles(smi) or ""
        except TimeoutError:
            name, reason = "", R_SLOW
        except Exception as exc:  # noqa: BLE001 - any namer failure drops the molecule
            name, reason = "", f"{R_NAMER} ({type(exc).__name__})"
        else:
            reason = "" if name else R_NAMER
        finally:
            if timed:
                signal.alarm(0)
        out.append((" ".join(name.split()), key, reason, smi))
    return out


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# ---------------------------------------------------------------- this process: checking with OPSIN


def check_chunk(named: Sequence[tuple[str, ...]], opsin: Any, alphabet: Optional[set[str]] = None) -> list[str]:
    """The reason each named molecule is dropped, "" when its name round-trips through OPSIN
    (``named``: name_chunk's rows, name, InChIKey and reason first)."""
    from rdkit import Chem

    reasons = [r or ("" if alphabet is None or set(n) <= alphabet else R_ALPHABET) for n, _, r, *_ in named]
    todo = [i for i, r in enumerate(reasons) if not r]
    for i, result in zip(todo, opsin.parse([named[i][0] for i in todo])):
        if result.smiles is None:
            reasons[i] = R_OPSIN
            continue
        mol = Chem.MolFromSmiles(result.smiles)
        key = Chem.MolToInchiKey(mol) if mol is not None else ""
        if key != named[i][1]:
            reasons[i] = R_MISMATCH
    return reasons


# ---------------------------------------------------------------- the cache


def namer_settings() -> dict[str, Any]:
    """What names depend on: the namer and its version, OPSIN's jar, the chunk size."""
    import openclatura

    from chemgen.chem.molecules import PARENT_RULE
    from chemgen.chem.opsin import find_jar

    jar = find_jar()
    return {"namer": f"openclatura {getattr(openclatura, '__version__', '')}".strip(),
            "opsin_jar": jar.name if jar else "", "chunk": CHUNK, "parent": PARENT_RULE}


class ChunkStore:
    """Finished chunks as small gzip JSON files, valid only for the settings they were made with."""

    def __init__(self, folder: Path, config: dict, fresh: bool = False) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = self.folder / "settings.json"
        text = json.dumps(config, sort_keys=True)
        if fresh or not stamp.is_file() or stamp.read_text() != text:
            for old in self.folder.glob("*.json.gz"):
                old.unlink()
            stamp.write_text(text)

    def path(self, kind: str, number: int) -> Path:
        return self.folder / f"{kind}-{number:05d}.json.gz"

    def has(self, kind: str, number: int) -> bool:
        return self.path(kind, number).is_file()

    def load(self, kind: str, number: int) -> Optional[list]:
        try:
            return json.loads(gzip.decompress(self.path(kind, number).read_bytes()))
        except (OSError, ValueError, EOFError):
            return None

    def save(self, kind: str, number: int, rows: list) -> None:
        path = self.path(kind, number)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(json.dumps(rows).encode(), mtime=0))
        os.replace(tmp, path)


# ---------------------------------------------------------------- walking a corpus


@dataclass
class Namers:
    """Where chunks are named: ``submit(smiles) -> handle`` and ``result(handle) -> named rows``."""

    submit: Callable[[list[str]], Any]
    result: Callable[[Any], list]
    ahead: int  # chunks named ahead of the one being checked

    @classmethod
    def in_this_process(cls) -> "Namers":
        return cls(lambda chunk: chunk, name_chunk, 0)

    @classmethod
    def pool(cls, pool: Any, processes: int) -> "Namers":
        return cls(lambda chunk: pool.apply_async(name_chunk, (chunk,)), lambda job: job.get(), 2 * processes)

    @classmethod
    def cluster(cls, client: Any) -> "Namers":
        threads = max(1, sum(client.nthreads().values()))
        return cls(lambda chunk: client.submit(name_chunk, chunk, pure=False), lambda future: future.result(),
                   2 * threads)


def walk(kind: str, smiles: Sequence[str], order: Sequence[int], store: ChunkStore, namers: Namers, wanted: int,
         opsin: Any, alphabet: Optional[set[str]] = None,
         on_chunk: Callable[[int, int, bool], None] = lambda number, n_chunks, cached: None) -> Iterator[Row]:
    """``(SMILES, name, reason)`` in ``order``, chunk by chunk, loading done chunks from the store.

    Up to ``namers.ahead`` chunks are named ahead of the one being checked, but
    only among the chunks that ``wanted`` names need if none is dropped; past
    those, one chunk at a time. The caller stops iterating when it has enough.
    """
    n_chunks = (len(order) + CHUNK - 1) // CHUNK
    pending: dict[int, Any] = {}

    def chunk_smiles(number: int) -> list[str]:
        return [smiles[i] for i in order[number * CHUNK:(number + 1) * CHUNK]]

    for number in range(n_chunks):
        rows = store.load(kind, number)
        cached = rows is not None
        if rows is None:
            upto = max(number + 1, (wanted + CHUNK - 1) // CHUNK)
            for ahead in range(number, min(n_chunks, number + 1 + namers.ahead, upto)):
                if ahead not in pending and not store.has(kind, ahead):
                    pending[ahead] = namers.submit(chunk_smiles(ahead))
            batch = chunk_smiles(number)
            named = namers.result(pending.pop(number) if number in pending else namers.submit(batch))
            reasons = check_chunk(named, opsin, alphabet)
            rows = [[p, n if not r else "", r] for (n, _, _, p), r in zip(named, reasons)]
            store.save(kind, number, rows)
        on_chunk(number, n_chunks, cached)
        yield from (tuple(row) for row in rows)


# ---------------------------------------------------------------- a user's corpus


@dataclass
class NamedCorpus:
    """A corpus's verified names and what was dropped, by reason."""

    names: list[str] = field(default_factory=list)
    looked: int = 0
    dropped: Counter = field(default_factory=Counter)
    cached: int = 0  # molecules whose chunk came from the cache
    stripped: int = 0  # names given to a salt's or charged form's parent
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: kept of looked at, the rate, the cache, salts named as their parent, each reason for a drop."""
        from chemgen.chem.molecules import PARENT_RULE

        rate = (self.looked - self.cached) / self.seconds if self.seconds and self.looked > self.cached else 0.0
        line = (f"named {len(self.names):,} of {self.looked:,} molecules in {self.seconds:.0f} s"
                + (f" ({self.cached:,} from the cache)" if self.cached else "")
                + (f", {rate:.0f} molecules/s" if rate else "")
                + (f"; {self.stripped:,} salts or charged forms named as their parent ({PARENT_RULE})"
                   if self.stripped else ""))
        if self.dropped:
            line += "; dropped: " + ", ".join(f"{reason} {n:,}" for reason, n in self.dropped.most_common())
        return line


def corpus_digest(smiles: Sequence[str]) -> str:
    """SHA-256 of the SMILES in order: the cache is this corpus's and no other's."""
    import hashlib

    digest = hashlib.sha256()
    for smi in smiles:
        digest.update(smi.encode("utf-8") + b"\n")
    return digest.hexdigest()


def name_corpus(smiles: Sequence[str], cache: Path, workers: Optional[int] = None, client: Any = None,
                progress: Optional[Callable[..., Any]] = None) -> NamedCorpus:
    """Verified names of every SMILES (duplicates of a name kept once), cached under ``cache`` chunk by chunk.

    workers: naming processes on this machine (default: every core); client: a
    dask.distributed Client whose workers name the chunks instead.
    """
    from multiprocessing import get_context

    from chemgen.chem.opsin import OpsinProcess
    from chemgen.io.progress import progress_bar

    store = ChunkStore(cache, namer_settings() | {"corpus_sha256": corpus_digest(smiles), "molecules": len(smiles)})
    processes = workers or os.cpu_count() or 1
    pool = get_context("fork").Pool(processes, initializer=init_worker) if client is None and processes > 1 else None
    namers = Namers.cluster(client) if client is not None else Namers.pool(pool, processes) if pool is not None \
        else Namers.in_this_process()
    corpus, seen, started = NamedCorpus(), set(), time.monotonic()
    bar = (progress or progress_bar)(total=len(smiles), desc="naming", unit="mol")

    def on_chunk(number: int, n_chunks: int, cached: bool) -> None:
        size = min(CHUNK, len(smiles) - number * CHUNK)
        corpus.cached += size if cached else 0
        bar.update(size)

    try:
        with OpsinProcess() as opsin:
            rows = walk("corpus", smiles, range(len(smiles)), store, namers, len(smiles), opsin, on_chunk=on_chunk)
            for given, (named_smiles, name, reason) in zip(smiles, rows):
                corpus.looked += 1
                if reason:
                    corpus.dropped[reason] += 1
                    continue
                corpus.stripped += named_smiles != given
                if name not in seen:
                    seen.add(name)
                    corpus.names.append(name)
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    corpus.seconds = time.monotonic() - started
    return corpus
