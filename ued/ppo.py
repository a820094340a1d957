"""PPO for the student: GAE (terminated vs truncated), the clipped loss, masked minibatch updates,
and the Adam / Adam-Rel optimisers.

Conventions (time-major, ``T`` steps x ``B`` environments):

* ``terminated[t]``: the MDP ended after action ``t`` (goal reached): no bootstrap.
* ``truncated[t]``: the time limit cut the episode after action ``t``: bootstrap from the value of
  the state the agent was in. With auto-reset wrappers the post-truncation observation is never
  seen (the next observation already belongs to the next episode), so the bootstrap value used
  on a truncated step is ``V(s_t)`` itself, the closest estimate available (documented choice).
* Both end the GAE trace: advantages never leak across episodes.
* The last step of a rollout that is neither bootstraps from ``last_value = V(s_T)``.

The optimiser is ``clip_by_global_norm -> scale_by_adam``; the learning rate (linearly annealed)
is applied outside so it can depend on the student's update count without rebuilding optax.
Adam-Rel (Ellis et al., NeurIPS 2024, "Adam on local time") is the same transform with Adam's
step count set back to 0 at the start of each PPO batch (before the epochs), keeping the moment
estimates; since optax bias-corrects with ``count + 1`` the first step after the reset uses
``tau = 1``. See :func:`reset_adam_count`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

OPTIMIZERS = ("adam", "adam-rel")


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """Static PPO settings (defaults: the published maze settings of jaxued / minimax).

    Attributes:
      num_epochs: passes over each rollout batch.
      num_minibatches: minibatches per epoch, split along the environment axis (recurrent nets
        need whole sequences), so it must divide the number of environments.
      lr: initial learning rate.
      lr_anneal_updates: the learning rate decays linearly from ``lr`` to 0 over this many
        student updates (gradient batches actually applied); 0 keeps it constant. Its own field,
        independent of the run length, so extending a run never changes its past.
      max_grad_norm: global gradient-norm clip.
      optimizer: ``"adam"`` or ``"adam-rel"`` (Adam's step count restarts at each PPO batch).
      adam_eps: Adam's epsilon.
      normalize_advantages: standardise advantages over the (masked) minibatch.
    """

    num_epochs: int = 5
    num_minibatches: int = 1
    lr: float = 1e-4
    lr_anneal_updates: int = 30_000
    max_grad_norm: float = 0.5
    optimizer: str = "adam"
    adam_eps: float = 1e-5
    normalize_advantages: bool = True

    def __post_init__(self) -> None:
        for name in ("num_epochs", "num_minibatches"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"PPOConfig.{name} must be an integer >= 1, got {v!r}")
        if not isinstance(self.lr_anneal_updates, int) or self.lr_anneal_updates < 0:
            raise ValueError(
                f"PPOConfig.lr_anneal_updates must be an integer >= 0, got {self.lr_anneal_updates!r}"
            )
        if not self.lr > 0:
            raise ValueError(f"PPOConfig.lr must be > 0, got {self.lr!r}")
        if not self.max_grad_norm > 0:
            raise ValueError(f"PPOConfig.max_grad_norm must be > 0, got {self.max_grad_norm!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"PPOConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"
            )


@struct.dataclass
class PPOParams:
    """Dynamic PPO numbers (vmappable, sweepable)."""

    gamma: jax.Array | float = 0.995
    gae_lambda: jax.Array | float = 0.98
    clip_eps: jax.Array | float = 0.2
    vf_coef: jax.Array | float = 0.5
    ent_coef: jax.Array | float = 1e-3


@struct.dataclass
class StudentState:
    """The student's learnable state."""

    params: Any
    opt_state: Any
    num_updates: jax.Array  # int32[] gradient batches applied so far (drives the lr schedule)


def gae(
    reward: jax.Array,
    value: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    last_value: jax.Array,
    gamma: jax.Array | float,
    gae_lambda: jax.Array | float,
) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimation. Jittable.

    Args:
      reward, value: float32[T, B]; ``value[t] = V(s_t)``.
      terminated, truncated: bool[T, B] for the step taken at ``t``.
      last_value: float32[B], ``V(s_T)`` for bootstrapping at the rollout boundary.

    Returns:
      (advantage float32[T, B], target float32[T, B] = advantage + value).
    """
    reward = reward.astype(jnp.float32)
    value = value.astype(jnp.float32)
    terminated = terminated.astype(bool)
    truncated = truncated.astype(bool)
    done = jnp.logical_or(terminated, truncated)
    next_value = jnp.concatenate([value[1:], last_value[None].astype(jnp.float32)], axis=0)
    # the observation after a done step belongs to the next episode: on truncation bootstrap
    # from V(s_t) (the post-truncation state is never observed); on termination not at all.
    next_value = jnp.where(truncated, value, next_value)
    next_value = jnp.where(terminated, 0.0, next_value)
    delta = reward + gamma * next_value - value
    cont = 1.0 - done.astype(jnp.float32)

    def body(acc, x):
        d, c = x
        acc = d + gamma * gae_lambda * c * acc
        return acc, acc

    _, adv = jax.lax.scan(
        body, jnp.zeros_like(last_value, jnp.float32), (delta, cont), reverse=True
    )
    return adv, adv + value


def _masked_mean(x: jax.Array, mask: jax.Array) -> jax.Array:
    m = mask.astype(jnp.float32)
    return jnp.sum(x * m) / jnp.maximum(jnp.sum(m), 1.0)


class LossInfo(NamedTuple):
    loss: jax.Array
    pg_loss: jax.Array
    value_loss: jax.Array
    entropy: jax.Array
    approx_kl: jax.Array
    clip_frac: jax.Array


def ppo_loss(
    logits: jax.Array,
    value: jax.Array,
    action: jax.Array,
    old_log_prob: jax.Array,
    old_value: jax.Array,
    advantage: jax.Array,
    target: jax.Array,
    mask: jax.Array,
    params: PPOParams,
    normalize_advantages: bool = True,
) -> LossInfo:
    """Clipped PPO loss with value clipping and an entropy bonus, averaged over ``mask``.

    All inputs have the same leading shape ``S`` (e.g. ``(T, B)``); ``logits`` is ``S + (A,)``.
    ``loss = pg_loss + vf_coef * value_loss - ent_coef * entropy`` where
    ``value_loss = 0.5 * mean(max((v - R)^2, (v_clip - R)^2))``. Jittable.
    """
    mask = mask.astype(jnp.float32)
    logp_all = jax.nn.log_softmax(logits)
    logp = jnp.take_along_axis(logp_all, action[..., None].astype(jnp.int32), axis=-1)[..., 0]
    entropy = -jnp.sum(jnp.exp(logp_all) * logp_all, axis=-1)
    adv = advantage
    if normalize_advantages:
        mu = _masked_mean(adv, mask)
        var = _masked_mean((adv - mu) ** 2, mask)
        adv = (adv - mu) / (jnp.sqrt(var) + 1e-8)
    log_ratio = logp - old_log_prob
    ratio = jnp.exp(log_ratio)
    pg1 = ratio * adv
    pg2 = jnp.clip(ratio, 1.0 - params.clip_eps, 1.0 + params.clip_eps) * adv
    pg_loss = -_masked_mean(jnp.minimum(pg1, pg2), mask)
    v_clip = old_value + jnp.clip(value - old_value, -params.clip_eps, params.clip_eps)
    vl = jnp.maximum((value - target) ** 2, (v_clip - target) ** 2)
    value_loss = 0.5 * _masked_mean(vl, mask)
    ent = _masked_mean(entropy, mask)
    loss = pg_loss + params.vf_coef * value_loss - params.ent_coef * ent
    approx_kl = _masked_mean((ratio - 1.0) - log_ratio, mask)
    clip_frac = _masked_mean((jnp.abs(ratio - 1.0) > params.clip_eps).astype(jnp.float32), mask)
    return LossInfo(loss, pg_loss, value_loss, ent, approx_kl, clip_frac)


def make_optimizer(config: PPOConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm -> scale_by_adam`` (the learning rate is applied by the caller)."""
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm), optax.scale_by_adam(eps=config.adam_eps)
    )


def reset_adam_count(opt_state: Any) -> Any:
    """Adam-Rel: set every ``ScaleByAdamState.count`` to 0, keeping ``mu`` and ``nu``. Jittable."""
    is_adam = lambda s: isinstance(s, optax.ScaleByAdamState)
    return jax.tree.map(
        lambda s: s._replace(count=jnp.zeros_like(s.count)) if is_adam(s) else s,
        opt_state,
        is_leaf=is_adam,
    )


def learning_rate(config: PPOConfig, num_updates: jax.Array) -> jax.Array:
    """Linear annealing from ``lr`` to 0 over ``lr_anneal_updates`` student updates."""
    if config.lr_anneal_updates == 0:
        return jnp.asarray(config.lr, jnp.float32)
    frac = 1.0 - num_updates.astype(jnp.float32) / config.lr_anneal_updates
    return config.lr * jnp.clip(frac, 0.0, 1.0)


class Batch(NamedTuple):
    """One PPO batch, time-major ``(T, B)`` (leaves of ``obs`` are ``(T, B, ...)``)."""

    obs: Any
    reset: jax.Array  # bool[T, B] obs[t] starts an episode (recurrent state is reset)
    action: jax.Array  # int32[T, B]
    log_prob: jax.Array  # float32[T, B]
    value: jax.Array  # float32[T, B]
    advantage: jax.Array  # float32[T, B]
    target: jax.Array  # float32[T, B]
    mask: jax.Array  # bool[T, B] transitions the update uses


def make_ppo_update(
    config: PPOConfig, apply_fn: Callable, initial_carry: Callable[[int], Any]
) -> Callable:
    """Build ``update(key, student, batch, params) -> (student, metrics)``. Jittable.

    Runs ``num_epochs`` x ``num_minibatches`` gradient steps; minibatches are random splits of
    the environment axis (whole sequences, so recurrent nets replay from their initial state).
    ``apply_fn(params, carry, obs_seq, reset_seq) -> (carry, logits, value)``.
    """
    tx = make_optimizer(config)
    nm = config.num_minibatches

    def loss_fn(p, mb: Batch, params: PPOParams):
        b = mb.reset.shape[1]
        _, logits, value = apply_fn(p, initial_carry(b), mb.obs, mb.reset)
        info = ppo_loss(
            logits,
            value,
            mb.action,
            mb.log_prob,
            mb.value,
            mb.advantage,
            mb.target,
            mb.mask,
            params,
            config.normalize_advantages,
        )
        return info.loss, info

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def update(key: jax.Array, student: StudentState, batch: Batch, params: PPOParams):
        b = batch.reset.shape[1]
        if b % nm:
            raise ValueError(f"num_minibatches={nm} must divide the number of environments {b}")
        lr = learning_rate(config, student.num_updates)
        opt_state = student.opt_state
        if config.optimizer == "adam-rel":
            opt_state = reset_adam_count(opt_state)

        def minibatch_step(carry, mb):
            p, o = carry
            (_, info), grads = grad_fn(p, mb, params)
            upd, o = tx.update(grads, o, p)
            p = jax.tree.map(lambda w, u: w - lr * u, p, upd)
            return (p, o), (info, optax.tree.norm(grads))

        def epoch(carry, k):
            perm = jax.random.permutation(k, b)
            shuffled = jax.tree.map(lambda x: jnp.take(x, perm, axis=1), batch)
            mbs = jax.tree.map(
                lambda x: jnp.swapaxes(x.reshape((x.shape[0], nm, b // nm) + x.shape[2:]), 0, 1),
                shuffled,
            )
            return jax.lax.scan(minibatch_step, carry, mbs)

        (p, o), (infos, gnorm) = jax.lax.scan(
            epoch, (student.params, opt_state), jax.random.split(key, config.num_epochs)
        )
        metrics = {k: jnp.mean(v) for k, v in infos._asdict().items()}
        metrics["grad_norm"] = jnp.mean(gnorm)
        metrics["lr"] = lr
        return StudentState(p, o, student.num_updates + 1), metrics

    return update


PPO_METRICS = ("loss", "pg_loss", "value_loss", "entropy", "approx_kl", "clip_frac", "grad_norm")


__all__ = [
    "Batch",
    "LossInfo",
    "OPTIMIZERS",
    "PPOConfig",
    "PPOParams",
    "PPO_METRICS",
    "StudentState",
    "gae",
    "learning_rate",
    "make_optimizer",
    "make_ppo_update",
    "ppo_loss",
    "reset_adam_count",
]
