"""An on-disk SQLite cache of PubChem answers, safe for several processes at once.

Only definite answers are kept: "found" (with its record) and "not found".
"Unknown" (unreachable, garbage) is never cached, so it is asked again next run.
The file lives in ``$CHEMGEN_CACHE_DIR`` or ``platformdirs.user_cache_dir("chemgen")``;
writes use WAL mode, a busy timeout and ``INSERT OR REPLACE`` in short transactions.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import platformdirs

FOUND, NOT_FOUND, UNKNOWN = "found", "not found", "unknown"
CACHE_FILE = "pubchem.sqlite"
BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's lock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    source  TEXT NOT NULL,  -- PUG REST base URL the answer came from
    name    TEXT NOT NULL,  -- the name as asked
    status  TEXT NOT NULL,  -- 'found' or 'not found'
    record  TEXT,           -- JSON of the PubChem properties, when found
    fetched REAL NOT NULL,  -- time.time() of the answer
    PRIMARY KEY (source, name)
)
"""


@dataclass
class Answer:
    """What PubChem said of one name."""

    status: str  # FOUND, NOT_FOUND or UNKNOWN
    record: dict[str, Any] = field(default_factory=dict)  # PubChem properties when found
    reason: str = ""  # why, when UNKNOWN
    fetched: Optional[float] = None  # time.time() of the answer, when it came from the cache


def cache_dir() -> Path:
    """``$CHEMGEN_CACHE_DIR`` if set, else the user's cache directory for chemgen."""
    return Path(os.environ.get("CHEMGEN_CACHE_DIR") or platformdirs.user_cache_dir("chemgen"))


class AnswerCache:
    """Answers keyed by (source URL, name), with an expiry in days."""

    def __init__(self, path: Optional[Path] = None, max_age_days: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else cache_dir() / CACHE_FILE
        self.max_age = max_age_days * 86400.0
        self._clock = clock
        self._lock = threading.Lock()
        self._db: Optional[sqlite3.Connection] = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                                 check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(_SCHEMA)
            self._db = db
        return self._db

    def get_many(self, source: str, names: Iterable[str], stale_ok: bool = False) -> dict[str, Answer]:
        """Cached answers for those of ``names`` that have a fresh one (any age with ``stale_ok``)."""
        names = list(names)
        oldest = float("-inf") if stale_ok else self._clock() - self.max_age
        found: dict[str, Answer] = {}
        with self._lock:
            db = self._connect()
            for start in range(0, len(names), 500):  # stay under SQLite's parameter limit
                chunk = names[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT name, status, record, fetched FROM answers "
                    f"WHERE source = ? AND name IN ({marks}) AND fetched >= ?",
                    [source, *chunk, oldest],
                ).fetchall()
                for name, status, record, fetched in rows:
                    found[name] = Answer(status, json.loads(record) if record else {}, fetched=fetched)
        return found

    def put(self, source: str, name: str, answer: Answer) -> None:
        """Store a definite answer (found / not found); unknown answers are ignored."""
        if answer.status not in (FOUND, NOT_FOUND):
            return
        record = json.dumps(answer.record) if answer.status == FOUND else None
        with self._lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                           (source, name, answer.status, record, self._clock()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
