"""chemgen evaluate on a tiny model: every figure present, in range, and the reference as the ceiling."""
import json
import math

import numpy as np
import pytest

from chemgen import Verdict
from chemgen.cli import main
from chemgen.evaluation.evaluate import diversity, evaluate, format_table, structure_figures
from chemgen.filters import Candidate

REFERENCE = ["ethanol", "propan-2-ol", "2-methylbutane", "hexanoic acid", "cyclohexanone", "pentanal",
             "but-1-ene", "octan-1-amine", "ethanol"]


def test_evaluate_tiny_model(tiny_model, tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("ethanol\nmethane\n")
    result = evaluate(tiny_model, samples=60, reference=REFERENCE, temperature=1.0, seed=0, train_file=str(train))
    model, ref = result["model"], result["reference"]
    for figures in (model, ref):
        for key in ("validity", "uniqueness", "novelty_names", "novelty_structures"):
            assert figures[key] is None or math.isnan(figures[key]) or 0.0 <= figures[key] <= 1.0, key
    assert model["n"] == 60 and ref["n"] == len(REFERENCE)
    assert ref["validity"] == 1.0 and ref["uniqueness"] == 8 / 9
    assert ref["novelty_structures"] == 7 / 8  # ethanol is in the training file
    assert model["nll"] > 0 and result["reference_unscorable"] == 0
    table = format_table(result)
    assert "validity" in table and "reference" in table


@pytest.mark.parametrize("suffix, text", [(".smi", "CCO ethanol\nC methane\n"),
                                          (".csv", "id,smiles\n1,OCC\n2,C\n")])
def test_training_structures_from_a_molecules_file(tiny_model, tmp_path, suffix, text):
    train = tmp_path / f"train{suffix}"
    train.write_text(text)
    result = evaluate(tiny_model, samples=20, reference=REFERENCE, seed=0, train_file=str(train))
    assert result["reference"]["novelty_structures"] == 7 / 8  # ethanol's structure, written as SMILES


def test_missing_training_file_is_a_config_error(tiny_model, tmp_path):
    from chemgen.errors import ConfigError

    with pytest.raises(ConfigError, match="not a file"):
        evaluate(tiny_model, samples=5, seed=0, train_file=str(tmp_path / "absent.smi"))


def test_figures_from_hand_made_candidates():
    cands = [Candidate("a", smiles="CCO", inchikey="K1"), Candidate("b", smiles="CCO", inchikey="K1"),
             Candidate("c", smiles="c1ccccc1", inchikey="K2"), Candidate("junk")]
    cands[3].record("opsin", Verdict(False))
    figures = structure_figures(cands, np.array([True, False, False, False]), {"K2"}, np.random.default_rng(0))
    assert figures["validity"] == 0.75 and figures["uniqueness"] == 2 / 3
    assert figures["novelty_names"] == 2 / 3 and figures["novelty_structures"] == 0.5
    assert 0 < figures["diversity"] <= 1
    assert diversity(["CCO", "CCO"], np.random.default_rng(0)) == 0.0


def test_evaluate_command_writes_json(tiny_model_path, tmp_path, capsys):
    ref = tmp_path / "ref.txt"
    ref.write_text("\n".join(REFERENCE) + "\n")
    out = tmp_path / "figures.json"
    code = main(["evaluate", "--model", str(tiny_model_path), "--samples", "30", "--reference", str(ref),
                 "--json", str(out)])
    assert code == 0
    figures = json.loads(out.read_text())
    assert figures["samples"] == 30 and "validity" in figures["model"]
    assert "novelty by structure" in capsys.readouterr().out


def test_benchmark_figures_of_a_set_against_itself():
    from chemgen.evaluation.evaluate import benchmark_figures

    smiles = ["c1ccc2ccccc2c1CCO", "c1ccc2ncccc2c1CN", "CC(=O)Nc1ccc(O)cc1", "c1ccccc1C(=O)O", "CCN(CC)c1ccc2ccccc2c1"]
    cands = []
    for s in smiles:
        c = Candidate(s, smiles=s)
        c.verdicts["rdkit"] = Verdict(True)
        cands.append(c)
    figures = benchmark_figures(cands, cands)
    assert figures["SNN"] == pytest.approx(1.0) and figures["Frag"] == pytest.approx(1.0)
    assert figures["Scaf"] == pytest.approx(1.0) and "unique@1000" not in figures  # fewer than 1,000 samples
    assert 0 < figures["IntDiv1"] < 1 and figures["kl_score"] > 0.9
    assert benchmark_figures(cands[:1], cands) == {}  # too few structures to compare


def test_fcd_score_follows_guacamol_when_fcd_is_available(monkeypatch):
    from chemgen.evaluation import metrics
    from chemgen.evaluation.evaluate import benchmark_figures

    smiles = ["CCO", "CCN", "c1ccccc1O", "CC(=O)O"]
    cands = [Candidate(s, smiles=s) for s in smiles]
    for c in cands:
        c.verdicts["rdkit"] = Verdict(True)
    monkeypatch.setattr(metrics, "fcd", lambda generated, reference: 5.0)
    figures = benchmark_figures(cands, cands)
    assert figures["FCD"] == 5.0 and figures["fcd_score"] == pytest.approx(math.exp(-1.0))
    monkeypatch.setattr(metrics, "fcd", lambda generated, reference: None)
    assert "fcd_score" not in benchmark_figures(cands, cands)
