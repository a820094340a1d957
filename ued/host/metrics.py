"""``RUN_DIR/metrics.jsonl``: one JSON object per unit (update or generation). Host only.

A row holds the unit's number under the unit key (``"update"``), per-seed values as lists, and
the warnings recorded at that unit under ``"warnings"`` (``{name: message}``). Readers keep
every good row: a bad line (torn by a crash, edited by hand) is skipped with a warning.
Truncation on resume removes only rows this layer wrote past the resumed unit; any other line
is kept byte for byte.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import numpy as np

from ued.host.errors import RunFileError
from ued.host.files import atomic_write_bytes, jsonable

METRICS_FILE = "metrics.jsonl"
WARNINGS_KEY = "warnings"


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _line_list(nums: list[int]) -> str:
    shown = ", ".join(str(n) for n in nums[:5])
    return shown + (f" and {len(nums) - 5} more" if len(nums) > 5 else "")


def _parse(line: str) -> dict | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) else None


def read_metrics(
    run_dir: str | os.PathLike, warn: Callable[[str], None] | None = None
) -> list[dict]:
    """The rows of ``metrics.jsonl`` (``[]`` if absent). Lines that are not JSON objects are
    skipped and reported once through ``warn(message)`` (default: stderr)."""
    p = Path(run_dir) / METRICS_FILE
    try:
        text = p.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RunFileError(p, "read", e) from e
    rows, bad = [], []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row = _parse(line)
        if row is None:
            bad.append(i)
        else:
            rows.append(row)
    if bad:
        (warn or _stderr)(
            f"{p}: skipped {len(bad)} unreadable line(s) (line {_line_list(bad)}); "
            f"kept the {len(rows)} good rows"
        )
    return rows


def _numeric(v) -> bool:
    if v is None or isinstance(v, bool):
        return True
    if isinstance(v, int | float):
        return True
    return isinstance(v, list) and all(_numeric(e) and not isinstance(e, list) for e in v)


def metrics_to_arrays(rows: list[dict]) -> dict[str, np.ndarray]:
    """Column arrays from metric rows: ``(rows,)`` or, for per-seed lists, ``(rows, K)``
    float64; missing and ``None`` entries are NaN. Non-numeric entries (``warnings``) are left
    out (see :func:`row_warnings`)."""
    keys: list[str] = []
    seen: set[str] = set()
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                keys.append(k)
    out = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if not all(_numeric(v) for v in vals):
            continue
        width = max((len(v) for v in vals if isinstance(v, list)), default=0)
        if width:
            arr = np.full((len(vals), width), np.nan)
            for i, v in enumerate(vals):
                if isinstance(v, list):
                    arr[i, : len(v)] = [np.nan if e is None else e for e in v]
                elif v is not None:
                    arr[i] = v
        else:
            arr = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
        out[k] = arr
    return out


def row_warnings(rows: Iterable[dict], unit: str = "update") -> list[tuple[int, str, str]]:
    """``(unit, name, message)`` of every warning recorded in ``rows``."""
    out = []
    for r in rows:
        w = r.get(WARNINGS_KEY)
        if isinstance(w, dict):
            out.extend((r.get(unit, -1), str(n), str(m)) for n, m in w.items())
    return out


def format_row(row: dict) -> str:
    """The line a row is stored as (strict JSON: NaN/inf become ``null``)."""
    return json.dumps(jsonable(row)) + "\n"


class MetricsFile:
    """Append-only writer of ``RUN_DIR/metrics.jsonl``; every failure names the file."""

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / METRICS_FILE
        self._f: IO[str] | None = None

    def create(self) -> None:
        """Start an empty file (a fresh run)."""
        atomic_write_bytes(self.path, b"")

    def append(self, rows: Iterable[dict]) -> None:
        """Append rows and flush them."""
        try:
            if self._f is None:
                self._f = open(self.path, "a", encoding="utf-8")
            for row in rows:
                self._f.write(format_row(row))
            self._f.flush()
        except OSError as e:
            raise RunFileError(self.path, "append to", e) from e

    def truncate_after(self, unit_key: str, last: int, report: bool = False) -> int | str:
        """Remove the rows with an integer ``unit_key`` greater than ``last`` (rows this layer
        wrote past a resumed checkpoint) and an unterminated, unreadable last line (one of its
        rows torn by a crash); every other line stays byte for byte. Returns how many were
        removed (the file is rewritten atomically only when some were); with ``report``, the
        start of a removed torn line instead ("" when none was)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        except OSError as e:
            raise RunFileError(self.path, "read", e) from e
        kept, removed, torn = [], 0, ""
        lines = data.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
        for i, line in enumerate(lines):
            row = _parse(line)
            if row is None and i == len(lines) - 1 and not line.endswith("\n"):
                # this layer writes whole lines; an unterminated, unreadable last line is one of
                # its rows torn by a crash, and appending after it would corrupt the next row
                removed += 1
                torn = line[:40] + ("..." if len(line) > 40 else "")
                continue
            u = row.get(unit_key) if row is not None else None
            if isinstance(u, int) and not isinstance(u, bool) and u > last:
                removed += 1
            else:
                kept.append(line)
        if removed:
            atomic_write_bytes(self.path, "".join(kept).encode("utf-8", errors="surrogateescape"))
        return torn if report else removed

    def drop_keys(self, unit_key: str, unit: int, prefix: str) -> bool:
        """Remove the keys starting with ``prefix`` from the row of ``unit`` (rewritten
        atomically); every other line stays byte for byte. Returns whether any went."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        except FileNotFoundError:
            return False
        except OSError as e:
            raise RunFileError(self.path, "read", e) from e
        changed = False
        for i, line in enumerate(lines):
            row = _parse(line)
            if row is not None and row.get(unit_key) == unit and any(
                k.startswith(prefix) for k in row
            ):
                lines[i] = format_row({k: v for k, v in row.items() if not k.startswith(prefix)})
                changed = True
        if changed:
            atomic_write_bytes(self.path, "".join(lines).encode("utf-8"))
        return changed

    def close(self) -> None:
        if self._f is not None:
            f, self._f = self._f, None
            try:
                f.close()
            except OSError:
                pass


__all__ = [
    "METRICS_FILE",
    "MetricsFile",
    "format_row",
    "metrics_to_arrays",
    "read_metrics",
    "row_warnings",
]
