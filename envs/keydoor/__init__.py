"""The key-and-door maze: the Maze with a key to pick up and a locked door, as a level space
and an environment (Mead et al., "Improving Regret Approximation for Unsupervised Dynamic
Environment Generation", NeurIPS 2025, arXiv 2601.14957: MiniGrid mazes with a key and a
locked door, 13x13 to 21x21).

Public API::

    KeyDoorLevel, KeyDoorConfig, KeyDoorEnv, KeyDoorState
    make_keydoor_space(config) -> ued.LevelSpace          # "keydoor/13x13"
    level_from_str(text, config=None), level_to_str(level), load_levels(path, config=None)
    optimal_steps(level), optimal_return(level, params), is_solvable(level),
    path_lengths(level), door_on_every_path(level), phase_distances(level)
    mutate_level(key, level), level_descriptor(level), render_keydoor_level(level, tile=8)
    prefab_levels(config), validation_levels(config, n)   # held-out evaluation levels

ASCII characters: the Maze's plus ``K`` (key) and ``D`` (locked door). Presets of ``openued
train``: ``keydoor-dr``, ``keydoor-plr``, ``keydoor-robust-plr``, ``keydoor-accel``,
``keydoor-sfl`` (:mod:`envs.keydoor.registration`).
"""

# registers the space in ued.registry.LEVEL_SPACES (openued train keydoor ...)
from envs.keydoor import registration  # noqa: E402,F401
from envs.keydoor.bfs import (
    door_on_every_path,
    is_solvable,
    optimal_return,
    optimal_steps,
    path_lengths,
    phase_distances,
)
from envs.keydoor.env import ACTION_TOGGLE, KeyDoorEnv, KeyDoorState
from envs.keydoor.level import (
    DEFAULT_CONFIG,
    DOOR_CHAR,
    KEY_CHAR,
    KeyDoorConfig,
    KeyDoorLevel,
    from_maze_level,
    is_valid_level,
    level_from_str,
    level_to_str,
    load_levels,
    load_named_levels,
)
from envs.keydoor.registration import PREFAB_NAMES, prefab_levels, validation_levels
from envs.keydoor.space import (
    DESCRIPTOR_NAMES,
    level_descriptor,
    make_keydoor_space,
    mutate_level,
    render_keydoor_level,
)

__all__ = [
    "ACTION_TOGGLE",
    "DEFAULT_CONFIG",
    "DESCRIPTOR_NAMES",
    "DOOR_CHAR",
    "KEY_CHAR",
    "KeyDoorConfig",
    "KeyDoorEnv",
    "KeyDoorLevel",
    "KeyDoorState",
    "PREFAB_NAMES",
    "door_on_every_path",
    "from_maze_level",
    "is_solvable",
    "is_valid_level",
    "level_descriptor",
    "level_from_str",
    "level_to_str",
    "load_levels",
    "load_named_levels",
    "make_keydoor_space",
    "mutate_level",
    "optimal_return",
    "optimal_steps",
    "path_lengths",
    "phase_distances",
    "prefab_levels",
    "render_keydoor_level",
    "validation_levels",
]
