"""The shipped corpora and known-compounds index agree with datasets/README.md and the build rules."""
import gzip
import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest

from chemgen.chem.casing import restore_case
from chemgen.chem.known import HEADER

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"
CORPORA = ("systematic", "common")
SPLITS = ("train", "valid", "test")


def _load_build():
    spec = importlib.util.spec_from_file_location("datasets_build", DATASETS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


@pytest.fixture(scope="module")
def corpora() -> dict[str, dict[str, list[str]]]:
    return {c: {s: (DATASETS / c / f"{s}.txt").read_text(encoding="utf-8").split("\n")[:-1] for s in SPLITS}
            for c in CORPORA}


def _readme_counts() -> dict[str, list[int]]:
    text = (DATASETS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (systematic|common) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", text, re.M)
    return {row[0]: [int(n.replace(",", "")) for n in row[1:]] for row in rows}


def test_counts_match_readme_and_stats(corpora):
    readme = _readme_counts()
    stats = json.loads((DATASETS / "stats.json").read_text())
    assert set(readme) == set(CORPORA)
    for corpus, splits in corpora.items():
        counts = [len(splits[s]) for s in SPLITS]
        assert readme[corpus] == counts + [sum(counts)]
        assert stats[corpus]["splits"] == dict(zip(SPLITS, counts))
        assert stats[corpus]["names"] == sum(counts)


def test_files_end_with_a_newline_and_hold_no_blank_lines(corpora):
    for corpus in CORPORA:
        for split in SPLITS:
            text = (DATASETS / corpus / f"{split}.txt").read_text(encoding="utf-8")
            assert text.endswith("\n") and "\n\n" not in text and "\r" not in text


def test_splits_are_disjoint_duplicate_free_and_stable(corpora):
    for corpus, splits in corpora.items():
        everything = [n for s in SPLITS for n in splits[s]]
        assert len(everything) == len(set(everything))
        for split, names in splits.items():
            assert all(build.split_of(n) == split for n in names)


def test_split_shares_are_near_90_5_5(corpora):
    for splits in corpora.values():
        total = sum(len(v) for v in splits.values())
        assert 0.87 < len(splits["train"]) / total < 0.93
        assert 0.035 < len(splits["valid"]) / total < 0.065 and 0.035 < len(splits["test"]) / total < 0.065


def test_alphabet_and_length_cap(corpora):
    for splits in corpora.values():
        for names in splits.values():
            assert all(0 < len(n) <= build.MAX_LENGTH for n in names)
            assert set("".join(names)) <= build.ALPHABET
            assert all(n == n.strip() and "  " not in n for n in names)


def test_systematic_names_carry_the_current_case_rules(corpora):
    names = [n for split in corpora["systematic"].values() for n in split]
    assert [n for n in names if restore_case(n.lower()) != n] == []  # else rebuild: python datasets/build.py


def test_common_names_hold_no_registry_numbers(corpora):
    names = [n for split in corpora["common"].values() for n in split]
    assert not [n for n in names if build.CAS.match(n) or build.EINECS.match(n) or not build.WORDY.search(n)]


def test_common_names_are_not_cas_index_entries(corpora):
    names = [n for split in corpora["common"].values() for n in split]
    assert not [n for n in names if build.INVERTED.search(n)]
    assert build.INVERTED.search("tridecane, 1-iodo-") and build.INVERTED.search("silane,benzoyltrimethyl-")
    assert not build.INVERTED.search("alpha,alpha-diethylphenethyl alcohol") and not build.INVERTED.search("N,N'-x")


def test_known_compounds_index():
    path = ROOT / "chemgen" / "chem" / "data" / "known_compounds.tsv.gz"
    raw = path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0: reproducible bytes
    lines = gzip.decompress(raw).decode("utf-8").split("\n")
    assert tuple(lines[0].split("\t")) == HEADER and lines[-1] == ""
    rows = lines[1:-1]
    assert rows == sorted(rows) and len(rows) == len(set(rows))
    assert len(rows) == json.loads((DATASETS / "stats.json").read_text())["known_index_rows"]
    sample = [r.split("\t") for r in rows[:: max(1, len(rows) // 2000)]]
    assert all(len(f) == 3 and f[0] == f[0].lower() and re.fullmatch(r"[A-Z]{14}-[A-Z]{10}-[A-Z]", f[1]) for f in sample)


# ---------------------------------------------------------------- the druglike corpus (datasets/druglike/)

DRUGLIKE = DATASETS / "druglike"
DRUGLIKE_SPLITS = ("train", "valid", "test", "scaffold_test")


def _load_druglike():
    spec = importlib.util.spec_from_file_location("datasets_druglike", DATASETS / "druglike.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


druglike = _load_druglike()


def _gz_lines(path: Path) -> list[str]:
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    return text.split("\n")[:-1]


@pytest.fixture(scope="module")
def druglike_corpus() -> dict[str, tuple[list[str], list[str]]]:
    """(names, SMILES) per split, line for line."""
    missing = [s for s in DRUGLIKE_SPLITS if not (DRUGLIKE / f"{s}.txt.gz").is_file()]
    if missing:  # the corpus is committed split by split as the build finishes them
        pytest.skip(f"datasets/druglike: {', '.join(missing)} not built yet (python datasets/build.py druglike)")
    return {s: (_gz_lines(DRUGLIKE / f"{s}.txt.gz"), _gz_lines(DRUGLIKE / f"{s}.smi.gz")) for s in DRUGLIKE_SPLITS}


def _readme_druglike_counts() -> list[int]:
    text = (DATASETS / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| druglike \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", text, re.M)
    assert row, "datasets/README.md has no druglike counts row"
    return [int(n.replace(",", "")) for n in row.groups()]


def test_druglike_counts_match_readme_stats_and_the_issue(druglike_corpus):
    stats = json.loads((DRUGLIKE / "stats.json").read_text())
    counts = [len(druglike_corpus[s][0]) for s in DRUGLIKE_SPLITS]
    assert _readme_druglike_counts() == counts + [sum(counts)]
    for split, n in zip(DRUGLIKE_SPLITS, counts):
        assert stats["splits"][split]["names"] == n
        assert stats["splits"][split]["names"] + sum(stats["splits"][split]["dropped"].values()) \
            == stats["splits"][split]["molecules_looked_at"]
    assert stats["all"]["names"] == sum(counts)
    train, valid, test, scaffold = counts
    assert train >= 300_000 and test >= 10_000 and valid >= 9_000 and scaffold >= 9_000


def test_druglike_files_are_reproducible_gzip_with_one_name_per_line(druglike_corpus):
    for split in DRUGLIKE_SPLITS:
        for suffix in ("txt.gz", "smi.gz"):
            raw = (DRUGLIKE / f"{split}.{suffix}").read_bytes()
            assert raw[:2] == b"\x1f\x8b" and raw[3] == 0 and raw[4:8] == b"\0\0\0\0"  # no file name, mtime 0
        names, smiles = druglike_corpus[split]
        assert len(names) == len(smiles)
        assert all(n and n == n.strip() and "  " not in n for n in names)
        assert all(s and " " not in s for s in smiles)
        assert set("".join(names)) <= druglike.ALPHABET


def test_druglike_names_and_structures_are_distinct_across_splits(druglike_corpus):
    names = [n for s in DRUGLIKE_SPLITS for n in druglike_corpus[s][0]]
    smiles = [m for s in DRUGLIKE_SPLITS for m in druglike_corpus[s][1]]
    assert len(names) == len(set(names)) and len(smiles) == len(set(smiles))


def test_druglike_names_round_trip_through_opsin(druglike_corpus):
    """A spread-out sample of 100 names: OPSIN's structure has the source SMILES's InChIKey."""
    from chemgen.chem.opsin import OpsinProcess, opsin_available
    from rdkit import Chem

    if not opsin_available()[0]:
        pytest.skip(opsin_available()[1])
    sample = []
    for split in DRUGLIKE_SPLITS:
        names, smiles = druglike_corpus[split]
        step = max(1, len(names) // 25)
        sample += list(zip(names[::step], smiles[::step]))[:25]
    assert len(sample) == 100
    with OpsinProcess() as opsin:
        results = opsin.parse([n for n, _ in sample])
    key = lambda smi: Chem.MolToInchiKey(Chem.MolFromSmiles(smi))  # noqa: E731
    assert [(n, r.smiles is not None and key(r.smiles) == key(s)) for (n, s), r in zip(sample, results)] \
        == [(n, True) for n, _ in sample]


def test_druglike_walk_order_is_a_fixed_hash_order():
    smiles = ["CCO", "c1ccccc1", "CCN", "O=C=O"]
    order = druglike.walk_order("train", smiles)
    keys = [hashlib.blake2b(f"train:{s}".encode(), digest_size=8).digest() for s in smiles]
    assert [keys[i] for i in order] == sorted(keys)
    assert order == [1, 2, 0, 3]  # the same on every machine: a change here changes the corpus
    assert druglike.walk_order("test", smiles) == [3, 0, 1, 2]  # the MOSES file name is part of the key


def test_druglike_gzip_writer_gives_the_same_bytes(tmp_path):
    druglike.write_gzip_lines(tmp_path / "a.gz", ["x", "y z"])
    druglike.write_gzip_lines(tmp_path / "b.gz", ["x", "y z"])
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.gz").read_bytes()) == b"x\ny z\n"


def test_druglike_build_names_a_missing_wheel_in_one_line(tmp_path, capsys):
    assert druglike.main(["--moses-wheel", str(tmp_path / "none.whl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--moses-wheel" in err and "pip download" in err
