"""Goal-directed generation (``chemgen optimize``): a copy of a prior model learns toward a score.

    import chemgen
    result = chemgen.optimize("opsin,rdkit,similar(to=lead.smi)", steps=300, random_state=0, out="agent.npz")
    result.best[:10]          # the best unique structures, best first
    result.agent.sample(20)   # the agent is a CharRNN

See :mod:`chemgen.goal.agent` (the learning rule), :mod:`chemgen.goal.scoring`
(components, transforms, aggregation) and :mod:`chemgen.goal.config` (settings
and the TOML run file). The names below are imported on first use, so the
command line reads the settings (``chemgen.goal.config``) without loading the agent.
"""
from __future__ import annotations

from chemgen.lazy import lazy_getattr

_LAZY = {  # public name -> the module that defines it
    "optimize": "chemgen.goal.agent", "OptimizeResult": "chemgen.goal.agent",
    "OptimizeInterrupted": "chemgen.goal.agent", "OptimizeDiverged": "chemgen.goal.agent",
    "OptimizeConfig": "chemgen.goal.config", "read_run_file": "chemgen.goal.config",
}

__all__ = ["optimize", "OptimizeConfig", "OptimizeResult", "OptimizeInterrupted", "OptimizeDiverged",
           "read_run_file"]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
