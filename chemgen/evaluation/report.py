"""Self-contained HTML reports on a model: the evaluation report and the model card.

- ``chemgen evaluate --report report.html``: the evaluation figures beside the
  reference set's, property distributions of the generated versus the
  reference structures (matplotlib, embedded as PNG), a grid of sampled
  structures, the model card and the training curve.
- ``chemgen report MODEL --output card.html``: the model card and training curve alone.

The training curve comes from the model file's ``training.history`` (stored
since chemgen wrote it; older files say "no curve recorded"). Plots need
matplotlib, an optional extra (``pip install "chemgen[notebook]"``).
"""
from __future__ import annotations

import base64
import io
import math
import os
from typing import Any, Optional, Sequence

from chemgen.chem import molecules as chem
from chemgen.evaluation.evaluate import FIGURES, figure_text
from chemgen.filters import Candidate
from chemgen.io.atomic import atomic_text
from chemgen.output.frames import require
from chemgen.output.html import esc, key_value_table, page, structure_grid, table

GENERATED, REFERENCE = "#2f6fb2", "#d9822b"
GRID_SIZE = 24  # sampled structures drawn in the report
# (key, axis label, discrete): the distributions plotted, generated versus reference
DISTRIBUTIONS = [
    ("mw", "molecular weight (g/mol)", False),
    ("clogp", "logP (Wildman-Crippen)", False),
    ("tpsa", "TPSA (Å²)", False),
    ("qed", "QED", False),
    ("rings", "rings per molecule", True),
    ("aromatic_rings", "aromatic rings per molecule", True),
    ("name_length", "name length (characters)", False),
]
NO_CURVE = "no curve recorded (this model file was written before chemgen stored training curves)"


def check_report_dependencies() -> None:
    """ChemgenError now, before any work, if matplotlib (the plots) is missing."""
    require("matplotlib", "the HTML report")


# ---------------------------------------------------------------- values to plot


def distinct_valid(cands: Sequence[Candidate]) -> list[Candidate]:
    """Candidates that passed with a structure, one per InChIKey (the first), in order."""
    seen: set[str] = set()
    out = []
    for cand in cands:
        if cand.passed and cand.inchikey and cand.smiles and cand.inchikey not in seen:
            seen.add(cand.inchikey)
            out.append(cand)
    return out


def structure_values(cands: Sequence[Candidate]) -> dict[str, list[float]]:
    """Per-structure values to plot: the RDKit properties the filters found and ring counts."""
    from rdkit.Chem import rdMolDescriptors

    values: dict[str, list[float]] = {key: [] for key, _, _ in DISTRIBUTIONS}
    for cand in distinct_valid(cands):
        props = dict(cand.properties)
        mol = chem.mol_from_smiles(cand.smiles)
        if any(chem.is_missing(props.get(key)) for key in ("mw", "clogp", "tpsa", "qed")):
            props.update(chem.compute_properties(mol))
        if mol is not None:
            props["rings"] = rdMolDescriptors.CalcNumRings(mol)
            props["aromatic_rings"] = rdMolDescriptors.CalcNumAromaticRings(mol)
        for key in ("mw", "clogp", "tpsa", "qed", "rings", "aromatic_rings"):
            value = props.get(key)
            if not chem.is_missing(value) and math.isfinite(float(value)):
                values[key].append(float(value))
    values["name_length"] = []
    return values


# ---------------------------------------------------------------- plots


def _figure(width: float = 4.4, height: float = 2.9):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)
    return fig, ax


def png_uri(fig) -> str:
    """A matplotlib figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def distribution_plot(label: str, generated: Sequence[float], reference: Optional[Sequence[float]],
                      discrete: bool = False) -> str:
    """Generated (blue outline) versus reference (orange fill) distributions of one value, as a PNG URI."""
    import numpy as np

    fig, ax = _figure()
    ref = list(reference or [])
    series = [(ref, REFERENCE, f"reference (n={len(ref)})")] if reference is not None else []
    series.append((list(generated), GENERATED, f"generated (n={len(generated)})"))
    pooled = [v for values, _, _ in series for v in values]
    if not pooled:
        ax.text(0.5, 0.5, "no structures", ha="center", va="center", transform=ax.transAxes, color="#5b6575")
        ax.set_xticks([])
        ax.set_yticks([])
    elif discrete:
        low, high = int(min(pooled)), int(max(pooled))
        xs = np.arange(low, high + 1)
        width = 0.8 / len(series)
        for i, (values, color, name) in enumerate(series):
            counts = np.array([sum(int(v) == x for v in values) for x in xs], dtype=float)
            shares = counts / counts.sum() if counts.sum() else counts
            ax.bar(xs + (i - (len(series) - 1) / 2) * width, shares, width, color=color, alpha=0.85, label=name)
        ax.set_xticks(xs)
        ax.set_ylabel("share", fontsize=9)
    else:
        bins = np.histogram_bin_edges(pooled, bins=int(min(30, max(5, 2 * math.sqrt(len(pooled))))))
        for values, color, name in series:
            if color == REFERENCE:
                ax.hist(values, bins, density=True, color=color, alpha=0.45, label=name)
            else:
                ax.hist(values, bins, density=True, histtype="step", linewidth=2, color=color, label=name)
        ax.set_ylabel("density", fontsize=9)
    ax.set_xlabel(label, fontsize=9)
    if pooled:
        ax.legend(fontsize=8, frameon=False)
    return png_uri(fig)


def training_curve_plot(history: Sequence[dict[str, Any]]) -> Optional[str]:
    """Smoothed training loss and validation loss against step, as a PNG URI (None without a curve)."""
    rows = [row for row in history if isinstance(row, dict) and row.get("step") is not None]
    if not rows:
        return None
    fig, ax = _figure(6.4, 3.2)
    steps = [row["step"] for row in rows]
    for key, color, name in (("train_loss", GENERATED, "training (smoothed)"), ("valid_loss", REFERENCE, "validation")):
        points = [(s, row.get(key)) for s, row in zip(steps, rows)
                  if row.get(key) is not None and math.isfinite(row.get(key))]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=3, color=color, label=name)
    valid = [(row.get("valid_loss"), row["step"]) for row in rows
             if row.get("valid_loss") is not None and math.isfinite(row["valid_loss"])]
    if valid:
        best_loss, best_step = min(valid)
        ax.scatter([best_step], [best_loss], s=60, facecolors="none", edgecolors="#1d2430", zorder=3,
                   label=f"best {best_loss:.3f} at step {best_step}")
    ax.set_xlabel("step", fontsize=9)
    ax.set_ylabel("loss (nats/char)", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    return png_uri(fig)


# ---------------------------------------------------------------- sections


def model_card(model: Any, source: str) -> str:
    """Architecture, size and training figures of a fitted CharRNN, as a key-value table."""
    config, info = model.net_config_, model.training_info_
    n_params = sum(int(p.size) for p in model.params_.values())
    best = info.get("best_valid_loss")
    rows: list[tuple[str, Any]] = [
        ("model file", source),
        ("architecture", f"{config.cell.upper()}, {config.num_layers} layer(s) of {config.hidden_size} units, "
                         f"{config.dtype}"),
        ("parameters", f"{n_params:,}"),
        ("vocabulary", f"{config.vocab_size} symbols"),
        ("training names", f"{info.get('n_train', '?'):,}" if isinstance(info.get("n_train"), int) else "?"),
        ("validation names", f"{info.get('n_valid'):,}" if isinstance(info.get("n_valid"), int) else "?"),
        ("steps", info.get("steps_done", "?")),
        ("best validation loss", f"{best:.4f} nats/char at step {info.get('best_step')}" if best is not None
         else "none recorded"),
    ]
    parent = info.get("parent")
    if parent:
        rows.append(("fine-tuned from", parent.get("model", parent) if isinstance(parent, dict) else parent))
    return key_value_table(rows)


def settings_details(model: Any) -> str:
    rows = [(key, "none" if value is None else value) for key, value in model.get_params().items()]
    return f"<details><summary>all training settings</summary>{key_value_table(rows)}</details>"


def curve_section(model: Any) -> str:
    uri = training_curve_plot(getattr(model, "history_", []) or [])
    if uri is None:
        return f'<p class="empty">{esc(NO_CURVE)}</p>'
    return f'<img class="plot" src="{uri}" alt="training curve: loss against step">'


def figures_table(result: dict[str, Any]) -> str:
    columns = ["model"] + (["reference"] if "reference" in result else [])
    rows = [[label] + [figure_text(key, result[c].get(key)) for c in columns] for key, label in FIGURES]
    rows.insert(0, ["names checked"] + [str(result[c].get("n", "")) for c in columns])
    return table(["figure", "generated"] + (["reference"] if len(columns) > 1 else []), rows,
                 numeric=[False, True, True])


def distributions_section(checked: Sequence[Candidate], reference: Sequence[Candidate]) -> str:
    generated_values = structure_values(checked)
    generated_values["name_length"] = [float(len(c.name)) for c in checked]
    reference_values: Optional[dict[str, list[float]]] = None
    if reference:
        reference_values = structure_values(reference)
        reference_values["name_length"] = [float(len(c.name)) for c in reference]
    images = []
    for key, label, discrete in DISTRIBUTIONS:
        uri = distribution_plot(label, generated_values[key], reference_values[key] if reference_values else None,
                                discrete)
        images.append(f'<img src="{uri}" alt="{esc(label)}: generated versus reference">')
    return f'<div class="plots">{"".join(images)}</div>'


# ---------------------------------------------------------------- pages


def evaluation_page(result: dict[str, Any], checked: Sequence[Candidate], reference: Sequence[Candidate],
                    model: Any, source: str, reference_source: Optional[str] = None) -> str:
    """The whole evaluation report as one HTML document."""
    title = f"chemgen evaluation: {os.path.basename(source)}"
    ref_text = (f"; reference {reference_source} ({len(reference)} names)" if reference_source and reference
                else "; no reference set (give --reference for the ceiling and held-out NLL)")
    lead = (f"{result['samples']} samples at temperature {result['temperature']}, seed {result['seed']}{ref_text}. "
            f"Structural novelty against {result['structures_novel_against']}.")
    grid = [(c.smiles, c.name, "in training" if c.in_training else "new") for c in distinct_valid(checked)[:GRID_SIZE]]
    shown = len(grid)
    valid = len(distinct_valid(checked))
    body = (
        f'<header><h1>{esc(title)}</h1><p class="lead">{esc(lead)}</p></header>\n'
        f'<div class="cards"><div><h2>Figures</h2>{figures_table(result)}</div>'
        f"<div><h2>Model</h2>{model_card(model, source)}{settings_details(model)}</div></div>\n"
        "<h2>Property distributions</h2>"
        '<p class="lead">Distinct valid structures (OPSIN and RDKit) of the samples, against the reference '
        "names' structures; name length over all names.</p>\n"
        f"{distributions_section(checked, reference)}\n"
        f"<h2>Sampled structures</h2><p class=\"lead\">The first {shown} of {valid} distinct valid structures "
        "sampled, in sampling order.</p>\n"
        f"{structure_grid(grid)}\n"
        f"<h2>Training curve</h2>\n{curve_section(model)}\n"
    )
    return page(title, body, script=False)


def model_page(model: Any, source: str) -> str:
    """The model card and training curve as one HTML document (``chemgen report``)."""
    title = f"chemgen model: {os.path.basename(source)}"
    body = (
        f'<header><h1>{esc(title)}</h1><p class="lead">{esc(source)}</p></header>\n'
        f"<h2>Model card</h2>{model_card(model, source)}{settings_details(model)}\n"
        f"<h2>Training curve</h2>\n{curve_section(model)}\n"
    )
    return page(title, body, script=False)


def _write(path: str | os.PathLike, text: str) -> None:
    with atomic_text(path) as out:
        out.write(text)


def write_evaluation_report(path: str | os.PathLike, result: dict[str, Any], checked: Sequence[Candidate],
                            reference: Sequence[Candidate], model: Any, source: str,
                            reference_source: Optional[str] = None) -> None:
    """Write :func:`evaluation_page` atomically."""
    check_report_dependencies()
    _write(path, evaluation_page(result, checked, reference, model, source, reference_source))


def write_model_report(path: str | os.PathLike, model: Any, source: str) -> None:
    """Write :func:`model_page` atomically."""
    check_report_dependencies()
    _write(path, model_page(model, source))

