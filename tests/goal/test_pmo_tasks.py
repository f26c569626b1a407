"""bench/pmo.py: the 20 PMO tasks' objectives (GuacaMol's) pinned on known values, the prior run's figures,
resuming and the table."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

pytest.importorskip("guacamol")

ROOT = Path(__file__).resolve().parents[2]
CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
PHARMACOPHORE = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"  # the hop tasks' lead


@pytest.fixture(scope="module")
def pmo():
    spec = importlib.util.spec_from_file_location("bench_pmo", ROOT / "bench" / "pmo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(pmo, task, smiles):
    return pmo.task_oracle(task)([smiles])[0]


def test_twenty_tasks_each_with_reinvents_figure(pmo):
    assert len(pmo.TASKS) == 20 and set(pmo.REINVENT) == set(pmo.TASKS)
    assert sum(pmo.REINVENT.values()) == pytest.approx(11.59, abs=0.005)
    for task in pmo.TASKS:
        assert 0 <= score(pmo, task, "CCO") <= 1


@pytest.mark.parametrize("task, smiles", [
    ("celecoxib_rediscovery", CELECOXIB),
    ("troglitazone_rediscovery", "Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O"),
    ("thiothixene_rediscovery", "CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1"),
    ("albuterol_similarity", "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"),
    ("mestranol_similarity", "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1"),
    ("isomers_c7h8n2o2", "Cc1ccc(N)cc1[N+](=O)[O-]"),  # 4-methyl-3-nitroaniline is C7H8N2O2
])
def test_targets_score_one(pmo, task, smiles):
    assert score(pmo, task, smiles) == pytest.approx(1.0)


def test_values_computed_by_hand(pmo):
    # isomers: geometric mean of Gaussians on each element count (sigma 1) and the atom total (sigma 2)
    # ethanol C2H6O against C7H8N2O2: exp(-(12.5 + 2 + 2 + 0.5 + 12.5) / 5)
    assert score(pmo, "isomers_c7h8n2o2", "CCO") == pytest.approx(math.exp(-5.9))
    # celecoxib C17H14F3N3O2S against C9H10N2O2PF2Cl: C 32, H 8, N .5, O 0, P .5, F .5, Cl .5, total 21.125
    assert score(pmo, "isomers_c9h10n2o2pf2cl", CELECOXIB) == pytest.approx(math.exp(-63.125 / 8))
    # perindopril itself: similarity 1, no aromatic ring against 2 (sigma 0.5): sqrt(exp(-8))
    assert score(pmo, "perindopril_mpo", "O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC") == pytest.approx(
        math.exp(-4))
    # amlodipine itself: 2 rings against 3 (sigma 0.5): sqrt(exp(-2))
    assert score(pmo, "amlodipine_mpo", r"Clc1ccccc1C2C(=C(/N/C(=C2/C(=O)OCC)COCCN)C)\C(=O)OC") == pytest.approx(
        math.exp(-1))
    # zaleplon itself, C17H15N5O against C19H17N3O2: isomer exp(-(2 + 2 + 2 + .5 + 1.125) / 5), similarity 1
    assert score(pmo, "zaleplon_mpo", "O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1") == pytest.approx(
        math.exp(-7.625 / 10))
    # sitagliptin itself: right formula, logP and TPSA, but similarity 1 through Gaussian(0, 0.1): exp(-50) ** (1/4)
    assert score(pmo, "sitagliptin_mpo", "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F") == pytest.approx(
        math.exp(-12.5))
    # the hops' lead: deco_hop keeps the scaffold but not the decorations (1 + 0 + 0 + 1) / 4,
    # scaffold_hop keeps the decoration but not the scaffold (1 + 1 + 0) / 3
    assert score(pmo, "deco_hop", PHARMACOPHORE) == pytest.approx(0.5)
    assert score(pmo, "scaffold_hop", PHARMACOPHORE) == pytest.approx(2 / 3)
    # ethanol: no pharmacophore similarity, no SMARTS of either kind
    assert score(pmo, "deco_hop", "CCO") == pytest.approx(0.5)
    assert score(pmo, "scaffold_hop", "CCO") == pytest.approx(1 / 3)


def test_qed_and_valsartan_against_rdkit(pmo):
    from rdkit import Chem
    from rdkit.Chem import QED, Descriptors

    assert score(pmo, "qed", CELECOXIB) == pytest.approx(QED.qed(Chem.MolFromSmiles(CELECOXIB)))
    assert score(pmo, "valsartan_smarts", CELECOXIB) == 0.0  # no N-formyl biphenylmethylamine
    valsartan = "CCCCC(=O)N(Cc1ccc(-c2ccccc2-c2nn[nH]n2)cc1)C(C(C)C)C(=O)O"
    mol, target = Chem.MolFromSmiles(valsartan), Chem.MolFromSmiles("NC(CC(=O)N1CCn2c(nnc2C(F)(F)F)C1)Cc1cc(F)c(F)cc1F")
    terms = [((Descriptors.MolLogP(mol) - Descriptors.MolLogP(target)) / 0.2) ** 2,
             ((Descriptors.TPSA(mol) - Descriptors.TPSA(target)) / 5) ** 2,
             ((Descriptors.BertzCT(mol) - Descriptors.BertzCT(target)) / 30) ** 2]
    assert math.log(score(pmo, "valsartan_smarts", valsartan)) == pytest.approx(-sum(terms) / 8, rel=1e-9)


def test_prior_run_scores_in_sampling_order_with_pmo_figures(pmo):
    sample = {"smiles": ["CCO", CELECOXIB, "CCO"], "names": 8, "valid_names": 4, "seconds": 2.0}
    row = pmo.run_prior("celecoxib_rediscovery", sample, budget=2)
    ethanol = score(pmo, "celecoxib_rediscovery", "CCO")
    # two structures, no point before the end: (2 - 0) * (0 + mean) / 2, nothing left to extend, / 2
    assert row["auc_top10"] == pytest.approx((ethanol + 1.0) / 2 / 2)
    assert (row["top1"], row["distinct"], row["validity"]) == (1.0, 2, 0.5)
    assert row["top10"] == pytest.approx((ethanol + 1.0) / 2)
    assert row["seconds"] >= 2.0


def test_resume_skips_rows_already_in_the_results_file(pmo, tmp_path, monkeypatch, capsys):
    out = tmp_path / "pmo.jsonl"
    row = {"task": "qed", "method": "prior", "seed": 0, "budget": 300, "auc_top10": 0.9, "auc_top1": 0.9,
           "auc_top100": 0.8, "top1": 0.94, "top10": 0.93, "top100": 0.9, "distinct": 300, "validity": 0.8,
           "seconds": 60.0}
    out.write_text(json.dumps(row) + "\n" + json.dumps(dict(row, seed=1, auc_top10=0.7)) + "\n")
    monkeypatch.setattr(pmo, "prior_sample", lambda *a: pytest.fail("a finished row was run again"))
    code = pmo.main(["--tasks", "qed", "--seeds", "0,1", "--budget", "300", "--baseline-only", "--out", str(out),
                     "--json", str(tmp_path / "table.json"), "--csv", str(tmp_path / "table.csv")])
    assert code == 0
    table = json.loads((tmp_path / "table.json").read_text())
    record = table["tasks"][0]
    assert (record["task"], record["method"], record["seeds"]) == ("qed", "prior", 2)
    assert record["auc_top10"] == pytest.approx(0.8) and record["auc_top10_sd"] == pytest.approx(math.sqrt(0.02))
    assert table["sums"]["prior"] == {"auc_top10_sum": pytest.approx(0.8), "reinvent_sum": 0.941, "tasks": 1}
    assert "0.800 ± 0.141" in capsys.readouterr().out
    assert (tmp_path / "table.csv").read_text().startswith("task,method,seeds,auc_top10")
    pmo.main(["--tasks", "qed", "--seeds", "0", "--budget", "300", "--out", str(tmp_path / "one.jsonl"),
              "--json", str(tmp_path / "one.json"), "--table-only"])
    (tmp_path / "one.jsonl").write_text(json.dumps(row) + "\n")
    pmo.main(["--tasks", "qed", "--budget", "300", "--out", str(tmp_path / "one.jsonl"), "--json",
              str(tmp_path / "one.json"), "--table-only"])
    assert json.loads((tmp_path / "one.json").read_text())["tasks"][0]["auc_top10_sd"] is None  # one seed, no sd
    assert "0.900 ±" not in capsys.readouterr().out


def test_unknown_task_is_refused(pmo, capsys):
    with pytest.raises(SystemExit) as exc:
        pmo.main(["--tasks", "qed,drd2", "--table-only"])
    assert exc.value.code == 2 and "unknown task 'drd2'" in capsys.readouterr().err


def test_chemgen_run_with_a_budget_on_the_tiny_model(pmo, tiny_model_path, tmp_path):
    args = pmo.parse_args(["--tasks", "qed", "--budget", "30", "--prior", str(tiny_model_path), "--set",
                           "batch_size=16", "--out", str(tmp_path / "pmo.jsonl")])
    row = pmo.run_chemgen("qed", 0, 30, args)
    assert row["distinct"] == row["sent"] == 30 and row["duplicates"] == 0  # the oracle saw 30, each once
    assert row["stop_reason"] == "budget reached: 30 distinct structures scored"
    assert row["auc_top10"] == pytest.approx(row["chemgen_auc_top10"], abs=1e-12)  # chemgen's own figure agrees
    assert 0 < row["validity"] <= 1 and row["names"] == 16 * row["steps"]
