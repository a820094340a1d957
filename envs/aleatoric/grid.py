"""The 7x7 grid both aleatoric mazes are drawn on: its sizes, the Maze settings they follow, cell
masks, and the environment base class they share.

Positions are ``(x, y)`` and wall maps ``[y, x]``, as in :mod:`envs.maze`; moves, walls, the
reward's time discount and pictures come from there.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import ued
from envs.maze.level import MazeConfig, MazeParams, default_params, dir_vec

SIZE = 7
VIEW = 2 * SIZE - 1  # side of the egocentric view: every cell in view from anywhere
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


def egocentric_view(planes: jax.Array, pos: jax.Array, agent_dir: jax.Array) -> jax.Array:
    """The grid seen from the agent: float32[13, 13, C + 1] from ``planes`` (bool or float
    [7, 7, C], indexed ``[y, x]``), the agent at row 6, column 6 facing up (row 5 is the cell
    ahead, column 7 the cell to its right). Channel ``C`` marks the cells outside the grid
    (the other channels are 0 there). Jittable."""
    off = jnp.arange(VIEW) - (SIZE - 1)
    fwd, right = -off[:, None], off[None, :]  # row i is -i cells ahead; column j is j right
    f = dir_vec(agent_dir)
    r = dir_vec((agent_dir + 1) & 3)  # turning right adds 1
    x = pos[0] + fwd * f[0] + right * r[0]
    y = pos[1] + fwd * f[1] + right * r[1]
    inside = (x >= 0) & (x < SIZE) & (y >= 0) & (y < SIZE)
    v = planes[jnp.clip(y, 0, SIZE - 1), jnp.clip(x, 0, SIZE - 1)].astype(jnp.float32)
    v = jnp.where(inside[..., None], v, 0.0)
    return jnp.concatenate([v, (~inside)[..., None].astype(jnp.float32)], axis=-1)


class GridMazeEnv(ued.Environment):
    """What the aleatoric mazes share as environments: the Maze's params on this grid
    (:data:`CONFIG`), its three actions (0 turn left, 1 turn right, 2 forward) and an observation
    ``obs_type(image=float32[7, 7, 4], agent_dir=int32[], **extra)``.

    Subclasses set ``env_name`` and ``obs_type`` (a ``flax.struct`` dataclass), describe any
    further observation fields in :meth:`extra_observation_space` and implement
    ``reset_to_level``, ``step`` and ``get_obs``. All methods pure and jittable.

    ``egocentric=True`` (static) changes only the observation's ``image``: the planes are seen
    from the agent (:func:`egocentric_view`): float32[13, 13, 4], the agent's own plane
    replaced by an outside-the-grid plane. Dynamics, levels and rewards are unchanged.
    """

    env_name: str  # e.g. "GambleMaze7x7"
    obs_type: type  # the observation dataclass

    def __init__(self, egocentric: bool = False) -> None:
        self.egocentric = bool(egocentric)

    def image(self, planes: jax.Array, pos: jax.Array, agent_dir: jax.Array) -> jax.Array:
        """The observation's image from ``planes`` bool[7, 7, 3] (the agent's plane excluded):
        float32[7, 7, 4] with the agent's plane last, or the egocentric float32[13, 13, 4]."""
        if self.egocentric:
            return egocentric_view(planes, pos, agent_dir)
        return jnp.concatenate([planes, cell_mask(pos)[..., None]], axis=-1).astype(jnp.float32)

    @property
    def default_params(self) -> MazeParams:
        return default_params(CONFIG)

    @property
    def name(self) -> str:
        return self.env_name + ("-ego" if self.egocentric else "")

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(3)

    def extra_observation_space(self) -> dict:
        """``Box`` descriptors of the observation's fields beyond ``image`` and ``agent_dir``."""
        return {}

    def observation_space(self, params=None):
        return self.obs_type(
            image=ued.Box(0.0, 1.0, (VIEW, VIEW, 4) if self.egocentric else (SIZE, SIZE, 4)),
            agent_dir=ued.Box(0, 3, (), jnp.int32),
            **self.extra_observation_space(),
        )
