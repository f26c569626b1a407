"""chemgen.output.writers: table, CSV, JSONL, SDF and grid images of ranked candidates."""
import csv
import io
import json
import math
import struct
import xml.etree.ElementTree as ET

import pytest
from rdkit import Chem

from chemgen.output import writers as export
from chemgen.chem.molecules import PROPERTY_NAMES
from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict

LONG_NAME = "2-[4-(2-methylpropyl)phenyl]-n-[2-(3,4,5-trimethoxyphenyl)ethyl]propanamide hydrochloride"


def candidates():
    aspirin = Candidate("2-acetyloxybenzoic acid", logp=-10.5, logp_per_char=-0.4375, in_training=False,
                        smiles="CC(=O)Oc1ccccc1C(=O)O", inchikey="BSYNRYMUTXBXSQ-UHFFFAOYSA-N")
    aspirin.record("rdkit", Verdict(True, 1.0, "", {"mw": 180.159, "qed": 0.55, "hbd": 1, "clogp": math.nan}))
    aspirin.record("novel", Verdict(True, 1.0, "", {"known_name": None, "cid": 2244}))
    bad = Candidate("2-dimethylhexane", logp=-20.25, logp_per_char=-1.2)
    bad.record("suffix", Verdict(False, 0.75, "locants: '2-di' has 1 locant(s) for di (2)"))
    bad.record("extra", Verdict(False, 0.0, "second reason"))
    long = Candidate(LONG_NAME, logp=-80.0, logp_per_char=-0.85,
                     smiles="CC(C)Cc1ccc(cc1)C(C)C(=O)NCCc1cc(OC)c(OC)c(OC)c1")
    unreadable = Candidate("broken", logp=-30.0, logp_per_char=-4.0, smiles="C1CC")
    return [aspirin, bad, long, unreadable]


def test_field_names_order():
    fields = export.field_names(candidates())
    assert fields[:9] == ["rank", "name", "logp", "logp_per_char", "in_training", "passed", "smiles", "inchikey",
                          "reasons"]
    assert fields[9:9 + len(PROPERTY_NAMES)] == list(PROPERTY_NAMES)
    assert fields[9 + len(PROPERTY_NAMES):] == ["cid"]


def test_csv_and_jsonl_share_field_names_and_values():
    cands = candidates()
    csv_text, jsonl_text = io.StringIO(), io.StringIO()
    assert export.write_csv(cands, csv_text) == 4
    assert export.write_jsonl(cands, jsonl_text) == 4
    rows = list(csv.DictReader(io.StringIO(csv_text.getvalue())))
    lines = [json.loads(line) for line in jsonl_text.getvalue().splitlines()]
    assert len(rows) == len(lines) == 4
    for row, line in zip(rows, lines):
        assert list(row) == list(line) == export.field_names(cands)
        assert row["name"] == line["name"] and float(row["logp"]) == line["logp"]
    assert rows[0]["passed"] == "true" and lines[0]["passed"] is True
    assert rows[0]["in_training"] == "false" and rows[1]["in_training"] == ""
    assert rows[0]["clogp"] == "" and lines[0]["clogp"] is None  # NaN
    assert rows[0]["cid"] == "2244" and lines[0]["cid"] == 2244
    assert lines[1]["reasons"] == ["suffix: locants: '2-di' has 1 locant(s) for di (2)", "extra: second reason"]
    assert rows[1]["reasons"] == " | ".join(lines[1]["reasons"])
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"]


def test_jsonl_is_strict_json():
    out = io.StringIO()
    export.write_jsonl(candidates(), out)
    assert "NaN" not in out.getvalue()


def test_table_is_aligned_and_truncated():
    out = io.StringIO()
    export.write_table(candidates(), out)
    lines = out.getvalue().splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:]
    assert header.split() == ["rank", "name", "logp", "logp/char", "passed", "smiles", "reasons"]
    assert set(rule.replace(" ", "")) == {"-"} and len(rows) == 4
    name_col, logp_end = header.index("name"), header.index("logp ") + len("logp")
    for row in rows:
        assert row[name_col - 2: name_col] == "  " and row[name_col] != " "
        assert row[logp_end - 1].isdigit() and row[logp_end] == " "  # numbers right-aligned under "logp"
    assert "-10.50" in rows[0] and "-0.438" in rows[0] and " yes " in rows[0]
    assert LONG_NAME in rows[2]  # off a terminal names are never cut
    assert rows[1].endswith("suffix: locants: '2-di' has 1 locant(s) for di (2) | extra:…")  # 60 chars


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("columns", [80, 400])
def test_table_names_take_the_terminals_width(monkeypatch, columns):
    import os
    import shutil

    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((columns, 24)))
    out = Terminal()
    export.write_table(candidates(), out)
    long_row = out.getvalue().splitlines()[4]
    if columns == 80:  # a narrow terminal: names keep MIN_NAME_WIDTH
        assert LONG_NAME not in long_row and LONG_NAME[:export.MIN_NAME_WIDTH - 1] + "…" in long_row
    else:
        assert LONG_NAME in long_row and max(len(line) for line in out.getvalue().splitlines()) <= columns


def test_sdf_round_trips_through_rdkit(tmp_path):
    path = tmp_path / "out.sdf"
    assert export.write_sdf(candidates(), path) == 2  # no structure / unreadable ones skipped
    mols = [m for m in Chem.SDMolSupplier(str(path))]
    assert [m.GetProp("_Name") for m in mols] == ["2-acetyloxybenzoic acid", LONG_NAME]
    first = mols[0].GetPropsAsDict()
    assert first["logp"] == pytest.approx(-10.5) and first["logp_per_char"] == pytest.approx(-0.4375)
    assert first["mw"] == pytest.approx(180.159) and first["rank"] == 1 and first["cid"] == 2244
    assert "clogp" not in first  # NaN left out
    assert mols[1].GetProp("rank") == "3"
    assert mols[0].GetConformer().Is3D() is False and mols[0].GetNumAtoms() == 13


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_grid_has_the_expected_size(tmp_path):
    path = tmp_path / "grid.png"
    assert export.write_grid_image(candidates(), path, n=24, per_row=4, cell_size=(200, 180)) == 2
    assert _png_size(path.read_bytes()) == (2 * 200, 180)  # two drawable structures, one row
    many = [Candidate(f"alkane {i}", smiles="C" * (i + 1)) for i in range(7)]
    assert export.write_grid_image(many, path, n=5, per_row=2, cell_size=(100, 100)) == 5
    assert _png_size(path.read_bytes()) == (200, 300)


def test_svg_grid_is_xml(tmp_path):
    path = tmp_path / "grid.svg"
    cands = candidates() + [Candidate("α-ethanol", smiles="CCO")]
    assert export.write_grid_image(cands, path) == 3
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


def test_grid_image_edge_cases(tmp_path):
    assert export.write_grid_image([Candidate("nothing")], tmp_path / "empty.png") == 0
    assert not (tmp_path / "empty.png").exists()
    with pytest.raises(ConfigError, match="must end in .png or .svg"):
        export.write_grid_image(candidates(), tmp_path / "grid.jpg")


def test_wrap_legend():
    assert export.wrap_legend("ethanol", 300) == "ethanol"
    wrapped = export.wrap_legend(LONG_NAME * 3, 210, max_lines=3)
    lines = wrapped.split("\n")
    assert len(lines) == 3 and lines[-1].endswith("...") and all(len(x) <= 30 for x in lines)


def test_paths_are_written_atomically(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with export.atomic_open(path) as handle:
            handle.write("partial")
            raise RuntimeError("boom")
    assert path.read_text() == "old\n"
    assert export.write_csv(candidates(), path) == 4
    assert path.read_text().startswith("rank,name,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temp files left
    with pytest.raises(ConfigError, match="no such directory"):
        export.write_jsonl(candidates(), tmp_path / "missing" / "out.jsonl")


def test_format_dispatch(tmp_path):
    assert set(export.FORMATS) == {"table", "csv", "jsonl", "names", "sdf", "png", "svg", "html"}
    with export.atomic_text(tmp_path / "names.txt") as handle:
        assert export.FORMATS["names"](candidates(), handle) == 4
    assert (tmp_path / "names.txt").read_text().splitlines()[1] == "2-dimethylhexane"
    assert export.format_for_path("x.JSONL") == "jsonl" and export.format_for_path("a/b.sdf") == "sdf"
    with pytest.raises(ConfigError, match="cannot tell the output format"):
        export.format_for_path("x.xlsx")
    assert export.write(candidates(), tmp_path / "out.jsonl") == 4
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 4
    assert export.write(candidates(), tmp_path / "out.sdf") == 2
    out = io.StringIO()
    assert export.write(candidates(), out) == 4 and out.getvalue().startswith("rank")
    with pytest.raises(ConfigError, match="needs a file path"):
        export.write(candidates(), io.StringIO(), "sdf")
    with pytest.raises(ConfigError, match="unknown output format"):
        export.write(candidates(), io.StringIO(), "xml")
