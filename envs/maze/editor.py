"""The Maze as an editable level space: PAIRED's teacher builds a maze one cell index at a time.

Semantics follow jaxued's ``MazeEditor`` (the published JAX PAIRED maze). Starting from
:func:`empty_level` (no walls), edit step ``t`` with action ``a`` (a cell index ``y * W + x``,
row-major, clipped into ``0 .. H*W-1``) does:

* ``t == 0`` (:data:`EDIT_STEP_GOAL`): put the goal on cell ``a`` and clear any wall there;
* ``t == 1`` (:data:`EDIT_STEP_DIR`): turn the agent to direction ``a % 4``;
* ``t == 2`` (:data:`EDIT_STEP_AGENT`): put the agent on cell ``a`` and clear any wall there;
* ``t >= 3``: toggle the wall on cell ``a``.

Collisions and choices where jaxued is random or silent (this toolkit's edits take no key, so
the same actions always build the same level):

* a wall edit on the goal's or the agent's cell is a no-op (as published);
* the agent placed on the goal's cell goes to the next cell in row-major order (wrapping) inside
  the true size instead (jaxued: a uniformly random other cell); the goal placed on the agent's
  cell (possible only because :func:`empty_level` already holds a provisional agent) moves the
  agent the same way, so every intermediate level is valid too;
* an edit of a cell outside the level's true size (padded levels) is a no-op;
* ``max_walls`` (optional, minimax-style budget): a toggle that would add a wall when the level
  already holds ``max_walls`` walls is a no-op. The published preset has no budget (None).

Published settings (``maze-paired``): a 13x13 maze whose generator draws 25 blocks (the DR
sampler of the space, used for validation levels; the teacher is not bound by it), 50 teacher
steps (jaxued's ``adv_num_steps``: goal, direction, agent, then 47 wall toggles), and a noise
vector of 50 dimensions (minimax's ``noise_dim=50`` in its shipped ``maze/paired`` config; jaxued
uses 16, but its ``MazeEditor`` multiplies the noise by ``zero_out_random_z``, which defaults to
False, so jaxued's teacher actually sees zeros; minimax's is the setting that was trained with a
live noise input).

The teacher's observation (:func:`edit_observation`) is the whole grid with a one-cell wall
border, uint8[H + 2, W + 2, 3] in MiniGrid's (object, colour, state) encoding: walls, the goal,
and the agent (object 10, red, its direction). Before their steps, the goal and the agent show
at :func:`empty_level`'s provisional cells; the editor's time input tells the teacher which
phase it is in.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from envs.maze.env import COLOR_RED, OBJ_AGENT, _encode
from envs.maze.level import MazeConfig, MazeLevel, make_level

EDIT_STEP_GOAL, EDIT_STEP_DIR, EDIT_STEP_AGENT, EDIT_STEP_FIRST_WALL = 0, 1, 2, 3

# maze-paired (see the module docstring)
MAZE_PAIRED_CONFIG = MazeConfig(height=13, width=13, n_walls=25)
MAZE_PAIRED_NUM_EDITS = 50
MAZE_PAIRED_NOISE_DIM = 50


def empty_level(config: MazeConfig) -> MazeLevel:
    """The level every teacher episode starts from: no walls, a provisional agent at (0, 0)
    facing right and a provisional goal in the opposite corner (both are placed again by the
    teacher's first three edits). Valid."""
    h, w = config.height, config.width
    return make_level(jnp.zeros((h, w), bool), [0, 0], 0, [w - 1, h - 1])


def _next_cell(start: jax.Array, avoid: jax.Array, inside: jax.Array) -> jax.Array:
    """The first cell after ``start`` in row-major order (wrapping) that is inside and not
    ``avoid``: int32[]."""
    n = inside.shape[0]
    idx = jnp.arange(n)
    order = (idx - start - 1) % n
    ok = inside & (idx != avoid)
    return jnp.argmin(jnp.where(ok, order, n)).astype(jnp.int32)


def make_apply_edit(max_walls: int | None = None):
    """``apply_edit(level, action, step) -> level`` for the Maze (module docstring). Jittable,
    vmappable, deterministic; keeps dtypes (no weak types)."""
    if max_walls is not None and (
        isinstance(max_walls, bool) or not isinstance(max_walls, int) or max_walls < 0
    ):
        raise ValueError(f"max_walls must be None or an int >= 0, got {max_walls!r}")

    def apply_edit(level: MazeLevel, action: jax.Array, step: jax.Array) -> MazeLevel:
        h, w = level.wall_map.shape
        n = h * w
        cells = jnp.arange(n)
        a = jnp.clip(jnp.asarray(action, jnp.int32), 0, n - 1)
        t = jnp.asarray(step, jnp.int32)
        inside = ((cells % w) < level.width) & ((cells // w) < level.height)
        a_in = inside[a]
        flat = level.wall_map.reshape(-1)
        xy = lambda i: jnp.stack([i % w, i // w]).astype(jnp.int32)
        g_idx = level.goal_pos[1] * w + level.goal_pos[0]
        p_idx = level.agent_pos[1] * w + level.agent_pos[0]

        # t == 0: the goal on cell a (the agent steps aside if it stands there)
        goal_bump = _next_cell(a, a, inside)
        agent_after_goal = jnp.where(p_idx == a, goal_bump, p_idx)
        walls_goal = flat & (cells != a) & (cells != agent_after_goal)
        # t == 2: the agent on cell a (or the next cell if a holds the goal)
        p_new = jnp.where(a == g_idx, _next_cell(a, g_idx, inside), a)
        walls_agent = flat & (cells != p_new)
        # t >= 3: toggle the wall on cell a, never under the agent or the goal
        can = (a != g_idx) & (a != p_idx)
        if max_walls is not None:
            count = jnp.sum(flat & inside)
            can = can & (flat[a] | (count < max_walls))
        walls_toggle = jnp.where((cells == a) & can, ~flat, flat)

        is_goal = (t == EDIT_STEP_GOAL) & a_in
        is_dir = t == EDIT_STEP_DIR
        is_agent = (t == EDIT_STEP_AGENT) & a_in
        is_wall = (t >= EDIT_STEP_FIRST_WALL) & a_in
        walls = jnp.where(
            is_goal,
            walls_goal,
            jnp.where(is_agent, walls_agent, jnp.where(is_wall, walls_toggle, flat)),
        )
        agent_idx = jnp.where(is_goal, agent_after_goal, jnp.where(is_agent, p_new, p_idx))
        return level.replace(
            wall_map=walls.reshape(h, w),
            goal_pos=jnp.where(is_goal, xy(a), level.goal_pos).astype(jnp.int32),
            agent_pos=jnp.where(is_goal | is_agent, xy(agent_idx), level.agent_pos).astype(
                jnp.int32
            ),
            agent_dir=jnp.where(is_dir, a % 4, level.agent_dir).astype(jnp.int32),
        )

    return apply_edit


def edit_observation(level: MazeLevel) -> jax.Array:
    """uint8[H + 2, W + 2, 3]: the whole grid with a wall border, goal and agent drawn (module
    docstring). Jittable."""
    h, w = level.wall_map.shape
    ys = jnp.arange(h + 2)[:, None] - 1
    xs = jnp.arange(w + 2)[None, :] - 1
    wall = jnp.pad(level.wall_map, 1, constant_values=True)
    goal = (xs == level.goal_pos[0]) & (ys == level.goal_pos[1])
    agent = (xs == level.agent_pos[0]) & (ys == level.agent_pos[1])
    img = _encode(wall, goal)
    agent_px = jnp.stack(
        [jnp.uint8(OBJ_AGENT), jnp.uint8(COLOR_RED), level.agent_dir.astype(jnp.uint8)]
    )
    return jnp.where(agent[..., None], agent_px, img)


def maze_edit_fields(
    config: MazeConfig, num_edits: int = MAZE_PAIRED_NUM_EDITS, max_walls: int | None = None
) -> dict:
    """The ``ued.LevelSpace`` editable fields of the Maze of ``config``, as keyword arguments:
    ``edit_empty``, ``num_edit_actions`` (``H * W``), ``apply_edit``, ``num_edits`` and
    ``edit_observation`` (see the module docstring). ``num_edits >= 3`` (goal, direction,
    agent)."""
    if isinstance(num_edits, bool) or not isinstance(num_edits, int) or num_edits < 3:
        raise ValueError(
            f"num_edits must be an int >= 3 (goal, direction, agent, then walls), got {num_edits!r}"
        )
    return dict(
        edit_empty=empty_level(config),
        num_edit_actions=config.height * config.width,
        apply_edit=make_apply_edit(max_walls),
        num_edits=num_edits,
        edit_observation=edit_observation,
    )


__all__ = [
    "EDIT_STEP_AGENT",
    "EDIT_STEP_DIR",
    "EDIT_STEP_FIRST_WALL",
    "EDIT_STEP_GOAL",
    "MAZE_PAIRED_CONFIG",
    "MAZE_PAIRED_NOISE_DIM",
    "MAZE_PAIRED_NUM_EDITS",
    "edit_observation",
    "empty_level",
    "make_apply_edit",
    "maze_edit_fields",
]
