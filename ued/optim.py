"""The learners' optimiser: ``clip_by_global_norm -> scale_by_adam`` with the learning rate
applied outside optax, so it can be a traced, per-run number (vmapped over a population of
learners, swept, annealed by the caller) without rebuilding the transformation.

Adam-Rel (Ellis et al., NeurIPS 2024, "Adam on local time") is the same transform with Adam's
step count set back to 0 at the start of each PPO batch (before the epochs), keeping the moment
estimates; since optax bias-corrects with ``count + 1`` the first step after the reset uses
``tau = 1``. See :func:`reset_adam_count`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax


def make_adam(max_grad_norm: float | None = 0.5, eps: float = 1e-5) -> optax.GradientTransformation:
    """``clip_by_global_norm(max_grad_norm) -> scale_by_adam(eps)``; no clip when ``None``.

    The result is a direction; :func:`apply_step` scales it by the learning rate.
    """
    adam = optax.scale_by_adam(eps=eps)
    if max_grad_norm is None:
        return adam
    return optax.chain(optax.clip_by_global_norm(max_grad_norm), adam)


def apply_step(
    tx: optax.GradientTransformation, grads: Any, opt_state: Any, params: Any, lr: jax.Array
) -> tuple[Any, Any]:
    """One descent step ``params - lr * tx(grads)``. ``lr``: float32[] (may be traced).

    Returns ``(params, opt_state)``. Jittable.
    """
    upd, opt_state = tx.update(grads, opt_state, params)
    return jax.tree.map(lambda p, u: p - lr * u, params, upd), opt_state


def reset_adam_count(opt_state: Any) -> Any:
    """Adam-Rel: set every ``ScaleByAdamState.count`` to 0, keeping ``mu`` and ``nu``. Jittable."""
    is_adam = lambda s: isinstance(s, optax.ScaleByAdamState)
    return jax.tree.map(
        lambda s: s._replace(count=jnp.zeros_like(s.count)) if is_adam(s) else s,
        opt_state,
        is_leaf=is_adam,
    )


def linear_schedule(lr: jax.Array, anneal_steps: jax.Array, step: jax.Array) -> jax.Array:
    """``lr`` decayed linearly to 0 over ``anneal_steps`` steps; constant when it is 0.

    All arguments may be traced scalars (float32[] / int32[]). Returns float32[].
    """
    lr = jnp.asarray(lr, jnp.float32)
    anneal = jnp.asarray(anneal_steps, jnp.float32)
    frac = jnp.clip(1.0 - step.astype(jnp.float32) / jnp.maximum(anneal, 1.0), 0.0, 1.0)
    return jnp.where(anneal > 0, lr * frac, lr)


__all__ = ["apply_step", "linear_schedule", "make_adam", "reset_adam_count"]
