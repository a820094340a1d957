"""Jittable breadth-first searches on a maze, as vectorised relaxation sweeps.

Each sweep relaxes every cell at once from its neighbours (a shift of the distance array), in a
``lax.while_loop`` that stops when a sweep changes nothing (at most ``H * W`` or ``4 * H * W``
sweeps, the longest possible shortest path). No Python loop over cells.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from envs.maze.level import MazeLevel, MazeParams

# The distance of an unreachable cell or pose.
UNREACHABLE = 2**30
_INF = jnp.int32(UNREACHABLE)


def _shift(a: jax.Array, dy: int, dx: int) -> jax.Array:
    """``b[..., y, x] = a[..., y - dy, x - dx]``, filling with +inf from outside the grid."""
    h, w = a.shape[-2:]
    pad = [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)]
    p = jnp.pad(a, pad, constant_values=_INF)
    return p[..., 1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w]


def _relax_until_fixed(init: jax.Array, sweep, max_sweeps: int) -> jax.Array:
    def cond(c):
        _, changed, i = c
        return changed & (i < max_sweeps)

    def body(c):
        d, _, i = c
        nd = sweep(d)
        return nd, jnp.any(nd != d), i + 1

    out, _, _ = jax.lax.while_loop(cond, body, (init, jnp.array(True), jnp.int32(0)))
    return out


def cell_distances(level: MazeLevel) -> jax.Array:
    """Moves from the agent to every cell over free cells (4-neighbour): int32[H, W].

    Unreachable cells and walls hold ``2**30``. Jittable, vmappable.
    """
    free = ~level.wall_map
    h, w = free.shape
    ax, ay = level.agent_pos[0], level.agent_pos[1]
    ys = jnp.arange(h)[:, None]
    xs = jnp.arange(w)[None, :]
    init = jnp.where((ys == ay) & (xs == ax), 0, _INF).astype(jnp.int32)

    def sweep(d):
        nb = jnp.minimum(
            jnp.minimum(_shift(d, 1, 0), _shift(d, -1, 0)),
            jnp.minimum(_shift(d, 0, 1), _shift(d, 0, -1)),
        )
        return jnp.where(free, jnp.minimum(d, jnp.minimum(nb, _INF - 1) + 1), d)

    return _relax_until_fixed(init, sweep, h * w)


def shortest_path_length(level: MazeLevel) -> jax.Array:
    """Number of moves from agent to goal over free cells, or -1 if unreachable: int32[].

    Ignores turning (a move is one cell step). ``>= 0`` means the level is solvable. Jittable.
    """
    d = cell_distances(level)
    g = d[level.goal_pos[1], level.goal_pos[0]]
    return jnp.where(g >= _INF, -1, g).astype(jnp.int32)


def pose_distances(level: MazeLevel) -> jax.Array:
    """Fewest actions from the start pose to every ``(dir, y, x)`` pose: int32[4, H, W].

    Actions are the env's: turn left/right (one step, same cell) or forward (one cell along the
    direction, blocked by walls and by the goal, which the agent never enters). Unreachable
    poses hold ``2**30``. Jittable.
    """
    free = ~level.wall_map
    h, w = free.shape
    ys = jnp.arange(h)[:, None]
    xs = jnp.arange(w)[None, :]
    gx, gy = level.goal_pos[0], level.goal_pos[1]
    movable = free & ~((ys == gy) & (xs == gx))
    ax, ay = level.agent_pos[0], level.agent_pos[1]
    dirs = jnp.arange(4)[:, None, None]
    init = jnp.where((dirs == level.agent_dir) & (ys == ay) & (xs == ax), 0, _INF)
    init = init.astype(jnp.int32)

    def sweep(d):
        turned = jnp.minimum(jnp.roll(d, 1, axis=0), jnp.roll(d, -1, axis=0))
        # Forward along direction k arrives at (y, x) from (y - dy_k, x - dx_k).
        fwd = jnp.stack(
            [_shift(d[0], 0, 1), _shift(d[1], 1, 0), _shift(d[2], 0, -1), _shift(d[3], -1, 0)]
        )
        fwd = jnp.where(movable[None], fwd, _INF)
        nb = jnp.minimum(turned, fwd)
        return jnp.minimum(d, jnp.minimum(nb, _INF - 1) + 1)

    return _relax_until_fixed(init, sweep, 4 * h * w)


def optimal_steps(level: MazeLevel) -> jax.Array:
    """Fewest actions to reach the goal (the final forward into it included): int32[], -1 if never.

    Jittable.
    """
    d = pose_distances(level)
    h, w = level.wall_map.shape
    gx, gy = level.goal_pos[0], level.goal_pos[1]
    best = _INF
    # Facing direction k from cell goal - vec_k, one forward reaches the goal.
    for k, (dx, dy) in enumerate(((1, 0), (0, 1), (-1, 0), (0, -1))):
        x, y = gx - dx, gy - dy
        ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        v = d[k, jnp.clip(y, 0, h - 1), jnp.clip(x, 0, w - 1)]
        best = jnp.minimum(best, jnp.where(ok, v, _INF))
    return jnp.where(best >= _INF, -1, best + 1).astype(jnp.int32)


def optimal_return(level: MazeLevel, params: MazeParams | None = None) -> jax.Array:
    """Best achievable return ``1 - 0.9 * n / T`` (n = :func:`optimal_steps`): float32[].

    0 when the goal is unreachable or needs more than ``T = params.max_steps_in_episode`` steps
    (250 when ``params`` is None). Jittable.
    """
    t_max = jnp.asarray(250 if params is None else params.max_steps_in_episode, jnp.float32)
    n = optimal_steps(level)
    ok = (n > 0) & (n.astype(jnp.float32) <= t_max)
    return jnp.where(ok, 1.0 - 0.9 * n.astype(jnp.float32) / t_max, 0.0).astype(jnp.float32)
