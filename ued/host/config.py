"""A run's ``config.json`` and the resume rule. Host only.

The configuration is whatever JSON object the caller trains with. Reading it fails with one
:class:`~ued.host.errors.ConfigFileError` line naming the file (missing, empty, not JSON, not an
object). :func:`check_resume` is the one rule for what a resumed run may change: the run length
and options that only affect execution; anything else changes what the run computes.

Run format: ``config.json`` carries ``"format_version"`` (:data:`FORMAT_VERSION` of the code
that wrote it; runs written before versions existed have none and are format 1), and so does
every checkpoint (``ued.host.checkpoints``). It changes when the layout of a run directory or
of a run's state changes; :func:`check_format` is the rule a resume follows.
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
# the run format this code writes: 1 = runs written before run directories carried a version
FORMAT_VERSION = 2
FORMAT_KEY = "format_version"


def run_format(config: dict) -> int:
    """The run format a stored ``config.json`` object declares (1 when it declares none)."""
    v = config.get(FORMAT_KEY, 1)
    return v if isinstance(v, int) and not isinstance(v, bool) else 1


def check_format(config: dict, run_dir: str | os.PathLike) -> None:
    """Refuse to continue a run written in another run format (one line naming both versions
    and what still works). Host only."""
    v = run_format(config)
    if v != FORMAT_VERSION:
        newer = v > FORMAT_VERSION
        raise ResumeError(
            f"{run_dir} holds a run of format {v}; this openued writes format {FORMAT_VERSION} "
            f"and cannot continue it ("
            + (
                "it was written by a newer openued: update openued to resume it"
                if newer
                else "eval and plot still read it: start a new run to train further"
            )
            + ")"
        )


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


__all__ = [
    "CONFIG_FILE",
    "FORMAT_KEY",
    "FORMAT_VERSION",
    "check_format",
    "check_resume",
    "read_config",
    "run_format",
]
