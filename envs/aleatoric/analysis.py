"""Analysis tools for the aleatoric mazes: a scripted shortest-path policy and the lava maze's
route values by value iteration (ground truth for tests and write-ups, not used in training).

* :func:`lava_route_values`: start-state values of corridor and detour for a KNOWN slip
  probability (pure-Python loop over the 7x7 template).
* :func:`route_values`: the same, vectorised, on any lava grid, either for a known ``theta`` or
  **Bayes-adaptive** under a Beta(a, b) prior on theta: the state holds the episode's forward
  moves and slips, the next slip has the posterior predictive probability
  ``(a + slips) / (a + b + moves)`` (what a policy that is optimal under that prior does).
* :func:`lava_template` builds the lava template with a longer detour (a taller grid), and
  :func:`route_flip` finds where the best first move flips from corridor to detour.
"""

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


def lava_template(height: int = SIZE, lava_below: bool = True) -> dict:
    """The lava template (start (0, 1) facing right, goal (6, 1), lava above the corridor at
    x = 1..5 and, with ``lava_below``, below it at x = 2..4 between walls (1, 2) and (5, 2))
    on a grid 7 wide and ``height`` tall (>= 7): the wall column x = 3, y = 3..height-2 makes
    the detour go down column 0, along the bottom row and up column 6, i.e. 2 * height + 2
    forward moves (16 at height 7) and 3 turns. ``{"walls", "lava"}`` bool[height, 7] and
    ``"start"``, ``"goal"`` (x, y). Host."""
    if height < SIZE:
        raise ValueError(f"height must be >= {SIZE}, got {height}")
    walls = np.zeros((height, SIZE), bool)
    lava = np.zeros((height, SIZE), bool)
    lava[0, 1:6] = True
    if lava_below:
        lava[2, 2:5] = True
    walls[2, 1] = walls[2, 5] = True
    walls[3 : height - 1, 3] = True
    return {"walls": walls, "lava": lava, "start": (0, 1), "goal": (6, 1)}


def route_values(
    walls,
    lava,
    start,
    goal,
    start_dir: int = 0,
    theta: float | None = None,
    prior: tuple[float, float] | None = None,
    max_steps: int = MAX_STEPS,
) -> dict[str, float]:
    """Start-state action values on a lava grid by finite-horizon value iteration: the lava
    maze's dynamics (forward slips with probability p to one of the 3 other directions, facing
    kept; walls and the border block; lava ends the episode with 0; the goal pays
    ``1 - 0.9 t / T``).

    Exactly one of ``theta`` (p known and fixed) or ``prior`` ``(a, b)`` (Bayes-adaptive: p is
    the Beta(a, b) posterior predictive given the episode's forward moves and slips so far).
    Returns ``{"forward", "right", "left", "value"}`` at the start pose; on the lava template
    ``forward`` is the corridor and ``right`` the detour. Host, NumPy (vectorised over
    (moves, slips, direction, y, x)).
    """
    if (theta is None) == (prior is None):
        raise ValueError("give exactly one of theta or prior")
    walls = np.asarray(walls, bool)
    lava = np.asarray(lava, bool)
    h, w = walls.shape
    gx, gy = goal
    n_b = 1 if prior is None else max_steps + 2  # moves/slips axis (index clipped at the end)
    if prior is None:
        p = np.full((1, 1), float(theta))
    else:
        a, b = prior
        nn = np.arange(n_b)[:, None]
        kk = np.arange(n_b)[None, :]
        p = np.clip((a + kk) / (a + b + nn), 0.0, 1.0)
    vecs = DIR_TO_VEC.tolist()
    ys, xs = np.mgrid[0:h, 0:w]
    # per movement direction m: target cell, and masks (goal, lava, blocked -> stay)
    moves = []
    for dx, dy in vecs:
        nx, ny = xs + dx, ys + dy
        inside = (nx >= 0) & (nx < w) & (ny >= 0) & (ny < h)
        cx, cy = np.clip(nx, 0, w - 1), np.clip(ny, 0, h - 1)
        blocked = ~inside | walls[cy, cx]
        is_goal = ~blocked & (cx == gx) & (cy == gy)
        is_lava = ~blocked & lava[cy, cx]
        tx, ty = np.where(blocked, xs, cx), np.where(blocked, ys, cy)
        moves.append((tx, ty, is_goal, is_lava))
    live = ~walls & ~lava
    live[gy, gx] = False

    def shift(v, dn, dk):  # v[:, n + dn, k + dk] (clipped at the last index: never reached)
        if n_b == 1:
            return v
        idx_n = np.minimum(np.arange(n_b) + dn, n_b - 1)
        idx_k = np.minimum(np.arange(n_b) + dk, n_b - 1)
        return v[:, idx_n][:, :, idx_k]

    pp = p[:, :, None, None, None]
    v_next = np.zeros((n_b, n_b, 4, h, w))
    for t in range(max_steps - 1, -1, -1):
        r_goal = 1.0 - 0.9 * (t + 1) / max_steps
        # M[m][n, k, d, y, x]: value after moving along m from (y, x), facing d kept
        move_val = []
        for tx, ty, is_goal, is_lava in moves:
            val = v_next[:, :, :, ty, tx]
            val = np.where(is_goal, r_goal, np.where(is_lava, 0.0, val))
            move_val.append(val)
        ok = shift(np.stack(move_val), 1, 0)  # no slip: moves + 1
        sl = shift(np.stack(move_val), 1, 1) if n_b > 1 else ok  # slip: moves + 1, slips + 1
        q_fwd = np.zeros_like(v_next)
        for d in range(4):
            others = sum(sl[m][:, :, d] for m in range(4) if m != d)
            q_fwd[:, :, d] = (1 - pp[:, :, 0]) * ok[d][:, :, d] + pp[:, :, 0] / 3 * others
        q_right = np.roll(v_next, -1, axis=2)  # facing d + 1
        q_left = np.roll(v_next, 1, axis=2)  # facing d - 1
        if t == 0:
            sx, sy = start
            return {
                "forward": float(q_fwd[0, 0, start_dir, sy, sx]),
                "right": float(q_right[0, 0, start_dir, sy, sx]),
                "left": float(q_left[0, 0, start_dir, sy, sx]),
                "value": float(
                    max(
                        q_fwd[0, 0, start_dir, sy, sx],
                        q_right[0, 0, start_dir, sy, sx],
                        q_left[0, 0, start_dir, sy, sx],
                    )
                ),
            }
        v = np.maximum(q_fwd, np.maximum(q_right, q_left))
        v_next = np.where(live, v, 0.0)
    raise AssertionError("unreachable")


def route_flip(
    template: dict,
    lo: float = 0.0,
    hi: float = 0.6,
    bayes_conc: float | None = None,
    tol: float = 1e-3,
) -> float:
    """The slip level at which the best first move on ``template`` (:func:`lava_template`)
    flips from the corridor (forward) to the detour (turn right), by bisection. Known theta if
    ``bayes_conc`` is None; otherwise the variable is the prior MEAN mu of a
    Beta(mu * c, (1 - mu) * c) prior with ``c = bayes_conc`` (Bayes-adaptive values). NaN if
    there is no flip in ``[lo, hi]``. Host."""

    def gap(x):
        kw = (
            dict(theta=x)
            if bayes_conc is None
            else dict(prior=(x * bayes_conc, (1 - x) * bayes_conc))
        )
        r = route_values(
            template["walls"], template["lava"], template["start"], template["goal"], **kw
        )
        return r["forward"] - r["right"]

    g_lo, g_hi = gap(lo), gap(hi)
    if not (g_lo > 0 > g_hi):
        return float("nan")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if gap(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


__all__ = [
    "lava_route_values",
    "lava_template",
    "route_flip",
    "route_values",
    "scripted_action",
]
