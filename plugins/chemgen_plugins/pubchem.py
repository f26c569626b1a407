"""The ``pubchem`` filter: is a candidate name a compound PubChem knows?

Each distinct name is asked once, by POST (the name goes in the body, as
pubchempy does for the ``name`` namespace), for its CID, SMILES,
ConnectivitySMILES, InChIKey, formula and weight. Requests are rate-limited
process-wide (:mod:`chemgen_plugins.throttle`), retried with exponential
backoff and jitter on busy/failing/slow servers, and answers are cached on
disk (:mod:`chemgen_plugins.pubchem_cache`).

pubchempy supplies the PUG REST vocabulary: property names and the mapping
of HTTP faults to its error classes. The request itself is sent here, because
``pubchempy.request`` takes no timeout and reads its base URL from a module
global, and this filter needs both per instance.

Options: ``mode`` (``known``: pass names PubChem resolves, the default;
``novel``: pass names it does not know), ``timeout`` (seconds per request,
10), ``retries`` (4), ``backoff`` (base seconds, 1), ``cache_days`` (30),
``offline`` (cache only; also ``CHEMGEN_OFFLINE=1``), ``workers`` (2).
``CHEMGEN_PUBCHEM_URL`` overrides the PUG REST base URL.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import socket
import sqlite3
import threading
import urllib.error
import urllib.request
import warnings
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlencode, urlsplit

import pubchempy

from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict, parse_choice, parse_flag, parse_number, parse_seconds
from chemgen.io.names import quoted
from chemgen.io.progress import progress_bar
from chemgen_plugins.pubchem_cache import CACHE_FILE, FOUND, NOT_FOUND, UNKNOWN, Answer, AnswerCache, cache_dir
from chemgen_plugins.throttle import RateLimiter, shared_limiter, throttle_pause

DEFAULT_URL = "https://pubchem.ncbi.nlm.nih.gov/rest/pug"
PROPERTIES = tuple(pubchempy.PROPERTY_MAP.get(key, fallback) for key, fallback in (
    ("smiles", "SMILES"), ("connectivity_smiles", "ConnectivitySMILES"), ("inchikey", "InChIKey"),
    ("molecular_formula", "MolecularFormula"), ("molecular_weight", "MolecularWeight"),
))
RETRYABLE_HTTP = (pubchempy.ServerBusyError, pubchempy.ServerError, pubchempy.TimeoutError)
RETRYABLE_CODES = (429, 502)  # proxies and gateways in front of PubChem
MODES = ("known", "novel")
BACKOFF_MAX = 30.0  # seconds, the longest single wait between attempts
PROBE_TIMEOUT = 3.0  # seconds for `chemgen filters` to see whether PubChem can be reached
USER_AGENT = "chemgen-pubchem-filter (+https://pypi.org/project/chemgen/)"


class _Retry(Exception):
    """A transient fault: the request may succeed if asked again later."""


# ---------------------------------------------------------------- answers


def parse_answer(body: bytes) -> Answer:
    """A PUG REST property-table body -> found / not found / unknown (never raises)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Answer(UNKNOWN, reason=f"unreadable answer from PubChem ({_sniff(body)})")
    table = data.get("PropertyTable") if isinstance(data, dict) else None
    rows = table.get("Properties") if isinstance(table, dict) else None
    if not isinstance(rows, list):
        return Answer(UNKNOWN, reason="unexpected JSON from PubChem (no PropertyTable)")
    if not rows:
        return Answer(NOT_FOUND)
    first = rows[0]
    if not isinstance(first, dict) or not isinstance(first.get("CID"), int):
        return Answer(UNKNOWN, reason="unexpected JSON from PubChem (no CID)")
    return Answer(FOUND, {key: first.get(key) for key in ("CID", *PROPERTIES)})


def _sniff(body: bytes) -> str:
    """A few words on what a non-JSON body looks like."""
    head = body.lstrip()[:200].lower()
    if head.startswith(b"<"):
        return "an HTML page" if b"html" in head else "markup, not JSON"
    return f"{len(body)} bytes, not JSON" if body else "empty body"


def annotations(record: dict[str, Any]) -> dict[str, Any]:
    """The verdict annotations of a found record: smiles, inchikey, cid, formula, mw."""
    try:
        mw: Optional[float] = float(record.get("MolecularWeight"))
    except (TypeError, ValueError):
        mw = None
    return {
        "smiles": record.get("SMILES") or record.get("ConnectivitySMILES"),
        "inchikey": record.get("InChIKey"),
        "cid": record.get("CID"),
        "formula": record.get("MolecularFormula"),
        "mw": mw,
    }


# ---------------------------------------------------------------- the client


class PubChemClient:
    """Asks PUG REST about one name at a time: rate-limited, timed out, retried."""

    def __init__(self, base_url: str, timeout: float = 10.0, retries: int = 4, backoff: float = 1.0,
                 limiter: Optional[RateLimiter] = None) -> None:
        self.url = f"{base_url.rstrip('/')}/compound/name/property/{','.join(PROPERTIES)}/JSON"
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.limiter = limiter if limiter is not None else shared_limiter()
        self.stop = threading.Event()  # set to cut retries short (Ctrl-C); backoff waits on it

    def lookup(self, name: str) -> Answer:
        """Found / not found, or unknown once every attempt has failed."""
        fault = ""
        for attempt in range(self.retries + 1):
            if attempt and self.stop.wait(self.backoff_delay(attempt)):
                return Answer(UNKNOWN, reason=f"cancelled ({fault})")
            try:
                return self._ask(name)
            except _Retry as exc:
                fault = str(exc)
        return Answer(UNKNOWN, reason=f"PubChem unreachable after {self.retries + 1} attempts ({fault})")

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of ``backoff * 2**(attempt-1)``."""
        ceiling = min(BACKOFF_MAX, self.backoff * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def _ask(self, name: str) -> Answer:
        """One request; raises :class:`_Retry` on a transient fault."""
        request = urllib.request.Request(self.url, data=urlencode({"name": name}).encode("utf-8"),
                                         headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        with self.limiter.slot():
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    self._obey(response.headers)
                    body = response.read()
            except urllib.error.HTTPError as exc:
                self._obey(exc.headers)
                return self._http_error(exc)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, cut short
                raise _Retry(self._describe(exc)) from None
        return parse_answer(body)

    def _obey(self, headers: Any) -> None:
        """Pause every caller when X-Throttling-Control says we are near PubChem's limits."""
        header = headers.get("X-Throttling-Control") if headers is not None else None
        self.limiter.pause(throttle_pause(header))

    def _http_error(self, exc: urllib.error.HTTPError) -> Answer:
        """404 PUGREST.NotFound is an answer; busy/5xx are retried; anything else is unknown."""
        try:
            error = pubchempy.create_http_error(exc)  # reads the fault JSON, if any
        except (OSError, http.client.HTTPException):  # the error body itself was cut off
            error = pubchempy.PubChemHTTPError(exc.code, str(exc.reason), [])
        if isinstance(error, pubchempy.NotFoundError) and error.msg.startswith("PUGREST.NotFound"):
            return Answer(NOT_FOUND)
        if isinstance(error, RETRYABLE_HTTP) or exc.code in RETRYABLE_CODES:
            raise _Retry(f"HTTP {exc.code} {error.msg}")
        return Answer(UNKNOWN, reason=f"HTTP {exc.code} {error.msg}")

    def _describe(self, exc: BaseException) -> str:
        """A short account of a network fault."""
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return f"no answer within {self.timeout:g} s"
        return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__


# ---------------------------------------------------------------- options


def _base_url() -> str:
    """``$CHEMGEN_PUBCHEM_URL`` or PubChem's own PUG REST base, checked to be http(s)."""
    url = (os.environ.get("CHEMGEN_PUBCHEM_URL") or DEFAULT_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"pubchem: CHEMGEN_PUBCHEM_URL must be an http(s) URL, got {quoted(url)}")
    return url


def unreachable(url: str, timeout: float = PROBE_TIMEOUT) -> str:
    """Why a TCP connection to the URL's host fails, or "" when it opens (nothing is sent)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except socket.gaierror:
        return "host name not found (no network?)"
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return ""


# ---------------------------------------------------------------- the filter


class PubChemFilter:
    """Pass names PubChem resolves (``mode=known``) or does not know (``mode=novel``).

    A name PubChem could not be asked about ("unknown") never passes.
    """

    name = "pubchem"
    shared = True  # on a Dask cluster one worker hosts it for all: one rate limit, one cache
    makes_structure = True  # puts a SMILES on each candidate it passes

    def __init__(self, mode: str = "known", timeout: Any = 10.0, retries: Any = 4, backoff: Any = 1.0,
                 cache_days: Any = 30.0, offline: Any = False, workers: Any = 2,
                 cache_dir: Optional[str] = None, limiter: Optional[RateLimiter] = None) -> None:
        self.mode = parse_choice("pubchem", "mode", mode, MODES)
        self.offline = (parse_flag("pubchem", "offline", offline)
                        or parse_flag("pubchem", "CHEMGEN_OFFLINE", os.environ.get("CHEMGEN_OFFLINE")))
        self.workers = min(8, parse_number("pubchem", "workers", workers, minimum=1, integer=True))
        self.base_url = _base_url()
        self.client = PubChemClient(self.base_url, timeout=parse_seconds("pubchem", "timeout", timeout),
                                    retries=parse_number("pubchem", "retries", retries, minimum=0, integer=True),
                                    backoff=parse_number("pubchem", "backoff", backoff, minimum=0), limiter=limiter)
        path = Path(cache_dir) / CACHE_FILE if cache_dir else None
        self.cache: Optional[AnswerCache] = AnswerCache(path, parse_number("pubchem", "cache_days", cache_days,
                                                                           minimum=0))

    def available(self) -> tuple[bool, str]:
        """Can PubChem be reached (a quick connection, no request sent); offline mode says it uses the cache only."""
        where = self.cache.path if self.cache is not None else cache_dir() / CACHE_FILE
        if self.offline:
            return True, f"offline: answers from the cache only ({where})"
        trouble = unreachable(self.base_url)
        if trouble:
            return False, f"cannot reach {urlsplit(self.base_url).netloc}: {trouble} (--offline answers from the cache)"
        return True, ""

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        """One verdict per candidate, in order; each distinct name is asked at most once."""
        names = [candidate.name.strip() for candidate in candidates]
        answers = self.answers([name for name in dict.fromkeys(names) if name])
        empty = Answer(UNKNOWN, reason="empty name")
        return [self.verdict(answers.get(name, empty)) for name in names]

    def answers(self, names: list[str]) -> dict[str, Answer]:
        """Answers for distinct names: from the cache, then (unless offline) from PubChem."""
        answers = self._cached(names)
        missing = [name for name in names if name not in answers]
        if self.offline:
            answers.update({name: Answer(UNKNOWN, reason="offline, not in cache") for name in missing})
        else:
            answers.update(self._fetch(missing))
        return answers

    def verdict(self, answer: Answer) -> Verdict:
        """Turn an answer into a pass/fail according to the mode."""
        if answer.status == UNKNOWN:
            return Verdict(False, 0.0, f"unknown: {answer.reason}")
        known = answer.status == FOUND
        passed = known == (self.mode == "known")
        if known:
            cid = answer.record.get("CID")
            reason = f"already in PubChem (CID {cid})" if self.mode == "novel" else f"in PubChem (CID {cid})"
        else:
            reason = "not in PubChem"
        return Verdict(passed, 1.0 if passed else 0.0, reason, annotations(answer.record) if known else {})

    def close(self) -> None:
        """Close the cache connection."""
        if self.cache is not None:
            self.cache.close()

    # -------------------------------------------------------- internals

    def _fetch(self, names: list[str]) -> dict[str, Answer]:
        """Ask PubChem about ``names`` with a few workers; cache each answer as it arrives."""
        results: dict[str, Answer] = {}
        if not names:
            return results
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(names)))
        self.client.stop.clear()
        try:
            futures = {pool.submit(self.client.lookup, name): name for name in names}
            with progress_bar(total=len(names), desc="PubChem", unit="name", delay=2.0) as bar:
                for future in as_completed(futures):
                    name = futures[future]
                    results[name] = self._result(future)
                    self._remember(name, results[name])
                    bar.update()
        except BaseException:  # Ctrl-C: stop retrying, let running requests end, keep the cache
            self.client.stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return results

    @staticmethod
    def _result(future: Future) -> Answer:
        """A lookup's answer; a bug in it is an unknown for that name, not a crashed batch."""
        try:
            return future.result()
        except Exception as exc:
            return Answer(UNKNOWN, reason=f"{type(exc).__name__}: {exc}")

    def _cached(self, names: list[str]) -> dict[str, Answer]:
        """Cached answers (stale ones too when offline); a broken cache is dropped with a warning."""
        if self.cache is None or not names:
            return {}
        try:
            return self.cache.get_many(self.base_url, names, stale_ok=self.offline)
        except sqlite3.Error as exc:
            self._drop_cache(exc)
            return {}

    def _remember(self, name: str, answer: Answer) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put(self.base_url, name, answer)
        except sqlite3.Error as exc:
            self._drop_cache(exc)

    def _drop_cache(self, exc: Exception) -> None:
        warnings.warn(f"pubchem: cache {self.cache.path} unusable ({exc}); running without it", stacklevel=3)
        self.cache.close()
        self.cache = None
