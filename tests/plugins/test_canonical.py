"""The canonical filter: the structure's standard name beside the sampled one; it never rejects."""
from chemgen.filters import Candidate, apply_filters, build_filters


def test_annotates_the_standard_name_and_never_rejects():
    [canonical] = build_filters("canonical")
    cands = [Candidate("acetylsalicylic acid", smiles="CC(=O)Oc1ccccc1C(=O)O"),
             Candidate("2-phenylethan-1-amine", smiles="NCCc1ccccc1"), Candidate("no structure")]
    apply_filters([canonical], cands)
    assert all(c.passed for c in cands)
    assert cands[0].properties["canonical_name"] == "2-(acetyloxy)benzoic acid"
    assert cands[0].properties["canonical_same"] is False and cands[1].properties["canonical_same"] is True
    assert "canonical_name" not in cands[2].properties


def test_the_html_page_shows_it(tmp_path):
    from chemgen.generation.collector import Results
    from chemgen.output import writers

    cand = Candidate("acetylsalicylic acid", smiles="CC(=O)Oc1ccccc1C(=O)O")
    apply_filters(build_filters("canonical"), [cand])
    results = Results([cand])
    results.filter_stats, results.settings = {}, {}
    writers.write(results, tmp_path / "hits.html")
    assert "2-(acetyloxy)benzoic acid" in (tmp_path / "hits.html").read_text()
