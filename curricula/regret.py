"""Regret estimates and the teacher's rewards of PAIRED and its relatives, per level: pure,
jittable functions of the students' returns (``float32[B]``, ``float32[N, B]`` for N students).
A return over no finished episode (non-finite) counts 0, as in minimax."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def finite_or_zero(x: jax.Array) -> jax.Array:
    """float32: ``x`` where finite, else 0 (a return over no finished episode counts 0)."""
    x = jnp.asarray(x, jnp.float32)
    return jnp.where(jnp.isfinite(x), x, 0.0)


def estimated_regret(
    antagonist_max_return: jax.Array, protagonist_mean_return: jax.Array, clip: bool = False
) -> jax.Array:
    """PAIRED's regret estimate per level, float32[B]: the antagonist's max return - the
    protagonist's mean return (non-finite returns count 0); ``clip``: at least 0."""
    r = finite_or_zero(antagonist_max_return) - finite_or_zero(protagonist_mean_return)
    return jnp.maximum(r, 0.0) if clip else r


def population_regret(max_returns: jax.Array, mean_returns: jax.Array) -> jax.Array:
    """Population PAIRED's regret per level, float32[B], from float32[N, B] per-student returns
    (N >= 2): the best student's max return - the mean of the other N - 1 students' mean returns.
    The best student is the one with the highest max return on that level (the first on ties);
    non-finite returns count 0. With N = 2 this is PAIRED's estimated regret with the better
    student as the antagonist."""
    mx = finite_or_zero(max_returns)
    mean = finite_or_zero(mean_returns)
    n = mx.shape[0]
    best = jnp.argmax(mx, axis=0)  # int32[B]
    others = jnp.arange(n)[:, None] != best[None, :]  # bool[N, B]
    rest = jnp.where(others, mean, 0.0).sum(0) / (n - 1)
    return (jnp.take_along_axis(mx, best[None], 0)[0] - rest).astype(jnp.float32)


def true_regret(optimal_return: jax.Array, protagonist_mean_return: jax.Array) -> jax.Array:
    """True regret per level, float32[B]: the optimal return - the protagonist's mean return."""
    return finite_or_zero(optimal_return) - finite_or_zero(protagonist_mean_return)


def minimax_reward(protagonist_mean_return: jax.Array) -> jax.Array:
    """The minimax adversary's reward per level, float32[B]: the protagonist's negative mean
    return (non-finite counts 0)."""
    return -finite_or_zero(protagonist_mean_return)


def teacher_rewards(final_reward: jax.Array, num_steps: int) -> jax.Array:
    """float32[num_steps, B]: 0 everywhere but the last step, which gets ``final_reward``."""
    r = jnp.asarray(final_reward, jnp.float32)
    return jnp.zeros((num_steps,) + r.shape, jnp.float32).at[-1].set(r)


__all__ = [
    "estimated_regret",
    "finite_or_zero",
    "minimax_reward",
    "population_regret",
    "teacher_rewards",
    "true_regret",
]
