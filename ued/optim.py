"""The learners' optimiser: ``clip_by_global_norm -> scale_by_adam`` with the learning rate
applied outside optax, so it can be a traced, per-run number (vmapped over a population of
learners, swept, annealed by the caller) without rebuilding the transformation.

Adam-Rel (Ellis et al., NeurIPS 2024, "Adam on local time") is the same transform with Adam's
step count set back to 0 at the start of each PPO batch (before the epochs), keeping the moment
estimates; since optax bias-corrects with ``count + 1`` the first step after the reset uses
``tau = 1``. See :func:`reset_adam_count`.

:func:`scale_by_tiada` is the primal (minimising) player's transform of TiAda (Li, Yang & He,
ICLR 2023, "TiAda: a time-scale adaptive algorithm for nonconvex minimax optimization") in its
Adam form: a learner coupled to a dual player (NCC's level distribution, ``curricula.ncc``)
divides its step by ``max(v_x, v_y)^alpha`` and so reads the dual player's accumulated squared
gradient norm ``v_y`` at every step; it arrives as the ``dual_sq_norm`` extra argument of
``update`` (:func:`apply_step` passes a learner's extra arguments on).
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
    tx: optax.GradientTransformation,
    grads: Any,
    opt_state: Any,
    params: Any,
    lr: jax.Array,
    **extra_args: Any,
) -> tuple[Any, Any]:
    """One descent step ``params - lr * tx(grads)``. ``lr``: float32[] (may be traced).

    ``extra_args``: dynamic inputs of the transformation's ``update`` (optax's
    ``GradientTransformationExtraArgs``; e.g. :func:`scale_by_tiada`'s ``dual_sq_norm``); with
    none, ``tx.update`` is called exactly as before. Returns ``(params, opt_state)``. Jittable.
    """
    upd, opt_state = tx.update(grads, opt_state, params, **extra_args)
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


class ScaleByTiAdaState(NamedTuple):
    """State of :func:`scale_by_tiada`."""

    mu: Any  # first moment (EMA of gradients), like params
    nu: Any  # second moment (EMA of squared gradients), like params
    b1_pow: jax.Array  # float32[] b1^t
    b2_pow: jax.Array  # float32[] b2^t


def scale_by_tiada(
    alpha: float = 0.6, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-5
) -> optax.GradientTransformationExtraArgs:
    """TiAda's primal transform, Adam form, as NCC's published code computes it (the
    ``scale_x_by_ti_ada`` of nmonette/NCC-UED, craftax/ and xland/ ``ncc_utils.py``). Per step,
    elementwise (all leaves of the gradient ``g``)::

        m <- b1 m + (1 - b1) g            v <- b2 v + (1 - b2) g^2
        v_x = sum(v) over every leaf       v_y = dual_sq_norm (0 when not given)
        ratio = v_x^alpha / max(v_x, v_y)^alpha
        out = ratio * (m / (1 - b1^t)) / (v^alpha / sqrt(1 - b2^t) + eps)

    so the step is Adam-like with exponent ``alpha`` and is divided further by
    ``(v_y / v_x)^alpha`` whenever the dual player's accumulated squared gradient norm ``v_y``
    exceeds the learner's own (TiAda's ``max(v_x, v_y)``: the learner slows down until the dual
    player has caught up). The learning rate is applied outside (:func:`apply_step`).

    ``dual_sq_norm``: float32[] extra argument of ``update`` (may be traced). Defaults as
    published: ``alpha=0.6, b1=0.9, b2=0.999, eps=1e-5``. One guard the published code lacks:
    when ``v_x`` and ``v_y`` are both 0 (an all-zero gradient history) the ratio is 1 instead
    of ``0 / 0``. Jittable.
    """

    def init(params):
        zeros = jax.tree.map(lambda p: jnp.zeros_like(p, jnp.float32), params)
        one = jnp.ones((), jnp.float32)
        return ScaleByTiAdaState(zeros, zeros, one, one)

    def update(updates, state, params=None, *, dual_sq_norm=None, **extra_args):
        del params, extra_args
        mu = jax.tree.map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mu, updates)
        nu = jax.tree.map(lambda v, g: b2 * v + (1.0 - b2) * jnp.square(g), state.nu, updates)
        p1, p2 = state.b1_pow * b1, state.b2_pow * b2
        v_x = sum(jnp.sum(v) for v in jax.tree.leaves(nu))
        v_y = jnp.zeros((), jnp.float32) if dual_sq_norm is None else dual_sq_norm
        top = jnp.maximum(v_x, v_y)
        ratio = jnp.where(top > 0, v_x**alpha / jnp.where(top > 0, top, 1.0) ** alpha, 1.0)
        c2 = jnp.sqrt(1.0 - p2)
        out = jax.tree.map(
            lambda m, v: ratio * (m / (1.0 - p1)) / (v**alpha / c2 + eps), mu, nu
        )
        return out, ScaleByTiAdaState(mu, nu, p1, p2)

    return optax.GradientTransformationExtraArgs(init, update)


__all__ = [
    "ScaleByTiAdaState",
    "apply_step",
    "linear_schedule",
    "make_adam",
    "reset_adam_count",
    "scale_by_tiada",
]
