"""Inner-loop learners for synthetic-environment meta-learning: PPO, DQN and TD3.

Each learner trains on ANY gymnax-style environment (``reset(key, params) -> (obs, state)``,
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)`` with
auto-reset and ``info["final_observation"]``; real gymnax 1.x envs and
:class:`meta.synthetic.SynthGymnaxEnv` both qualify) for a fixed number of environment steps
and returns the agent's parameters plus a policy function::

    learner = make_learner("ppo", env, LearnerConfig(num_steps=10_000))
    hp = learner.sample_hparams(key)                 # drawn from the configured ranges
    agent = learner.train(key, env_params, hp)       # pure; jit / vmap over keys, params, hp
    action = learner.act(agent, obs, key, True)      # deterministic (greedy / mean) policy

The agent ``train`` returns is a pytree of parameters: the actor-critic's (PPO), the Q-network's
(DQN) or the actor's and both critics' (TD3).

Hyperparameters are a :class:`LearnerHParams` pytree of float32 scalars, so every member of an
ES population can train with its own draw (invariance to hyperparameters, as in "Discovering
Minimal RL Environments"). ``train`` is deterministic per key.

PPO is the toolkit's one PPO learner step (:func:`ued.ppo.make_learner_step`: the one rollout,
GAE and the PPO update, episodes running on from update to update) on the usual feed-forward
agent (``ued.networks.NetworkConfig.mlp``: separate actor and critic MLPs; a Gaussian policy
with a learned state-independent ``log_std`` for continuous actions, clipped into the env's
bounds before ``env.step`` while PPO sees the unclipped sample). Every update collects
``num_envs x ppo_rollout`` steps and runs ``ppo_epochs`` epochs of ``ppo_minibatches``
minibatches of shuffled single transitions at the constant learning rate ``hp.lr`` (a
:class:`ued.ppo.PPOParams` field, so one program can train a population with different sampled
rates).

DQN and TD3 interleave one environment step of every env with gradient steps: each iteration
of their scanned loop is a one-step rollout (:func:`ued.rollout.rollout`, ``num_steps=1``) under
an exploring policy function (epsilon-greedy Q-network; actor plus Gaussian noise, uniform
actions before ``learning_starts``) followed by the gradient steps; their networks are
:class:`ued.networks.MLP` and their optimiser :func:`ued.optim.make_adam`
(``clip_by_global_norm(0.5) -> adam(eps=1e-5)``, the rate applied by
:func:`ued.optim.apply_step`). TD3 does one gradient step per environment step by default
(``gradient_steps``); with it TD3 reaches -165, -121 and -176 on the real Pendulum in 20k steps
(three seeds vmapped, ~8 s on 2 CPU cores).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from meta.learner_base import (
    DEFAULT_RANGES,
    HPARAM_NAMES,
    LEARNERS,
    Learner,
    LearnerConfig,
    LearnerHParams,
    _action_info,
    _ActionInfo,
    _make_sampler,
    _resolve_ranges,
    _start,
    _step_fn,
    default_hparams,
)
from meta.offpolicy import _make_dqn, _make_td3
from ued.networks import ACTIVATIONS, NetworkConfig, make_actor_critic
from ued.ppo import PPOConfig, PPOParams, init_student, make_learner_step
from ued.rollout import PolicyStep, first_episode_return, rollout

# ----------------------------------------------------------------------------- PPO


def _make_ppo(env, config: LearnerConfig, info: _ActionInfo, ranges: dict) -> Learner:
    E, T = config.num_envs, config.ppo_rollout
    num_updates = max(1, config.num_steps // (E * T))
    nm = config.ppo_minibatches
    if (E * T) % nm:
        raise ValueError(
            f"LearnerConfig.ppo_minibatches={nm} must divide num_envs*ppo_rollout={E * T}"
        )
    net = make_actor_critic(
        NetworkConfig.mlp(config.hidden, config.layers, config.activation),
        info.n,
        continuous=not info.discrete,
    )
    ppo_config = PPOConfig(
        num_epochs=config.ppo_epochs, num_minibatches=nm, minibatch_axis="sample"
    )

    def to_env(a):
        if info.discrete:
            return a
        return jnp.clip(a, info.low, info.high)

    # the env gets the clipped action; the trajectory keeps the sample PPO's ratio needs
    learner = make_learner_step(
        ppo_config, net, num_steps=T, step_fn=_step_fn(env, to_env), episode_stats=False
    )

    def act(agent, obs, key, deterministic: bool = True):
        # obs float32[..., obs_dim] -> action int32[...] or float32[..., A] in the env's bounds
        lead = obs.shape[:-1]
        flat = obs.reshape(1, -1, obs.shape[-1])
        _, out, _ = net.apply(agent, (), flat, jnp.zeros(flat.shape[:2], bool))
        out = jax.tree.map(lambda y: y.reshape(lead + y.shape[2:]), out)
        a = net.dist.mode(out) if deterministic else net.dist.sample(key, out)
        return to_env(a)

    def train(key, env_params, hp: LearnerHParams):
        k_init, k_env, key = jax.random.split(key, 3)
        params = PPOParams(
            gamma=hp.gamma,
            gae_lambda=hp.gae_lambda,
            clip_eps=hp.clip_eps,
            vf_coef=hp.vf_coef,
            ent_coef=hp.ent_coef,
            lr=hp.lr,
            lr_anneal_updates=0,  # constant learning rate
        )
        rc = _start(env, k_env, env_params, E, net.initial_carry(E))
        student = init_student(k_init, ppo_config, net, rc.obs)

        def update(carry, k):
            student, rc = carry
            student, col, _ = learner.step(k, student, rc, env_params, params)
            return (student, col.carry), None

        (student, _), _ = jax.lax.scan(update, (student, rc), jax.random.split(key, num_updates))
        return student.params

    return Learner("ppo", config, ranges, _make_sampler(ranges), train, act)


# ----------------------------------------------------------------------------- factory

_FACTORIES = {"ppo": _make_ppo, "dqn": _make_dqn, "td3": _make_td3}


def make_learner(
    name: str, env: Any, config: LearnerConfig | None = None, env_params: Any = None
) -> Learner:
    """Build learner ``name`` (one of :data:`LEARNERS`) for the gymnax-style ``env``.

    ``env_params`` (default ``env.default_params``) is only used to read the spaces; ``train``
    takes the params to train on as an argument. Raises ``ValueError`` for an unknown name or
    a learner that does not fit the action space (DQN: discrete only; TD3: continuous only).
    """
    if name not in _FACTORIES:
        raise ValueError(f"learner: unknown learner {name!r}; allowed: {LEARNERS}")
    config = LearnerConfig() if config is None else config
    env_params = env.default_params if env_params is None else env_params
    info = _action_info(env, env_params)
    return _FACTORIES[name](env, config, info, _resolve_ranges(name, config))


def learners_for(discrete: bool) -> tuple[str, ...]:
    """The learners that fit a discrete or continuous action space."""
    return ("ppo", "dqn") if discrete else ("ppo", "td3")


def evaluate_gymnax(
    key: jax.Array,
    env: Any,
    env_params: Any,
    act: Callable,
    agent: Any,
    num_episodes: int,
    max_steps: int,
    deterministic: bool = False,
    horizon: jax.Array | int | None = None,
) -> jax.Array:
    """Mean undiscounted return of the first episode of ``num_episodes`` parallel rollouts,
    cut at ``max_steps`` (static) and, if given, at the dynamic ``horizon`` (int32[], at most
    ``max_steps``; the evaluation-horizon curriculum). ``act(agent, obs float32[E, obs_dim],
    key, deterministic)`` picks the actions (a :class:`Learner`'s ``act``). Jittable. Returns
    float32[]."""
    k_reset, k_roll = jax.random.split(key)

    def policy(k, agent, carry, obs, reset):
        return PolicyStep(carry, act(agent, obs, k, deterministic))

    res = rollout(
        k_roll,
        _start(env, k_reset, env_params, num_episodes),
        agent,
        env_params,
        policy=policy,
        step_fn=_step_fn(env),
        num_steps=max_steps,
        episode_stats=False,
    )
    return jnp.mean(first_episode_return(res.traj, horizon))


__all__ = [
    "ACTIVATIONS",
    "DEFAULT_RANGES",
    "HPARAM_NAMES",
    "LEARNERS",
    "Learner",
    "LearnerConfig",
    "LearnerHParams",
    "default_hparams",
    "evaluate_gymnax",
    "learners_for",
    "make_learner",
]
