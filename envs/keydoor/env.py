"""The key-and-door maze environment: the Maze plus a key to pick up and a locked door.

Actions (4): 0 turn left, 1 turn right, 2 forward, 3 toggle. Movement, reward (``1 - 0.9 *
(t + 1) / T`` on entering the goal, which ends the episode; success = reaching the goal) and
truncation are the Maze's (:class:`envs.maze.MazeEnv`, which this env extends).

* The key is picked up by stepping onto its cell (forward), as in the paper's environment
  (Mead et al., arXiv 2601.14957, code ``jaxued/environments/maze/env.py``: a forward move onto
  the key sets ``has_key``).
* The door opens with the toggle action while the agent faces it and holds the key, and then
  stays open (the paper's ``use`` action, its fourth and last; MiniGrid's ``toggle`` on a locked
  door with the key also unlocks and opens it, though there a second toggle would close it).
  Chosen over "walk into it with the key" to follow the paper and MiniGrid: opening is a
  deliberate action the agent must learn, and it costs one action in the optimal return. A
  locked door blocks like a wall; an open door is a free cell.
* Observation: :class:`envs.maze.MazeObs`, the Maze's ``V x V`` egocentric view in MiniGrid's
  (object, colour, state) encoding, with the key as (5 key, 4 yellow, 0) until it is picked up,
  the door as (4 door, 4 yellow, state 2 locked / 0 open), and the carried key drawn on the
  agent's own view cell ``[V // 2, V - 1]`` (MiniGrid shows what the agent carries there), so
  the image alone says whether the agent holds the key. The paper also feeds a separate
  ``has_key`` input; the toolkit's networks read it from the image instead.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

import ued
from envs.keydoor.level import DEFAULT_CONFIG, KeyDoorConfig, KeyDoorLevel
from envs.maze.env import MazeEnv, MazeObs, MazeState, _encode
from envs.maze.level import dir_vec

# MiniGrid indices
OBJ_DOOR, OBJ_KEY, COLOR_YELLOW = 4, 5, 4
DOOR_OPEN, DOOR_LOCKED = 0, 2
ACTION_TOGGLE = 3
N_ACTIONS = 4


@struct.dataclass
class KeyDoorState(MazeState):
    """Env state: the Maze's (walls in the env's layout, with the door a wall until it opens;
    agent pose; goal; time) plus

    Attributes:
      key_pos: int32[2]; door_pos: int32[2], ``(x, y)``.
      has_key: bool[], the agent carries the key.
      door_open: bool[], the door has been opened.
    """

    key_pos: jax.Array
    door_pos: jax.Array
    has_key: jax.Array
    door_open: jax.Array


class KeyDoorEnv(MazeEnv):
    """The key-and-door maze (module docstring). ``self.config`` is the Maze part
    (:meth:`KeyDoorConfig.maze_config`), ``self.keydoor_config`` the whole static config."""

    def __init__(self, config: KeyDoorConfig = DEFAULT_CONFIG):
        if not isinstance(config, KeyDoorConfig):
            raise TypeError(f"KeyDoorEnv expects a KeyDoorConfig, got {type(config).__name__}")
        super().__init__(config.maze_config())
        self.keydoor_config = config

    @property
    def name(self) -> str:
        return f"KeyDoor{self.config.height}x{self.config.width}"

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(N_ACTIONS)

    def reset_to_level(self, key, level: KeyDoorLevel, params) -> tuple[MazeObs, KeyDoorState]:
        """First observation and state of an episode on ``level``. Jittable; ignores ``key``.

        Raises ``ValueError`` (at trace time) if the level's wall map is not the config's size.
        """
        maze_state = self.initial_state(level)
        state = KeyDoorState(
            **{f.name: getattr(maze_state, f.name) for f in dataclasses.fields(MazeState)},
            key_pos=jnp.asarray(level.key_pos, jnp.int32),
            door_pos=jnp.asarray(level.door_pos, jnp.int32),
            has_key=jnp.zeros((), bool),
            door_open=jnp.zeros((), bool),
        )
        return self.get_obs(state), state

    def step(self, key, state: KeyDoorState, action, params):
        """One step. Returns ``(obs, state, reward f32, terminated, truncated, info)``.

        The Maze's step moves, turns, rewards and counts time (the toggle is a no-op to it: the
        locked door is a wall of the state); this adds the key pickup and the door opening.
        ``info["solved"]`` is True on the step that reaches the goal. Jittable; ignores ``key``.
        """
        action = jnp.asarray(action, jnp.int32)
        # the Maze's observation of the moved state is unused (dead code under jit)
        _, moved, reward, terminated, truncated, info = super().step(key, state, action, params)
        on_key = jnp.all(moved.agent_pos == state.key_pos)
        has_key = state.has_key | on_key
        dx, dy = dir_vec(state.agent_dir)
        facing = (state.agent_pos[0] + dx == state.door_pos[0]) & (
            state.agent_pos[1] + dy == state.door_pos[1]
        )
        opens = (action == ACTION_TOGGLE) & facing & state.has_key & ~state.door_open
        moved = moved.replace(
            walls=self.clear_wall(moved.walls, state.door_pos, opens),
            has_key=has_key,
            door_open=state.door_open | opens,
        )
        return self.get_obs(moved), moved, reward, terminated, truncated, info

    def _view_image(self, state: KeyDoorState) -> jax.Array:
        v = self.config.agent_view_size
        img = _encode(self.view_walls(state), self.view_cell(state, state.goal_pos))
        door_state = jnp.where(state.door_open, DOOR_OPEN, DOOR_LOCKED).astype(jnp.uint8)
        door_px = jnp.stack([jnp.uint8(OBJ_DOOR), jnp.uint8(COLOR_YELLOW), door_state])
        key_px = jnp.array([OBJ_KEY, COLOR_YELLOW, 0], jnp.uint8)
        img = jnp.where(self.view_cell(state, state.door_pos)[..., None], door_px, img)
        key_seen = self.view_cell(state, state.key_pos) & ~state.has_key
        carried = (self._ii == v // 2) & (self._jj == v - 1) & state.has_key
        return jnp.where((key_seen | carried)[..., None], key_px, img)
