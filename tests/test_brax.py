"""Brax targets (optional ``brax`` extra): HaDES bodies and the synthetic-environment hopper.

Skipped when brax is not installed (CI). Tiny sizes only: every test is dominated by the XLA
compile of the Brax step, so compiled pieces are shared through module-scoped fixtures.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

brax = pytest.importorskip("brax")

from meta import HadesConfig, PolicyConfig, make_hades  # noqa: E402
from meta.learners import LearnerConfig  # noqa: E402
from meta.synth import SynthMetaConfig, TargetGymnaxEnv, make_synth_meta  # noqa: E402
from meta.targets import BRAX_EPISODE_LENGTH, make_target, target_names, target_spec  # noqa: E402

# brax 0.14.2's collision code reads fields that mujoco 4 deprecates on ``Data`` (still works)
pytestmark = pytest.mark.filterwarnings(
    "ignore:Accessing `.*` directly from `Data` is deprecated:DeprecationWarning"
)

SHAPES = {"hopper": (11, 3), "walker2d": (17, 6), "halfcheetah": (17, 6)}
STEPS = 6
FROZEN = 2  # the last FROZEN steps start from a carry marked done


@pytest.fixture(scope="module", autouse=True)
def _fast_compile():
    # plumbing checks only: compile time dominates, so skip most XLA optimisations
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", old)


def _probe(target):
    """``probe(key) -> (obs0, obs[T], rewards[T], dones[T])`` with random actions; the last
    ``FROZEN`` steps start from a carry forced to ``done`` (one compiled step for both)."""

    def probe(key):
        k_reset, k_act = jax.random.split(key)
        obs0, carry = target.reset(k_reset)
        force = jnp.arange(STEPS) >= STEPS - FROZEN

        def body(carry, x):
            k, f = x
            carry = carry._replace(done=carry.done | f)
            a = jax.random.uniform(
                k, (target.action_dim,), minval=target.action_low, maxval=target.action_high
            )
            obs, carry, r, d = target.step(k, carry, a)
            return carry, (obs, r, d)

        _, (obs, r, d) = jax.lax.scan(body, carry, (jax.random.split(k_act, STEPS), force))
        return obs0, obs, r, d

    return jax.jit(probe)


@pytest.fixture(scope="module", params=sorted(n for n in target_names() if target_spec(n).backend == "brax"))
def probed(request):
    t = make_target(request.param)
    probe = _probe(t)
    return t, [jax.device_get(probe(jax.random.key(s))) for s in (0, 0, 1)]


def test_brax_target_static_facts(probed):
    t, _ = probed
    obs_dim, act_dim = SHAPES[t.name]
    assert t.obs_shape == (obs_dim,) and t.action_dim == act_dim
    assert not t.discrete and not t.image
    assert (t.action_low, t.action_high) == (-1.0, 1.0)
    assert t.max_steps == BRAX_EPISODE_LENGTH


def test_brax_rollout_finite_deterministic_and_frozen_after_done(probed):
    t, ((o0, obs, r, d), again, other) = probed
    assert obs.shape == (STEPS, *t.obs_shape) and obs.dtype == np.float32
    assert r.shape == (STEPS,) and r.dtype == np.float32 and d.dtype == np.bool_
    assert np.all(np.isfinite(obs)) and np.all(np.isfinite(r))
    # deterministic per key, different across keys
    for a, b in zip((o0, obs, r, d), again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(obs, other[1])
    # the normalisation's mean is the noise-free initial pose (reset noise: uniform 5e-3 for
    # hopper and walker2d, 0.1 * N(0, 1) velocities for halfcheetah)
    tol = 0.5 if t.name == "halfcheetah" else 0.01
    assert np.max(np.abs(np.asarray(t.normalise(o0)))) <= tol
    # a few random steps: no fall, no time-out; then a done carry stays put with reward 0
    live = STEPS - FROZEN
    assert not d[:live].any() and np.all(r[:live] != 0)
    assert d[live:].all() and np.all(r[live:] == 0)
    np.testing.assert_array_equal(obs[live:], np.broadcast_to(obs[live - 1], obs[live:].shape))


def test_brax_step_truncates_at_time_limit_and_gymnax_view_resets():
    t = make_target("hopper")
    env = TargetGymnaxEnv(t)

    @jax.jit
    def last_step(key):
        obs, carry = t.reset(key)
        carry = carry._replace(time=jnp.asarray(BRAX_EPISODE_LENGTH - 1, jnp.int32))
        return env.step(key, carry, jnp.zeros((t.action_dim,)))

    obs, carry, reward, term, trunc, info = last_step(jax.random.key(0))
    assert bool(trunc) and not bool(term) and float(info["discount"]) == 1.0
    assert int(carry.time) == 0 and not bool(carry.done)  # auto-reset to a new episode
    assert np.all(np.isfinite(np.asarray(info["final_observation"])))
    assert not np.array_equal(np.asarray(obs), np.asarray(info["final_observation"]))


def test_hades_fitness_on_hopper():
    h = make_hades(
        HadesConfig(
            target="hopper",
            dataset_size=4,
            num_inits=1,
            eval_envs=2,
            eval_steps=8,
            policy=PolicyConfig(hidden=(8,), lr=0.01, steps=3),
        )
    )
    assert h.num_steps == 8
    pop = jax.tree.map(
        lambda x: x + 0.1 * jax.random.normal(jax.random.key(1), (2, *x.shape)), h.template
    )
    fit = jax.jit(jax.vmap(h.fitness, in_axes=(None, 0)))
    f1 = np.asarray(fit(jax.random.key(0), pop))
    f2 = np.asarray(fit(jax.random.key(0), pop))
    assert f1.shape == (2,) and np.all(np.isfinite(f1))
    np.testing.assert_array_equal(f1, f2)
    # 8 healthy steps: about 1 per step (healthy reward) plus forward progress
    assert np.all((f1 > 2.0) & (f1 < 40.0))


def test_synth_hopper_inner_loop():
    cfg = SynthMetaConfig(
        target="hopper",
        hidden=4,
        learners=("ppo",),
        learner=LearnerConfig(
            num_steps=16, num_envs=2, hidden=8, ppo_rollout=4, ppo_epochs=1, ppo_minibatches=1
        ),
        eval_envs=2,
        horizon_init=5,
        horizon_end=5,
        population=2,
    )
    meta = make_synth_meta(cfg)
    sc = meta.synth_config
    assert (sc.obs_dim, sc.num_actions, sc.discrete, sc.kind) == (11, 3, False, "scb")
    assert sc.obs_mean[0] == 1.25  # the networks start around the standing pose
    fit = jax.jit(meta.fitness)
    g = jnp.zeros((), jnp.int32)
    f1 = float(fit(jax.random.key(0), meta.template, g))
    f2 = float(fit(jax.random.key(0), meta.template, g))
    assert np.isfinite(f1) and f1 == f2
    assert 0.5 < f1 < 30.0  # 5 real steps of return
