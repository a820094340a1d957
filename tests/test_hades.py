"""HaDES: dataset pytree, inner BC loop, fitness under jit/vmap/scan, targets, digits.

Learning checks are marked ``slow`` (run with ``-m slow``)."""

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from meta import (
    Dataset,
    DigitsConfig,
    HadesConfig,
    PolicyConfig,
    baseline_accuracies,
    distilled_accuracies,
    evaluate_transfer,
    fixed_labels,
    make_dataset_evaluator,
    make_digits_distillation,
    make_es,
    make_es_loop,
    make_hades,
    make_rollout,
    make_target,
    transfer_policies,
)

TINY_POLICY = PolicyConfig(hidden=(8,), activation="tanh", lr=0.01, steps=5)


@pytest.fixture(autouse=True)
def _fast_compile(request):
    # tiny plumbing checks are dominated by XLA compile time; learning checks (slow) keep
    # full optimisation
    if request.node.get_closest_marker("slow"):
        yield
        return
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", old)


@pytest.fixture(scope="module")
def tiny_cartpole():
    cfg = HadesConfig(
        target="cartpole",
        dataset_size=3,
        num_inits=2,
        eval_envs=2,
        eval_steps=20,
        policy=TINY_POLICY,
    )
    return make_hades(cfg)


def test_config_validation_names_field():
    with pytest.raises(ValueError, match="dataset_size"):
        HadesConfig(dataset_size=0)
    with pytest.raises(ValueError, match="target"):
        HadesConfig(target="pong")
    with pytest.raises(ValueError, match="activation"):
        PolicyConfig(activation="sin")
    with pytest.raises(ValueError, match="learn_labels"):
        make_hades(HadesConfig(target="pendulum", learn_labels=False, policy=TINY_POLICY))


def test_brax_targets_need_extra():
    try:
        import brax  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="openued\\[brax\\]"):
            make_target("hopper")
    else:
        assert make_target("hopper").discrete is False


def test_inner_bc_loss_goes_down():
    h = make_hades(
        HadesConfig(
            target="cartpole",
            dataset_size=6,
            policy=PolicyConfig(hidden=(16, 16), lr=0.01, steps=60),
        )
    )
    key = jax.random.key(0)
    data = Dataset(jax.random.normal(key, (6, 4)), 3.0 * jax.random.normal(key, (6, 2)))
    _, losses = jax.jit(h.policy.train)(jax.random.key(1), data)
    losses = np.asarray(losses)
    assert losses.shape == (60,)
    assert losses[-1] < 0.5 * losses[0]
    # continuous: MSE towards the clipped target actions
    hp = make_hades(
        HadesConfig(
            target="pendulum", dataset_size=4, policy=PolicyConfig(hidden=(16,), lr=0.01, steps=60)
        )
    )
    dp = Dataset(jax.random.normal(key, (4, 3)), jnp.array([[1.5], [-1.0], [0.5], [-1.8]]))
    _, lp = jax.jit(hp.policy.train)(jax.random.key(1), dp)
    assert float(lp[-1]) < 0.2 * float(lp[0])


def test_policy_init_orthogonal_gains_zero_biases():
    """HaDES policies start orthogonal: hidden gain sqrt(2), output gain 0.01, zero biases."""
    h = make_hades(HadesConfig(target="cartpole", policy=PolicyConfig(hidden=(16, 8), steps=1)))
    layers = h.policy.init(jax.random.key(0))["params"]
    w0, w1, w2 = (np.asarray(layers[f"Dense_{i}"]["kernel"]) for i in range(3))
    assert [w.shape for w in (w0, w1, w2)] == [(4, 16), (16, 8), (8, 2)]
    # rows (wide) or columns (tall) are orthonormal up to the gain
    np.testing.assert_allclose(w0 @ w0.T, 2.0 * np.eye(4), atol=1e-5)
    np.testing.assert_allclose(w1.T @ w1, 2.0 * np.eye(8), atol=1e-5)
    np.testing.assert_allclose(w2.T @ w2, 1e-4 * np.eye(2), atol=1e-8)
    assert all(not np.any(np.asarray(v["bias"])) for v in layers.values())


def test_states_only_candidate_uses_fixed_labels():
    h = make_hades(
        HadesConfig(target="cartpole", dataset_size=5, learn_labels=False, policy=TINY_POLICY)
    )
    assert h.template.targets is None
    full = h.materialise(h.template)
    np.testing.assert_array_equal(np.argmax(full.targets, -1), np.arange(5) % 2)
    assert jax.nn.softmax(fixed_labels(3, 2)).max() == 1.0


def test_fitness_jit_vmap_scan_deterministic(tiny_cartpole):
    h = tiny_cartpole
    cand = Dataset(jnp.ones((3, 4)) * 0.1, jnp.zeros((3, 2)))
    f = jax.jit(h.fitness)
    a, b = f(jax.random.key(0), cand), f(jax.random.key(0), cand)
    assert a.dtype == jnp.float32 and a.shape == ()
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert 1.0 <= float(a) <= 20.0  # cartpole: +1 per step, rollout of 20 steps
    pop = jax.tree.map(lambda x: jnp.stack([x, x]), cand)
    fv = jax.jit(jax.vmap(h.fitness, in_axes=(None, 0)))(jax.random.key(0), pop)
    np.testing.assert_allclose(fv, [a, a], rtol=1e-6)
    _, fs = jax.lax.scan(
        lambda c, k: (c, h.fitness(k, cand)), 0, jax.random.split(jax.random.key(0), 2)
    )
    assert fs.shape == (2,)


def _plain_scan_episode(target, apply, stochastic, num_steps):
    """One episode as a plain scan of the target (a reference for the toolkit's rollout):
    step key ``k`` splits into the action's and the env's; rewards count until the first
    ``done``."""

    def episode(key, params):
        k_reset, k_roll = jax.random.split(key)
        obs, state = target.reset(k_reset)

        def body(c, k):
            obs, state, alive, ret = c
            k_act, k_step = jax.random.split(k)
            out = apply(params, target.normalise(obs)[None])[0]
            if not target.discrete:
                action = out
            elif stochastic:
                action = jax.random.categorical(k_act, out).astype(jnp.int32)
            else:
                action = jnp.argmax(out).astype(jnp.int32)
            obs, state, reward, done = target.step(k_step, state, action)
            return (obs, state, alive & ~done, ret + jnp.where(alive, reward, 0.0)), alive

        init = (obs, state, jnp.ones((), bool), jnp.zeros((), jnp.float32))
        (_, _, _, ret), alive = jax.lax.scan(body, init, jax.random.split(k_roll, num_steps))
        return ret, alive

    return episode


@pytest.mark.parametrize(
    "target,stochastic", [("cartpole", False), ("cartpole", True), ("pendulum", False)]
)
def test_fitness_episodes_are_a_plain_scan_of_the_target(target, stochastic):
    """HaDES's episodes go through ``ued.rollout`` (one environment each) and return what a
    plain scan of the target returns: the same actions, the same first episode. Discrete
    targets' returns are sums of integers, so equal bitwise; continuous ones are summed in
    another order (last-bit differences)."""
    h = make_hades(
        HadesConfig(
            target=target,
            dataset_size=3,
            eval_steps=60,
            stochastic=stochastic,
            policy=TINY_POLICY,
        )
    )
    data = h.materialise(
        jax.tree.map(lambda x: jax.random.normal(jax.random.key(3), x.shape), h.template)
    )
    params, _ = h.policy.train(jax.random.key(1), data)
    keys = jax.random.split(jax.random.key(2), 6)
    rollout = make_rollout(h.target, h.policy, h.num_steps, record=True)
    ret, states, alive = jax.jit(jax.vmap(rollout, in_axes=(0, None)))(keys, params)
    ref = _plain_scan_episode(h.target, h.policy.apply, stochastic, h.num_steps)
    ref_ret, ref_alive = jax.jit(jax.vmap(ref, in_axes=(0, None)))(keys, params)
    np.testing.assert_array_equal(np.asarray(alive), np.asarray(ref_alive))
    if h.target.discrete:
        np.testing.assert_array_equal(np.asarray(ret), np.asarray(ref_ret))
    else:
        np.testing.assert_allclose(np.asarray(ret), np.asarray(ref_ret), rtol=1e-6)
    assert states.shape == (6, h.num_steps, *h.target.obs_shape)


def test_hades_f_uses_one_initialisation():
    cfg = HadesConfig(
        target="cartpole",
        dataset_size=3,
        num_inits=1,
        fixed_init=True,
        eval_envs=2,
        eval_steps=20,
        policy=TINY_POLICY,
    )
    h = make_hades(cfg)
    cand = Dataset(jax.random.normal(jax.random.key(2), (3, 4)), jnp.zeros((3, 2)))
    # fixed init: with the env keys fixed by the caller's key, the fitness is a function of
    # the candidate and key only; the initialisation never changes between keys
    p1, _ = h.policy.train(jax.random.key(0), h.materialise(cand))
    p2, _ = h.policy.train(jax.random.key(cfg.init_seed), h.materialise(cand))
    np.testing.assert_array_equal(
        p1["params"]["Dense_0"]["kernel"], p2["params"]["Dense_0"]["kernel"]
    )
    assert np.isfinite(float(jax.jit(h.fitness)(jax.random.key(5), cand)))


def test_hades_es_generation_and_evaluator(tiny_cartpole):
    h = tiny_cartpole
    loop = make_es_loop(h.problem, make_es("snes", 4, h.template, std_init=0.5))
    step = jax.jit(loop.step)
    s = loop.init(jax.random.key(0))
    s, m = step(s)
    s, m = step(s)
    assert step._cache_size() == 1
    assert m.fitness.shape == (4,)
    ev = make_dataset_evaluator(h, episodes=2)
    r = ev(jax.random.key(1), h.materialise(loop.get_mean(s)), 3)
    assert r.shape == (3,) and np.all(np.isfinite(np.asarray(r)))


def test_transfer_architectures_differ_in_one_thing():
    base = PolicyConfig(hidden=(64, 64), activation="tanh", lr=0.01, steps=100)
    t = transfer_policies(base)
    assert set(t) == {"2x256-tanh", "3x64-tanh", "2x64-relu", "2x64-tanh-lr0.005"}


@pytest.mark.parametrize(
    "target", ["acrobot", "mountain-car", "pendulum", "breakout", "space-invaders"]
)
def test_targets_fitness_runs(target):
    h = make_hades(
        HadesConfig(
            target=target,
            dataset_size=2,
            num_inits=1,
            eval_envs=1,
            eval_steps=5,
            learn_labels=target not in ("breakout", "space-invaders"),
            policy=PolicyConfig(hidden=(4,), steps=2),
        )
    )
    t = h.target
    assert h.template.states.shape == (2, *t.obs_shape)
    f = jax.jit(h.fitness)(jax.random.key(0), h.template)
    assert np.isfinite(float(f))


def test_digits_problem_shapes():
    task = make_digits_distillation(DigitsConfig(hidden=8, steps=3, num_inits=1))
    assert task.class_means.shape == (10, 64)
    assert task.problem.maximize is False
    loss = jax.jit(task.problem.evaluate)(jax.random.key(0), task.class_means)
    assert np.isfinite(float(loss)) and float(loss) > 0
    real = jax.jit(task.random_real)(jax.random.key(0))
    # each picked real image belongs to its class
    for c in range(10):
        match = np.all(np.asarray(task.train_x) == np.asarray(real[c]), axis=1)
        assert np.any(np.asarray(task.train_y)[match] == c)


# ----------------------------------------------------------------------------- slow


def _train(cfg, es_name, pop, std, gens, seed=0, lr=None):
    h = make_hades(cfg)
    loop = make_es_loop(h.problem, make_es(es_name, pop, h.template, std_init=std, lr=lr))
    chunk = jax.jit(loop.run_chunk, static_argnums=1)
    s = loop.init(jax.random.key(seed))
    s, _ = chunk(s, gens)
    return h, h.materialise(loop.get_mean(s))


@pytest.mark.slow
def test_cartpole_preset_learns_fast_and_transfers():
    from experiments.kinds.hades import presets

    p = presets()["cartpole"]
    cfg = HadesConfig(target="cartpole", policy=PolicyConfig(**p["policy"]), **p["hades"])
    t0 = time.time()
    h, data = _train(
        cfg,
        p["es"]["strategy"],
        p["es"]["population_size"],
        p["es"]["std_init"],
        p["run"]["generations"],
    )
    wall = time.time() - t0
    r = make_dataset_evaluator(h)(jax.random.key(123), data, 16)
    print(f"cartpole N={cfg.dataset_size}: {float(r.mean()):.1f} in {wall:.1f}s")
    assert wall < 120
    assert float(r.mean()) >= 475
    tr = evaluate_transfer(jax.random.key(7), h, data, 16)
    print("transfer", tr)
    assert all(v >= 475 for v in tr.values()), tr


@pytest.mark.slow
@pytest.mark.parametrize(
    "target,n,gens,bar",
    [("acrobot", 8, 100, -100), ("mountain-car", 8, 200, -130), ("pendulum", 16, 300, -300)],
)
def test_classic_control_learns(target, n, gens, bar):
    cfg = HadesConfig(target=target, dataset_size=n, policy=PolicyConfig())
    t0 = time.time()
    h, data = _train(cfg, "snes", 64, 0.5, gens)
    r = make_dataset_evaluator(h)(jax.random.key(123), data, 16)
    print(f"{target}: {float(r.mean()):.1f} in {time.time() - t0:.0f}s")
    assert time.time() - t0 < 20 * 60
    assert float(r.mean()) >= bar


@pytest.mark.slow
def test_digits_distillation_beats_random_real():
    task = make_digits_distillation()
    loop = make_es_loop(
        task.problem, make_es("openes", 32, task.class_means, std_init=0.05, lr=0.02)
    )
    s, _ = jax.jit(loop.run_chunk, static_argnums=1)(loop.init(jax.random.key(0)), 100)
    dist = float(jnp.mean(distilled_accuracies(jax.random.key(1), task, loop.get_mean(s))))
    base = float(jnp.mean(baseline_accuracies(jax.random.key(2), task, 32)))
    print(f"digits distilled {dist:.3f} vs one random real image per class {base:.3f}")
    assert dist >= base + 0.1


def test_dataclass_replace_keeps_validation():
    with pytest.raises(ValueError, match="steps"):
        dataclasses.replace(TINY_POLICY, steps=0)
