"""The model file: an ``.npz`` written and read with ``allow_pickle=False``.

Arrays: ``param/<name>`` for the network, ``fingerprint`` (sorted uint64
hashes of the training names, for novelty checks), and in checkpoints
``optim/<m|v>/<name>`` and ``best/<name>``. One ``meta`` entry holds JSON
text: format tag and version, the network config, the vocabulary, training
settings and figures (with the training curve, ``training.history``, in files
written since it was stored). Writes are atomic (temporary file, then rename);
loading validates everything and refuses anything else in one line.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from chemgen.errors import ModelFileError
from chemgen.io.atomic import atomic_open
from chemgen.model.cells import CELLS
from chemgen.model.network import NetConfig, expected_shapes
from chemgen.model.vocab import Vocab

FORMAT = "chemgen-charrnn"
FORMAT_VERSION = 1
FLOAT_DTYPES = ("float32", "float64")


def name_hashes(names: Iterable[str]) -> np.ndarray:
    """Sorted unique 64-bit BLAKE2b hashes of names: the training fingerprint (N,) uint64."""
    digests = {int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "little") for n in names}
    return np.array(sorted(digests), dtype=np.uint64)


def fingerprint_contains(fingerprint: np.ndarray, names: list[str]) -> np.ndarray:
    """Which names are (with overwhelming probability) in the fingerprinted set: (len(names),) bool."""
    if fingerprint.size == 0 or not names:
        return np.zeros(len(names), dtype=bool)
    hashes = np.array(
        [int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "little") for n in names],
        dtype=np.uint64,
    )
    pos = np.clip(np.searchsorted(fingerprint, hashes), 0, fingerprint.size - 1)
    return fingerprint[pos] == hashes


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write arrays plus JSON meta atomically (temporary file, fsync, rename)."""
    payload = dict(arrays)
    payload["meta"] = np.array(json.dumps(meta, sort_keys=True))
    with atomic_open(path, "wb", fsync=True) as handle:
        np.savez(handle, **payload)


def read_npz(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and meta of a chemgen file; ModelFileError with a one-line reason otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a chemgen model file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ModelFileError(f"{path}: refusing pickled data in a model file") from None
        raise ModelFileError(f"{path}: unreadable model file ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise ModelFileError(f"{path}: truncated or corrupt model file ({type(exc).__name__})") from None
    return arrays, _meta_of(path, arrays.pop("meta", None))


def _meta_of(path: Path, raw: Any) -> dict[str, Any]:
    if raw is None or raw.dtype.kind != "U" or raw.shape != ():
        raise ModelFileError(f"{path}: not a chemgen model file (no metadata)")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: corrupt metadata in model file") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a chemgen model file (format tag missing)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {meta.get('format_version')} is not supported "
            f"(this chemgen reads version {FORMAT_VERSION})"
        )
    return meta


def check_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]],
                 dtype: str, prefix: str = "param/") -> dict[str, np.ndarray]:
    """The ``prefix`` arrays, checked against expected shapes and the dtype."""
    found = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    missing, extra = set(expected) - set(found), set(found) - set(expected)
    if missing or extra:
        detail = f"missing {sorted(missing)}" if missing else f"unexpected {sorted(extra)}"
        raise ModelFileError(f"{path}: parameters do not match the config ({detail})")
    for key, shape in expected.items():
        array = found[key]
        if array.shape != tuple(shape):
            raise ModelFileError(f"{path}: parameter {key} has shape {array.shape}, expected {tuple(shape)}")
        if array.dtype.name != dtype or dtype not in FLOAT_DTYPES:
            raise ModelFileError(f"{path}: parameter {key} has dtype {array.dtype}, expected {dtype}")
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{path}: parameter {key} holds NaN or infinity")
    return found


# ---------------------------------------------------------------- a learned model


@dataclass
class Learned:
    """What training learns and a model file holds: architecture, parameters, vocabulary, fingerprint."""

    config: NetConfig
    params: dict[str, np.ndarray]
    vocab: Vocab
    fingerprint: np.ndarray  # (N,) uint64 sorted hashes of the training names

    def in_training(self, names: list[str]) -> np.ndarray:
        """Which names were training names: (N,) bool."""
        return fingerprint_contains(self.fingerprint, names)


def model_meta(learned: Learned, settings: dict[str, Any], training: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": asdict(learned.config),
        "vocab": learned.vocab.chars,
        "settings": settings,
        "training": training,
    }


def history_rows(history: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Training-curve rows (step, train_loss, valid_loss) as JSON-safe values: NaN and infinity become None."""
    def plain(value: Any) -> Any:
        if isinstance(value, (float, np.floating)):
            return float(value) if np.isfinite(value) else None
        return value.item() if isinstance(value, np.generic) else value

    return [{key: plain(value) for key, value in row.items()} for row in history]


def write_model(path: str | os.PathLike, learned: Learned, settings: dict[str, Any], training: dict[str, Any],
                params: Optional[dict[str, np.ndarray]] = None, extra_arrays: Optional[dict[str, np.ndarray]] = None,
                extra_meta: Optional[dict[str, Any]] = None) -> None:
    """A model file (``params`` instead of the learned ones if given; checkpoints add extra arrays and meta)."""
    arrays = {f"param/{k}": v for k, v in (learned.params if params is None else params).items()}
    arrays["fingerprint"] = learned.fingerprint
    arrays.update(extra_arrays or {})
    write_npz(path, arrays, model_meta(learned, settings, training) | (extra_meta or {}))


def learned_from(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                 prefix: str = "param/") -> Learned:
    """The learned model in a file's arrays and meta (``prefix`` picks e.g. a checkpoint's best params)."""
    try:
        vocab = Vocab(meta["vocab"])
        config = NetConfig(**meta["config"])
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: model metadata is incomplete ({exc})") from None
    if config.cell not in CELLS or config.vocab_size != vocab.size or config.hidden_size < 1:
        raise ModelFileError(f"{path}: model config is inconsistent ({config})")
    params = check_arrays(path, arrays, expected_shapes(config), config.dtype, prefix)
    fingerprint = arrays.get("fingerprint", np.zeros(0, dtype=np.uint64))
    if fingerprint.dtype != np.uint64 or fingerprint.ndim != 1:
        raise ModelFileError(f"{path}: training fingerprint has the wrong type")
    return Learned(config, params, vocab, fingerprint)


def read_model(path: str | os.PathLike) -> tuple[Learned, dict[str, Any]]:
    """A model (or checkpoint) file's learned model and its meta, validated."""
    arrays, meta = read_npz(path)
    return learned_from(path, arrays, meta), meta
