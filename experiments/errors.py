"""Error reporting of every ``openued`` command: each expected failure becomes ONE line
``openued: error: ...`` on stderr and an exit status (2: the caller's mistake, 1: a failure of
the run itself), never a traceback; ``--help`` prints the command's help and exits 0. Host only.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from experiments.options import ConfigError, ShowHelp

PREFIX = "openued: error: "

# OSErrors that are the caller's mistake (a path that cannot be read or written)
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EISDIR}


def one_line(e: BaseException | str) -> str:
    """``str(e)`` with its whitespace collapsed (the exception's type name when empty)."""
    text = " ".join(str(e).split())
    return text or (type(e).__name__ if isinstance(e, BaseException) else "")


def error(msg: BaseException | str) -> None:
    """Print one ``openued: error: ...`` line on stderr."""
    print(PREFIX + one_line(msg), file=sys.stderr)


def os_error_line(e: OSError) -> str:
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{(e.strerror or str(e)).lower()}"


def run_command(
    fn: Callable[[Any], int | None],
    args: Any,
    user_errors: tuple[type[BaseException], ...] = (),
    resume_hint: Callable[[Path, int | None], str] | None = None,
) -> int:
    """``fn(args)`` with every expected failure reported as one line; returns the exit status.

    ``ShowHelp``: its text on stdout, 0. ``ConfigError`` and ``user_errors``: 2. A run-layer
    ``RunError``: 2 or 1 by its ``user_error`` (a divergence gets ``resume_hint(run_dir,
    last_good_unit)`` appended when it names a checkpoint). An interrupted run (Ctrl-C, stopped
    at a checkpoint): the command that continues it, ``resume_hint(run_dir, None)``, and 130.
    ``OSError``: 2 for a path the caller gave that cannot be used, else 1.
    ``NotImplementedError`` (a documented gap): 2. Out of (device) memory: 1. Host only.
    """
    from ued.host import RunError, RunInterrupted, TrainingDiverged

    try:
        rc = fn(args)
        return 0 if rc is None else int(rc)
    except ShowHelp as h:
        print(str(h))
        return 0
    except ConfigError as e:
        error(e)
        return 2
    except RunInterrupted as e:
        run_dir = e.checkpoint.parent.parent
        hint = resume_hint(run_dir, None) if resume_hint else ""
        error(f"{one_line(e)}{f'; continue with: {hint}' if hint else ''}")
        return 130
    except RunError as e:  # before OSError/ValueError: the run layer knows whose fault it is
        msg = one_line(e)
        if isinstance(e, TrainingDiverged) and e.checkpoint is not None and resume_hint:
            msg += f" ({resume_hint(e.checkpoint.parent.parent, e.unit - 1)})"
        error(msg)
        return 2 if e.user_error else 1
    except OSError as e:
        error(os_error_line(e))
        return 2 if e.errno in _USER_ERRNOS else 1
    except NotImplementedError as e:  # a documented gap of the toolkit, said in one line
        error(e)
        return 2
    except MemoryError:
        error("out of memory; use fewer environments, steps, seeds or candidates")
        return 1
    except user_errors as e:
        error(e)
        return 2
    except Exception as e:
        if "RESOURCE_EXHAUSTED" not in str(e):
            raise
        error(
            "out of device memory; use fewer environments, steps, seeds or candidates "
            "(e.g. --num-envs, --num-steps, --num-seeds, --population)"
        )
        return 1


def group_overview(group: str, summary: str, commands: dict, targets) -> str:
    """``openued GROUP --help``: usage, one line per command, and the targets."""
    lines = [f"usage: openued {group} COMMAND [ARGS ...]   ('openued {group} COMMAND --help')", ""]
    lines.append(summary)
    lines += ["", "commands:", *(f"  {c:<8s}{d}" for c, (d, _) in commands.items())]
    lines += ["", "targets: " + ", ".join(targets)]
    return "\n".join(lines)


__all__ = ["PREFIX", "error", "group_overview", "one_line", "os_error_line", "run_command"]
