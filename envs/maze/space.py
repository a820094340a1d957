"""The Maze level space: the literature's random generator and single-edit mutators."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import ued
from envs.maze.bfs import optimal_return, shortest_path_length
from envs.maze.editor import MAZE_PAIRED_NUM_EDITS, maze_edit_fields
from envs.maze.level import (
    DEFAULT_CONFIG,
    MazeConfig,
    MazeLevel,
    default_params,
    is_valid_level,
    make_level,
)
from envs.maze.render import render_level

# Generator: rejection tries before the (always-solvable) repair when ``only_solvable``.
_SOLVABLE_TRIES = 8
EDIT_FLIP_WALL, EDIT_MOVE_GOAL, EDIT_MOVE_AGENT = 0, 1, 2


def uniform_index(key: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """A uniform index among the True entries of a flat ``mask`` (int32[]), and whether any
    (bool[]; with none the index is uniform over all entries). Jittable."""
    logits = jnp.where(mask, 0.0, -jnp.inf)
    ok = jnp.any(mask)
    idx = jax.random.categorical(key, jnp.where(ok, logits, 0.0))
    return idx.astype(jnp.int32), ok


def index_to_xy(idx: jax.Array, w: int) -> jax.Array:
    """int32[2] ``(x, y)`` of flat cell index ``idx`` (row-major) in a grid ``w`` cells wide."""
    return jnp.stack([idx % w, idx // w]).astype(jnp.int32)


def _sample_raw(key: jax.Array, config: MazeConfig) -> MazeLevel:
    h, w = config.height, config.width
    k_wall, k_agent, k_goal, k_dir = jax.random.split(key, 4)
    # Walls with replacement, as in the literature (so <= n_walls distinct walls).
    idx = jax.random.randint(k_wall, (config.n_walls,), 0, h * w)
    walls = jnp.zeros((h * w,), bool).at[idx].set(True)
    agent, _ = uniform_index(k_agent, ~walls)
    goal, _ = uniform_index(k_goal, ~walls & (jnp.arange(h * w) != agent))
    return make_level(
        walls.reshape(h, w),
        index_to_xy(agent, w),
        jax.random.randint(k_dir, (), 0, 4),
        index_to_xy(goal, w),
    )


def carve_path(level: MazeLevel) -> MazeLevel:
    """Clear the walls on an L-shaped path (along the agent's row, then the goal's column).

    The result is solvable and stays valid (the path lies inside the true size). Jittable.
    """
    h, w = level.wall_map.shape
    ys = jnp.arange(h)[:, None]
    xs = jnp.arange(w)[None, :]
    ax, ay = level.agent_pos[0], level.agent_pos[1]
    gx, gy = level.goal_pos[0], level.goal_pos[1]
    row = (ys == ay) & (xs >= jnp.minimum(ax, gx)) & (xs <= jnp.maximum(ax, gx))
    col = (xs == gx) & (ys >= jnp.minimum(ay, gy)) & (ys <= jnp.maximum(ay, gy))
    return level.replace(wall_map=level.wall_map & ~(row | col))


def make_sampler(config: MazeConfig):
    """``sample(key) -> MazeLevel`` for ``config`` (see :func:`make_maze_space`). Jittable."""

    def sample(key: jax.Array) -> MazeLevel:
        if not config.only_solvable:
            return _sample_raw(key, config)

        def cond(c):
            i, lvl = c
            return (i < _SOLVABLE_TRIES) & (shortest_path_length(lvl) < 0)

        def body(c):
            i, _ = c
            return i + 1, _sample_raw(jax.random.fold_in(key, i), config)

        _, lvl = jax.lax.while_loop(cond, body, (jnp.int32(1), _sample_raw(key, config)))
        # Bounded: after the tries, repair instead of looping on.
        return jax.lax.cond(shortest_path_length(lvl) < 0, carve_path, lambda x: x, lvl)

    return sample


def mutate_level(key: jax.Array, level: MazeLevel) -> MazeLevel:
    """ONE edit, chosen uniformly among: flip a wall, move the goal, move the agent. Jittable.

    * flip a wall: a random cell inside the true size, never under the agent or goal;
    * move the goal: to a random free cell other than the agent's and its own;
    * move the agent: to a random free cell other than the goal's and its own, random
      direction (if there is no such cell it turns to a different direction instead).

    Every edit changes the level unless it is impossible (moving the goal with no other free
    cell); the result is valid whenever the input is.
    """
    h, w = level.wall_map.shape
    k_op, k_cell, k_dir = jax.random.split(key, 3)
    op = jax.random.randint(k_op, (), 0, 3)
    n = jnp.arange(h * w)
    inside = ((n % w) < level.width) & ((n // w) < level.height)
    a_idx = level.agent_pos[1] * w + level.agent_pos[0]
    g_idx = level.goal_pos[1] * w + level.goal_pos[0]
    flat = level.wall_map.reshape(-1)
    others = inside & (n != a_idx) & (n != g_idx)

    # Flip a wall.
    f_idx, f_ok = uniform_index(k_cell, others)
    flipped = jnp.where(f_ok & (n == f_idx), ~flat, flat).reshape(h, w)
    # Move the goal / the agent (same candidate cells: free, not agent, not goal).
    m_idx, m_ok = uniform_index(k_cell, others & ~flat)
    goal_pos = jnp.where(m_ok, index_to_xy(m_idx, w), level.goal_pos)
    agent_pos = jnp.where(m_ok, index_to_xy(m_idx, w), level.agent_pos)
    new_dir = jnp.where(
        m_ok,
        jax.random.randint(k_dir, (), 0, 4),
        (level.agent_dir + jax.random.randint(k_dir, (), 1, 4)) % 4,
    ).astype(jnp.int32)

    is_flip, is_goal, is_agent = op == EDIT_FLIP_WALL, op == EDIT_MOVE_GOAL, op == EDIT_MOVE_AGENT
    return level.replace(
        wall_map=jnp.where(is_flip, flipped, level.wall_map),
        goal_pos=jnp.where(is_goal, goal_pos, level.goal_pos),
        agent_pos=jnp.where(is_agent, agent_pos, level.agent_pos),
        agent_dir=jnp.where(is_agent, new_dir, level.agent_dir),
    )


def level_descriptor(level: MazeLevel) -> jax.Array:
    """float32[2]: (walls inside the true size, shortest path length; -1 if unsolvable)."""
    h, w = level.wall_map.shape
    inside = (jnp.arange(h)[:, None] < level.height) & (jnp.arange(w)[None, :] < level.width)
    walls = jnp.sum(level.wall_map & inside)
    return jnp.stack([walls, shortest_path_length(level)]).astype(jnp.float32)


def make_maze_space(
    config: MazeConfig = DEFAULT_CONFIG,
    *,
    num_edits: int = MAZE_PAIRED_NUM_EDITS,
    max_walls: int | None = None,
) -> ued.LevelSpace:
    """The Maze level space ``maze/{height}x{width}``.

    ``sample`` draws up to ``n_walls`` walls (with replacement), then the agent and the goal on
    distinct free cells and a random direction (``only_solvable``: up to 8 rejection tries, then
    an L-shaped path is carved, so it stays jittable and bounded). ``mutate`` makes ONE edit
    (:func:`mutate_level`). ``descriptor`` is ``(walls, shortest_path)``; ``optimal_return`` uses
    ``config.max_steps`` as T. Every function is jittable and vmappable.

    The space is editable (PAIRED's teacher, ``ued.editor``): ``num_edits`` teacher steps from an
    empty grid (goal, direction, agent, then wall toggles; ``max_walls`` an optional wall budget),
    see :mod:`envs.maze.editor`.
    """
    if not isinstance(config, MazeConfig):
        raise TypeError(f"make_maze_space expects a MazeConfig, got {type(config).__name__}")
    params = default_params(config)
    # A valid level (width >= 2 is guaranteed by MazeConfig).
    placeholder = make_level(jnp.zeros((config.height, config.width), bool), [0, 0], 0, [1, 0])
    return ued.LevelSpace(
        name=f"maze/{config.height}x{config.width}",
        placeholder=placeholder,
        sample=make_sampler(config),
        mutate=mutate_level,
        is_valid=is_valid_level,
        render=render_level,
        descriptor=level_descriptor,
        descriptor_names=("walls", "shortest_path"),
        optimal_return=lambda level: optimal_return(level, params),
        **maze_edit_fields(config, num_edits, max_walls),
    )
