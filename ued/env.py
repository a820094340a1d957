"""The environment contract (gymnax's order, observation first) and tiny space descriptors.

An environment is an object with two pure methods::

    reset_to_level(key, level, params) -> (obs, state)
    step(key, state, action, params)   -> (obs, state, reward, terminated, truncated, info)

``terminated`` means the MDP ended (e.g. goal reached: do not bootstrap); ``truncated`` means
the time limit cut it (bootstrap). ``info`` is a dict of per-step arrays; environments that know
whether an episode was *solved* put ``info["solved"]`` (bool) there.

Steps never reset by themselves: resetting is the job of the wrappers in ``ued.wrappers``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Discrete:
    """``n`` discrete actions ``0 .. n-1`` (int32)."""

    n: int

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, (), 0, self.n, dtype=jnp.int32)

    @property
    def shape(self) -> tuple[int, ...]:
        return ()

    @property
    def dtype(self):
        return jnp.int32


@dataclasses.dataclass(frozen=True)
class Box:
    """A box of floats of a static ``shape`` between ``low`` and ``high``."""

    low: Any
    high: Any
    shape: tuple[int, ...]
    dtype: Any = jnp.float32

    def sample(self, key: jax.Array) -> jax.Array:
        low = jnp.broadcast_to(jnp.asarray(self.low, self.dtype), self.shape)
        high = jnp.broadcast_to(jnp.asarray(self.high, self.dtype), self.shape)
        lo = jnp.where(jnp.isfinite(low), low, -1.0)
        hi = jnp.where(jnp.isfinite(high), high, 1.0)
        return jax.random.uniform(key, self.shape, self.dtype, lo, hi)


class Environment:
    """Base class of an underspecified environment (a UPOMDP whose free parameters are a level).

    Subclasses implement :meth:`reset_to_level`, :meth:`step`, :meth:`action_space` and
    :meth:`default_params`. Every method is pure and jittable; ``self`` holds only static
    configuration (shapes, flags).
    """

    @property
    def default_params(self) -> Any:
        raise NotImplementedError

    def reset_to_level(self, key: jax.Array, level: Any, params: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def step(self, key: jax.Array, state: Any, action: jax.Array, params: Any):
        raise NotImplementedError

    def action_space(self, params: Any = None) -> Discrete | Box:
        raise NotImplementedError

    def observation_space(self, params: Any = None) -> Any:
        """Pytree of ``Box`` descriptors; by default derived by tracing one reset."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def unwrapped(self) -> Environment:
        """The innermost environment (itself; wrappers return the one they wrap, recursively)."""
        return self

    def base_state(self, state: Any) -> Any:
        """The innermost environment's state inside ``state`` (itself here; wrappers unwrap
        theirs), e.g. for rendering a wrapped rollout's states. Jittable."""
        return state


def tree_select(pred: jax.Array, on_true: Any, on_false: Any) -> Any:
    """Leafwise ``where(pred, a, b)`` for a scalar or batch-leading ``pred``. Jittable."""

    def sel(a, b):
        p = jnp.reshape(pred, jnp.shape(pred) + (1,) * (jnp.ndim(a) - jnp.ndim(pred)))
        return jnp.where(p, a, b)

    return jax.tree.map(sel, on_true, on_false)


def obs_spec(env: Environment, level: Any, params: Any) -> Any:
    """Shapes/dtypes of one observation (``jax.ShapeDtypeStruct`` pytree), by abstract tracing."""
    out = jax.eval_shape(lambda k: env.reset_to_level(k, level, params)[0], jax.random.key(0))
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype), out)


__all__ = ["Box", "Discrete", "Environment", "obs_spec", "tree_select"]
