"""A filter for the cluster tests: passes everything, slowly, and leaves a mark per batch.

Workers import it by module name, so the tests put this folder on PYTHONPATH
before their cluster starts.
"""
from __future__ import annotations

import os
import time
import uuid

from chemgen.filters import Verdict


class SlowFilter:
    name = "slow"

    def __init__(self, marks: str, delay: float = 0.2):
        self.marks, self.delay = marks, delay

    def check(self, candidates):
        time.sleep(self.delay)
        with open(os.path.join(self.marks, f"{os.getpid()}-{uuid.uuid4().hex}"), "w"):
            pass
        return [Verdict(True) for _ in candidates]
