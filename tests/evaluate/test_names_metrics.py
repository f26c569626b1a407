"""bench/names_metrics.py: reading files of generated names, and exact figures on a few names OPSIN and RDKit judge."""
from __future__ import annotations

import gzip
import importlib.util
import json
import zipfile
from pathlib import Path

import pytest
from rdkit.Chem import Descriptors

from chemgen.chem import molecules as chem
from chemgen.errors import ConfigError
from chemgen.evaluation.evaluate import VALIDITY_FILTERS
from chemgen.filters import Candidate, FilterStage, Verdict

ROOT = Path(__file__).resolve().parents[2]
# valid, the same structure, valid, OPSIN reads but RDKit rejects (pentavalent carbon),
# valid only with the case restored (N,N-), no structure (no locant 7 on pentane)
NAMES = ["ethanol", "ethyl alcohol", "benzene", "1lambda5-carbane", "n,n-dimethylformamide", "pentan-7-ol"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_names_metrics", ROOT / "bench" / "names_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checked(bench):
    return bench.check_names(NAMES)


def key(smiles: str) -> str:
    return chem.inchikey_of(chem.mol_from_smiles(smiles))


def mw(smiles: str) -> float:
    return Descriptors.MolWt(chem.mol_from_smiles(smiles))


def test_figures_as_written_and_case_restored(bench, checked):
    written = bench.figures(checked["as written"], train_keys={key("CCO")})
    assert (written["n"], written["opsin"], written["validity"], written["strict"]) == (6, 4 / 6, 3 / 6, 3 / 6)
    assert (written["valid"], written["distinct_valid"]) == (3, 2)
    assert (written["uniqueness"], written["novelty"]) == (2 / 3, 1 / 2)
    assert written["mw"]["mean"] == pytest.approx((mw("CCO") + mw("c1ccccc1")) / 2)
    restored = bench.figures(checked["case restored"], train_keys={key("CCO")})
    assert (restored["opsin"], restored["validity"]) == (5 / 6, 4 / 6)
    assert (restored["uniqueness"], restored["novelty"]) == (3 / 4, 2 / 3)
    assert restored["mw"]["median"] == pytest.approx(mw("CN(C)C=O"))
    assert "novelty" not in bench.figures(checked["as written"])  # no --train, no novelty


def test_case_restored_reading_equals_evaluates_filters(checked):
    with FilterStage(VALIDITY_FILTERS) as stage:
        evaluated = stage.run([Candidate(name) for name in NAMES])
    assert [(c.passed, c.inchikey) for c in checked["case restored"]] == [(c.passed, c.inchikey) for c in evaluated]


def test_strict_validity_is_generates_rdkit_filter(bench):
    figures = bench.figures(bench.check_names(["sodium chloride", "benzene"])["as written"])
    assert (figures["validity"], figures["strict"]) == (1.0, 0.5)  # a salt is valid, and not one compound


def test_one_reading_when_restoring_case_changes_nothing(bench):
    assert list(bench.check_names(["ethanol", "N,N-dimethylformamide"])) == ["as written"]


def test_kl_score_of_a_set_against_itself(bench):
    smiles = ["c1ccc2ccccc2c1CCO", "c1ccc2ncccc2c1CN", "CC(=O)Nc1ccc(O)cc1", "c1ccccc1C(=O)O", "CCN(CC)c1ccc2ccccc2c1"]
    cands = [Candidate(s, smiles=s, inchikey=key(s)) for s in smiles]
    for cand in cands:
        cand.record("opsin", Verdict(True))
    assert bench.figures(cands, reference=smiles)["kl_score"] > 0.9


def test_reading_names_files_and_tables(bench, tmp_path):
    text = tmp_path / "names.txt"
    text.write_text("ethanol\n\n  benzene \n")
    assert bench.read_samples(str(text)) == ["ethanol", "", "benzene"]  # an empty line is a (failed) sample
    assert bench.read_samples(str(text), "iupac") == ["ethanol", "", "benzene"]  # --column is for tables
    table = tmp_path / "gen.csv"  # iupacGPT's file: one column, names with unquoted commas
    table.write_text("iupac\n5,8-dichloroquinoline\n\nbenzene\n")
    assert bench.read_samples(str(table), "iupac") == bench.read_samples(str(table)) == ["5,8-dichloroquinoline", "",
                                                                                         "benzene"]
    zipped = tmp_path / "gen.tsv.gz"
    zipped.write_bytes(gzip.compress(b"id\tname\n1\t2,2-dimethylpropane\n2\t\n"))
    assert bench.read_samples(str(zipped), "name") == ["2,2-dimethylpropane", ""]


@pytest.mark.parametrize("content, column, message", [
    ("id,name\n1,ethanol\n", None, "name the column of names with --column (columns: id, name)"),
    ("id,name\n1,ethanol\n", "smiles", "no column 'smiles' (columns: id, name)"),
    ("name,id\n2,3-dimethylbutane,7\n", "name", "line 2 has 3 fields for 2 columns, and 'name' is not the last column"),
])
def test_tables_it_cannot_read_say_why(bench, tmp_path, content, column, message):
    path = tmp_path / "gen.csv"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bench.read_samples(str(path), column)


def test_limit_and_sample(bench):
    names = [f"name{i}" for i in range(10)]
    assert bench.pick(names, limit=3) == names[:3]
    sampled = bench.pick(names, sample=4, seed=1)
    assert len(sampled) == 4 and sampled == sorted(sampled, key=names.index) == bench.pick(names, sample=4, seed=1)
    assert bench.pick(names, sample=20) == names


def test_moses_structures_from_the_wheel(bench, tmp_path):
    wheel = tmp_path / "molsets-0.3.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        rows = b"SMILES,SPLIT\nCCO,train\nOCC,train\nc1ccccc1,train\n"  # ethanol twice
        z.writestr("moses/dataset/data/train.csv.gz", gzip.compress(rows))
    keys, label = bench.training_keys(None, "moses:train", str(wheel))
    assert keys == {key("CCO"), key("c1ccccc1")} and label == "the 3 molecules of MOSES train (molsets 0.3.1)"
    with pytest.raises(ConfigError, match="MOSES files are moses:train, moses:test, moses:test_scaffolds"):
        bench.moses_smiles("moses:valid", str(wheel))
    with pytest.raises(ConfigError, match="cannot read moses/dataset/data/test.csv.gz"):
        bench.moses_smiles("moses:test", str(wheel))
    with pytest.raises(ConfigError, match="the molsets 0.3.1 wheel is not at"):
        bench.moses_smiles("moses:train", str(tmp_path / "absent.whl"))


def test_command_line(bench, tmp_path, capsys):
    names, train, out = tmp_path / "names.txt", tmp_path / "train.smi", tmp_path / "figures.json"
    names.write_text("\n".join(NAMES[:3]) + "\n")
    train.write_text("CCO\n")
    assert bench.main([str(names), "--train", str(train), "--json", str(out)]) == 0
    row = capsys.readouterr().out.splitlines()[2]
    assert row.startswith("| names.txt | as written | 3 | 100.0% | 100.0% | 100.0% | 66.7% | 50.0% |")
    figures = json.loads(out.read_text())  # standard JSON: no NaN
    assert figures["files"][str(names)]["as written"]["novelty"] == 0.5
    with pytest.raises(SystemExit) as stop:
        bench.main([str(names), str(tmp_path / "absent.csv"), "--column", "iupac"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == f"names_metrics: {tmp_path / 'absent.csv'}: not a file\n"
