"""Goal-directed learning: steer a copy of a prior model toward a score (REINVENT 4's DAP rule).

The agent starts as a copy of the prior. Each step it samples a batch of
names, the scoring function scores every one (a name without a structure
scores 0), the diversity filter zeroes hits on crowded scaffolds, a few of the
best names seen so far are replayed from memory, and one Adam step lowers

    mean over names of (log p_prior(name) + sigma * score(name) - log p_agent(name))^2

with the prior frozen. The gradient goes through chemgen's own backward pass:
the loss's derivative with respect to each name's log-likelihood is a
per-name weight (:func:`chemgen.model.network.dap_loss`).

Every distinct valid structure scored is recorded in order (a
:class:`~chemgen.goal.oracle.ScoredStructures` of the total scores, in the
order an oracle component scored them, else in sampling order); ``budget``
caps their number, and PMO's figures (AUC top-10, top-1/10/100 means) are
computed from that record. A run with a budget also stops when the agent has
collapsed (``stale_steps`` steps in a row without a new structure), and any
run with ``patience`` when the 100 best scores stay unchanged for that many
steps once 1,000 structures are scored (PMO's rule for REINVENT).

Outputs: the agent as a normal model file (its parent recorded in the meta),
a JSON Lines log of every scored sample (with ``call``, the structure's place
in the record, when the run has an oracle or a budget), a CSV of the best
unique structures, and checkpoints (``resume`` continues a run exactly).
Ctrl-C finishes the current step, writes everything, and raises
:class:`OptimizeInterrupted`. An oracle that fails ends the run the same way
(the failed step is not counted; a resume draws its batch again) and its
:class:`~chemgen.goal.oracle.OracleError` carries the result so far.
"""
from __future__ import annotations

import csv
import hashlib
import heapq
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from chemgen.chem import molecules as chem
from chemgen.errors import ChemgenError, ConfigError
from chemgen.filters import Candidate
from chemgen.goal.config import OptimizeConfig
from chemgen.goal.memory import DiversityFilter, NameVariants, ReplayMemory
from chemgen.goal.oracle import OracleError, ScoredStructures
from chemgen.goal.scoring import Component, ScoringFunction, is_oracle
from chemgen.io.atomic import StagedFile, atomic_open, check_writable, exclusive
from chemgen.model import checkpoint as checkpoints
from chemgen.model import modelfile, network
from chemgen.model.checkpoint import deferred_interrupt
from chemgen.model.cells import Workspace
from chemgen.model.estimator import CharRNN, file_sha256, resolve_model
from chemgen.model.modelfile import Learned
from chemgen.model.optim import Adam
from chemgen.model.sample import sample_names
from chemgen.model.score import logp_of
from chemgen.model.threads import Threads, sum_parts
from chemgen.model.vocab import batch_from_codes


CHECKPOINT_KEY = "optimize_state"  # the model file's meta key holding a run's state
PATIENCE_AFTER = 1000  # structures scored before the patience rule counts (PMO's REINVENT)
PATIENCE_TOP = 100  # the best scores the patience rule watches


class OptimizeInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after the checkpoint and outputs were written; carries the result so far."""

    def __init__(self, step: int, checkpoint: Optional[str], result: "OptimizeResult"):
        super().__init__(step, checkpoint)
        self.step, self.checkpoint, self.result = step, checkpoint, result


class OptimizeDiverged(ChemgenError):
    """The loss became NaN or infinite."""


@dataclass
class OptimizeState:
    """Everything besides parameters and optimizer moments that a checkpoint carries."""

    step: int = 0
    names_scored: int = 0
    seconds: float = 0.0  # wall time spent in steps
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per step
    best: dict[str, dict[str, Any]] = field(default_factory=dict)  # SMILES -> the best sample of that structure
    hit_scaffolds: set[str] = field(default_factory=set)  # scaffolds with a sample scoring >= min_score
    valid_names: int = 0  # names sampled that had a valid structure
    stale: int = 0  # steps in a row that scored no new structure
    unchanged: int = 0  # steps in a row that left the 100 best scores as they were (after 1,000 structures)


@dataclass
class OptimizeResult:
    """What a run gives back: the agent, the per-step history and the best unique structures (best first),
    with PMO's figures over the distinct structures scored (``scored``, in the order they were scored)."""

    agent: CharRNN
    history: list[dict[str, Any]]
    best: list[dict[str, Any]]
    steps_done: int
    names_scored: int
    seconds: float
    valid_names: int = 0  # names sampled with a valid structure
    structures: int = 0  # distinct valid structures scored
    auc_top10: float = 0.0  # PMO's AUC top-10 (normalised by the budget, else by the structures scored)
    top1: float = 0.0  # mean of the best 1, 10, 100 scores (of all, when fewer)
    top10: float = 0.0
    top100: float = 0.0
    stop_reason: str = ""  # why the run ended before its steps ("" when it ran them all)
    scored: list[tuple[str, float]] = field(default_factory=list)  # (SMILES, score) in the order scored

    def top_mean(self, n: int) -> float:
        """Mean score of the n best unique structures (missing ones count 0, as GuacaMol does)."""
        scores = [row["score"] for row in self.best[:n]]
        return float(sum(scores) / n) if n else math.nan

    def to_frame(self):
        """The best structures as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([_flat(row) for row in self.best])


# ---------------------------------------------------------------- the run


@dataclass
class Run:
    config: OptimizeConfig
    scoring: ScoringFunction
    prior: Learned
    agent: Learned
    optimizer: Adam
    rng: np.random.Generator
    parent: dict[str, Any]
    settings: dict[str, Any]  # the prior's training settings, kept in the agent's file
    training: dict[str, Any]
    diversity: DiversityFilter
    memory: ReplayMemory
    state: OptimizeState = field(default_factory=OptimizeState)
    variants: NameVariants = field(default_factory=NameVariants)  # other names of a structure (Augmented Memory)
    opsin: Any = None  # the namer's OPSIN check, started when names are augmented
    pool: Threads = field(init=False)  # config.threads threads sharing each step
    workspaces: list[Workspace] = field(init=False)  # one per thread
    scored: ScoredStructures = field(init=False)  # every distinct structure scored, its total, in order
    stop_reason: str = ""

    def __post_init__(self) -> None:
        self.pool = Threads(self.config.threads)
        self.workspaces = [Workspace() for _ in range(self.config.threads)]
        self.scored = ScoredStructures(None, self.config.budget)
        self.scoring.start_run(self.config.budget)

    def close(self) -> None:
        if self.opsin is not None:
            self.opsin.close()
            self.opsin = None

    @property
    def counting(self) -> bool:
        """Does this run count structures for a budget or an oracle (and log their call index)?"""
        return self.config.budget is not None or bool(self.scoring.oracles)

    def meta(self) -> dict[str, Any]:
        figures = {"structures": len(self.scored), "auc_top10": self.scored.auc(10)} if self.counting else {}
        return {"parent": self.parent, "optimize": {
            "settings": self.config.as_dict(), "scoring": self.scoring.describe(),
            "aggregation": self.scoring.aggregation, "steps_done": self.state.step,
            "names_scored": self.state.names_scored, **figures,
        }}

    def save_agent(self, path) -> None:
        modelfile.write_model(path, self.agent, self.settings, self.training, extra_meta=self.meta())

    def result(self) -> OptimizeResult:
        agent = CharRNN(**_known_settings(self.settings))
        agent.learned_ = Learned(self.agent.config, {k: v.copy() for k, v in self.agent.params.items()},
                                 self.agent.vocab, self.agent.fingerprint)
        agent.training_info_, agent.history_ = dict(self.training), []
        scored = self.scored
        return OptimizeResult(agent, list(self.state.history), ranked_best(self.state.best), self.state.step,
                              self.state.names_scored, self.state.seconds, self.state.valid_names, len(scored),
                              scored.auc(10), scored.top_mean(1), scored.top_mean(10), scored.top_mean(100),
                              self.stop_reason, list(zip(scored.order, scored.scores_in_order())))


def optimize(
    score: Any,
    prior: Any = None,
    config: Optional[OptimizeConfig] = None,
    *,
    out: Optional[str | os.PathLike] = None,
    log: Optional[str | os.PathLike] = None,
    summary: Optional[str | os.PathLike] = None,
    checkpoint: Optional[str | os.PathLike] = None,
    resume: Optional[str | os.PathLike] = None,
    progress: Optional[Callable[[str], None]] = None,
    run_options: Optional[dict[str, Any]] = None,
    **settings: Any,
) -> OptimizeResult:
    """Steer a prior toward a score; returns the agent, the history and the best structures.

    score: a spec (``"opsin,rdkit,similar(to=lead.smi)"``, ``'command(run="python dock.py")'``), a
        list of :class:`~chemgen.goal.scoring.Component` or specs, a ScoringFunction, or an oracle: a
        callable from a list of SMILES to one score in [0, 1] each, gated by OPSIN and RDKit.
    prior: a CharRNN, a model file or a shipped model's name (default: the
        config's ``prior``, else the shipped default model).
    config / settings: an OptimizeConfig, or its fields as keywords
        (``steps=300, budget=10_000, batch_size=64, sigma=128, random_state=0`` ...).
    out, log, summary, checkpoint: the agent model file, the JSON Lines log of
        every scored sample, the CSV of the best unique structures, the checkpoint.
    resume: a checkpoint of the same prior and scoring to continue from.
    progress: called with one line per step (None: silent).

    An oracle's failure raises :class:`~chemgen.goal.oracle.OracleError` after the
    log, summary, agent and checkpoint so far are written; ``error.result`` is the
    result so far.
    """
    if config is None:
        config = OptimizeConfig(**settings)
    elif settings:
        config = OptimizeConfig(**(config.as_dict() | settings))
    for path, what in ((out, "agent model file"), (log, "log"), (summary, "summary"), (checkpoint, "checkpoint")):
        if path is not None:
            check_writable(path, what)
    scoring = scoring_of(score, run_options)
    run = _prepare(config, scoring, prior if prior is not None else config.prior)
    if resume is not None:
        _restore(run, resume)
    say = progress or (lambda _: None)
    with exclusive([out, log, summary, checkpoint]), scoring, run.pool:  # every check passed: outputs now
        staged = open_log(log, run.state.step if resume is not None else 0)
        try:
            interrupted = _loop(run, staged, checkpoint, say)
        except OracleError as exc:
            _write_outputs(run, out, summary, checkpoint)
            raise _kept(exc, run, checkpoint) from exc
        finally:
            if staged is not None:
                staged.close()
            run.close()
        _write_outputs(run, out, summary, checkpoint)
    result = run.result()
    if interrupted:
        raise OptimizeInterrupted(run.state.step, str(checkpoint) if checkpoint else None, result)
    return result


def _write_outputs(run: Run, out, summary, checkpoint) -> None:
    if checkpoint:
        save_checkpoint(run, checkpoint)
    if out is not None:
        run.save_agent(out)
    if summary is not None:
        write_summary(summary, ranked_best(run.state.best)[: run.config.summary_size], run.scoring.labels)


def _kept(error: OracleError, run: Run, checkpoint) -> OracleError:
    """The oracle's error, saying what was kept, with the result so far attached."""
    kept = f"{len(run.scored):,} structures scored in {run.state.step} steps kept"
    where = f"; checkpoint {checkpoint} (continue with resume)" if checkpoint else ""
    stopped = OracleError(f"{error} (at step {run.state.step + 1}; {kept}{where})")
    stopped.result = run.result()
    return stopped


def scoring_of(score: Any, run_options: Optional[dict[str, Any]] = None) -> ScoringFunction:
    if isinstance(score, ScoringFunction):
        return score
    if isinstance(score, str):
        return ScoringFunction.from_spec(score, run_options=run_options)
    if isinstance(score, (list, tuple)):
        return ScoringFunction([c if isinstance(c, Component) else Component(c) for c in score],
                               run_options=dict(run_options or {}))
    if is_oracle(score):  # gated by OPSIN and RDKit (see ScoringFunction)
        return ScoringFunction([Component(score)], run_options=dict(run_options or {}))
    raise ConfigError(f"score must be a spec string, a list of components, a ScoringFunction or an oracle "
                      f"(a callable from a list of SMILES to scores), not {score!r}")


def _known_settings(settings: dict[str, Any]) -> dict[str, Any]:
    from chemgen.model.config import known_settings

    return known_settings(settings)


def parent_of(prior: Any) -> tuple[Learned, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The prior's learned model, settings, training figures and its parent record {path, sha256}."""
    if isinstance(prior, CharRNN):
        learned = prior._check_fitted()
        source = getattr(prior, "source_", None)
        if source and source.get("sha256"):
            parent = {"path": source.get("model"), "sha256": source["sha256"]}
        else:  # fitted in this session: no file, so the parameters' digest
            digest = hashlib.sha256()
            for key in sorted(learned.params):
                digest.update(key.encode())
                digest.update(np.ascontiguousarray(learned.params[key]).tobytes())
            parent = {"path": None, "sha256": digest.hexdigest(), "of": "parameters"}
        training = dict(getattr(prior, "training_info_", {}))
        return learned, prior.get_params(), _with_parent(training, parent), parent
    path = resolve_model(prior)
    learned, meta = modelfile.read_model(path)
    parent = {"path": str(path), "sha256": file_sha256(path)}
    return learned, meta.get("settings", {}), _with_parent(meta.get("training", {}), parent), parent


def _with_parent(training: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """The prior's training figures, its own parent replaced by the prior (as fine-tuning records it)."""
    return dict(training, parent={"model": parent["path"], "sha256": parent["sha256"]})


def _prepare(config: OptimizeConfig, scoring: ScoringFunction, prior: Any) -> Run:
    learned, settings, training, parent = parent_of(prior)
    agent = Learned(learned.config, {k: v.copy() for k, v in learned.params.items()}, learned.vocab,
                    learned.fingerprint)
    return Run(config, scoring, learned, agent, Adam(config.learning_rate), np.random.default_rng(config.random_state),
               parent, settings, training, DiversityFilter(config.bucket_size, config.min_score),
               ReplayMemory(config.memory_size))


def _loop(run: Run, log, checkpoint, say: Callable[[str], None]) -> bool:
    """Steps until done, stopped (budget, collapse) or Ctrl-C; True when interrupted."""
    config, state = run.config, run.state
    limit = config.step_limit()
    with deferred_interrupt() as interrupt:
        while (limit is None or state.step < limit) and not interrupt.requested and not _out_of_time(run):
            if (reason := stop_reason(run)):
                run.stop_reason = reason
                say(f"stopped: {reason}")
                break
            rng = run.rng.bit_generator.state
            started = time.perf_counter()
            try:
                rows, figures = step(run)
            except OracleError:
                run.rng.bit_generator.state = rng  # the failed step never happened: a resume draws its batch again
                raise
            state.seconds += time.perf_counter() - started
            figures["seconds"] = state.seconds  # the history row includes this step's time
            if log is not None:
                log.write("".join(json.dumps(row, sort_keys=False) + "\n" for row in rows))
            say(progress_line(run, figures))
            if checkpoint and config.checkpoint_every and state.step % config.checkpoint_every == 0:
                save_checkpoint(run, checkpoint)
                if log is not None:
                    log.publish()  # the log file and the checkpoint agree at every checkpoint
        return interrupt.requested


def _out_of_time(run: Run) -> bool:
    return bool(run.config.time_limit) and run.state.seconds >= run.config.time_limit


def stop_reason(run: Run) -> str:
    """Why a run stops before its next step ("" to go on): its budget spent, no new structure for
    ``stale_steps`` (with a budget), or the best scores unchanged for ``patience`` steps (when set)."""
    config, state, scored = run.config, run.state, run.scored
    if config.budget is not None and scored.exhausted:
        return f"budget reached: {len(scored):,} distinct structures scored"
    if config.budget is not None and config.stale_steps and state.stale >= config.stale_steps:
        return f"no new structure in {state.stale} steps: the agent has collapsed"
    if config.patience and state.unchanged >= config.patience:
        return (f"the {PATIENCE_TOP} best scores unchanged for {state.unchanged} steps after {len(scored):,} "
                f"structures: the agent has converged")
    return ""


def step(run: Run) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One sample-score-learn step; returns the log rows of the batch and the step's figures."""
    config, state = run.config, run.state
    samples = sample_names(run.agent, config.batch_size, max_length=config.max_length,
                           random_state=int(run.rng.integers(2**63)), threads=config.threads)
    candidates = [Candidate(s.name, s.logp, s.logp_per_char, s.in_training) for s in samples]
    sent_before = len(run.scoring.scored) if run.scoring.scored is not None else 0
    top_before = _top_scores(run.scored) if config.patience else []
    table = run.scoring.score(candidates)
    smiles, scaffolds = structures(candidates)
    calls = record_structures(run, smiles, table.total, sent_before)
    _count(run, calls, top_before, smiles)
    rewards = run.diversity.penalise(table.total, scaffolds) if config.diversity_filter else table.total.copy()
    if config.loss == "hill_climb":
        prior_logp, agent_logp, loss = climb(run, samples, smiles, rewards)
    else:
        keep = learnt_samples(config, smiles, [s.name for s in samples], rewards)
        prior_logp, agent_logp, loss = learn_batch(run, samples, keep, rewards)
        if config.replay:
            for i, sample in enumerate(samples):
                run.memory.add(sample.name, float(rewards[i]), float(prior_logp[i]), smiles[i])
        if config.augment_rounds:
            augment(run, [s.name for s in samples], smiles, keep, rewards)
    state.step += 1
    state.names_scored += len(samples)
    rows = []
    for i, sample in enumerate(samples):
        row = {"step": state.step, "name": sample.name, "logp_prior": float(prior_logp[i]),
               "logp_agent": float(agent_logp[i]), "score": float(table.total[i]), "reward": float(rewards[i]),
               "components": table.components_of(i), "smiles": smiles[i], "scaffold": scaffolds[i],
               "in_training": sample.in_training}
        if run.counting:
            row["call"] = calls[i]
        rows.append(row)
        if smiles[i] is not None or table.total[i] > 0:  # a structure, or a score that needs none
            _keep_best(state.best, row)
            if table.total[i] >= config.min_score and scaffolds[i] is not None:
                state.hit_scaffolds.add(scaffolds[i])
    if len(state.best) > 40 * config.summary_size:
        state.best = {_key(r): r for r in ranked_best(state.best)[: 20 * config.summary_size]}
    figures = {"step": state.step, "mean_score": float(table.total.mean()) if len(table.total) else 0.0,
               "best_score": max((r["score"] for r in state.best.values()), default=0.0),
               "valid": float(np.mean([s is not None for s in smiles])) if smiles else 0.0,
               "scaffolds": len(state.hit_scaffolds), "loss": loss, "names_scored": state.names_scored,
               "seconds": state.seconds}
    state.history.append(figures)
    return rows, figures


def learnt_samples(config: OptimizeConfig, smiles: Sequence[Optional[str]], names: Sequence[str],
                   rewards: np.ndarray) -> np.ndarray:
    """Indices of the samples that enter the loss, in batch order: each structure's first sample (with
    ``unique_structures``), then the best ``learn_share`` of the batch by reward."""
    keep = first_of_each(smiles, names) if config.unique_structures else np.arange(len(names))
    if config.learn_share < 1:
        count = max(1, int(config.learn_share * len(names)))
        keep = np.sort(keep[np.argsort(-rewards[keep], kind="stable")[:count]])
    return keep


def first_of_each(smiles: Sequence[Optional[str]], names: Sequence[str]) -> np.ndarray:
    """Indices of each structure's first sample in the batch (a name without a structure is its own key)."""
    seen: set[str] = set()
    keep = []
    for i, (key, name) in enumerate(zip(smiles, names)):
        key = key or f"name:{name}"
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def learn_batch(run: Run, samples: Sequence[Any], keep: Sequence[int],
                rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """One Adam step on the kept samples and the names replayed from memory; returns every sample's prior and
    agent log-likelihood before the step (N,) each (a dropped sample's from its sampling and the prior) and
    the loss."""
    config = run.config
    keep = np.asarray(keep, dtype=np.int64)
    replayed = run.memory.sample(config.replay_size, run.rng, config.replay_by_score) if config.replay else []
    names = [samples[i].name for i in keep] + [e["name"] for e in replayed]
    scores = np.concatenate([rewards[keep], [e["score"] for e in replayed]])  # (K + R,)
    learnt_prior, learnt_agent, loss = learn(run, names, scores)
    prior_logp = np.empty(len(samples))
    agent_logp = np.array([s.logp for s in samples], dtype=np.float64)  # (N,) the agent's before the step
    prior_logp[keep], agent_logp[keep] = learnt_prior[: len(keep)], learnt_agent[: len(keep)]
    dropped = np.setdiff1d(np.arange(len(samples)), keep)
    if len(dropped):
        prior_logp[dropped] = logp_of(run.prior, [samples[i].name for i in dropped])
    return prior_logp, agent_logp, loss


def climb(run: Run, samples: Sequence[Any], smiles: Sequence[Optional[str]],
          rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """SMILES LSTM-HC's rule: the batch joins the replay memory (the best names seen), then one Adam step
    raises the mean log-likelihood of every name in it. Returns the batch's prior and agent log-likelihoods
    (N,) each and the loss (minus that mean)."""
    names = [s.name for s in samples]
    prior_logp = logp_of(run.prior, names)
    for i, name in enumerate(names):
        run.memory.add(name, float(rewards[i]), float(prior_logp[i]), smiles[i])
    if run.memory.entries:
        loss = learn(run, [e["name"] for e in run.memory.entries], np.zeros(len(run.memory.entries)),
                     hill_climb=True)[2]
    else:  # nothing scored above 0 yet: nothing to climb toward
        loss = 0.0
    return prior_logp, np.array([s.logp for s in samples], dtype=np.float64), loss


def augment(run: Run, names: list[str], smiles: Sequence[Optional[str]], keep: np.ndarray,
            rewards: np.ndarray) -> None:
    """Augmented Memory (Guo and Schwaller 2023): ``augment_rounds`` more Adam steps after the step's own, each
    on the kept samples and the whole memory (the batch already in it), every structure written under another
    of its known names when ``augment_names`` (else the same names again)."""
    config = run.config
    if config.augment_names:
        for name, key in zip(names, smiles):  # every name the agent wrote, duplicates of a structure included
            run.variants.add(key, name)
        _name_structures(run, [e["key"] for e in run.memory.entries if not e["key"].startswith("name:")])
    memory = run.memory.entries if config.replay else []
    all_names = [names[i] for i in keep] + [e["name"] for e in memory]
    all_keys = [smiles[i] for i in keep] + [e["key"] for e in memory]
    scores = np.concatenate([rewards[keep], [e["score"] for e in memory]])  # (K + M,)
    for _ in range(config.augment_rounds):
        written = ([run.variants.other(k, n, run.rng) for k, n in zip(all_keys, all_names)]
                   if config.augment_names else all_names)
        learn(run, written, scores)


def _name_structures(run: Run, keys: Sequence[str]) -> None:
    """The namer's verified name (openclatura, read back by OPSIN) of each structure not named yet, when the
    model's vocabulary can write it."""
    todo = [k for k in dict.fromkeys(keys) if k not in run.variants.named]
    if not todo:
        return
    from chemgen.chem.namer import name_molecules
    from chemgen.chem.opsin import OpsinProcess

    if run.opsin is None:
        run.opsin = OpsinProcess().start()
    for named in name_molecules(todo, run.opsin):
        run.variants.named.add(named.smiles)
        if named.name and run.agent.vocab.unknown_char(named.name) is None:
            run.variants.add(named.smiles, named.name)


def record_structures(run: Run, smiles: Sequence[Optional[str]], totals: np.ndarray,
                      sent_before: int) -> list[Optional[int]]:
    """Record the batch's new structures with their totals; each row's call index (None for a duplicate, a name
    without a structure, or a structure an oracle did not score: gated, or past the budget).

    With an oracle, the new structures are those it scored this step (the same order and budget); without,
    every structure not recorded before.
    """
    oracle = run.scoring.scored
    sent = None if oracle is None else set(oracle.order[sent_before:])
    return [run.scored.add(key, float(total)) if key is not None and (sent is None or key in sent) else None
            for key, total in zip(smiles, totals)]


def _count(run: Run, calls: Sequence[Optional[int]], top_before: list[float], smiles) -> None:
    """The step's counts: valid names, steps without a new structure, steps without a new top-100 score."""
    state = run.state
    state.valid_names += sum(s is not None for s in smiles)
    state.stale = 0 if any(c is not None for c in calls) else state.stale + 1
    if run.config.patience and len(run.scored) > PATIENCE_AFTER:
        state.unchanged = state.unchanged + 1 if _top_scores(run.scored) == top_before else 0


def _top_scores(scored: ScoredStructures) -> list[float]:
    return heapq.nlargest(PATIENCE_TOP, scored.scores.values())


def learn(run: Run, names: Sequence[str], scores: np.ndarray,
          hill_climb: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """One Adam step on the DAP loss over names (with ``hill_climb``, on minus their mean log-likelihood, the
    prior unused); returns the prior's (NaN with ``hill_climb``) and the agent's log-likelihoods before it
    (N,) each, and the loss.

    The names are dealt into one part per thread (every k-th of the longest-first order, so each part is
    sorted and about as long as the others); each thread scores its part under the prior, runs the agent's
    forward and, once the loss's weights are known, its backward; the parts' gradients are summed in order.
    """
    agent = run.agent
    order = np.argsort([-len(n) for n in names], kind="stable")  # longest first: finished rows are skipped
    parts = [order[i :: run.config.threads] for i in range(min(run.config.threads, len(names)))]
    prior_logp, agent_logp = np.full(len(names), np.nan), np.empty(len(names))  # (N,) each
    batches: list[Any] = [None] * len(parts)

    def forward_part(i: int) -> None:
        part_names = [names[j] for j in parts[i]]
        if not hill_climb:
            prior_logp[parts[i]] = logp_of(run.prior, part_names)
        inputs, targets, mask = batch_from_codes(*agent.vocab.encode_padded(part_names))
        _, _, cache = network.forward(agent.config, agent.params, inputs, targets, mask, run.workspaces[i])
        agent_logp[parts[i]] = cache.name_logp
        batches[i] = (targets, mask, cache)

    run.pool.run(forward_part, len(parts))
    if hill_climb:
        loss, weights = float(-agent_logp.mean()), np.full(len(names), 1.0 / len(names))  # w = -d loss / d logp
    else:
        loss, weights = network.dap_loss(agent_logp, prior_logp, scores, run.config.sigma)
    if run.config.likelihood_penalty:
        penalty, penalty_weights = network.likelihood_penalty(agent_logp, run.config.likelihood_penalty)
        loss, weights = loss + penalty, weights + penalty_weights
    if not math.isfinite(loss):
        raise OptimizeDiverged(f"the loss became {loss} at step {run.state.step + 1}: lower --lr or --sigma")
    grads: list[Any] = [None] * len(parts)

    def backward_part(i: int) -> None:
        targets, mask, cache = batches[i]
        grads[i] = network.backward(agent.config, agent.params, targets, mask, cache, run.workspaces[i],
                                    n_chars=1.0, name_weights=weights[parts[i]])

    run.pool.run(backward_part, len(parts))
    run.optimizer.update(agent.params, sum_parts(grads))
    return prior_logp, agent_logp, loss


def structures(candidates: Iterable[Candidate]) -> tuple[list[Optional[str]], list[Optional[str]]]:
    """Each candidate's canonical SMILES and Murcko scaffold (None when it has no valid structure)."""
    smiles, scaffolds = [], []
    for candidate in candidates:
        mol = chem.mol_from_smiles(candidate.smiles) if candidate.smiles else None
        smiles.append(chem.smiles_of(mol) if mol is not None else None)
        scaffolds.append(chem.murcko_scaffold(mol) if mol is not None else None)
    return smiles, scaffolds


def _keep_best(best: dict[str, dict[str, Any]], row: dict[str, Any]) -> None:
    key = _key(row)
    kept = best.get(key)
    if kept is None or (row["score"], row["logp_agent"]) > (kept["score"], kept["logp_agent"]):
        best[key] = row


def _key(row: dict[str, Any]) -> str:
    return row["smiles"] or f"name:{row['name']}"


def ranked_best(best: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Unique structures, best score first (then likelier under the agent, then earlier)."""
    return sorted(best.values(), key=lambda r: (-r["score"], -r["logp_agent"], r["step"], r["name"]))


def progress_line(run: Run, f: dict[str, Any]) -> str:
    per_step = run.state.seconds / max(1, run.state.step)
    limit = run.config.step_limit()
    counted = ""
    if run.counting:
        budget = f"/{run.config.budget:,}" if run.config.budget is not None else ""
        counted = f"structures {len(run.scored):,}{budget} auc {run.scored.auc(10):.3f}  "
    return (f"step {f['step']}/{limit if limit is not None else '-'}  score mean {f['mean_score']:.3f} "
            f"best {f['best_score']:.3f}  valid {100 * f['valid']:.0f}%  scaffolds {f['scaffolds']}  "
            f"{counted}loss {f['loss']:.1f}  {per_step:.1f} s/step")


# ---------------------------------------------------------------- files


def open_log(path, keep_through_step: int) -> Optional[StagedFile]:
    """The log, staged beside its file until a checkpoint or the end: empty, or on resume the existing one
    cut back to the checkpoint's step. None without a path."""
    if path is None:
        return None
    path = Path(path)
    kept: list[str] = []
    if keep_through_step and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("step", 0) <= keep_through_step:
                    kept.append(line)
            except (json.JSONDecodeError, AttributeError):
                continue
    return StagedFile(path, "".join(line + "\n" for line in kept))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "components"}
    out.update(row.get("components", {}))
    return out


SUMMARY_COLUMNS = ("rank", "score", "smiles", "name", "step", "scaffold", "logp_agent", "logp_prior", "in_training")


def write_summary(path, rows: list[dict[str, Any]], labels: list[str]) -> None:
    """The best unique structures as CSV: rank, score, SMILES, name, ..., one column per component."""
    with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*SUMMARY_COLUMNS, *labels])
        for rank, row in enumerate(rows, start=1):
            values = [rank, f"{row['score']:.4f}", row["smiles"], row["name"], row["step"], row["scaffold"],
                      f"{row['logp_agent']:.4f}", f"{row['logp_prior']:.4f}", row["in_training"]]
            writer.writerow(values + [f"{row['components'].get(label, 0.0):.4f}" for label in labels])


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(run: Run, path) -> None:
    """Agent parameters, Adam moments, RNG, memory, buckets and history in one model file."""
    state = run.state
    payload = {
        "step": state.step, "names_scored": state.names_scored, "seconds": state.seconds,
        "history": state.history, "best": ranked_best(state.best), "hit_scaffolds": sorted(state.hit_scaffolds),
        "diversity": run.diversity.state(), "memory": run.memory.state(), "scored": run.scored.state(),
        "oracles": [oracle.scored.state() for oracle in run.scoring.oracles.values()],
        "valid_names": state.valid_names, "stale": state.stale, "unchanged": state.unchanged,
        "variants": run.variants.state(),
    }
    checkpoints.save(path, run.agent, run.settings, run.training, CHECKPOINT_KEY, payload, run.optimizer, run.rng,
                     meta=run.meta())


def _restore(run: Run, path) -> None:
    arrays, meta, saved = checkpoints.load(path, CHECKPOINT_KEY, "not a checkpoint of chemgen optimize")
    if meta.get("parent", {}).get("sha256") != run.parent["sha256"]:
        raise ConfigError(f"{path}: checkpoint was made from another prior ({meta.get('parent', {}).get('path')})")
    theirs = meta.get("optimize", {})
    if theirs.get("scoring") != run.scoring.describe() or theirs.get("aggregation") != run.scoring.aggregation:
        raise ConfigError(f"{path}: checkpoint was made with another scoring spec; resume with the same one")
    run.agent.params = modelfile.learned_from(path, arrays, meta).params
    limit = run.config.step_limit()
    if limit is not None and saved["step"] > limit:
        raise ConfigError(f"{path}: checkpoint is at step {saved['step']}, past --steps {limit}")
    checkpoints.restore_optimizer(arrays, saved, run.optimizer, run.rng)
    run.diversity.load(saved["diversity"])
    run.memory.load(saved["memory"])
    run.variants.load(saved.get("variants", {}))
    run.scored.load(saved.get("scored", {}))
    for oracle, state in zip(run.scoring.oracles.values(), saved.get("oracles", [])):
        oracle.scored.load(state)
    run.state = OptimizeState(saved["step"], saved["names_scored"], saved["seconds"], list(saved["history"]),
                              {_key(r): r for r in saved["best"]}, set(saved["hit_scaffolds"]),
                              saved.get("valid_names", 0), saved.get("stale", 0), saved.get("unchanged", 0))
