"""chemgen.evaluation.metrics against values worked out by hand on sets of two to five molecules.

Fingerprint facts the expected values rest on (Morgan radius 2, checked in the first test):
methane ``C`` and water ``O`` set one bit each, different bits, so T(C, O) = 0; ethane ``CC``
sets 2 bits and propane ``CCC`` 4, sharing one (the CH3 atom environment), so T(CC, CCC) = 1/5;
methane shares no bit with ethane.
"""
import math
import sys
import types
import warnings

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from chemgen.evaluation import metrics as M


def _rdkit_tanimoto(a: str, b: str, bits: int = 1024) -> float:
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=bits)
    fp_a, fp_b = (gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in (a, b))
    return DataStructs.TanimotoSimilarity(fp_a, fp_b)


def test_fingerprint_facts_behind_the_hand_values():
    fps = M.fingerprints(["C", "O", "CC", "CCC"])
    assert fps.shape == (4, 1024) and fps.dtype == np.uint8
    assert fps.sum(axis=1).tolist() == [1, 1, 2, 4]
    t = M.tanimoto_matrix(fps, fps)
    assert t[0, 1] == 0 and t[0, 2] == 0 and t[2, 3] == pytest.approx(0.2)
    assert np.allclose(np.diag(t), 1)
    for i, a in enumerate(["C", "O", "CC", "CCC"]):  # the matrix agrees with RDKit's own Tanimoto
        for j, b in enumerate(["C", "O", "CC", "CCC"]):
            assert t[i, j] == pytest.approx(_rdkit_tanimoto(a, b))


def test_two_empty_fingerprints_count_as_identical():
    empty = np.zeros((2, 8), dtype=np.uint8)
    assert M.tanimoto_matrix(empty, empty).tolist() == [[1, 1], [1, 1]]


def test_validity_counts_parseable_non_empty_smiles():
    assert M.validity(["CCO", "C1CC", "xyz", "", "c1ccccc1"]) == pytest.approx(2 / 5)
    assert M.validity([Chem.MolFromSmiles("CC"), None, "CC"]) == pytest.approx(2 / 3)
    assert M.validity([]) == 0.0


def test_unique_at_k_counts_canonical_structures_among_the_first_k_valid():
    gen = ["CCO", "OCC", "bad(", "CCN", "C(C)O"]
    assert M.unique_at_k(gen, 2) == pytest.approx(1 / 2)  # CCO and OCC are one molecule
    assert M.unique_at_k(gen, 3) == pytest.approx(2 / 3)  # the invalid one is skipped, not counted
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert M.unique_at_k(gen, 10) == pytest.approx(2 / 4)  # fewer than k: all 4 valid, with a warning
    assert caught


def test_novelty_is_the_share_of_distinct_valid_molecules_not_in_training():
    gen = ["CCO", "OCC", "CCN", "CCC", "bad("]
    assert M.novelty(gen, ["C(O)C"]) == pytest.approx(2 / 3)  # {CCO, CCN, CCC}, CCO known
    assert M.novelty(gen, []) == 1.0 and M.novelty(["bad("], ["C"]) == 0.0


def test_internal_diversity_averages_row_power_means_over_all_pairs_with_self():
    # T for [C, C, O]: rows [1,1,0], [1,1,0], [0,0,1]
    assert M.internal_diversity(["C", "C", "O"], p=1) == pytest.approx(1 - 5 / 9)
    row_means = [math.sqrt(2 / 3), math.sqrt(2 / 3), math.sqrt(1 / 3)]
    assert M.internal_diversity(["C", "C", "O"], p=2) == pytest.approx(1 - sum(row_means) / 3)
    assert M.internal_diversity(["C", "C", "O"], p=2) != pytest.approx(1 - math.sqrt(5 / 9))  # not the global form
    # T for [CC, CCC]: [[1, .2], [.2, 1]]
    assert M.internal_diversity(["CC", "CCC"], p=1) == pytest.approx(1 - 2.4 / 4)
    assert M.internal_diversity(["CC", "CCC"], p=2) == pytest.approx(1 - math.sqrt(1.04 / 2))
    assert M.internal_diversity(["CC", "CC"]) == pytest.approx(0.0)


def test_snn_is_the_mean_nearest_reference_similarity():
    assert M.snn(["C", "CC"], ["C", "CCC"]) == pytest.approx((1 + 0.2) / 2)
    assert M.snn(["CC", "bad("], ["C", "O"]) == pytest.approx(0.0)  # invalid generated molecules are left out


def test_fragments_are_brics_pieces_counted_over_molecules():
    counts = M.fragments(["CC(=O)Nc1ccccc1", "c1ccccc1", "c1ccccc1"])
    assert counts == {"[1*]C(C)=O": 1, "[16*]c1ccccc1": 1, "[5*]N[5*]": 1, "c1ccccc1": 2}


def test_frag_is_the_cosine_of_fragment_counts():
    # no BRICS bond in benzene or ethanol: each molecule is one fragment. gen (2, 1), reference (1, 2)
    gen, ref = ["c1ccccc1", "c1ccccc1", "CCO"], ["c1ccccc1", "OCC", "CCO"]
    assert M.fragment_similarity(gen, ref) == pytest.approx(4 / 5)
    assert M.fragment_similarity(gen, gen) == pytest.approx(1.0)
    assert math.isnan(M.fragment_similarity(["bad("], ref))


def test_scaf_is_the_cosine_of_scaffold_counts_with_two_rings_or_more():
    naph, methylnaph, benzene, biphenyl, hydroxybiphenyl = (
        "c1ccc2ccccc2c1", "Cc1ccc2ccccc2c1", "c1ccccc1", "c1ccc(-c2ccccc2)cc1", "Oc1ccc(-c2ccccc2)cc1")
    assert M.scaffolds([naph, methylnaph, benzene, biphenyl]) == {"c1ccc2ccccc2c1": 2, "c1ccc(-c2ccccc2)cc1": 1}
    # gen (naphthalene 2, biphenyl 1), reference (1, 2); benzene's one-ring scaffold does not count
    gen, ref = [naph, methylnaph, benzene, biphenyl], [biphenyl, hydroxybiphenyl, naph]
    assert M.scaffold_similarity(gen, ref) == pytest.approx(4 / 5)


def test_fcd_is_none_without_a_fcd_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcd_torch", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "fcd", None)
    assert M.fcd(["CCO"], ["CCN"]) is None


def test_fcd_prefers_fcd_torch_and_passes_canonical_valid_smiles(monkeypatch):
    seen = {}

    class FakeFCD:
        def __init__(self, device, n_jobs):
            seen["device"] = device

        def __call__(self, ref, gen):
            seen["ref"], seen["gen"] = ref, gen
            return 1.5

    monkeypatch.setitem(sys.modules, "fcd_torch", types.SimpleNamespace(FCD=FakeFCD))
    assert M.fcd(["OCC", "bad("], ["C(N)C"]) == 1.5
    assert seen == {"device": "cpu", "ref": ["CCN"], "gen": ["CCO"]}
    monkeypatch.setitem(sys.modules, "fcd_torch", None)
    monkeypatch.setitem(sys.modules, "fcd", types.SimpleNamespace(get_fcd=lambda ref, gen: 2.5))
    assert M.fcd(["CCO"], ["CCN"]) == 2.5


def test_discrete_kl_uses_the_reference_bins():
    # reference [0,0,1,1]: 10 bins over [0, 1], half the mass in the first and half in the last;
    # generated [0,1,1,1]: a quarter and three quarters. KL = .5 ln(.5/.25) + .5 ln(.5/.75)
    assert M.discrete_kl([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(0.5 * math.log(4 / 3), rel=1e-6)
    off_the_bins = [0, 1, 1, 1, 7]  # 7 falls in no reference bin and is left out
    assert M.discrete_kl([0, 0, 1, 1], off_the_bins) == pytest.approx(0.5 * math.log(4 / 3), rel=1e-6)
    assert M.discrete_kl([0, 1, 2], [0, 1, 2]) == pytest.approx(0.0, abs=1e-12)
    assert M.discrete_kl([0, 0, 1, 1], [5, 6]) == math.inf  # nothing on the reference's bins


def _hand_kde(sample, x):
    """Gaussian KDE with Scott's bandwidth, written out: h = std(ddof=1) * n^(-1/5)."""
    sample = np.asarray(sample, dtype=float)
    h = sample.std(ddof=1) * len(sample) ** (-1 / 5)
    z = (x[:, None] - sample[None, :]) / h
    return np.exp(-z * z / 2).sum(axis=1) / (len(sample) * h * math.sqrt(2 * math.pi))


def test_continuous_kl_is_kl_reference_to_generated_of_kdes_on_a_shared_grid():
    ref, gen = [1.0, 2.0, 2.5, 4.0], [2.0, 3.0, 5.0, 5.5, 6.0]
    grid = np.linspace(1.0, 6.0, 1000)  # from the smallest to the largest value of both samples
    p, q = _hand_kde(ref, grid) + 1e-10, _hand_kde(gen, grid) + 1e-10
    p, q = p / p.sum(), q / q.sum()
    expected = float(np.sum(p * np.log(p / q)))
    assert M.continuous_kl(ref, gen) == pytest.approx(expected, rel=1e-9)
    assert M.continuous_kl(gen, ref) != pytest.approx(expected, rel=1e-3)  # the direction matters
    assert M.continuous_kl(ref, ref) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(M.continuous_kl(ref, [3.0, 3.0]))  # no KDE of a single value


def test_kl_helper_matches_scipy_entropy():
    entropy = pytest.importorskip("scipy.stats").entropy
    p, q = np.array([0.2, 0.5, 0.3]), np.array([1.0, 1.0, 2.0])
    assert M._kl(p, q) == pytest.approx(entropy(p, q))


REF5 = ["CCO", "c1ccccc1C", "CC(=O)Nc1ccccc1", "O=C(NC1CCCCC1)c1ccc(Cl)cc1", "CCN(CC)CCOC(=O)c1ccc(N)cc1"]


def test_descriptors_are_the_nine_guacamol_ones():
    d = M.descriptors(["CC(=O)Nc1ccccc1"])
    assert d.shape == (1, 9)
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccccc1")
    from rdkit.Chem import Descriptors

    expected = [Descriptors.BertzCT(mol), Descriptors.MolLogP(mol), Descriptors.MolWt(mol), Descriptors.TPSA(mol),
                1, 1, 1, 0, 1]  # acceptors (the O), donors (the NH), rotatable (the N-aryl bond), rings
    assert d[0].tolist() == pytest.approx(expected)


def test_nearest_neighbour_similarity_skips_the_molecule_itself():
    assert M.nearest_neighbour_similarities(["CC", "CCC", "C"]).tolist() == pytest.approx([0.2, 0.2, 0.0])
    assert M.nearest_neighbour_similarities(["CC", "CC"]).tolist() == [1.0, 1.0]


def test_kl_score_is_one_for_the_reference_itself_after_deduplication():
    result = M.kl_divergence_score(REF5 + ["OCC", "bad("], REF5)  # a duplicate and an invalid one: dropped
    assert set(result["kl"]) == set(M.KL_TERMS) and len(M.KL_TERMS) == 10
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in result["kl"].values())
    assert result["score"] == pytest.approx(1.0)


def test_kl_score_is_the_mean_of_exp_minus_kl():
    gen = ["CCCO", "c1ccccc1CC", "CC(=O)Nc1ccc(O)cc1", "O=C(NC1CCCC1)c1ccccc1", "CCOC(=O)c1ccccc1"]
    result = M.kl_divergence_score(gen, REF5)
    assert result["score"] == pytest.approx(sum(math.exp(-v) for v in result["kl"].values()) / 10)
    assert 0 < result["score"] < 1
    d_ref, d_gen = M.descriptors(REF5), M.descriptors(gen)
    assert result["kl"]["MolWt"] == pytest.approx(M.continuous_kl(d_ref[:, 2], d_gen[:, 2]))
    assert result["kl"]["NumHDonors"] == pytest.approx(M.discrete_kl(d_ref[:, 5], d_gen[:, 5]))


def test_moses_metrics_table():
    gen = ["C", "CC", "bad(", "C"]
    table = M.moses_metrics(gen, ["C", "CCC"], training=["CC"], ks=(2,))
    assert table["valid"] == pytest.approx(3 / 4)
    assert table["unique@2"] == pytest.approx(1.0)  # first two valid: C, CC
    assert table["novelty"] == pytest.approx(1 / 2)  # {C, CC}, CC in training
    assert table["SNN"] == pytest.approx((1 + 0.2 + 1) / 3)  # duplicates count, as in MOSES
    assert table["IntDiv1"] == pytest.approx(1 - 5 / 9)  # T rows for [C, CC, C]: [1,0,1], [0,1,0], [1,0,1]
    assert set(table) == {"valid", "unique@2", "novelty", "IntDiv1", "IntDiv2", "SNN", "Frag", "Scaf", "FCD"}
