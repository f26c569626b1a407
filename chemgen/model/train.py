"""Training: minibatched BPTT with validation, the best model kept, checkpoints and resume.

The seed's ``model`` loop, grown up: each step draws a random minibatch of
names (with replacement), runs forward and backward over the padded batch,
clips (by value, as the seed, or by global norm), and updates. Every
``eval_every`` steps it reports the smoothed training loss and the validation
loss (nats per character), samples a few names, and keeps the parameters with
the best validation loss. Checkpoints carry the optimizer and RNG state, so a
resumed run reproduces the uninterrupted one exactly.

Training works on a :class:`TrainConfig` and names, and returns what it
learned (:class:`TrainResult`); it knows nothing of the estimator.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Optional, Sequence

import numpy as np

from chemgen.errors import ChemgenError, ChemgenWarning, ConfigError
from chemgen.io.names import validate_names
from chemgen.io.progress import progress_bar
from chemgen.model import checkpoint as checkpoints
from chemgen.model import modelfile, network
from chemgen.model.checkpoint import deferred_interrupt
from chemgen.model.cells import Params, Workspace, init_scheme
from chemgen.model.config import ModelConfig, TrainConfig
from chemgen.model.modelfile import Learned
from chemgen.model.network import NetConfig
from chemgen.model.optim import CLIPPERS, make_optimizer
from chemgen.model.sample import draw_names
from chemgen.model.score import batch_rows
from chemgen.model.threads import one_blas_thread, sum_parts, warn_above_cores
from chemgen.model.vocab import Vocab, batch_from_codes

EVAL_BATCH = 1024


@dataclass
class TrainState:
    """Everything a checkpoint needs to continue exactly where training stopped."""

    step: int = 0
    smooth_loss: Optional[float] = None  # the seed's exponentially smoothed training loss
    best_valid_loss: float = math.inf
    best_step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per evaluation


@dataclass
class TrainResult:
    """What a run learned: the best parameters, the training figures and the curve."""

    learned: Learned
    training: dict[str, Any]  # n_train, n_valid, steps_done, best_valid_loss, best_step
    history: list[dict[str, Any]]


CHECKPOINT_KEY = "checkpoint"  # the model file's meta key holding a training run's state


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the checkpoint (if any) was written; carries the best model so far."""

    def __init__(self, step: int, checkpoint: Optional[str], result: TrainResult):
        super().__init__(step, checkpoint)
        self.step, self.checkpoint, self.result = step, checkpoint, result


class TrainingDiverged(ChemgenError):
    """The loss became NaN or infinite; the files written before are kept."""


def split_names(names: list[str], valid_fraction: float, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """A random held-out share of the names (at least one name when the fraction is positive)."""
    if valid_fraction <= 0 or len(names) < 2:
        return names, []
    order = rng.permutation(len(names))
    n_valid = max(1, int(round(len(names) * valid_fraction)))
    return [names[i] for i in order[n_valid:]], [names[i] for i in order[:n_valid]]


def learning_rate_at(config: TrainConfig, step: int) -> float:
    """The learning rate at a step (from 0): a linear warm-up over ``warmup`` steps, constant after it and,
    with ``lr_decay``, a cosine decay to 10% over the last ``decay_share`` of the steps (1.0: the whole
    run, which slows short runs; 0.2, the default, anneals only at the end)."""
    rate = config.learning_rate
    if step < config.warmup:
        rate *= (step + 1) / (config.warmup + 1)
    if config.lr_decay and config.steps > 1:
        span = max(1, int(round(config.decay_share * config.steps)))  # the last steps
        start = config.steps - span
        if step >= start:
            rate *= 0.1 + 0.45 * (1 + math.cos(math.pi * min(step - start, span) / span))
    return rate


def smooth(loss: Optional[float], cur_loss: float) -> float:
    """The seed's smoothed loss: an exponential moving average of the minibatch losses."""
    return cur_loss if loss is None else 0.98 * loss + 0.02 * cur_loss


def mean_loss(config: NetConfig, params: Params, codes: np.ndarray, lengths: np.ndarray) -> float:
    """Mean loss per character (end token included) over encoded names, in batches of at most EVAL_BATCH
    whose activations stay within the scoring bound (a GRU 512 on 160-character names: a few hundred)."""
    total, count, start = 0.0, 0.0, 0
    while start < len(lengths):
        rows = batch_rows(config, int(lengths[start:start + EVAL_BATCH].max()), EVAL_BATCH)
        inputs, targets, mask = batch_from_codes(codes[start : start + rows], lengths[start : start + rows])
        total -= network.sequence_logp(config, params, inputs, targets, mask).sum()
        count += mask.sum()
        start += rows
    return total / count if count else math.nan


def draw_chances(config: TrainConfig, lengths: np.ndarray) -> Optional[np.ndarray]:
    """Each training name's chance of joining a minibatch (N,), or None for uniform draws.

    Names shorter than ``short_below`` characters count ``short_weight`` as much
    as the rest: small molecules are nearly all known, so seeing them less
    often steers samples towards novel structures.
    """
    if not config.short_below or config.short_weight == 1.0:
        return None
    weights = np.where(lengths < config.short_below, config.short_weight, 1.0)  # (N,)
    return weights / weights.sum()


def above_floor(name_logp: np.ndarray, floor: float) -> np.ndarray:
    """1 for each name in the batch whose loss (-name_logp (B,), nats) is still above the floor, else 0 (B,).

    A name the model already gives a chance above e^-floor stops pulling its
    own probability up: no training name is learnt by heart, so samples do
    not keep repeating it (per-name "flooding", after Ishida et al. 2020).
    """
    return (-name_logp > floor).astype(name_logp.dtype)  # (B,)


def train_step(config: TrainConfig, learned: Learned, optimizer, codes: np.ndarray, lengths: np.ndarray,
               rows: np.ndarray, ws: Workspace, rng: Optional[np.random.Generator] = None,
               pool: Optional["ThreadParts"] = None) -> float:
    """optimize: forward, backward, clip, update on one minibatch; returns its loss (rng draws dropout masks).

    With a pool of threads the minibatch is dealt into parts (every k-th name of the sorted batch, so
    each part is sorted and about as long as the others), each part's gradients are computed in its
    own thread (NumPy releases the GIL inside its loops) and summed in a fixed order.
    """
    rows = rows[np.argsort(-lengths[rows], kind="stable")]  # longest first: finished rows are skipped
    if pool is not None and min(pool.parts, len(rows)) > 1:
        grads, loss = pool.gradients(config, learned, codes, lengths, rows, rng)
    else:
        grads, loss, _ = _gradients(config, learned, codes, lengths, rows, None, ws, rng)
    CLIPPERS[config.clip](grads, config.clip_value)
    optimizer.update(learned.params, grads)
    return loss


def _gradients(config: TrainConfig, learned: Learned, codes, lengths, rows, n_chars: Optional[float], ws: Workspace,
               rng: Optional[np.random.Generator]) -> tuple[Params, float, float]:
    """Gradients of the loss summed over rows' characters divided by n_chars (default: theirs),
    the rows' mean loss per character and their character count."""
    inputs, targets, mask = batch_from_codes(codes[rows], lengths[rows])
    net, params = learned.config, learned.params
    _, loss, cache = network.forward(net, params, inputs, targets, mask, ws, dropout=config.dropout, rng=rng)
    grad_mask = mask if not config.name_floor else mask * above_floor(cache.name_logp, config.name_floor)
    count = float(mask.sum())
    grads = network.backward(net, params, targets, grad_mask, cache, ws, n_chars=count if n_chars is None else n_chars)
    return grads, loss, count


class ThreadParts:
    """Worker threads that each compute the gradients of a part of every minibatch (``--threads``)."""

    def __init__(self, parts: int):
        from concurrent.futures import ThreadPoolExecutor

        warn_above_cores(parts)
        self.parts = parts
        self.executor = ThreadPoolExecutor(parts, initializer=one_blas_thread)
        self.spaces = [Workspace() for _ in range(parts)]

    def gradients(self, config: TrainConfig, learned: Learned, codes, lengths, rows,
                  rng: Optional[np.random.Generator]) -> tuple[Params, float]:
        """The minibatch's gradients and mean loss, its rows dealt into parts computed in threads."""
        parts = min(self.parts, len(rows))
        n_chars = float((lengths[rows] + 1).sum())
        rngs: list[Optional[np.random.Generator]] = [None] * parts
        if config.dropout and rng is not None:  # one generator per part, seeded in order: deterministic
            rngs = [np.random.default_rng(seed) for seed in rng.integers(0, 2**63, size=parts)]
        results = list(self.executor.map(
            lambda i: _gradients(config, learned, codes, lengths, rows[i::parts], n_chars, self.spaces[i], rngs[i]),
            range(parts)))
        return sum_parts([grads for grads, _, _ in results]), sum(loss * count for _, loss, count in results) / n_chars

    def close(self) -> None:
        self.executor.shutdown()


def unigram_log_frequencies(vocab: Vocab, names: list[str]) -> np.ndarray:
    """log of each token's share of all target tokens (characters and one end token per name), (V,)."""
    counts = np.ones(vocab.size)  # add-one, so no token starts impossible
    codes, lengths = vocab.encode_padded(names)
    counts += np.bincount(codes[codes > 0], minlength=vocab.size)
    counts[0] += len(names)
    return np.log(counts / counts.sum())


@dataclass
class Run:
    """One training run's moving parts."""

    model: ModelConfig
    config: TrainConfig
    learned: Learned  # the current parameters
    best_params: Params
    training: dict[str, Any]
    rng: np.random.Generator
    optimizer: Any
    state: TrainState = field(default_factory=TrainState)
    workspace: Workspace = field(default_factory=Workspace)
    pool: Optional[ThreadParts] = None  # threads sharing each minibatch (--threads above 1)

    def result(self) -> TrainResult:
        best = Learned(self.learned.config, self.best_params, self.learned.vocab, self.learned.fingerprint)
        return TrainResult(best, dict(self.training, **_figures(self.state)), self.state.history)

    def save(self, path, params: Optional[Params] = None) -> None:
        modelfile.write_model(path, self.learned, self.settings(), self.training_figures(), params)

    def settings(self) -> dict[str, Any]:
        """What the model file stores of the run's settings: the model's, then the training's."""
        return self.model.as_dict() | self.config.as_dict()

    def training_figures(self) -> dict[str, Any]:
        return dict(self.training, **_figures(self.state), history=modelfile.history_rows(self.state.history))


def fit(
    model: ModelConfig,
    config: TrainConfig,
    names: Sequence[str],
    valid_names: Optional[Sequence[str]] = None,
    checkpoint: Optional[str | os.PathLike] = None,
    checkpoint_every: int = 0,
    resume: Optional[str | os.PathLike] = None,
    best_path: Optional[str | os.PathLike] = None,
    log: Optional[Callable[[str], None]] = None,
    init: Optional[Learned] = None,
) -> TrainResult:
    """Train a model on names (a new one, or ``init`` fine-tuned); returns the best parameters by validation loss.

    checkpoint / checkpoint_every: where and how often (in steps) to write the
    full training state; it is also written at the end and on Ctrl-C.
    resume: a checkpoint to continue from (same names, same architecture).
    best_path: a model file rewritten whenever validation improves.
    log: called with one line per evaluation (None: silent).
    init: a fitted model to start from (its architecture, which ``model`` must
    match, and parameters; its vocabulary grows by the names' new characters).
    """
    names = validate_names(names)
    rng = np.random.default_rng(config.random_state)
    if valid_names is None:
        train_names, valid_names = split_names(names, config.valid_fraction, rng)
    else:
        train_names, valid_names = names, validate_names(valid_names, "validation names")
    if config.batch_size > 2 * len(train_names):
        warnings.warn(f"batch size {config.batch_size} is far above the {len(train_names)} training names: each "
                      f"minibatch repeats names many times (a smaller --batch-size trains as well, faster)",
                      ChemgenWarning, stacklevel=3)
    if config.epochs:
        config = replace(config, steps=max(1, math.ceil(config.epochs * len(train_names) / config.batch_size)))
    run = _prepare(model, config, train_names, valid_names, rng) if init is None else \
        _prepare_from(init, model, config, train_names, valid_names, rng, log or (lambda _: None))
    if resume is not None:
        _restore(run, resume)
    data = run.learned.vocab.encode_padded(train_names)
    valid = run.learned.vocab.encode_padded(sorted(valid_names, key=len, reverse=True)) if valid_names else None
    run.pool = ThreadParts(config.threads) if config.threads > 1 else None
    try:
        _loop(run, data, valid, checkpoint, checkpoint_every, best_path, log or (lambda _: None))
    finally:
        if run.pool is not None:
            run.pool.close()
    return run.result()


def _prepare(model: ModelConfig, config: TrainConfig, train_names: list[str], valid_names: list[str],
             rng: np.random.Generator) -> Run:
    vocab = Vocab.from_names(train_names + valid_names, model.direction)
    net = model.net(vocab.size)
    init = init_scheme(model.weight_init)
    params = network.init_params(net, rng, init)
    if init.get("output_bias") == "unigram":
        params["by"][:] = unigram_log_frequencies(vocab, train_names)
    learned = Learned(net, params, vocab, modelfile.name_hashes(train_names))
    return Run(model, config, learned, _copy(learned.params),
               {"n_train": len(train_names), "n_valid": len(valid_names)}, rng,
               make_optimizer(config.optimizer, config.learning_rate))


def _prepare_from(init: Learned, model: ModelConfig, config: TrainConfig, train_names: list[str],
                  valid_names: list[str], rng: np.random.Generator, log: Callable[[str], None]) -> Run:
    """A run that starts from a fitted model: same architecture, its parameters, a grown vocabulary."""
    net = init.config
    if model.net(net.vocab_size) != net or model.direction != init.vocab.direction:
        raise ConfigError(f"fine-tuning keeps the starting model's architecture ({net.cell}, {net.hidden_size} "
                          f"units, {net.num_layers} layers, {net.dtype}, embedding {net.embed}, direction "
                          f"{init.vocab.direction}); do not change cell, hidden size, layers, dtype, embedding or "
                          f"direction")
    vocab = Vocab.from_names(train_names + valid_names + [init.vocab.chars], init.vocab.direction)
    new_chars = sorted(set(vocab.chars) - set(init.vocab.chars))
    old_rows = np.array([vocab.char_to_ix[c] for c in init.vocab.ix_to_char])  # (V_old,)
    net, params = network.grow_vocab(net, init.params, old_rows, vocab.size, rng)
    if new_chars:
        log(f"vocabulary grown by {len(new_chars)} new character(s) {''.join(new_chars)!r}: their weights start "
            f"fresh, the rest are the starting model's")
    # known to the fine-tuned model: the parent's names and every name of the series, held-out ones included
    fingerprint = np.union1d(init.fingerprint, modelfile.name_hashes(train_names + valid_names)).astype(np.uint64)
    learned = Learned(net, params, vocab, fingerprint)
    return Run(model, config, learned, _copy(params), {"n_train": len(train_names), "n_valid": len(valid_names)},
               rng, make_optimizer(config.optimizer, config.learning_rate))


def _copy(params: Params) -> Params:
    return {k: v.copy() for k, v in params.items()}


def _loop(run: Run, data, valid, checkpoint, checkpoint_every, best_path, log) -> None:
    config, state = run.config, run.state
    codes, lengths = data
    chances = draw_chances(config, lengths)  # (N,) or None
    bar = progress_bar(total=config.steps, initial=min(state.step, config.steps), desc="training", unit="step")
    with deferred_interrupt() as interrupt:
        while state.step < config.steps and not interrupt.requested:
            run.optimizer.learning_rate = learning_rate_at(config, state.step)
            if chances is None:
                rows = run.rng.integers(0, len(lengths), size=config.batch_size)
            else:
                rows = run.rng.choice(len(lengths), size=config.batch_size, p=chances)
            loss = train_step(config, run.learned, run.optimizer, codes, lengths, rows, run.workspace, run.rng,
                              run.pool)
            if not math.isfinite(loss):
                bar.close()
                raise TrainingDiverged(f"training diverged at step {state.step + 1} (loss {loss}): lower --lr or "
                                       f"--clip-value; files written before this step are kept")
            state.smooth_loss = smooth(state.smooth_loss, loss)
            state.step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{state.smooth_loss:.3f}", refresh=False)
            if state.step % config.eval_every == 0 or state.step == config.steps:
                _evaluate(run, valid, best_path, log)
            if checkpoint and checkpoint_every and state.step % checkpoint_every == 0:
                save_checkpoint(run, checkpoint)
    bar.close()
    if checkpoint:
        save_checkpoint(run, checkpoint)
    if interrupt.requested:
        raise TrainingInterrupted(state.step, str(checkpoint) if checkpoint else None, run.result())


def _evaluate(run: Run, valid, best_path, log) -> None:
    """Validation loss, the best-model check, and the seed's printout of sampled names."""
    state, learned = run.state, run.learned
    valid_loss = mean_loss(learned.config, learned.params, *valid) if valid is not None else math.nan
    improved = valid is None or valid_loss < state.best_valid_loss
    if improved:
        state.best_valid_loss, state.best_step = (valid_loss if valid is not None else math.inf), state.step
        run.best_params = _copy(learned.params)
    state.history.append({"step": state.step, "train_loss": state.smooth_loss, "valid_loss": valid_loss})
    samples = _preview(run)
    valid_text = f"{valid_loss:.4f} nats/char" if valid is not None else "n/a (no validation names)"
    line = f"step {state.step}/{run.config.steps}  loss {state.smooth_loss:.4f}  valid {valid_text}"
    log(line + ("  *best*" if improved and valid is not None else "") + (f"  | {' · '.join(samples)}" if samples else ""))
    if improved and best_path is not None:
        run.save(best_path, run.best_params)


def _preview(run: Run) -> list[str]:
    if not run.config.n_print:
        return []
    samples, _ = draw_names(run.learned, run.config.n_print, 1.0, None, "", 120, np.random.default_rng(run.state.step),
                            max_attempts=10)  # an early model's names may not end: show those that did
    return [s.name for s in samples]


def _figures(state: TrainState) -> dict[str, Any]:
    best = None if math.isinf(state.best_valid_loss) or math.isnan(state.best_valid_loss) else state.best_valid_loss
    return {"steps_done": state.step, "best_valid_loss": best, "best_step": state.best_step}


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(run: Run, path) -> None:
    """The whole training state in one model file (loadable as a model: its params are the current ones)."""
    state = {"state": asdict(run.state) | {"best_valid_loss": _json_float(run.state.best_valid_loss)}}
    checkpoints.save(path, run.learned, run.settings(), run.training_figures(), CHECKPOINT_KEY, state,
                     run.optimizer, run.rng, arrays={f"best/{k}": v for k, v in run.best_params.items()})


def _json_float(value: float) -> Optional[float]:
    return None if math.isinf(value) or math.isnan(value) else value


def _restore(run: Run, path) -> None:
    """Load a checkpoint into a freshly prepared run; it must match names and architecture."""
    arrays, meta, ckpt = checkpoints.load(path, CHECKPOINT_KEY, "a model file, not a training checkpoint (no "
                                                                "optimizer state)")
    ours = asdict(run.learned.config)
    theirs = asdict(NetConfig(**meta["config"]))  # (files older than a field get its default)
    if theirs != ours:
        differ = ", ".join(f"{k} {theirs.get(k)} (this run: {v})" for k, v in ours.items() if theirs.get(k) != v)
        raise ConfigError(f"{path}: checkpoint architecture differs from this run's: {differ}")
    if not np.array_equal(arrays.get("fingerprint"), run.learned.fingerprint):
        raise ConfigError(f"{path}: checkpoint was trained on other names (or another validation split)")
    run.learned.params = modelfile.learned_from(path, arrays, meta).params
    run.best_params = modelfile.learned_from(path, arrays, meta, prefix="best/").params
    checkpoints.restore_optimizer(arrays, ckpt, run.optimizer, run.rng)
    fields_ = dict(ckpt["state"])
    fields_["best_valid_loss"] = math.inf if fields_["best_valid_loss"] is None else fields_["best_valid_loss"]
    run.state = TrainState(**fields_)
    if run.state.step > run.config.steps:
        raise ConfigError(f"{path}: checkpoint is at step {run.state.step}, past --steps {run.config.steps}: "
                          f"give more steps to train longer")
