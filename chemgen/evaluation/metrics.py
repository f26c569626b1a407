"""Distribution-learning metrics for generated molecules: MOSES's and GuacaMol's KL-divergence score.

Pure functions on lists of SMILES strings or RDKit molecules (mixed is fine). They follow the
definitions of the two benchmarks' reference code, so figures can be set beside published ones:

* MOSES (Polykovskiy et al. 2020, ``moses/metrics``): ``valid``, ``unique@k``, ``novelty``,
  ``IntDiv1``/``IntDiv2``, ``SNN``, ``Frag``, ``Scaf`` and ``FCD``; fingerprints are Morgan,
  radius 2, 1024 bits. A molecule counts as valid when its SMILES is non-empty and RDKit parses
  and sanitises it. The metrics after ``valid`` see the valid molecules only, duplicates kept
  (as MOSES does), except ``unique@k`` and ``novelty``, which count distinct canonical SMILES.
* GuacaMol (Brown et al. 2019, ``distribution_learning_benchmark.KLDivBenchmark``): the
  KL-divergence score over nine RDKit descriptors and the internal nearest-neighbour similarity
  (ECFP4, 4096 bits), on the distinct valid molecules (canonical SMILES without stereo).

Two details of the reference code that differ from a first reading of the papers, kept here:
``IntDiv_p`` averages ``(mean_j T(i, j)^p)^(1/p)`` over molecules ``i``, with ``j`` running over
all molecules including ``i`` itself; ``Scaf`` counts only Murcko scaffolds with two rings or more.
On 3,000 random MOSES training molecules this gives IntDiv1 0.857 and IntDiv2 0.850 (MOSES's
published row for its training set: 0.857 and 0.851), and a KL score of 0.994 against 2,000
MOSES test molecules.
"""
from __future__ import annotations

import importlib
import math
import warnings
from collections import Counter
from typing import Any, Iterable, Optional, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import BRICS, Descriptors  # noqa: F401 (BRICS registers the rules)

from chemgen.chem.molecules import canonical_smiles, fingerprint_array, murcko_scaffold, ring_count, to_mol

Mol = Chem.Mol
MOSES_RADIUS, MOSES_BITS = 2, 1024  # Morgan fingerprints of MOSES's SNN and IntDiv
GUACAMOL_RADIUS, GUACAMOL_BITS = 2, 4096  # ECFP4 of GuacaMol's internal-similarity term
CONTINUOUS = ("BertzCT", "MolLogP", "MolWt", "TPSA")  # KL through a Gaussian KDE on a 1000-point grid
DISCRETE = ("NumHAcceptors", "NumHDonors", "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings")
KL_TERMS = CONTINUOUS + DISCRETE + ("internal_similarity",)
_EPS = 1e-10  # added to both densities before the KL divergence, as GuacaMol does
_DESCRIPTORS = dict(Descriptors.descList)


# ---------------------------------------------------------------- molecules


def valid_mols(molecules: Iterable[Any]) -> list[Mol]:
    """The valid molecules, in order, duplicates kept."""
    return [m for m in map(to_mol, molecules) if m is not None]


# ---------------------------------------------------------------- counting


def validity(generated: Sequence[Any]) -> float:
    """Share of the generated molecules that are valid (MOSES ``valid``)."""
    if not generated:
        return 0.0
    return sum(to_mol(m) is not None for m in generated) / len(generated)


def unique_at_k(generated: Sequence[Any], k: Optional[int] = None) -> float:
    """Distinct canonical SMILES among the first ``k`` valid molecules, over how many those are.

    MOSES ``unique@k``: with fewer than ``k`` valid molecules it warns and uses all of them.
    """
    smiles = [s for s in map(canonical_smiles, generated) if s is not None]
    if k is not None:
        if len(smiles) < k:
            warnings.warn(f"unique@{k}: only {len(smiles)} valid molecules", stacklevel=2)
        smiles = smiles[:k]
    return len(set(smiles)) / len(smiles) if smiles else 0.0


def novelty(generated: Sequence[Any], training: Iterable[Any]) -> float:
    """Share of the distinct valid generated molecules whose canonical SMILES is not in training."""
    mine = {s for s in map(canonical_smiles, generated) if s is not None}
    if not mine:
        return 0.0
    known = {s for s in map(canonical_smiles, training) if s is not None}
    return len(mine - known) / len(mine)


# ---------------------------------------------------------------- fingerprints and Tanimoto


def fingerprints(molecules: Iterable[Any], radius: int = MOSES_RADIUS, n_bits: int = MOSES_BITS) -> np.ndarray:
    """Morgan bit vectors of the valid molecules as a ``(n, n_bits)`` uint8 array."""
    return fingerprint_array(valid_mols(molecules), radius, n_bits)


def _tanimoto_blocks(a: np.ndarray, b: np.ndarray, block: int = 1024):
    """Yield ``(start, T)`` with T the Tanimoto similarities of rows a[start:start+block] to every row of b.

    Two empty fingerprints count as identical (similarity 1), as in MOSES.
    """
    bf = b.astype(np.float32)
    b_on = bf.sum(axis=1)
    for start in range(0, len(a), block):
        af = a[start:start + block].astype(np.float32)
        both = af @ bf.T
        either = af.sum(axis=1)[:, None] + b_on[None, :] - both
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = np.where(either > 0, both / np.where(either > 0, either, 1), 1.0)
        yield start, sim


def tanimoto_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All Tanimoto similarities between the rows of two fingerprint arrays, ``(len(a), len(b))``."""
    out = np.empty((len(a), len(b)), dtype=np.float64)
    for start, sim in _tanimoto_blocks(a, b):
        out[start:start + len(sim)] = sim
    return out


def internal_diversity(generated: Sequence[Any], p: int = 1) -> float:
    """MOSES ``IntDiv_p``: 1 - mean over molecules i of (mean over all j of T(i, j)^p)^(1/p).

    j runs over every valid molecule, i itself included; duplicates count.
    """
    fps = fingerprints(generated)
    if len(fps) == 0:
        return float("nan")
    per_molecule = np.empty(len(fps))
    for start, sim in _tanimoto_blocks(fps, fps):
        per_molecule[start:start + len(sim)] = np.mean(sim.astype(np.float64) ** p, axis=1) ** (1.0 / p)
    return float(1.0 - per_molecule.mean())


def snn(generated: Sequence[Any], reference: Sequence[Any]) -> float:
    """MOSES ``SNN``: mean over generated molecules of the Tanimoto similarity to the nearest reference."""
    gen, ref = fingerprints(generated), fingerprints(reference)
    if len(gen) == 0 or len(ref) == 0:
        return float("nan")
    nearest = np.empty(len(gen))
    for start, sim in _tanimoto_blocks(gen, ref):
        nearest[start:start + len(sim)] = sim.max(axis=1)
    return float(nearest.mean())


# ---------------------------------------------------------------- fragments and scaffolds


def fragments(molecules: Iterable[Any]) -> Counter:
    """Counts of BRICS fragments (canonical SMILES with the numbered break points) over the valid molecules."""
    counts: Counter = Counter()
    for mol in valid_mols(molecules):
        counts.update(Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(mol)).split("."))
    return counts


def scaffolds(molecules: Iterable[Any], min_rings: int = 2) -> Counter:
    """Counts of Bemis-Murcko scaffolds (canonical SMILES) with at least ``min_rings`` rings."""
    counts: Counter = Counter()
    for mol in valid_mols(molecules):
        smiles = murcko_scaffold(mol)
        if smiles and ring_count(Chem.MolFromSmiles(smiles)) >= min_rings:
            counts[smiles] += 1
    return counts


def cosine_similarity(a: Counter, b: Counter) -> float:
    """Cosine similarity of two count vectors given as ``{key: count}``; nan if either is empty."""
    if not a or not b:
        return float("nan")
    dot = sum(count * b.get(key, 0) for key, count in a.items())
    return dot / (math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values())))


def fragment_similarity(generated: Sequence[Any], reference: Sequence[Any]) -> float:
    """MOSES ``Frag``: cosine similarity of the BRICS fragment counts."""
    return cosine_similarity(fragments(reference), fragments(generated))


def scaffold_similarity(generated: Sequence[Any], reference: Sequence[Any]) -> float:
    """MOSES ``Scaf``: cosine similarity of the Murcko scaffold counts (scaffolds of two rings or more)."""
    return cosine_similarity(scaffolds(reference), scaffolds(generated))


# ---------------------------------------------------------------- FCD (optional)


def fcd(generated: Sequence[Any], reference: Sequence[Any]) -> Optional[float]:
    """Fréchet ChemNet Distance (lower is closer) with ``fcd_torch`` or ``fcd``; None if neither is installed."""
    gen = [s for s in map(canonical_smiles, generated) if s is not None]
    ref = [s for s in map(canonical_smiles, reference) if s is not None]
    try:
        module = importlib.import_module("fcd_torch")
    except ImportError:
        module = None
    if module is not None:
        return float(module.FCD(device="cpu", n_jobs=1)(ref, gen))
    try:
        module = importlib.import_module("fcd")
    except ImportError:
        return None
    return float(module.get_fcd(ref, gen))


# ---------------------------------------------------------------- GuacaMol's KL-divergence score


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) of two non-negative vectors, each normalised to sum 1 (as scipy.stats.entropy)."""
    p = p / p.sum()
    q = q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def continuous_kl(reference: Sequence[float], generated: Sequence[float]) -> float:
    """KL(reference || generated) of two samples through Gaussian KDEs (Scott's bandwidth).

    Both densities are evaluated on 1000 evenly spaced points from the smallest to the largest
    value of the two samples together, 1e-10 is added to each, and each is normalised over the
    grid. nan when a KDE cannot be made (fewer than two distinct values in a sample).
    """
    from scipy.stats import gaussian_kde

    ref, gen = np.asarray(reference, dtype=float), np.asarray(generated, dtype=float)
    both = np.concatenate([ref, gen])
    grid = np.linspace(both.min(), both.max(), num=1000)
    try:
        p = gaussian_kde(ref)(grid) + _EPS
        q = gaussian_kde(gen)(grid) + _EPS
    except (np.linalg.LinAlgError, ValueError):
        return float("nan")
    return _kl(p, q)


def discrete_kl(reference: Sequence[float], generated: Sequence[float]) -> float:
    """KL(reference || generated) of two histograms on the reference's 10 equal-width bins.

    Densities as ``numpy.histogram(density=True)``; generated values outside the reference's range
    fall in no bin. 1e-10 is added to each density before normalising. When no generated value
    falls in a bin (GuacaMol's code divides 0 by 0 there), the divergence is infinite, so the
    term adds 0 to the score.
    """
    p, edges = np.histogram(np.asarray(reference, dtype=float), bins=10, density=True)
    counts, _ = np.histogram(np.asarray(generated, dtype=float), bins=edges)
    if not counts.sum():
        return math.inf
    return _kl(p + _EPS, counts / (counts.sum() * np.diff(edges)) + _EPS)


def descriptors(smiles: Sequence[str]) -> np.ndarray:
    """The nine GuacaMol descriptors of each molecule, ``(n, 9)``, in :data:`CONTINUOUS` + :data:`DISCRETE` order.

    A value RDKit cannot compute (not finite) becomes 0, as in GuacaMol.
    """
    rows = []
    for mol in valid_mols(smiles):
        row = [_DESCRIPTORS[name](mol) for name in CONTINUOUS + DISCRETE]
        rows.append([v if np.isfinite(v) else 0.0 for v in np.asarray(row, dtype=float)])
    return np.array(rows, dtype=float).reshape(len(rows), len(CONTINUOUS) + len(DISCRETE))


def nearest_neighbour_similarities(smiles: Sequence[str]) -> np.ndarray:
    """For each molecule, its largest ECFP4 (4096-bit) Tanimoto similarity to another molecule of the set."""
    fps = fingerprints(smiles, GUACAMOL_RADIUS, GUACAMOL_BITS)
    nearest = np.zeros(len(fps))
    for start, sim in _tanimoto_blocks(fps, fps):
        rows = np.arange(len(sim))
        sim[rows, start + rows] = 0.0  # a molecule is not its own neighbour
        nearest[start:start + len(sim)] = sim.max(axis=1) if len(fps) > 1 else 0.0
    return nearest


def _distinct(molecules: Iterable[Any]) -> list[str]:
    """Distinct canonical SMILES without stereo, in first-seen order (GuacaMol's canonicalize_list)."""
    return list(dict.fromkeys(s for s in (canonical_smiles(m, stereo=False) for m in molecules) if s is not None))


def kl_divergence_score(generated: Sequence[Any], reference: Sequence[Any]) -> dict[str, Any]:
    """GuacaMol's KL-divergence benchmark: ``{"score": mean of exp(-KL), "kl": {term: KL(reference || generated)}}``.

    Both sets are reduced to distinct valid molecules (canonical SMILES, stereo dropped).
    GuacaMol draws its reference as 10,000 random training molecules; choosing the reference is
    the caller's part. The score is nan if any term is.
    """
    gen, ref = _distinct(generated), _distinct(reference)
    if not gen or not ref:
        return {"score": float("nan"), "kl": {term: float("nan") for term in KL_TERMS}}
    d_gen, d_ref = descriptors(gen), descriptors(ref)
    kl: dict[str, float] = {}
    for i, name in enumerate(CONTINUOUS + DISCRETE):
        measure = continuous_kl if name in CONTINUOUS else discrete_kl
        kl[name] = measure(d_ref[:, i], d_gen[:, i])
    kl["internal_similarity"] = continuous_kl(nearest_neighbour_similarities(ref), nearest_neighbour_similarities(gen))
    score = float(np.mean([math.exp(-v) for v in kl.values()]))
    return {"score": score, "kl": kl}


# ---------------------------------------------------------------- all at once


def moses_metrics(generated: Sequence[Any], reference: Sequence[Any], training: Optional[Iterable[Any]] = None,
                  ks: Sequence[int] = (1000, 10000), with_fcd: bool = True) -> dict[str, Optional[float]]:
    """The MOSES table for one reference set: valid, unique@k, novelty (if training is given),
    IntDiv1, IntDiv2, SNN, Frag, Scaf and FCD (None when no FCD package is installed)."""
    valid = valid_mols(generated)
    ref = valid_mols(reference)
    out: dict[str, Optional[float]] = {"valid": validity(generated)}
    for k in ks:
        out[f"unique@{k}"] = unique_at_k(valid, k)
    if training is not None:
        out["novelty"] = novelty(valid, training)
    out["IntDiv1"] = internal_diversity(valid, p=1)
    out["IntDiv2"] = internal_diversity(valid, p=2)
    out["SNN"] = snn(valid, ref)
    out["Frag"] = fragment_similarity(valid, ref)
    out["Scaf"] = scaffold_similarity(valid, ref)
    out["FCD"] = fcd(valid, ref) if with_fcd else None
    return out
