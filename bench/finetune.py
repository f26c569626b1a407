"""Fine-tuning on a series the prior never saw: prior against fine-tuned model, 1,000 samples each.

The series is one Murcko scaffold's molecules from MOSES ``test_scaffolds``
(scaffolds absent from MOSES training), read from the molsets 0.3.1 wheel.
Part of it is used for fine-tuning (named by openclatura, checked by OPSIN),
the rest is held out; fine-tuning uses chemgen's defaults (analogs included)
unless ``--set`` changes one. For each model it prints validity, the share of valid
samples containing the series' scaffold, the mean nearest-neighbour Tanimoto
similarity to the held-out molecules, novelty against the series, and the
fine-tuning wall time.

    pip download --no-deps --dest datasets/downloads molsets==0.3.1
    python bench/finetune.py [--prior systematic] [--seed 1]   # default: the shipped default model (druglike)
    python bench/finetune.py --set analogs=0 --set epochs=20   # the series alone
"""
from __future__ import annotations

import argparse
import gzip
import io
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import ROOT, parse_setting, print_table  # noqa: E402
from chemgen import CharRNN, load  # noqa: E402
from chemgen.chem import molecules as chem  # noqa: E402
from chemgen.filters import Candidate, FilterStage  # noqa: E402
from chemgen.chem.series import load_series  # noqa: E402

WHEEL = ROOT / "datasets" / "downloads" / "molsets-0.3.1-py3-none-any.whl"
SCAFFOLD_FILE = "moses/dataset/data/test_scaffolds.csv.gz"


def scaffold_series(wheel: Path, size: int, min_rings: int, seed: int) -> tuple[str, list[str]]:
    """The scaffold whose molecule count is nearest above ``size`` (at least min_rings rings) and size of its molecules."""
    from rdkit.Chem import rdMolDescriptors

    with zipfile.ZipFile(wheel) as archive:
        text = gzip.decompress(archive.read(SCAFFOLD_FILE)).decode()
    smiles = [line.split(",")[0] for line in io.StringIO(text).read().splitlines()[1:]]
    by_scaffold: dict[str, list[str]] = {}
    for smi in smiles:
        scaffold = chem.murcko_scaffold(chem.mol_from_smiles(smi)) or None
        if scaffold and rdMolDescriptors.CalcNumRings(chem.mol_from_smiles(scaffold)) >= min_rings:
            by_scaffold.setdefault(scaffold, []).append(smi)
    counts = Counter({k: len(v) for k, v in by_scaffold.items() if len(v) >= size})
    scaffold = min(counts, key=lambda k: (counts[k], k))
    rng = np.random.default_rng(seed)
    members = by_scaffold[scaffold]
    return scaffold, [members[i] for i in rng.choice(len(members), size, replace=False)]


def fingerprints(smiles: list[str]) -> list:
    return [chem.morgan_fingerprint(chem.mol_from_smiles(s)) for s in smiles]


def figures(model: CharRNN, stage: FilterStage, scaffold: str, series_keys: set[str], held_out_keys: set[str],
            held_out_fps: list, samples: int, seed: int, temperature: float = 1.0) -> dict[str, float]:
    from rdkit import DataStructs

    names = [s.name for s in model.sample(samples, temperature=temperature, random_state=seed)]
    checked = stage.run([Candidate(n) for n in names])
    valid = [c for c in checked if c.passed and c.smiles]
    query = chem.mol_from_smiles(scaffold)
    mols = [chem.mol_from_smiles(c.smiles) for c in valid]
    with_scaffold = sum(m is not None and m.HasSubstructMatch(query) for m in mols)
    nearest = [max(DataStructs.BulkTanimotoSimilarity(fp, held_out_fps)) for fp in fingerprints([c.smiles for c in valid])
               if fp is not None]
    share = lambda part, whole: part / whole if whole else float("nan")  # noqa: E731
    return {
        "validity": share(len(valid), len(names)),
        "scaffold": share(with_scaffold, len(valid)),
        "nn_sim": float(np.mean(nearest)) if nearest else float("nan"),
        "novel": share(sum(c.inchikey not in series_keys for c in valid), len(valid)),
        "held_out": share(sum(c.inchikey in held_out_keys for c in valid), len(valid)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prior", help="shipped model name or model file (default: the shipped default model)")
    parser.add_argument("--wheel", default=str(WHEEL), help="the molsets 0.3.1 wheel")
    parser.add_argument("--size", type=int, default=80, help="molecules in the series (default 80)")
    parser.add_argument("--train-share", type=float, default=0.75, help="share used for fine-tuning (default 0.75)")
    parser.add_argument("--min-rings", type=int, default=2, help="rings in the scaffold, at least (default 2)")
    parser.add_argument("--samples", type=int, default=1000, help="samples per model (default 1000)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="sampling temperature of the fine-tuned model (default 1.0; the prior: 1.0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a fine-tuning setting other than its default (e.g. analogs=0, epochs=20)")
    args = parser.parse_args()

    scaffold, series = scaffold_series(Path(args.wheel), args.size, args.min_rings, args.seed)
    cut = int(round(len(series) * args.train_share))
    tuning, held_out = series[:cut], series[cut:]
    series_keys = {chem.inchikey_of(chem.mol_from_smiles(s)) for s in series}
    held_out_keys = {chem.inchikey_of(chem.mol_from_smiles(s)) for s in held_out}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "series.smi"
        path.write_text("".join(f"{s} m{i}\n" for i, s in enumerate(tuning)))
        named = load_series(str(path))
    print(f"series: scaffold {scaffold}, {len(series)} molecules from MOSES test_scaffolds; "
          f"fine-tuning on {len(named.names)} named of {len(tuning)}, {len(held_out)} held out")
    prior = load(args.prior)
    start = time.perf_counter()
    settings = {"random_state": args.seed}
    settings.update(parse_setting(s) for s in args.set)
    tuned = load(args.prior).fine_tune(named.names, settings=settings)
    tune_seconds = time.perf_counter() - start
    held_out_fps = [fp for fp in fingerprints(held_out) if fp is not None]
    with FilterStage("opsin,rdkit") as stage:
        rows = []
        for label, model, temperature in (("prior", prior, 1.0), ("fine-tuned", tuned, args.temperature)):
            f = figures(model, stage, scaffold, series_keys, held_out_keys, held_out_fps, args.samples, args.seed,
                        temperature)
            rows.append((label, f"{100 * f['validity']:.1f}%", f"{100 * f['scaffold']:.1f}%", f"{f['nn_sim']:.3f}",
                         f"{100 * f['novel']:.1f}%", f"{100 * f['held_out']:.1f}%"))
    print_table(["model", "validity", "with scaffold", "NN sim (held out)", "not in series", "held-out members"],
                rows)
    info = tuned.training_info_
    kept = (f"best held-out loss {info['best_valid_loss']:.4f} nats/char at step {info['best_step']}"
            if info.get("best_valid_loss") is not None else "no held-out names: the last step kept")
    print(f"fine-tuning: {info['steps_done']} steps, {tune_seconds:.1f} s wall ({kept}); validity ratio "
          f"fine-tuned/prior {float(rows[1][1][:-1]) / float(rows[0][1][:-1]):.2f}")


if __name__ == "__main__":
    main()
