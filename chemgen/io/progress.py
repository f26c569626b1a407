"""Progress bars: shown on a terminal, silent in pipes and under CI."""
from __future__ import annotations

import os
import sys
from typing import Iterable, Optional

from tqdm import tqdm


def progress_enabled(stream=None) -> bool:
    """True when ``stream`` (stderr by default) is a terminal and CHEMGEN_NO_PROGRESS is unset."""
    stream = stream if stream is not None else sys.stderr
    if os.environ.get("CHEMGEN_NO_PROGRESS"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def progress_bar(iterable: Optional[Iterable] = None, total: Optional[int] = None, desc: str = "", unit: str = "it", **kwargs) -> tqdm:
    """A tqdm bar on stderr, disabled when stderr is not a terminal."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr,
                disable=not progress_enabled(), dynamic_ncols=True, leave=False, **kwargs)
