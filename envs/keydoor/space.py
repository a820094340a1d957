"""The key-and-door level space: the paper's random generator, single-edit mutators, rendering
and descriptors.

Generator (domain randomisation), after Mead et al. (arXiv 2601.14957), code
``jaxued/environments/maze/util.py: make_level_w_key_generator``: the Maze's generator (walls
drawn ``n_walls`` times with replacement, the agent on a free cell with a random direction, the
goal on another free cell), then the door on a uniformly random free cell other than the
agent's and the goal's, then the key on a uniformly random free cell other than those three.
Levels are not filtered for solvability (as in the paper): the door often blocks nothing, and
the key is needed only when it does.

Mutator: ONE edit per call, uniform over five kinds (the Maze's three plus the key's and the
door's): flip a wall, move the goal, move the agent, move the key, move the door. The paper's
code defines ``make_level_mutator_minimax_key`` with the edit kinds no-op, flip wall, move
goal, move key and move door, but as published it applies only flip wall and move goal, and
its ACCEL script (``key_minigrid/key_maze_plr.py``) mutates with the Maze's
``make_level_mutator_minimax`` (flip wall, move goal). We follow the key-aware mutator's stated
kinds, drop the no-op (one edit always changes the level unless impossible, as with the
toolkit's Maze) and keep the Maze's move-agent edit. Walls are never flipped on the agent,
goal, key or door; moved things go to free cells none of the others occupy; moving the door
frees its old cell and turns the new one into the (wall) door.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import ued
from envs.keydoor.bfs import door_on_every_path, optimal_return, path_lengths
from envs.keydoor.level import (
    DEFAULT_CONFIG,
    KeyDoorConfig,
    KeyDoorLevel,
    from_maze_level,
    is_valid_level,
)
from envs.maze.level import default_params, make_level
from envs.maze.render import paint_cells, render_level
from envs.maze.space import index_to_xy, make_sampler, uniform_index

EDIT_FLIP_WALL, EDIT_MOVE_GOAL, EDIT_MOVE_AGENT, EDIT_MOVE_KEY, EDIT_MOVE_DOOR = range(5)
N_EDIT_KINDS = 5
DESCRIPTOR_NAMES = ("walls", "shortest_path", "key_to_goal", "door_on_every_path")
KEY_RGB = (255, 255, 0)
DOOR_RGB = (160, 110, 0)


def make_keydoor_sampler(config: KeyDoorConfig):
    """``sample(key) -> KeyDoorLevel`` for ``config`` (module docstring). Jittable."""
    maze_sample = make_sampler(config.maze_config())
    h, w = config.height, config.width

    def sample(key: jax.Array) -> KeyDoorLevel:
        k_maze, k_door, k_key = jax.random.split(key, 3)
        base = maze_sample(k_maze)
        n = jnp.arange(h * w)
        a_idx = base.agent_pos[1] * w + base.agent_pos[0]
        g_idx = base.goal_pos[1] * w + base.goal_pos[0]
        open_ = ~base.wall_map.reshape(-1) & (n != a_idx) & (n != g_idx)
        # n_walls <= h*w - 4 leaves at least two such cells
        door, _ = uniform_index(k_door, open_)
        key_cell, _ = uniform_index(k_key, open_ & (n != door))
        return from_maze_level(base, index_to_xy(key_cell, w), index_to_xy(door, w))

    return sample


def mutate_level(key: jax.Array, level: KeyDoorLevel) -> KeyDoorLevel:
    """ONE edit chosen uniformly among flip a wall, move the goal, the agent, the key or the
    door (module docstring). Valid in, valid out; jittable."""
    h, w = level.wall_map.shape
    k_op, k_cell, k_dir = jax.random.split(key, 3)
    op = jax.random.randint(k_op, (), 0, N_EDIT_KINDS)
    n = jnp.arange(h * w)
    flat = level.wall_map.reshape(-1)
    inside = ((n % w) < level.width) & ((n // w) < level.height)
    occupied = jnp.zeros((h * w,), bool)
    for p in (level.agent_pos, level.goal_pos, level.key_pos, level.door_pos):
        occupied = occupied | (n == p[1] * w + p[0])
    others = inside & ~occupied
    f_idx, f_ok = uniform_index(k_cell, others)
    m_idx, m_ok = uniform_index(k_cell, others & ~flat)
    target = jnp.where(m_ok, index_to_xy(m_idx, w), jnp.zeros(2, jnp.int32))

    def moved(pos, kind):
        return jnp.where((op == kind) & m_ok, target, pos).astype(jnp.int32)

    door_pos = moved(level.door_pos, EDIT_MOVE_DOOR)
    old_door = n == level.door_pos[1] * w + level.door_pos[0]
    new_door = n == door_pos[1] * w + door_pos[0]
    walls = jnp.where((op == EDIT_FLIP_WALL) & f_ok & (n == f_idx), ~flat, flat)
    walls = jnp.where(old_door, False, walls) | new_door
    # the agent turns instead when it has nowhere to go
    turn = (level.agent_dir + jax.random.randint(k_dir, (), 1, 4)) % 4
    new_dir = jnp.where(m_ok, jax.random.randint(k_dir, (), 0, 4), turn).astype(jnp.int32)
    return level.replace(
        wall_map=walls.reshape(h, w),
        goal_pos=moved(level.goal_pos, EDIT_MOVE_GOAL),
        agent_pos=moved(level.agent_pos, EDIT_MOVE_AGENT),
        agent_dir=jnp.where(op == EDIT_MOVE_AGENT, new_dir, level.agent_dir).astype(jnp.int32),
        key_pos=moved(level.key_pos, EDIT_MOVE_KEY),
        door_pos=door_pos,
    )


def level_descriptor(level: KeyDoorLevel) -> jax.Array:
    """float32[4], named by :data:`DESCRIPTOR_NAMES`: walls inside the true size (the door
    included), the shortest agent-to-goal path over ``(cell, has_key)`` (-1 if unsolvable), the
    key-to-goal path with the door open (-1 if none), and 1.0 when the door is on every path to
    the goal (:func:`envs.keydoor.bfs.door_on_every_path`). Jittable."""
    h, w = level.wall_map.shape
    inside = (jnp.arange(h)[:, None] < level.height) & (jnp.arange(w)[None, :] < level.width)
    p = path_lengths(level)
    return jnp.stack(
        [
            jnp.sum(level.wall_map & inside),
            p["shortest_path"],
            p["key_to_goal"],
            door_on_every_path(level),
        ]
    ).astype(jnp.float32)


def render_keydoor_level(level: KeyDoorLevel, tile: int = 8) -> jax.Array:
    """RGB picture, uint8[(H+2)*tile, (W+2)*tile, 3]: the Maze's (:func:`envs.maze.
    render_level`) with the door filled dark yellow and the key a yellow square. Jittable."""
    img = render_level(level, tile)
    shape = level.wall_map.shape
    ys, xs = jnp.arange(shape[0])[:, None], jnp.arange(shape[1])[None, :]

    def cell(p):
        return (xs == p[0]) & (ys == p[1])

    img = paint_cells(img, cell(level.door_pos), DOOR_RGB, tile)
    return paint_cells(img, cell(level.key_pos), KEY_RGB, tile, extent=max(1, tile - 3))


def make_keydoor_space(config: KeyDoorConfig = DEFAULT_CONFIG) -> ued.LevelSpace:
    """The key-and-door level space ``keydoor/{height}x{width}``.

    ``sample``: the paper's generator; ``mutate``: one edit (:func:`mutate_level`);
    ``descriptor``: :data:`DESCRIPTOR_NAMES`; ``optimal_return``: exact BFS over the env's
    actions (:func:`envs.keydoor.bfs.optimal_return`, T = ``config.max_steps``), so the
    true-regret score works. Every function is jittable and vmappable. Not editable (PAIRED's
    teacher needs an editor, which this space does not define).
    """
    if not isinstance(config, KeyDoorConfig):
        raise TypeError(f"make_keydoor_space expects a KeyDoorConfig, got {type(config).__name__}")
    params = default_params(config.maze_config())
    base = make_level(jnp.zeros((config.height, config.width), bool), [0, 0], 0, [1, 0])
    placeholder = from_maze_level(base, [2, 0], [3, 0])  # valid: the door a wall, the key free
    return ued.LevelSpace(
        name=f"keydoor/{config.height}x{config.width}",
        placeholder=placeholder,
        sample=make_keydoor_sampler(config),
        mutate=mutate_level,
        is_valid=is_valid_level,
        render=render_keydoor_level,
        descriptor=level_descriptor,
        descriptor_names=DESCRIPTOR_NAMES,
        optimal_return=lambda level: optimal_return(level, params),
    )
