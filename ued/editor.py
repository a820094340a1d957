"""The editor environment: build a level of any editable space one edit per step.

PAIRED's teacher acts in it (``curricula.make_paired``), but it is an ordinary environment on the
contract of :mod:`ued.env`, so any student of the learner stack (``ued.networks`` /
``ued.ppo`` / ``ued.rollout``) can act in it and ``ued.testing.check_env`` checks it.

An episode starts from a level (usually ``space.edit_empty``, :meth:`EditorEnv.empty_levels`)
and lasts ``space.num_edits`` steps; step ``t`` applies ``space.apply_edit(level, action, t)``.
The last step is ``terminated`` (the design is finished: no bootstrap); the reward is always 0
(the teacher's reward comes from the students, given at the last step by the curriculum). Steps
after the end change nothing (an auto-reset wrapper starts the next design).

Observation (:class:`EditorObs`): ``space.edit_observation(level)``, a noise vector of
``noise_dim`` uniform [0, 1) floats drawn afresh from every step's key (the reset key at reset),
and the time step (int32[], 0 at reset; ``ued.networks`` embeds an integer scalar, so give the
teacher's ``NetworkConfig`` ``num_embeddings >= num_edits + 1``). The final state's
:attr:`EditorState.level` (:meth:`EditorEnv.built_level`) is the level built.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ued.env import Box, Discrete, Environment
from ued.level_space import EDIT_FIELDS, LevelSpace


@struct.dataclass
class EditorObs:
    """What the editing policy sees."""

    image: jax.Array  # space.edit_observation(level), e.g. uint8[H + 2, W + 2, 3] for the Maze
    noise: jax.Array  # float32[noise_dim] uniform [0, 1), fresh every step
    time: jax.Array  # int32[] edits made so far (0 .. num_edits)


@struct.dataclass
class EditorState:
    """The level being built and the edits made so far."""

    level: Any  # level pytree
    time: jax.Array  # int32[]


@struct.dataclass
class EditorParams:
    """The editor has no dynamic parameters."""


class EditorEnv(Environment):
    """Edit a level of ``space`` for ``space.num_edits`` steps (see the module docstring)."""

    def __init__(self, space: LevelSpace, noise_dim: int = 50):
        require_editable(space, "EditorEnv")
        if isinstance(noise_dim, bool) or not isinstance(noise_dim, int) or noise_dim < 0:
            raise ValueError(f"noise_dim must be an int >= 0, got {noise_dim!r}")
        self.space = space
        self.noise_dim = noise_dim
        self.num_edits = int(space.num_edits)

    @property
    def default_params(self) -> EditorParams:
        return EditorParams()

    @property
    def name(self) -> str:
        return f"Editor({self.space.name})"

    def action_space(self, params=None) -> Discrete:
        return Discrete(int(self.space.num_edit_actions))

    def observation_space(self, params=None) -> EditorObs:
        img = jax.eval_shape(self.space.edit_observation, self.space.edit_empty)
        return EditorObs(
            image=Box(-jnp.inf, jnp.inf, tuple(img.shape), img.dtype),
            noise=Box(0.0, 1.0, (self.noise_dim,), jnp.float32),
            time=Discrete(self.num_edits + 1),
        )

    def empty_levels(self, n: int) -> Any:
        """``n`` copies of ``space.edit_empty`` (leaves (n, ...)), the usual starting levels."""
        return jax.tree.map(
            lambda x: jnp.broadcast_to(jnp.asarray(x), (n,) + jnp.shape(x)), self.space.edit_empty
        )

    def built_level(self, state: EditorState) -> Any:
        """The level in ``state`` (after ``num_edits`` steps: the one built). Jittable."""
        return state.level

    def get_obs(self, key: jax.Array, state: EditorState) -> EditorObs:
        return EditorObs(
            image=self.space.edit_observation(state.level),
            noise=jax.random.uniform(key, (self.noise_dim,), jnp.float32),
            time=state.time,
        )

    def reset_to_level(self, key, level, params) -> tuple[EditorObs, EditorState]:
        """Start a design from ``level`` (usually ``space.edit_empty``). Jittable."""
        level = jax.tree.map(
            lambda x, p: jnp.asarray(x, jnp.result_type(p)), level, self.space.placeholder
        )
        state = EditorState(level=level, time=jnp.zeros((), jnp.int32))
        return self.get_obs(key, state), state

    def step(self, key, state: EditorState, action, params):
        """Apply one edit. Returns ``(obs, state, 0.0, terminated, truncated=False, info)``;
        ``terminated`` on the ``num_edits``-th step. Jittable."""
        action = jnp.asarray(action, jnp.int32)
        live = state.time < self.num_edits
        edited = self.space.apply_edit(state.level, action, state.time)
        level = jax.tree.map(lambda a, b: jnp.where(live, a, b), edited, state.level)
        time = jnp.where(live, state.time + 1, state.time).astype(jnp.int32)
        state = EditorState(level=level, time=time)
        terminated = time >= self.num_edits
        reward = jnp.zeros((), jnp.float32)
        return self.get_obs(key, state), state, reward, terminated, jnp.zeros((), bool), {}


def make_editor_env(space: LevelSpace, noise_dim: int = 50) -> EditorEnv:
    """The :class:`EditorEnv` of an editable ``space`` with a ``noise_dim`` noise input."""
    return EditorEnv(space, noise_dim)


def require_editable(space: LevelSpace, caller: str) -> None:
    """``ValueError`` naming the first missing editable field of ``space`` (host-side)."""
    if not isinstance(space, LevelSpace):
        raise TypeError(f"{caller}: expected a ued.LevelSpace, got {type(space).__name__}")
    for f in EDIT_FIELDS:
        if getattr(space, f) is None:
            raise ValueError(
                f"{caller}: level space {space.name!r} is not editable: it has no {f!r} "
                f"(an editable space defines all of {', '.join(EDIT_FIELDS)})"
            )


__all__ = [
    "EditorEnv",
    "EditorObs",
    "EditorParams",
    "EditorState",
    "make_editor_env",
    "require_editable",
]
