"""Writing files so that a failed or interrupted write never leaves half a file behind.

A regular file (or a missing one) is written to a temporary file beside it and
renamed over it only when the write succeeded; a symlink's target is what gets
replaced. Anything else at the path (a device such as /dev/null, a FIFO, a
process substitution's /dev/fd/N) is written in place, since renaming over it
would destroy it. Errors name the user's path, never the temporary file.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping, Optional, Union

from chemgen.errors import ChemgenError, ConfigError

PathLike = Union[str, os.PathLike]


def check_writable(path: PathLike, what: str = "output") -> None:
    """ConfigError now, before any work, if ``path`` cannot be written later."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"cannot write {what} {path}: it is a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ConfigError(f"cannot write {what} {path}: permission denied")
        return
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write {what} {path}: no such directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {what} {path}: directory {parent} is not writable")


def check_distinct(inputs: Mapping[str, Optional[PathLike]], outputs: Mapping[str, Optional[PathLike]],
                   stdout: bool = False) -> None:
    """ConfigError before any work if an output is one of the command's inputs or another of its outputs.

    ``inputs`` and ``outputs`` map a flag (``--model``) to its path (None, '' and '-' are skipped);
    paths are compared after following symlinks (hard links too, where the file exists); devices and
    FIFOs may be shared. ``stdout``: the command writes to standard output, which must not be an input.
    """
    seen: dict[Any, str] = {}
    for flag, path in inputs.items():
        key = _identity(path)
        if key is not None:
            seen.setdefault(key, f"{flag} {path} (an input)")
    named = [(f"{flag} {path}", _identity(path)) for flag, path in outputs.items()]
    if stdout:
        named.append(("standard output", _stdout_identity()))
    for where, key in named:
        if key is None:
            continue
        if key in seen:
            raise ConfigError(f"{where} is the same file as {seen[key]}: refusing to overwrite it")
        seen[key] = f"{where} (another output)"


def _identity(path: Optional[PathLike]) -> Any:
    """What a path names, symlinks followed: (device, inode) of an existing file, else its real path;
    None for nothing, '-', a device or a FIFO."""
    if path is None or str(path) in ("", "-"):
        return None
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except OSError:
        return real
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        return None
    return (info.st_dev, info.st_ino)


def _stdout_identity() -> Any:
    """(device, inode) of standard output when it is a regular file (``> file``), else None."""
    import sys

    try:
        info = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


def _is_special(path: Path) -> bool:
    """Something other than a regular file exists at path (following symlinks)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", fsync: bool = False, **kwargs: Any) -> Iterator[IO]:
    """Open ``path`` for writing; a regular file is replaced only if the block succeeds."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a directory")
    if _is_special(path):
        with _reporting(path), open(path, mode, **kwargs) as handle:
            yield handle
        return
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise ConfigError(f"cannot write {path}: no such directory {path.parent}")
    with _reporting(path):
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with _reporting(path), os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, target.stat().st_mode & 0o7777 if target.exists() else 0o644)
        with _reporting(path):
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _reporting(path: Path) -> Iterator[None]:
    """Turn an OSError while writing into a one-line error about the user's path."""
    try:
        yield
    except OSError as exc:
        raise ChemgenError(f"cannot write {path}: {exc.strerror or exc}") from None


def atomic_text(path: PathLike) -> contextlib.AbstractContextManager[IO[str]]:
    """:func:`atomic_open` for UTF-8 text (newlines left as written)."""
    return atomic_open(path, "w", encoding="utf-8", newline="")


class StagedFile:
    """A file a long run appends to: rows go to a hidden sibling, and the file itself changes only at
    :meth:`publish` (a checkpoint, the end), atomically, so a refused or killed run never leaves it
    emptied or half written."""

    def __init__(self, path: PathLike, start: str = ""):
        self.path = Path(path)
        with _reporting(self.path):
            fd, self.staging = tempfile.mkstemp(dir=self.path.resolve().parent, prefix=f".{self.path.name}.",
                                                suffix=".staged")
            self.handle = os.fdopen(fd, "w", encoding="utf-8")
            self.handle.write(start)

    def write(self, text: str) -> None:
        with _reporting(self.path):
            self.handle.write(text)

    def publish(self) -> None:
        """Make the file what has been written so far (a copy renamed into place)."""
        with _reporting(self.path):
            self.handle.flush()
        with atomic_open(self.path, "wb") as out, open(self.staging, "rb") as staged:
            shutil.copyfileobj(staged, out)

    def close(self) -> None:
        """Publish, then drop the staging file."""
        try:
            self.publish()
        finally:
            self.handle.close()
            Path(self.staging).unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive(paths: Iterable[Optional[PathLike]], what: str = "output") -> Iterator[None]:
    """Hold an exclusive lock on each output (symlinks followed) while a long run writes it; a second run
    given the same file is refused in one line naming it."""
    import fcntl

    held: list[IO] = []
    try:
        for path in dict.fromkeys(Path(os.path.realpath(p)) for p in paths if p is not None):
            lock = open(path.with_name(f".{path.name}.lock"), "a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()  # the other run's lock file stays
                raise ConfigError(f"{path} is being written by another chemgen run: wait for it to end, or give "
                                  f"another {what} file") from None
            held.append(lock)
        yield
    finally:
        for lock in held:  # only the locks this run took
            Path(lock.name).unlink(missing_ok=True)
            lock.close()
