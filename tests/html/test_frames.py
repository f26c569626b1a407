"""DataFrames and notebook display of candidates: the CSV columns, molecules, and HTML with structures."""
import io
import sys

import pytest

from chemgen import ChemgenError, to_frame
from chemgen.chem.molecules import compute_properties, mol_from_smiles
from chemgen.filters import Candidate, Verdict
from chemgen.generation.collector import Collector
from chemgen.filters.contract import FilterStats
from chemgen.output import writers

pd = pytest.importorskip("pandas", reason="pandas is the notebook extra")

SMILES = ["CCO", "CC(=O)O", "c1ccccc1O", "CCN", "CCCCCl"]


def candidates(n=5):
    out = []
    for i in range(n):
        smiles = SMILES[i % len(SMILES)]
        cand = Candidate(f"name-{i} <&>", logp=-5.0 - i, logp_per_char=-0.5 - i / 10, in_training=i % 2 == 0)
        cand.record("opsin", Verdict(True, 1.0, "", {"smiles": smiles, "inchikey": f"KEY{i}"}))
        cand.record("rdkit", Verdict(True, 1.0, "", compute_properties(mol_from_smiles(smiles))))
        cand.record("novel", Verdict(True, 1.0, "", {"known_name": "phenol" if i == 2 else None, "cid": i}))
        out.append(cand)
    out.append(Candidate("no structure", logp=-30.0, logp_per_char=-3.0))
    return out


def results(n=5):
    collector = Collector(dedupe=False)
    collector.add_all(candidates(n))
    collector.count(10 * n, {"opsin": FilterStats(10 * n, n + 1), "rdkit": FilterStats(n + 1, n + 1)})
    res = collector.results()
    res.settings = {"model": "tiny.npz", "filters": "opsin,rdkit", "seed": 0}
    return res


def test_frame_has_the_csv_columns_and_values():
    res = results()
    frame = res.to_frame()
    assert list(frame.columns) == writers.field_names(res)
    buffer = io.StringIO()
    writers.write_csv(res, buffer)
    from_csv = pd.read_csv(io.StringIO(buffer.getvalue()))
    assert list(from_csv.columns) == list(frame.columns)
    assert frame["name"].tolist() == from_csv["name"].tolist() == [c.name for c in res]
    assert frame["rank"].tolist() == list(range(1, len(res) + 1))
    assert frame["mw"].iloc[0] == pytest.approx(from_csv["mw"].iloc[0])
    assert frame["reasons"].iloc[0] == []  # a list, as in JSON Lines
    assert frame["known_name"].iloc[2] == "phenol"


def test_frame_of_any_list_and_of_nothing():
    assert to_frame(candidates(2))["name"].tolist() == [c.name for c in candidates(2)]
    empty = to_frame([])
    assert len(empty) == 0 and list(empty.columns)[:3] == ["rank", "name", "logp"]


def test_mol_column_renders_structures():
    frame = results().to_frame(mols=True)
    mols = frame["mol"].tolist()
    assert mols[-1] is None and all(m is not None and m.GetNumAtoms() > 0 for m in mols[:-1])
    assert "<img" in frame._repr_html_() or "<svg" in frame._repr_html_()


def test_missing_pandas_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ChemgenError, match=r"chemgen\[notebook\]"):
        results().to_frame()


def test_results_display_first_rows_with_structures_and_a_count():
    res = results(60)
    html = res._repr_html_()
    assert html.count("<tr>") == 1 + 50  # header and 50 rows
    assert "and 11 more (of 61)" in html
    assert html.count("<svg") == 49 and html.count("structure empty") == 1  # one of the 50 has none
    assert "name-0 &lt;&amp;&gt;" in html and "<&>" not in html
    assert "tried 600, kept 61" in html
    assert "<script" not in html


def test_candidate_display():
    cand = candidates(3)[2]
    html = cand._repr_html_()
    assert "<svg" in html and "phenol" in html and "c1ccccc1O" in html and "QED" in html
    assert "no structure" in Candidate("x")._repr_html_()
