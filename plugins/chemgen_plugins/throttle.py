"""A thread-safe sliding-window rate limiter, shared by the whole process.

PubChem asks for at most 5 requests per second and 400 per minute from one
client, and reports how close a client is to its limits in the
``X-Throttling-Control`` response header. :class:`RateLimiter` enforces the
windows before each request; :func:`parse_throttling` and
:data:`THROTTLE_PAUSES` turn the header into a pause for every caller.
"""
from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

PUBCHEM_LIMITS: tuple[tuple[int, float], ...] = ((5, 1.0), (400, 60.0))  # (requests, seconds)
MARGIN = 0.02  # seconds added to every window, for clock granularity at either end
LEVELS = ("Green", "Yellow", "Red", "Black")  # X-Throttling-Control colours, mildest first
THROTTLE_PAUSES = {"Green": 0.0, "Yellow": 1.0, "Red": 5.0, "Black": 30.0}  # pause for every caller

_STATUS = re.compile(r"([A-Za-z ]+?)\s+status:\s*(Green|Yellow|Red|Black)\b(?:\s*\((\d+)%\))?", re.I)


class RateLimiter:
    """At most ``n`` requests in any ``seconds`` window, for every ``(n, seconds)`` in ``limits``.

    A request holds its slot from :meth:`acquire` to :meth:`release` (use
    :meth:`slot`), and the windows count *completion* times: a request may
    reach the server at any moment in between, so this bounds what the server
    sees in any window however late a thread sends or a packet arrives.
    Thread-safe; ``clock`` and ``sleep`` are injectable so tests can run a
    minute of traffic on a fake clock.
    """

    def __init__(
        self,
        limits: Sequence[tuple[int, float]] = PUBCHEM_LIMITS,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not limits or any(n < 1 or seconds <= 0 for n, seconds in limits):
            raise ValueError(f"rate limits must be (count >= 1, seconds > 0) pairs, got {limits!r}")
        self.limits = tuple((int(n), float(seconds) + margin) for n, seconds in limits)
        self._clock, self._sleep = clock, sleep
        self._cond = threading.Condition()
        self._active = 0  # requests granted and not yet released
        self._done: deque[float] = deque(maxlen=max(n for n, _ in self.limits))  # completion times
        self._hold_until = float("-inf")

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a request slot for the duration of one request."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> float:
        """Block until one more request fits every window; return the time slept."""
        waited = 0.0
        while True:
            with self._cond:
                wait = self._wait_needed(self._clock())
                if wait <= 0:
                    self._active += 1
                    return waited
                if wait == math.inf:  # every slot is in flight: wait for a release
                    self._cond.wait(timeout=1.0)
                    continue
            self._sleep(wait)
            waited += wait

    def release(self) -> None:
        """The request granted by :meth:`acquire` is over (answered or failed)."""
        with self._cond:
            self._active -= 1
            self._done.append(self._clock())
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (server asked us to slow down)."""
        if seconds > 0:
            with self._cond:
                self._hold_until = max(self._hold_until, self._clock() + seconds)

    def _wait_needed(self, now: float) -> float:
        """Seconds until a request may go out (inf: wait for a release); lock held."""
        wait = self._hold_until - now
        for n, seconds in self.limits:
            if self._active >= n:
                return math.inf
            recent = [done for done in self._done if done > now - seconds]
            excess = self._active + len(recent) - n + 1  # how many recent ones must age out
            if excess > 0:
                wait = max(wait, recent[excess - 1] + seconds - now)
        return wait


_shared: Optional[RateLimiter] = None
_shared_lock = threading.Lock()


def shared_limiter() -> RateLimiter:
    """The process-wide PubChem limiter (created on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter()
        return _shared


def parse_throttling(header: Optional[str]) -> dict[str, tuple[str, Optional[int]]]:
    """``"Request Count status: Yellow (60%), ..."`` -> ``{"request count": ("Yellow", 60), ...}``.

    A missing or malformed header gives ``{}``.
    """
    if not header:
        return {}
    found = {}
    for label, colour, percent in _STATUS.findall(header):
        found[label.strip().lower()] = (colour.capitalize(), int(percent) if percent else None)
    return found


def throttle_pause(header: Optional[str], pauses: dict[str, float] = THROTTLE_PAUSES) -> float:
    """The pause the worst colour in an ``X-Throttling-Control`` header calls for (0 if none)."""
    colours = [colour for colour, _ in parse_throttling(header).values()]
    if not colours:
        return 0.0
    worst = max(colours, key=LEVELS.index)
    return pauses.get(worst, 0.0)
