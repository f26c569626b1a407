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
import math
import os
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from chemgen.errors import ModelFileError, VocabularyError
from chemgen.io.atomic import atomic_open
from chemgen.io.names import not_a_file
from chemgen.model.cells import CELLS
from chemgen.model.network import NetConfig, expected_shapes
from chemgen.model.vocab import Vocab

FORMAT = "chemgen-charrnn"
FORMAT_VERSION = 1
FLOAT_DTYPES = ("float32", "float64")
MAX_MODEL_BYTES = 1 << 30  # a model file's arrays, uncompressed, at most (1 GiB; the shipped models hold under 20 MB)
MAX_META_BYTES = 16 << 20  # its JSON metadata, at most
MAX_MEMBERS = 4096  # arrays in one file, at most (a checkpoint of a 64-layer network holds under 1,000)
_PROBE = {"vocab_size": 7, "embed": 11, "hidden_size": 13}  # small sizes no parameter dimension can confuse


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
    """Arrays and meta of a chemgen file; ModelFileError with a one-line reason otherwise.

    Nothing is inflated before it is checked: every member's declared size (zip directory and
    ``.npy`` header, which must agree) counts against MAX_MODEL_BYTES, and the network the meta
    declares must have exactly the shapes of the archive's parameters, before any array is read.
    """
    path = Path(path)
    problem = not_a_file(path)
    if problem:
        raise ModelFileError(f"model file {str(path)!r} {problem}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a chemgen model file (not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(path, archive)
            headers = {key: _header(path, archive, info) for key, info in members.items()}
            meta = _meta_of(path, _read_member(archive, members.pop("meta")) if "meta" in members else None)
            headers.pop("meta")
            if "config" in meta:
                _check_declared(path, meta, headers)
            arrays = {key: _read_member(archive, info) for key, info in members.items()}
    except ValueError as exc:
        raise ModelFileError(f"{path}: unreadable model file ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError, RuntimeError, NotImplementedError) as exc:
        raise ModelFileError(f"{path}: truncated or corrupt model file ({type(exc).__name__})") from None
    return arrays, meta


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's ``.npy`` members by array name, their declared sizes within the ceilings."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{path}: not a chemgen model file ({len(infos):,} members)")
    members = {info.filename[: -len(".npy")]: info for info in infos if info.filename.endswith(".npy")}
    if len(members) != len(infos):
        raise ModelFileError(f"{path}: not a chemgen model file (members other than arrays)")
    total = sum(info.file_size for info in infos)
    if total > MAX_MODEL_BYTES:
        raise ModelFileError(f"{path}: model file would inflate to {total:,} bytes, above the ceiling of "
                             f"{MAX_MODEL_BYTES:,}")
    if "meta" in members and members["meta"].file_size > MAX_META_BYTES:
        raise ModelFileError(f"{path}: model metadata of {members['meta'].file_size:,} bytes, above the ceiling "
                             f"of {MAX_META_BYTES:,}")
    return members


def _header(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """A member's array shape and dtype from its ``.npy`` header alone; it must fill the member exactly."""
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise ModelFileError(f"{path}: array {info.filename} is in .npy format {version}, not 1.0 or 2.0")
        shape, _, dtype = readers[version](handle)
        offset = handle.tell()
    if dtype.hasobject:
        raise ModelFileError(f"{path}: refusing pickled data in a model file")
    if offset + math.prod(shape) * dtype.itemsize != info.file_size:
        raise ModelFileError(f"{path}: array {info.filename} declares shape {shape} but holds "
                             f"{info.file_size - offset:,} bytes of data")
    return tuple(shape), dtype


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One checked member's array (the zip reader stops at its declared size)."""
    with archive.open(info) as handle:
        return np.lib.format.read_array(handle, allow_pickle=False)


def _check_declared(path: Path, meta: dict[str, Any], headers: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
    """The network the meta declares, against the ceilings and the archive's parameter headers."""
    config = config_of(path, meta)
    layers = {key.split(".")[0] for key in headers if key.startswith("param/l") and "." in key}
    if config.num_layers != len(layers):
        raise ModelFileError(f"{path}: model config declares {config.num_layers} layers, the file holds {len(layers)}")
    shapes = declared_shapes(config)
    size = sum(math.prod(shape) for shape in shapes.values()) * np.dtype(config.dtype).itemsize
    if size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{path}: model config declares {size:,} bytes of parameters, above the ceiling of "
                             f"{MAX_MODEL_BYTES:,}")
    for prefix in ("param/", "best/"):
        found = {k[len(prefix):]: v for k, v in headers.items() if k.startswith(prefix)}
        if found or prefix == "param/":
            check_shapes(path, found, shapes, config.dtype)


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


def declared_shapes(config: NetConfig) -> dict[str, tuple[int, ...]]:
    """Every parameter's shape for config, from its sizes alone (nothing the size of the network is allocated).

    The network is built at small probe sizes, where each dimension is the vocabulary (7), the
    embedding (11) or k hidden widths (13k), and scaled back to the declared sizes.
    """
    probe = replace(config, vocab_size=_PROBE["vocab_size"], embed=_PROBE["embed"] if config.embed else 0,
                    hidden_size=_PROBE["hidden_size"])

    def scaled(dim: int) -> int:
        if dim == _PROBE["vocab_size"]:
            return config.vocab_size
        if dim == _PROBE["embed"]:
            return config.embed
        if dim % _PROBE["hidden_size"] == 0:
            return dim // _PROBE["hidden_size"] * config.hidden_size
        raise AssertionError(f"parameter dimension {dim} of the probe network is not a declared size")

    return {key: tuple(scaled(d) for d in shape) for key, shape in expected_shapes(probe).items()}


def check_shapes(path: str | os.PathLike, found: dict[str, tuple[tuple[int, ...], np.dtype]],
                 expected: dict[str, tuple[int, ...]], dtype: str) -> None:
    """Parameters' (shape, dtype) by name, checked against the expected names, shapes and dtype."""
    missing, extra = set(expected) - set(found), set(found) - set(expected)
    if missing or extra:
        detail = f"missing {sorted(missing)}" if missing else f"unexpected {sorted(extra)}"
        raise ModelFileError(f"{path}: parameters do not match the config ({detail})")
    for key, shape in expected.items():
        if tuple(found[key][0]) != tuple(shape):
            raise ModelFileError(f"{path}: parameter {key} has shape {tuple(found[key][0])}, expected {tuple(shape)}")
        if np.dtype(found[key][1]).name != dtype or dtype not in FLOAT_DTYPES:
            raise ModelFileError(f"{path}: parameter {key} has dtype {found[key][1]}, expected {dtype}")


def check_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]],
                 dtype: str, prefix: str = "param/") -> dict[str, np.ndarray]:
    """The ``prefix`` arrays, checked against expected shapes and the dtype."""
    found = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    check_shapes(path, {k: (v.shape, v.dtype) for k, v in found.items()}, expected, dtype)
    for key, array in found.items():
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{path}: parameter {key} holds NaN or infinity")
    return found


def vocab_of(meta: dict[str, Any]) -> Vocab:
    """The vocabulary a file's meta declares (files from before directions write forward)."""
    return Vocab(meta["vocab"], meta.get("direction", "forward"))


def config_of(path: str | os.PathLike, meta: dict[str, Any]) -> NetConfig:
    """The network config a file's meta declares, its fields of the right kinds and consistent."""
    try:
        vocab = vocab_of(meta)
        config = NetConfig(**meta["config"])
    except (KeyError, TypeError, ValueError, VocabularyError) as exc:
        raise ModelFileError(f"{path}: model metadata is incomplete ({exc})") from None
    sizes = {"hidden_size": 1, "num_layers": 1, "vocab_size": 2, "embed": 0}  # smallest value of each
    wrong = [k for k, low in sizes.items()
             if not isinstance(getattr(config, k), int) or isinstance(getattr(config, k), bool)
             or getattr(config, k) < low]
    if wrong or config.cell not in CELLS or config.dtype not in FLOAT_DTYPES or config.vocab_size != vocab.size:
        raise ModelFileError(f"{path}: model config is inconsistent ({config})")
    return config


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
        "direction": learned.vocab.direction,
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
    config = config_of(path, meta)
    params = check_arrays(path, arrays, declared_shapes(config), config.dtype, prefix)
    fingerprint = arrays.get("fingerprint", np.zeros(0, dtype=np.uint64))
    if fingerprint.dtype != np.uint64 or fingerprint.ndim != 1:
        raise ModelFileError(f"{path}: training fingerprint has the wrong type")
    return Learned(config, params, vocab_of(meta), fingerprint)


def read_model(path: str | os.PathLike) -> tuple[Learned, dict[str, Any]]:
    """A model (or checkpoint) file's learned model and its meta, validated."""
    arrays, meta = read_npz(path)
    return learned_from(path, arrays, meta), meta
