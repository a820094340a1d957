"""Scanned rollouts of a batch of environments under an actor-critic.

``rollout`` stores the whole trajectory (for PPO and the curriculum's scores); ``rollout_stats``
keeps only per-environment episode counters in its carry, so evaluating thousands of levels for
thousands of steps costs no trajectory memory.

Both take a ``step_fn(key, env_state, action, env_params) -> (obs, state, reward, terminated,
truncated, info)`` for ONE environment (vmapped here) so that callers can change transitions:
the trainer passes the wrapped env's ``step`` by default, and SAMPLR-style curricula may pass a
function that resamples aleatoric parameters on replayed levels. ``info`` must contain the
``EpisodeStats`` keys (``returned_episode``, ``returned_episode_return``,
``returned_episode_length``, ``returned_episode_solved``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

StepFn = Callable[..., tuple]


@struct.dataclass
class Transition:
    """One scanned rollout, time-major: leaves ``(T, B, ...)``."""

    obs: Any  # observation pytree, leaves (T, B, ...)
    reset: jax.Array  # bool[T, B] obs[t] is the first of an episode
    action: jax.Array  # int32[T, B]
    log_prob: jax.Array  # float32[T, B]
    value: jax.Array  # float32[T, B]
    reward: jax.Array  # float32[T, B]
    terminated: jax.Array  # bool[T, B]
    truncated: jax.Array  # bool[T, B]
    episode_done: jax.Array  # bool[T, B] an episode ended at t
    episode_return: jax.Array  # float32[T, B] its return (where episode_done)
    episode_length: jax.Array  # int32[T, B] its length (where episode_done)
    solved: jax.Array  # bool[T, B] it ended solved (where episode_done)


@struct.dataclass
class RolloutCarry:
    """What a rollout continues from."""

    env_state: Any  # leaves (B, ...)
    obs: Any  # leaves (B, ...)
    carry: Any  # recurrent state of the policy, leaves (B, ...)
    reset: jax.Array  # bool[B] obs starts an episode


def _act(key, logits, greedy: bool):
    if greedy:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    return jax.random.categorical(key, logits).astype(jnp.int32)


def _policy_step(apply_fn, net_params, rc: RolloutCarry):
    obs1 = jax.tree.map(lambda x: x[None], rc.obs)
    carry, logits, value = apply_fn(net_params, rc.carry, obs1, rc.reset[None])
    return carry, logits[0], value[0]


def _env_step(step_fn, key, rc, action, env_params, aux):
    b = action.shape[0]
    keys = jax.random.split(key, b)
    if aux is None:
        return jax.vmap(step_fn, in_axes=(0, 0, 0, None))(keys, rc.env_state, action, env_params)
    # per-environment extra input (e.g. the proposal slice of its level) for step hooks
    return jax.vmap(step_fn, in_axes=(0, 0, 0, None, 0))(
        keys, rc.env_state, action, env_params, aux
    )


def rollout(
    key: jax.Array,
    rc: RolloutCarry,
    net_params: Any,
    env_params: Any,
    *,
    apply_fn: Callable,
    step_fn: StepFn,
    num_steps: int,
    greedy: bool = False,
    step_aux: Any = None,
) -> tuple[RolloutCarry, Transition, jax.Array]:
    """Roll ``B`` environments ``num_steps`` steps. Jittable (``num_steps`` static).

    ``step_aux``: optional pytree with leaves (B, ...); when given, ``step_fn`` is called as
    ``step_fn(key, env_state, action, env_params, aux_i)`` with environment i's slice.

    Returns ``(final carry, trajectory (T, B), last_value float32[B] = V(s_T))``.
    """

    def body(rc: RolloutCarry, k):
        k_act, k_env = jax.random.split(k)
        carry, logits, value = _policy_step(apply_fn, net_params, rc)
        action = _act(k_act, logits, greedy)
        log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], axis=-1)[:, 0]
        obs, es, reward, term, trunc, info = _env_step(
            step_fn, k_env, rc, action, env_params, step_aux
        )
        done = jnp.logical_or(term, trunc)
        tr = Transition(
            obs=rc.obs,
            reset=rc.reset,
            action=action,
            log_prob=log_prob,
            value=value,
            reward=reward.astype(jnp.float32),
            terminated=term.astype(bool),
            truncated=trunc.astype(bool),
            episode_done=info["returned_episode"].astype(bool),
            episode_return=info["returned_episode_return"].astype(jnp.float32),
            episode_length=info["returned_episode_length"].astype(jnp.int32),
            solved=info["returned_episode_solved"].astype(bool),
        )
        return RolloutCarry(es, obs, carry, done), tr

    rc, traj = jax.lax.scan(body, rc, jax.random.split(key, num_steps))
    _, _, last_value = _policy_step(apply_fn, net_params, rc)
    return rc, traj, last_value


@struct.dataclass
class EpisodeCounters:
    """Per-environment episode statistics accumulated over a rollout (leaves (B,))."""

    num_episodes: jax.Array  # int32
    sum_return: jax.Array  # float32
    sum_length: jax.Array  # float32
    num_solved: jax.Array  # int32
    max_return: jax.Array  # float32 (-inf: none finished)
    first_return: jax.Array  # float32 return of the first finished episode (nan: none)
    first_length: jax.Array  # float32
    first_solved: jax.Array  # float32 (nan: none)

    @classmethod
    def zeros(cls, b: int) -> EpisodeCounters:
        zi = jnp.zeros((b,), jnp.int32)
        zf = jnp.zeros((b,), jnp.float32)
        nan = jnp.full((b,), jnp.nan, jnp.float32)
        return cls(zi, zf, zf, zi, jnp.full((b,), -jnp.inf), nan, nan, nan)

    def add(self, done, ret, length, solved) -> EpisodeCounters:
        first = jnp.logical_and(done, self.num_episodes == 0)
        f = lambda new, old: jnp.where(first, new, old)
        return EpisodeCounters(
            num_episodes=self.num_episodes + done.astype(jnp.int32),
            sum_return=self.sum_return + jnp.where(done, ret, 0.0),
            sum_length=self.sum_length + jnp.where(done, length.astype(jnp.float32), 0.0),
            num_solved=self.num_solved + jnp.logical_and(done, solved).astype(jnp.int32),
            max_return=jnp.where(done, jnp.maximum(self.max_return, ret), self.max_return),
            first_return=f(ret, self.first_return),
            first_length=f(length.astype(jnp.float32), self.first_length),
            first_solved=f(solved.astype(jnp.float32), self.first_solved),
        )


def rollout_stats(
    key: jax.Array,
    rc: RolloutCarry,
    net_params: Any,
    env_params: Any,
    *,
    apply_fn: Callable,
    step_fn: StepFn,
    num_steps: int,
    greedy: bool = False,
    step_aux: Any = None,
) -> EpisodeCounters:
    """Like :func:`rollout` but only accumulates :class:`EpisodeCounters`. Jittable."""
    b = rc.reset.shape[0]

    def body(c, k):
        rc, cnt = c
        k_act, k_env = jax.random.split(k)
        carry, logits, _ = _policy_step(apply_fn, net_params, rc)
        action = _act(k_act, logits, greedy)
        obs, es, _, term, trunc, info = _env_step(step_fn, k_env, rc, action, env_params, step_aux)
        cnt = cnt.add(
            info["returned_episode"].astype(bool),
            info["returned_episode_return"].astype(jnp.float32),
            info["returned_episode_length"],
            info["returned_episode_solved"].astype(bool),
        )
        return (RolloutCarry(es, obs, carry, jnp.logical_or(term, trunc)), cnt), None

    (_, cnt), _ = jax.lax.scan(
        body, (rc, EpisodeCounters.zeros(b)), jax.random.split(key, num_steps)
    )
    return cnt


def reset_batch(key: jax.Array, env: Any, levels: Any, env_params: Any, carry: Any) -> RolloutCarry:
    """Reset ``B`` environments to ``levels`` (leaves (B, ...)); every obs starts an episode."""
    b = jax.tree.leaves(levels)[0].shape[0]
    obs, es = jax.vmap(env.reset_to_level, in_axes=(0, 0, None))(
        jax.random.split(key, b), levels, env_params
    )
    return RolloutCarry(env_state=es, obs=obs, carry=carry, reset=jnp.ones((b,), bool))


__all__ = [
    "EpisodeCounters",
    "RolloutCarry",
    "Transition",
    "reset_batch",
    "rollout",
    "rollout_stats",
]
