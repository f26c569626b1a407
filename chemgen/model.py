"""CharRNN: the estimator users hold (scikit-learn manner), its model file, and shipped models.

The constructor stores settings; ``fit(names)`` validates, learns and returns
self; learned state ends in ``_``; ``score(names)`` gives log-likelihoods
(higher is better); ``sample(n, ...)`` generates. Training, sampling and
scoring live in chemgen.train, chemgen.sample and chemgen.score.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from chemgen import modelfile
from chemgen.cells import CELLS, init_scheme
from chemgen.errors import ConfigError, ModelFileError
from chemgen.network import NetConfig, expected_shapes
from chemgen.vocab import Vocab

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_MODEL = "systematic"

# Settings stored by the constructor; each is also a `chemgen train` flag.
SETTINGS = (
    "cell", "hidden_size", "num_layers", "optimizer", "learning_rate", "lr_decay", "batch_size", "steps",
    "clip", "clip_value", "dropout", "short_below", "short_weight", "name_floor", "valid_fraction", "eval_every",
    "n_print", "dtype", "random_state",
    "embed", "init", "warmup", "decay_share", "threads",
)

# What a model file written before a setting existed was trained with (its defaults since differ).
LEGACY_SETTINGS = {"embed": 0, "init": "seed", "warmup": 0, "decay_share": 1.0}


def stored_settings(meta: dict[str, Any]) -> dict[str, Any]:
    """The settings recorded in a model file's meta, with LEGACY_SETTINGS for those it predates."""
    stored = {k: v for k, v in meta.get("settings", {}).items() if k in SETTINGS}
    return {**LEGACY_SETTINGS, **stored}


class CharRNN:
    """Character-level recurrent network over compound names, written in NumPy."""

    def __init__(
        self,
        cell: str = "gru",  # "rnn" (the seed's vanilla cell), "gru" or "lstm"
        hidden_size: int = 256,  # units per layer (the seed's n_a)
        num_layers: int = 1,  # stacked recurrent layers
        optimizer: str = "adam",  # "adam" or "sgd" (the seed's update)
        learning_rate: float = 3e-3,  # step size
        lr_decay: bool = True,  # cosine decay of the learning rate to 10% over the last decay_share of the steps
        batch_size: int = 64,  # names per minibatch
        steps: int = 3000,  # optimizer steps (the seed's num_iterations)
        clip: str = "norm",  # "norm" (global L2 norm) or "value" (the seed's elementwise clip)
        clip_value: float = 5.0,  # threshold for either kind of clipping
        dropout: float = 0.0,  # share of each layer's outputs dropped while training (0: none)
        short_below: int = 0,  # names shorter than this many characters are drawn less often (0: off)
        short_weight: float = 1.0,  # their chance of being drawn, relative to the other names
        name_floor: float = 0.0,  # nats: a name already likelier than e^-name_floor gives no gradient (0: off)
        valid_fraction: float = 0.05,  # share of names held out for validation when none are given
        eval_every: int = 200,  # steps between validation, logging and the best-model check
        n_print: int = 5,  # names sampled and printed at each evaluation (the seed printed 7)
        dtype: str = "float32",  # "float32" or "float64"
        random_state: Optional[int] = None,  # seed for initialisation, batching and the split
        embed: int = 128,  # width of a learned character embedding before the first layer (0: one-hot, the seed's)
        init: str = "chemgen",  # how weights and biases start: "chemgen", "torch" or "seed" (cells.INIT_SCHEMES)
        warmup: int = 0,  # steps of linear learning-rate warm-up (0: none)
        decay_share: float = 0.2,  # share of the steps, at the end, over which lr_decay acts (1.0: the whole run)
        threads: int = 1,  # threads computing parts of each minibatch (results depend on it, slightly)
    ):
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.optimizer, self.learning_rate, self.lr_decay = optimizer, learning_rate, lr_decay
        self.batch_size, self.steps, self.clip, self.clip_value = batch_size, steps, clip, clip_value
        self.dropout, self.short_below, self.short_weight = dropout, short_below, short_weight
        self.name_floor = name_floor
        self.valid_fraction, self.eval_every, self.n_print = valid_fraction, eval_every, n_print
        self.dtype, self.random_state = dtype, random_state
        self.embed, self.init, self.warmup, self.decay_share = embed, init, warmup, decay_share
        self.threads = threads

    # ------------------------------------------------------------ settings

    def get_params(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in SETTINGS}

    def validate_settings(self) -> None:
        """Raise ConfigError, in one line, for any setting out of range."""
        checks = [
            (self.cell in CELLS, f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}"),
            (self.optimizer in ("adam", "sgd"), f"optimizer must be adam or sgd, not {self.optimizer!r}"),
            (self.clip in ("norm", "value"), f"clip must be norm or value, not {self.clip!r}"),
            (self.dtype in modelfile.FLOAT_DTYPES, f"dtype must be float32 or float64, not {self.dtype!r}"),
            (_positive_int(self.hidden_size), f"hidden_size must be a positive integer, not {self.hidden_size!r}"),
            (_positive_int(self.num_layers), f"num_layers must be a positive integer, not {self.num_layers!r}"),
            (_positive_int(self.batch_size), f"batch_size must be a positive integer, not {self.batch_size!r}"),
            (_positive_int(self.steps) or self.steps == 0, f"steps must be a non-negative integer, not {self.steps!r}"),
            (_positive_int(self.eval_every), f"eval_every must be a positive integer, not {self.eval_every!r}"),
            (self.learning_rate > 0, f"learning_rate must be positive, not {self.learning_rate!r}"),
            (self.clip_value > 0, f"clip_value must be positive, not {self.clip_value!r}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), not {self.dropout!r}"),
            (_positive_int(self.short_below) or self.short_below == 0,
             f"short_below must be a non-negative integer, not {self.short_below!r}"),
            (0 < self.short_weight <= 1, f"short_weight must be in (0, 1], not {self.short_weight!r}"),
            (0 <= self.name_floor < math.inf,
             f"name_floor must be a non-negative number of nats, not {self.name_floor!r}"),
            (0 <= self.valid_fraction < 1, f"valid_fraction must be in [0, 1), not {self.valid_fraction!r}"),
            (_positive_int(self.embed) or self.embed == 0, f"embed must be a non-negative integer, not {self.embed!r}"),
            (_positive_int(self.warmup) or self.warmup == 0,
             f"warmup must be a non-negative integer, not {self.warmup!r}"),
            (_init_error(self.init) is None, _init_error(self.init)),
            (0 < self.decay_share <= 1, f"decay_share must be in (0, 1], not {self.decay_share!r}"),
            (_positive_int(self.threads), f"threads must be a positive integer, not {self.threads!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def config_(self) -> NetConfig:
        self._check_fitted()
        return self.net_config_

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ConfigError("this CharRNN is not fitted yet: call fit(names) or chemgen.load()")

    # ------------------------------------------------------------ learning and use

    def fit(self, names: Sequence[str], valid_names: Optional[Sequence[str]] = None, **train_options) -> "CharRNN":
        """Learn from names (list of str); see chemgen.train.fit for checkpoint options."""
        from chemgen.train import fit

        fit(self, names, valid_names, **train_options)
        return self

    def score(self, names: Sequence[str]) -> np.ndarray:
        """Log-likelihood (natural log, end token included) of each name, shape (N,).

        Raises VocabularyError naming the first name with an unknown character;
        use chemgen.score.score_names for per-name errors instead.
        """
        from chemgen.score import score_array

        self._check_fitted()
        return score_array(self, names)

    def sample(self, n: int, temperature: float = 1.0, top_k: Optional[int] = None, prefix: str = "",
               max_length: int = 200, random_state: Optional[int] = None) -> list:
        """n complete names as chemgen.Candidate (name, logp, logp_per_char, in_training)."""
        from chemgen.sample import sample_names

        self._check_fitted()
        return sample_names(self, n, temperature=temperature, top_k=top_k, prefix=prefix,
                            max_length=max_length, random_state=random_state)

    def in_training(self, names: list[str]) -> np.ndarray:
        """Which names were training names (from the fingerprint): (N,) bool."""
        self._check_fitted()
        return modelfile.fingerprint_contains(self.fingerprint_, names)

    # ------------------------------------------------------------ model file

    def model_meta(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "format": modelfile.FORMAT,
            "format_version": modelfile.FORMAT_VERSION,
            "config": asdict(self.net_config_),
            "vocab": self.vocab_.chars,
            "settings": self.get_params(),
            "training": self.training_info_,
        }

    def model_arrays(self, params: Optional[dict[str, np.ndarray]] = None) -> dict[str, np.ndarray]:
        """The arrays of a model file: ``param/*`` (these params, or the model's) and the fingerprint."""
        arrays = {f"param/{k}": v for k, v in (self.params_ if params is None else params).items()}
        arrays["fingerprint"] = self.fingerprint_
        return arrays

    def save(self, path: str | os.PathLike, params: Optional[dict[str, np.ndarray]] = None) -> None:
        """Write the model file atomically (with other params, e.g. the best so far, if given)."""
        modelfile.write_npz(path, self.model_arrays(params), self.model_meta())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CharRNN":
        """Read and validate a model (or checkpoint) file."""
        arrays, meta = modelfile.read_npz(path)
        return cls.from_arrays(path, arrays, meta)

    @classmethod
    def from_arrays(cls, path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> "CharRNN":
        try:
            vocab = Vocab(meta["vocab"])
            config = NetConfig(**meta["config"])
            settings = stored_settings(meta)
        except (KeyError, TypeError) as exc:
            raise ModelFileError(f"{path}: model metadata is incomplete ({exc})") from None
        if config.cell not in CELLS or config.vocab_size != vocab.size or config.hidden_size < 1:
            raise ModelFileError(f"{path}: model config is inconsistent ({config})")
        model = cls(**settings)
        model.params_ = modelfile.check_arrays(path, arrays, expected_shapes(config), config.dtype)
        fingerprint = arrays.get("fingerprint", np.zeros(0, dtype=np.uint64))
        if fingerprint.dtype != np.uint64 or fingerprint.ndim != 1:
            raise ModelFileError(f"{path}: training fingerprint has the wrong type")
        model.net_config_, model.vocab_, model.fingerprint_ = config, vocab, fingerprint
        model.training_info_ = meta.get("training", {})
        return model

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "params_") else "not fitted"
        return f"CharRNN(cell={self.cell!r}, hidden_size={self.hidden_size}, num_layers={self.num_layers}; {fitted})"


def _init_error(init: Any) -> Optional[str]:
    """Why ``init`` names no initialisation scheme, or None when it does."""
    try:
        init_scheme(init)
    except ValueError as exc:
        return str(exc)
    return None


def _positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def shipped_models() -> dict[str, Path]:
    """Models shipped in the package, by name (file stem)."""
    return {p.stem: p for p in sorted(MODELS_DIR.glob("*.npz"))}


def resolve_model(name_or_path: Optional[str | os.PathLike] = None) -> Path:
    """A model path from a shipped model's name, a file path, or None for the default."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    shipped = shipped_models()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".npz" or os.sep in str(name_or_path):
        return path
    known = ", ".join(shipped) or "none"
    raise ModelFileError(f"no model file or shipped model named {str(name_or_path)!r} (shipped models: {known})")


def load(name_or_path: Optional[str | os.PathLike] = None) -> CharRNN:
    """Load a model: the shipped default when no argument is given, a shipped model by name, or a file."""
    return CharRNN.load(resolve_model(name_or_path))
