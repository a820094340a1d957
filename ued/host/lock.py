"""One writer per run directory: ``RUN_DIR/.lock`` holds the owner's pid. Host only.

:class:`RunLock` creates the lock file with ``{"pid", "host", "start"}`` of this process and
holds an advisory ``flock`` on it while the run writes. Another process is refused with a
:class:`~ued.host.errors.RunLocked` naming the owner while that owner lives (its ``flock`` is
held, or its pid runs with the same start time); a lock left by a process that died is taken
over with a warning. Releasing removes the file.
"""

from __future__ import annotations

import errno
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

from ued.host.errors import RunFileError, RunLocked

try:
    import fcntl
except ImportError:  # not POSIX: the pid check alone decides
    fcntl = None

LOCK_FILE = ".lock"


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a live owner from a reused pid), if known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]  # field 22: starttime
    except (OSError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def _read_owner(fd: int) -> dict | None:
    try:
        data = os.pread(fd, 4096, 0)
        owner = json.loads(data.decode("utf-8"))
        return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None
    except (OSError, ValueError):
        return None


class RunLock:
    """Context manager: ``with RunLock(run_dir): ...`` (or ``acquire()`` / ``release()``).

    ``warn(message)`` reports a taken-over stale lock (default: stderr).
    """

    def __init__(self, run_dir: str | os.PathLike, warn: Callable[[str], None] | None = None):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._warn = warn
        self._fd: int | None = None

    def _me(self) -> dict:
        pid = os.getpid()
        return {"pid": pid, "host": socket.gethostname(), "start": _proc_start(pid)}

    def _owner_alive(self, owner: dict) -> bool:
        if owner.get("host") not in (None, socket.gethostname()):
            return True  # cannot look at another machine's processes: assume it runs
        pid = owner["pid"]
        if not _pid_alive(pid):
            return False
        start = owner.get("start")
        return start is None or _proc_start(pid) in (None, start)

    def _refuse(self, owner: dict | None) -> RunLocked:
        if owner is None:
            who = "another process"
        else:
            who = f"process {owner['pid']}"
            if owner.get("host") not in (None, socket.gethostname()):
                who += f" on host {owner['host']}"
        return RunLocked(
            f"{self.run_dir} is in use by {who} (lock file {self.path}); wait for it to finish "
            f"or stop it, then try again (if that process has ended, delete {self.path})"
        )

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`RunLocked` (live owner) / ``RunFileError``."""
        if self._fd is not None:
            return self
        me = self._me()
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as e:
                raise RunFileError(self.path, "create the lock file", e) from e
            held = False
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError as e:
                        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                            raise self._refuse(_read_owner(fd)) from None
                        raise RunFileError(self.path, "lock", e) from e
                try:  # a releasing owner may have removed the file we opened: open it again
                    if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                        continue
                except FileNotFoundError:
                    continue
                owner = _read_owner(fd)
                if owner is not None and owner["pid"] != me["pid"] and self._owner_alive(owner):
                    raise self._refuse(owner)
                if owner is not None and owner["pid"] != me["pid"]:
                    (self._warn or _default_warn)(
                        f"{self.path}: taking over the lock of process {owner['pid']}, which is "
                        "no longer running"
                    )
                data = json.dumps(me).encode()
                try:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, data, 0)
                    os.fsync(fd)
                except OSError as e:
                    raise RunFileError(self.path, "write the lock file", e) from e
                self._fd, held = fd, True
                return self
            finally:
                if not held:
                    os.close(fd)
        raise self._refuse(None)

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and drop the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            owner = _read_owner(fd)
            if owner is not None and owner["pid"] == os.getpid():
                try:
                    self.path.unlink()
                except OSError:
                    pass
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _default_warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


__all__ = ["LOCK_FILE", "RunLock"]
