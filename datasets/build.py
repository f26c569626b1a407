"""Rebuild chemgen's name corpora and known-compounds index from the `chemicals` package.

Source: the PubChem-derived identifier table shipped inside `chemicals`
(``Identifiers/chemical identifiers pubchem large.tsv``: PubChem CID, CAS,
formula, MW, SMILES, InChI, InChIKey, IUPAC name, common name, synonyms); the
known-compounds index also reads the package's other identifier tables
(:data:`IDENTIFIER_TABLES`), where everyday compounds such as ethanol are.

    pip install -e ".[datasets]"
    python datasets/build.py            # writes datasets/{systematic,common}/*.txt,
                                        # datasets/stats.json and chemgen/chem/data/known_compounds.tsv.gz
    python datasets/build.py druglike   # writes datasets/druglike/ from the MOSES molecules
                                        # (datasets/druglike.py; --help for its options)

Rules (the same input gives the same bytes):
- systematic: the IUPAC name, standard case restored, kept only if OPSIN parses it;
- common: the common name, unless it is a CAS or EINECS number, a catalogue code
  (has no run of 4 letters), equal to the IUPAC name, or in CAS-index inverted
  form ("nonane, 2-chloro-": not a name chemists say); case restored only where that
  makes OPSIN understand it (``o-cresol`` stays *ortho*);
- both: at most MAX_LENGTH characters, characters in ALPHABET only, duplicates
  dropped, sorted; split 90/5/5 into train/valid/test by a hash of the name.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chemgen.chem.casing import restore_case  # noqa: E402
from chemgen.chem.known import normalize_name, write_index  # noqa: E402
from chemgen.chem.opsin import OpsinProcess  # noqa: E402

MAX_LENGTH = 80  # longer names are dropped (87% of IUPAC names fit)
ALPHABET = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-,()[]{}' ;+.:")
SPLITS = (("train", 90), ("valid", 5), ("test", 5))  # percent, by hash of the name
CAS = re.compile(r"^\d{2,7}-\d\d-\d$")
WORDY = re.compile(r"[a-z]{4}")
EINECS = re.compile(r"^einecs \d{3}-\d{3}-\d$")
# CAS-index (inverted) form, "parent, substituents-[, modifier]": a comma before a space or a lower-case
# word; locant lists ("1,2-", "N,N'-") and Greek-letter lists ("alpha,alpha-") are not it.
INVERTED = re.compile(r",(?: |(?!alpha|beta|gamma|delta|omega)[a-z])")
OUT = ROOT / "datasets"
INDEX = ROOT / "chemgen" / "chem" / "data" / "known_compounds.tsv.gz"


def source_table() -> Path:
    import chemicals

    return Path(chemicals.__file__).parent / "Identifiers" / "chemical identifiers pubchem large.tsv"


def read_rows(path: Path) -> list[dict[str, str]]:
    """CID, SMILES, InChIKey, IUPAC and common name of each compound."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if len(f) > 8:
            rows.append({"cid": f[0], "smiles": f[4], "inchikey": f[6], "iupac": tidy(f[7]), "common": tidy(f[8])})
    return rows


def tidy(name: str) -> str:
    """Trimmed, with single spaces."""
    return " ".join(name.split())


def misfit(name: str) -> str:
    """Why a non-empty name is left out of a corpus, or "" when it fits."""
    if len(name) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if not set(name) <= ALPHABET:
        return "characters outside the alphabet"
    return ""


def _common_misfit(row: dict[str, str]) -> str:
    name = row["common"]
    if not name or CAS.match(name) or not WORDY.search(name) or name == row["iupac"]:
        return "empty, CAS, code or the IUPAC name"
    if EINECS.match(name):
        return "EINECS number"
    if INVERTED.search(name):
        return "CAS-index inverted name"
    return misfit(name)


def select(named_reasons: Iterable[tuple[str, str]]) -> tuple[list[str], Counter]:
    """Sorted unique names whose reason is empty, and a count of every reason for leaving one out."""
    drops: Counter = Counter()
    kept = []
    for name, reason in named_reasons:
        if reason:
            drops[reason] += 1
        else:
            kept.append(name)
    unique = sorted(set(kept))
    drops["duplicates"] += len(kept) - len(unique)
    return unique, drops


def split_of(name: str) -> str:
    """train/valid/test from the first byte of the name's BLAKE2b hash: stable and disjoint."""
    bucket = hashlib.blake2b(name.encode(), digest_size=8).digest()[0] * 100 // 256
    for split, share in SPLITS:
        if bucket < share:
            return split
        bucket -= share
    return SPLITS[-1][0]


def systematic_names(rows, opsin: OpsinProcess) -> tuple[list[str], Counter]:
    unique, drops = select(
        (name, "empty" if not name else misfit(name)) for name in (restore_case(row["iupac"]) for row in rows)
    )
    parsed = [n for n, r in zip(unique, opsin.parse(unique)) if r.smiles is not None]
    drops["OPSIN cannot parse"] += len(unique) - len(parsed)
    return parsed, drops


def common_names(rows, opsin: OpsinProcess) -> tuple[list[str], Counter]:
    unique, drops = select((row["common"], _common_misfit(row)) for row in rows)
    return sorted(set(_restore_where_it_helps(unique, opsin))), drops


def _restore_where_it_helps(names: list[str], opsin: OpsinProcess) -> list[str]:
    restored = [restore_case(n) for n in names]
    changed = [i for i, (a, b) in enumerate(zip(names, restored)) if a != b]
    as_written = opsin.parse([names[i] for i in changed])
    with_case = opsin.parse([restored[i] for i in changed])
    out = list(names)
    for i, plain, cased in zip(changed, as_written, with_case):
        if plain.smiles is None and cased.smiles is not None:
            out[i] = restored[i]
    return out


def write_corpus(kind: str, names: list[str]) -> dict[str, int]:
    folder = OUT / kind
    folder.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[str]] = {split: [] for split, _ in SPLITS}
    for name in names:
        parts[split_of(name)].append(name)
    for split, members in parts.items():
        (folder / f"{split}.txt").write_text("".join(n + "\n" for n in members), encoding="utf-8")
    return {split: len(members) for split, members in parts.items()}


def statistics(names: list[str]) -> dict:
    lengths = sorted(len(n) for n in names)
    chars = Counter(c for n in names for c in n)
    return {
        "names": len(names),
        "length_min": lengths[0], "length_median": lengths[len(lengths) // 2],
        "length_mean": round(sum(lengths) / len(lengths), 2), "length_max": lengths[-1],
        "alphabet": "".join(sorted(chars)), "alphabet_size": len(chars),
    }


def index_rows(rows) -> list[tuple[str, str, str]]:
    """Every IUPAC and common name of every compound, with its InChIKey and SMILES; sorted, unique."""
    out = set()
    for row in rows:
        for name in (row["iupac"], row["common"]):
            if name and not CAS.match(name) and "\t" not in name:
                out.add((normalize_name(name), row["inchikey"], row["smiles"]))
    return sorted(out)


IDENTIFIER_TABLES = (  # every identifier table of `chemicals` that names compounds (same columns as pubchem large)
    "chemical identifiers pubchem large.tsv", "chemical identifiers pubchem small.tsv",
    "chemical identifiers example user db.tsv", "Inorganic db.tsv", "Anion db.tsv", "Cation db.tsv",
)
EVERYDAY_TABLE = "chemical identifiers pubchem small.tsv"  # its synonyms (paracetamol, dmf) are indexed too


def synonym_rows(path: Path) -> list[dict[str, str]]:
    """One row per synonym (as a common name) of each compound, except CAS and EINECS numbers and inverted names."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        for name in map(tidy, f[9:]):
            if name and not (CAS.match(name) or EINECS.match(name) or INVERTED.search(name) or misfit(name)):
                rows.append({"smiles": f[4], "inchikey": f[6], "iupac": "", "common": name})
    return rows


def known_index_rows() -> tuple[list[tuple[str, str, str]], Counter]:
    """index_rows over every identifier table, without radical structures ([CH2]O for methanol); and the drops.

    A name whose only structure is a radical stays out; where another table
    gives the same name a proper structure, that one is kept.
    """
    from chemgen.chem import molecules

    folder = source_table().parent
    rows = [row for table in IDENTIFIER_TABLES for row in read_rows(folder / table)]
    rows += synonym_rows(folder / EVERYDAY_TABLE)
    out, drops = [], Counter()
    for name, inchikey, smiles in index_rows(rows):
        mol = molecules.mol_from_smiles(smiles) if smiles else None
        if not inchikey:
            drops["no InChIKey"] += 1
        elif mol is not None and molecules.radical_electrons(mol):
            drops["radical structure"] += 1
        else:
            out.append((name, inchikey, smiles))
    return out, drops


def main() -> None:
    rows = read_rows(source_table())
    stats = {"source": "chemicals: Identifiers/chemical identifiers pubchem large.tsv", "compounds": len(rows),
             "max_length": MAX_LENGTH}
    with OpsinProcess() as opsin:
        for kind, build in (("systematic", systematic_names), ("common", common_names)):
            names, drops = build(rows, opsin)
            stats[kind] = statistics(names) | {"splits": write_corpus(kind, names), "dropped": dict(sorted(drops.items()))}
            print(kind, json.dumps(stats[kind]), file=sys.stderr)
    known, drops = known_index_rows()
    stats["known_index_dropped"] = dict(sorted(drops.items()))
    stats["known_index_rows"] = write_index(known, INDEX)
    (OUT / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["druglike"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import druglike

        sys.exit(druglike.main(sys.argv[2:]))
    main()
