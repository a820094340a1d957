"""The run layer's errors: one line each, naming the file or field at fault. Host only.

Every error a user can act on derives from :class:`RunError`; a command line prints its message
as one line (no traceback). :attr:`RunError.user_error` says whether the cause is the caller's
(a bad config, a refused resume, a directory that cannot be written: exit status 2) or the run's
(a diverged loss, a full disk, lost checkpoints: exit status 1).
"""

from __future__ import annotations

import errno as _errno
import os
from pathlib import Path


class RunError(Exception):
    """Base of the run layer's errors; ``str(e)`` is one line for the user."""

    user_error = False


class RunFileError(RunError, OSError):
    """A file of the run directory could not be written (or read); names the file.

    ``errno`` is the underlying ``OSError``'s. Permission, read-only and missing-path causes are
    the caller's (:attr:`user_error`); a full disk or an I/O error is the run's.
    """

    _USER_ERRNOS = frozenset(
        getattr(_errno, n)
        for n in ("EACCES", "EPERM", "EROFS", "ENOENT", "ENOTDIR", "EISDIR", "EEXIST")
        if hasattr(_errno, n)
    )
    _HINTS = {
        _errno.EACCES: "permission denied: the run directory is not writable by this user",
        _errno.EPERM: "operation not permitted: the run directory is not writable by this user",
        _errno.EROFS: "read-only file system: choose a writable run directory",
        _errno.ENOSPC: "no space left on device: free some space, then resume the run",
        getattr(_errno, "EDQUOT", -1): "disk quota exceeded: free some space, then resume the run",
    }

    def __init__(self, path: str | os.PathLike, action: str, cause: OSError):
        OSError.__init__(self, cause.errno, cause.strerror or str(cause), str(path))
        self.path = Path(path)
        self.action = action

    @property
    def user_error(self) -> bool:  # type: ignore[override]
        return self.errno in self._USER_ERRNOS

    def __str__(self) -> str:
        why = self._HINTS.get(self.errno) or (self.strerror or "failed").lower()
        return f"{self.path}: cannot {self.action}: {why}"


class ConfigFileError(RunError, ValueError):
    """``config.json`` is missing, empty, not JSON, or holds a bad key or value; names it."""

    user_error = True


class CheckpointError(RunError, RuntimeError):
    """A checkpoint is missing, truncated, corrupted or does not fit the run; names the file."""


class TrainingDiverged(RunError, RuntimeError):
    """The loss became non-finite; the run stopped. Attributes: ``unit`` (where),
    ``checkpoint`` (newest checkpoint path or ``None``) and ``checkpoint_unit`` (-1: none)."""

    def __init__(
        self,
        message: str,
        unit: int = -1,
        checkpoint: Path | None = None,
        checkpoint_unit: int = -1,
    ):
        super().__init__(message)
        self.unit = unit
        self.checkpoint = checkpoint
        self.checkpoint_unit = checkpoint_unit


class RunInterrupted(RunError):
    """The run was interrupted (Ctrl-C / SIGINT) and stopped at the next safe point, a chunk
    boundary, with a checkpoint there. Attributes: ``unit`` and ``checkpoint`` (its path)."""

    def __init__(self, message: str, unit: int, checkpoint: Path):
        super().__init__(message)
        self.unit = unit
        self.checkpoint = checkpoint


class RunLocked(RunError):
    """Another live process holds the run directory's lock."""

    user_error = True


class ResumeError(RunError, ValueError):
    """A resume was refused (a changed field, or a run length below the run's position)."""

    user_error = True


class RunExists(RunError, ValueError):
    """A fresh run was started in a directory that already holds one."""

    user_error = True


__all__ = [
    "CheckpointError",
    "ConfigFileError",
    "ResumeError",
    "RunError",
    "RunExists",
    "RunFileError",
    "RunInterrupted",
    "RunLocked",
    "TrainingDiverged",
]
