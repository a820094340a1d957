"""The toolkit's one rollout: ``B`` environments scanned ``T`` steps under a policy.

One scanned step serves training (PPO batches and the curriculum's scores), evaluation of many
levels, SAMPLR's fictitious transitions, the plots, HaDES's and the meta learners' policy
evaluations and the off-policy learners' environment steps; flags choose what it keeps::

    res = rollout(key, rc, net_params, env_params, net=student, step_fn=wrapped.step,
                  num_steps=T)                              # res.traj: Transition (T, B)
    res = rollout(..., record_trajectory=False, count_episodes=True)
                                                            # res.counters only: no (T, B) memory
    res = rollout(..., record_state=wrapped.base_state)     # res.states: e.g. frames for a GIF
    res = rollout(..., record_info=("exit",))               # res.info["exit"]: (T, B)
    res = rollout_levels(key, wrapped, levels, net_params, env_params, net=student,
                         num_steps=T, ...)                  # reset B envs to levels, then roll

The policy is either ``net``, a :class:`ued.networks.ActorCritic` (actions are
``net.dist.sample``, with ``greedy=True`` ``net.dist.mode``, of its policy output, so discrete
(int32[B]) and continuous (float32[B, A]) actions go through the same code; ``log_prob`` is
``net.dist.log_prob``; :func:`actor_critic_policy` is that policy as a function), or any
``policy(key, params, carry, obs, reset) -> PolicyStep(carry, action, log_prob, value)`` over the
``B`` environments at once (a behaviour-cloned MLP, a greedy Q-network, an actor with exploration
noise, a random policy); ``log_prob`` and ``value`` may be ``None`` (then so are the
trajectory's fields and ``last_value``). Recurrent state: the carry is kept from step to step
within an episode and set back to its initial value (inside the policy) wherever ``reset`` says
the observation starts an episode; ``reset`` is ``terminated | truncated`` of the previous step,
which is right for environments that reset themselves when an episode ends (the
``ued.wrappers``, gymnax auto-reset).

The environment: ``step_fn(key, env_state, action, env_params) -> (obs, env_state, reward,
terminated, truncated, info)`` for ONE environment (vmapped here). By default ``info`` must hold
the keys that :class:`ued.wrappers.EpisodeStats` adds (``returned_episode``,
``returned_episode_return``, ``returned_episode_length``, ``returned_episode_solved``); with
``episode_stats=False`` they are not read (the ``episode_*`` fields of the trajectory are then
``None`` and ``count_episodes`` is unavailable). The per-step hook: ``step_fn`` may be any
replacement of the env's step (SAMPLR's fictitious transitions), and with ``step_aux`` (a
pytree with leaves ``(B, ...)``) it is called as ``step_fn(key, env_state, action, env_params,
aux_i)`` with environment i's slice (the trainer passes each environment's proposal slice).

A plain gymnax-style environment (``reset(key, params) -> (obs, state)``, auto-resetting
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)``)
needs no wrapper::

    obs, st = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, B), params)
    rc = RolloutCarry.start(st, obs, net.initial_carry(B))
    res = rollout(k_roll, rc, net_params, params, net=net, step_fn=env.step, num_steps=T,
                  episode_stats=False)
    # continue from res.carry next time; env-side action transforms (clipping a Gaussian
    # action into the env's bounds) belong in step_fn:
    #   step_fn=lambda k, s, a, p: env.step(k, s, jnp.clip(a, low, high), p)

A PPO learner does not call this itself: :func:`ued.ppo.make_learner_step` is the rollout with
its GAE and PPO update (``collect(key, rc, ...)`` returns the trajectory, its advantages and
the carry to continue from).

:func:`first_episode` masks each environment's first episode in recorded ``(T, B)`` arrays
(GIFs, first-episode evaluations) and :func:`first_episode_return` sums its rewards.
Everything here is pure and jittable (``num_steps``, the policy and the flags static); vmap over
the parameters or keys and scan over rollouts as you like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

StepFn = Callable[..., tuple]

EPISODE_STATS_KEYS = (
    "returned_episode",
    "returned_episode_return",
    "returned_episode_length",
    "returned_episode_solved",
)


@struct.dataclass
class Transition:
    """One scanned rollout, time-major: leaves ``(T, B, ...)``.

    The ``episode_*`` and ``solved`` fields come from ``info`` (:class:`ued.wrappers.
    EpisodeStats`); they are ``None`` when the rollout ran with ``episode_stats=False``.
    ``log_prob`` and ``value`` are ``None`` under a policy that returns none.
    """

    obs: Any  # observation pytree, leaves (T, B, ...)
    reset: jax.Array  # bool[T, B] obs[t] is the first of an episode
    action: jax.Array  # int32[T, B] (discrete) or float32[T, B, A] (continuous)
    log_prob: jax.Array | None  # float32[T, B]
    value: jax.Array | None  # float32[T, B]
    reward: jax.Array  # float32[T, B]
    terminated: jax.Array  # bool[T, B]
    truncated: jax.Array  # bool[T, B]
    episode_done: jax.Array | None = None  # bool[T, B] an episode ended at t
    episode_return: jax.Array | None = None  # float32[T, B] its return (where episode_done)
    episode_length: jax.Array | None = None  # int32[T, B] its length (where episode_done)
    solved: jax.Array | None = None  # bool[T, B] it ended solved (where episode_done)


@struct.dataclass
class RolloutCarry:
    """What a rollout continues from (leaves ``(B, ...)``)."""

    env_state: Any  # leaves (B, ...)
    obs: Any  # leaves (B, ...)
    carry: Any  # recurrent state of the policy, leaves (B, ...) (``()`` if feed-forward)
    reset: jax.Array  # bool[B] obs starts an episode

    @classmethod
    def start(cls, env_state: Any, obs: Any, carry: Any) -> RolloutCarry:
        """A carry whose observations all start episodes (right after a batched reset)."""
        b = jax.tree.leaves(obs)[0].shape[0]
        return cls(env_state=env_state, obs=obs, carry=carry, reset=jnp.ones((b,), bool))


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
        """Count the episodes ending now: ``done`` bool[B], ``ret`` float32[B], ``length``
        int32[B], ``solved`` bool[B] (the last three read only where ``done``)."""
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


@struct.dataclass
class RolloutResult:
    """What :func:`rollout` returns; a field is ``None`` when its flag is off.

    Attributes:
      carry: the :class:`RolloutCarry` after the last step (continue from it).
      traj: :class:`Transition` with leaves ``(T, B, ...)`` (``record_trajectory``).
      last_value: float32[B] ``V(s_T)`` for bootstrapping (``record_trajectory``; ``None``
        under a policy without values).
      counters: :class:`EpisodeCounters` (``count_episodes``).
      states: ``record_state(env_state)`` of every step, leaves ``(T, B, ...)`` (the state the
        step's observation came from).
      info: ``{key: (T, B, ...)}`` for the keys of ``record_info`` (empty without them).
    """

    carry: RolloutCarry
    traj: Transition | None = None
    last_value: jax.Array | None = None
    counters: EpisodeCounters | None = None
    states: Any = None
    info: dict = struct.field(default_factory=dict)


class PolicyStep(NamedTuple):
    """What a policy returns for the ``B`` environments of one step."""

    carry: Any  # next recurrent state, leaves (B, ...) (``()`` if feed-forward)
    action: jax.Array  # int32[B] (discrete) or float32[B, A] (continuous)
    log_prob: jax.Array | None = None  # float32[B] of ``action`` (None: not recorded)
    value: jax.Array | None = None  # float32[B] V(obs) (None: no bootstrap value)


# policy(key, params, carry, obs (leaves (B, ...)), reset bool[B]) -> PolicyStep
Policy = Callable[[jax.Array, Any, Any, Any, jax.Array], PolicyStep]


def actor_critic_policy(net: Any, greedy: bool = False) -> Policy:
    """The :class:`Policy` of an actor-critic ``net`` (a :class:`ued.networks.ActorCritic`):
    one time step of ``net.apply``; actions ``net.dist.sample`` (``greedy``: ``net.dist.mode``)
    with their ``log_prob`` and the critic's value. Jittable."""
    dist = net.dist

    def policy(key, params, carry, obs, reset):
        obs1 = jax.tree.map(lambda x: x[None], obs)
        carry, out, value = net.apply(params, carry, obs1, reset[None])
        out = jax.tree.map(lambda x: x[0], out)
        action = dist.mode(out) if greedy else dist.sample(key, out)
        return PolicyStep(carry, action, dist.log_prob(out, action), value[0])

    return policy


def _env_step(step_fn, key, rc, action, env_params, aux):
    b = rc.reset.shape[0]
    # a lone environment steps with the key itself: a hash per step is much of a small env's
    # step cost (HaDES rolls thousands of one-environment episodes)
    keys = key[None] if b == 1 else jax.random.split(key, b)
    if aux is None:
        return jax.vmap(step_fn, in_axes=(0, 0, 0, None))(keys, rc.env_state, action, env_params)
    return jax.vmap(step_fn, in_axes=(0, 0, 0, None, 0))(
        keys, rc.env_state, action, env_params, aux
    )


def rollout(
    key: jax.Array,
    rc: RolloutCarry,
    params: Any,
    env_params: Any,
    *,
    step_fn: StepFn,
    num_steps: int,
    net: Any = None,
    policy: Policy | None = None,
    greedy: bool = False,
    step_aux: Any = None,
    record_trajectory: bool = True,
    count_episodes: bool = False,
    record_state: Callable[[Any], Any] | None = None,
    record_info: tuple[str, ...] = (),
    episode_stats: bool = True,
) -> RolloutResult:
    """Roll ``B`` environments ``num_steps`` steps from ``rc``. Jittable (all but the first four
    arguments static or closed over).

    Args:
      key: typed PRNG key; the same key gives bitwise the same rollout.
      rc: where to start (:func:`reset_batch`, :meth:`RolloutCarry.start` or a previous
        result's ``carry``).
      params: the policy's parameters (the actor-critic's with ``net``).
      env_params: the environment's dynamic parameters (shared by the ``B`` environments).
      step_fn: one environment's step (see the module docstring); the per-step hook.
      num_steps: ``T``.
      net: a :class:`ued.networks.ActorCritic` (its ``apply`` and ``dist``); or
      policy: a :class:`Policy` function (exactly one of ``net`` and ``policy``).
      greedy: ``net.dist.mode`` actions instead of samples (``net`` only).
      step_aux: optional per-environment input of ``step_fn`` (leaves ``(B, ...)``).
      record_trajectory: keep the :class:`Transition` and ``last_value`` (PPO, scores).
      count_episodes: accumulate :class:`EpisodeCounters` (needs ``episode_stats``).
      record_state: optional ``f(env_state) -> pytree`` of one environment's state, recorded
        every step (e.g. ``wrapped.base_state`` for frames).
      record_info: keys of ``info`` to record every step.
      episode_stats: read the :class:`ued.wrappers.EpisodeStats` keys from ``info``.

    Returns:
      :class:`RolloutResult`.
    """
    if count_episodes and not episode_stats:
        raise ValueError("count_episodes needs episode_stats=True (the EpisodeStats info keys)")
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}")
    if (net is None) == (policy is None):
        raise ValueError("rollout takes exactly one of net= and policy=")
    if policy is None:
        policy = actor_critic_policy(net, greedy)
    elif greedy:
        raise ValueError("greedy applies to net=; a policy function chooses its own actions")
    record_info = tuple(record_info)
    b = rc.reset.shape[0]

    def body(c, k):
        rc, cnt = c
        k_act, k_env = jax.random.split(k)
        ps = policy(k_act, params, rc.carry, rc.obs, rc.reset)
        action = ps.action
        obs, es, reward, term, trunc, info = _env_step(
            step_fn, k_env, rc, action, env_params, step_aux
        )
        term, trunc = term.astype(bool), trunc.astype(bool)
        if episode_stats:
            missing = [k for k in EPISODE_STATS_KEYS if k not in info]
            if missing:
                raise KeyError(
                    f"info lacks {missing}: wrap the env in ued.wrappers.EpisodeStats or roll "
                    "out with episode_stats=False"
                )
            ep_done = info["returned_episode"].astype(bool)
            ep_ret = info["returned_episode_return"].astype(jnp.float32)
            ep_len = info["returned_episode_length"].astype(jnp.int32)
            ep_solved = info["returned_episode_solved"].astype(bool)
        else:
            ep_done = ep_ret = ep_len = ep_solved = None
        ys = {}
        if record_trajectory:
            ys["traj"] = Transition(
                obs=rc.obs,
                reset=rc.reset,
                action=action,
                log_prob=ps.log_prob,
                value=ps.value,
                reward=reward.astype(jnp.float32),
                terminated=term,
                truncated=trunc,
                episode_done=ep_done,
                episode_return=ep_ret,
                episode_length=ep_len,
                solved=ep_solved,
            )
        if count_episodes:
            cnt = cnt.add(ep_done, ep_ret, ep_len, ep_solved)
        if record_state is not None:
            ys["states"] = jax.vmap(record_state)(rc.env_state)
        if record_info:
            ys["info"] = {name: info[name] for name in record_info}
        # episode ends reset the recurrent state before the next observation is read
        return (RolloutCarry(es, obs, ps.carry, jnp.logical_or(term, trunc)), cnt), ys

    cnt0 = EpisodeCounters.zeros(b) if count_episodes else None
    (rc, cnt), ys = jax.lax.scan(body, (rc, cnt0), jax.random.split(key, num_steps))
    last_value = None
    if record_trajectory:
        # only the value is read: the key is one the scan never used
        last = policy(jax.random.fold_in(key, num_steps), params, rc.carry, rc.obs, rc.reset)
        last_value = last.value
    return RolloutResult(
        carry=rc,
        traj=ys.get("traj"),
        last_value=last_value,
        counters=cnt,
        states=ys.get("states"),
        info=ys.get("info", {}),
    )


def reset_batch(key: jax.Array, env: Any, levels: Any, env_params: Any, carry: Any) -> RolloutCarry:
    """Reset ``B`` environments to ``levels`` (leaves (B, ...)) with ``env.reset_to_level``;
    every obs starts an episode. ``carry``: the policy's initial recurrent state for ``B``
    (``net.initial_carry(B)``). Jittable."""
    b = jax.tree.leaves(levels)[0].shape[0]
    obs, es = jax.vmap(env.reset_to_level, in_axes=(0, 0, None))(
        jax.random.split(key, b), levels, env_params
    )
    return RolloutCarry.start(es, obs, carry)


def first_episode(done: jax.Array) -> jax.Array:
    """bool[T, B]: the steps of each environment's first episode in a rollout (up to and
    including the step where it ends), from ``done`` bool[T, B] (``terminated | truncated`` or
    ``episode_done``). Jittable."""
    done = done.astype(jnp.int32)
    return (jnp.cumsum(done, axis=0) - done) == 0


def rollout_levels(
    key: jax.Array,
    env: Any,
    levels: Any,
    params: Any,
    env_params: Any,
    *,
    num_steps: int,
    carry: Any = None,
    **kwargs: Any,
) -> RolloutResult:
    """Reset ``B`` environments to ``levels`` (leaves (B, ...)) with :func:`reset_batch`, then
    :func:`rollout` them ``num_steps`` steps (``key`` split into the two). Jittable.

    ``env`` is the environment as rolled out (usually ``EpisodeStats(AutoReplay(raw))``, so
    every episode of env i replays level i). ``kwargs`` are :func:`rollout`'s: ``net=`` or
    ``policy=``, ``step_fn`` (default ``env.step``), ``greedy``, the record flags. ``carry``:
    the policy's initial recurrent state for ``B`` (default ``net.initial_carry(B)``, or ``()``
    with a ``policy``).
    """
    if carry is None:
        net = kwargs.get("net")
        carry = () if net is None else net.initial_carry(jax.tree.leaves(levels)[0].shape[0])
    kwargs.setdefault("step_fn", env.step)
    k_reset, k_roll = jax.random.split(key)
    rc = reset_batch(k_reset, env, levels, env_params, carry)
    return rollout(k_roll, rc, params, env_params, num_steps=num_steps, **kwargs)


def first_episode_return(traj: Transition, horizon: jax.Array | int | None = None) -> jax.Array:
    """float32[B]: each environment's undiscounted return over its first episode in the
    trajectory (``terminated | truncated`` ends it; the rewards so far if it has not ended),
    counting only the steps ``t < horizon`` when ``horizon`` (int32[], may be traced) is given.
    Jittable."""
    mask = first_episode(jnp.logical_or(traj.terminated, traj.truncated))
    if horizon is not None:
        t = jnp.arange(mask.shape[0])[:, None]
        mask = jnp.logical_and(mask, t < horizon)
    return jnp.sum(jnp.where(mask, traj.reward, 0.0), axis=0)


__all__ = [
    "EPISODE_STATS_KEYS",
    "EpisodeCounters",
    "Policy",
    "PolicyStep",
    "RolloutCarry",
    "RolloutResult",
    "StepFn",
    "Transition",
    "actor_critic_policy",
    "first_episode",
    "first_episode_return",
    "reset_batch",
    "rollout",
    "rollout_levels",
]
