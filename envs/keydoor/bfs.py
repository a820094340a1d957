"""Jittable searches on a key-and-door maze: solvability, optimal return and path lengths.

Built from the Maze's relaxation sweeps (:mod:`envs.maze.bfs`). The search runs over
``(pose, has_key, door_open)`` in three phases, since the door opens only with the key and never
closes again (see :mod:`envs.keydoor.env`):

1. no key, door locked: the door is a wall; the agent starts here;
2. key held, door locked: entered by stepping onto the key cell (same walls as phase 1);
3. key held, door open: entered from phase 2 by the toggle action (one action) while facing
   the door; the door cell is free.

The goal is entered (forward into it) from phase 1 (no key needed) or phase 3; phase 2 never
reaches it sooner than phase 1, whose walls are the same. Each phase is one multi-source
relaxation seeded by the previous one, so the three together are exact for the env's actions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from envs.keydoor.level import KeyDoorLevel
from envs.maze.bfs import (
    UNREACHABLE,
    pose_distances,
    relax_cell_distances,
    relax_pose_distances,
    return_of_steps,
    source_map,
    steps_into,
)
from envs.maze.level import MazeParams

_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))


def _at(a: jax.Array, pos: jax.Array) -> jax.Array:
    return a[..., pos[1], pos[0]]


def _mask(level: KeyDoorLevel, pos: jax.Array) -> jax.Array:
    return source_map(level.wall_map.shape, pos) == 0


def phase_distances(level: KeyDoorLevel) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Fewest actions to every ``(dir, y, x)`` pose in each phase (module docstring):
    ``(no key, key held with the door locked, door open)``, int32[4, H, W] each, ``2**30`` where
    unreachable. Jittable."""
    free = ~level.wall_map
    movable = free & ~_mask(level, level.goal_pos)
    d_none = pose_distances(level)  # the door is a wall of wall_map: phase 1 is the Maze's
    # phase 2 starts on the key cell, in whatever direction the agent arrived
    d_key = relax_pose_distances(
        jnp.where(_mask(level, level.key_pos), d_none, UNREACHABLE), movable
    )
    # phase 3 starts where phase 2 faces the door, one toggle later
    dx, dy = level.door_pos[0], level.door_pos[1]
    h, w = free.shape
    ys, xs = jnp.arange(h)[:, None], jnp.arange(w)[None, :]
    facing = jnp.stack([(xs + vx == dx) & (ys + vy == dy) for vx, vy in _DIRS])
    init_open = jnp.where(facing & (d_key < UNREACHABLE), d_key + 1, UNREACHABLE)
    d_open = relax_pose_distances(init_open, movable | _mask(level, level.door_pos))
    return d_none, d_key, d_open


def optimal_steps(level: KeyDoorLevel) -> jax.Array:
    """Fewest env actions to reach the goal (the final forward into it included): int32[], -1
    if the goal cannot be reached. Jittable."""
    d_none, _, d_open = phase_distances(level)
    n = jnp.minimum(steps_into(d_none, level.goal_pos), steps_into(d_open, level.goal_pos))
    return jnp.where(n >= UNREACHABLE, -1, n).astype(jnp.int32)


def optimal_return(level: KeyDoorLevel, params: MazeParams | None = None) -> jax.Array:
    """Best achievable return ``1 - 0.9 * n / T`` (n = :func:`optimal_steps`): float32[].

    0 when the goal cannot be reached or needs more than ``T = params.max_steps_in_episode``
    actions (250 when ``params`` is None). Jittable."""
    return return_of_steps(optimal_steps(level), params)


def is_solvable(level: KeyDoorLevel) -> jax.Array:
    """bool[]: the goal can be reached (ignoring the time limit). Jittable."""
    return optimal_steps(level) >= 0


def _moves(d: jax.Array, pos: jax.Array) -> jax.Array:
    v = _at(d, pos)
    return jnp.where(v >= UNREACHABLE, -1, v).astype(jnp.int32)


def path_lengths(level: KeyDoorLevel) -> dict[str, jax.Array]:
    """Cell-move path lengths (4-neighbour moves, turns not counted), int32[] each, -1 where
    unreachable. Jittable.

    Keys:
      shortest_path: agent to goal over ``(cell, has_key)``: walking with the door locked, or
        to the key and from there through the opened door.
      agent_to_key: agent to key with the door locked.
      key_to_goal: key to goal with the door open.
      closed_path: agent to goal with the door locked (the door not used).
      open_path: agent to goal with the door open from the start (key ignored).
    """
    closed = ~level.wall_map
    opened = closed | _mask(level, level.door_pos)
    shape = closed.shape
    # three independent searches relaxed together: from the agent with the door locked, from
    # the key and from the agent with the door open
    init = jnp.stack(
        [source_map(shape, p) for p in (level.agent_pos, level.key_pos, level.agent_pos)]
    )
    from_agent, from_key, open_agent = relax_cell_distances(
        init, jnp.stack([closed, opened, opened])
    )
    to_key = _at(from_agent, level.key_pos)
    # a single source: the distance via the key is the key's distance plus the agent's to it
    via_key = jnp.where(to_key < UNREACHABLE, from_key + to_key, UNREACHABLE)
    best = jnp.minimum(from_agent, via_key)
    return {
        "shortest_path": _moves(best, level.goal_pos),
        "agent_to_key": _moves(from_agent, level.key_pos),
        "key_to_goal": _moves(from_key, level.goal_pos),
        "closed_path": _moves(from_agent, level.goal_pos),
        "open_path": _moves(open_agent, level.goal_pos),
    }


def door_on_every_path(level: KeyDoorLevel) -> jax.Array:
    """bool[]: the goal is reachable through the open door but not without it, so every path
    from the agent to the goal crosses the door. Jittable."""
    p = path_lengths(level)
    return (p["closed_path"] < 0) & (p["open_path"] >= 0)
