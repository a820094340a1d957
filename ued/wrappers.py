"""Wrappers over the environment contract: auto-reset (same level or fresh level) and stats.

All wrappers are environments themselves (same two methods), so they compose::

    env = EpisodeStats(AutoReplay(MazeEnv()))

``AutoReplay`` is what PLR needs: when an episode ends on a replayed level, the next episode
starts on *that same level* (never on a random one, which would credit the replayed level's
score with episodes of other levels). ``AutoResetFresh`` is domain randomisation: each new
episode gets a freshly sampled level.

On the step where an episode ends, the returned observation is the first observation of the next
episode (gymnax convention), and ``terminated`` / ``truncated`` / ``reward`` describe the episode
that just ended. That rule is :func:`auto_reset`, the toolkit's one auto-reset: these wrappers and
the gymnax-style views of other environments (``meta.synthetic.SynthGymnaxEnv``, the Brax
targets of ``meta.synth``) step through it, the latter with gymnax's ``info``
(``final_observation``, ``terminated``, ``truncated``, ``discount``).

Accessors, so that no caller reaches through wrapper states by hand: ``wrapped.unwrapped`` is
the innermost environment, ``wrapped.base_state(state)`` its state inside a wrapped state (what a
renderer draws), and ``wrapped.with_base_env(other)`` the same chain of wrappers around another
environment (SAMPLR swaps in fictitious transitions under the trainer's wrappers that way).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ued.env import Environment, tree_select


def auto_reset(
    key_step: jax.Array,
    key_reset: jax.Array,
    step: Callable[[jax.Array], tuple],
    reset: Callable[[jax.Array], tuple],
    *,
    gymnax_info: bool = False,
) -> tuple:
    """One step of ONE environment that starts the next episode where this one ends.

    ``step(key_step) -> (obs, state, reward, terminated, truncated, info)`` steps the running
    episode; ``reset(key_reset) -> (obs, state)`` starts a fresh one. Where ``terminated |
    truncated``, the returned observation and state are the fresh episode's; ``reward``,
    ``terminated``, ``truncated`` describe the step taken. The caller splits the keys (each
    environment keeps its own key stream). ``gymnax_info``: ``info`` is gymnax 1.x's
    ``{"terminated", "truncated", "final_observation" (the observation the step led to, before
    the reset), "discount" (float32, 0 where terminated)}`` instead of the step's own ``info``.
    Returns ``(obs, state, reward, terminated, truncated, info)``. Jittable.
    """
    obs, s, reward, term, trunc, info = step(key_step)
    done = jnp.logical_or(term, trunc)
    obs_r, s_r = reset(key_reset)
    if gymnax_info:
        info = {
            "terminated": term,
            "truncated": trunc,
            "final_observation": obs,
            "discount": 1.0 - jnp.asarray(term).astype(jnp.float32),
        }
    return tree_select(done, obs_r, obs), tree_select(done, s_r, s), reward, term, trunc, info


@struct.dataclass
class AutoResetState:
    env_state: Any  # the inner environment's state
    level: Any  # the level the current episode runs on


class Wrapper(Environment):
    """An environment around ``self.env``: forwards params and spaces; subclasses override
    ``reset_to_level`` / ``step``."""

    def __init__(self, env: Environment):
        self.env = env

    @property
    def default_params(self):
        return self.env.default_params

    def action_space(self, params=None):
        return self.env.action_space(params)

    def observation_space(self, params=None):
        return self.env.observation_space(params)

    @property
    def name(self) -> str:
        return f"{type(self).__name__}({self.env.name})"

    @property
    def unwrapped(self) -> Environment:
        return self.env.unwrapped

    def inner_state(self, state: Any) -> Any:
        """The wrapped environment's state inside this wrapper's ``state`` (``state.env_state``;
        a wrapper whose state is its inner env's own state returns ``state``). Jittable."""
        return state.env_state

    def base_state(self, state: Any) -> Any:
        return self.env.base_state(self.inner_state(state))

    def with_base_env(self, env: Environment) -> Wrapper:
        """This chain of wrappers (same classes and settings) around ``env`` instead of
        :attr:`unwrapped`. Host-side; the result's states have the same structure whenever
        ``env``'s states have the structure of the replaced environment's."""
        new = copy.copy(self)
        new.env = self.env.with_base_env(env) if isinstance(self.env, Wrapper) else env
        return new


class AutoReplay(Wrapper):
    """Reset to the same level whenever an episode ends (terminated or truncated)."""

    def reset_to_level(self, key, level, params):
        obs, s = self.env.reset_to_level(key, level, params)
        return obs, AutoResetState(env_state=s, level=level)

    def step(self, key, state: AutoResetState, action, params):
        k_step, k_reset = jax.random.split(key)
        obs, s, reward, term, trunc, info = auto_reset(
            k_step,
            k_reset,
            lambda k: self.env.step(k, state.env_state, action, params),
            lambda k: self.env.reset_to_level(k, state.level, params),
        )
        return obs, AutoResetState(env_state=s, level=state.level), reward, term, trunc, info


class AutoResetFresh(Wrapper):
    """Reset to a freshly sampled level (``sample_level(key) -> level``) when an episode ends."""

    def __init__(self, env: Environment, sample_level: Callable[[jax.Array], Any]):
        self.env = env
        self.sample_level = sample_level

    def reset_to_level(self, key, level, params):
        obs, s = self.env.reset_to_level(key, level, params)
        return obs, AutoResetState(env_state=s, level=level)

    def step(self, key, state: AutoResetState, action, params):
        k_step, k_level, k_reset = jax.random.split(key, 3)
        new_level = self.sample_level(k_level)
        obs, s, reward, term, trunc, info = auto_reset(
            k_step,
            k_reset,
            lambda k: self.env.step(k, state.env_state, action, params),
            lambda k: self.env.reset_to_level(k, new_level, params),
        )
        level = tree_select(jnp.logical_or(term, trunc), new_level, state.level)
        return obs, AutoResetState(env_state=s, level=level), reward, term, trunc, info


@struct.dataclass
class EpisodeStatsState:
    env_state: Any
    episode_return: jax.Array  # float32[] running return of the current episode
    episode_length: jax.Array  # int32[] steps so far in the current episode


class EpisodeStats(Wrapper):
    """Track the running return and length; report them in ``info`` when an episode ends.

    Adds to ``info`` (all per step): ``returned_episode`` (bool, an episode ended here),
    ``returned_episode_return`` (float32), ``returned_episode_length`` (int32) and
    ``returned_episode_solved`` (bool: ``info["solved"]`` if the env provides it, else
    ``terminated``). Values are only meaningful where ``returned_episode`` is true.
    """

    def reset_to_level(self, key, level, params):
        obs, s = self.env.reset_to_level(key, level, params)
        return obs, EpisodeStatsState(s, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def step(self, key, state: EpisodeStatsState, action, params):
        obs, s, reward, term, trunc, info = self.env.step(key, state.env_state, action, params)
        done = jnp.logical_or(term, trunc)
        ret = state.episode_return + reward.astype(jnp.float32)
        length = state.episode_length + 1
        info = dict(info)
        info["returned_episode"] = done
        info["returned_episode_return"] = ret
        info["returned_episode_length"] = length
        info["returned_episode_solved"] = jnp.logical_and(
            done, jnp.asarray(info.get("solved", term), bool)
        )
        new = EpisodeStatsState(
            s, jnp.where(done, 0.0, ret).astype(jnp.float32), jnp.where(done, 0, length)
        )
        return obs, new, reward, term, trunc, info
