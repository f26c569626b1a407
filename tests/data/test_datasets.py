"""The shipped corpora and known-compounds index agree with datasets/README.md and the build rules."""
import gzip
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
