"""Beta-Bernoulli maths and analytic posteriors of binary aleatoric outcomes.

The ground-truth posteriors of the built-in aleatoric spaces: a Beta prior over a Bernoulli
probability (Beta-Binomial counts, the predictive of the next outcome, an exact sampler for
integer parameters) and a coin seen through a noisy cue. All jittable except
:func:`beta_binomial_pmf` (host, NumPy/SciPy).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Key = jax.Array
Array = jax.Array


def beta_binomial_pmf(k: Any, n: int, a: float, b: float) -> np.ndarray:
    """P(K = k) for K ~ Beta-Binomial(n, a, b) (NumPy, host). float64 like ``k``."""
    # math.lgamma keeps ``ued`` free of scipy (its allowed imports: jax, flax, optax, chex, numpy)
    gammaln = np.vectorize(math.lgamma, otypes=[np.float64])
    betaln = lambda x, y: gammaln(x) + gammaln(y) - gammaln(x + y)
    k = np.asarray(k, np.float64)
    log_c = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.exp(log_c + betaln(k + a, n - k + b) - betaln(a, b))


def beta_bernoulli_predictive(n: Array, k: Array, a: float, b: float) -> Array:
    """P(next = 1 | k ones in n Bernoulli(theta) trials), theta ~ Beta(a, b): float32[]."""
    n = jnp.asarray(n, jnp.float32)
    k = jnp.asarray(k, jnp.float32)
    return ((a + k) / (a + b + n)).astype(jnp.float32)


def beta_integer(key: Key, a: Array, b: Array, max_count: int) -> Array:
    """One exact Beta(a, b) draw for integer ``1 <= a, b <= max_count``: float32[]. Jittable.

    Gamma(n) is a sum of n unit exponentials and Beta(a, b) = Ga / (Ga + Gb); this costs
    ``2 * max_count`` uniforms and no rejection loop, so it compiles and runs much faster than
    ``jax.random.beta`` (the Beta posteriors of Bernoulli counts always have integer parameters
    when the prior's are integers).
    """
    e = -jnp.log(jax.random.uniform(key, (2, max_count), jnp.float32, 1e-20, 1.0))
    i = jnp.arange(max_count)
    ga = jnp.sum(jnp.where(i < jnp.asarray(a, jnp.int32), e[0], 0.0))
    gb = jnp.sum(jnp.where(i < jnp.asarray(b, jnp.int32), e[1], 0.0))
    return (ga / (ga + gb)).astype(jnp.float32)


def noisy_cue_posterior(prior: float, accuracy: float, seen: Array, says_one: Array) -> Array:
    """P(coin = 1 | cue) for coin ~ Bernoulli(prior) and a cue equal to the coin w.p. accuracy.

    ``seen`` False: the prior. Jittable; float32[].
    """
    like1 = jnp.where(says_one, accuracy, 1.0 - accuracy)
    like0 = jnp.where(says_one, 1.0 - accuracy, accuracy)
    post = prior * like1 / (prior * like1 + (1.0 - prior) * like0)
    return jnp.where(seen, post, prior).astype(jnp.float32)


__all__ = [
    "beta_bernoulli_predictive",
    "beta_binomial_pmf",
    "beta_integer",
    "noisy_cue_posterior",
]
