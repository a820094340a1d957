"""What every inner-loop learner of ``meta.learners`` shares: the learner names, the sampled
hyperparameters (:class:`LearnerHParams`, :data:`DEFAULT_RANGES`), the static
:class:`LearnerConfig`, the :class:`Learner` record and the pieces the PPO, DQN and TD3 learners
are built from (networks, action facts, exploring one-step rollouts). See
:mod:`meta.learners`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from ued.networks import MLP, check_activation
from ued.rollout import RolloutCarry, rollout
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
