"""Any gymnax environment as a level space: chosen ``EnvParams`` fields become the level.

    space, env = make_gymnax_level_space("CartPole-v1", {"length": (0.2, 2.0), "masspole": (0.05, 1.0)})

gives a :class:`ued.LevelSpace` (sample uniformly in the ranges, mutate by perturbing ONE field,
render as a small bar chart of the normalised fields) and an environment that satisfies the
``ued`` contract on those levels, so every curriculum works on any gymnax environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import gymnax
import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces as gspaces

import ued


@struct.dataclass
class GymnaxLevel:
    values: jax.Array  # float32[F] the chosen EnvParams fields, in the order of `fields`


@struct.dataclass
class GymnaxLevelState:
    env_state: Any  # the gymnax environment's state
    env_params: Any  # the gymnax EnvParams with the level's fields written in


def _strong(tree: Any) -> Any:
    """Cast every leaf to its own dtype, dropping weak types (which cause retraces in scans)."""
    return jax.tree.map(lambda x: jnp.array(x, dtype=jnp.asarray(x).dtype), tree)


def _cartpole_derive(p):
    # CartPole caches products of its physical constants; keep them consistent with the level.
    return p.replace(total_mass=p.masspole + p.masscart, polemass_length=p.masspole * p.length)


DERIVED_PARAMS: dict[str, Callable[[Any], Any]] = {"CartPole-v1": _cartpole_derive}


class GymnaxLevelEnv(ued.Environment):
    """A gymnax environment whose params fields ``fields`` are set by the level.

    ``params`` at call time are the base gymnax ``EnvParams``. ``terminated`` is the gymnax done
    flag minus time-outs; ``truncated`` is ``time >= max_steps_in_episode``. ``info["solved"]`` is
    ``truncated`` when ``solved_on == "truncated"`` (survival tasks like CartPole), else
    ``terminated``.
    """

    def __init__(
        self,
        env,
        base_params,
        fields: tuple[str, ...],
        derive=None,
        solved_on="terminated",
        env_name: str = "",
    ):
        self.env = env
        self.base_params = base_params
        self.fields = tuple(fields)
        self.derive = derive
        self.solved_on = solved_on
        self.env_name = env_name or type(env).__name__

    @property
    def name(self) -> str:
        return f"gymnax/{self.env_name}"

    @property
    def default_params(self):
        return self.base_params

    def _params_for(self, level: GymnaxLevel, params):
        upd = {}
        for i, f in enumerate(self.fields):
            old = getattr(params, f)
            upd[f] = jnp.asarray(level.values[i]).astype(jnp.asarray(old).dtype)
        p = params.replace(**upd)
        return self.derive(p) if self.derive is not None else p

    def action_space(self, params=None):
        sp = self.env.action_space(self.base_params if params is None else params)
        if isinstance(sp, gspaces.Discrete):
            return ued.Discrete(int(sp.n))
        return ued.Box(sp.low, sp.high, tuple(sp.shape), jnp.float32)

    def observation_space(self, params=None):
        sp = self.env.observation_space(self.base_params if params is None else params)
        return ued.Box(sp.low, sp.high, tuple(sp.shape), jnp.float32)

    def reset_to_level(self, key, level, params):
        p = self._params_for(level, params)
        obs, s = self.env.reset_env(key, p)
        return obs.astype(jnp.float32), GymnaxLevelState(_strong(s), p)

    def step(self, key, state, action, params):
        p = state.env_params
        obs, s, reward, done, _ = self.env.step_env(key, state.env_state, action, p)
        time = getattr(s, "time", None)
        if time is not None:
            truncated = jnp.asarray(time >= p.max_steps_in_episode)
        else:
            truncated = jnp.zeros((), bool)
        done = jnp.asarray(done, bool)
        terminated = jnp.logical_and(done, jnp.logical_not(truncated))
        truncated = jnp.logical_and(done, truncated)
        solved = truncated if self.solved_on == "truncated" else terminated
        return (
            obs.astype(jnp.float32),
            GymnaxLevelState(_strong(s), p),
            jnp.asarray(reward, jnp.float32),
            terminated,
            truncated,
            {"solved": solved},
        )


def make_gymnax_level_space(
    env: str | Any,
    fields: Mapping[str, tuple[float, float]],
    *,
    env_params: Any = None,
    mutation_scale: float = 0.1,
    solved_on: str = "terminated",
) -> tuple[ued.LevelSpace, GymnaxLevelEnv]:
    """Build ``(space, env)`` from a gymnax env (id string or instance) and ranges of params fields.

    Args:
      env: gymnax id (e.g. ``"CartPole-v1"``) or an environment instance (then pass ``env_params``).
      fields: ``{field_name: (low, high)}``; each must be a scalar field of the env's EnvParams.
      mutation_scale: std of the Gaussian step of one mutation, as a fraction of the field's range.
      solved_on: ``"terminated"`` or ``"truncated"`` — which episode end counts as solved.

    Returns a level space over ``GymnaxLevel(values=float32[F])`` and the matching environment.
    Raises ``ValueError`` naming an unknown field or an empty/inverted range.
    """
    env_name = ""
    if isinstance(env, str):
        env_name = env
        env, default = gymnax.make(env)
        env_params = default if env_params is None else env_params
    elif env_params is None:
        env_params = env.default_params
    if not fields:
        raise ValueError("fields: give at least one EnvParams field with a (low, high) range")
    if solved_on not in ("terminated", "truncated"):
        raise ValueError(f"solved_on must be 'terminated' or 'truncated', got {solved_on!r}")
    if not 0.0 < mutation_scale <= 1.0:
        raise ValueError(f"mutation_scale must be in (0, 1], got {mutation_scale}")
    valid = {f.name for f in dataclasses.fields(env_params)}
    names = tuple(fields)
    for n in names:
        if n not in valid:
            raise ValueError(
                f"fields: {n!r} is not a field of {type(env_params).__name__}; allowed: {sorted(valid)}"
            )
        lo, hi = fields[n]
        if not (float(lo) < float(hi)):
            raise ValueError(f"fields[{n!r}]: need low < high, got ({lo}, {hi})")
    low = jnp.asarray([float(fields[n][0]) for n in names], jnp.float32)
    high = jnp.asarray([float(fields[n][1]) for n in names], jnp.float32)
    nf = len(names)

    def sample(key):
        return GymnaxLevel(jax.random.uniform(key, (nf,), jnp.float32, low, high))

    def mutate(key, level):
        k_i, k_d = jax.random.split(key)
        i = jax.random.randint(k_i, (), 0, nf)
        step = jax.random.normal(k_d, (), jnp.float32) * mutation_scale * (high[i] - low[i])
        vals = level.values.at[i].set(jnp.clip(level.values[i] + step, low[i], high[i]))
        return GymnaxLevel(vals)

    def is_valid(level):
        return jnp.all((level.values >= low) & (level.values <= high) & jnp.isfinite(level.values))

    def descriptor(level):
        return (level.values - low) / (high - low)

    def render(level, bar: int = 8, height: int = 32):
        frac = jnp.clip(descriptor(level), 0.0, 1.0)
        rows = jnp.arange(height)[:, None]
        filled = rows >= jnp.round((1.0 - frac) * height)[None, :]  # (height, F)
        filled = jnp.repeat(filled, bar, axis=1)
        sep = (jnp.arange(nf * bar) % bar) == 0  # a white gap between bars
        filled = filled & ~sep[None, :]
        colour = jnp.array([66, 133, 244], jnp.uint8)
        white = jnp.array([255, 255, 255], jnp.uint8)
        return jnp.where(filled[..., None], colour, white).astype(jnp.uint8)

    space = ued.LevelSpace(
        name=f"gymnax/{env_name or type(env).__name__}",
        placeholder=GymnaxLevel(jnp.asarray(low)),
        sample=sample,
        mutate=mutate,
        is_valid=is_valid,
        render=render,
        descriptor=descriptor,
        descriptor_names=names,
    )
    genv = GymnaxLevelEnv(env, env_params, names, DERIVED_PARAMS.get(env_name), solved_on, env_name)
    return space, genv
