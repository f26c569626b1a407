"""chemgen optimize with real OPSIN and RDKit scoring on the tiny model (whose names are mostly real IUPAC names):
each logged score is the value RDKit gives the logged structure, and the diversity filter and replay change a run."""
import json

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import QED, rdFingerprintGenerator

from chemgen.cli import main
from chemgen.goal import optimize
from chemgen.goal.scoring import sigmoid

FAST = dict(batch_size=16, sigma=20.0, learning_rate=3e-3, random_state=0)
LEAD = "CCCCO"  # butan-1-ol


def rows(path):
    return [json.loads(line) for line in open(path)]


def tanimoto(smiles):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in (smiles, LEAD)]
    return DataStructs.TanimotoSimilarity(*fps)


def test_similarity_scores_are_rdkits_tanimoto_to_the_lead(tiny_model_path, tmp_path):
    log = tmp_path / "run.jsonl"
    optimize(f"opsin,rdkit,similar(to={LEAD})", prior=str(tiny_model_path), steps=2, log=log, **FAST)
    scored = [r for r in rows(log) if r["smiles"]]
    assert len(scored) >= 8  # the tiny model writes real names
    for r in scored:
        assert r["components"]["similar"] == pytest.approx(tanimoto(r["smiles"]), abs=1e-6)
        assert r["score"] == pytest.approx(r["components"]["similar"], abs=1e-6)  # the gates pass at 1
    assert all(r["score"] == 0.0 for r in rows(log) if not r["smiles"])


def test_a_property_value_and_a_transform_are_scored_from_the_structure(tiny_model_path, tmp_path):
    log = tmp_path / "qed.jsonl"
    optimize("opsin,rdkit[value=qed],rdkit[value=mw,transform=sigmoid,low=50,high=150]",
             prior=str(tiny_model_path), steps=2, log=log, **FAST)
    scored = [r for r in rows(log) if r["smiles"]]
    assert scored
    for r in scored:
        mol = Chem.MolFromSmiles(r["smiles"])
        assert r["components"]["rdkit.qed"] == pytest.approx(QED.qed(mol), abs=1e-3)
        mw = Chem.Descriptors.MolWt(mol)
        assert r["components"]["rdkit.mw"] == pytest.approx(sigmoid(mw, 50, 150), abs=1e-3)
        geometric = (r["components"]["rdkit.qed"] * r["components"]["rdkit.mw"]) ** 0.5
        assert r["score"] == pytest.approx(geometric, abs=1e-3)


def test_the_diversity_filter_zeroes_hits_on_a_full_scaffold_bucket(tiny_model_path, tmp_path):
    log = tmp_path / "div.jsonl"
    optimize(f"opsin,rdkit,similar(to={LEAD})", prior=str(tiny_model_path), steps=3, log=log, bucket_size=1,
             min_score=0.0, **FAST)
    hits = [r for r in rows(log) if r["smiles"] and r["score"] > 0]
    by_scaffold = {}
    for r in hits:
        by_scaffold.setdefault(r["scaffold"], []).append(r)
    crowded = [rs for rs in by_scaffold.values() if len(rs) > 1]
    assert crowded  # acyclic names share the scaffold ""
    for same in crowded:
        assert same[0]["reward"] == pytest.approx(same[0]["score"]) and all(r["reward"] == 0.0 for r in same[1:])
    nodf = tmp_path / "nodf.jsonl"
    optimize(f"opsin,rdkit,similar(to={LEAD})", prior=str(tiny_model_path), steps=3, log=nodf,
             diversity_filter=False, **FAST)
    assert all(r["reward"] == r["score"] for r in rows(nodf))


def test_replay_changes_the_run(tiny_model_path):
    runs = [optimize(f"opsin,rdkit,similar(to={LEAD})", prior=str(tiny_model_path), steps=3, replay=replay, **FAST)
            for replay in (True, False)]
    assert any(not np.array_equal(runs[0].agent.params_[k], runs[1].agent.params_[k]) for k in runs[0].agent.params_)


def test_cli_log_aggregation_and_no_diversity_filter(tiny_model_path, tmp_path, capsys):
    log = tmp_path / "cli.jsonl"
    argv = ["optimize", "--prior", str(tiny_model_path), "--score", "opsin,rdkit[value=qed],rdkit[value=tpsa,"
            "transform=sigmoid,low=0,high=60]", "--aggregation", "arithmetic", "--no-diversity-filter", "--steps", "2",
            "--batch-size", "16", "--seed", "0", "--out", str(tmp_path / "a.npz"), "--log", str(log)]
    assert main(argv) == 0
    scored = [r for r in rows(log) if r["smiles"]]
    for r in scored:
        mean = (r["components"]["rdkit.qed"] + r["components"]["rdkit.tpsa"]) / 2
        assert r["score"] == pytest.approx(mean, abs=1e-6) and r["reward"] == r["score"]


def test_the_result_becomes_a_dataframe_of_the_best_structures(tiny_model_path):
    pytest.importorskip("pandas", reason="pandas is the notebook extra")
    result = optimize(f"opsin,rdkit,similar(to={LEAD})", prior=str(tiny_model_path), steps=2, **FAST)
    frame = result.to_frame()
    assert list(frame["smiles"]) == [r["smiles"] for r in result.best]
    assert frame["score"].is_monotonic_decreasing and "similar" in frame.columns
