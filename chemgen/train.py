"""Training: minibatched BPTT with validation, the best model kept, checkpoints and resume.

The seed's ``model`` loop, grown up: each step draws a random minibatch of
names (with replacement), runs forward and backward over the padded batch,
clips (by value, as the seed, or by global norm), and updates. Every
``eval_every`` steps it reports the smoothed training loss and the validation
loss (nats per character), samples a few names, and keeps the parameters with
the best validation loss. Checkpoints carry the optimizer and RNG state, so a
resumed run reproduces the uninterrupted one exactly.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from chemgen import modelfile, network
from chemgen.cells import Workspace, init_scheme
from chemgen.errors import ConfigError, ModelFileError
from chemgen.network import NetConfig
from chemgen.optim import clip, clip_global_norm, make_optimizer
from chemgen.progress import progress_bar
from chemgen.vocab import Vocab, batch_from_codes

EVAL_BATCH = 1024


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the checkpoint (if any) was written."""

    def __init__(self, step: int, checkpoint: Optional[str]):
        super().__init__(step, checkpoint)
        self.step, self.checkpoint = step, checkpoint


@dataclass
class TrainState:
    """Everything a checkpoint needs to continue exactly where training stopped."""

    step: int = 0
    smooth_loss: Optional[float] = None  # the seed's exponentially smoothed training loss
    best_valid_loss: float = math.inf
    best_step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per evaluation


def validate_names(names: Sequence[str], what: str = "training names") -> list[str]:
    """Names as a list of non-empty strings without newlines; ConfigError otherwise."""
    if isinstance(names, str):
        raise ConfigError(f"{what} must be a list of names, not one string")
    out = list(names)
    for index, name in enumerate(out):
        if not isinstance(name, str) or not name or "\n" in name:
            raise ConfigError(f"{what}: item {index} ({name!r}) is not a non-empty one-line name")
    if not out:
        raise ConfigError(f"{what}: no names given")
    return out


def split_names(names: list[str], valid_fraction: float, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """A random held-out share of the names (at least one name when the fraction is positive)."""
    if valid_fraction <= 0 or len(names) < 2:
        return names, []
    order = rng.permutation(len(names))
    n_valid = max(1, int(round(len(names) * valid_fraction)))
    return [names[i] for i in order[n_valid:]], [names[i] for i in order[:n_valid]]


def learning_rate_at(model, step: int) -> float:
    """The learning rate at a step (counted from 0): a linear warm-up over ``warmup`` steps, constant
    after it and, with ``lr_decay``, a cosine decay to 10% over the last ``decay_share`` of the steps
    (1.0: the whole run, which slows short runs; 0.2, the default, anneals only at the end)."""
    rate = model.learning_rate
    warmup = getattr(model, "warmup", 0)
    if step < warmup:
        rate *= (step + 1) / (warmup + 1)
    if model.lr_decay and model.steps > 1:
        span = max(1, int(round(getattr(model, "decay_share", 1.0) * model.steps)))  # the last steps
        start = model.steps - span
        if step >= start:
            rate *= 0.1 + 0.45 * (1 + math.cos(math.pi * min(step - start, span) / span))
    return rate


def mean_loss(config: NetConfig, params, codes: np.ndarray, lengths: np.ndarray) -> float:
    """Mean loss per character (end token included) over encoded names, in batches."""
    total, count = 0.0, 0.0
    for start in range(0, len(lengths), EVAL_BATCH):
        inputs, targets, mask = batch_from_codes(codes[start : start + EVAL_BATCH], lengths[start : start + EVAL_BATCH])
        total -= network.sequence_logp(config, params, inputs, targets, mask).sum()
        count += mask.sum()
    return total / count if count else math.nan


def workspace_of(model) -> Workspace:
    """The model's scratch arrays for training steps (made on first use, never saved)."""
    if getattr(model, "_workspace", None) is None:
        model._workspace = Workspace()
    return model._workspace


def draw_chances(model, lengths: np.ndarray) -> Optional[np.ndarray]:
    """Each training name's chance of joining a minibatch (N,), or None for uniform draws.

    Names shorter than ``short_below`` characters count ``short_weight`` as much
    as the rest: small molecules are nearly all known, so seeing them less
    often steers samples towards novel structures.
    """
    if not model.short_below or model.short_weight == 1.0:
        return None
    weights = np.where(lengths < model.short_below, model.short_weight, 1.0)  # (N,)
    return weights / weights.sum()


def above_floor(name_logp: np.ndarray, floor: float) -> np.ndarray:
    """1 for each name in the batch whose loss (-name_logp (B,), nats) is still above the floor, else 0 (B,).

    A name the model already gives a chance above e^-floor stops pulling its
    own probability up: no training name is learnt by heart, so samples do
    not keep repeating it (per-name "flooding", after Ishida et al. 2020).
    """
    return (-name_logp > floor).astype(name_logp.dtype)  # (B,)


def train_step(model, optimizer, codes: np.ndarray, lengths: np.ndarray, rows: np.ndarray,
               rng: Optional[np.random.Generator] = None) -> float:
    """optimize: forward, backward, clip, update on one minibatch; returns its loss (rng draws dropout masks).

    With ``threads`` > 1 the minibatch is dealt into that many parts (every k-th name of the sorted
    batch, so each part is sorted and about as long as the others), each part's gradients are
    computed in its own thread (NumPy releases the GIL inside its loops) and summed in a fixed order.
    """
    rows = rows[np.argsort(-lengths[rows], kind="stable")]  # longest first: finished rows are skipped
    parts = min(getattr(model, "threads", 1), len(rows))
    if parts > 1:
        grads, loss = _gradients_in_parts(model, codes, lengths, rows, parts, rng)
    else:
        grads, loss, _ = _gradients(model, codes, lengths, rows, None, workspace_of(model), rng)
    if model.clip == "value":
        clip(grads, model.clip_value)
    else:
        clip_global_norm(grads, model.clip_value)
    optimizer.update(model.params_, grads)
    return loss


def _gradients(model, codes, lengths, rows, n_chars: Optional[float], ws: Workspace,
               rng: Optional[np.random.Generator]) -> tuple[dict, float, float]:
    """Gradients of the loss summed over rows' characters divided by n_chars (default: theirs),
    the rows' mean loss per character and their character count."""
    inputs, targets, mask = batch_from_codes(codes[rows], lengths[rows])
    _, loss, cache = network.forward(model.net_config_, model.params_, inputs, targets, mask, ws,
                                     dropout=model.dropout, rng=rng)
    grad_mask = mask if not model.name_floor else mask * above_floor(cache.name_logp, model.name_floor)
    count = float(mask.sum())
    grads = network.backward(model.net_config_, model.params_, targets, grad_mask, cache, ws,
                             n_chars=count if n_chars is None else n_chars)
    return grads, loss, count


def _gradients_in_parts(model, codes, lengths, rows, parts: int, rng) -> tuple[dict, float]:
    """The minibatch's gradients and mean loss, its rows dealt into ``parts`` computed in threads."""
    pool, spaces = _thread_pool(model, parts)
    n_chars = float((lengths[rows] + 1).sum())
    rngs = [None] * parts
    if model.dropout and rng is not None:  # one generator per part, seeded in order: deterministic
        rngs = [np.random.default_rng(seed) for seed in rng.integers(0, 2**63, size=parts)]
    results = list(pool.map(lambda i: _gradients(model, codes, lengths, rows[i::parts], n_chars, spaces[i], rngs[i]),
                            range(parts)))
    grads = results[0][0]
    for other, _, _ in results[1:]:
        for key, value in other.items():
            grads[key] += value
    return grads, sum(loss * count for _, loss, count in results) / n_chars


def _thread_pool(model, parts: int):
    """The model's worker threads and one workspace per part (made on first use, never saved)."""
    if getattr(model, "_pool", None) is None or model._pool[0]._max_workers != parts:
        from concurrent.futures import ThreadPoolExecutor

        model._pool = (ThreadPoolExecutor(parts, initializer=_one_blas_thread), [Workspace() for _ in range(parts)])
    return model._pool


def _one_blas_thread() -> None:
    """In a worker thread: OpenBLAS calls made from this thread use one thread (the parts are the parallelism).
    Needs OpenBLAS 0.3.27+ (NumPy's wheels); elsewhere a no-op."""
    import ctypes
    import glob

    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    for path in glob.glob(libs):
        try:
            ctypes.CDLL(path).openblas_set_num_threads_local(ctypes.c_int(1))
            return
        except (OSError, AttributeError):
            continue


def fit(
    model,
    names: Sequence[str],
    valid_names: Optional[Sequence[str]] = None,
    checkpoint: Optional[str | os.PathLike] = None,
    checkpoint_every: int = 0,
    resume: Optional[str | os.PathLike] = None,
    best_path: Optional[str | os.PathLike] = None,
    log: Optional[Callable[[str], None]] = None,
) -> None:
    """Train ``model`` in place.

    checkpoint / checkpoint_every: where and how often (in steps) to write the
    full training state; it is also written at the end and on Ctrl-C.
    resume: a checkpoint to continue from (same names, same architecture).
    best_path: a model file rewritten whenever validation improves.
    log: called with one line per evaluation (None: silent).
    """
    model.validate_settings()
    names = validate_names(names)
    rng = np.random.default_rng(model.random_state)
    if valid_names is None:
        train_names, valid_names = split_names(names, model.valid_fraction, rng)
    else:
        train_names, valid_names = names, validate_names(valid_names, "validation names")
    _prepare(model, train_names, valid_names, rng)
    optimizer = make_optimizer(model.optimizer, model.learning_rate)
    state = TrainState()
    if resume is not None:
        state = _restore(model, optimizer, rng, resume)
    data = model.vocab_.encode_padded(train_names)
    valid = model.vocab_.encode_padded(sorted(valid_names, key=len, reverse=True)) if valid_names else None
    _loop(model, optimizer, rng, state, data, valid, checkpoint, checkpoint_every, best_path, log or (lambda _: None))


def _prepare(model, train_names: list[str], valid_names: list[str], rng: np.random.Generator) -> None:
    model.vocab_ = Vocab.from_names(train_names + valid_names)
    model.net_config_ = NetConfig(model.cell, model.hidden_size, model.num_layers, model.vocab_.size, model.dtype,
                                  model.embed)
    init = init_scheme(model.init)
    model.params_ = network.init_params(model.net_config_, rng, init)
    if init.get("output_bias") == "unigram":
        model.params_["by"][:] = unigram_log_frequencies(model.vocab_, train_names)
    model.fingerprint_ = modelfile.name_hashes(train_names)
    model.best_params_ = {k: v.copy() for k, v in model.params_.items()}
    model.training_info_ = {"n_train": len(train_names), "n_valid": len(valid_names)}


def unigram_log_frequencies(vocab: Vocab, names: list[str]) -> np.ndarray:
    """log of each token's share of all target tokens (characters and one end token per name), (V,)."""
    counts = np.ones(vocab.size)  # add-one, so no token starts impossible
    codes, lengths = vocab.encode_padded(names)
    counts += np.bincount(codes[codes > 0], minlength=vocab.size)
    counts[0] += len(names)
    return np.log(counts / counts.sum())


def _loop(model, optimizer, rng, state: TrainState, data, valid, checkpoint, checkpoint_every, best_path, log) -> None:
    codes, lengths = data
    chances = draw_chances(model, lengths)  # (N,) or None
    bar = progress_bar(total=model.steps, initial=min(state.step, model.steps), desc="training", unit="step")
    try:
        while state.step < model.steps:
            optimizer.learning_rate = learning_rate_at(model, state.step)
            if chances is None:
                rows = rng.integers(0, len(lengths), size=model.batch_size)
            else:
                rows = rng.choice(len(lengths), size=model.batch_size, p=chances)
            loss = train_step(model, optimizer, codes, lengths, rows, rng)
            state.smooth_loss = loss if state.smooth_loss is None else 0.98 * state.smooth_loss + 0.02 * loss
            state.step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{state.smooth_loss:.3f}", refresh=False)
            if state.step % model.eval_every == 0 or state.step == model.steps:
                _evaluate(model, state, valid, best_path, log)
            if checkpoint and checkpoint_every and state.step % checkpoint_every == 0:
                save_checkpoint(model, optimizer, rng, state, checkpoint)
    except KeyboardInterrupt:
        bar.close()
        if checkpoint:
            save_checkpoint(model, optimizer, rng, state, checkpoint)
        _finish(model, state)
        raise TrainingInterrupted(state.step, str(checkpoint) if checkpoint else None) from None
    bar.close()
    if checkpoint:
        save_checkpoint(model, optimizer, rng, state, checkpoint)
    _finish(model, state)


def _evaluate(model, state: TrainState, valid, best_path, log) -> None:
    """Validation loss, the best-model check, and the seed's printout of sampled names."""
    valid_loss = mean_loss(model.net_config_, model.params_, *valid) if valid is not None else math.nan
    improved = valid is None or valid_loss < state.best_valid_loss
    if improved:
        state.best_valid_loss, state.best_step = (valid_loss if valid is not None else math.inf), state.step
        model.best_params_ = {k: v.copy() for k, v in model.params_.items()}
    state.history.append({"step": state.step, "train_loss": state.smooth_loss, "valid_loss": valid_loss})
    samples = _preview(model, state.step)
    line = f"step {state.step}/{model.steps}  loss {state.smooth_loss:.4f}  valid {valid_loss:.4f} nats/char"
    log(line + ("  *best*" if improved and valid is not None else "") + (f"  | {' · '.join(samples)}" if samples else ""))
    if improved and best_path is not None:
        model.training_info_.update(_figures(state))
        model.save(best_path, model.best_params_)


def _preview(model, step: int) -> list[str]:
    if not model.n_print:
        return []
    return [c.name for c in model.sample(model.n_print, random_state=step, max_length=120)]


def _figures(state: TrainState) -> dict[str, Any]:
    best = None if math.isinf(state.best_valid_loss) or math.isnan(state.best_valid_loss) else state.best_valid_loss
    return {"steps_done": state.step, "best_valid_loss": best, "best_step": state.best_step}


def _finish(model, state: TrainState) -> None:
    """Leave the best parameters in the model, with the training figures (and stop its worker threads)."""
    if getattr(model, "_pool", None) is not None:
        model._pool[0].shutdown()
        model._pool = None
    model.params_ = model.best_params_
    model.training_info_.update(_figures(state))
    model.history_ = state.history


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(model, optimizer, rng: np.random.Generator, state: TrainState, path) -> None:
    """The whole training state in one model file (loadable as a model: its params are the current ones)."""
    arrays = model.model_arrays()
    arrays.update({f"best/{k}": v for k, v in model.best_params_.items()})
    arrays.update({f"optim/{k}": v for k, v in optimizer.state().items()})
    meta = model.model_meta()
    meta["checkpoint"] = {
        "state": asdict(state) | {"best_valid_loss": _json_float(state.best_valid_loss)},
        "optimizer_t": optimizer.t,
        "rng": rng.bit_generator.state,
    }
    modelfile.write_npz(path, arrays, meta)


def _json_float(value: float) -> Optional[float]:
    return None if math.isinf(value) or math.isnan(value) else value


def _restore(model, optimizer, rng: np.random.Generator, path) -> TrainState:
    """Load a checkpoint into a freshly prepared model; it must match names and architecture."""
    arrays, meta = modelfile.read_npz(path)
    if "checkpoint" not in meta:
        raise ModelFileError(f"{path}: a model file, not a training checkpoint (no optimizer state)")
    if NetConfig(**meta["config"]) != model.net_config_:  # (files older than a field get its default)
        raise ConfigError(f"{path}: checkpoint architecture {meta['config']} differs from this run's")
    if not np.array_equal(arrays.get("fingerprint"), model.fingerprint_):
        raise ConfigError(f"{path}: checkpoint was trained on other names (or another validation split)")
    expected = network.expected_shapes(model.net_config_)
    model.params_ = modelfile.check_arrays(path, arrays, expected, model.dtype)
    model.best_params_ = modelfile.check_arrays(path, arrays, expected, model.dtype, prefix="best/")
    ckpt = meta["checkpoint"]
    optimizer.load_state({k[len("optim/") :]: v for k, v in arrays.items() if k.startswith("optim/")}, ckpt["optimizer_t"])
    rng.bit_generator.state = ckpt["rng"]
    fields = dict(ckpt["state"])
    fields["best_valid_loss"] = math.inf if fields["best_valid_loss"] is None else fields["best_valid_loss"]
    return TrainState(**fields)
