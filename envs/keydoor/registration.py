"""The key-and-door maze as ``openued train`` knows it: its options, how a run builds it, its
held-out evaluation levels and its presets (registered in ``ued.registry.LEVEL_SPACES``).
Host only.

``openued train keydoor --curriculum NAME`` trains any registered curriculum that needs no
editor (PAIRED's teachers need one; this space defines none); the presets ``keydoor-dr``,
``keydoor-plr``, ``keydoor-robust-plr``, ``keydoor-accel`` and ``keydoor-sfl`` are aliases with
their curriculum. The run options keep the toolkit's maze defaults (``SpaceEntry.defaults``
as for ``maze``); the level settings are the paper's (Mead et al., arXiv 2601.14957,
``key_minigrid/config``): 13x13, 60 walls, view 5, T = 250.

Held-out evaluation levels: ``prefab``, the hand-written levels of ``data/eval_levels.txt``
(:func:`envs.keydoor.prefab_levels`), and ``validation``, the first ``--num-validation-levels``
solvable levels of the training generator drawn from the reserved key
``jax.random.key(VALIDATION_SEED)``.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import jax
import numpy as np

from envs.keydoor.bfs import is_solvable
from envs.keydoor.env import KeyDoorEnv
from envs.keydoor.level import MAX_SIZE, MIN_SIZE, KeyDoorConfig, load_levels, load_named_levels
from envs.keydoor.space import make_keydoor_space
from envs.maze.level import stack_levels
from ued.options import ConfigError, int_, option
from ued.registry import LEVEL_SPACES, SpaceBuild, SpaceEntry

PREFAB_PATH = Path(__file__).parent / "data" / "eval_levels.txt"
PREFAB_NAMES = ("TwoRooms", "Vault", "FourRoomsLocked", "Shortcut")
# the validation levels' key: a seed no training run derives its keys from
VALIDATION_SEED = 260_114_957
_VALIDATION_BATCHES = 64


@dataclasses.dataclass(frozen=True)
class KeyDoorOptions:
    """The key-and-door maze's own options of ``openued train keydoor``."""

    keydoor_size: int = option(
        13, int_(MIN_SIZE, MAX_SIZE), "key-and-door maze height = width (cells, no outer wall)"
    )
    keydoor_walls: int = option(60, int_(0), "walls drawn by the key-and-door generator")
    keydoor_view_size: int = option(5, int_(1, 31), "egocentric view side (odd)")
    keydoor_max_steps: int = option(250, int_(1), "key-and-door episode time limit T")
    keydoor_validation_levels: int = option(
        100, int_(0), "held-out solvable generator levels (reserved key)"
    )


def keydoor_config(options: Any) -> KeyDoorConfig:
    """The :class:`KeyDoorConfig` of a run's :class:`KeyDoorOptions` values (attributes)."""
    return KeyDoorConfig(
        height=options.keydoor_size,
        width=options.keydoor_size,
        n_walls=options.keydoor_walls,
        agent_view_size=options.keydoor_view_size,
        max_steps=options.keydoor_max_steps,
    )


@functools.lru_cache(maxsize=8)
def prefab_levels(config: KeyDoorConfig) -> dict[str, Any]:
    """Name -> level (padded to ``config``'s size) for the hand-written evaluation levels, in
    :data:`PREFAB_NAMES` order. Host only."""
    named = dict(load_named_levels(PREFAB_PATH, config))
    missing = set(PREFAB_NAMES) - set(named)
    if missing:
        raise RuntimeError(f"{PREFAB_PATH} lacks levels {sorted(missing)}")
    return {n: named[n] for n in PREFAB_NAMES}


def validation_levels(config: KeyDoorConfig, n: int):
    """The first ``n`` solvable generator levels from the reserved key, batched (leading axis
    ``n``). Host only (draws batches of ``n`` until enough are solvable)."""
    space = make_keydoor_space(config)
    draw = jax.jit(lambda k: (lambda lv: (lv, jax.vmap(is_solvable)(lv)))(space.sample_batch(k, n)))
    root = jax.random.key(VALIDATION_SEED)
    kept, total = [], 0
    for i in range(_VALIDATION_BATCHES):
        levels, ok = draw(jax.random.fold_in(root, i))
        idx = np.flatnonzero(np.asarray(ok))[: n - total]
        kept.append(jax.tree.map(lambda x, idx=idx: x[idx], levels))
        total += len(idx)
        if total == n:
            return jax.tree.map(lambda *xs: np.concatenate(xs), *kept)
    raise RuntimeError(
        f"only {total} of {_VALIDATION_BATCHES * n} generated levels were solvable; fewer walls?"
    )


@functools.lru_cache(maxsize=8)
def eval_sets(config: KeyDoorConfig, n: int) -> dict[str, tuple[tuple[str, ...], Any]]:
    """The held-out evaluation sets of a key-and-door run (module docstring). Cached."""
    pre = prefab_levels(config)
    out = {"prefab": (tuple(pre), stack_levels(list(pre.values())))}
    if n > 0:
        levels = jax.tree.map(jax.numpy.asarray, validation_levels(config, n))
        out["validation"] = (tuple(f"validation-{i}" for i in range(n)), levels)
    return out


def _validate(o: Any) -> None:
    if o.keydoor_view_size % 2 != 1:
        raise ConfigError(f"--keydoor-view-size: must be odd, got {o.keydoor_view_size}")
    if o.keydoor_walls > o.keydoor_size**2 - 4:
        raise ConfigError(
            f"--keydoor-walls: must be <= keydoor_size^2 - 4 = {o.keydoor_size**2 - 4}, "
            f"got {o.keydoor_walls}"
        )


def build(options: Any, editor: dict | None = None) -> SpaceBuild:
    """The key-and-door maze of a run's options. ``editor`` is ignored: the space is not
    editable, which the trainer reports for curricula that need an editor."""
    cfg = keydoor_config(options)
    cells = float(cfg.height * cfg.width)

    def load(path: str) -> tuple[tuple[str, ...], Any]:
        levels = load_levels(path, cfg)
        if not levels:
            raise ValueError("no levels in the file")
        return tuple(f"level-{i}" for i in range(len(levels))), stack_levels(levels)

    return SpaceBuild(
        space=make_keydoor_space(cfg),
        env=KeyDoorEnv(cfg),
        eval_sets=eval_sets(cfg, options.keydoor_validation_levels),
        episode_limit=cfg.max_steps,
        descriptor_bounds=((0.0, -1.0, -1.0, 0.0), (cells, cells, cells, 1.0)),
        empty_level=make_keydoor_space(dataclasses.replace(cfg, n_walls=0)).sample,
        load_levels=load,
    )


PRESETS: dict[str, dict[str, Any]] = {
    "keydoor-dr": dict(curriculum="dr"),
    "keydoor-plr": dict(curriculum="plr"),
    "keydoor-robust-plr": dict(curriculum="robust-plr"),
    "keydoor-accel": dict(curriculum="accel", num_edits=5),  # the paper's num_edits: 5
    "keydoor-sfl": dict(curriculum="sfl", score="learnability"),
}

ENTRY = LEVEL_SPACES.register(
    SpaceEntry(
        name="keydoor",
        description="key-and-door maze (13x13 to 21x21, 60 walls, key, locked door, toggle)",
        build=build,
        options=(KeyDoorOptions,),
        defaults={"network": "maze"},
        curriculum="robust-plr",
        presets=PRESETS,
        validate=_validate,
    )
)

__all__ = [
    "ENTRY",
    "KeyDoorOptions",
    "PREFAB_NAMES",
    "PRESETS",
    "VALIDATION_SEED",
    "build",
    "eval_sets",
    "keydoor_config",
    "prefab_levels",
    "validation_levels",
]
