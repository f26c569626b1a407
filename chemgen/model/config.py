"""Model, training and sampling settings, each declared once.

Every field carries its type, default, a one-line help, its check and its
flag. Everything else derives from them: ``chemgen train``'s and ``generate``'s
flags, ``CharRNN``'s constructor settings and their validation, and the
settings stored in a model file. :class:`ModelConfig` is the network
(architecture and initialisation, fixed once a model exists); :class:`TrainConfig`
is how one run trains it; :class:`SamplingConfig` is how names are drawn. A new
option is one field here plus the code that uses it.
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, Optional

from chemgen.errors import ConfigError
from chemgen.io.names import quoted
from chemgen.io.settings import (
    CheckedSettings, _is_int, _is_number, boolean, decay_share, nats, non_negative_int, non_negative_number, one_of,
    positive_int, positive_number, seed, setting, share_below_one, weight_up_to_one,
)
from chemgen.model.cells import CELLS, INIT_SCHEMES, init_scheme
from chemgen.model.modelfile import FLOAT_DTYPES, Learned
from chemgen.model.network import NetConfig
from chemgen.model.optim import CLIPPERS, OPTIMIZERS
from chemgen.model.vocab import DIRECTIONS


def weight_init(name: str, value: Any) -> str:
    try:
        init_scheme(value)
    except ValueError as exc:
        return str(exc)
    return ""


def temperature(name: str, value: Any) -> str:
    ok = _is_number(value) and value > 0
    return "" if ok else f"temperature must be a positive finite number, not {quoted(value)}"


def top_k(name: str, value: Any) -> str:
    ok = value is None or (_is_int(value) and value >= 1)
    return "" if ok else f"top-k must be a whole number of at least 1 (or None), not {quoted(value)}"


def text(name: str, value: Any) -> str:
    return "" if isinstance(value, str) else f"{name} must be a string (\"\" for none), not {quoted(value)}"


def max_length(name: str, value: Any) -> str:
    ok = _is_int(value) and value >= 1
    return "" if ok else f"max length must be a whole number of at least 1, not {quoted(value)}"


def threads(name: str, value: Any) -> str:
    return "" if _is_int(value) and value >= 1 else f"threads must be a whole number of at least 1, not {quoted(value)}"


@dataclass(frozen=True)
class ModelConfig(CheckedSettings):
    """The network: its cell, size and how its weights start (a fine-tuned or resumed model keeps its parent's)."""

    cell: str = setting("gru", "recurrent cell (rnn is the seed's)", one_of(list(CELLS)), "--cell", list(CELLS))
    hidden_size: int = setting(256, "hidden units per layer (the seed's n_a)", positive_int, "--hidden")
    num_layers: int = setting(1, "stacked recurrent layers", positive_int, "--layers")
    embed: int = setting(128, "width of a learned character embedding before the first layer (0: one-hot input, "
                              "the seed's)", non_negative_int, "--embed", metavar="D")
    weight_init: str = setting("chemgen", f"how weights and biases start: {', '.join(INIT_SCHEMES)}, then optional "
                                          f"KEY=VALUE changes (chemgen,recurrent=orthogonal)", weight_init,
                               "--weight-init", metavar="SCHEME")
    dtype: str = setting("float32", "float type of parameters and activations", one_of(FLOAT_DTYPES), "--dtype",
                         list(FLOAT_DTYPES))
    direction: str = setting("forward", "which way the model writes a name: forward (left to right) or reverse (right "
                                        "to left: the parent first, then the substituents' locants)",
                             one_of(DIRECTIONS), "--direction", list(DIRECTIONS))

    def net(self, vocab_size: int) -> NetConfig:
        """The network's shape for a vocabulary of this size."""
        return NetConfig(self.cell, self.hidden_size, self.num_layers, vocab_size, self.dtype, self.embed)

    @classmethod
    def of(cls, learned: Learned, weight_init: str) -> "ModelConfig":
        """The settings of an existing model."""
        net = learned.config
        return cls(net.cell, net.hidden_size, net.num_layers, net.embed, weight_init, net.dtype,
                   learned.vocab.direction)


@dataclass(frozen=True)
class TrainConfig(CheckedSettings):
    """How one run trains a model; every field is a ``chemgen train`` flag and a CharRNN setting."""

    optimizer: str = setting("adam", "optimizer (sgd is the seed's update)", one_of(list(OPTIMIZERS)), "--optimizer",
                             list(OPTIMIZERS))
    learning_rate: float = setting(3e-3, "learning rate (step size)", positive_number, "--lr")
    lr_decay: bool = setting(True, "cosine decay of the learning rate to 10% over the last --decay-share of the steps",
                             boolean, "--lr-decay")
    decay_share: float = setting(0.2, "share of the steps, at the end, over which --lr-decay acts, in (0, 1] (1: the "
                                      "whole run, which slows short runs)", decay_share, "--decay-share",
                                 metavar="SHARE")
    warmup: int = setting(0, "steps of linear learning-rate warm-up", non_negative_int, "--warmup", metavar="STEPS")
    batch_size: int = setting(64, "names per minibatch", positive_int, "--batch-size")
    steps: int = setting(3000, "optimizer steps (the seed's num_iterations)", non_negative_int, "--steps")
    epochs: float = setting(0.0, "train for this many passes over the training names instead of --steps "
                                 "(0: use --steps)", non_negative_number, "--epochs")
    clip: str = setting("norm", "clip gradients by global norm or by value (the seed's clip)", one_of(list(CLIPPERS)),
                        "--clip", list(CLIPPERS))
    clip_value: float = setting(5.0, "clipping threshold", positive_number, "--clip-value")
    dropout: float = setting(0.0, "share of each layer's outputs dropped while training, in [0, 1)", share_below_one,
                             "--dropout")
    short_below: int = setting(0, "draw names shorter than this many characters less often (0: every name alike)",
                               non_negative_int, "--short-below", metavar="CHARS")
    short_weight: float = setting(1.0, "their chance of being drawn relative to the others, in (0, 1]",
                                  weight_up_to_one, "--short-weight", metavar="W")
    name_floor: float = setting(0.0, "a training name whose loss is already below NATS gives no gradient, so no "
                                     "name is learnt by heart beyond a chance of e^-NATS (0: off)", nats,
                                "--name-floor", metavar="NATS")
    valid_fraction: float = setting(0.05, "held-out share when --valid is not given", share_below_one,
                                    "--valid-fraction")
    eval_every: int = setting(200, "steps between validation, log lines and the best-model check", positive_int,
                              "--eval-every")
    n_print: int = setting(5, "names sampled and printed at each evaluation", non_negative_int, "--print")
    threads: int = setting(1, "threads sharing each minibatch, a part each (results depend slightly on it)",
                           positive_int, "--threads", metavar="N")
    random_state: Optional[int] = setting(None, "random seed: same seed, same model", seed, "--seed")


@dataclass(frozen=True)
class SamplingConfig(CheckedSettings):
    """How names are drawn from a model; generate's and evaluate's flags and every sampler's defaults."""

    temperature: float = setting(1.0, "sampling temperature", temperature, "--temperature")
    top_k: Optional[int] = setting(None, "sample only from the k likeliest characters", top_k, "--top-k")
    prefix: str = setting("", "start every name with this text", text, "--prefix")
    max_length: int = setting(200, "longest name sampled", max_length, "--max-length")
    grammar: bool = setting(True, "keep brackets balanced while sampling (--no-grammar samples the model as it is)",
                            boolean, "--grammar")
    threads: int = setting(1, "threads sharing each sampling batch (the same names up to rounding, faster on an "
                              "otherwise idle multi-core machine)", threads, "--threads", metavar="N")

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.prefix) >= self.max_length:
            raise ConfigError(f"max length {quoted(self.max_length)} must be a whole number above the prefix length "
                              f"({len(self.prefix)})")


DEFAULT_MODEL = "druglike"  # the shipped model that generate, evaluate, optimize and report use unless told

# Fine-tuning a fitted model on a small series (a few dozen to a few thousand names): a gentler
# step, passes over the set rather than a step count, a large held-out share watched often so the
# best model is kept before the series is learnt by heart, no short-name weighting. The run's
# schedule is these and the user's own settings, never the parent's (its architecture is kept).
FINE_TUNE_DEFAULTS: dict[str, Any] = {
    "learning_rate": 1e-3, "epochs": 10.0, "batch_size": 16, "valid_fraction": 0.2, "eval_every": 5,
    "lr_decay": False, "short_below": 0, "short_weight": 1.0, "n_print": 0,
}


def setting_names() -> tuple[str, ...]:
    """Every CharRNN setting: the model's, then the training run's."""
    return ModelConfig.setting_names() + TrainConfig.setting_names()


def defaults() -> dict[str, Any]:
    return {f.name: f.default for c in (ModelConfig, TrainConfig) for f in fields(c) if f.default is not MISSING}


# What a model file written before a setting existed was trained with (the defaults have changed since).
LEGACY_SETTINGS: dict[str, Any] = {"embed": 0, "weight_init": "seed", "warmup": 0, "decay_share": 1.0,
                                   "direction": "forward"}


def known_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A model file's stored settings: only keys that are settings, LEGACY_SETTINGS for those it predates."""
    names = set(setting_names())
    return {**LEGACY_SETTINGS, **{k: v for k, v in settings.items() if k in names}}


def split_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """CharRNN settings as (model settings, training settings); ConfigError for a name that is neither."""
    unknown = sorted(set(settings) - set(setting_names()))
    if unknown:
        raise ConfigError(f"unknown CharRNN setting {quoted(unknown[0])} (settings: {', '.join(setting_names())})")
    model = set(ModelConfig.setting_names())
    return ({k: v for k, v in settings.items() if k in model}, {k: v for k, v in settings.items() if k not in model})


def resumed(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The settings of a resumed run: the checkpoint's, with those given again taking their place."""
    return known_settings(stored) | given


def fine_tuning(given: dict[str, Any]) -> TrainConfig:
    """A fine-tuning run's schedule: the defaults, FINE_TUNE_DEFAULTS, then the user's own settings."""
    return TrainConfig(**(FINE_TUNE_DEFAULTS | split_settings(given)[1]))
