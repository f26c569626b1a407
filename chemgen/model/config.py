"""Training settings, declared once.

Each field of :class:`TrainConfig` carries its type, default, a one-line help
and its check. Everything else derives from it: ``chemgen train``'s flags
(name, type, choices, default, help), ``CharRNN``'s constructor settings and
their validation, and the settings stored in a model file. A new training
option is one field here plus the code that uses it.
"""
from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Callable, Optional, Sequence

from chemgen.errors import ConfigError
from chemgen.model.cells import CELLS, INIT_SCHEMES, init_scheme
from chemgen.model.modelfile import FLOAT_DTYPES
from chemgen.model.optim import CLIPPERS, OPTIMIZERS

Check = Callable[[str, Any], str]  # (setting name, value) -> "" or why the value is wrong


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive_int(name: str, value: Any) -> str:
    return "" if _is_int(value) and value > 0 else f"{name} must be a positive integer, not {value!r}"


def non_negative_int(name: str, value: Any) -> str:
    return "" if _is_int(value) and value >= 0 else f"{name} must be a non-negative integer, not {value!r}"


def positive_number(name: str, value: Any) -> str:
    return "" if _is_number(value) and value > 0 else f"{name} must be a positive number, not {value!r}"


def non_negative_number(name: str, value: Any) -> str:
    return "" if _is_number(value) and value >= 0 else f"{name} must be a non-negative number, not {value!r}"


def share_below_one(name: str, value: Any) -> str:
    return "" if _is_number(value) and 0 <= value < 1 else f"{name} must be in [0, 1), not {value!r}"


def weight_up_to_one(name: str, value: Any) -> str:
    return "" if _is_number(value) and 0 < value <= 1 else f"{name} must be in (0, 1], not {value!r}"


def nats(name: str, value: Any) -> str:
    return "" if _is_number(value) and value >= 0 else f"{name} must be a non-negative number of nats, not {value!r}"


def boolean(name: str, value: Any) -> str:
    return "" if isinstance(value, bool) else f"{name} must be True or False, not {value!r}"


def seed(name: str, value: Any) -> str:
    ok = value is None or (_is_int(value) and 0 <= value < 2**63)
    return "" if ok else f"{name} must be a non-negative integer (or None), not {value!r}"


def weight_init(name: str, value: Any) -> str:
    try:
        init_scheme(value)
    except ValueError as exc:
        return str(exc)
    return ""


def decay_share(name: str, value: Any) -> str:
    return "" if _is_number(value) and 0 < value <= 1 else f"{name} must be in (0, 1], not {value!r}"


def one_of(choices: Sequence[str]) -> Check:
    def check(name: str, value: Any) -> str:
        return "" if value in choices else f"{name} must be one of {', '.join(choices)}, not {value!r}"
    return check


def setting(default: Any, help: str, check: Check, flag: str, choices: Optional[Sequence[str]] = None,
            metavar: Optional[str] = None) -> Any:
    """A config field: its default, one-line help, check, and command-line flag."""
    return field(default=default, metadata={"help": help, "check": check, "flag": flag, "choices": choices,
                                            "metavar": metavar})


class CheckedSettings:
    """Base of the settings dataclasses: every field checked on creation, by its own check."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            message = f.metadata["check"](f.name, getattr(self, f.name))
            if message:
                raise ConfigError(message)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrainConfig(CheckedSettings):
    """How to train a CharRNN; every field is a ``chemgen train`` flag and a CharRNN setting."""

    cell: str = setting("gru", "recurrent cell (rnn is the seed's)", one_of(list(CELLS)), "--cell", list(CELLS))
    hidden_size: int = setting(256, "hidden units per layer (the seed's n_a)", positive_int, "--hidden")
    num_layers: int = setting(1, "stacked recurrent layers", positive_int, "--layers")
    embed: int = setting(128, "width of a learned character embedding before the first layer (0: one-hot input, "
                              "the seed's)", non_negative_int, "--embed", metavar="D")
    weight_init: str = setting("chemgen", f"how weights and biases start: {', '.join(INIT_SCHEMES)}, then optional "
                                          f"KEY=VALUE changes (chemgen,recurrent=orthogonal)", weight_init,
                               "--weight-init", metavar="SCHEME")
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
    analogs: int = setting(0, "analogs per name added to the training names (one or two edits: an aromatic "
                              "substituent added, swapped or removed; named and OPSIN-checked like a series), so a "
                              "small series teaches its scaffold rather than its members (0: off)", non_negative_int,
                           "--analogs", metavar="N")
    valid_fraction: float = setting(0.05, "held-out share when --valid is not given", share_below_one,
                                    "--valid-fraction")
    eval_every: int = setting(200, "steps between validation, log lines and the best-model check", positive_int,
                              "--eval-every")
    n_print: int = setting(5, "names sampled and printed at each evaluation", non_negative_int, "--print")
    threads: int = setting(1, "threads sharing each minibatch, a part each (results depend slightly on it)",
                           positive_int, "--threads", metavar="N")
    dtype: str = setting("float32", "float type of parameters and activations", one_of(FLOAT_DTYPES), "--dtype",
                         list(FLOAT_DTYPES))
    random_state: Optional[int] = setting(None, "random seed: same seed, same model", seed, "--seed")


DEFAULT_MODEL = "druglike"  # the shipped model that generate, evaluate, optimize and report use unless told

# Fine-tuning a fitted model on a small series (a few dozen to a few thousand names): a gentler
# step, passes over the set rather than a step count, a large held-out share watched often so the
# best model is kept before the series is learnt by heart, no short-name weighting, and ten
# analogs per member (one or two edits away) beside the series, so the model learns the
# series' scaffold rather than its members (bench/finetune.py measures both).
FINE_TUNE_DEFAULTS: dict[str, Any] = {
    "learning_rate": 1e-3, "epochs": 10.0, "analogs": 10, "batch_size": 16, "valid_fraction": 0.2, "eval_every": 5,
    "lr_decay": False, "short_below": 0, "short_weight": 1.0, "n_print": 0,
}


def setting_names() -> tuple[str, ...]:
    return TrainConfig.setting_names()


def defaults() -> dict[str, Any]:
    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}


# What a model file written before a setting existed was trained with (the defaults have changed since).
LEGACY_SETTINGS: dict[str, Any] = {"embed": 0, "weight_init": "seed", "warmup": 0, "decay_share": 1.0}


def known_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A model file's stored settings: only keys that are settings, LEGACY_SETTINGS for those it predates."""
    names = set(setting_names())
    return {**LEGACY_SETTINGS, **{k: v for k, v in settings.items() if k in names}}
