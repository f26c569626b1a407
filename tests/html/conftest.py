"""The two HTML pages, made once per session with the tiny model: hits (generate) and report (evaluate)."""
from __future__ import annotations

import pytest

REFERENCE = ["ethanol", "propan-2-ol", "2-methylbutane", "hexanoic acid", "cyclohexanone", "pentanal",
             "but-1-ene", "octan-1-amine", "benzene", "phenol", "toluene", "chlorobenzene"]


@pytest.fixture(scope="session")
def html_pages(tiny_model_path, tmp_path_factory):
    """{"hits": path, "report": path}: chemgen generate --format html and chemgen evaluate --report."""
    from chemgen.cli import main

    folder = tmp_path_factory.mktemp("pages")
    hits, report, ref = folder / "hits.html", folder / "report.html", folder / "reference.txt"
    ref.write_text("\n".join(REFERENCE) + "\n")
    assert main(["generate", "--model", str(tiny_model_path), "-n", "8", "--seed", "0", "--filters", "opsin,rdkit",
                 "--format", "html", "--output", str(hits)]) == 0
    assert main(["evaluate", "--model", str(tiny_model_path), "--samples", "40", "--reference", str(ref),
                 "--report", str(report)]) == 0
    return {"hits": hits, "report": report}
