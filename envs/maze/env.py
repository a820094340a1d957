"""The Maze environment (the UED literature's MiniGrid-style maze) on the ``ued`` contract.

Dynamics, reward and observation match jaxued's / minimax's Maze: actions 0 turn left, 1 turn
right, 2 forward (blocked by walls and by the goal; moving into the goal ends the episode with
reward ``1 - 0.9 * (t + 1) / T``); with ``n_actions=7`` actions 3..6 do nothing. The
observation is the ``V x V`` square in front of the agent, indexed ``[x, y]`` in the agent's
frame with the agent at ``[V // 2, V - 1]`` looking toward ``y = 0`` and ``x = 0`` on its left;
3 channels (MiniGrid object index, colour index, state); walls do not block sight; cells outside
the grid read as walls.

Speed: walls are bit-packed rows with wall padding (one contiguous slice of V words and a few
shifts give the view; no per-cell gather, no padded object map), and the state is tiny (21
uint32 words plus a few int32), so the reset inside auto-replay is cheap.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import ued
from envs.maze.level import (
    DEFAULT_CONFIG,
    MazeConfig,
    MazeLevel,
    MazeParams,
    default_params,
    dir_vec,
    time_discount,
    wall_at,
)

# MiniGrid indices (object, colour) used by the literature's Maze.
OBJ_EMPTY, OBJ_WALL, OBJ_GOAL, OBJ_AGENT = 1, 2, 8, 10
COLOR_RED, COLOR_GREEN, COLOR_GREY = 0, 1, 5


@struct.dataclass
class MazeObs:
    """Observation.

    Attributes:
      image: uint8[V, V, 3] (float32 divided by 10 with ``normalize_obs``), indexed ``[x, y]``
        in the agent's frame; with ``full_obs`` it is ``[H, W, 3]`` indexed ``[y, x]`` in the
        world frame with the agent drawn (object 10, red, its direction), as in jaxued.
      agent_dir: int32[], 0 right, 1 down, 2 left, 3 up.
    """

    image: jax.Array
    agent_dir: jax.Array


@struct.dataclass
class MazeState:
    """Env state: walls, agent pose, goal and step count.

    Attributes:
      walls: the wall map in the env's internal layout; decode it with
        :meth:`MazeEnv.state_wall_map`. When ``max(H, W) + 2 * (agent_view_size - 1) <= 32``
        and not ``full_obs`` (the default 13x13, view 5) it is bit-packed, uint32[H + W + 4P]
        with P = view - 1: first the rows (row ``y`` is word ``y + P``, column ``x`` its bit
        ``x + P``), then the columns (column ``x`` is word ``H + 2P + x + P``, row ``y`` its bit
        ``y + P``); padding words and bits (outside the grid) are all walls, so the view and the
        forward check never bounds-check. Otherwise it is the plain bool[H, W] wall map.
      agent_pos: int32[2] (x, y); agent_dir: int32[]; goal_pos: int32[2];
      time: int32[], steps taken in this episode.
    """

    walls: jax.Array
    agent_pos: jax.Array
    agent_dir: jax.Array
    goal_pos: jax.Array
    time: jax.Array


class MazeEnv(ued.Environment):
    """The Maze. ``self`` holds only the static :class:`MazeConfig` and derived constants."""

    def __init__(self, config: MazeConfig = DEFAULT_CONFIG):
        if not isinstance(config, MazeConfig):
            raise TypeError(f"MazeEnv expects a MazeConfig, got {type(config).__name__}")
        self.config = config
        v = config.agent_view_size
        self._pad = v - 1
        self.packed = not config.full_obs and max(config.width, config.height) + 2 * self._pad <= 32
        ii, jj = np.meshgrid(np.arange(v), np.arange(v), indexing="ij")  # [i, j]
        # View cell [i, j]: forward distance v-1-j, lateral offset i - v//2 (positive = right).
        self._fwd = (v - 1 - jj).astype(np.int32)
        self._lat = (ii - v // 2).astype(np.int32)
        self._ii, self._jj = ii.astype(np.int32), jj.astype(np.int32)

    @property
    def default_params(self) -> MazeParams:
        return default_params(self.config)

    @property
    def name(self) -> str:
        return f"Maze{self.config.height}x{self.config.width}"

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(self.config.n_actions)

    def observation_space(self, params=None):
        c = self.config
        shape = (c.height, c.width, 3) if c.full_obs else (c.agent_view_size,) * 2 + (3,)
        dtype = jnp.float32 if c.normalize_obs else jnp.uint8
        high = 1.0 if c.normalize_obs else 255
        return MazeObs(image=ued.Box(0, high, shape, dtype), agent_dir=ued.Box(0, 3, (), jnp.int32))

    # ------------------------------------------------------------------ wall layout

    def _pack_rows(self, wall_map: jax.Array) -> jax.Array:
        """bool[A, B] -> uint32[A + 2P]: word ``a + P`` has bit ``b + P`` set for a wall at
        ``[a, b]``; the padding words and bits (outside the grid) are all walls."""
        _, n = wall_map.shape
        p = self._pad
        bits = jnp.asarray(np.left_shift(np.uint32(1), np.arange(n, dtype=np.uint32) + p))
        # Distinct bits, so the sum is their OR; the row reduction vectorises across the batch.
        core = jnp.sum(jnp.where(wall_map, bits, jnp.uint32(0)), axis=-1, dtype=jnp.uint32)
        outside = np.uint32(0xFFFFFFFF) & ~np.uint32(((1 << n) - 1) << p)
        full = jnp.full((p,), 0xFFFFFFFF, jnp.uint32)
        return jnp.concatenate([full, core | outside, full])

    def pack_walls(self, wall_map: jax.Array) -> jax.Array:
        """bool[H, W] -> the state's wall layout (see :class:`MazeState`). Jittable."""
        if not self.packed:
            return jnp.asarray(wall_map, bool)
        wall_map = jnp.asarray(wall_map, bool)
        return jnp.concatenate([self._pack_rows(wall_map), self._pack_rows(wall_map.T)])

    def state_wall_map(self, state: MazeState) -> jax.Array:
        """The state's wall map as bool[H, W]. Jittable."""
        if not self.packed:
            return state.walls
        c, p = self.config, self._pad
        rows = state.walls[p : p + c.height]
        shifts = jnp.asarray(np.arange(c.width, dtype=np.uint32) + p)
        return ((rows[:, None] >> shifts[None, :]) & 1).astype(bool)

    def clear_wall(self, walls: jax.Array, pos: jax.Array, clear: jax.Array) -> jax.Array:
        """The state's wall layout ``walls`` with the wall at ``pos`` = ``(x, y)`` removed where
        ``clear`` (bool[]) holds (e.g. a door that opens). Jittable; elementwise over the
        layout (no scatter, which is slow under vmap on CPU)."""
        x, y = pos[0], pos[1]
        if not self.packed:
            h, w = walls.shape
            at = (jnp.arange(h)[:, None] == y) & (jnp.arange(w)[None, :] == x)
            return walls & ~(at & clear)
        c, p = self.config, self._pad
        word = jnp.arange(walls.shape[0])
        one = clear.astype(jnp.uint32)
        row_bit = jnp.where(word == y + p, one << (x + p).astype(jnp.uint32), jnp.uint32(0))
        col = c.height + 2 * p + x + p
        col_bit = jnp.where(word == col, one << (y + p).astype(jnp.uint32), jnp.uint32(0))
        return walls & ~(row_bit | col_bit)

    # ------------------------------------------------------------------ contract

    def reset_to_level(self, key, level: MazeLevel, params) -> tuple[MazeObs, MazeState]:
        """First observation and state of an episode on ``level``. Jittable; ignores ``key``.

        Raises ``ValueError`` (at trace time) if the level's wall map is not the config's size.
        """
        state = self.initial_state(level)
        return self.get_obs(state), state

    def initial_state(self, level: MazeLevel) -> MazeState:
        """The state an episode on ``level`` starts from (see :meth:`reset_to_level`)."""
        c = self.config
        if tuple(jnp.shape(level.wall_map)) != (c.height, c.width):
            raise ValueError(
                f"level wall_map has shape {tuple(jnp.shape(level.wall_map))}, but this MazeEnv "
                f"is {c.height}x{c.width}: pad it with envs.maze.pad_level or use a matching "
                "MazeConfig(height=..., width=...)"
            )
        return MazeState(
            walls=self.pack_walls(level.wall_map),
            agent_pos=jnp.asarray(level.agent_pos, jnp.int32),
            agent_dir=jnp.asarray(level.agent_dir, jnp.int32),
            goal_pos=jnp.asarray(level.goal_pos, jnp.int32),
            time=jnp.zeros((), jnp.int32),
        )

    def _wall_at(self, state: MazeState, x: jax.Array, y: jax.Array) -> jax.Array:
        """Wall (or outside the grid) at (x, y), for |offset| <= view - 1 around a grid cell."""
        if self.packed:
            p = self._pad
            return ((state.walls[y + p] >> (x + p).astype(jnp.uint32)) & 1).astype(bool)
        return wall_at(state.walls, x, y)

    def step(self, key, state: MazeState, action, params):
        """One step. Returns ``(obs, state, reward f32, terminated, truncated, info)``.

        ``info["solved"]`` is True on the step that reaches the goal. Jittable; ignores ``key``.
        """
        action = jnp.asarray(action, jnp.int32)
        fwd = action == 2
        dx, dy = dir_vec(state.agent_dir)
        ax, ay = state.agent_pos[0], state.agent_pos[1]
        nx = ax + jnp.where(fwd, dx, 0)
        ny = ay + jnp.where(fwd, dy, 0)
        wall = self._wall_at(state, nx, ny)
        at_goal = fwd & (nx == state.goal_pos[0]) & (ny == state.goal_pos[1])
        move = fwd & ~wall & ~at_goal
        pos = jnp.stack([jnp.where(move, nx, ax), jnp.where(move, ny, ay)])
        turn = (action == 1).astype(jnp.int32) - (action == 0).astype(jnp.int32)
        agent_dir = (state.agent_dir + turn) & 3
        time = state.time + 1
        t_max = jnp.asarray(params.max_steps_in_episode, jnp.int32)
        reward = jnp.where(at_goal, time_discount(time, params), 0.0).astype(jnp.float32)
        truncated = (time >= t_max) & ~at_goal
        state = state.replace(agent_pos=pos, agent_dir=agent_dir, time=time)
        return self.get_obs(state), state, reward, at_goal, truncated, {"solved": at_goal}

    # ------------------------------------------------------------------ observation

    def get_obs(self, state: MazeState) -> MazeObs:
        """Observation of ``state`` (see :class:`MazeObs`). Jittable."""
        c = self.config
        if c.full_obs:
            image = self._full_image(state)
        else:
            image = self._view_image(state)
        if c.normalize_obs:
            image = image.astype(jnp.float32) / 10.0
        return MazeObs(image=image, agent_dir=state.agent_dir)

    def view_cell(self, state: MazeState, pos: jax.Array) -> jax.Array:
        """bool[V, V]: the view cell showing world cell ``pos`` = ``(x, y)`` (all False when it
        is out of view). Projects ``pos - agent_pos`` into the agent's frame. Jittable."""
        v = self.config.agent_view_size
        fx, fy = dir_vec(state.agent_dir)
        rx, ry = dir_vec((state.agent_dir + 1) & 3)  # the agent's right
        gx = pos[0] - state.agent_pos[0]
        gy = pos[1] - state.agent_pos[1]
        i_g = gx * rx + gy * ry + v // 2
        j_g = v - 1 - (gx * fx + gy * fy)
        return (self._ii == i_g) & (self._jj == j_g)

    def view_walls(self, state: MazeState) -> jax.Array:
        """bool[V, V]: walls (and cells outside the grid) of the agent's view. Jittable."""
        if self.packed:
            return self._view_walls_packed(state)
        fx, fy = dir_vec(state.agent_dir)
        rx, ry = dir_vec((state.agent_dir + 1) & 3)
        x = state.agent_pos[0] + self._fwd * fx + self._lat * rx  # (V, V)
        y = state.agent_pos[1] + self._fwd * fy + self._lat * ry
        return self._wall_at(state, x, y)

    def _view_image(self, state: MazeState) -> jax.Array:
        return _encode(self.view_walls(state), self.view_cell(state, state.goal_pos))

    def _view_walls_packed(self, state: MazeState) -> jax.Array:
        """bool[V, V] walls of the view, from V packed words and shifts (no per-cell gather).

        Facing right or left, view column ``i`` is a world row; facing down or up it is a world
        column. So one contiguous slice of V words, from the row-packed or the column-packed
        half, holds the whole view; it is reversed for down/left, and view row ``j`` is bit
        ``base + (V-1-j)`` (right, down) or ``base + j`` (left, up). All elementwise on V x V.
        """
        v, p = self.config.agent_view_size, self._pad
        c = v // 2
        n_rows = self.config.height + 2 * p
        d = state.agent_dir
        ax, ay = state.agent_pos[0], state.agent_pos[1]
        # Top-left (x0, y0) of the V x V world window the view covers.
        y0 = ay + jnp.where(d == 1, 0, jnp.where(d == 3, -(v - 1), -c))
        x0 = ax + jnp.where(d == 0, 0, jnp.where(d == 2, -(v - 1), -c))
        horizontal = (d & 1) == 0
        start = jnp.where(horizontal, y0 + p, n_rows + x0 + p)
        base = jnp.where(horizontal, x0 + p, y0 + p)
        words = jax.lax.dynamic_slice(state.walls, (start,), (v,))  # (V,) uint32
        lines = jnp.where((d == 1) | (d == 2), words[::-1], words)  # indexed by view i
        jj = jnp.arange(v, dtype=jnp.int32)
        shift = (base + jnp.where(d <= 1, v - 1 - jj, jj)).astype(jnp.uint32)  # over view j
        return ((lines[:, None] >> shift[None, :]) & 1).astype(bool)

    def _full_image(self, state: MazeState) -> jax.Array:
        wall_map = self.state_wall_map(state)
        h, w = wall_map.shape
        ys = jnp.arange(h)[:, None]
        xs = jnp.arange(w)[None, :]
        goal = (xs == state.goal_pos[0]) & (ys == state.goal_pos[1])
        img = _encode(wall_map, goal)
        agent = (xs == state.agent_pos[0]) & (ys == state.agent_pos[1])
        agent_px = jnp.stack(
            [
                jnp.uint8(OBJ_AGENT),
                jnp.uint8(COLOR_RED),
                state.agent_dir.astype(jnp.uint8),
            ]
        )
        return jnp.where(agent[..., None], agent_px, img)


def _encode(wall: jax.Array, goal: jax.Array) -> jax.Array:
    """MiniGrid (object, colour, state) uint8 channels from wall / goal masks."""
    obj = jnp.where(goal, OBJ_GOAL, jnp.where(wall, OBJ_WALL, OBJ_EMPTY)).astype(jnp.uint8)
    col = jnp.where(goal, COLOR_GREEN, jnp.where(wall, COLOR_GREY, 0)).astype(jnp.uint8)
    return jnp.stack([obj, col, jnp.zeros_like(obj)], axis=-1)
