"""The 7x7 grid both aleatoric mazes are drawn on: its sizes, the Maze settings they follow, and
cell masks.

Positions are ``(x, y)`` and wall maps ``[y, x]``, as in :mod:`envs.maze`; moves, walls, the
reward's time discount and pictures come from there.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from envs.maze.level import MazeConfig

SIZE = 7
MAX_WALLS = 8
MAX_STEPS = 64
# Fully observed, so a feed-forward policy can act well; 3 actions (left, right, forward).
CONFIG = MazeConfig(height=SIZE, width=SIZE, n_walls=MAX_WALLS, max_steps=MAX_STEPS, full_obs=True)


def at(pos: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """bool[]: ``pos`` (int32[2], ``(x, y)``) is the cell ``(x, y)``."""
    return (pos[0] == x) & (pos[1] == y)


def cell_mask(pos: jax.Array) -> jax.Array:
    """bool[7, 7], True on the cell ``pos`` (int32[2], ``(x, y)``) only. Jittable."""
    ys = jnp.arange(SIZE)[:, None]
    xs = jnp.arange(SIZE)[None, :]
    return (xs == pos[0]) & (ys == pos[1])
