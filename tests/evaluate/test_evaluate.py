"""chemgen evaluate on a tiny model: every figure present, in range, and the reference as the ceiling."""
import json
import math

import numpy as np
import pytest

from chemgen import Verdict
from chemgen.cli import main
from chemgen.evaluation.evaluate import diversity, evaluate, evaluate_checked, format_table, structure_figures
from chemgen.filters import Candidate

REFERENCE = ["ethanol", "propan-2-ol", "2-methylbutane", "hexanoic acid", "cyclohexanone", "pentanal",
             "but-1-ene", "octan-1-amine", "ethanol"]


ETHANOL_KEY, METHANE_KEY = "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "VNWKTOKETHGBQD-UHFFFAOYSA-N"


def real(value):
    return isinstance(value, float) and math.isfinite(value)


def nats_per_char(model, names):
    """Held-out NLL by hand: minus the summed log-likelihoods over the characters, each name's end counted."""
    return -float(np.sum(model.score(names))) / sum(len(name) + 1 for name in names)


def mean_pairwise_distance(smiles):
    """1 - the mean Tanimoto similarity of RDKit Morgan fingerprints (radius 2, 2048 bits) over every pair."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    pairs = [DataStructs.TanimotoSimilarity(fps[i], fps[j]) for i in range(len(fps)) for j in range(i + 1, len(fps))]
    return 1 - sum(pairs) / len(pairs)


def test_evaluate_tiny_model(tiny_model, tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("ethanol\nmethane\n")
    result, checked, checked_reference = evaluate_checked(tiny_model, samples=60, reference=REFERENCE,
                                                          temperature=1.0, seed=0, train_file=str(train))
    model, ref = result["model"], result["reference"]
    for figures in (model, ref):
        for key in ("validity", "uniqueness", "novelty_names", "novelty_structures", "diversity"):
            assert real(figures[key]) and 0.0 <= figures[key] <= 1.0, (key, figures[key])
    valid = [c for c in checked if c.passed and c.inchikey]
    keys, names = {c.inchikey for c in valid}, {c.name for c in valid}
    assert 0 < len(valid) < 60 and model["n"] == 60 and model["validity"] == len(valid) / 60
    assert model["uniqueness"] == len(keys) / len(valid)
    assert model["novelty_names"] == sum(not flag for flag in tiny_model.in_training(sorted(names))) / len(names)
    assert model["novelty_structures"] == len(keys - {ETHANOL_KEY, METHANE_KEY}) / len(keys)
    assert model["nll"] == pytest.approx(nats_per_char(tiny_model, REFERENCE), rel=1e-12)
    for key in ("IntDiv1", "IntDiv2", "SNN", "Frag", "kl_score"):
        assert real(model[key]) and 0.0 <= model[key] <= 1.0, (key, model[key])
    assert math.isnan(model["Scaf"])  # no two-ring scaffold on either side: MOSES's Scaf is undefined
    assert ref["n"] == len(REFERENCE) and result["reference_unscorable"] == 0
    assert ref["validity"] == 1.0 and ref["uniqueness"] == 8 / 9
    assert ref["novelty_names"] == 5 / 8  # ethanol, 2-methylbutane and hexanoic acid are training names
    assert ref["novelty_structures"] == 7 / 8  # ethanol is in the training file
    distinct = {c.inchikey: c.smiles for c in reversed(checked_reference)}
    assert ref["diversity"] == pytest.approx(mean_pairwise_distance(list(distinct.values())), rel=1e-6)
    table = format_table(result)
    assert "validity" in table and "reference" in table


def test_held_out_nll_is_nats_per_character_of_the_scorable_names(tiny_model):
    """A name with a character the model lacks ('z') is left out of the NLL and counted."""
    reference = ["ethanol", "benzene", "propan-2-ol", "cyclohexanone"]
    result = evaluate(tiny_model, samples=5, reference=reference, seed=0)
    assert result["reference_unscorable"] == 1
    expected = nats_per_char(tiny_model, ["ethanol", "propan-2-ol", "cyclohexanone"])
    assert result["model"]["nll"] == pytest.approx(expected, rel=1e-12) and 1.0 < expected < 5.0


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


def test_evaluate_json_to_stdout_is_json_alone_with_training_structures(tiny_model, tiny_model_path, tmp_path,
                                                                        capsys):
    """--json - : standard output parses as JSON (the table goes to stderr), undefined figures are null;
    --train: structural novelty against that file's structures."""
    ref, train = tmp_path / "ref.txt", tmp_path / "train.smi"
    ref.write_text("\n".join(REFERENCE) + "\n")
    train.write_text("OCC ethanol\nCC(C)O isopropanol\n")
    code = main(["evaluate", "--model", str(tiny_model_path), "--samples", "20", "--reference", str(ref),
                 "--train", str(train), "--json", "-"])
    out, err = capsys.readouterr()
    assert code == 0, err
    figures = json.loads(out, parse_constant=lambda constant: pytest.fail(f"{constant} is not JSON"))
    assert figures["samples"] == 20 and figures["structures_novel_against"] == f"structures of {train}"
    assert figures["reference"]["novelty_structures"] == 6 / 8  # ethanol and propan-2-ol are in the file
    assert figures["model"]["nll"] == pytest.approx(nats_per_char(tiny_model, REFERENCE), rel=1e-12)
    assert figures["model"]["Scaf"] is None  # no two-ring scaffold on either side
    assert "novelty by structure" in err and "novelty by structure" not in out


def moses_similarities(smiles):
    """Tanimoto similarities of every pair, self included, on MOSES's fingerprints (Morgan, radius 2, 1024 bits)."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    return np.array([DataStructs.BulkTanimotoSimilarity(fp, fps) for fp in fps])


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
    assert figures["kl_score"] == 1.0  # every KL term of a set against itself is 0
    similarity = moses_similarities(smiles)
    assert figures["IntDiv1"] == pytest.approx(1 - np.mean(similarity.mean(axis=1)), rel=1e-6)  # float32 inside
    assert figures["IntDiv2"] == pytest.approx(1 - np.mean(np.sqrt((similarity ** 2).mean(axis=1))), rel=1e-6)
    assert 0.5 < figures["IntDiv2"] < figures["IntDiv1"] < 0.8
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
