"""Any file of generated names judged by chemgen's own metrics: validity, uniqueness, novelty, QED/MW, KL.

Every line of a names file, or every row of one column of a CSV/TSV file (``--column``), is one
sample; an empty one counts as invalid. A sample is valid when OPSIN finds a structure for the
name as written and RDKit sanitises it (``chemgen evaluate``'s validity with the opsin filter's
``restore_case=false``). chemgen's opsin filter restores the case of lower-cased locants and
descriptors first (``n,n-dimethyl`` -> ``N,N-dimethyl``, ``(2r)`` -> ``(2R)``), falling back
to the name as written; when that changes any verdict, a second row gives every figure with
it. Per row:

* OPSIN: share of samples OPSIN parses; valid: share OPSIN parses and RDKit sanitises (the
  benchmarks' validity: salts, mixtures and radicals count); strict: share that also passes
  ``chemgen generate``'s default rdkit filter (one component, no radical or bare metal, the
  aromatic rings the name promises);
* unique: distinct structures (InChIKeys) among valid samples;
* novel: distinct valid structures whose InChIKey is not among ``--train``'s structures;
* QED and MW of the distinct valid structures: mean, sd (and quartiles in the JSON);
* KL: GuacaMol's KL-divergence score of (up to) ``--kl-samples`` random valid samples against
  as many random ``--reference`` structures (GuacaMol takes 10,000 of each);
* IntDiv: mean pairwise Tanimoto distance over 2,000 distinct valid structures.

``--train`` and ``--reference`` take a names or molecules file (``.txt``, ``.smi``, ``.csv``,
``.sdf``, gzipped or not; names go through OPSIN with case restored), or ``moses:train``,
``moses:test`` or ``moses:test_scaffolds``, read from the molsets 0.3.1 wheel as
``datasets/druglike.py`` reads it (``--moses-wheel``, else $CHEMGEN_MOSES_WHEEL, else
datasets/downloads/). Several files in one run share the training structures (the InChIKeys of
the 1.58 million of ``moses:train`` took 25-32 minutes on the loaded 2-core machine; each file
of 50,000 names about 5).

50,000 names of the default model at T = 1.0, as ``chemgen evaluate --samples 10000 --seed S``
draws them for S = 0..4 (one call cannot draw more than 20,480; ``chemgen generate -n 50000
--filters none --keep-duplicates`` keeps the likeliest 50,000 of about 50,255), then the
comparison with iupacGPT's published names (iupacGPT2-gen50K.csv, AspirinCode/iupacGPT):

    pip download --no-deps --dest datasets/downloads molsets==0.3.1
    python -c "import chemgen; m = chemgen.load(); f = open('chemgen50k.txt', 'w'); [f.write(s.name + '\\n')
        for seed in range(5) for s in m.sample(10000, temperature=1.0, random_state=seed)]"
    python bench/names_metrics.py chemgen50k.txt iupacGPT2-gen50K.csv --column iupac \\
        --train moses:train --reference datasets/druglike/test.txt.gz --json names_metrics.json
    python bench/names_metrics.py names.txt --sample 1000 --seed 0    # a quick look at a random 1,000
"""
from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import ROOT  # noqa: E402
from chemgen.chem import molecules as chem  # noqa: E402
from chemgen.chem.casing import restore_case  # noqa: E402
from chemgen.errors import ChemgenError, ConfigError  # noqa: E402
from chemgen.evaluation.evaluate import VALIDITY_FILTERS, check_in_chunks, figure_text  # noqa: E402
from chemgen.evaluation.evaluate import structure_figures, training_structures  # noqa: E402
from chemgen.evaluation.metrics import kl_divergence_score  # noqa: E402
from chemgen.filters import Candidate, FilterStage, build_filters  # noqa: E402
from chemgen.io.progress import progress_bar  # noqa: E402

OPSIN_RESTORED, RDKIT_VALIDITY = VALIDITY_FILTERS  # chemgen evaluate's validity: OPSIN, then RDKit sanitises
OPSIN_AS_WRITTEN = "opsin(restore_case=false)"
RDKIT_STRICT = "rdkit(properties=none)"  # generate's default chemistry checks, nothing computed
RDKIT = RDKIT_VALIDITY[:-1] + ",properties=qed+mw)"  # the same checks, computing QED and MW
AS_WRITTEN, RESTORED = "as written", "case restored"
MOSES = "moses:"  # --train/--reference moses:<file of the molsets wheel>
KL_SAMPLES = 10000  # GuacaMol's KL benchmark: 10,000 generated and 10,000 reference molecules


# ---------------------------------------------------------------- reading samples


def read_samples(path: str, column: Optional[str] = None) -> list[str]:
    """The samples of a names file (one per line) or of a CSV/TSV file's column (names files ignore it), empty
    ones kept.

    A table's rows may hold unquoted commas in the last column (names such as ``5,8-dichloro``
    written without quotes): the extra fields are joined back into it.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{path}: not a file")
    opener = gzip.open if file.name.endswith(".gz") else open
    suffix = Path(file.name.removesuffix(".gz")).suffix.lower()
    with opener(file, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        if suffix not in (".csv", ".tsv"):  # a names file: the column is for the tables of the same run
            return [line.strip() for line in handle.read().splitlines()]
        return _column_of(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","), path, column)


def _column_of(rows: Any, path: str, column: Optional[str]) -> list[str]:
    """One column of csv rows (the header first); the only column when none is named."""
    header = next(rows, [])
    if column is None and len(header) != 1:
        raise ConfigError(f"{path}: name the column of names with --column (columns: {', '.join(header) or 'none'})")
    wanted = column or header[0]
    if wanted not in header:
        raise ConfigError(f"{path}: no column {wanted!r} (columns: {', '.join(header) or 'none'})")
    index, last = header.index(wanted), len(header) - 1
    out = []
    for row in rows:
        if len(row) > len(header) and index != last:
            raise ConfigError(f"{path}: line {rows.line_num} has {len(row)} fields for {len(header)} columns, "
                              f"and {wanted!r} is not the last column: quote its names")
        cells = row[index:] if index == last else row[index:index + 1]
        out.append(",".join(cells).strip())
    return out


def pick(samples: list[str], limit: Optional[int] = None, sample: Optional[int] = None, seed: int = 0) -> list[str]:
    """The first ``limit`` samples, or ``sample`` of them at random (seeded, kept in file order), or all."""
    if limit is not None:
        return samples[:limit]
    if sample is not None and sample < len(samples):
        chosen = np.random.default_rng(seed).choice(len(samples), sample, replace=False)
        return [samples[i] for i in sorted(chosen)]
    return samples


# ---------------------------------------------------------------- checking names


def check_names(names: list[str]) -> dict[str, list[Candidate]]:
    """Checked candidates as written, and with chemgen's case restoration (omitted when it changes no verdict).

    Names that restore_case leaves alone are parsed once; the others go through the opsin filter's
    default (case restored, then as written), so the second list equals running evaluate's filters.
    """
    with FilterStage([OPSIN_AS_WRITTEN, RDKIT]) as stage:
        written = check_in_chunks(stage, names, "OPSIN as written")
    changed = [i for i, name in enumerate(names) if restore_case(name) != name]
    restored = list(written)
    if changed:
        with FilterStage([OPSIN_RESTORED, RDKIT]) as stage:
            for i, cand in zip(changed, check_in_chunks(stage, [names[i] for i in changed], "OPSIN case restored")):
                restored[i] = cand
    if all(_outcome(written[i]) == _outcome(restored[i]) for i in changed):
        return {AS_WRITTEN: written}
    return {AS_WRITTEN: written, RESTORED: restored}


def _outcome(cand: Candidate) -> tuple:
    return cand.passed, cand.inchikey


# ---------------------------------------------------------------- training and reference structures


def moses_smiles(spec: str, wheel: Optional[str]) -> list[str]:
    """The SMILES of one MOSES file (``moses:train``...) in the molsets wheel, read by datasets/druglike.py."""
    loader = importlib.util.spec_from_file_location("druglike_build", ROOT / "datasets" / "druglike.py")
    druglike = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(druglike)
    split = spec[len(MOSES):]
    if split not in druglike.MOSES_FILES:
        raise ConfigError(f"{spec!r}: MOSES files are {', '.join(MOSES + k for k in druglike.MOSES_FILES)}")
    try:
        return druglike.read_moses(druglike.find_wheel(wheel), split)
    except druglike.BuildError as exc:
        raise ConfigError(str(exc)) from None


def training_keys(stage: FilterStage, spec: str, wheel: Optional[str]) -> tuple[set[str], str]:
    """InChIKeys of the training structures, and where they came from."""
    if not spec.startswith(MOSES):
        return training_structures(stage, spec)
    smiles = moses_smiles(spec, wheel)
    keys = {chem.inchikey_of(chem.mol_from_smiles(s)) for s in progress_bar(smiles, desc="training structures",
                                                                            unit="mol")}
    keys.discard(None)
    return keys, f"the {len(smiles):,} molecules of MOSES {spec[len(MOSES):]} (molsets 0.3.1)"


def reference_smiles(stage: FilterStage, spec: str, wheel: Optional[str]) -> list[str]:
    """The reference's structures as SMILES: a molecules file's, its names' (through OPSIN), or MOSES's."""
    from chemgen.chem.records import input_format, read_records

    if spec.startswith(MOSES):
        return moses_smiles(spec, wheel)
    records = list(read_records(spec, input_format(spec)))
    names = [r.name for r in records if r.name]
    checked = check_in_chunks(stage, names, "checking reference") if names else []
    return [r.smiles for r in records if r.smiles] + [c.smiles for c in checked if c.passed and c.smiles]


# ---------------------------------------------------------------- figures


def distribution(values: list[float]) -> dict[str, float]:
    """Mean, sample sd and quartiles."""
    if not values:
        return {key: math.nan for key in ("mean", "sd", "q1", "median", "q3")}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    return {"mean": float(np.mean(values)), "sd": sd, "q1": float(q1), "median": float(median), "q3": float(q3)}


def figures(cands: list[Candidate], train_keys: Optional[set[str]] = None, reference: Optional[list[str]] = None,
            seed: int = 0, kl_samples: int = KL_SAMPLES) -> dict[str, Any]:
    """Every figure of one set of checked samples (see the module docstring)."""
    rng = np.random.default_rng(seed)
    base = structure_figures(cands, np.zeros(len(cands), bool), train_keys or set(), rng)
    valid = [c for c in cands if c.passed and c.inchikey]
    distinct = list({c.inchikey: c for c in reversed(valid)}.values())  # the first sample of each structure
    out = {"n": len(cands), "opsin": sum(c.verdicts["opsin"].passed for c in cands) / len(cands) if cands else math.nan,
           "validity": base["validity"], "strict": _strict(valid) / len(cands) if cands else math.nan,
           "uniqueness": base["uniqueness"], "valid": len(valid),
           "distinct_valid": len(distinct), "diversity": base["diversity"]}
    if train_keys is not None:
        out["novelty"] = base["novelty_structures"]
    for prop in ("qed", "mw"):
        out[prop] = distribution([c.properties[prop] for c in distinct if not chem.is_missing(c.properties.get(prop))])
    if reference:
        generated = _subset([c.smiles for c in valid], kl_samples, rng)
        out["kl_score"] = kl_divergence_score(generated, _subset(reference, kl_samples, rng))["score"]
    return out


def _strict(valid: list[Candidate]) -> int:
    """How many valid candidates also pass the rdkit filter's default chemistry checks."""
    return sum(verdict.passed for verdict in build_filters(RDKIT_STRICT)[0].check(valid))


def _subset(items: list, size: int, rng: np.random.Generator) -> list:
    """size random items (all when fewer), in their order."""
    if len(items) <= size:
        return items
    return [items[i] for i in sorted(rng.choice(len(items), size, replace=False))]


# ---------------------------------------------------------------- output


def table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """Markdown table: one row per file and OPSIN reading."""
    heads = ["names", "OPSIN reads", "samples", "OPSIN", "valid", "strict", "unique", "novel", "QED", "MW", "KL",
             "IntDiv"]
    lines = ["| " + " | ".join(heads) + " |", "|---" * len(heads) + "|"]
    for label, reading, f in rows:
        cells = [label, reading, f"{f['n']:,}", figure_text("validity", f["opsin"]),
                 figure_text("validity", f["validity"]), figure_text("validity", f["strict"]),
                 figure_text("uniqueness", f["uniqueness"]),
                 figure_text("novelty_structures", f.get("novelty")), _spread(f["qed"], 2), _spread(f["mw"], 0),
                 figure_text("kl_score", f.get("kl_score")), figure_text("diversity", f["diversity"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _spread(d: dict[str, float], places: int) -> str:
    return "" if math.isnan(d["mean"]) else f"{d['mean']:.{places}f} ± {d['sd']:.{places}f}"


def _no_nan(value: Any) -> Any:
    """NaN as null, so the JSON is standard."""
    if isinstance(value, dict):
        return {key: _no_nan(item) for key, item in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="names files (one per line) or CSV/TSV files (see --column)")
    parser.add_argument("--column", help="the column of names in CSV/TSV files (default: the only column; names files "
                                          "have none)")
    parser.add_argument("--train", help="training names or molecules file, or moses:train: novelty against it")
    parser.add_argument("--reference", help="names or molecules file, or moses:test: GuacaMol's KL score against it")
    parser.add_argument("--moses-wheel", help="the molsets 0.3.1 wheel (default: $CHEMGEN_MOSES_WHEEL, else "
                                              "datasets/downloads/molsets-0.3.1-py3-none-any.whl)")
    some = parser.add_mutually_exclusive_group()
    some.add_argument("--limit", type=int, help="only the first N samples of each file")
    some.add_argument("--sample", type=int, help="N random samples of each file (with --seed)")
    parser.add_argument("--seed", type=int, default=0, help="for --sample, the KL subsets and IntDiv (default 0)")
    parser.add_argument("--kl-samples", type=int, default=KL_SAMPLES, help=f"default {KL_SAMPLES}")
    parser.add_argument("--json", help="also write every figure as JSON to this file")
    args = parser.parse_args(argv)
    try:
        result, rows = run(args)
    except ChemgenError as exc:
        parser.exit(2, f"names_metrics: {exc}\n")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(_no_nan(result), indent=2))
    return 0


def run(args: argparse.Namespace) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    """(everything for the JSON, table rows): the shared structures first, then each file."""
    for value, flag in ((args.limit, "--limit"), (args.sample, "--sample"), (args.kl_samples, "--kl-samples")):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, not {value}")
    samples = {path: pick(read_samples(path, args.column), args.limit, args.sample, args.seed) for path in args.files}
    train_keys, reference, result = None, None, {"train": None, "reference": args.reference, "files": {}}
    if args.train or args.reference:
        start = time.perf_counter()
        with FilterStage([OPSIN_RESTORED, RDKIT]) as stage:
            if args.train:
                train_keys, result["train"] = training_keys(stage, args.train, args.moses_wheel)
            if args.reference:
                reference = reference_smiles(stage, args.reference, args.moses_wheel)
        print(f"training and reference structures: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    rows = []
    for path, names in samples.items():
        start = time.perf_counter()
        readings = {reading: figures(cands, train_keys, reference, args.seed, args.kl_samples)
                    for reading, cands in check_names(names).items()}
        seconds = time.perf_counter() - start
        print(f"{path}: {len(names):,} samples, {seconds:.0f} s", file=sys.stderr)
        result["files"][path] = {"seconds": seconds, **readings}
        rows.extend((Path(path).name, reading, f) for reading, f in readings.items())
    return result, rows


if __name__ == "__main__":
    sys.exit(main())
