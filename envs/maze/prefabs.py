"""The literature's 8 human-designed evaluation mazes, read from ``data/prefabs.txt``."""

from __future__ import annotations

import functools
from pathlib import Path

from envs.maze.level import DEFAULT_CONFIG, MazeConfig, MazeLevel, load_named_levels

PREFAB_PATH = Path(__file__).parent / "data" / "prefabs.txt"
PREFAB_NAMES = (
    "SixteenRooms",
    "SixteenRooms2",
    "Labyrinth",
    "LabyrinthFlipped",
    "Labyrinth2",
    "StandardMaze",
    "StandardMaze2",
    "StandardMaze3",
)


@functools.lru_cache(maxsize=8)
def _load(config: MazeConfig) -> tuple[tuple[str, MazeLevel], ...]:
    named = load_named_levels(PREFAB_PATH, config)
    out = tuple((n, lvl) for n, lvl in named if n is not None)
    missing = set(PREFAB_NAMES) - {n for n, _ in out}
    if missing:
        raise RuntimeError(f"{PREFAB_PATH} lacks prefabs {sorted(missing)}")
    return out


def prefab_levels(config: MazeConfig = DEFAULT_CONFIG) -> dict[str, MazeLevel]:
    """Name -> level (padded to ``config``'s size) for the 8 standard evaluation mazes. Host only.

    Names, in order: SixteenRooms, SixteenRooms2, Labyrinth, LabyrinthFlipped, Labyrinth2,
    StandardMaze, StandardMaze2, StandardMaze3 (all 13x13, all solvable).
    """
    levels = dict(_load(config))
    return {n: levels[n] for n in PREFAB_NAMES}
