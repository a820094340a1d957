"""Procedural evaluation mazes: FourRooms, corridors and perfect mazes of any odd size.

Each generator is jittable for a static ``size`` and returns a ``MazeLevel`` whose wall map is
``(size, size)``; use :func:`envs.maze.pad_level` to place a smaller one into a larger config,
and a ``MazeConfig(height=size, width=size)`` env for a larger one. Every level is solvable.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from envs.maze.level import MazeLevel, make_level


def _check_size(size: int, lo: int, odd: bool) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < lo:
        raise ValueError(f"size must be an int >= {lo}, got {size!r}")
    if odd and size % 2 != 1:
        raise ValueError(f"size must be odd, got {size}")


def _place(key: jax.Array, free: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Agent cell, goal cell (distinct free cells, as (x, y)) and a random direction."""
    h, w = free.shape
    k_a, k_g, k_d = jax.random.split(key, 3)
    flat = free.reshape(-1)
    a = jax.random.categorical(k_a, jnp.where(flat, 0.0, -jnp.inf))
    g = jax.random.categorical(k_g, jnp.where(flat & (jnp.arange(h * w) != a), 0.0, -jnp.inf))
    xy = lambda i: jnp.stack([i % w, i // w]).astype(jnp.int32)
    return xy(a), xy(g), jax.random.randint(k_d, (), 0, 4)


def four_rooms(key: jax.Array, size: int = 13) -> MazeLevel:
    """FourRooms: a wall cross through the centre with one random door in each of its 4 arms.

    ``size`` odd, >= 5. Agent and goal on random distinct free cells. Jittable (static size).
    """
    _check_size(size, 5, odd=True)
    mid = size // 2
    k_doors, k_place = jax.random.split(key)
    kd = jax.random.split(k_doors, 4)
    # Door positions: arms [0, mid) and (mid, size) of the horizontal and vertical walls.
    d_left = jax.random.randint(kd[0], (), 0, mid)
    d_right = jax.random.randint(kd[1], (), mid + 1, size)
    d_top = jax.random.randint(kd[2], (), 0, mid)
    d_bottom = jax.random.randint(kd[3], (), mid + 1, size)
    ys = jnp.arange(size)[:, None]
    xs = jnp.arange(size)[None, :]
    walls = (ys == mid) | (xs == mid)
    doors = (ys == mid) & ((xs == d_left) | (xs == d_right))
    doors |= (xs == mid) & ((ys == d_top) | (ys == d_bottom))
    walls = walls & ~doors
    agent, goal, d = _place(k_place, ~walls)
    return make_level(walls, agent, d, goal)


def corridor(key: jax.Array, size: int = 13) -> MazeLevel:
    """A comb-shaped corridor: a horizontal corridor along the middle row with dead-end branches
    up and down at every other column; the agent starts at the corridor's left end, the goal is
    at the far end of one random branch. ``size`` odd, >= 5. Jittable (static size).
    """
    _check_size(size, 5, odd=True)
    mid = size // 2
    k_goal, k_dir = jax.random.split(key)
    ys = jnp.arange(size)[:, None]
    xs = jnp.arange(size)[None, :]
    branch_cols = (xs % 2 == 1) & (xs < size - 1)
    free = (ys == mid) | branch_cols
    n_branch = (size - 1) // 2
    b = jax.random.randint(k_goal, (), 0, 2 * n_branch)
    gx = 2 * (b // 2) + 1
    gy = jnp.where(b % 2 == 0, 0, size - 1)
    agent = jnp.array([0, mid], jnp.int32)
    return make_level(~free, agent, jax.random.randint(k_dir, (), 0, 4), jnp.stack([gx, gy]))


def perfect_maze(key: jax.Array, size: int = 13) -> MazeLevel:
    """A perfect maze (exactly one path between any two cells) of odd ``size`` >= 3.

    Rooms sit on even coordinates and walls between them; the passages are a random spanning
    tree (Prim's algorithm on random edge weights, as a ``fori_loop`` of array operations), so it
    is jittable for any static odd size, also larger than 13 (e.g. 19, 25). The agent and goal
    are on random distinct free cells.
    """
    _check_size(size, 3, odd=True)
    m = (size + 1) // 2  # rooms per side
    k_w, k_place = jax.random.split(key)
    kh, kv = jax.random.split(k_w)
    wh = jax.random.uniform(kh, (m, m - 1))  # edge (r, c) - (r, c + 1)
    wv = jax.random.uniform(kv, (m - 1, m))  # edge (r, c) - (r + 1, c)
    visited = jnp.zeros((m, m), bool).at[0, 0].set(True)
    open_h = jnp.zeros((m, m - 1), bool)
    open_v = jnp.zeros((m - 1, m), bool)

    def body(_, c):
        visited, open_h, open_v = c
        ch = visited[:, :-1] ^ visited[:, 1:]
        cv = visited[:-1, :] ^ visited[1:, :]
        sh = jnp.where(ch, wh, jnp.inf).reshape(-1)
        sv = jnp.where(cv, wv, jnp.inf).reshape(-1)
        ih, iv = jnp.argmin(sh), jnp.argmin(sv)
        use_h = sh[ih] <= sv[iv]
        rh, cc = ih // (m - 1), ih % (m - 1)
        rv, cv_ = iv // m, iv % m
        open_h = open_h.at[rh, cc].set(open_h[rh, cc] | use_h)
        open_v = open_v.at[rv, cv_].set(open_v[rv, cv_] | ~use_h)
        # The new room is whichever endpoint of the chosen edge was unvisited.
        visited = visited.at[rh, cc].set(visited[rh, cc] | use_h)
        visited = visited.at[rh, cc + 1].set(visited[rh, cc + 1] | use_h)
        visited = visited.at[rv, cv_].set(visited[rv, cv_] | ~use_h)
        visited = visited.at[rv + 1, cv_].set(visited[rv + 1, cv_] | ~use_h)
        return visited, open_h, open_v

    if m > 1:
        _, open_h, open_v = jax.lax.fori_loop(0, m * m - 1, body, (visited, open_h, open_v))
    free = jnp.zeros((size, size), bool)
    free = free.at[0::2, 0::2].set(True)
    free = free.at[0::2, 1::2].set(open_h)
    free = free.at[1::2, 0::2].set(open_v)
    agent, goal, d = _place(k_place, free)
    return make_level(~free, agent, d, goal)
