"""Oracles for goal-directed runs: a user's function or an external command, a cache, a budget, PMO's AUC.

An oracle maps a list of SMILES to one score in [0, 1] per SMILES (the shape
of PMO's and TDC's oracles). Oracles are expensive (docking, a QSAR model, an
assay), so :class:`ScoredStructures` stands between the run and the oracle:
it sends only valid structures never sent before (keyed by canonical SMILES),
all new ones of a batch in one call, never more than the budget, and records
the order in which structures were scored, from which :func:`auc_top_k`
computes the Practical Molecular Optimization benchmark's figure.

    oracle = Oracle(my_function)                      # checks every answer
    oracle = parse_command_spec('command(run="python dock.py", parallel=4, timeout=600)')
    scored = ScoredStructures(oracle, budget=10_000)
    scored.score(["CCO", "OCC", None])                # one call, with "CCO" only -> [s, s, None]
    scored.auc(k=10)                                  # PMO's AUC top-10

Every failure is an :class:`OracleError` with a one-line message; a failed
call records nothing, so what was scored before is kept.
"""
from __future__ import annotations

import heapq
import math
import numbers
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from chemgen.chem import molecules as chem
from chemgen.errors import ChemgenError, ConfigError
from chemgen.filters.contract import Candidate, Verdict
from chemgen.filters.options import parse_number, parse_seconds

COMMAND = "command"  # the scoring-spec name of the external-command oracle
COMMAND_OPTIONS = ("run", "parallel", "timeout")
RANGE_SLACK = 1e-9  # answers this far outside [0, 1] (rounding) are clipped rather than refused
TAIL = 200  # characters of a failing command's stderr kept in the error
DEFAULT_TIMEOUT = 3600.0  # seconds a command oracle's call may take unless told (timeout=none: no limit)
NO_LIMIT = "none"


class OracleError(ChemgenError):
    """An oracle raised, hung, exited badly or answered wrongly (count, NaN, outside [0, 1])."""


# ---------------------------------------------------------------- checked answers


def check_scores(answer: Any, count: int, who: str) -> list[float]:
    """``answer`` as ``count`` floats in [0, 1]; OracleError naming the first bad one."""
    if isinstance(answer, (str, bytes, dict)) or not hasattr(answer, "__iter__"):
        raise OracleError(f"{who} answered {_short(answer)}, not a list of {count} scores")
    answer = list(answer)  # a generator or an array: its items
    if len(answer) != count:
        raise OracleError(f"{who} answered {len(answer)} scores for {count} SMILES")
    scores = []
    for i, value in enumerate(answer):
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
            raise OracleError(f"{who}: score {i + 1} of {count} is {_short(value)}, not a number in [0, 1]")
        x = float(value)
        if not math.isfinite(x) or not -RANGE_SLACK <= x <= 1 + RANGE_SLACK:
            raise OracleError(f"{who}: score {i + 1} of {count} is {x!r}, outside [0, 1]")
        scores.append(min(1.0, max(0.0, x)))
    return scores


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


# ---------------------------------------------------------------- oracles


class Oracle:
    """A function from a list of SMILES to one score in [0, 1] each, with every answer checked."""

    def __init__(self, function: Callable[[list[str]], Sequence[float]], name: Optional[str] = None) -> None:
        if not callable(function):
            raise ConfigError(f"an oracle must be callable, not {_short(function)}")
        self.function = function
        self.name = name or getattr(function, "__name__", type(function).__name__)

    def __repr__(self) -> str:
        return f"Oracle({self.name!r})"

    @property
    def label(self) -> str:
        """How errors name this oracle."""
        return f"oracle {self.name!r}"

    def __call__(self, smiles: Sequence[str]) -> list[float]:
        """Scores of ``smiles`` in order; OracleError if the function raises or answers wrongly."""
        smiles = list(smiles)
        if not smiles:
            return []
        return check_scores(self.evaluate(smiles), len(smiles), self.label)

    def evaluate(self, smiles: list[str]) -> Any:
        """The raw answer (checked by the caller)."""
        try:
            return self.function(smiles)
        except ChemgenError as exc:
            raise OracleError(f"{self.label}: {_first_line(str(exc))}") from exc
        except Exception as exc:  # the user's code: any failure becomes one line
            detail = _first_line(str(exc))
            raise OracleError(f"{self.label} raised {type(exc).__name__}"
                              + (f": {detail}" if detail else "")) from exc

    def describe(self) -> dict[str, Any]:
        """The oracle as plain data (for logs and checkpoints)."""
        return {"oracle": self.name}


class CommandOracle(Oracle):
    """An external command: SMILES on stdin, one a line; one score a line on stdout (REINVENT's external process).

    The whole batch goes to one process, or with ``parallel=N`` to N processes
    at once, each given a contiguous chunk, their answers joined in order.
    ``timeout`` (seconds; None or ``"none"`` for no limit) bounds each call,
    an hour unless told: long enough for a docking program on a batch, short
    enough that a hung one does not hold a run for ever. On expiry the
    processes and their children are killed.
    """

    def __init__(self, run: str, parallel: int = 1, timeout: Optional[float | str] = DEFAULT_TIMEOUT,
                 name: Optional[str] = None) -> None:
        if not isinstance(run, str) or not run.strip():
            raise ConfigError(f"{COMMAND}: run= needs a shell command, e.g. {COMMAND}(run=\"python dock.py\")")
        self.run = run.strip()
        self.parallel = parse_number(COMMAND, "parallel", parallel, minimum=1, integer=True)
        no_limit = timeout is None or (isinstance(timeout, str) and timeout.strip().lower() == NO_LIMIT)
        self.timeout = None if no_limit else parse_seconds(COMMAND, "timeout", timeout)
        super().__init__(self._run_batch, name or COMMAND)

    def __repr__(self) -> str:
        return f"CommandOracle(run={self.run!r}, parallel={self.parallel}, timeout={self.timeout})"

    @property
    def label(self) -> str:
        return f"command {self.run!r}"

    def describe(self) -> dict[str, Any]:
        return {"oracle": COMMAND, "run": self.run, "parallel": self.parallel, "timeout": self.timeout}

    def evaluate(self, smiles: list[str]) -> list[float]:
        return self._run_batch(smiles)  # errors are already OracleErrors with their own one line

    def _run_batch(self, smiles: list[str]) -> list[float]:
        chunks = [list(c) for c in np.array_split(np.array(smiles, dtype=object), min(self.parallel, len(smiles)))]
        runs = [_Run(self.run, chunk) for chunk in chunks]
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            for run in runs:
                run.start()
            for run in runs:  # the processes run at once: one deadline for all
                run.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        finally:
            for run in runs:
                run.kill()
        scores: list[float] = []
        for number, run in enumerate(runs, start=1):
            where = f" (chunk {number} of {len(runs)})" if len(runs) > 1 else ""
            scores.extend(self._answers(run, where))
        return scores

    def _answers(self, run: "_Run", where: str) -> list[float]:
        who = self.label + where
        if run.timed_out:
            raise OracleError(f"{who} did not finish within timeout={self.timeout:g} s; it was killed")
        if run.error is not None:
            raise OracleError(f"{who} could not run: {run.error}")
        if run.returncode != 0:
            tail = _tail(run.stderr)
            status = (f"was killed by signal {-run.returncode}" if run.returncode < 0
                      else f"exited with status {run.returncode}")
            raise OracleError(f"{who} {status}" + (f": {tail}" if tail else ""))
        lines = run.stdout.rstrip().splitlines() if run.stdout.strip() else []
        if len(lines) != len(run.smiles):
            raise OracleError(f"{who} wrote {len(lines)} lines for {len(run.smiles)} SMILES (one score a line)")
        values = []
        for i, line in enumerate(lines, start=1):
            try:
                values.append(float(line.strip()))
            except ValueError:
                raise OracleError(f"{who}: line {i} is {_short(line.strip())}, not a number") from None
        return values


def _tail(text: str) -> str:
    """The last non-empty line of a command's stderr, shortened."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return last if len(last) <= TAIL else "..." + last[-TAIL:]


@dataclass
class _Run:
    """One process of a command oracle: fed its chunk and read in a thread, so several run at once."""

    command: str
    smiles: list[str]
    process: Optional[subprocess.Popen] = None
    thread: Optional[threading.Thread] = None
    stdout: str = ""
    stderr: str = ""
    returncode: Optional[int] = None
    error: Optional[str] = None
    timed_out: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        text = "".join(s + "\n" for s in self.smiles)
        try:
            self.process = subprocess.Popen(self.command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                            start_new_session=os.name == "posix")
        except OSError as exc:
            self.error, self.returncode = str(exc), -1
            self.done.set()
            return
        self.thread = threading.Thread(target=self._communicate, args=(text,), daemon=True)
        self.thread.start()

    def _communicate(self, text: str) -> None:
        try:
            self.stdout, self.stderr = self.process.communicate(text)
        except (OSError, ValueError) as exc:  # a closed pipe after a kill
            self.error = self.error or str(exc)
        self.returncode = self.process.returncode
        self.done.set()

    def wait(self, timeout: Optional[float]) -> None:
        if not self.done.wait(timeout):
            self.timed_out = True
            self.kill()
            self.done.wait(5.0)

    def kill(self) -> None:
        """End the process and its children if still running (a shell's children share its session)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except (ProcessLookupError, PermissionError):
            pass


# ---------------------------------------------------------------- command specs


def is_command_spec(text: Any) -> bool:
    """True for a ``command(...)`` scoring spec."""
    return isinstance(text, str) and re.match(rf"^\s*{COMMAND}\s*(\(|$)", text) is not None


def parse_command_spec(text: str) -> CommandOracle:
    """``command(run="python dock.py --box 1,2", parallel=4, timeout=600)`` -> a CommandOracle.

    ``timeout`` is in seconds (default an hour; ``timeout=none`` for no limit).
    Values may be quoted with ``"`` or ``'`` (needed when they hold commas or
    brackets); a backslash escapes the quote inside. ConfigError in one line.
    """
    match = re.match(rf"^\s*{COMMAND}\s*\((.*)\)\s*$", text or "", re.DOTALL)
    if not match:
        raise ConfigError(f"malformed command spec {text!r} (expected {COMMAND}(run=\"...\", parallel=N, timeout=S))")
    options: dict[str, str] = {}
    for item in _split_quoted(match.group(1), text):
        key, sep, value = item.partition("=")
        key = key.strip()
        if key not in COMMAND_OPTIONS:
            raise ConfigError(f"{COMMAND}: unknown option {key!r} in {text!r} (options: {', '.join(COMMAND_OPTIONS)})")
        if not sep or not value.strip():
            raise ConfigError(f"{COMMAND}: option {key} in {text!r} needs a value ({key}=...)")
        options[key] = _unquote(value.strip())
    if "run" not in options:
        raise ConfigError(f"{COMMAND}: {text!r} names no command (add run=\"...\")")
    return CommandOracle(options["run"], options.get("parallel", 1), options.get("timeout", DEFAULT_TIMEOUT))


def _split_quoted(body: str, text: str) -> list[str]:
    """Split at commas outside quotes and brackets."""
    parts, current, quote, depth, escaped = [], [], "", 0, False
    for char in body:
        if escaped:
            escaped = False
        elif quote:
            if char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise ConfigError(f"{COMMAND}: unclosed {quote} quote in {text!r}")
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def oracle_of(value: Any) -> Oracle:
    """An Oracle from an Oracle, a ``command(...)`` spec or a callable; ConfigError otherwise."""
    if isinstance(value, Oracle):
        return value
    if is_command_spec(value):
        return parse_command_spec(value)
    if callable(value):
        return Oracle(value)
    raise ConfigError(f"an oracle is a callable (list of SMILES -> scores) or a {COMMAND}(...) spec, "
                      f"not {_short(value)}")


# ---------------------------------------------------------------- cache and budget


def canonical_smiles(smiles: Any) -> Optional[str]:
    """RDKit's canonical SMILES, or None for anything RDKit cannot read and sanitise."""
    return chem.smiles_of(chem.mol_from_smiles(smiles)) if isinstance(smiles, str) and smiles.strip() else None


class ScoredStructures:
    """Every structure an oracle has scored, in order: a cache keyed by canonical SMILES and a budget.

    :meth:`score` sends the valid structures of a batch not scored before, each
    once, in one oracle call, and never lets the oracle see more than
    ``budget`` structures (a batch that would pass it sends its first new
    structures up to the budget). A structure's call index is its 1-based
    place in the order of scoring. With ``oracle=None`` it only records scores
    computed elsewhere (:meth:`add`): the same order, budget and figures.
    """

    def __init__(self, oracle: Any, budget: Optional[int] = None) -> None:
        self.oracle = None if oracle is None else oracle_of(oracle)
        self.budget = None if budget is None else parse_number("oracle", "budget", budget, minimum=1, integer=True)
        self.order: list[str] = []  # canonical SMILES in the order scored
        self.scores: dict[str, float] = {}  # canonical SMILES -> score
        self.calls = 0  # oracle calls made
        self._index: dict[str, int] = {}  # call indices, rebuilt when stale

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, smiles: str) -> bool:
        return smiles in self.scores

    @property
    def remaining(self) -> Optional[int]:
        """Structures the budget still allows (None: no budget)."""
        return None if self.budget is None else self.budget - len(self.order)

    @property
    def exhausted(self) -> bool:
        return self.budget is not None and len(self.order) >= self.budget

    def call_index(self, smiles: str) -> Optional[int]:
        """1-based place of a canonical SMILES in the order of scoring (None if never scored)."""
        if smiles not in self.scores:
            return None
        if len(self._index) != len(self.order):
            self._index = {s: i for i, s in enumerate(self.order, start=1)}
        return self._index[smiles]

    def score(self, smiles: Iterable[Optional[str]]) -> list[Optional[float]]:
        """Scores of a batch, cached or from one oracle call; None for no valid structure or no budget left."""
        keys = [canonical_smiles(s) for s in smiles]
        new = list(dict.fromkeys(k for k in keys if k is not None and k not in self.scores))
        if self.remaining is not None:
            new = new[: self.remaining]
        if new:
            if self.oracle is None:
                raise ConfigError("these structures have no oracle to score them (record scores with add)")
            values = self.oracle(new)  # OracleError leaves everything as it was
            self.calls += 1
            self.order.extend(new)
            self.scores.update(zip(new, values))
        return [self.scores.get(k) if k is not None else None for k in keys]

    def add(self, smiles: str, score: float) -> Optional[int]:
        """Record a score found elsewhere for a canonical SMILES not yet scored; its call index, or None when
        it was scored before or the budget is spent."""
        if smiles in self.scores or self.exhausted:
            return None
        self.order.append(smiles)
        self.scores[smiles] = float(score)
        return len(self.order)

    def scores_in_order(self) -> list[float]:
        return [self.scores[s] for s in self.order]

    def auc(self, k: int = 10, freq: int = 100, extend: bool = True) -> float:
        """PMO's AUC top-k of the scores so far (the budget, else the count scored, as its length)."""
        return auc_top_k(self.scores_in_order(), k, freq, self.budget or max(1, len(self.order)), extend)

    def top_mean(self, k: int) -> float:
        return top_k_mean(self.scores_in_order(), k)

    def best(self, n: int = 100) -> list[tuple[str, float, int]]:
        """The n best as (SMILES, score, call index), best first, earlier first among equals."""
        ranked = sorted(range(len(self.order)), key=lambda i: (-self.scores[self.order[i]], i))[:n]
        return [(self.order[i], self.scores[self.order[i]], i + 1) for i in ranked]

    def state(self) -> dict[str, Any]:
        """Plain data for a checkpoint (JSON-ready)."""
        return {"budget": self.budget, "smiles": list(self.order), "scores": self.scores_in_order(),
                "calls": self.calls}

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`; ConfigError if it does not fit."""
        smiles, scores = list(state.get("smiles", [])), [float(s) for s in state.get("scores", [])]
        if len(smiles) != len(scores) or len(set(smiles)) != len(smiles):
            raise ConfigError("oracle state: SMILES and scores do not match one to one")
        if self.budget is not None and len(smiles) > self.budget:
            raise ConfigError(f"oracle state holds {len(smiles)} structures, more than the budget {self.budget}")
        self.order, self.scores, self._index = smiles, dict(zip(smiles, scores)), {}
        self.calls = int(state.get("calls", 0))


# ---------------------------------------------------------------- PMO's figures


def auc_top_k(scores: Sequence[float], k: int = 10, freq: int = 100, budget: int = 10_000,
              extend: bool = True) -> float:
    """PMO's area under the top-k curve, in [0, 1].

    ``scores`` are in the order the oracle saw them (only the first
    ``budget`` count). Every ``freq`` structures the mean of the k best so far
    (of all so far while fewer than k) is a point of the curve, which starts at
    0 before the first structure; points are joined by the trapezoid rule, the
    last partial segment (to the last structure) included. With ``extend`` a
    run that stopped before the budget is extended flat at its last value.
    The area is divided by ``budget``.
    """
    scores = list(scores)[:budget]
    if not scores:
        return 0.0
    best: list[float] = []  # min-heap of the k best so far
    area, previous, done = 0.0, 0.0, 0
    for i, score in enumerate(scores, start=1):
        if len(best) < k:
            heapq.heappush(best, score)
        elif score > best[0]:
            heapq.heapreplace(best, score)
        if i % freq == 0 and i < len(scores):
            now = sum(best) / len(best)
            area += freq * (previous + now) / 2
            previous, done = now, i
    now = sum(best) / len(best)
    area += (len(scores) - done) * (previous + now) / 2
    if extend:
        area += (budget - len(scores)) * now
    return area / budget


def top_k_mean(scores: Iterable[float], k: int) -> float:
    """Mean of the k best scores (of all of them when fewer, as PMO logs it); 0 for none."""
    best = heapq.nlargest(k, scores)
    return sum(best) / len(best) if best else 0.0


# ---------------------------------------------------------------- as a scoring component


class OracleFilter:
    """An oracle as a graded filter for a scoring component: a candidate's structure's score, cached.

    A candidate without a valid structure fails (score 0) and is not sent;
    structures go through one :class:`ScoredStructures`, so none is sent twice
    and the budget, if any, holds. ``costly``: a scoring function sends it only
    the candidates its earlier gates passed, and lets its errors end the run.
    """

    graded = True
    needs_structure = True
    costly = True

    def __init__(self, oracle: Any, scored: Optional[ScoredStructures] = None, name: Optional[str] = None) -> None:
        self.scored = scored if scored is not None else ScoredStructures(oracle)
        self.name = name or (COMMAND if isinstance(self.scored.oracle, CommandOracle) else "oracle")

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        scores = self.scored.score([c.smiles for c in candidates])
        return [Verdict(True, s, "", {self.name: s}) if s is not None else Verdict(False, 0.0, self._why(c))
                for c, s in zip(candidates, scores)]

    @staticmethod
    def _why(candidate: Candidate) -> str:
        return "no structure" if canonical_smiles(candidate.smiles) is None else "over the oracle budget"
