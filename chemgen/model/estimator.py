"""CharRNN: the estimator users hold (scikit-learn manner), its model file, and shipped models.

The constructor stores settings (the fields of :class:`TrainConfig`, each with
its default, help and check); ``fit(names)`` validates, learns and returns
self; learned state ends in ``_``; ``score(names)`` gives log-likelihoods
(higher is better); ``sample(n, ...)`` generates. Training, sampling and
scoring live in chemgen.model.train, .sample and .score and work on a
:class:`Learned` model, not on the estimator.
"""
from __future__ import annotations

import hashlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from chemgen.errors import ConfigError, ModelFileError
from chemgen.io.names import quoted
from chemgen.model import modelfile
from chemgen.model.config import (
    DEFAULT_MODEL, ModelConfig, TrainConfig, defaults, fine_tuning, known_settings, setting_names, split_settings,
)
from chemgen.model.modelfile import Learned
from chemgen.model.sample import Sample

SHIPPED_DIR = Path(__file__).parent / "shipped"


class CharRNN:
    """Character-level recurrent network over compound names, written in NumPy.

    Settings are the fields of :class:`chemgen.model.config.ModelConfig` and
    :class:`~chemgen.model.config.TrainConfig` (``CharRNN(cell="gru", hidden_size=256, random_state=0)``),
    stored as given and checked by ``fit``.
    """

    def __init__(self, *args: Any, **settings: Any):
        if args:
            raise ConfigError(f"CharRNN takes its settings by name, e.g. CharRNN(cell='gru', hidden_size=256), "
                              f"not {quoted(args[0])}")
        unknown = sorted(set(settings) - set(setting_names()))
        if unknown:
            raise ConfigError(f"unknown CharRNN setting {quoted(unknown[0])} (settings: {', '.join(setting_names())})")
        for name, default in defaults().items():
            setattr(self, name, settings.get(name, default))

    # ------------------------------------------------------------ settings

    def get_params(self) -> dict[str, Any]:
        """The settings, as scikit-learn's estimators give them."""
        return {key: getattr(self, key) for key in setting_names()}

    def set_params(self, **settings: Any) -> "CharRNN":
        unknown = sorted(set(settings) - set(setting_names()))
        if unknown:
            raise ConfigError(f"unknown CharRNN setting {quoted(unknown[0])}")
        for key, value in settings.items():
            setattr(self, key, value)
        return self

    def model_config(self) -> ModelConfig:
        """The network settings, checked (ConfigError in one line for a bad one)."""
        return ModelConfig(**split_settings(self.get_params())[0])

    def train_config(self) -> TrainConfig:
        """The training settings, checked (ConfigError in one line for a bad one)."""
        return TrainConfig(**split_settings(self.get_params())[1])

    def _check_fitted(self) -> Learned:
        if not hasattr(self, "learned_"):
            raise ConfigError("this CharRNN is not fitted yet: call fit(names) or chemgen.load()")
        return self.learned_

    # learned state, scikit-learn style
    params_ = property(lambda self: self._check_fitted().params)
    vocab_ = property(lambda self: self._check_fitted().vocab)
    fingerprint_ = property(lambda self: self._check_fitted().fingerprint)
    net_config_ = property(lambda self: self._check_fitted().config)

    # ------------------------------------------------------------ learning and use

    def fit(self, names: Sequence[str], valid_names: Optional[Sequence[str]] = None, verbose: bool = False,
            **train_options) -> "CharRNN":
        """Learn from names (list of str); see chemgen.model.train.fit for checkpoint options.

        verbose: print a line per evaluation (loss, validation loss, sampled names) to stderr.
        """
        from chemgen.model.train import TrainingInterrupted, fit

        check_train_options(train_options)
        if verbose and train_options.get("log") is None:
            train_options["log"] = lambda line: print(line, file=sys.stderr, flush=True)
        model, config = self.model_config(), self.train_config()
        try:
            result = fit(model, config, names, valid_names, **train_options)
        except TrainingInterrupted as stop:
            self._adopt(stop.result)
            raise
        self._adopt(result)
        return self

    def fine_tune(self, names: Sequence[str], valid_names: Optional[Sequence[str]] = None,
                  settings: Optional[dict[str, Any]] = None, **train_options) -> "CharRNN":
        """Continue training this fitted model on a series of names, with small-set defaults; returns self.

        The run's schedule is :data:`~chemgen.model.config.FINE_TUNE_DEFAULTS`
        with ``settings`` over them (e.g. ``{"epochs": 40}``), never the parent's
        own run (only its seed, unless ``random_state`` is given); the architecture stays, the vocabulary grows by the series' new
        characters, and the model records its parent. To add analogs of the
        series' members, widen the names first (chemgen.chem.analogs.with_analogs).
        """
        from chemgen.model.train import TrainingInterrupted, fit

        start = self._check_fitted()
        check_train_options(train_options)
        if settings is not None and not isinstance(settings, dict):
            raise ConfigError(f"settings must be a dict such as {{'epochs': 40}}, not {quoted(settings)}")
        config = fine_tuning({"random_state": self.random_state} | (settings or {}))  # the parent's seed, unless given
        model = ModelConfig(**ModelConfig.of(start, self.weight_init).as_dict()
                            | split_settings(settings or {})[0])  # a different architecture is refused by fit
        parent = getattr(self, "source_", {"model": "a model fitted in this session"})
        try:
            result = fit(model, config, names, valid_names, init=start, **train_options)
        except TrainingInterrupted as stop:
            self.set_params(**config.as_dict())
            self._adopt(stop.result, parent)
            raise
        self.set_params(**config.as_dict())  # only now: a refused run leaves the model as it was
        self._adopt(result, parent)
        return self

    def _adopt(self, result, parent: Optional[dict[str, Any]] = None) -> None:
        self.learned_, self.training_info_, self.history_ = result.learned, result.training, result.history
        if parent is not None:
            self.training_info_["parent"] = parent

    def score(self, names: Sequence[str]) -> np.ndarray:
        """Log-likelihood (natural log, end token included) of each name, shape (N,).

        Raises VocabularyError naming the first name with an unknown character;
        use chemgen.model.score.score_names for per-name errors instead.
        """
        from chemgen.model.score import score_array

        return score_array(self._check_fitted(), names)

    def sample(self, n: int, temperature: float = 1.0, top_k: Optional[int] = None, prefix: str = "",
               max_length: int = 200, random_state: Optional[int] = None, grammar: bool = True,
               threads: int = 1) -> list[Sample]:
        """n complete names as Sample(name, logp, logp_per_char, in_training); grammar keeps brackets balanced,
        threads share each batch (names then depend on their number only through rounding)."""
        from chemgen.model.sample import sample_names

        return sample_names(self._check_fitted(), n, temperature=temperature, top_k=top_k, prefix=prefix,
                            max_length=max_length, random_state=random_state, grammar=grammar, threads=threads)

    def in_training(self, names: list[str]) -> np.ndarray:
        """Which names were training names (from the fingerprint): (N,) bool."""
        return self._check_fitted().in_training(names)

    # ------------------------------------------------------------ model file

    def save(self, path: str | os.PathLike) -> None:
        """Write the model file atomically (the training curve, ``history_``, goes into its training meta)."""
        learned = self._check_fitted()
        training = dict(self.training_info_)
        if getattr(self, "history_", None):
            training["history"] = modelfile.history_rows(self.history_)
        modelfile.write_model(path, learned, self.get_params(), training)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CharRNN":
        """Read and validate a model (or checkpoint) file."""
        learned, meta = modelfile.read_model(path)
        model = cls(**known_settings(meta.get("settings", {})))
        training = dict(meta.get("training", {}))
        history = training.pop("history", [])  # files written before the curve was stored have none
        model.learned_, model.training_info_ = learned, training
        model.history_ = history if isinstance(history, list) else []
        model.source_ = {"model": str(path), "sha256": file_sha256(path)}
        return model

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "learned_") else "not fitted"
        return f"CharRNN(cell={self.cell!r}, hidden_size={self.hidden_size}, num_layers={self.num_layers}; {fitted})"


CharRNN.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default) for name, default in defaults().items()]
)


TRAIN_OPTIONS = {"checkpoint": "path", "checkpoint_every": "int", "resume": "path", "best_path": "path",
                 "log": "callable"}  # what fit and fine_tune pass on to chemgen.model.train.fit


def check_train_options(options: dict[str, Any]) -> None:
    """ConfigError for an option fit does not take, or one of the wrong type."""
    for key, value in options.items():
        kind = TRAIN_OPTIONS.get(key)
        if kind is None:
            raise ConfigError(f"fit takes no option {quoted(key)} (options: {', '.join(TRAIN_OPTIONS)})")
        ok = ((value is None and kind != "int") or (kind == "path" and isinstance(value, (str, os.PathLike)) and str(value) != "")
              or (kind == "int" and isinstance(value, int) and not isinstance(value, bool) and value >= 0)
              or (kind == "callable" and callable(value)))
        if not ok:
            wanted = {"path": "a file path", "int": "a non-negative integer", "callable": "a function"}[kind]
            raise ConfigError(f"{key} must be {wanted}, not {quoted(value)}")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_models() -> dict[str, Path]:
    """Models shipped in the package, by name (file stem)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.npz"))}


def resolve_model(name_or_path: Optional[str | os.PathLike] = None) -> Path:
    """A model path from a shipped model's name, a file path, or None for the default."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ConfigError(f"a model is a file path or a shipped model's name, not {quoted(name_or_path)}")
    shipped = shipped_models()
    if not str(name_or_path).strip():
        raise ConfigError(f"the model's name is empty: give a model file or a shipped model's name "
                          f"({', '.join(shipped) or 'none shipped'})")
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
