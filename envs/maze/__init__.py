"""The Maze of the UED literature (jaxued / minimax semantics) as an openued level space + env.

Public API::

    MazeLevel, MazeConfig, MazeParams, MazeState, MazeObs, MazeEnv
    make_maze_space(config) -> ued.LevelSpace            # "maze/13x13" (editable: PAIRED)
    empty_level(config), edit_observation(level), maze_edit_fields(config, num_edits, max_walls)
    level_from_str(text, config=None), level_to_str(level), load_levels(path, config=None)
    shortest_path_length(level), optimal_return(level, params)
    render_level(level, tile=8), render_state(state, tile=8), save_level_grid(levels, path, ...)
    prefab_levels(config) -> dict[str, MazeLevel]
    four_rooms(key, size), corridor(key, size), perfect_maze(key, size)
"""

# registers the Maze in ued.registry.LEVEL_SPACES (openued train maze ...)
from envs.maze import registration  # noqa: E402,F401
from envs.maze.bfs import (
    cell_distances,
    optimal_return,
    optimal_steps,
    pose_distances,
    shortest_path_length,
)
from envs.maze.editor import (
    MAZE_PAIRED_CONFIG,
    MAZE_PAIRED_NOISE_DIM,
    MAZE_PAIRED_NUM_EDITS,
    edit_observation,
    empty_level,
    maze_edit_fields,
)
from envs.maze.env import MazeEnv, MazeObs, MazeState
from envs.maze.generators import corridor, four_rooms, perfect_maze
from envs.maze.level import (
    DEFAULT_CONFIG,
    DIR_TO_VEC,
    MazeConfig,
    MazeLevel,
    MazeParams,
    default_params,
    is_valid_level,
    level_from_str,
    level_to_str,
    load_levels,
    load_named_levels,
    make_level,
    pad_level,
    stack_levels,
)
from envs.maze.prefabs import PREFAB_NAMES, prefab_levels
from envs.maze.render import render_level, render_state, save_level_grid
from envs.maze.space import carve_path, level_descriptor, make_maze_space, mutate_level

__all__ = [
    "DEFAULT_CONFIG",
    "DIR_TO_VEC",
    "MAZE_PAIRED_CONFIG",
    "MAZE_PAIRED_NOISE_DIM",
    "MAZE_PAIRED_NUM_EDITS",
    "edit_observation",
    "empty_level",
    "maze_edit_fields",
    "PREFAB_NAMES",
    "MazeConfig",
    "MazeEnv",
    "MazeLevel",
    "MazeObs",
    "MazeParams",
    "MazeState",
    "carve_path",
    "cell_distances",
    "corridor",
    "default_params",
    "four_rooms",
    "is_valid_level",
    "level_descriptor",
    "level_from_str",
    "level_to_str",
    "load_levels",
    "load_named_levels",
    "make_level",
    "make_maze_space",
    "mutate_level",
    "optimal_return",
    "optimal_steps",
    "pad_level",
    "perfect_maze",
    "pose_distances",
    "prefab_levels",
    "render_level",
    "render_state",
    "save_level_grid",
    "shortest_path_length",
    "stack_levels",
]
