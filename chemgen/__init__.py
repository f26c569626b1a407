"""chemgen: generate candidate chemical compound names with a NumPy char-RNN and plausibility filters.

    import chemgen
    m = chemgen.CharRNN(cell="gru", hidden_size=256, random_state=0).fit(names)
    m.sample(10, temperature=0.8, prefix="meth"); m.score(["ethanol"])
    chemgen.load()                                  # the shipped default model
    chemgen.generate(n=50, filters=["opsin", "rdkit"], seed=0)
    chemgen.check(["ethanol", "notachemical"], filters=["opsin"])
    chemgen.optimize("opsin,rdkit,similar(to=lead.smi)", steps=300, out="agent.npz")   # goal-directed
    results.to_frame(mols=True)                     # a pandas DataFrame (chemgen[notebook]); chemgen.to_frame(cands)
"""
from chemgen.errors import ChemgenError, ConfigError, FilterError, ModelFileError, VocabularyError
from chemgen.filters import Candidate, Verdict, inject_filter
from chemgen.io.frames import to_frame
from chemgen.model.estimator import CharRNN, load, shipped_models
from chemgen.pipeline import check, generate
from chemgen.goal import optimize

__version__ = "0.1.0"

__all__ = [
    "CharRNN", "load", "shipped_models", "generate", "check", "optimize", "Candidate", "Verdict", "inject_filter",
    "to_frame",
    "ChemgenError", "ConfigError", "FilterError", "ModelFileError", "VocabularyError",
]
