"""Real environments that HaDES distils behaviour for, by short name.

A :class:`Target` wraps a gymnax environment (or a Brax one, behind the ``brax`` extra) in
three pure functions with a single signature (``reset``, ``step`` returning ``done``) plus the
static facts HaDES needs: observation shape, discrete or continuous actions, constant
observation normalisation and the episode length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

GYMNAX_TARGETS = {
    "cartpole": "CartPole-v1",
    "acrobot": "Acrobot-v1",
    "mountain-car": "MountainCar-v0",
    "pendulum": "Pendulum-v1",
    "breakout": "Breakout-MinAtar",
    "asterix": "Asterix-MinAtar",
    "freeway": "Freeway-MinAtar",
    "space-invaders": "SpaceInvaders-MinAtar",
}
BRAX_TARGETS = {"hopper": "hopper", "walker2d": "walker2d", "halfcheetah": "halfcheetah"}
TARGETS = tuple(GYMNAX_TARGETS) + tuple(BRAX_TARGETS)

# Constant observation normalisation: the policy sees (obs - mean) / scale, and distilled
# states live in that normalised space, so one ES std fits every target. Rough scales of
# the states a good policy visits (not fitted statistics).
_NORMALISATION = {
    "cartpole": ((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 0.2, 1.0)),
    "acrobot": ((0.0,) * 6, (1.0, 1.0, 1.0, 1.0, 2.0, 4.0)),
    "mountain-car": ((-0.4, 0.0), (0.5, 0.035)),
    "pendulum": ((0.0, 0.0, 0.0), (1.0, 1.0, 4.0)),
}


@dataclasses.dataclass(frozen=True)
class Target:
    """A real environment for HaDES (static facts + pure functions).

    ``reset(key) -> (obs, state)``; ``step(key, state, action) -> (obs, state, reward, done)``
    with ``obs`` float32 of ``obs_shape``, ``reward`` float32[], ``done`` bool[] (terminated or
    truncated; gymnax auto-resets after it, the rollout stops counting at the first one).
    Actions: int32[] for discrete targets, float32[action_dim] in [low, high] otherwise.
    """

    name: str
    env_id: str
    obs_shape: tuple[int, ...]
    discrete: bool
    action_dim: int  # number of actions (discrete) or action dimensions (continuous)
    action_low: float
    action_high: float
    obs_mean: tuple[float, ...] | float
    obs_scale: tuple[float, ...] | float
    max_steps: int  # episode length limit of the environment
    image: bool  # observations are (H, W, C) images (MinAtar)
    reset: Callable[[jax.Array], tuple[jax.Array, Any]]
    step: Callable[[jax.Array, Any, jax.Array], tuple[jax.Array, Any, jax.Array, jax.Array]]

    def normalise(self, obs: jax.Array) -> jax.Array:
        """Raw observation(s) ``(..., *obs_shape)`` -> the normalised space of datasets."""
        mean = jnp.asarray(self.obs_mean, jnp.float32)
        scale = jnp.asarray(self.obs_scale, jnp.float32)
        return (obs.astype(jnp.float32) - mean) / scale


def _gymnax_target(name: str) -> Target:
    import gymnax

    env_id = GYMNAX_TARGETS[name]
    env, env_params = gymnax.make(env_id)
    space = env.action_space(env_params)
    discrete = hasattr(space, "n")
    obs, _ = env.reset(jax.random.key(0), env_params)
    if discrete:
        action_dim, low, high = int(space.n), 0.0, float(space.n - 1)
    else:
        action_dim = int(space.shape[0]) if space.shape else 1
        low, high = float(jnp.min(space.low)), float(jnp.max(space.high))
    mean, scale = _NORMALISATION.get(name, (0.0, 1.0))

    def reset(key):
        obs, state = env.reset(key, env_params)
        return obs.astype(jnp.float32), state

    def step(key, state, action):
        if not discrete and not space.shape:
            action = action[0]  # Pendulum's Box has shape () in some gymnax versions
        obs, state, reward, terminated, truncated, _ = env.step(key, state, action, env_params)
        done = jnp.logical_or(terminated, truncated)
        return obs.astype(jnp.float32), state, jnp.asarray(reward, jnp.float32), done

    return Target(
        name=name,
        env_id=env_id,
        obs_shape=tuple(obs.shape),
        discrete=discrete,
        action_dim=action_dim,
        action_low=low,
        action_high=high,
        obs_mean=mean,
        obs_scale=scale,
        max_steps=int(env_params.max_steps_in_episode),
        image=obs.ndim == 3,
        reset=reset,
        step=step,
    )


def _brax_target(name: str) -> Target:
    try:
        from brax import envs as brax_envs
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise ImportError(
            f"target {name!r} needs Brax, which is not installed; install the extra with "
            "`pip install 'openued[brax]'` (or `pip install brax`)"
        ) from e
    # Untested here (brax is not installed on the development machine); the positional
    # backend is the fastest CPU-capable one for these bodies.
    env = brax_envs.get_environment(BRAX_TARGETS[name], backend="positional")
    max_steps = 1000
    s0 = env.reset(jax.random.key(0))

    def reset(key):
        state = env.reset(key)
        return state.obs.astype(jnp.float32), (state, jnp.zeros((), jnp.int32))

    def step(key, carry, action):
        state, t = carry
        state = env.step(state, action)
        t = t + 1
        done = jnp.logical_or(state.done > 0, t >= max_steps)
        return state.obs.astype(jnp.float32), (state, t), state.reward.astype(jnp.float32), done

    return Target(
        name=name,
        env_id=f"brax/{BRAX_TARGETS[name]}",
        obs_shape=tuple(s0.obs.shape),
        discrete=False,
        action_dim=int(env.action_size),
        action_low=-1.0,
        action_high=1.0,
        obs_mean=0.0,
        obs_scale=1.0,
        max_steps=max_steps,
        image=False,
        reset=reset,
        step=step,
    )


_CACHE: dict[str, Target] = {}


def make_target(name: str) -> Target:
    """The :class:`Target` for a short name in ``TARGETS`` (host-only; cached).

    Raises ``ValueError`` for unknown names and ``ImportError`` with install instructions for
    Brax targets when brax is missing.
    """
    if name not in TARGETS:
        raise ValueError(f"target: unknown target {name!r}; allowed: {', '.join(TARGETS)}")
    if name not in _CACHE:
        _CACHE[name] = _brax_target(name) if name in BRAX_TARGETS else _gymnax_target(name)
    return _CACHE[name]
