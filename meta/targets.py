"""Real environments the ES meta-learners work for (HaDES, synthetic environments), by short
name: each declared once, as a :class:`TargetSpec` registered in ``ued.registry.TARGETS``.

A :class:`TargetSpec` is what one target is: its environment (a gymnax id, or a Brax body
behind the ``brax`` extra), its constant observation normalisation, the names of its state
dimensions and actions (for figures), its synthetic-environment defaults (kind and evaluation
horizon) and its HaDES preset. Everything else (the HaDES and synthetic-env commands, their
figures) reads it from the registry, so a package of one's own adds a target with one
registration. :func:`make_target` turns a spec into a :class:`Target`: three pure functions with
a single signature (``reset``, ``step`` returning ``done``) plus the static facts the learners
need (observation shape, discrete or continuous actions, normalisation, episode length).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ued.registry import TARGETS as REGISTRY


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """What one ES target is (registered in ``ued.registry.TARGETS``).

    Attributes:
      name: the short name (``openued hades train NAME``, ``openued synth train NAME``).
      env_id: the gymnax id (``"CartPole-v1"``) or the Brax body (``"hopper"``).
      backend: ``"gymnax"`` or ``"brax"`` (the ``brax`` extra).
      obs_mean, obs_scale: the constant observation normalisation (per dimension, or one float
        for all): learners see ``(obs - mean) / scale``, datasets and synthetic environments
        live in that space.
      state_names: names of the observation's dimensions (figures); empty: ``state[i]``.
      action_names: names of the discrete actions (figures); empty: ``action i``.
      synth_kind: the default synthetic environment (``"scb"`` or ``"mdp"``); ``None``: the
        target has no synthetic-environment preset.
      horizon: the synthetic-env evaluation horizon ``(at the start, at the end)``.
      hades: the HaDES preset, sections ``hades``, ``policy``, ``es``, ``run`` (see
        ``experiments.kinds.hades``); ``None``: no HaDES preset.
    """

    name: str
    env_id: str
    backend: str = "gymnax"
    obs_mean: tuple[float, ...] | float = 0.0
    obs_scale: tuple[float, ...] | float = 1.0
    state_names: tuple[str, ...] = ()
    action_names: tuple[str, ...] = ()
    synth_kind: str | None = None
    horizon: tuple[int, int] | None = None
    hades: dict | None = None


def target_names() -> tuple[str, ...]:
    """Every registered target (plugins included)."""
    return REGISTRY.names()


def target_spec(name: str) -> TargetSpec:
    """The registered :class:`TargetSpec` ``name``; ``ValueError`` listing the targets."""
    if name not in REGISTRY:
        raise ValueError(
            f"target: unknown target {name!r}; allowed: {', '.join(target_names())}"
        )
    return REGISTRY.get(name)


def obs_normalisation(name: str) -> tuple[tuple[float, ...] | float, tuple[float, ...] | float]:
    """``(mean, scale)`` of target ``name``'s observations (its spec's ``obs_mean`` and
    ``obs_scale``): a float tuple of the observation's length, or one float broadcast over
    every entry. Host-only; needs no optional extra."""
    spec = target_spec(name)
    return spec.obs_mean, spec.obs_scale


@dataclasses.dataclass(frozen=True)
class Target:
    """A real environment for HaDES (static facts + pure functions).

    ``reset(key) -> (obs, state)``; ``step(key, state, action) -> (obs, state, reward, done)``
    with ``obs`` float32 of ``obs_shape``, ``reward`` float32[], ``done`` bool[] (terminated or
    truncated; the rollout stops counting at the first one). After ``done`` gymnax targets
    auto-reset, Brax targets stay frozen at the final state (reward 0, ``done`` True; their
    ``state`` is a :class:`BraxCarry`). Actions: int32[] for discrete targets,
    float32[action_dim] in [low, high] otherwise.
    """

    name: str
    env_id: str
    obs_shape: tuple[int, ...]
    discrete: bool
    action_dim: int  # number of actions (discrete) or action dimensions (continuous)
    action_low: float
    action_high: float
    obs_mean: tuple[float, ...] | float
    obs_scale: tuple[float, ...] | float
    max_steps: int  # episode length limit of the environment
    image: bool  # observations are (H, W, C) images (MinAtar)
    reset: Callable[[jax.Array], tuple[jax.Array, Any]]
    step: Callable[[jax.Array, Any, jax.Array], tuple[jax.Array, Any, jax.Array, jax.Array]]

    def normalise(self, obs: jax.Array) -> jax.Array:
        """Raw observation(s) ``(..., *obs_shape)`` -> the normalised space of datasets."""
        mean = jnp.asarray(self.obs_mean, jnp.float32)
        scale = jnp.asarray(self.obs_scale, jnp.float32)
        return (obs.astype(jnp.float32) - mean) / scale


def _gymnax_target(name: str) -> Target:
    import gymnax

    env_id = target_spec(name).env_id
    env, env_params = gymnax.make(env_id)
    space = env.action_space(env_params)
    discrete = hasattr(space, "n")
    obs, _ = env.reset(jax.random.key(0), env_params)
    if discrete:
        action_dim, low, high = int(space.n), 0.0, float(space.n - 1)
    else:
        action_dim = int(space.shape[0]) if space.shape else 1
        low, high = float(jnp.min(space.low)), float(jnp.max(space.high))
    mean, scale = obs_normalisation(name)

    def reset(key):
        obs, state = env.reset(key, env_params)
        return obs.astype(jnp.float32), state

    def step(key, state, action):
        if not discrete and not space.shape:
            action = action[0]  # Pendulum's Box has shape () in some gymnax versions
        obs, state, reward, terminated, truncated, _ = env.step(key, state, action, env_params)
        done = jnp.logical_or(terminated, truncated)
        return obs.astype(jnp.float32), state, jnp.asarray(reward, jnp.float32), done

    return Target(
        name=name,
        env_id=env_id,
        obs_shape=tuple(obs.shape),
        discrete=discrete,
        action_dim=action_dim,
        action_low=low,
        action_high=high,
        obs_mean=mean,
        obs_scale=scale,
        max_steps=int(env_params.max_steps_in_episode),
        image=obs.ndim == 3,
        reset=reset,
        step=step,
    )


# Brax physics backend of the Brax targets. ``spring`` is the cheapest of brax's three
# CPU-capable pipelines (``spring``, ``positional``, ``generalized``; ``mjx`` needs the
# separate MuJoCo-XLA stack). Measured with brax 0.14.2 on a loaded 2-core CPU, a jitted
# 20-step rollout (single and vmapped over 8) of each body compiled in 9-16 s with spring
# against 13-19 s (positional) and 12-18 s (generalized), and ran fastest too: 3-9x faster
# than both for hopper and halfcheetah, 2-3x for walker2d (vmapped; single-env walker2d
# positional was about as fast). The price: spring is brax's least accurate joint/contact
# model, so returns are not comparable with MuJoCo or ``generalized`` numbers.
BRAX_BACKEND = "spring"
BRAX_EPISODE_LENGTH = 1000  # the usual Brax/MuJoCo time limit of these tasks


class BraxCarry(NamedTuple):
    """Environment state of a Brax :class:`Target` (what ``reset``/``step`` pass around)."""

    env_state: Any  # brax.envs.State
    time: jax.Array  # int32[] steps taken in the episode
    done: jax.Array  # bool[] the episode has ended (sticky)
    truncated: jax.Array  # bool[] it ended by the time limit, not by falling


def _brax_target(name: str) -> Target:
    """A Brax body (``BRAX_BACKEND`` pipeline) as a :class:`Target`.

    Observations and actions are Brax's (actions clipped to the actuators' ``[-1, 1]``
    control range). Brax's own ``done`` (the body fell: hopper and walker2d; halfcheetah never
    falls) or the ``BRAX_EPISODE_LENGTH`` time limit ends the episode. Unlike gymnax there is
    no auto-reset: once ``done`` the carry is frozen (same observation, reward 0, ``done``
    stays True), so a rollout past the end stays finite and cheap to reason about.
    """
    try:
        from brax import envs as brax_envs
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise ImportError(
            f"target {name!r} needs Brax, which is not installed; install the extra with "
            "`pip install 'openued[brax]'` (or `pip install brax`)"
        ) from e
    with warnings.catch_warnings():
        # brax.io.mjcf warns on every load that Brax is no longer actively maintained
        warnings.filterwarnings("ignore", message="Brax System", category=UserWarning)
        env = brax_envs.get_environment(target_spec(name).env_id, backend=BRAX_BACKEND)
    max_steps = BRAX_EPISODE_LENGTH
    action_dim = int(env.action_size)
    ctrl = np.asarray(env.sys.actuator.ctrl_range, np.float32).reshape(-1, 2)
    low, high = float(ctrl[:, 0].min()), float(ctrl[:, 1].max())
    obs_shape = tuple(jax.eval_shape(env.reset, jax.random.key(0)).obs.shape)
    obs_mean, obs_scale = obs_normalisation(name)

    def reset(key):
        state = env.reset(key)
        false = jnp.zeros((), bool)
        return state.obs.astype(jnp.float32), BraxCarry(
            state, jnp.zeros((), jnp.int32), false, false
        )

    def step(key, carry, action):
        del key  # Brax dynamics are deterministic
        action = jnp.clip(jnp.reshape(action, (action_dim,)).astype(jnp.float32), low, high)
        # brax's step updates ``state.metrics`` in place: hand it a copy, not the caller's dict
        state = carry.env_state.replace(metrics=dict(carry.env_state.metrics))
        nxt = env.step(state, action)
        time = carry.time + 1
        fell = nxt.done > 0
        truncated = jnp.logical_and(time >= max_steps, jnp.logical_not(fell))
        new = BraxCarry(nxt, time, jnp.logical_or(fell, truncated), truncated)
        # after the end, keep the final state (no auto-reset, see the docstring)
        out = jax.tree.map(lambda a, b: jnp.where(carry.done, a, b), carry, new)
        reward = jnp.where(carry.done, 0.0, nxt.reward).astype(jnp.float32)
        return out.env_state.obs.astype(jnp.float32), out, reward, out.done

    return Target(
        name=name,
        env_id=f"brax/{target_spec(name).env_id}/{BRAX_BACKEND}",
        obs_shape=obs_shape,
        discrete=False,
        action_dim=action_dim,
        action_low=low,
        action_high=high,
        obs_mean=obs_mean,
        obs_scale=obs_scale,
        max_steps=max_steps,
        image=False,
        reset=reset,
        step=step,
    )


_CACHE: dict[str, Target] = {}


def make_target(name: str) -> Target:
    """The :class:`Target` of a registered target name (host-only; cached).

    Raises ``ValueError`` for unknown names and ``ImportError`` with install instructions for
    Brax targets when brax is missing.
    """
    spec = target_spec(name)
    if name not in _CACHE:
        _CACHE[name] = _brax_target(name) if spec.backend == "brax" else _gymnax_target(name)
    return _CACHE[name]


# ----------------------------------------------------------------------------- the built-in targets

# The built-in targets. Observation normalisation (``obs_mean``, ``obs_scale``): HaDES
# policies see ``(obs - mean) / scale`` and distil states in that space, synthetic environments
# (``meta.synth``) emit states in it. Zero is a typical state and the states an episode visits
# are O(1), so one ES ``std_init`` fits every target and default-initialised networks emit
# plausible states. Rough scales, not fitted statistics. Where a choice was close, the
# environments' bounds and states measured in gymnax (64 episodes) decided:
# * cartpole angle scale 0.2 rather than 0.1: the 12 degree (0.21 rad) termination bound, so
#   every non-terminal angle lies in [-1, 1], as x's scale 1 keeps the 2.4 m bound O(1).
#   Visited angles cannot decide: their std is 0.09 under a random policy, 0.008 under a
#   balancing one. The synthetic CartPole learning check (150 generations) agrees: held-out
#   PPO (128 relu units) scores 473 on an SCB learned with 0.2, 346 with 0.1.
# * mountain-car position mean -0.5 rather than -0.4: the valley floor (-pi/6 = -0.52) and the
#   centre of the start interval [-0.6, -0.4] (-0.4 is its edge); the mean position visited is
#   -0.51 under a momentum-pumping policy that reaches the goal, -0.53 under a random one.
# * mountain-car velocity scale 0.035 rather than 0.05: half the 0.07 speed limit and close to
#   the velocity std of that pumping policy (0.029), which 0.05 would shrink to 0.6.
# Brax bodies: the mean is the noise-free initial observation (torso height 1.25 m for
# hopper/walker2d, every other entry 0; checked in tests/test_brax.py), so an all-zero dataset
# or network output is the standing pose rather than a body lying on the floor; scale 1 (SI
# units: positions and angles are O(1), velocities O(1..10)). MinAtar images are already 0/1.

def _hades(dataset_size, policy, es, generations, chunk_size=10, **hades):
    return dict(
        hades=dict(dataset_size=dataset_size, num_inits=2, eval_envs=4, **hades),
        policy=policy,
        es=es,
        run=dict(generations=generations, chunk_size=chunk_size, eval_policies=16),
    )


_CLASSIC_POLICY = dict(hidden=(64, 64), activation="tanh", lr=0.01, steps=100)
_SNES_64 = dict(strategy="SNES", population_size=64, std_init=0.5)
# HaDES MinAtar: N=16 states only, fixed one-hot labels, SNES sigma 0.5; the published runs
# used population 2048 x 2000 generations and 2x512 policies
_MINATAR = _hades(16, dict(hidden=(256, 256), activation="relu", lr=0.03, steps=64), _SNES_64,
                  100, chunk_size=5, learn_labels=False)  # fmt: skip
_BRAX = _hades(64, dict(hidden=(512, 512), activation="tanh", lr=5e-3, steps=400),
               dict(strategy="Open_ES", population_size=256, std_init=0.03, lr=0.05), 2000)  # fmt: skip
for _spec in (
    # N = 8: with 4 states the tanh policies the dataset is distilled for reach 500 too, but a
    # relu policy trained on it is seed-sensitive (144-500 over seeds); 8 states transfer to
    # all four architectures of hades eval --transfer (docs/learning-checks.md)
    TargetSpec("cartpole", "CartPole-v1", obs_mean=(0.0, 0.0, 0.0, 0.0),
               obs_scale=(1.0, 1.0, 0.2, 1.0),
               state_names=("cart position", "cart velocity", "pole angle",
                            "pole angular velocity"),
               action_names=("push left", "push right"), synth_kind="scb", horizon=(500, 500),
               hades=_hades(8, _CLASSIC_POLICY, _SNES_64, 30)),
    TargetSpec("acrobot", "Acrobot-v1", obs_mean=(0.0,) * 6,
               obs_scale=(1.0, 1.0, 1.0, 1.0, 2.0, 4.0),
               state_names=("cos θ1", "sin θ1", "cos θ2", "sin θ2", "angular velocity 1",
                            "angular velocity 2"),
               action_names=("torque −1", "torque 0", "torque +1"), synth_kind="scb",
               horizon=(500, 500), hades=_hades(8, _CLASSIC_POLICY, _SNES_64, 100)),
    TargetSpec("mountain-car", "MountainCar-v0", obs_mean=(-0.5, 0.0), obs_scale=(0.5, 0.035),
               state_names=("car position", "car velocity"),
               action_names=("push left", "no push", "push right"), synth_kind="mdp",
               horizon=(200, 200), hades=_hades(8, _CLASSIC_POLICY, _SNES_64, 200)),
    TargetSpec("pendulum", "Pendulum-v1", obs_mean=(0.0, 0.0, 0.0), obs_scale=(1.0, 1.0, 4.0),
               state_names=("cos θ", "sin θ", "angular velocity"), synth_kind="mdp",
               horizon=(200, 200), hades=_hades(16, _CLASSIC_POLICY, _SNES_64, 300)),
    TargetSpec("breakout", "Breakout-MinAtar", action_names=("no-op", "left", "right"),
               hades=_MINATAR),
    TargetSpec("asterix", "Asterix-MinAtar",
               action_names=("no-op", "left", "up", "right", "down"), hades=_MINATAR),
    TargetSpec("freeway", "Freeway-MinAtar", action_names=("no-op", "up", "down"),
               hades=_MINATAR),
    TargetSpec("space-invaders", "SpaceInvaders-MinAtar",
               action_names=("no-op", "left", "right", "fire"), hades=_MINATAR),
    # the synthetic hopper's evaluation horizon only grows from 100 to the 1000-step episode
    # when horizon_transition > 0 is set (the default 0 jumps to the end at horizon_begin)
    TargetSpec("hopper", "hopper", "brax", obs_mean=(1.25,) + (0.0,) * 10, synth_kind="scb",
               horizon=(100, 1000), hades=_BRAX),
    TargetSpec("walker2d", "walker2d", "brax", obs_mean=(1.25,) + (0.0,) * 16, hades=_BRAX),
    TargetSpec("halfcheetah", "halfcheetah", "brax", hades=_BRAX),
):  # fmt: skip
    REGISTRY.register(_spec)
