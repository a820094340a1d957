"""The 7x7 grid both aleatoric mazes are drawn on: its sizes, the Maze settings they follow, cell
masks, and the environment base class they share.

Positions are ``(x, y)`` and wall maps ``[y, x]``, as in :mod:`envs.maze`; moves, walls, the
reward's time discount and pictures come from there.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import ued
from envs.maze.level import MazeConfig, MazeParams, default_params

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


class GridMazeEnv(ued.Environment):
    """What the aleatoric mazes share as environments: the Maze's params on this grid
    (:data:`CONFIG`), its three actions (0 turn left, 1 turn right, 2 forward) and an observation
    ``obs_type(image=float32[7, 7, 4], agent_dir=int32[], **extra)``.

    Subclasses set ``env_name`` and ``obs_type`` (a ``flax.struct`` dataclass), describe any
    further observation fields in :meth:`extra_observation_space` and implement
    ``reset_to_level``, ``step`` and ``get_obs``. All methods pure and jittable.
    """

    env_name: str  # e.g. "GambleMaze7x7"
    obs_type: type  # the observation dataclass

    @property
    def default_params(self) -> MazeParams:
        return default_params(CONFIG)

    @property
    def name(self) -> str:
        return self.env_name

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(3)

    def extra_observation_space(self) -> dict:
        """``Box`` descriptors of the observation's fields beyond ``image`` and ``agent_dir``."""
        return {}

    def observation_space(self, params=None):
        return self.obs_type(
            image=ued.Box(0.0, 1.0, (SIZE, SIZE, 4)),
            agent_dir=ued.Box(0, 3, (), jnp.int32),
            **self.extra_observation_space(),
        )
