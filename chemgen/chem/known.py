"""The local index of known compounds: names and InChIKeys to look candidates up in.

The index is a gzipped TSV with the header ``name<TAB>inchikey<TAB>smiles``; names
are lower case and a compound may appear on several rows (one per name). The
InChIKey's first block (14 characters) encodes the connectivity, so two keys
sharing it are the same skeleton (differing in stereo, isotopes or charge).
"""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from chemgen.errors import FilterError
from chemgen.io.atomic import atomic_open
from chemgen.io.names import quoted

DEFAULT_INDEX = Path(__file__).resolve().parent / "data" / "known_compounds.tsv.gz"
HEADER = ("name", "inchikey", "smiles")
SKELETON_LENGTH = 14  # the InChIKey connectivity block

_cache: dict[tuple[str, int, int], "KnownIndex"] = {}


@dataclass(frozen=True)
class KnownCompound:
    """One row of the index."""

    name: str
    inchikey: str
    smiles: str


class KnownIndex:
    """Lookup of known compounds by lower-cased name, by InChIKey and by skeleton."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self._rows: list[tuple[str, str, str]] = []
        self._by_name: dict[str, int] = {}
        self._by_key: dict[str, int] = {}
        self._by_skeleton: dict[str, int] = {}
        for name, inchikey, smiles in rows:
            self._add(normalize_name(name), inchikey.strip().upper(), smiles.strip())

    def _add(self, name: str, inchikey: str, smiles: str) -> None:
        row = len(self._rows)
        self._rows.append((name, inchikey, smiles))
        if name:
            self._by_name.setdefault(name, row)
        if inchikey:
            self._by_key.setdefault(inchikey, row)
            self._by_skeleton.setdefault(inchikey[:SKELETON_LENGTH], row)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_INDEX) -> "KnownIndex":
        """Read an index file (cached per path and modification time)."""
        path = Path(path)
        try:
            stat = path.stat()
        except OSError:
            raise FilterError(f"known-compounds index not found: {path}") from None
        cache_key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if cache_key not in _cache:
            _cache[cache_key] = cls(_read_rows(path))
        return _cache[cache_key]

    def __len__(self) -> int:
        return len(self._rows)

    def inchikeys(self) -> set[str]:
        """Every InChIKey in the index."""
        return set(self._by_key)

    def by_name(self, name: Optional[str]) -> Optional[KnownCompound]:
        """The known compound with this name (any case), or None."""
        return self._get(self._by_name, normalize_name(name or ""))

    def by_inchikey(self, inchikey: Optional[str]) -> Optional[KnownCompound]:
        """The known compound with exactly this InChIKey, or None."""
        return self._get(self._by_key, (inchikey or "").strip().upper())

    def by_skeleton(self, inchikey: Optional[str]) -> Optional[KnownCompound]:
        """A known compound sharing the InChIKey's connectivity block, or None."""
        key = (inchikey or "").strip().upper()
        return self._get(self._by_skeleton, key[:SKELETON_LENGTH]) if len(key) >= SKELETON_LENGTH else None

    def _get(self, table: dict[str, int], key: str) -> Optional[KnownCompound]:
        row = table.get(key) if key else None
        return KnownCompound(*self._rows[row]) if row is not None else None


def normalize_name(name: str) -> str:
    """The index's form of a name: lower case, single spaces."""
    return " ".join(name.lower().split())


def _read_rows(path: Path) -> list[tuple[str, str, str]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as handle:
            lines = handle.read().split("\n")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise FilterError(f"cannot read known-compounds index {path}: {exc}") from None
    header = tuple(lines[0].rstrip("\r").split("\t")[:3]) if lines else ()
    if header != HEADER:
        raise FilterError(f"known-compounds index {path} lacks the header name<TAB>inchikey<TAB>smiles")
    rows = []
    for line in lines[1:]:
        fields = line.rstrip("\r").split("\t") + ["", ""]
        if fields[0] or fields[1]:
            rows.append((fields[0], fields[1], fields[2]))
    return rows


def write_index(rows: Iterable[tuple[str, str, str]], path: Path | str) -> int:
    """Write ``(name, inchikey, smiles)`` rows as an index (atomically, reproducibly); returns the row count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_open(path, "wb") as raw, io.TextIOWrapper(
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0), encoding="utf-8", newline="\n"
    ) as out:  # no file name or time in the gzip header: the same rows give the same bytes
        out.write("\t".join(HEADER) + "\n")
        for name, inchikey, smiles in rows:
            fields = (normalize_name(name), (inchikey or "").strip(), (smiles or "").strip())
            if any("\t" in f or "\n" in f for f in fields):
                raise FilterError(f"tab or newline inside an index field: {quoted(name)}")
            out.write("\t".join(fields) + "\n")
            count += 1
    return count
