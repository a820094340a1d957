"""The ES commands' error reporting: every expected failure becomes one ``error: ...`` line on
stderr and an exit status (2: the user's mistake, 1: a runtime failure), never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def one_line(e: BaseException) -> str:
    """``str(e)`` with its whitespace collapsed (the exception's type name when empty)."""
    return " ".join(str(e).split()) or type(e).__name__


def run_reporting(
    fn: Callable[[Any], int], args: Any, user_errors: tuple[type[BaseException], ...] = ()
) -> int:
    """``fn(args)``; a ``RunError`` exits by its ``user_error``, ``ValueError``, ``ImportError``
    and ``user_errors`` exit 2, an ``OSError`` exits 1 naming its file. Host only."""
    from ued.host import RunError

    try:
        return fn(args)
    except RunError as e:  # before ValueError/OSError: the run layer knows whose fault it is
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2 if e.user_error else 1
    except (*user_errors, ValueError, ImportError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{(e.strerror or str(e)).lower()}", file=sys.stderr)
        return 1


__all__ = ["one_line", "run_reporting"]
