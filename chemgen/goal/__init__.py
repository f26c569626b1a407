"""Goal-directed generation (``chemgen optimize``): a copy of a prior model learns toward a score.

    import chemgen
    result = chemgen.optimize("opsin,rdkit,similar(to=lead.smi)", steps=300, random_state=0, out="agent.npz")
    result.best[:10]          # the best unique structures, best first
    result.agent.sample(20)   # the agent is a CharRNN

See :mod:`chemgen.goal.agent` (the learning rule), :mod:`chemgen.scoring`
(components, transforms, aggregation) and :mod:`chemgen.goal.config` (settings
and the TOML run file).
"""
from chemgen.goal.agent import OptimizeDiverged, OptimizeInterrupted, OptimizeResult, optimize
from chemgen.goal.config import OptimizeConfig, read_run_file

__all__ = ["optimize", "OptimizeConfig", "OptimizeResult", "OptimizeInterrupted", "OptimizeDiverged",
           "read_run_file"]
