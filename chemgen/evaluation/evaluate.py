"""Measuring a model: held-out NLL, validity, uniqueness, novelty and diversity of its samples.

Validity is the share of raw samples that OPSIN parses and RDKit sanitises
(the ``opsin`` and ``rdkit`` filters). Uniqueness is distinct structures
(InChIKey) among valid samples. Novelty is measured on the distinct valid
samples: by name against the model's training fingerprint, and by structure
against the InChIKeys of a training file (``--train``) or, failing that, of
the shipped known-compounds index (a superset of every shipped corpus, so a
lower bound). Diversity is the mean pairwise Tanimoto distance of Morgan
fingerprints over (up to) 2,000 distinct valid structures. The reference
names get the same figures, as the ceiling.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from chemgen.errors import ConfigError
from chemgen.filters import Candidate, FilterStage
from chemgen.io.progress import progress_bar

# Validity as the benchmarks define it (MOSES, GuacaMol): a structure RDKit sanitises, salts and
# radicals included; the rdkit filter's stricter chemistry checks are for generation, not this figure.
VALIDITY_FILTERS = ["opsin", "rdkit(allow_radicals,allow_metals,allow_mixtures,allow_missing_aromatics)"]
DIVERSITY_SAMPLE = 2000
CHUNK = 1000


def check_in_chunks(stage: FilterStage, names: Sequence[str], desc: str) -> list[Candidate]:
    """The stage's verdicts for names, chunk by chunk under a progress bar."""
    out: list[Candidate] = []
    with progress_bar(total=len(names), desc=desc, unit="name") as bar:
        for start in range(0, len(names), CHUNK):
            out.extend(stage.run([Candidate(name) for name in names[start : start + CHUNK]]))
            bar.update(min(CHUNK, len(names) - start))
    return out


def diversity(smiles: Sequence[str], rng: np.random.Generator) -> float:
    """Mean pairwise Tanimoto distance of Morgan fingerprints (radius 2, 2048 bits)."""
    from chemgen.chem.molecules import mol_from_smiles, morgan_fingerprint

    if len(smiles) > DIVERSITY_SAMPLE:
        smiles = [smiles[i] for i in rng.choice(len(smiles), DIVERSITY_SAMPLE, replace=False)]
    fps = [morgan_fingerprint(mol_from_smiles(s)) for s in smiles]
    bits = np.array([np.frombuffer(fp.ToBitString().encode(), np.uint8) - 48 for fp in fps if fp is not None],
                    dtype=np.float32)  # (M, 2048)
    if len(bits) < 2:
        return math.nan
    common = bits @ bits.T  # (M, M) shared on-bits
    counts = bits.sum(axis=1)  # (M,)
    union = counts[:, None] + counts[None, :] - common  # (M, M)
    similarity = np.divide(common, union, out=np.ones_like(common), where=union > 0)
    upper = np.triu_indices(len(bits), k=1)
    return float(1.0 - similarity[upper].mean())


def structure_figures(cands: list[Candidate], in_training: np.ndarray, train_keys: set[str],
                      rng: np.random.Generator) -> dict[str, Any]:
    """Validity, uniqueness, novelty (names, structures) and diversity of checked candidates."""
    valid = [c for c in cands if c.passed and c.inchikey]
    by_key: dict[str, Candidate] = {}
    for c in valid:
        by_key.setdefault(c.inchikey, c)
    distinct_valid_names = {c.name for c in valid}
    seen = {c.name for c, flag in zip(cands, in_training) if flag}
    share = lambda part, whole: part / whole if whole else math.nan  # noqa: E731
    return {
        "n": len(cands),
        "validity": share(len(valid), len(cands)),
        "uniqueness": share(len(by_key), len(valid)),
        "novelty_names": share(len(distinct_valid_names - seen), len(distinct_valid_names)),
        "novelty_structures": share(sum(k not in train_keys for k in by_key), len(by_key)),
        "diversity": diversity([c.smiles for c in by_key.values() if c.smiles], rng),
    }


def training_structures(stage: FilterStage, train_file: Optional[str]) -> tuple[set[str], str]:
    """InChIKeys to measure structural novelty against, and a label saying where they came from.

    A molecules file (``.smi``, ``.csv``/``.tsv`` with a smiles column, ``.sdf``) gives its
    structures' InChIKeys directly. Training names are looked up in the known-compounds index
    first (the shipped corpora come from the same table); only names it lacks go through OPSIN.
    The keys of a file are kept for the rest of the process (a grid of evaluations reads it once).
    """
    from chemgen.chem.known import KnownIndex

    if not train_file:
        return KnownIndex.load().inchikeys(), "the known-compounds index"
    if not Path(train_file).is_file():
        raise ConfigError(f"--train: {train_file!r} is not a file")
    stamp = (str(Path(train_file).resolve()), Path(train_file).stat().st_mtime_ns)
    if stamp not in _TRAINING_KEYS:
        _TRAINING_KEYS[stamp] = _keys_of_file(stage, train_file)
    return _TRAINING_KEYS[stamp], f"structures of {train_file}"


_TRAINING_KEYS: dict[tuple[str, int], set[str]] = {}


def _keys_of_file(stage: FilterStage, train_file: str) -> set[str]:
    """The InChIKeys of a training file's structures (SMILES by RDKit, names by the index, then OPSIN)."""
    from chemgen.chem.known import KnownIndex
    from chemgen.chem.molecules import inchikey_of, mol_from_smiles
    from chemgen.chem.records import input_format, read_records

    keys, unknown, index = set(), [], None
    for record in read_records(train_file, input_format(train_file)):
        if record.smiles:
            keys.add(inchikey_of(mol_from_smiles(record.smiles)))
            continue
        if not record.name:
            continue
        if index is None:  # only names need the index
            index = KnownIndex.load()
        known = index.by_name(record.name)
        if known is not None and known.inchikey:
            keys.add(known.inchikey)
        else:
            unknown.append(record.name)
    keys |= {c.inchikey for c in check_in_chunks(stage, unknown, "training structures") if c.inchikey}
    keys.discard(None)
    return keys


def held_out_nll(model, names: Sequence[str]) -> tuple[float, int]:
    """Mean nats per character (end token included) over scorable names, and how many were skipped."""
    from chemgen.model.score import score_names

    total, chars, skipped = 0.0, 0, 0
    for record in score_names(model.learned_, names):
        if record.logp is None:
            skipped += 1
            continue
        total -= record.logp
        chars += record.n_chars + 1
    return (total / chars if chars else math.nan), skipped


def evaluate(model, samples: int = 10000, reference: Optional[Sequence[str]] = None, temperature: float = 1.0,
             seed: int = 0, train_file: Optional[str] = None, grammar: bool = True) -> dict[str, Any]:
    """All figures for the model (and the reference names) as a JSON-ready dict."""
    return evaluate_checked(model, samples, reference, temperature, seed, train_file, grammar)[0]


def evaluate_checked(model, samples: int = 10000, reference: Optional[Sequence[str]] = None,
                     temperature: float = 1.0, seed: int = 0, train_file: Optional[str] = None, grammar: bool = True,
                     ) -> tuple[dict[str, Any], list[Candidate], list[Candidate]]:
    """:func:`evaluate`'s figures, plus the checked samples and reference names (for the HTML report)."""
    rng = np.random.default_rng(seed)
    names = [s.name for s in model.sample(samples, temperature=temperature, random_state=seed, grammar=grammar)]
    checked_reference: list[Candidate] = []
    with FilterStage(VALIDITY_FILTERS) as stage:  # one OPSIN process for the whole evaluation
        train_keys, against = training_structures(stage, train_file)
        result: dict[str, Any] = {"samples": samples, "temperature": temperature, "seed": seed, "grammar": grammar,
                                  "structures_novel_against": against}
        checked = check_in_chunks(stage, names, "checking samples")
        flags = model.in_training(names)
        for cand, flag in zip(checked, flags):
            cand.in_training = bool(flag)
        result["model"] = structure_figures(checked, flags, train_keys, rng)
        if reference:
            reference = list(reference)
            nll, skipped = held_out_nll(model, reference)
            result["model"]["nll"], result["reference_unscorable"] = nll, skipped
            checked_reference = check_in_chunks(stage, reference, "checking reference")
            result["reference"] = structure_figures(checked_reference, model.in_training(reference), train_keys, rng)
            result["model"].update(benchmark_figures(checked, checked_reference))
    return result, checked, checked_reference


def benchmark_figures(sampled: list[Candidate], reference: list[Candidate]) -> dict[str, Any]:
    """MOSES's metrics and GuacaMol's KL-divergence score of the valid samples' structures against the reference's."""
    from chemgen.evaluation import metrics

    generated = [c.smiles for c in sampled if c.passed and c.smiles]
    known = [c.smiles for c in reference if c.passed and c.smiles]
    if len(generated) < 2 or len(known) < 2:
        return {}
    ks = [k for k in (1000, 10000) if k <= len(generated)]  # unique@k needs k valid samples
    figures = metrics.moses_metrics(generated, known, ks=ks)
    figures.pop("valid", None)  # validity is chemgen's own: OPSIN parses, RDKit sanitises
    figures["kl_score"] = metrics.kl_divergence_score(generated, known)["score"]
    if figures.get("FCD") is not None:
        figures["fcd_score"] = math.exp(-0.2 * figures["FCD"])  # GuacaMol's FCD score, in (0, 1]
    return figures


FIGURES = [("nll", "held-out NLL (nats/char)"), ("validity", "validity"), ("uniqueness", "uniqueness (of valid)"),
           ("novelty_names", "novelty by name"), ("novelty_structures", "novelty by structure"),
           ("diversity", "internal diversity"), ("unique@1000", "unique@1k (MOSES)"),
           ("unique@10000", "unique@10k (MOSES)"), ("IntDiv1", "IntDiv1"), ("IntDiv2", "IntDiv2"),
           ("SNN", "SNN/reference"), ("Frag", "Frag/reference"), ("Scaf", "Scaf/reference"),
           ("FCD", "FCD/reference"), ("kl_score", "KL score (GuacaMol)"),
           ("fcd_score", "FCD score (GuacaMol)")]
PERCENT_FIGURES = {"validity", "uniqueness", "novelty_names", "novelty_structures", "unique@1000", "unique@10000"}


def figure_text(key: str, value: Any) -> str:
    """One figure as the table shows it: shares as percentages, NLL to 4 places, the other scores to 3."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{100 * value:.1f}%" if key in PERCENT_FIGURES else f"{value:.4f}" if key == "nll" else f"{value:.3f}"


def format_table(result: dict[str, Any]) -> str:
    """The figures as an aligned two- or three-column table."""
    columns = ["model"] + (["reference"] if "reference" in result else [])
    lines = [f"{'figure':<28}" + "".join(f"{c:>12}" for c in columns)]
    for key, label in FIGURES:
        if all(result[column].get(key) is None for column in columns):
            continue  # e.g. the benchmark metrics without --reference
        cells = [figure_text(key, result[column].get(key)) for column in columns]
        lines.append(f"{label:<28}" + "".join(f"{c:>12}" for c in cells))
    lines.append(f"({result['samples']} samples at temperature {result['temperature']}; "
                 f"structural novelty against {result['structures_novel_against']})")
    return "\n".join(lines)
