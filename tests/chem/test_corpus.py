"""Naming a corpus: in parallel, cached chunk by chunk, resumable, every drop counted by its reason."""
import subprocess
import sys

import pytest

from chemgen.chem import corpus
from chemgen.chem.opsin import OpsinResult

MOLECULES = ["CCO", "CC(C)O", "c1ccccc1O", "not a smiles", "CC(=O)O", "CCN", "CCCl", "OCCO", "c1ccncc1"]


def test_check_keeps_only_names_that_give_the_source_structure():
    from rdkit import Chem

    ethanol, methanol = Chem.MolToInchiKey(Chem.MolFromSmiles("CCO")), Chem.MolToInchiKey(Chem.MolFromSmiles("CO"))

    class FakeOpsin:
        def parse(self, names):
            table = {"ethanol": "OCC", "methanol": "CO", "1lambda^6-thing": "CCO"}
            return [OpsinResult(n, table.get(n)) for n in names]

    named = [("ethanol", ethanol, ""), ("methanol", ethanol, ""), ("nonsense", ethanol, ""),
             ("1lambda^6-thing", ethanol, ""), ("ethan$ol", ethanol, ""), ("", "", corpus.R_NAMER),
             ("methanol", methanol, "")]
    alphabet = set("abcdefghijklmnopqrstuvwxyz0123456789-,()[]^")
    assert corpus.check_chunk(named, FakeOpsin(), alphabet) == [
        "", corpus.R_MISMATCH, corpus.R_OPSIN, "", corpus.R_ALPHABET, corpus.R_NAMER, ""]
    assert corpus.check_chunk(named[4:5], FakeOpsin()) == [corpus.R_OPSIN]  # no alphabet: OPSIN judges it


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(corpus, "CHUNK", 3)


def test_a_corpus_is_named_verified_and_its_drops_counted(tmp_path, small_chunks):
    named = corpus.name_corpus(MOLECULES, tmp_path / "cache", workers=1)
    assert named.looked == 9 and len(named.names) == 8 and named.dropped == {corpus.R_SMILES: 1}
    assert "ethanol" in named.names and "pyridine" in named.names
    assert sorted(p.name for p in (tmp_path / "cache").glob("*.json.gz")) == [
        "corpus-00000.json.gz", "corpus-00001.json.gz", "corpus-00002.json.gz"]
    summary = named.summary()
    assert summary.startswith("named 8 of 9 molecules") and "RDKit cannot read the SMILES 1" in summary


def test_a_second_run_reuses_the_cache_and_a_stopped_run_resumes(tmp_path, small_chunks, monkeypatch):
    first = corpus.name_corpus(MOLECULES, tmp_path / "cache", workers=1)
    (tmp_path / "cache" / "corpus-00001.json.gz").unlink()  # as if the run had stopped inside chunk 1
    calls = []
    real = corpus.name_chunk
    monkeypatch.setattr(corpus, "name_chunk", lambda smiles: calls.append(list(smiles)) or real(smiles))
    again = corpus.name_corpus(MOLECULES, tmp_path / "cache", workers=1)
    assert calls == [MOLECULES[3:6]] and again.cached == 6 and again.names == first.names
    assert corpus.name_corpus(MOLECULES, tmp_path / "cache", workers=1).cached == 9 and len(calls) == 1
    other = corpus.name_corpus(MOLECULES[:4], tmp_path / "cache", workers=1)  # another corpus: not this cache
    assert other.cached == 0 and other.looked == 4


def test_a_molecule_that_crashes_the_namer_is_dropped_and_the_rest_go_on(tmp_path, small_chunks, monkeypatch):
    import openclatura

    real = openclatura.name_smiles

    def fragile(smiles):
        if smiles == "CCN":
            raise RuntimeError("namer bug")
        return real(smiles)

    monkeypatch.setattr(openclatura, "name_smiles", fragile)
    named = corpus.name_corpus(MOLECULES, tmp_path / "cache", workers=1)
    assert named.dropped == {corpus.R_SMILES: 1, f"{corpus.R_NAMER} (RuntimeError)": 1} and len(named.names) == 7


def test_two_naming_processes_give_the_same_names(tmp_path, small_chunks):
    one = corpus.name_corpus(MOLECULES, tmp_path / "one", workers=1)
    two = corpus.name_corpus(MOLECULES, tmp_path / "two", workers=2)
    assert two.names == one.names and two.dropped == one.dropped


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "chemgen.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_train_names_a_corpus_into_a_cache_beside_the_model(tmp_path):
    smi = tmp_path / "corpus.smi"
    smi.write_text("\n".join(MOLECULES) + "\n")
    common = ("--steps", 3, "--hidden", 8, "--embed", 4, "--seed", 0, "--naming-processes", 1, "--print", 0)
    proc = run_cli("train", smi, "--out", tmp_path / "m.npz", *common)
    assert proc.returncode == 0, proc.stderr
    assert "named 8 of 9 molecules" in proc.stderr and "RDKit cannot read the SMILES 1" in proc.stderr
    assert (tmp_path / "m.names" / "settings.json").is_file()
    again = run_cli("train", smi, "--out", tmp_path / "m.npz", *common)
    assert again.returncode == 0 and "(9 from the cache)" in again.stderr


@pytest.mark.parametrize("content", [b"", b"\x00\x9f\xff\xfe binary \x00\n\x01\x02\n"])
def test_an_empty_or_binary_corpus_is_one_line_and_exit_2(tmp_path, content):
    smi = tmp_path / "corpus.smi"
    smi.write_bytes(content)
    proc = run_cli("train", smi, "--out", tmp_path / "m.npz", "--naming-processes", 1)
    assert proc.returncode == 2 and proc.stderr.count("chemgen: error:") == 1 and "Traceback" not in proc.stderr
    assert "no usable molecules or names" in proc.stderr


SALTS = ["CC(=O)Oc1ccccc1C(=O)O.[Na+].[Cl-]", "CN1CCC[C@H]1c1cccnc1.Cl", "CC(=O)Nc1ccc(O)cc1.O.O",
         "O=C([O-])c1ccccc1.[Na+]"]
PARENTS = ["2-(acetyloxy)benzoic acid", "3-((2S)-1-methylpyrrolidin-2-yl)pyridine", "N-(4-hydroxyphenyl)acetamide",
           "benzoic acid"]


def test_salts_and_solvates_are_named_as_their_parent(tmp_path, small_chunks):
    from chemgen.chem.molecules import parent_smiles
    from chemgen.chem.series import load_series

    assert [parent_smiles(s) for s in SALTS] == ["CC(=O)Oc1ccccc1C(=O)O", "CN1CCC[C@H]1c1cccnc1",
                                                 "CC(=O)Nc1ccc(O)cc1", "O=C(O)c1ccccc1"]
    assert parent_smiles("O=[N+]([O-])c1ccccc1") == "O=[N+]([O-])c1ccccc1"  # one neutral component: as given
    named = corpus.name_corpus(SALTS + ["CCO"], tmp_path / "cache", workers=1)
    assert named.names == PARENTS + ["ethanol"] and named.stripped == 4
    assert "; 4 salts or charged forms named as their parent (largest fragment, uncharged)" in named.summary()
    smi = tmp_path / "series.smi"
    smi.write_text("".join(f"{s} m{i}\n" for i, s in enumerate(SALTS + ["CCO"])))
    series = load_series(str(smi))
    assert series.names == PARENTS + ["ethanol"] and series.stripped == 4 and series.smiles[0] == "CC(=O)Oc1ccccc1C(=O)O"
    assert series.summary() == ("used 5 of 5 records (0 left out); 4 salts or charged forms named as their parent "
                                "(largest fragment, uncharged)")
