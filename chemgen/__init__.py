"""chemgen: generate candidate chemical compound names with a NumPy char-RNN and plausibility filters.

    import chemgen
    m = chemgen.CharRNN(cell="gru", hidden_size=256, random_state=0).fit(names)
    m.sample(10, temperature=0.8, prefix="meth"); m.score(["ethanol"])
    chemgen.load()                                  # the shipped default model
    chemgen.generate(n=50, filters=["opsin", "rdkit"], seed=0)
    chemgen.check(["ethanol", "notachemical"], filters=["opsin"])
    chemgen.optimize("opsin,rdkit,similar(to=lead.smi)", steps=300, out="agent.npz")   # goal-directed
    results.to_frame(mols=True)                     # a pandas DataFrame (chemgen[notebook]); chemgen.to_frame(cands)

The names below are imported on first use, so ``import chemgen`` (and the
command line's start-up) loads NumPy, RDKit and the rest only when needed.
"""
from __future__ import annotations

from chemgen.errors import ChemgenError, ConfigError, FilterError, ModelFileError, VocabularyError
from chemgen.lazy import lazy_getattr

from chemgen.version import __version__  # noqa: F401 (the public name)

_LAZY = {  # public name -> the module that defines it
    "CharRNN": "chemgen.model.estimator", "load": "chemgen.model.estimator",
    "shipped_models": "chemgen.model.estimator",
    "generate": "chemgen.generation.pipeline", "check": "chemgen.generation.pipeline",
    "optimize": "chemgen.goal",
    "Candidate": "chemgen.filters", "Verdict": "chemgen.filters", "inject_filter": "chemgen.filters",
    "to_frame": "chemgen.output.frames",
}

__all__ = [
    "CharRNN", "load", "shipped_models", "generate", "check", "optimize", "Candidate", "Verdict", "inject_filter",
    "to_frame",
    "ChemgenError", "ConfigError", "FilterError", "ModelFileError", "VocabularyError",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
