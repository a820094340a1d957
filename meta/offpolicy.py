"""The off-policy inner-loop learners of ``meta.learners``: DQN (discrete actions) and TD3
(continuous actions), with their replay buffer. Each iteration of their scanned loop is a
one-step rollout of every env under an exploring policy (:func:`ued.rollout.rollout`) followed
by gradient steps; their networks are :class:`ued.networks.MLP` and their optimiser
:func:`ued.optim.make_adam`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from meta.learner_base import (
    Learner,
    LearnerConfig,
    LearnerHParams,
    _ActionInfo,
    _explore_step,
    _make_sampler,
    _mlp,
    _start,
)
from ued.optim import apply_step, make_adam
from ued.rollout import PolicyStep

# ----------------------------------------------------------------------------- replay


@struct.dataclass
class Replay:
    obs: jax.Array  # float32[C, obs_dim]
    action: jax.Array  # int32[C] or float32[C, A]
    reward: jax.Array  # float32[C]
    next_obs: jax.Array  # float32[C, obs_dim]
    terminated: jax.Array  # bool[C]
    size: jax.Array  # int32[]
    pos: jax.Array  # int32[]


def _replay_init(cap, obs_dim, action_shape, action_dtype):
    return Replay(
        jnp.zeros((cap, obs_dim), jnp.float32),
        jnp.zeros((cap,) + action_shape, action_dtype),
        jnp.zeros((cap,), jnp.float32),
        jnp.zeros((cap, obs_dim), jnp.float32),
        jnp.zeros((cap,), bool),
        jnp.zeros((), jnp.int32),
        jnp.zeros((), jnp.int32),
    )


def _replay_add(buf: Replay, obs, action, reward, next_obs, term) -> Replay:
    cap = buf.reward.shape[0]
    n = reward.shape[0]
    idx = (buf.pos + jnp.arange(n)) % cap
    return Replay(
        buf.obs.at[idx].set(obs),
        buf.action.at[idx].set(action),
        buf.reward.at[idx].set(reward),
        buf.next_obs.at[idx].set(next_obs),
        buf.terminated.at[idx].set(term),
        jnp.minimum(buf.size + n, cap),
        (buf.pos + n) % cap,
    )


def _replay_sample(key, buf: Replay, batch: int):
    idx = jax.random.randint(key, (batch,), 0, jnp.maximum(buf.size, 1))
    return jax.tree.map(lambda x: x[idx], (buf.obs, buf.action, buf.reward, buf.next_obs)) + (
        buf.terminated[idx],
    )


# ----------------------------------------------------------------------------- DQN


@struct.dataclass
class DQNAgent:
    q: Any


def _make_dqn(env, config: LearnerConfig, info: _ActionInfo, ranges: dict) -> Learner:
    if not info.discrete:
        raise ValueError("learner 'dqn' needs discrete actions; use 'td3' or 'ppo'")
    E = config.num_envs
    iters = max(1, config.num_steps // E)
    cap = config.buffer_size or config.num_steps
    qnet = _mlp(config, info.n, 1.0)
    tx = make_adam()

    def act(agent, obs, key, deterministic: bool = True):
        q = qnet.apply(agent.q, obs)
        return jnp.argmax(q, -1).astype(jnp.int32)

    def loss_fn(p, target_p, batch, hp):
        obs, action, reward, next_obs, term = batch
        q = jnp.take_along_axis(qnet.apply(p, obs), action[:, None], -1)[:, 0]
        q_next = jnp.max(qnet.apply(target_p, next_obs), -1)
        y = reward + hp.gamma * (1.0 - term.astype(jnp.float32)) * q_next
        return jnp.mean(optax.huber_loss(q, jax.lax.stop_gradient(y)))

    grad_fn = jax.grad(loss_fn)

    def explore(key, params, carry, obs, reset):
        # epsilon-greedy: params = (Q-network params, eps float32[])
        p, eps = params
        k_eps, k_rand = jax.random.split(key)
        n = obs.shape[0]
        greedy = act(DQNAgent(p), obs, k_eps)
        rand = jax.random.randint(k_rand, (n,), 0, info.n, jnp.int32)
        return PolicyStep(carry, jnp.where(jax.random.uniform(k_eps, (n,)) < eps, rand, greedy))

    def train(key, env_params, hp: LearnerHParams):
        k_q, k_env, key = jax.random.split(key, 3)
        p = qnet.init(k_q, jnp.zeros((info.obs_dim,), jnp.float32))
        opt_state = tx.init(p)
        rc = _start(env, k_env, env_params, E)
        buf = _replay_init(cap, info.obs_dim, (), jnp.int32)

        def body(carry, x):
            i, k = x
            p, target_p, opt_state, rc, buf = carry
            k_step, k_b = jax.random.split(k)
            t = (i * E).astype(jnp.float32)
            frac = jnp.clip(t / (hp.explore_fraction * config.num_steps), 0.0, 1.0)
            eps = 1.0 + frac * (hp.eps_end - 1.0)
            rc, step = _explore_step(k_step, rc, (p, eps), env, env_params, explore)
            buf = _replay_add(buf, *step)
            g = grad_fn(p, target_p, _replay_sample(k_b, buf, config.batch_size), hp)
            learn = (i + 1) * E >= config.learning_starts
            p_new, o_new = apply_step(tx, g, opt_state, p, hp.lr)
            p, opt_state = jax.tree.map(
                lambda a, b: jnp.where(learn, a, b), (p_new, o_new), (p, opt_state)
            )
            target_p = jax.tree.map(
                lambda tp, q: jnp.where(learn, tp + hp.tau * (q - tp), tp), target_p, p
            )
            return (p, target_p, opt_state, rc, buf), None

        (p, *_), _ = jax.lax.scan(
            body,
            (p, p, opt_state, rc, buf),
            (jnp.arange(iters), jax.random.split(key, iters)),
        )
        return DQNAgent(p)

    return Learner("dqn", config, ranges, _make_sampler(ranges), train, act)


# ----------------------------------------------------------------------------- TD3


@struct.dataclass
class TD3Agent:
    actor: Any
    critic1: Any
    critic2: Any


def _make_td3(env, config: LearnerConfig, info: _ActionInfo, ranges: dict) -> Learner:
    if info.discrete:
        raise ValueError("learner 'td3' needs continuous actions; use 'dqn' or 'ppo'")
    E = config.num_envs
    iters = max(1, config.num_steps // E)
    G = config.gradient_steps or E
    cap = config.buffer_size or config.num_steps
    actor_net = _mlp(config, info.n, 0.01)
    critic_net = _mlp(config, 1, 1.0)
    tx = make_adam()
    mid = 0.5 * (info.high + info.low)
    half = 0.5 * (info.high - info.low)

    def pi(actor_p, obs):
        return mid + half * jnp.tanh(actor_net.apply(actor_p, obs))

    def q(cp, obs, a):
        return critic_net.apply(cp, jnp.concatenate([obs, (a - mid) / half], -1))[..., 0]

    def act(agent, obs, key, deterministic: bool = True):
        return pi(agent.actor, obs)

    def critic_loss(cps, agent_t, batch, key, hp):
        obs, action, reward, next_obs, term = batch
        noise = jnp.clip(0.2 * jax.random.normal(key, action.shape), -0.5, 0.5) * half
        a2 = jnp.clip(pi(agent_t.actor, next_obs) + noise, info.low, info.high)
        q_next = jnp.minimum(q(agent_t.critic1, next_obs, a2), q(agent_t.critic2, next_obs, a2))
        y = jax.lax.stop_gradient(reward + hp.gamma * (1.0 - term.astype(jnp.float32)) * q_next)
        c1, c2 = cps
        return jnp.mean((q(c1, obs, action) - y) ** 2) + jnp.mean((q(c2, obs, action) - y) ** 2)

    def actor_loss(ap, c1, obs):
        return -jnp.mean(q(c1, obs, pi(ap, obs)))

    c_grad = jax.grad(critic_loss)
    a_grad = jax.grad(actor_loss)

    def explore(key, params, carry, obs, reset):
        # params = (actor params, warm bool[] (uniform actions), explore_noise float32[])
        actor_p, warm, noise_scale = params
        k_n, k_rand = jax.random.split(key)
        shape = (obs.shape[0], info.n)
        noisy = pi(actor_p, obs) + noise_scale * half * jax.random.normal(k_n, shape)
        rand = jax.random.uniform(k_rand, shape, minval=info.low, maxval=info.high)
        return PolicyStep(carry, jnp.clip(jnp.where(warm, rand, noisy), info.low, info.high))

    def train(key, env_params, hp: LearnerHParams):
        k_a, k_c1, k_c2, k_env, key = jax.random.split(key, 5)
        dummy = jnp.zeros((info.obs_dim,), jnp.float32)
        dummy_c = jnp.zeros((info.obs_dim + info.n,), jnp.float32)
        agent = TD3Agent(
            actor_net.init(k_a, dummy),
            critic_net.init(k_c1, dummy_c),
            critic_net.init(k_c2, dummy_c),
        )
        opt_a = tx.init(agent.actor)
        opt_c = tx.init((agent.critic1, agent.critic2))
        rc = _start(env, k_env, env_params, E)
        buf = _replay_init(cap, info.obs_dim, (info.n,), jnp.float32)

        def body(carry, x):
            i, k = x
            agent, agent_t, opt_a, opt_c, rc, buf = carry
            k_step, k_b = jax.random.split(k)
            warm = (i + 1) * E < config.learning_starts
            rc, step = _explore_step(
                k_step, rc, (agent.actor, warm, hp.explore_noise), env, env_params, explore
            )
            buf = _replay_add(buf, *step)
            learn = jnp.logical_not(warm)

            def grad_step(c, xs):
                agent, agent_t, opt_a, opt_c = c
                u, k = xs
                k_b, k_tn = jax.random.split(k)
                batch = _replay_sample(k_b, buf, config.batch_size)
                cps = (agent.critic1, agent.critic2)
                g = c_grad(cps, agent_t, batch, k_tn, hp)
                cps_new, opt_c_new = apply_step(tx, g, opt_c, cps, hp.lr)
                upd_actor = jnp.logical_and(learn, u % config.policy_delay == 0)
                ga = a_grad(agent.actor, cps_new[0], batch[0])
                a_new, opt_a_new = apply_step(tx, ga, opt_a, agent.actor, hp.lr)
                sel = lambda c, a, b: jax.tree.map(lambda x, y: jnp.where(c, x, y), a, b)
                cps, opt_c = sel(learn, (cps_new, opt_c_new), (cps, opt_c))
                actor_p, opt_a = sel(upd_actor, (a_new, opt_a_new), (agent.actor, opt_a))
                agent = TD3Agent(actor_p, cps[0], cps[1])
                agent_t = sel(
                    upd_actor,
                    jax.tree.map(lambda t, s: t + hp.tau * (s - t), agent_t, agent),
                    agent_t,
                )
                return (agent, agent_t, opt_a, opt_c), None

            # G gradient steps per iteration of E env steps (update-to-data ratio G / E); the
            # policy delay counts gradient steps, as in TD3
            (agent, agent_t, opt_a, opt_c), _ = jax.lax.scan(
                grad_step,
                (agent, agent_t, opt_a, opt_c),
                (i * G + jnp.arange(G), jax.random.split(k_b, G)),
            )
            return (agent, agent_t, opt_a, opt_c, rc, buf), None

        (agent, *_), _ = jax.lax.scan(
            body,
            (agent, agent, opt_a, opt_c, rc, buf),
            (jnp.arange(iters), jax.random.split(key, iters)),
        )
        return agent

    return Learner("td3", config, ranges, _make_sampler(ranges), train, act)
