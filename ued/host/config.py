"""A run's ``config.json`` and the resume rule. Host only.

The configuration is whatever JSON object the caller trains with. Reading it fails with one
:class:`~ued.host.errors.ConfigFileError` line naming the file (missing, empty, not JSON, not an
object). :func:`check_resume` is the one rule for what a resumed run may change: the run length
and options that only affect execution; anything else changes what the run computes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from ued.host.errors import ConfigFileError, ResumeError
from ued.host.files import jsonable

CONFIG_FILE = "config.json"


def read_config(run_dir: str | os.PathLike) -> dict:
    """The JSON object in ``RUN_DIR/config.json``; :class:`ConfigFileError` naming the file."""
    run_dir = Path(run_dir)
    p = run_dir / CONFIG_FILE
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(f"{run_dir}: not a run directory (no {CONFIG_FILE})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigFileError(f"{p}: cannot read ({getattr(e, 'strerror', None) or e})") from e
    if not text.strip():
        raise ConfigFileError(f"{p}: empty file (expected the run's configuration, a JSON object)")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigFileError(
            f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    if not isinstance(cfg, dict):
        raise ConfigFileError(f"{p}: expected a JSON object, got a {type(cfg).__name__}")
    return cfg


_MISSING = object()


def _norm(d: dict) -> dict:
    # compare as stored: tuples become lists, NaN becomes null
    return json.loads(json.dumps(jsonable(d)))


def check_resume(
    old_config: dict,
    new_config: dict,
    may_change: Collection[str],
    describe: Callable[[str], str] = str,
) -> None:
    """Refuse a resume that changes anything but the fields in ``may_change``.

    Raises :class:`ResumeError` naming every changed field (through ``describe``, e.g. the
    command-line flag), its stored and new values, and the fields that may change.
    """
    old, new = _norm(old_config), _norm(new_config)
    changed = [
        k
        for k in sorted(set(old) | set(new))
        if k not in may_change and old.get(k, _MISSING) != new.get(k, _MISSING)
    ]
    if not changed:
        return

    def show(v: Any) -> str:
        return "(absent)" if v is _MISSING else json.dumps(v)

    detail = "; ".join(
        f"{describe(k)}: {show(old.get(k, _MISSING))} in the run, {show(new.get(k, _MISSING))} now"
        for k in changed
    )
    allowed = ", ".join(describe(k) for k in sorted(may_change)) or "nothing"
    raise ResumeError(
        f"cannot change {', '.join(describe(k) for k in changed)} when resuming ({detail}); "
        f"a resumed run may change only: {allowed}"
    )


__all__ = ["CONFIG_FILE", "check_resume", "read_config"]
