"""Level snapshots: the curriculum's levels and their descriptors at each evaluation. Host only.

``RUN_DIR/levels/levels_<unit:09d>.msgpack`` (the checkpoint format: checksummed, data only)
holds a dict ``{"levels": level state dict, leaves (N, ...), "scores": float32[N],
"valid": bool[N], "descriptors": float32[N, D] (when the space has a descriptor),
"descriptor_names": [D names]}``; with K seeds every array has a leading ``K`` axis. Snapshots
are never pruned with the checkpoints, so a run keeps the whole history of its levels.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from ued.curriculum import Curriculum
from ued.host.checkpoints import read_state_dict, state_to_bytes
from ued.host.files import atomic_write_bytes, ensure_dir, numbered_files
from ued.level_space import LevelSpace

LEVELS_DIR = "levels"


def level_snapshot_path(run_dir: str | os.PathLike, unit: int) -> Path:
    """``RUN_DIR/levels/levels_<unit:09d>.msgpack``."""
    return Path(run_dir) / LEVELS_DIR / f"levels_{int(unit):09d}.msgpack"


def list_level_snapshots(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(unit, path)`` of the run's level snapshots, oldest first (not read)."""
    return numbered_files(Path(run_dir) / LEVELS_DIR, "levels", ".msgpack")


def write_level_snapshot(run_dir: str | os.PathLike, unit: int, snapshot: dict) -> Path:
    """Write one snapshot atomically (``RunFileError`` naming the file on failure)."""
    path = level_snapshot_path(run_dir, unit)
    ensure_dir(path.parent)
    return atomic_write_bytes(path, state_to_bytes(snapshot))


def read_level_snapshot(path: str | os.PathLike) -> dict:
    """One snapshot as nested dicts of NumPy arrays (``CheckpointError`` if unreadable)."""
    d = read_state_dict(path)
    names = d.get("descriptor_names")
    if isinstance(names, dict):  # msgpack state dicts store lists as {"0": ..., "1": ...}
        d["descriptor_names"] = [names[str(i)] for i in range(len(names))]
    return d


def remove_level_snapshots_after(run_dir: str | os.PathLike, unit: int) -> int:
    """Delete snapshots past ``unit`` (written by a run that is being resumed from there)."""
    n = 0
    for u, p in list_level_snapshots(run_dir):
        if u > unit:
            p.unlink(missing_ok=True)
            n += 1
    return n


def make_level_snapshot(
    curriculum: Curriculum,
    space: LevelSpace | None = None,
    *,
    get_cstate: Callable[[Any], Any] | None = None,
    batched: bool = False,
) -> Callable[[Any], dict] | None:
    """``snapshot(state) -> dict`` for ``run_training(snapshot=...)``, or ``None`` when the
    curriculum holds no levels (``curriculum.levels is None``, e.g. DR).

    ``get_cstate(state)`` picks the curriculum state (default ``state.curriculum``, as in
    ``ued.TrainState``); ``batched``: the state has a leading seed axis. Descriptors come from
    ``space.descriptor``. The level computation is jitted once.
    """
    if curriculum.levels is None:
        return None
    get = get_cstate or (lambda s: s.curriculum)
    desc = space.descriptor if space is not None else None

    def one(cstate):
        lv = curriculum.levels(cstate)
        out = {
            "levels": lv.levels,
            "scores": jnp.asarray(lv.scores, jnp.float32),
            "valid": jnp.asarray(lv.valid, bool),
        }
        if desc is not None:
            out["descriptors"] = jax.vmap(desc)(lv.levels).astype(jnp.float32)
        return out

    fn = jax.jit(jax.vmap(one) if batched else one)
    names = list(space.descriptor_names) if desc is not None and space.descriptor_names else None

    def snapshot(state) -> dict:
        d = jax.device_get(fn(get(state)))
        if names:
            d["descriptor_names"] = names
        return d

    return snapshot


__all__ = [
    "LEVELS_DIR",
    "level_snapshot_path",
    "list_level_snapshots",
    "make_level_snapshot",
    "read_level_snapshot",
    "remove_level_snapshots_after",
    "write_level_snapshot",
]
