"""Synthetic environments (SCB / synthetic MDP), inner-loop learners and the synth fitness."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from meta.es import ES_HEALTH
from meta.learners import (
    LearnerConfig,
    default_hparams,
    evaluate_gymnax,
    make_learner,
)
from meta.synth import (
    SynthMetaConfig,
    horizon_schedule,
    load_synth_env,
    make_real_env,
    make_synth_meta,
    save_synth_env,
)
from meta.synthetic import (
    SynthConfig,
    SyntheticEnv,
    SynthGymnaxEnv,
    SynthLevel,
    init_synth_params,
    make_latent_level_space,
    num_params,
)
from ued.host import HostConfig, jit_trainer, read_metrics, run_trainer
from ued.testing import check_env, check_level_space

CARTPOLE = SynthConfig(obs_dim=4, discrete=True, num_actions=2, kind="scb")
PENDULUM_MDP = SynthConfig(
    obs_dim=3, discrete=False, num_actions=1, action_low=-2.0, action_high=2.0, kind="mdp",
    max_steps=8,
)  # fmt: skip


def _equal(a, b):
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def test_scb_conformance_latent_level_space():
    space = make_latent_level_space(CARTPOLE)
    check_level_space(space)
    check_env(SyntheticEnv(CARTPOLE), space, n_envs=2, n_steps=12)


def test_mdp_conformance_trivial_level_space():
    from ued import LevelSpace

    zero = SynthLevel(jnp.zeros((PENDULUM_MDP.obs_dim,), jnp.float32))
    trivial = LevelSpace(name="trivial", placeholder=zero, sample=lambda key: zero)
    check_env(SyntheticEnv(PENDULUM_MDP), trivial, n_envs=2, n_steps=12)


def test_scb_is_one_step_and_gymnax_view_auto_resets():
    env = SynthGymnaxEnv(CARTPOLE)
    p = env.default_params
    obs, s = env.reset(jax.random.key(0), p)
    obs2, s2, r, term, trunc, info = jax.jit(env.step)(jax.random.key(1), s, 1, p)
    assert bool(term) and not bool(trunc)
    np.testing.assert_array_equal(info["final_observation"], obs)
    assert not np.array_equal(obs2, obs)  # a fresh context after the one-step episode
    assert int(s2.time) == 0
    assert r.dtype == jnp.float32 and r.shape == ()


def test_mdp_truncates_at_max_steps():
    cfg = dataclasses.replace(PENDULUM_MDP, max_steps=3)
    env = SyntheticEnv(cfg)
    # a termination net that never fires: large negative bias
    p = env.default_params
    term = jax.tree.map(lambda x: x, p.termination)  # a copy: the env keeps its defaults
    term["params"]["Dense_1"]["bias"] = jnp.full((1,), -50.0)
    p = p.replace(termination=term)
    obs, s = env.reset_to_level(
        jax.random.key(0), make_latent_level_space(cfg).sample(jax.random.key(1)), p
    )
    flags = []
    for t in range(3):
        obs, s, r, term, trunc, _ = env.step(jax.random.key(t), s, jnp.zeros((1,)), p)
        flags.append((bool(term), bool(trunc)))
    assert flags == [(False, False), (False, False), (False, True)]


def test_default_init_matches_paper_size_and_zero_biases():
    p = init_synth_params(jax.random.key(0), CARTPOLE)
    # init head 4->32->4 and reward head (4+2)->32->1: the paper's CartPole checkpoint has 549
    assert num_params(p) == 549
    assert p.transition is None and p.termination is None
    assert all(
        float(jnp.abs(layer["bias"]).sum()) == 0.0
        for head in (p.init_state, p.reward)
        for layer in head["params"].values()
    )
    assert _equal(p, init_synth_params(jax.random.key(0), CARTPOLE))
    # LeCun-normal kernels (flax's Dense default): standard deviation 1/sqrt(fan_in)
    wide = SynthConfig(obs_dim=64, discrete=True, num_actions=2, hidden=512)
    head = init_synth_params(jax.random.key(1), wide).init_state["params"]
    for name, fan_in in (("Dense_0", 64), ("Dense_1", 512)):
        std = float(jnp.std(head[name]["kernel"]))
        assert abs(std * np.sqrt(fan_in) - 1.0) < 0.03, (name, std)


def test_config_validation_names_field():
    with pytest.raises(ValueError, match="kind"):
        SynthConfig(obs_dim=4, discrete=True, num_actions=2, kind="pomdp")
    with pytest.raises(ValueError, match="num_actions"):
        SynthConfig(obs_dim=4, discrete=True, num_actions=1)
    with pytest.raises(ValueError, match="activation"):
        LearnerConfig(activation="softsign")
    with pytest.raises(ValueError, match="target"):
        SynthMetaConfig(target="pong")
    with pytest.raises(ValueError, match="dqn"):
        make_learner("dqn", SynthGymnaxEnv(PENDULUM_MDP))


def test_hopper_without_brax_raises_clear_error():
    try:
        import brax  # noqa: F401

        pytest.skip("brax is installed")
    except ImportError:
        pass
    with pytest.raises(ImportError, match="brax"):
        make_real_env("hopper")


def test_save_load_roundtrip(tmp_path):
    p = init_synth_params(jax.random.key(3), PENDULUM_MDP)
    npz, js = save_synth_env(tmp_path / "env", PENDULUM_MDP, p, {"note": "x"})
    with np.load(npz, allow_pickle=False) as z:  # data only
        assert len(z.files) == len(jax.tree.leaves(p))
    cfg, p2, meta = load_synth_env(tmp_path / "env")
    assert cfg == PENDULUM_MDP and meta["note"] == "x"
    assert _equal(p, p2)


def test_horizon_schedule():
    cfg = SynthMetaConfig(
        target="cartpole", horizon_init=100, horizon_end=500, horizon_begin=10,
        horizon_transition=40,
    )  # fmt: skip
    got = [int(horizon_schedule(cfg, g)) for g in (0, 10, 30, 50, 99)]
    assert got == [100, 100, 300, 500, 500]
    const = SynthMetaConfig(target="cartpole")
    assert int(horizon_schedule(const, 0)) == 500


@pytest.mark.parametrize("target", ["cartpole", "acrobot", "mountain-car", "pendulum"])
def test_synth_and_hades_share_the_obs_normalisation(target):
    # one table (meta.targets): the synthetic networks' space is the HaDES datasets' space
    from meta.synth import synth_config_for
    from meta.targets import make_target

    real = make_real_env(target)
    sc = synth_config_for(SynthMetaConfig(target=target), real)
    t = make_target(target)
    obs = jnp.linspace(-1.0, 1.0, real.obs_dim)
    mean, scale = np.asarray(sc.obs_mean), np.asarray(sc.obs_scale)
    np.testing.assert_allclose(np.asarray(t.normalise(obs)), (np.asarray(obs) - mean) / scale)


def test_generation_loop_maximises():
    # the synth path of meta.es: a context-taking fitness, the mean evaluated each generation
    from meta import es as es_core

    template = {"x": jnp.zeros((3,), jnp.float32)}

    def fitness(key, cand, generation):
        return -jnp.sum((cand["x"] - 1.0) ** 2)

    problem = es_core.Problem(
        template, lambda k, c, ctx: fitness(k, c, ctx.generation), maximize=True, uses_context=True
    )
    es = es_core.make_es("SNES", 16, template, std_init=0.3)
    loop = es_core.make_es_loop(problem, es, evaluate_mean=True)
    st = loop.init(jax.random.key(0))
    st, m = jax.jit(loop.run_chunk, static_argnums=1)(st, 40)
    assert float(m.fitness_mean[-1]) > float(m.fitness_mean[0])
    assert float(m.mean_fitness[-1]) > float(m.mean_fitness[0])
    assert float(jnp.max(jnp.abs(loop.get_mean(st)["x"] - 1.0))) < 0.3
    assert np.all(np.asarray(m.fitness_worst) <= np.asarray(m.fitness_best))


# ----------------------------------------------------------------------------- inner loop


@pytest.fixture(scope="module")
def tiny_meta():
    cfg = SynthMetaConfig(
        target="cartpole",
        population=4,
        learners=("ppo", "dqn"),
        learner=LearnerConfig(
            num_steps=256, num_envs=4, hidden=16, ppo_rollout=16, learning_starts=64, batch_size=16
        ),
        eval_envs=2,
        horizon_init=40,
        horizon_end=40,
    )
    meta = make_synth_meta(cfg)
    fit = jax.jit(jax.vmap(meta.fitness, (None, 0, None)))
    return meta, fit


def test_inner_loop_deterministic_per_key_and_vmaps(tiny_meta):
    meta, fit = tiny_meta
    pop = jax.tree.map(lambda x: jnp.stack([x, x + 0.1]), meta.template)
    for g in (0, 1):  # both learners of the rotation (generation % 2)
        a = fit(jax.random.key(0), pop, jnp.int32(g))
        b = fit(jax.random.key(0), pop, jnp.int32(g))
        assert np.array_equal(np.asarray(a), np.asarray(b))
        assert a.shape == (2,) and a.dtype == jnp.float32
        assert np.all((np.asarray(a) > 0.0) & (np.asarray(a) <= 40.0))  # +1 a step, horizon 40
    c = fit(jax.random.key(5), pop, jnp.int32(0))
    assert not np.array_equal(np.asarray(c), np.asarray(fit(jax.random.key(0), pop, jnp.int32(0))))


def test_es_loop_sees_generation_horizon_and_learner(tmp_path):
    """The synth problem runs on ``meta.es.make_es_loop``: generation 0's horizon is 1 step
    (every CartPole return is exactly 1), generation 1's is 40; the learners alternate."""
    cfg = SynthMetaConfig(
        target="cartpole",
        population=2,
        learners=("ppo", "dqn"),
        learner=LearnerConfig(
            num_steps=64, num_envs=2, hidden=8, ppo_rollout=8, ppo_epochs=1, ppo_minibatches=1,
            learning_starts=16, batch_size=8,
        ),
        eval_envs=2,
        horizon_init=1,
        horizon_end=40,
        horizon_begin=1,
    )  # fmt: skip
    meta = make_synth_meta(cfg)
    assert meta.loop.problem.uses_context
    programs = jit_trainer(meta.trainer)

    def run(d):
        host = HostConfig(2, chunk_size=2, progress=False, health=ES_HEALTH)
        st = run_trainer(d, meta.trainer, 2, host=host, annotate=meta.annotate,
                         programs=programs, write=lambda m: None)  # fmt: skip
        return st, read_metrics(d)

    st, recs = run(tmp_path / "a")
    assert [r["generation"] for r in recs] == [1, 2]
    assert [r["horizon"] for r in recs] == [1, 40]
    assert [r["learner"] for r in recs] == ["ppo", "dqn"]
    assert recs[0]["mean_fitness"] == 1.0
    assert recs[0]["fitness_best"] == recs[0]["fitness_worst"] == 1.0
    assert recs[1]["fitness_best"] > 1.0 and recs[1]["mean_fitness"] > 1.0
    # bitwise determinism of the meta-training generations
    st2, recs2 = run(tmp_path / "b")
    assert recs2 == recs and _equal(st2.es_state, st.es_state)
    assert _equal(jax.random.key_data(st2.key), jax.random.key_data(st.key))


@pytest.mark.parametrize("name", ["ppo", "dqn"])
def test_learner_hparams_sampled_in_ranges(name):
    env = SynthGymnaxEnv(CARTPOLE)
    lrn = make_learner(name, env, LearnerConfig(ranges=(("gamma", 0.5, 0.5),)))
    hp = jax.vmap(lrn.sample_hparams)(jax.random.split(jax.random.key(0), 64))
    lo, hi = lrn.ranges["lr"]
    lr = np.asarray(hp.lr)
    assert np.all((lr >= lo * 0.999) & (lr <= hi * 1.001)) and lr.std() > 0
    np.testing.assert_allclose(np.asarray(hp.gamma), 0.5)
    assert _equal(hp, jax.vmap(lrn.sample_hparams)(jax.random.split(jax.random.key(0), 64)))


def test_negative_control_untrained_scb_cartpole():
    """Agents trained on the UNTRAINED (default-init) SCB do not solve CartPole (< 100)."""
    cfg = SynthMetaConfig(target="cartpole", learners=("ppo",))
    meta = make_synth_meta(cfg)
    real = meta.real
    lrn = make_learner("ppo", meta.synth_env, cfg.learner, meta.template)

    def run(k):
        k1, k2, k3 = jax.random.split(k, 3)
        agent = lrn.train(k2, meta.template, lrn.sample_hparams(k1))
        return evaluate_gymnax(k3, real.env, real.params, lrn.act, agent, 16, 500, False)

    rets = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(0), 4))
    assert float(jnp.mean(rets)) < 100.0, rets


# ----------------------------------------------------------------------------- learning checks


def _real_check(name, target, steps, episodes=16, **kw):
    real = make_real_env(target)
    lrn = make_learner(name, real.env, LearnerConfig(num_steps=steps, **kw), real.params)

    def run(k):
        agent = lrn.train(k, real.params, default_hparams())
        return evaluate_gymnax(k, real.env, real.params, lrn.act, agent, episodes, real.max_steps)

    return np.asarray(jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(0), 2)))


@pytest.mark.slow
def test_ppo_learns_real_cartpole():
    assert _real_check("ppo", "cartpole", 50_000).mean() >= 400


@pytest.mark.slow
def test_dqn_learns_real_cartpole():
    assert _real_check("dqn", "cartpole", 30_000).mean() >= 150


@pytest.mark.slow
def test_td3_learns_real_pendulum():
    """TD3 (one gradient step per env step) on the real Pendulum: 3 seeds vmapped, 20k steps
    each; measured mean -154 (-165, -121, -176) in ~8 s on the 2-core CPU."""
    real = make_real_env("pendulum")
    lrn = make_learner("td3", real.env, LearnerConfig(num_steps=20_000), real.params)

    @jax.jit
    def run(keys):
        def one(k):
            agent = lrn.train(k, real.params, default_hparams())
            return evaluate_gymnax(k, real.env, real.params, lrn.act, agent, 8, real.max_steps)

        return jax.vmap(one)(keys)

    rets = np.asarray(run(jax.random.split(jax.random.key(0), 3)))
    assert rets.mean() >= -400, rets


def _meta_train_and_eval(target, generations, population, settings, threshold):
    cfg = SynthMetaConfig(target=target, population=population, learners=("ppo",), eval_envs=16)
    meta = make_synth_meta(cfg)
    st = meta.loop.init(jax.random.key(0))
    st, _ = jax.jit(meta.loop.run_chunk, static_argnums=1)(st, generations)
    mean = meta.loop.get_mean(st)
    for name, hidden, act, ranges in settings:
        lcfg = dataclasses.replace(cfg.learner, hidden=hidden, activation=act, ranges=ranges)
        lrn = make_learner(name, meta.synth_env, lcfg, mean)
        real = meta.real

        def run(k, lrn=lrn):
            k1, k2, k3 = jax.random.split(k, 3)
            agent = lrn.train(k2, mean, lrn.sample_hparams(k1))
            return evaluate_gymnax(k3, real.env, real.params, lrn.act, agent, 16, real.max_steps)

        rets = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(7), 8))
        assert float(jnp.mean(rets)) >= threshold, (name, hidden, act, rets)


HELD_OUT = [
    ("dqn", 64, "tanh", ()),  # a learner not used in meta-training
    ("ppo", 64, "tanh", (("lr", 1e-2, 1e-2), ("gamma", 0.5, 0.5))),  # outside the ranges
    ("ppo", 128, "relu", ()),  # different width and activation
]


@pytest.mark.slow
def test_cartpole_scb_held_out_settings():
    _meta_train_and_eval("cartpole", 150, 64, HELD_OUT, 475.0)


@pytest.mark.slow
def test_acrobot_scb():
    _meta_train_and_eval("acrobot", 100, 64, [("ppo", 64, "tanh", ())], -100.0)
