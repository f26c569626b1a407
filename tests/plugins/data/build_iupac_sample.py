"""Rebuild iupac_sample.txt.gz, the real IUPAC names the suffix filter's accuracy tests read.

The names are a seeded random sample of the IUPAC column of the PubChem identifier
table that the `chemicals` package ships (the same table datasets/build.py reads),
taken as they stand: nothing is filtered, so the tests measure the suffix filter
on what PubChem writes. The first lines of the file (``#``) record the source,
its size and checksum, and this command. The output is the same byte for byte
for the same `chemicals` release:

    pip install chemicals==1.5.2
    python tests/plugins/data/build_iupac_sample.py
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "iupac_sample.txt.gz"
TABLE = ("Identifiers", "chemical identifiers pubchem large.tsv")
IUPAC_COLUMN = 7
COUNT, SEED = 3000, 0


def source_table() -> tuple[Path, str]:
    """The identifier table inside the installed `chemicals` package, and that package's version."""
    import chemicals

    return Path(chemicals.__file__).parent.joinpath(*TABLE), chemicals.__version__


def iupac_names(text: str) -> list[str]:
    """The table's IUPAC names, unquoted, unique and sorted (so the sample does not depend on row order)."""
    names = set()
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) > IUPAC_COLUMN and fields[IUPAC_COLUMN]:
            name = fields[IUPAC_COLUMN]
            if len(name) > 1 and name[0] == name[-1] == '"':
                name = name[1:-1].replace('""', '"')
            names.add(name)
    return sorted(names)


def build(count: int = COUNT, seed: int = SEED, out: Path = OUT) -> int:
    """Write ``count`` names drawn with ``random.Random(seed)``; returns how many the table had."""
    table, version = source_table()
    data = table.read_bytes()
    names = iupac_names(data.decode("utf-8"))
    sample = random.Random(seed).sample(names, min(count, len(names)))
    header = [
        f"# {len(sample)} IUPAC names, random.Random({seed}).sample of the {len(names)} unique names in",
        f"# chemicals {version}: {'/'.join(TABLE)} (column {IUPAC_COLUMN}, {len(data)} bytes,",
        f"# sha256 {hashlib.sha256(data).hexdigest()}). Rebuild: python tests/plugins/data/build_iupac_sample.py "
        f"--count {count} --seed {seed}",
    ]
    text = "\n".join(header + sample) + "\n"
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    total = build(args.count, args.seed)
    print(f"{OUT.name}: {min(args.count, total)} of {total} names, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
