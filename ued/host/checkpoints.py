"""Checkpoints: one reader and one writer for state pytrees, data only. Host only.

File format: ``MAGIC | sha256(payload) | payload`` where the payload is
``flax.serialization.msgpack_serialize`` of ``{"format_version": V, "unit": U, "state": state
dict}`` (typed PRNG keys stored as their raw ``uint32`` data, strings kept as strings; ``V`` the
run format of ``ued.host.config.FORMAT_VERSION``; ``U`` the unit the state is at, which the
loader trusts over the file's name). Files of format 1 (``MAGIC_V1``, written before runs carried
a version) hold the state dict itself and still read. Reading never executes code: a file that
is not one of ours fails the header check, a torn or altered one fails its checksum, and each
failure is a :class:`CheckpointError` naming the file.

Checkpoints live in ``RUN_DIR/checkpoints/ckpt_<unit:09d>.msgpack``; :func:`save_checkpoint`
writes one atomically and keeps the newest ``keep``; :func:`load_latest_checkpoint` returns
the newest one that reads (and fits a template), skipping corrupted ones with a warning. The
same format holds the level snapshots (``ued.host.snapshots``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from ued.host.config import FORMAT_VERSION
from ued.host.errors import CheckpointError
from ued.host.files import atomic_write_bytes, ensure_dir, numbered_files

MAGIC = b"OPENUED\x02"
MAGIC_V1 = b"OPENUED\x01"
_HASH_LEN = 32
CKPT_DIR = "checkpoints"


def _is_key(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key)


def _key_data(x: Any) -> Any:
    if isinstance(x, jax.ShapeDtypeStruct):
        return jax.eval_shape(jax.random.key_data, x)
    return jax.random.key_data(x)


def _unkey(tree: Any) -> Any:
    return jax.tree.map(lambda x: _key_data(x) if _is_key(x) else x, tree)


def _to_host(x: Any) -> Any:
    return x if isinstance(x, str) else np.asarray(x)


def state_to_bytes(
    state: Any, format_version: int = FORMAT_VERSION, unit: int | None = None
) -> bytes:
    """Checksummed, data-only bytes of a pytree of arrays (typed keys and strings allowed),
    marked with the run format ``format_version`` and, for a checkpoint, its ``unit``."""
    host = jax.tree.map(_to_host, jax.device_get(_unkey(state)))
    body = {"format_version": int(format_version), "state": serialization.to_state_dict(host)}
    if unit is not None:
        body["unit"] = int(unit)
    payload = serialization.msgpack_serialize(body)
    return MAGIC + hashlib.sha256(payload).digest() + payload


def bytes_to_state_dict(data: bytes, path: Any = "<bytes>") -> dict:
    """The nested dict of NumPy arrays in ``data`` (the inverse of :func:`state_to_bytes`)."""
    return read_versioned(data, path)[1]


def read_versioned(data: bytes, path: Any = "<bytes>") -> tuple[int, dict]:
    """``(run format, state dict)`` of checkpoint bytes (format 1 for files written before
    checkpoints carried a version)."""
    return _read(data, path)[:2]


def _read(data: bytes, path: Any) -> tuple[int, dict, int | None]:
    """``(run format, state dict, unit or None)`` of checkpoint bytes."""
    magic = data[: len(MAGIC)]
    if len(data) < len(MAGIC) + _HASH_LEN or magic not in (MAGIC, MAGIC_V1):
        raise CheckpointError(f"{path}: not an openued checkpoint (bad header or truncated file)")
    digest = data[len(MAGIC) : len(MAGIC) + _HASH_LEN]
    payload = data[len(MAGIC) + _HASH_LEN :]
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{path}: checksum mismatch (truncated or corrupted file)")
    try:
        out = serialization.msgpack_restore(payload)
    except Exception as e:  # a valid checksum over bytes that are not our msgpack
        raise CheckpointError(f"{path}: not valid checkpoint data ({type(e).__name__})") from e
    unit = None
    if magic == MAGIC_V1:
        version, state = 1, out
    else:
        body = out if isinstance(out, dict) else {}
        version, state, unit = body.get("format_version"), body.get("state"), body.get("unit")
        if not isinstance(version, int) or isinstance(version, bool):
            raise CheckpointError(f"{path}: not valid checkpoint data (no format version)")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not valid checkpoint data (no state dict)")
    return version, state, unit if isinstance(unit, int) and not isinstance(unit, bool) else None


def checkpoint_format(path: str | os.PathLike) -> int:
    """The run format a checkpoint file was written in (``CheckpointError`` if unreadable)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from e
    return read_versioned(data, path)[0]


def read_state_dict(path: str | os.PathLike) -> dict:
    """The raw nested dict of NumPy arrays stored in a checkpoint file (no template needed)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from e
    return bytes_to_state_dict(data, path)


def restore_state(template: Any, state_dict: dict, path: Any = "<state>") -> Any:
    """Fill ``template``'s structure with ``state_dict``; shapes and dtypes must match.

    ``template`` may hold arrays or ``jax.ShapeDtypeStruct``\\ s (e.g. ``jax.eval_shape`` of an
    ``init``), typed PRNG keys included. Returns jax arrays (typed keys rewrapped).
    """
    tmpl = _unkey(template)
    try:
        restored = serialization.from_state_dict(tmpl, state_dict)
    except Exception as e:
        raise CheckpointError(f"{path}: does not match this run's state structure ({e})") from e
    flat_t = jax.tree.leaves(tmpl)
    flat_r = jax.tree.leaves(restored)
    if len(flat_t) != len(flat_r):
        raise CheckpointError(f"{path}: {len(flat_r)} arrays, this run's state has {len(flat_t)}")
    for a, b in zip(flat_t, flat_r, strict=True):
        da = getattr(a, "dtype", None) or np.asarray(a).dtype
        if np.shape(a) != np.shape(b) or np.asarray(b).dtype != da:
            raise CheckpointError(
                f"{path}: array of shape {np.shape(b)} {np.asarray(b).dtype} where the run "
                f"expects {np.shape(a)} {da}"
            )

    def wrap(t, r):
        if not _is_key(t):
            return jnp.asarray(r)
        impl = t.dtype._impl if isinstance(t, jax.ShapeDtypeStruct) else jax.random.key_impl(t)
        return jax.random.wrap_key_data(jnp.asarray(r), impl=impl)

    return jax.tree.map(wrap, template, restored)


def checkpoint_path(run_dir: str | os.PathLike, unit: int) -> Path:
    """``RUN_DIR/checkpoints/ckpt_<unit:09d>.msgpack``."""
    return Path(run_dir) / CKPT_DIR / f"ckpt_{int(unit):09d}.msgpack"


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(unit, path)`` of the run's checkpoint files, oldest first (not read)."""
    return numbered_files(Path(run_dir) / CKPT_DIR, "ckpt", ".msgpack")


def save_checkpoint(run_dir: str | os.PathLike, unit: int, state: Any, keep: int = 3) -> Path:
    """Atomically write the state at ``unit``, then delete all but the newest ``keep``
    checkpoints (only ``RUN_DIR/checkpoints`` is pruned). Raises ``RunFileError`` naming the
    file when it cannot be written."""
    path = checkpoint_path(run_dir, unit)
    ensure_dir(path.parent)
    atomic_write_bytes(path, state_to_bytes(state, unit=unit))
    if keep > 0:
        for _, old in list_checkpoints(run_dir)[:-keep]:
            old.unlink(missing_ok=True)
    return path


def _start_over(run_dir: Path) -> str:
    return (
        "the run cannot be resumed; start it over in a new run directory with the same "
        f"configuration ({run_dir / 'config.json'})"
    )


def load_latest_checkpoint(
    run_dir: str | os.PathLike,
    template: Any = None,
    warn: Callable[[str], None] | None = None,
    upgrade: Callable[[dict], dict] | None = None,
) -> tuple[int, Any, Path]:
    """Newest checkpoint that passes its checksum (and fits ``template`` when given).

    ``upgrade``: ``state dict -> state dict`` applied before the template is filled: a trainer
    whose state gained fields maps a checkpoint of the older layout to its own (see
    ``meta.es.ESTrainer.upgrade_state``).

    Returns ``(unit, state or raw state dict, path)``; the unit is the one the checkpoint
    records (its file name's for format-1 files). Unusable files are reported through
    ``warn(message)`` (default: stderr) and skipped. Raises :class:`CheckpointError` when none
    is usable; its message says how to start over.
    """
    if warn is None:
        import sys

        warn = lambda m: print(f"warning: {m}", file=sys.stderr)  # noqa: E731
    run_dir = Path(run_dir)
    ckpts = list_checkpoints(run_dir)
    if not ckpts:
        raise CheckpointError(f"{run_dir / CKPT_DIR}: no checkpoints; {_start_over(run_dir)}")
    errors = []
    for named, path in reversed(ckpts):
        try:
            try:
                data = Path(path).read_bytes()
            except OSError as e:
                raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from e
            _, sd, unit = _read(data, path)
            if upgrade is not None and template is not None:
                sd = upgrade(sd)
            state = sd if template is None else restore_state(template, sd, path)
            return (named if unit is None else unit), state, path
        except CheckpointError as e:
            errors.append(str(e))
            warn(f"skipping checkpoint {e}; trying the previous one")
    raise CheckpointError(
        f"{run_dir / CKPT_DIR}: no usable checkpoint ({'; '.join(errors)}); {_start_over(run_dir)}"
    )


__all__ = [
    "CKPT_DIR",
    "MAGIC",
    "MAGIC_V1",
    "bytes_to_state_dict",
    "checkpoint_format",
    "checkpoint_path",
    "list_checkpoints",
    "load_latest_checkpoint",
    "read_state_dict",
    "read_versioned",
    "restore_state",
    "save_checkpoint",
    "state_to_bytes",
]
