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


def relax_cell_distances(init: jax.Array, free: jax.Array) -> jax.Array:
    """Fewest 4-neighbour moves over ``free`` cells from the sources in ``init``: int32[..., H, W].

    ``init`` (int32[..., H, W]) holds each source's starting distance and ``2**30`` elsewhere; a
    cell outside ``free`` (bool, broadcastable to ``init``) keeps its ``init`` value. Unreachable
    cells hold ``2**30``. Leading axes are independent searches relaxed together in one loop.
    Jittable.
    """
    h, w = free.shape[-2:]

    def sweep(d):
        nb = jnp.minimum(
            jnp.minimum(_shift(d, 1, 0), _shift(d, -1, 0)),
            jnp.minimum(_shift(d, 0, 1), _shift(d, 0, -1)),
        )
        return jnp.where(free, jnp.minimum(d, jnp.minimum(nb, _INF - 1) + 1), d)

    return _relax_until_fixed(init.astype(jnp.int32), sweep, h * w)


def source_map(shape: tuple[int, ...], pos: jax.Array, value=0) -> jax.Array:
    """int32[*shape] holding ``value`` at cell ``pos`` = ``(x, y)`` (every leading index, e.g.
    every direction of a pose map) and ``2**30`` elsewhere: the ``init`` of one source."""
    ys = jnp.arange(shape[-2])[:, None]
    xs = jnp.arange(shape[-1])[None, :]
    at = (ys == pos[1]) & (xs == pos[0])
    return jnp.where(at, jnp.asarray(value, jnp.int32), _INF) * jnp.ones(shape, jnp.int32)


def cell_distances(level: MazeLevel) -> jax.Array:
    """Moves from the agent to every cell over free cells (4-neighbour): int32[H, W].

    Unreachable cells and walls hold ``2**30``. Jittable, vmappable.
    """
    free = ~level.wall_map
    return relax_cell_distances(source_map(free.shape, level.agent_pos), free)


def shortest_path_length(level: MazeLevel) -> jax.Array:
    """Number of moves from agent to goal over free cells, or -1 if unreachable: int32[].

    Ignores turning (a move is one cell step). ``>= 0`` means the level is solvable. Jittable.
    """
    d = cell_distances(level)
    g = d[level.goal_pos[1], level.goal_pos[0]]
    return jnp.where(g >= _INF, -1, g).astype(jnp.int32)


def relax_pose_distances(init: jax.Array, movable: jax.Array) -> jax.Array:
    """Fewest env actions to every ``(dir, y, x)`` pose from the sources in ``init``.

    ``init``: int32[4, H, W], each source pose's starting distance and ``2**30`` elsewhere.
    Actions are the Maze's: turn left/right (one step, same cell) or forward (one cell along the
    direction into a ``movable`` cell, bool[H, W]). Returns int32[4, H, W]; unreachable poses
    hold ``2**30``. Jittable.
    """
    h, w = movable.shape

    def sweep(d):
        turned = jnp.minimum(jnp.roll(d, 1, axis=0), jnp.roll(d, -1, axis=0))
        # Forward along direction k arrives at (y, x) from (y - dy_k, x - dx_k).
        fwd = jnp.stack(
            [_shift(d[0], 0, 1), _shift(d[1], 1, 0), _shift(d[2], 0, -1), _shift(d[3], -1, 0)]
        )
        fwd = jnp.where(movable[None], fwd, _INF)
        nb = jnp.minimum(turned, fwd)
        return jnp.minimum(d, jnp.minimum(nb, _INF - 1) + 1)

    return _relax_until_fixed(init.astype(jnp.int32), sweep, 4 * h * w)


def pose_distances(level: MazeLevel) -> jax.Array:
    """Fewest actions from the start pose to every ``(dir, y, x)`` pose: int32[4, H, W].

    Actions are the env's: turn left/right (one step, same cell) or forward (one cell along the
    direction, blocked by walls and by the goal, which the agent never enters). Unreachable
    poses hold ``2**30``. Jittable.
    """
    free = ~level.wall_map
    goal = source_map(free.shape, level.goal_pos) == 0
    dirs = jnp.arange(4)[:, None, None]
    init = jnp.where(dirs == level.agent_dir, source_map((4,) + free.shape, level.agent_pos), _INF)
    return relax_pose_distances(init, free & ~goal)


def steps_into(d: jax.Array, pos: jax.Array) -> jax.Array:
    """Fewest actions to step forward into cell ``pos`` = ``(x, y)`` given pose distances ``d``
    (int32[4, H, W]): the best pose facing ``pos`` from a neighbour, plus the forward.
    int32[], ``2**30`` or more when no neighbour pose is reachable. Jittable."""
    h, w = d.shape[-2:]
    best = _INF
    # Facing direction k from cell pos - vec_k, one forward enters pos.
    for k, (dx, dy) in enumerate(((1, 0), (0, 1), (-1, 0), (0, -1))):
        x, y = pos[0] - dx, pos[1] - dy
        ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        v = d[k, jnp.clip(y, 0, h - 1), jnp.clip(x, 0, w - 1)]
        best = jnp.minimum(best, jnp.where(ok, v, _INF))
    return jnp.where(best >= _INF, _INF, best + 1).astype(jnp.int32)


def optimal_steps(level: MazeLevel) -> jax.Array:
    """Fewest actions to reach the goal (the final forward into it included): int32[], -1 if never.

    Jittable.
    """
    n = steps_into(pose_distances(level), level.goal_pos)
    return jnp.where(n >= _INF, -1, n).astype(jnp.int32)


def return_of_steps(n: jax.Array, params: MazeParams | None = None) -> jax.Array:
    """The return ``1 - 0.9 * n / T`` of reaching the goal in ``n`` actions: float32[].

    0 when ``n <= 0`` (never) or ``n > T = params.max_steps_in_episode`` (250 when ``params``
    is None). Jittable.
    """
    t_max = jnp.asarray(250 if params is None else params.max_steps_in_episode, jnp.float32)
    ok = (n > 0) & (n.astype(jnp.float32) <= t_max)
    return jnp.where(ok, 1.0 - 0.9 * n.astype(jnp.float32) / t_max, 0.0).astype(jnp.float32)


def optimal_return(level: MazeLevel, params: MazeParams | None = None) -> jax.Array:
    """Best achievable return ``1 - 0.9 * n / T`` (n = :func:`optimal_steps`): float32[].

    0 when the goal is unreachable or needs more than ``T = params.max_steps_in_episode`` steps
    (250 when ``params`` is None). Jittable.
    """
    return return_of_steps(optimal_steps(level), params)
