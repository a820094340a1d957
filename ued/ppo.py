"""The toolkit's one PPO: GAE (terminated vs truncated), the clipped loss, masked minibatch
updates, Adam / Adam-Rel; for recurrent and feed-forward actor-critics, discrete (categorical)
and continuous (Gaussian) policies. It serves the UED student (``ued.train``) and the
feed-forward agents of ``meta`` alike.

Conventions (time-major, ``T`` steps x ``B`` environments):

* ``terminated[t]``: the MDP ended after action ``t`` (goal reached): no bootstrap.
* ``truncated[t]``: the time limit cut the episode after action ``t``: bootstrap from the value of
  the state the agent was in. With auto-reset wrappers the post-truncation observation is never
  seen (the next observation already belongs to the next episode), so the bootstrap value used
  on a truncated step is ``V(s_t)`` itself, the closest estimate available (documented choice).
* Both end the GAE trace: advantages never leak across episodes.
* The last step of a rollout that is neither bootstraps from ``last_value = V(s_T)``.

The learning rate and its linear annealing live in :class:`PPOParams` (dynamic): one program
can train a population of learners with different learning rates (``jax.vmap`` over params).
The optimiser is :func:`ued.optim.make_adam`; the rate is applied outside optax
(:func:`ued.optim.apply_step`).

The learner step (rollout -> GAE -> PPO batch -> update) is :func:`make_learner_step`, the one
composition that ``ued.train.make_train``, PAIRED's teacher and antagonists and the meta inner
loops call; a student starts from :func:`init_student`, and :data:`PPO_METRICS` names the
metrics of every update.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

from ued.networks import CATEGORICAL, ActionDist, ActorCritic
from ued.optim import apply_step, linear_schedule, make_adam, reset_adam_count
from ued.ppo_config import (  # noqa: F401 (re-exported: the PPO settings)
    MINIBATCH_AXES,
    OPTIMIZERS,
    PPOConfig,
    PPOParams,
    check_ppo_params,
)
from ued.rollout import EpisodeCounters, RolloutCarry, StepFn, Transition, rollout


@struct.dataclass
class StudentState:
    """The student's learnable state."""

    params: Any
    opt_state: Any
    num_updates: jax.Array  # int32[] gradient batches applied so far (drives the lr schedule)


def td_errors(
    reward: jax.Array,
    value: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    last_value: jax.Array,
    gamma: jax.Array | float,
) -> jax.Array:
    """float32[T, B] one-step TD errors ``delta_t = r_t + gamma V_next - V(s_t)`` of :func:`gae`.
    Jittable.

    ``V_next`` is ``V(s_{t+1})`` (``last_value`` after the last step), ``0`` where the step
    terminated, and ``V(s_t)`` where it was truncated: the observation after a done step belongs
    to the next episode, and the post-truncation state is never observed.
    """
    reward = reward.astype(jnp.float32)
    value = value.astype(jnp.float32)
    terminated = terminated.astype(bool)
    truncated = truncated.astype(bool)
    next_value = jnp.concatenate([value[1:], last_value[None].astype(jnp.float32)], axis=0)
    next_value = jnp.where(truncated, value, next_value)
    next_value = jnp.where(terminated, 0.0, next_value)
    return reward + gamma * next_value - value


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
    value = value.astype(jnp.float32)
    delta = td_errors(reward, value, terminated, truncated, last_value, gamma)
    done = jnp.logical_or(terminated.astype(bool), truncated.astype(bool))
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
    policy_out: Any,
    value: jax.Array,
    action: jax.Array,
    old_log_prob: jax.Array,
    old_value: jax.Array,
    advantage: jax.Array,
    target: jax.Array,
    mask: jax.Array,
    params: PPOParams,
    normalize_advantages: bool = True,
    dist: ActionDist = CATEGORICAL,
) -> LossInfo:
    """Clipped PPO loss with value clipping and an entropy bonus, averaged over ``mask``.

    All inputs have the same leading shape ``S`` (e.g. ``(T, B)``); ``policy_out`` is what
    ``dist`` reads (logits ``S + (A,)`` for the default categorical policy).
    ``loss = pg_loss + vf_coef * value_loss - ent_coef * entropy`` where
    ``value_loss = 0.5 * mean(max((v - R)^2, (v_clip - R)^2))``. Jittable.
    """
    mask = mask.astype(jnp.float32)
    logp = dist.log_prob(policy_out, action)
    entropy = dist.entropy(policy_out)
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
    """PPO's optimiser: :func:`ued.optim.make_adam` with the config's clip and epsilon."""
    return make_adam(config.max_grad_norm, config.adam_eps)


def learning_rate(params: PPOParams, num_updates: jax.Array) -> jax.Array:
    """Linear annealing from ``params.lr`` to 0 over ``params.lr_anneal_updates`` student
    updates (constant when 0). Jittable; float32[]."""
    return linear_schedule(params.lr, params.lr_anneal_updates, num_updates)


class Batch(NamedTuple):
    """One PPO batch, time-major ``(T, B)`` (leaves of ``obs`` are ``(T, B, ...)``)."""

    obs: Any
    reset: jax.Array  # bool[T, B] obs[t] starts an episode (recurrent state is reset)
    action: jax.Array  # int32[T, B] (discrete) or float32[T, B, A] (continuous)
    log_prob: jax.Array  # float32[T, B]
    value: jax.Array  # float32[T, B]
    advantage: jax.Array  # float32[T, B]
    target: jax.Array  # float32[T, B]
    mask: jax.Array  # bool[T, B] transitions the update uses
    # the recurrent state each sequence starts from, leaves (1, B, ...) (a length-1 time axis,
    # so minibatches split it like the rest); None: ``net.initial_carry``
    init_carry: Any = None


def make_batch(
    traj: Any,
    advantage: jax.Array,
    target: jax.Array,
    mask: jax.Array | None = None,
    init_carry: Any = None,
) -> Batch:
    """The PPO :class:`Batch` of a rollout's :class:`ued.rollout.Transition` ``traj`` (leaves
    ``(T, B, ...)``) with its GAE ``advantage`` and value ``target`` (float32[T, B]).

    ``mask``: bool[T, B], or bool[B] (whole environments in or out), or None (every
    transition). ``init_carry``: the recurrent state the rollout started from (leaves
    ``(B, ...)``), for a rollout that continued episodes of an earlier one; None: every
    sequence replays from ``net.initial_carry``. Jittable.
    """
    mask = jnp.ones_like(traj.reset) if mask is None else jnp.asarray(mask, bool)
    if init_carry is not None:
        init_carry = jax.tree.map(lambda x: x[None], init_carry)
    return Batch(
        obs=traj.obs,
        reset=traj.reset,
        action=traj.action,
        log_prob=traj.log_prob,
        value=traj.value,
        advantage=advantage,
        target=target,
        mask=jnp.broadcast_to(mask, traj.reset.shape),
        init_carry=init_carry,
    )


def flatten_time(batch: Batch) -> Batch:
    """``(T, B)`` -> ``(1, T * B)``: every transition becomes its own length-1 sequence, so
    minibatches over the environment axis are minibatches of single transitions (feed-forward
    nets only). Jittable."""
    return jax.tree.map(lambda x: x.reshape((1, -1) + x.shape[2:]), batch)


def make_ppo_update(
    config: PPOConfig, net: ActorCritic, tx: optax.GradientTransformation | None = None
) -> Callable:
    """Build ``update(key, student, batch, params, lr_scale=None, opt_args=None) -> (student,
    metrics)``. Jittable.

    Runs ``num_epochs`` x ``num_minibatches`` gradient steps at the learning rate
    :func:`learning_rate` ``(params, student.num_updates)``, times ``lr_scale`` (float32[],
    may be traced) when given. With ``minibatch_axis="env"`` minibatches are random splits of
    the environment axis (whole sequences, so recurrent nets replay from their initial state);
    with ``"sample"`` random splits of all ``T * B`` transitions. ``net``: an
    :class:`ued.networks.ActorCritic` (its ``apply`` and ``dist``). ``metrics``: float32[] under
    the names of :data:`PPO_METRICS` (means over the gradient steps; ``grad_norm`` is the global
    norm before clipping, ``lr`` the rate applied).

    ``tx``: the optimiser (default :func:`make_optimizer` ``(config)``); a learner coupled to
    another player brings its own (NCC's :func:`ued.optim.scale_by_tiada` student).
    ``opt_args``: a dict of dynamic extra arguments the optimiser's ``update`` reads at every
    gradient step of this update (``None``: none; ``tx.update`` is called as for plain Adam).
    """
    tx = make_optimizer(config) if tx is None else tx
    nm = config.num_minibatches
    if config.minibatch_axis == "sample" and net.recurrent:
        raise ValueError(
            "PPOConfig.minibatch_axis='sample' shuffles single transitions; a recurrent net "
            "needs whole sequences: use minibatch_axis='env'"
        )

    def loss_fn(p, mb: Batch, params: PPOParams):
        b = mb.reset.shape[1]
        carry = net.initial_carry(b)
        if mb.init_carry is not None:
            carry = jax.tree.map(lambda x: x[0], mb.init_carry)
        _, out, value = net.apply(p, carry, mb.obs, mb.reset)
        info = ppo_loss(
            out,
            value,
            mb.action,
            mb.log_prob,
            mb.value,
            mb.advantage,
            mb.target,
            mb.mask,
            params,
            config.normalize_advantages,
            net.dist,
        )
        return info.loss, info

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def update(
        key: jax.Array,
        student: StudentState,
        batch: Batch,
        params: PPOParams,
        lr_scale: jax.Array | float | None = None,
        opt_args: dict | None = None,
    ):
        extra = {} if opt_args is None else dict(opt_args)
        if config.minibatch_axis == "sample":
            batch = flatten_time(batch)
        b = batch.reset.shape[1]
        if b % nm:
            what = "T * B transitions" if config.minibatch_axis == "sample" else "environments"
            raise ValueError(f"num_minibatches={nm} must divide the number of {what} {b}")
        lr = learning_rate(params, student.num_updates)
        if lr_scale is not None:
            lr = lr * lr_scale
        opt_state = student.opt_state
        if config.optimizer == "adam-rel":
            opt_state = reset_adam_count(opt_state)

        def minibatch_step(carry, mb):
            p, o = carry
            (_, info), grads = grad_fn(p, mb, params)
            p, o = apply_step(tx, grads, o, p, lr, **extra)
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


def init_student(
    key: jax.Array,
    config: PPOConfig,
    net: ActorCritic,
    obs: Any,
    tx: optax.GradientTransformation | None = None,
) -> StudentState:
    """A fresh :class:`StudentState`: ``net.init(key, obs)`` (obs leaves ``(B, ...)``), the
    optimiser state of ``tx`` (default :func:`make_optimizer` ``(config)``), and 0 updates.
    Jittable."""
    params = net.init(key, obs)
    tx = make_optimizer(config) if tx is None else tx
    return StudentState(params, tx.init(params), jnp.zeros((), jnp.int32))


# The metrics of every PPO update (float32[] each), in the order the update writes them: the
# loss terms of :class:`LossInfo`, the global gradient norm before clipping, the learning rate.
PPO_METRICS = LossInfo._fields + ("grad_norm", "lr")


def zero_metrics() -> dict[str, jax.Array]:
    """The metrics of an update that did no gradient work: 0.0 (float32[]) under every name of
    :data:`PPO_METRICS`. Jittable."""
    return {k: jnp.zeros((), jnp.float32) for k in PPO_METRICS}


# ------------------------------------------------------------------------------ learner step


@struct.dataclass
class Collected:
    """One rollout ready for PPO: the trajectory with its GAE. Leaves ``(T, B, ...)``.

    ``carry`` and ``counters`` are ``None`` where the rollout is not at hand (:meth:`LearnerStep.
    relabel` of a stored trajectory) or, for ``counters``, not counted."""

    traj: Transition  # leaves (T, B, ...)
    advantage: jax.Array  # float32[T, B]
    target: jax.Array  # float32[T, B] value targets (advantage + value)
    last_value: jax.Array  # float32[B] V(s_T), the bootstrap at the rollout boundary
    carry: RolloutCarry | None = None  # where the rollout ended: continue from it
    counters: EpisodeCounters | None = None  # leaves (B,) (count_episodes)
    # the recurrent state the rollout started from, leaves (B, ...) (continue_episodes with a
    # recurrent net; else None): the update replays each sequence from it
    init_carry: Any = None


class LearnerStep(NamedTuple):
    """The PPO learner step as pure functions (see :func:`make_learner_step`)."""

    collect: Callable[..., Collected]
    relabel: Callable[..., Collected]
    update: Callable[..., tuple[StudentState, dict]]
    step: Callable[..., tuple[StudentState, Collected, dict]]
    config: PPOConfig
    net: ActorCritic
    num_steps: int


def make_learner_step(
    config: PPOConfig,
    net: ActorCritic,
    *,
    num_steps: int,
    step_fn: StepFn,
    episode_stats: bool = True,
    count_episodes: bool = False,
    tx: optax.GradientTransformation | None = None,
    continue_episodes: bool = False,
) -> LearnerStep:
    """The one PPO learner step: rollout (:func:`ued.rollout.rollout`) -> :func:`gae` ->
    :func:`make_batch` -> :func:`make_ppo_update`. Every function returned is pure and jittable
    (vmap it over keys, params or learners; scan it over updates); jit once at the top.

    Args:
      config: static :class:`PPOConfig`.
      net: the learner's :class:`ued.networks.ActorCritic`.
      num_steps: ``T``, steps per rollout.
      step_fn: one environment's step for the rollout (the wrapped env's ``step``, a gymnax
        auto-resetting ``step``, or a per-step hook; see :mod:`ued.rollout`).
      episode_stats: read the :class:`ued.wrappers.EpisodeStats` keys from ``info`` (off for
        environments without that wrapper).
      count_episodes: also accumulate :class:`ued.rollout.EpisodeCounters` (``collected.
        counters``; needs ``episode_stats``).
      tx: the learner's optimiser (default :func:`make_optimizer` ``(config)``; the student's
        state must come from the same, :func:`init_student` ``(..., tx)``).
      continue_episodes: rollouts may start mid-episode (``rc`` is an earlier ``collected.
        carry``): a recurrent net's update then replays each sequence from the recurrent state
        its rollout started in (``collected.init_carry``) instead of ``net.initial_carry``.
        Off, the program is exactly the plain one.

    Returns a :class:`LearnerStep` of:

    * ``collect(key, rc, net_params, env_params, params, step_aux=None) -> Collected``: roll the
      ``B`` environments of the :class:`ued.rollout.RolloutCarry` ``rc`` ``T`` steps under
      ``net_params`` and compute GAE with ``params.gamma`` / ``params.gae_lambda``
      (:class:`PPOParams`). ``step_aux``: per-environment input of a hook ``step_fn`` (leaves
      ``(B, ...)``; ``None`` for a plain step).
    * ``relabel(traj, reward, last_value, params) -> Collected``: the trajectory ``traj``
      (:class:`ued.rollout.Transition`) with its rewards replaced by ``reward`` (float32[T, B])
      and GAE recomputed from ``last_value`` (float32[B]); for learners whose reward is known
      only after their rollout (PAIRED's teacher: the regret arrives at its last step).
    * ``update(key, student, collected, params, mask=None, lr_scale=None, opt_args=None) ->
      (student, metrics)``: the PPO batch of ``collected`` (:func:`make_batch`) and the update of
      :func:`make_ppo_update` (``opt_args``: the optimiser's dynamic extra arguments). ``mask``: ``None`` (every transition, unconditionally), or bool[B]
      (environments) / bool[T, B] (transitions) the update uses; when it selects nothing the
      update is skipped through ``lax.cond`` (no gradient work; the student unchanged, its
      update count included) and ``metrics`` are :func:`zero_metrics`. ``lr_scale``: optional
      float32[] multiplying the learning rate (dynamic). ``metrics``: the names of
      :data:`PPO_METRICS`.
    * ``step(key, student, rc, env_params, params, mask=None, step_aux=None, lr_scale=None,
      opt_args=None) -> (student, collected, metrics)``: ``collect`` then ``update``, with ``key`` split into
      the rollout's key and the update's (in that order); ``collected.carry`` is where the
      next step continues.

    Where this leaves room:

    * Several updates on the same levels with episodes running on across them (level spaces of
      long episodes; ``ued.TrainConfig.hold_updates``): keep ``collected.carry`` from one
      ``collect`` (or ``step``) and pass it as the next ``rc`` instead of resetting
      (:func:`ued.rollout.reset_batch`); GAE ends its traces at the trajectory's ``terminated``
      / ``truncated``, ``last_value`` bootstraps the episode cut by the rollout boundary, and
      ``rc.reset`` tells the policy where episodes start. With ``continue_episodes`` a
      recurrent net's update replays each sequence from ``rc.carry`` at its start
      (:attr:`Batch.init_carry`).
    * A curriculum coupled to the student's optimiser (the student's step size reading a
      quantity of the curriculum, e.g. the distribution player's accumulated gradient norm):
      ``update`` reports the student's gradient norm as ``metrics["grad_norm"]`` and takes the
      dynamic ``lr_scale`` (one factor for the whole update), ``tx`` (an optimiser of the
      curriculum's choosing) and ``opt_args`` (quantities that optimiser reads at every
      gradient step, e.g. TiAda's ``dual_sq_norm``, which must meet the learner's own
      accumulator inside each step and so cannot be a scale fixed before the update);
      ``ued.make_train`` wires them from ``Curriculum.student_optimizer`` /
      ``Curriculum.student_opt_args``.
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"make_learner_step: num_steps must be an integer >= 1, got {num_steps!r}")
    if count_episodes and not episode_stats:
        raise ValueError("make_learner_step: count_episodes needs episode_stats=True")
    ppo_update = make_ppo_update(config, net, tx)
    # a feed-forward net has no recurrent state to replay from
    keep_init_carry = continue_episodes and net.recurrent

    def advantages(traj: Transition, last_value: jax.Array, params: PPOParams):
        return gae(
            traj.reward,
            traj.value,
            traj.terminated,
            traj.truncated,
            last_value,
            params.gamma,
            params.gae_lambda,
        )

    def collect(
        key: jax.Array,
        rc: RolloutCarry,
        net_params: Any,
        env_params: Any,
        params: PPOParams,
        step_aux: Any = None,
    ) -> Collected:
        res = rollout(
            key,
            rc,
            net_params,
            env_params,
            net=net,
            step_fn=step_fn,
            num_steps=num_steps,
            step_aux=step_aux,
            count_episodes=count_episodes,
            episode_stats=episode_stats,
        )
        adv, target = advantages(res.traj, res.last_value, params)
        init_carry = rc.carry if keep_init_carry else None
        return Collected(res.traj, adv, target, res.last_value, res.carry, res.counters, init_carry)

    def relabel(
        traj: Transition, reward: jax.Array, last_value: jax.Array, params: PPOParams
    ) -> Collected:
        traj = traj.replace(reward=jnp.asarray(reward, jnp.float32))
        last_value = jnp.asarray(last_value, jnp.float32)
        adv, target = advantages(traj, last_value, params)
        return Collected(traj, adv, target, last_value)

    def update(
        key: jax.Array,
        student: StudentState,
        collected: Collected,
        params: PPOParams,
        mask: jax.Array | None = None,
        lr_scale: jax.Array | float | None = None,
        opt_args: dict | None = None,
    ) -> tuple[StudentState, dict]:
        batch = make_batch(
            collected.traj, collected.advantage, collected.target, mask, collected.init_carry
        )
        if mask is None:
            return ppo_update(key, student, batch, params, lr_scale, opt_args)

        def do_update(st):
            return ppo_update(key, st, batch, params, lr_scale, opt_args)

        def skip(st):
            # nothing selected (robust PLR's new levels): no gradient work at all
            return st, zero_metrics()

        return jax.lax.cond(jnp.any(mask), do_update, skip, student)

    def step(
        key: jax.Array,
        student: StudentState,
        rc: RolloutCarry,
        env_params: Any,
        params: PPOParams,
        mask: jax.Array | None = None,
        step_aux: Any = None,
        lr_scale: jax.Array | float | None = None,
        opt_args: dict | None = None,
    ) -> tuple[StudentState, Collected, dict]:
        k_roll, k_upd = jax.random.split(key)
        collected = collect(k_roll, rc, student.params, env_params, params, step_aux)
        student, metrics = update(k_upd, student, collected, params, mask, lr_scale, opt_args)
        return student, collected, metrics

    return LearnerStep(collect, relabel, update, step, config, net, num_steps)


__all__ = [
    "Batch",
    "Collected",
    "LearnerStep",
    "LossInfo",
    "MINIBATCH_AXES",
    "OPTIMIZERS",
    "PPOConfig",
    "PPOParams",
    "PPO_METRICS",
    "StudentState",
    "check_ppo_params",
    "flatten_time",
    "gae",
    "td_errors",
    "init_student",
    "learning_rate",
    "make_batch",
    "make_learner_step",
    "make_optimizer",
    "make_ppo_update",
    "ppo_loss",
    "reset_adam_count",
    "zero_metrics",
]
