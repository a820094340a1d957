"""Analysis tools for the aleatoric mazes: a scripted shortest-path policy and the lava maze's
route values by value iteration (ground truth for tests and write-ups, not used in training)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from envs.aleatoric.grid import MAX_STEPS, SIZE, cell_mask
from envs.aleatoric.lava import TEMPLATE_AGENT, TEMPLATE_GOAL, TEMPLATE_LAVA, TEMPLATE_WALLS
from envs.maze.bfs import UNREACHABLE, cell_distances
from envs.maze.level import DIR_TO_VEC, dir_vec, make_level, wall_at


def scripted_action(walls, agent_pos, agent_dir, target, avoid=None) -> jax.Array:
    """A shortest-path action towards cell ``target`` (int32[]: 0 left, 1 right, 2 forward).

    Args:
      walls: bool[7, 7] wall map; agent_pos, target: int32[2] ``(x, y)``; agent_dir: int32[].
      avoid: extra blocked cells, bool[7, 7] (e.g. the other exit), or None.

    Distances come from a BFS (``envs.maze.cell_distances``) from ``target`` over free cells;
    the agent steps forward when the cell ahead is closer, else turns towards a closer
    neighbour (right first). Jittable.
    """
    blocked = walls if avoid is None else walls | avoid
    blocked = blocked & ~cell_mask(target)
    # a BFS from the target: the target plays the agent
    d = cell_distances(make_level(blocked, target, 0, agent_pos))
    here = d[agent_pos[1], agent_pos[0]]

    def dist_dir(k):
        dx, dy = dir_vec(k)
        x, y = agent_pos[0] + dx, agent_pos[1] + dy
        ok = ~wall_at(blocked, x, y)
        return jnp.where(ok, d[jnp.clip(y, 0, SIZE - 1), jnp.clip(x, 0, SIZE - 1)], UNREACHABLE)

    ahead = dist_dir(agent_dir)
    right = dist_dir((agent_dir + 1) & 3)
    return jnp.where(ahead < here, 2, jnp.where(right < here, 1, 0)).astype(jnp.int32)


def lava_route_values(theta: float) -> dict[str, float]:
    """Start-state action values of the lava template (start (0, 1) facing right) for a known
    slip probability ``theta``, by finite-horizon value iteration over (time, pose) with optimal
    continuation: ``{"corridor": Q(forward), "detour": Q(turn right)}`` (forward enters the
    lava-lined corridor; turning right faces the detour). Host, NumPy.
    """
    lava, walls = TEMPLATE_LAVA, TEMPLATE_WALLS
    gx, gy = TEMPLATE_GOAL
    vecs = DIR_TO_VEC.tolist()  # plain ints: this loop runs ~10^5 times

    def q_forward(v_next, d, x, y, r_goal):
        q = 0.0
        for k, pk in [(d, 1.0 - theta)] + [((d + j) % 4, theta / 3) for j in (1, 2, 3)]:
            xx, yy = x + vecs[k][0], y + vecs[k][1]
            if (xx, yy) == (gx, gy):
                q += pk * r_goal
            elif not (0 <= xx < SIZE and 0 <= yy < SIZE) or walls[yy, xx]:
                q += pk * v_next[d, y, x]
            elif not lava[yy, xx]:
                q += pk * v_next[d, yy, xx]
        return q

    v_next = np.zeros((4, SIZE, SIZE))  # value at time t + 1
    for t in range(MAX_STEPS - 1, -1, -1):
        v = np.zeros((4, SIZE, SIZE))
        r_goal = 1.0 - 0.9 * (t + 1) / MAX_STEPS
        for d in range(4):
            for y in range(SIZE):
                for x in range(SIZE):
                    if walls[y, x] or lava[y, x] or (x, y) == (gx, gy):
                        continue
                    turn = max(v_next[(d + 3) % 4, y, x], v_next[(d + 1) % 4, y, x])
                    v[d, y, x] = max(turn, q_forward(v_next, d, x, y, r_goal))
        if t == 0:
            ax, ay = TEMPLATE_AGENT
            return {
                "corridor": float(q_forward(v_next, 0, ax, ay, r_goal)),
                "detour": float(v_next[1, ay, ax]),
            }
        v_next = v
    raise AssertionError("unreachable")


__all__ = ["lava_route_values", "scripted_action"]
