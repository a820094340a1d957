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

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from ued.networks import ACTIVATIONS, MLP, NetworkConfig, check_activation, make_actor_critic
from ued.optim import apply_step, make_adam
from ued.ppo import PPOConfig, PPOParams, init_student, make_learner_step
from ued.rollout import PolicyStep, RolloutCarry, first_episode_return, rollout
from ued.validation import require_ints

LEARNERS = ("ppo", "dqn", "td3")

# Default sampling ranges per learner (uniform; names starting with "lr" are log-uniform).
DEFAULT_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "ppo": {
        "lr": (5e-4, 5e-3),
        "gamma": (0.9, 0.99),
        "gae_lambda": (0.8, 0.95),
        "clip_eps": (0.1, 0.3),
        "ent_coef": (0.0, 0.01),
        "vf_coef": (0.5, 1.0),
    },
    "dqn": {
        "lr": (3e-4, 3e-3),
        "gamma": (0.9, 0.99),
        "tau": (0.005, 0.05),
        "explore_fraction": (0.1, 0.4),
        "eps_end": (0.01, 0.1),
    },
    "td3": {
        "lr": (3e-4, 3e-3),
        "gamma": (0.9, 0.99),
        "tau": (0.005, 0.05),
        "explore_noise": (0.1, 0.4),
    },
}


@struct.dataclass
class LearnerHParams:
    """Per-run hyperparameters (float32 scalars; vmappable). Unused fields are ignored."""

    lr: jax.Array
    gamma: jax.Array
    gae_lambda: jax.Array
    clip_eps: jax.Array
    ent_coef: jax.Array
    vf_coef: jax.Array
    tau: jax.Array
    explore_fraction: jax.Array
    eps_end: jax.Array
    explore_noise: jax.Array


HPARAM_NAMES = tuple(f.name for f in dataclasses.fields(LearnerHParams))
_HP_DEFAULTS = {
    "lr": 1e-3,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_eps": 0.2,
    "ent_coef": 0.0,
    "vf_coef": 0.5,
    "tau": 0.01,
    "explore_fraction": 0.2,
    "eps_end": 0.05,
    "explore_noise": 0.2,
}


@dataclasses.dataclass(frozen=True)
class LearnerConfig:
    """Static learner settings.

    Attributes:
      num_steps: environment steps per training run (all parallel envs together).
      num_envs: parallel environments.
      hidden, layers, activation: the MLP(s) of the agent (actor, critic or Q-network).
      ranges: ``((name, low, high), ...)`` overriding :data:`DEFAULT_RANGES` for this learner;
        ``low == high`` fixes a value.
      ppo_rollout, ppo_epochs, ppo_minibatches: PPO batch shape (``num_envs * ppo_rollout``
        steps per update).
      buffer_size, batch_size, learning_starts: off-policy (DQN/TD3) replay settings; the
        buffer defaults to ``num_steps`` (nothing is ever overwritten).
      policy_delay: TD3 actor/target update period (in gradient steps).
      gradient_steps: TD3 gradient steps per iteration of ``num_envs`` env steps; 0 means
        ``num_envs`` (one per environment step, TD3's usual update-to-data ratio). DQN does one
        gradient step per iteration.
    """

    num_steps: int = 10_000
    num_envs: int = 8
    hidden: int = 64
    layers: int = 2
    activation: str = "tanh"
    ranges: tuple[tuple[str, float, float], ...] = ()
    ppo_rollout: int = 32
    ppo_epochs: int = 4
    ppo_minibatches: int = 4
    buffer_size: int | None = None
    batch_size: int = 64
    learning_starts: int = 500
    policy_delay: int = 2
    gradient_steps: int = 0

    def __post_init__(self):
        require_ints(
            self,
            (
                "num_steps",
                "num_envs",
                "hidden",
                "layers",
                "ppo_rollout",
                "ppo_epochs",
                "ppo_minibatches",
                "batch_size",
                "policy_delay",
            ),
        )
        check_activation(self.activation, "LearnerConfig.activation")
        if self.num_steps < self.num_envs:
            raise ValueError("LearnerConfig.num_steps must be >= num_envs")
        if self.learning_starts < 0:
            raise ValueError("LearnerConfig.learning_starts must be >= 0")
        if not isinstance(self.gradient_steps, int) or self.gradient_steps < 0:
            raise ValueError(
                f"LearnerConfig.gradient_steps must be an int >= 0, got {self.gradient_steps!r}"
            )
        if self.buffer_size is not None and self.buffer_size < self.batch_size:
            raise ValueError("LearnerConfig.buffer_size must be >= batch_size")
        for r in self.ranges:
            if len(r) != 3 or r[0] not in HPARAM_NAMES or not float(r[1]) <= float(r[2]):
                raise ValueError(
                    f"LearnerConfig.ranges entries must be (name, low, high) with low <= high "
                    f"and name in {HPARAM_NAMES}, got {r!r}"
                )


class Learner(NamedTuple):
    """Pure functions of one learner (see :func:`make_learner`)."""

    name: str
    config: LearnerConfig
    ranges: dict  # name -> (low, high) actually sampled from
    sample_hparams: Callable[[jax.Array], LearnerHParams]
    train: Callable[[jax.Array, Any, LearnerHParams], Any]
    act: Callable[[Any, jax.Array, jax.Array, bool], jax.Array]


# ----------------------------------------------------------------------------- shared pieces


def _mlp(config: LearnerConfig, out: int, out_scale: float) -> MLP:
    # ``layers`` x ``hidden`` units, orthogonal init (hidden gain sqrt(2)), as the PPO agent's
    return MLP(
        hidden=(config.hidden,) * config.layers,
        out=out,
        activation=config.activation,
        kernel_init="orthogonal",
        hidden_scale=float(np.sqrt(2.0)),
        out_scale=out_scale,
    )


class _ActionInfo(NamedTuple):
    discrete: bool
    n: int  # actions (discrete) or action dims
    low: jax.Array
    high: jax.Array
    obs_dim: int


def _action_info(env: Any, env_params: Any) -> _ActionInfo:
    space = env.action_space(env_params)
    obs_shape = jax.eval_shape(lambda k: env.reset(k, env_params)[0], jax.random.key(0)).shape
    if len(obs_shape) != 1:
        raise ValueError(f"learners need flat vector observations, got shape {obs_shape}")
    if hasattr(space, "n"):
        return _ActionInfo(True, int(space.n), jnp.zeros(()), jnp.zeros(()), obs_shape[0])
    shape = tuple(space.shape) or (1,)
    low = jnp.broadcast_to(jnp.asarray(space.low, jnp.float32), shape)
    high = jnp.broadcast_to(jnp.asarray(space.high, jnp.float32), shape)
    return _ActionInfo(False, int(np.prod(shape)), low, high, obs_shape[0])


def _resolve_ranges(name: str, config: LearnerConfig) -> dict:
    ranges = dict(DEFAULT_RANGES[name])
    for n, lo, hi in config.ranges:
        ranges[n] = (float(lo), float(hi))
    return ranges


def _make_sampler(ranges: dict) -> Callable[[jax.Array], LearnerHParams]:
    names = HPARAM_NAMES

    def sample(key):
        keys = jax.random.split(key, len(names))
        vals = {}
        for k, n in zip(keys, names, strict=True):
            if n not in ranges:
                vals[n] = jnp.float32(_HP_DEFAULTS[n])
                continue
            lo, hi = ranges[n]
            u = jax.random.uniform(k, (), jnp.float32)
            if n.startswith("lr") and lo > 0:
                vals[n] = jnp.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))).astype(jnp.float32)
            else:
                vals[n] = jnp.float32(lo) + u * jnp.float32(hi - lo)
        return LearnerHParams(**vals)

    return sample


def default_hparams(**overrides: float) -> LearnerHParams:
    """:class:`LearnerHParams` with defaults, selected fields overridden. Host-side helper."""
    vals = dict(_HP_DEFAULTS)
    for k, v in overrides.items():
        if k not in vals:
            raise ValueError(f"unknown hyperparameter {k!r}; allowed: {HPARAM_NAMES}")
        vals[k] = v
    return LearnerHParams(**{k: jnp.float32(v) for k, v in vals.items()})


def _start(env, key, env_params, n, carry=()) -> RolloutCarry:
    """``n`` freshly reset environments as a rollout's start (float32 observations)."""
    obs, state = jax.vmap(env.reset, (0, None))(jax.random.split(key, n), env_params)
    return RolloutCarry.start(state, obs.astype(jnp.float32), carry)


def _step_fn(env, to_env=None):
    """One environment's step for :func:`ued.rollout.rollout`: the env gets ``to_env(action)``
    (the trajectory keeps the action itself), observations become float32 and ``info`` is
    ``{"next_obs": ...}``, the observation the step led to (with auto-reset, ``obs`` of a
    finished episode is the NEXT episode's first one; the replay needs the final one)."""

    def step_fn(key, state, action, env_params):
        a = action if to_env is None else to_env(action)
        obs, state, reward, term, trunc, info = env.step(key, state, a, env_params)
        next_obs = info.get("final_observation", obs).astype(jnp.float32)
        return obs.astype(jnp.float32), state, reward, term, trunc, {"next_obs": next_obs}

    return step_fn


def _explore_step(key, rc: RolloutCarry, params, env, env_params, policy) -> tuple:
    """One step of every environment under the exploring ``policy``:
    ``(rc, (obs, action, reward float32, next_obs, terminated))`` for the replay (leaves
    ``(E, ...)``)."""
    res = rollout(
        key,
        rc,
        params,
        env_params,
        policy=policy,
        step_fn=_step_fn(env),
        num_steps=1,
        record_info=("next_obs",),
        episode_stats=False,
    )
    tr = res.traj
    step = (tr.obs, tr.action, tr.reward, res.info["next_obs"], tr.terminated)
    return res.carry, jax.tree.map(lambda x: x[0], step)


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
