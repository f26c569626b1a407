"""Settings of a goal-directed run, declared once, and the TOML file that holds a whole run.

:class:`OptimizeConfig` fields carry type, default, one-line help, check and
command-line flag (as :class:`chemgen.model.config.TrainConfig` does);
``chemgen optimize``'s flags and the TOML keys derive from it. A TOML run file
holds those keys at its top level, the output paths, and a ``[scoring]`` table::

    prior = "druglike"
    steps = 300
    seed = 0
    out = "agent.npz"
    log = "run.jsonl"
    summary = "best.csv"

    [scoring]
    aggregation = "geometric"
    [[scoring.component]]
    filter = "opsin"
    [[scoring.component]]
    filter = "similar(to=celecoxib.smi)"
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional

from chemgen.errors import ConfigError
from chemgen.io.settings import (
    CheckedSettings,
    boolean,
    non_negative_int,
    non_negative_number,
    one_of,
    positive_int,
    positive_number,
    seed,
    setting,
    weight_up_to_one,
)

OUTPUT_KEYS = ("out", "log", "summary", "checkpoint")
LOSSES = ("dap", "hill_climb")
DEFAULT_STEPS = 300  # learning steps of a run without a budget, unless told


def score_threshold(name: str, value: Any) -> str:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
    return "" if ok else f"{name} must be a number in [0, 1], not {value!r}"


def optional_count(name: str, value: Any) -> str:
    return "" if value is None else positive_int(name, value)


def optional_steps(name: str, value: Any) -> str:
    return "" if value is None else non_negative_int(name, value)


def optional_text(name: str, value: Any) -> str:
    return "" if value is None or (isinstance(value, str) and value.strip()) else f"{name} must be text, not {value!r}"


@dataclass(frozen=True)
class OptimizeConfig(CheckedSettings):
    """How to steer a prior model toward a score (REINVENT 4's DAP rule)."""

    prior: Optional[str] = setting(None, "prior model: file or shipped name (default: the shipped default model)",
                                   optional_text, "--prior", metavar="MODEL")
    steps: Optional[int] = setting(None, f"learning steps, each samples, scores and updates once (default "
                                         f"{DEFAULT_STEPS}; with a budget, as many as it takes)", optional_steps,
                                   "--steps")
    budget: Optional[int] = setting(None, "stop once this many distinct valid structures were scored; an oracle "
                                          "never sees more (default: no limit)", optional_count, "--budget",
                                    metavar="N")
    patience: int = setting(0, "stop when the 100 best scores stay the same for this many steps once 1,000 "
                               "structures are scored (PMO's REINVENT stops at 5; 0: never)", non_negative_int,
                            "--patience", metavar="STEPS")
    stale_steps: int = setting(20, "with a budget, stop after this many steps in a row that score no new structure "
                                   "(0: never)", non_negative_int, "--stale-steps", metavar="STEPS")
    batch_size: int = setting(64, "names sampled and scored per step", positive_int, "--batch-size")
    loss: str = setting("dap", "learning rule: dap (REINVENT's: toward log p_prior + sigma * score) or hill_climb "
                               "(SMILES LSTM-HC's: raise the likelihood of the replay memory's best names)",
                        one_of(LOSSES), "--loss", choices=LOSSES)
    sigma: float = setting(128.0, "score multiplier: the agent aims at log p_prior + sigma * score", positive_number,
                           "--sigma")
    learning_rate: float = setting(1e-4, "Adam learning rate", positive_number, "--lr")
    likelihood_penalty: float = setting(0.0, "weight of REINVENT's penalty on names the agent finds very likely: "
                                             "adds weight * mean(-1 / log p_agent) to the loss (PMO's REINVENT: "
                                             "5000; 0: off)", non_negative_number, "--likelihood-penalty",
                                        metavar="WEIGHT")
    unique_structures: bool = setting(False, "learn from each structure once per step: further samples of a "
                                             "structure already in the batch leave the loss (as PMO's REINVENT "
                                             "drops repeated SMILES)", boolean, "--unique-structures")
    diversity_filter: bool = setting(True, "identical-Murcko-scaffold buckets: a full bucket's hits score 0",
                                     boolean, "--diversity-filter")
    bucket_size: int = setting(25, "hits allowed per scaffold before further hits score 0", positive_int,
                               "--bucket-size")
    min_score: float = setting(0.4, "score from which a sample counts as a hit on its scaffold", score_threshold,
                               "--min-score")
    learn_share: float = setting(1.0, "share of the batch, best scores first, that enters the loss (Augmented "
                                      "Hill-Climb, Thomas et al. 2022, uses 0.25; 1: every sample)", weight_up_to_one,
                                 "--learn-share", metavar="SHARE")
    replay: bool = setting(True, "replay memory: the best names seen are learnt from again", boolean, "--replay")
    memory_size: int = setting(50, "names the replay memory keeps (the best by score)", positive_int,
                               "--memory-size")
    replay_size: int = setting(10, "names replayed from memory into each step", non_negative_int, "--replay-size")
    replay_by_score: bool = setting(False, "draw the replayed names in proportion to their score (PMO's REINVENT), "
                                           "not uniformly", boolean, "--replay-by-score")
    augment_rounds: int = setting(0, "Augmented Memory (Guo and Schwaller 2023, who use 2): extra learning steps "
                                     "per step, each on the batch and the whole replay memory (0: off)",
                                  non_negative_int, "--augment-rounds", metavar="N")
    augment_names: bool = setting(True, "in those rounds, write each structure under another of its valid names "
                                        "when one is known (one the agent wrote, or the namer's)", boolean,
                                  "--augment-names")
    time_limit: float = setting(0.0, "stop after this many seconds of steps (0: run all steps)", non_negative_number,
                                "--time-limit", metavar="SECONDS")
    max_length: int = setting(200, "longest name sampled", positive_int, "--max-length")
    threads: int = setting(1, "threads sharing each step's sampling and learning (results depend slightly on it)",
                           positive_int, "--threads", metavar="N")
    checkpoint_every: int = setting(50, "steps between checkpoints (0: only at the end)", non_negative_int,
                                    "--checkpoint-every")
    summary_size: int = setting(100, "best unique structures in the summary CSV", positive_int, "--summary-size")
    random_state: Optional[int] = setting(None, "random seed: same seed, same run", seed, "--seed")

    def step_limit(self) -> Optional[int]:
        """The steps to run: as set; else 300 without a budget and no limit with one."""
        if self.steps is not None:
            return self.steps
        return None if self.budget is not None else DEFAULT_STEPS


def setting_names() -> tuple[str, ...]:
    return OptimizeConfig.setting_names()


def resumed(checkpoint: str | Path, given: dict[str, Any], table: Optional[dict[str, Any]]
            ) -> tuple[dict[str, Any], Optional[dict[str, Any]]]:
    """A resumed run's settings and scoring table: the checkpoint's, with those given again taking their place."""
    from chemgen.model import modelfile

    saved = modelfile.read_npz(checkpoint)[1].get("optimize", {})
    settings = {k: v for k, v in saved.get("settings", {}).items() if k in setting_names()} | given
    if table is None and saved.get("scoring"):
        table = {"aggregation": saved.get("aggregation", "geometric"), "component": saved["scoring"]}
    return settings, table


TOML_ALIASES = {"seed": "random_state"}  # the TOML and the CLI say seed


def read_run_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Any], Optional[dict[str, Any]]]:
    """A TOML run file: (settings, output paths, the [scoring] table or None); ConfigError in one line."""
    import tomllib  # imported here: the command line reads the settings without it

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"run file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    settings, outputs, scoring = {}, {}, data.pop("scoring", None)
    known = set(setting_names())
    for key, value in data.items():
        name = TOML_ALIASES.get(key, key)
        if name in known:
            settings[name] = value
        elif key in OUTPUT_KEYS:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}: {key} must be a file path")
            outputs[key] = value
        else:
            keys = ", ".join(sorted({TOML_ALIASES.get(k, k) for k in known} - {"random_state"} | {"seed"}
                                    | set(OUTPUT_KEYS)))
            raise ConfigError(f"{path}: unknown key {key!r} (keys: {keys}, and a [scoring] table)")
    for name, value in settings.items():
        if isinstance(value, float) and math.isfinite(value) and value.is_integer() and name in _INT_FIELDS:
            settings[name] = int(value)
    return settings, outputs, scoring


_INT_FIELDS = {f.name for f in fields(OptimizeConfig) if f.type in ("int", "Optional[int]")}
