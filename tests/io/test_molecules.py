"""Reading molecules: SMILES, CSV/TSV tables, SDF and names, bad records reported by number."""
import pytest

from chemgen.errors import ConfigError
from chemgen.chem.records import input_format, read_records


def test_formats_follow_the_extension_unless_given():
    assert [input_format(p) for p in ("a.smi", "a.SMILES", "a.csv", "a.tsv", "a.sdf", "a.txt", "-")] == \
        ["smi", "smi", "csv", "tsv", "sdf", "txt", "txt"]
    assert input_format("a.dat", "smi") == "smi" and input_format("names") == "txt"  # no known extension: names
    with pytest.raises(ConfigError, match="input format must be one of"):
        input_format("a.dat", "mol2")


def test_smiles_lines_with_titles_header_and_comments(tmp_path):
    path = tmp_path / "s.smi"
    path.write_text("SMILES title\n# a comment\nCCO ethanol\n\nc1ccccc1\tbenzene ring\nCC\n")
    records = list(read_records(str(path), "smi"))
    assert [(r.number, r.smiles, r.title) for r in records] == \
        [(3, "CCO", "ethanol"), (5, "c1ccccc1", "benzene ring"), (6, "CC", "")]


def test_tables_need_a_smiles_or_name_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ID,SMILES\nm1,CCO\nm2,\n")
    records = list(read_records(str(path), "csv"))
    assert [(r.number, r.smiles, r.title, r.problem) for r in records] == [(2, "CCO", "m1", ""), (3, "", "m2", "empty SMILES")]
    names = tmp_path / "n.tsv"
    names.write_text("name\tactivity\nethanol\t1\n")
    assert [r.name for r in read_records(str(names), "tsv")] == ["ethanol"]
    bad = tmp_path / "b.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="no 'smiles' or 'name' column"):
        list(read_records(str(bad), "csv"))


def test_sdf_records_and_an_unreadable_one(tmp_path):
    from rdkit import Chem

    path = tmp_path / "m.sdf"
    writer = Chem.SDWriter(str(path))
    for smiles, title in (("CCO", "ethanol"), ("c1ccccc1", "benzene")):
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", title)
        writer.write(mol)
    writer.close()
    broken = path.read_text().replace("  2  1  0", "  9  9  0", 1)  # the first record's counts line lies
    path.write_text(broken)
    records = list(read_records(str(path), "sdf"))
    assert records[0].problem and records[0].number == 1
    assert (records[1].smiles, records[1].title) == ("c1ccccc1", "benzene")


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        list(read_records(str(tmp_path / "none.sdf"), "sdf"))


def test_gzipped_names_smiles_and_tables(tmp_path):
    import gzip

    from chemgen.io.names import read_training_names

    for name, text in (("n.txt.gz", "ethanol\nmethane\n"), ("s.smi.gz", "CCO e\nC m\n"), ("t.csv.gz", "smiles\nCCO\nC\n")):
        with gzip.open(tmp_path / name, "wt") as handle:
            handle.write(text)
    assert read_training_names(str(tmp_path / "n.txt.gz")) == ["ethanol", "methane"]
    assert [r.smiles for r in read_records(str(tmp_path / "s.smi.gz"), input_format(str(tmp_path / "s.smi.gz")))] == ["CCO", "C"]
    assert [r.smiles for r in read_records(str(tmp_path / "t.csv.gz"), input_format(str(tmp_path / "t.csv.gz")))] == ["CCO", "C"]
