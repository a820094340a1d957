"""Synthetic environments whose dynamics are small neural networks that ES meta-learns.

Two kinds, both parameterised by a :class:`SynthParams` pytree (the thing ES evolves):

* **SCB** (synthetic contextual bandit): an initial-state network maps a latent
  ``z ~ N(0, I)`` to an observation, a reward network maps ``(obs, action)`` to a reward, and
  every episode lasts ONE step (``terminated=True`` after the first action).
* **MDP** (synthetic MDP): adds a transition network (``next = obs + scale * delta(obs, a)``)
  and a termination network (``terminated ~ Bernoulli(sigmoid(logit(obs, a)))``); episodes are
  cut at ``max_steps`` (``truncated``).

Each head is a :class:`ued.networks.MLP` with one hidden layer (``hidden`` units, ReLU) and
flax's default initialisation (LeCun-normal kernels, zero biases); its parameters are the flax
variable dict ``{"params": {"Dense_0": {"kernel", "bias"}, "Dense_1": {...}}}``. The ES mean
starts there (:func:`init_synth_params`). Observations live in the target environment's raw coordinates:
networks see ``(obs - obs_mean) / obs_scale`` and emit normalised values that are mapped back,
so an agent trained here is evaluated on the real environment without any adapter.

Two views of the same dynamics:

* :class:`SyntheticEnv` follows the ``ued`` contract (``reset_to_level`` / ``step`` without
  auto-reset). Its level is the latent ``z`` (:class:`SynthLevel`); :func:`make_latent_level_space`
  samples it.
* :class:`SynthGymnaxEnv` is gymnax-style (``reset(key, params)``, ``step`` with the toolkit's
  auto-reset :func:`ued.wrappers.auto_reset`, ``info["final_observation"]``), so gymnax-style
  learners (``meta.learners``) train on it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

import ued
from ued.networks import MLP
from ued.wrappers import auto_reset

KINDS = ("scb", "mdp")


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """Static description of a synthetic environment (shapes must match the target env).

    Attributes:
      obs_dim: observation size (flat vector observations only).
      discrete: discrete actions (``num_actions`` of them) or a continuous box.
      num_actions: number of discrete actions, or the action dimension when continuous.
      action_low, action_high: box bounds for continuous actions (ignored when discrete).
      obs_mean, obs_scale: per-dimension affine map between network space and raw observations.
      kind: ``"scb"`` (one-step episodes) or ``"mdp"``.
      hidden: hidden units of each head.
      max_steps: episode length limit for ``"mdp"`` (``"scb"`` always uses 1).
      reward_scale: the reward head's output is multiplied by this.
    """

    obs_dim: int
    discrete: bool
    num_actions: int
    action_low: float = -1.0
    action_high: float = 1.0
    obs_mean: tuple[float, ...] | None = None
    obs_scale: tuple[float, ...] | None = None
    kind: str = "scb"
    hidden: int = 32
    max_steps: int = 200
    reward_scale: float = 1.0

    def __post_init__(self):
        if not isinstance(self.obs_dim, int) or self.obs_dim < 1:
            raise ValueError(f"SynthConfig.obs_dim must be an int >= 1, got {self.obs_dim!r}")
        if not isinstance(self.num_actions, int) or self.num_actions < 1:
            raise ValueError(
                f"SynthConfig.num_actions must be an int >= 1, got {self.num_actions!r}"
            )
        if self.discrete and self.num_actions < 2:
            raise ValueError("SynthConfig.num_actions must be >= 2 for discrete actions")
        if self.kind not in KINDS:
            raise ValueError(f"SynthConfig.kind must be one of {KINDS}, got {self.kind!r}")
        if not isinstance(self.hidden, int) or not 1 <= self.hidden <= 4096:
            raise ValueError(f"SynthConfig.hidden must be an int in [1, 4096], got {self.hidden!r}")
        if not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise ValueError(f"SynthConfig.max_steps must be an int >= 1, got {self.max_steps!r}")
        if not self.action_low < self.action_high:
            raise ValueError("SynthConfig.action_low must be < action_high")
        for name in ("obs_mean", "obs_scale"):
            v = getattr(self, name)
            if v is not None and len(v) != self.obs_dim:
                raise ValueError(f"SynthConfig.{name} must have obs_dim={self.obs_dim} entries")
        if self.obs_scale is not None and not all(s > 0 for s in self.obs_scale):
            raise ValueError("SynthConfig.obs_scale entries must all be > 0")

    @property
    def action_in(self) -> int:
        """Size of the action encoding fed to the networks (one-hot or the action vector)."""
        return self.num_actions


@struct.dataclass
class SynthParams:
    """The evolved pytree. ``transition`` and ``termination`` are ``None`` for an SCB."""

    # each head: the variables of a one-hidden-layer ``ued.networks.MLP`` (see ``_head``)
    init_state: Any  # z (obs_dim) -> normalised obs (obs_dim)
    reward: Any  # normalised obs ⊕ action encoding -> 1
    transition: Any = None  # normalised obs ⊕ action -> delta (obs_dim)
    termination: Any = None  # normalised obs ⊕ action -> termination logit


@struct.dataclass
class SynthLevel:
    """The latent noise an episode starts from (the SCB's context generator input)."""

    z: jax.Array  # float32[obs_dim]


@struct.dataclass
class SynthState:
    obs: jax.Array  # float32[obs_dim] raw-space observation
    time: jax.Array  # int32[] steps taken in the episode


def _head(config: SynthConfig, n_out: int) -> MLP:
    # LeCun-normal kernels and zero biases (flax's Dense default): the ES mean's starting point
    return MLP(hidden=(config.hidden,), out=n_out, activation="relu", kernel_init="lecun")


def _head_apply(config: SynthConfig, variables: Any, x: jax.Array) -> jax.Array:
    """One head: float32[..., in] -> float32[..., out] (``out`` read from the variables)."""
    n_out = variables["params"]["Dense_1"]["bias"].shape[-1]
    return _head(config, n_out).apply(variables, x)


def init_synth_params(key: jax.Array, config: SynthConfig) -> SynthParams:
    """Default initialisation of every head (the ES mean starts here). Jittable."""
    k_i, k_r, k_t, k_d = jax.random.split(key, 4)
    d, a = config.obs_dim, config.action_in
    z = jnp.zeros((d,), jnp.float32)
    za = jnp.zeros((d + a,), jnp.float32)
    params = SynthParams(
        init_state=_head(config, d).init(k_i, z),
        reward=_head(config, 1).init(k_r, za),
    )
    if config.kind == "mdp":
        params = params.replace(
            transition=_head(config, d).init(k_t, za),
            termination=_head(config, 1).init(k_d, za),
        )
    return params


def num_params(params: SynthParams) -> int:
    """Total number of scalars in ``params``. Host-only."""
    return int(sum(x.size for x in jax.tree.leaves(params)))


def _affine(config: SynthConfig) -> tuple[jax.Array, jax.Array]:
    d = config.obs_dim
    mean = jnp.zeros((d,), jnp.float32) if config.obs_mean is None else config.obs_mean
    scale = jnp.ones((d,), jnp.float32) if config.obs_scale is None else config.obs_scale
    return jnp.asarray(mean, jnp.float32), jnp.asarray(scale, jnp.float32)


def encode_action(config: SynthConfig, action: jax.Array) -> jax.Array:
    """Discrete: one-hot ``float32[A]``; continuous: rescaled to ``[-1, 1]^A``. Jittable."""
    if config.discrete:
        return jax.nn.one_hot(jnp.asarray(action, jnp.int32), config.num_actions, dtype=jnp.float32)
    a = jnp.reshape(jnp.asarray(action, jnp.float32), (config.num_actions,))
    a = jnp.clip(a, config.action_low, config.action_high)
    mid = 0.5 * (config.action_high + config.action_low)
    half = 0.5 * (config.action_high - config.action_low)
    return (a - mid) / half


def initial_obs(config: SynthConfig, params: SynthParams, z: jax.Array) -> jax.Array:
    """Latent ``float32[obs_dim]`` -> raw-space initial observation ``float32[obs_dim]``."""
    mean, scale = _affine(config)
    return mean + scale * _head_apply(config, params.init_state, z)


def reward_fn(
    config: SynthConfig, params: SynthParams, obs: jax.Array, action: jax.Array
) -> jax.Array:
    """Reward ``float32[]`` of ``action`` in raw-space ``obs``. Jittable (vmap for batches)."""
    mean, scale = _affine(config)
    x = jnp.concatenate([(obs - mean) / scale, encode_action(config, action)])
    return config.reward_scale * _head_apply(config, params.reward, x)[0]


class SyntheticEnv(ued.Environment):
    """A synthetic environment under the ``ued`` contract (no auto-reset).

    ``params`` is a :class:`SynthParams`; the level is a :class:`SynthLevel` (latent ``z``).
    SCB: every step ends the episode with ``terminated=True``. MDP: ``terminated`` from the
    termination network (sampled), ``truncated`` at ``max_steps``.
    """

    def __init__(self, config: SynthConfig, default_params: SynthParams | None = None):
        self.config = config
        self._default = default_params

    @property
    def name(self) -> str:
        return f"synthetic/{self.config.kind}"

    @property
    def default_params(self) -> SynthParams:
        if self._default is None:
            self._default = init_synth_params(jax.random.key(0), self.config)
        return self._default

    def action_space(self, params: Any = None) -> ued.Discrete | ued.Box:
        c = self.config
        if c.discrete:
            return ued.Discrete(c.num_actions)
        return ued.Box(c.action_low, c.action_high, (c.num_actions,), jnp.float32)

    def observation_space(self, params: Any = None) -> ued.Box:
        return ued.Box(-jnp.inf, jnp.inf, (self.config.obs_dim,), jnp.float32)

    def reset_to_level(self, key, level: SynthLevel, params: SynthParams):
        obs = initial_obs(self.config, params, level.z.astype(jnp.float32))
        return obs, SynthState(obs=obs, time=jnp.zeros((), jnp.int32))

    def step(self, key, state: SynthState, action, params: SynthParams):
        c = self.config
        reward = reward_fn(c, params, state.obs, action).astype(jnp.float32)
        time = state.time + 1
        if c.kind == "scb":
            obs = state.obs
            terminated = jnp.ones((), bool)
            truncated = jnp.zeros((), bool)
        else:
            mean, scale = _affine(c)
            x = jnp.concatenate([(state.obs - mean) / scale, encode_action(c, action)])
            obs = state.obs + scale * _head_apply(c, params.transition, x)
            # keep the state bounded so a random network cannot blow up to inf
            obs = jnp.clip(obs, mean - 1e3 * scale, mean + 1e3 * scale).astype(jnp.float32)
            logit = _head_apply(c, params.termination, x)[0]
            terminated = jax.random.bernoulli(key, jax.nn.sigmoid(logit))
            truncated = jnp.logical_and(time >= c.max_steps, jnp.logical_not(terminated))
        return (
            obs,
            SynthState(obs=obs, time=time),
            reward,
            terminated,
            truncated,
            {"solved": jnp.zeros((), bool)},
        )


def make_latent_level_space(config: SynthConfig) -> ued.LevelSpace:
    """The level space of :class:`SyntheticEnv`: ``z ~ N(0, I_obs_dim)``; mutate adds noise."""
    d = config.obs_dim

    def sample(key):
        return SynthLevel(jax.random.normal(key, (d,), jnp.float32))

    def mutate(key, level):
        return SynthLevel(level.z + 0.1 * jax.random.normal(key, (d,), jnp.float32))

    return ued.LevelSpace(
        name=f"synthetic/{config.kind}/latent",
        placeholder=SynthLevel(jnp.zeros((d,), jnp.float32)),
        sample=sample,
        mutate=mutate,
        is_valid=lambda lv: jnp.all(jnp.isfinite(lv.z)),
        descriptor=lambda lv: lv.z[:2].astype(jnp.float32),
    )


class SynthGymnaxEnv:
    """Gymnax-style view of :class:`SyntheticEnv`: ``reset(key, params)`` samples the latent,
    ``step`` auto-resets (gymnax 1.x: 6 outputs, ``info`` has ``terminated``, ``truncated``,
    ``final_observation`` and ``discount``). ``params`` is a :class:`SynthParams`.
    """

    def __init__(self, config: SynthConfig):
        self.config = config
        self.env = SyntheticEnv(config)
        self.space = make_latent_level_space(config)

    @property
    def default_params(self) -> SynthParams:
        return self.env.default_params

    @property
    def num_actions(self) -> int:
        return self.config.num_actions

    def action_space(self, params: Any = None):
        return self.env.action_space(params)

    def observation_space(self, params: Any = None):
        return self.env.observation_space(params)

    def reset(self, key, params: SynthParams):
        k_lvl, k_reset = jax.random.split(key)
        return self.env.reset_to_level(k_reset, self.space.sample(k_lvl), params)

    def step(self, key, state, action, params: SynthParams):
        k_step, k_reset = jax.random.split(key)
        return auto_reset(
            k_step,
            k_reset,
            lambda k: self.env.step(k, state, action, params),
            lambda k: self.reset(k, params),
            gymnax_info=True,
        )


__all__ = [
    "KINDS",
    "SynthConfig",
    "SynthGymnaxEnv",
    "SynthLevel",
    "SynthParams",
    "SynthState",
    "SyntheticEnv",
    "encode_action",
    "init_synth_params",
    "initial_obs",
    "make_latent_level_space",
    "num_params",
    "reward_fn",
]
