"""Atomic file writing: the one way the toolkit writes a file it must not leave half-written.

:func:`atomic_write_bytes` writes a temporary file next to the target (``.NAME.tmp-PID-N``),
``fsync``\\ s it, renames it over the target and ``fsync``\\ s the directory, so a reader sees
either the old file or the new one, never a torn one. If anything fails (or the process is
interrupted) the temporary file is removed, and an ``OSError`` becomes a
:class:`~ued.host.errors.RunFileError` naming the target. Host only.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ued.host.errors import RunFileError

_TMP_COUNTER = itertools.count()


def _write_new_file(tmp: Path, data: bytes) -> None:
    """Create ``tmp`` (it must not exist), write ``data`` and flush it to the device."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(d: Path) -> None:
    # makes the rename itself durable; some file systems refuse fsync on directories
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` by ``data`` atomically. Host only.

    Raises :class:`RunFileError` naming ``path`` when it cannot be written (permissions, full
    disk, missing directory); no temporary file is left behind in any case.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{next(_TMP_COUNTER)}")
    try:
        _write_new_file(tmp, bytes(data))
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and not isinstance(e, RunFileError):
            raise RunFileError(path, "write", e) from e
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` of UTF-8 ``text``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def jsonable(x: Any) -> Any:
    """``x`` with arrays as lists, dataclasses as dicts and NaN/inf as ``None`` (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray | np.generic):
        return jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable(dataclasses.asdict(x))
    return x


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` (made :func:`jsonable`) as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(jsonable(obj), indent=2) + "\n")


def save_figure(fig: Any, path: str | os.PathLike, **savefig_kwargs: Any) -> Path:
    """Render a matplotlib figure (format from the suffix) and write it atomically."""
    import io

    buf = io.BytesIO()
    fmt = Path(path).suffix.lstrip(".") or None
    fig.savefig(buf, format=fmt, **savefig_kwargs)
    return atomic_write_bytes(path, buf.getvalue())


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` and its parents if needed; :class:`RunFileError` naming it otherwise."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunFileError(path, "create the directory", e) from e
    return path


def numbered_files(directory: str | os.PathLike, prefix: str, suffix: str) -> list[tuple[int, Path]]:
    """``(n, path)`` of the files ``DIR/<prefix>_<n><suffix>``, by ``n`` (files are not read;
    names that do not parse are skipped)."""
    d = Path(directory)
    out = []
    if d.is_dir():
        for p in d.glob(f"{prefix}_*{suffix}"):
            try:
                out.append((int(p.name[len(prefix) + 1 : len(p.name) - len(suffix)]), p))
            except ValueError:
                continue
    return sorted(out)


__all__ = [
    "numbered_files",
    "atomic_write_bytes",
    "atomic_write_text",
    "ensure_dir",
    "jsonable",
    "save_figure",
    "write_json",
]


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def open_npz(path: str | os.PathLike) -> Any:
    """``numpy.load(path, allow_pickle=False)`` of a ``.npz`` archive (data only). A file that is
    not one (text, random bytes, a ``.npy``) or a damaged one is a ``ValueError`` of one line
    naming the file and what it is not, never numpy's parser text. Host only."""
    import numpy as np

    with open(path, "rb") as f:
        head = f.read(4)
    if head not in _ZIP_MAGIC:
        raise ValueError(f"{path}: not a .npz archive (its bytes do not start a zip file)")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:  # a zip archive that is not numpy's, or a damaged one
        raise ValueError(f"{path}: damaged, not a readable .npz archive ({type(e).__name__})") from None
