"""ES core: direction, determinism, no recompilation, scan == step loop, resume, sharding,
the generation context of ``evaluate`` and the evaluation of the mean."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from meta import (
    STRATEGIES,
    ESConfig,
    EvalContext,
    Problem,
    es_trainer,
    eval_context,
    make_es,
    make_es_loop,
)
from ued.host import (
    CheckpointError,
    ResumeError,
    RunExists,
    list_checkpoints,
    load_latest_checkpoint,
    read_metrics,
)

TEMPLATE = {"a": jnp.zeros((3,), jnp.float32), "b": jnp.zeros((2, 2), jnp.float32)}


def _sphere(key, cand):
    # noisy objective so that the shared key matters (common random numbers)
    noise = 0.01 * jax.random.normal(key)
    return -sum(jnp.sum((x - 0.5) ** 2) for x in jax.tree.leaves(cand)) + noise


PROBLEM = Problem(TEMPLATE, _sphere, maximize=True)


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


def _equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module")
def snes_loop():
    es = make_es("snes", 8, TEMPLATE, std_init=0.3)
    loop = make_es_loop(PROBLEM, es)
    return loop, jax.jit(loop.step), jax.jit(loop.run_chunk, static_argnums=1)


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_no_recompile_and_improves(name):
    loop = make_es_loop(PROBLEM, make_es(name, 8, TEMPLATE, std_init=0.3))
    step = jax.jit(loop.step)
    state = loop.init(jax.random.key(0))
    first = None
    for _ in range(4):
        state, m = step(state)
        first = float(m.fitness_mean) if first is None else first
    # evosax's init state is weakly typed; normalised, the step compiles exactly once
    assert step._cache_size() == 1
    assert int(state.generation) == 4
    assert np.isfinite(float(state.best_fitness))


def test_config_validation_names_field():
    with pytest.raises(ValueError, match="strategy"):
        ESConfig(strategy="nope")
    with pytest.raises(ValueError, match="population_size"):
        ESConfig(population_size=1)
    with pytest.raises(ValueError, match="std_init"):
        ESConfig(std_init=0.0)


@pytest.mark.parametrize("maximize", [True, False])
def test_sign_convention(maximize):
    # fitness = first coordinate; the mean must move towards larger values iff maximize
    tmpl = jnp.zeros((2,), jnp.float32)
    prob = Problem(tmpl, lambda k, c: c[0], maximize=maximize)
    loop = make_es_loop(prob, make_es("snes", 16, tmpl, std_init=0.5))
    state, m = jax.jit(loop.run_chunk, static_argnums=1)(loop.init(jax.random.key(1)), 5)
    mean0 = float(loop.get_mean(state)[0])
    assert (mean0 > 0.5) if maximize else (mean0 < -0.5)
    # the tracked best member is the higher (maximize) / lower fitness of the population
    fit = np.asarray(m.fitness[0])
    assert float(m.fitness_best[0]) == (fit.max() if maximize else fit.min())
    assert float(m.fitness_worst[0]) == (fit.min() if maximize else fit.max())


def test_generation_bitwise_deterministic(snes_loop):
    loop, step, _ = snes_loop
    s1, m1 = step(loop.init(jax.random.key(3)))
    s2, m2 = step(loop.init(jax.random.key(3)))
    _equal((s1, m1), (s2, m2))
    s3, _ = step(loop.init(jax.random.key(4)))
    assert not np.array_equal(np.asarray(s1.es_state.mean), np.asarray(s3.es_state.mean))


def test_common_random_numbers(snes_loop):
    loop, _, _ = snes_loop
    # two identical members get identical fitness despite the noisy objective
    pop = jax.tree.map(lambda x: jnp.stack([x, x, x + 2.0]), TEMPLATE)
    f = jax.jit(loop.evaluate_population)(jax.random.key(0), pop)
    assert f[0] == f[1] and f[0] != f[2]


def test_scan_equals_step_loop_and_vmap(snes_loop):
    loop, step, chunk = snes_loop
    s0 = loop.init(jax.random.key(5))
    s_scan, m_scan = chunk(s0, 3)
    s = s0
    fits = []
    for _ in range(3):
        s, m = step(s)
        fits.append(m.fitness)
    _equal(s_scan, s)
    _equal(m_scan.fitness, jnp.stack(fits))
    # vmap over seeds: each lane equals its own unbatched run
    keys = jax.random.split(jax.random.key(9), 2)
    sv = jax.vmap(loop.init)(keys)
    sv, _ = jax.jit(jax.vmap(loop.step))(sv)
    s_one, _ = step(loop.init(keys[1]))
    np.testing.assert_allclose(sv.es_state.mean[1], s_one.es_state.mean, rtol=1e-6, atol=1e-7)


def _gens(run_dir):
    return [r["generation"] for r in read_metrics(run_dir)]


def _no_temp_files(run_dir):
    return [p for p in run_dir.rglob("*") if ".tmp" in p.name]


def _run(loop, run_dir, n, *, resume=False, programs=None, chunk=2, every=2, **kw):
    """An ES run through the one host loop (``ued.host.run_trainer``), quiet."""
    from meta import ES_HEALTH
    from ued.host import HostConfig, run_trainer

    host = HostConfig(n, chunk_size=chunk, checkpoint_every=every, progress=False,
                      health=ES_HEALTH)  # fmt: skip
    kw.setdefault("write", lambda m: None)
    return run_trainer(run_dir, es_trainer(loop), n, host=host, resume=resume,
                       programs=programs, config=kw.pop("config", {"kind": "test"}), **kw)  # fmt: skip


def test_resume_equals_uninterrupted(snes_loop, tmp_path):
    from ued.host import jit_trainer

    loop, _, _ = snes_loop
    programs = jit_trainer(es_trainer(loop))
    full = _run(loop, tmp_path / "full", 6, programs=programs)
    d = tmp_path / "run"
    part = _run(loop, d, 4, programs=programs)
    s0 = programs[0](jax.random.key(0))
    unit, restored, _ = load_latest_checkpoint(d, s0)
    compiled = programs[1]._cache_size()
    assert unit == 4
    _equal(restored, part)
    resumed = _run(loop, d, 6, resume=True, programs=programs)
    _equal(resumed, full)
    assert _gens(d) == [1, 2, 3, 4, 5, 6]
    assert (d / "metrics.jsonl").read_bytes() == (tmp_path / "full" / "metrics.jsonl").read_bytes()
    assert programs[1]._cache_size() == compiled  # the restored state's avals: no recompilation
    assert [u for u, _ in list_checkpoints(d)] == [2, 4, 6]  # newest 3 kept
    assert _no_temp_files(d) == []
    # a fresh run into a directory that holds one is refused
    with pytest.raises(RunExists):
        _run(loop, d, 6, programs=programs)


def test_crash_between_checkpoint_and_metrics_is_trimmed(snes_loop, tmp_path, monkeypatch):
    import ued.host.loop as loop_mod

    loop, _, _ = snes_loop
    full = _run(loop, tmp_path / "full", 3, chunk=1, every=1)
    d = tmp_path / "run"
    real_save = loop_mod.save_checkpoint

    def crash_at_2(run_dir, unit, state, keep):
        if unit == 2:  # the rows of generation 2 are written, its checkpoint is not
            raise KeyboardInterrupt
        return real_save(run_dir, unit, state, keep)

    monkeypatch.setattr(loop_mod, "save_checkpoint", crash_at_2)
    with pytest.raises(KeyboardInterrupt):
        _run(loop, d, 3, chunk=1, every=1)
    monkeypatch.setattr(loop_mod, "save_checkpoint", real_save)
    assert _gens(d) == [1, 2]
    # a corrupted newest checkpoint is skipped too (falls back to generation 0)
    (d / "checkpoints" / "ckpt_000000001.msgpack").write_bytes(b"OPENUED\x02" + b"\0" * 40)
    warnings = []
    resumed = _run(loop, d, 3, chunk=1, every=1, resume=True, write=warnings.append)
    assert any("skipping checkpoint" in w and "ckpt_000000001" in w for w in warnings)
    assert _gens(d) == [1, 2, 3]  # no duplicated generation
    _equal(resumed, full)


def test_resume_rule_and_lost_checkpoints(snes_loop, tmp_path):
    loop, _, _ = snes_loop
    d = tmp_path / "run"
    cfg = {"kind": "test", "population_size": 8, "std_init": 0.3, "generations": 2}
    _run(loop, d, 2, config=cfg)
    with pytest.raises(ResumeError, match=r"cannot change std_init when resuming"):
        _run(loop, d, 4, config={**cfg, "generations": 4, "std_init": 0.5}, resume=True,
             may_change=("generations",))  # fmt: skip
    with pytest.raises(ResumeError, match="at least 2 generations"):
        _run(loop, d, 1, config=cfg, resume=True, may_change=("generations",))
    _run(loop, d, 4, config={**cfg, "generations": 4}, resume=True, may_change=("generations",))
    assert json.loads((d / "config.json").read_text())["generations"] == 4
    for _, p in list_checkpoints(d):
        p.write_bytes(p.read_bytes()[:-3])  # truncated
    with pytest.raises(CheckpointError, match="no usable checkpoint.*start it over"):
        _run(loop, d, 6, config=cfg, resume=True, may_change=("generations",))


def test_checkpoint_rejects_other_config(snes_loop, tmp_path):
    loop, _, _ = snes_loop
    _run(loop, tmp_path, 1, chunk=1)
    other_tmpl = {"a": jnp.zeros((4,), jnp.float32), "b": jnp.zeros((2, 2), jnp.float32)}
    other_prob = Problem(other_tmpl, _sphere, maximize=True)
    other = make_es_loop(other_prob, make_es("snes", 8, other_tmpl, std_init=0.3))
    with pytest.raises(CheckpointError, match="shape"):
        load_latest_checkpoint(tmp_path, other.init(jax.random.key(0)), warn=lambda m: None)


SHARD_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from meta import Problem, make_es, make_es_loop
    assert len(jax.devices()) == 4, jax.devices()
    tmpl = {"a": jnp.zeros((3,), jnp.float32), "b": jnp.zeros((2, 2), jnp.float32)}
    def f(key, c):
        return -sum(jnp.sum((x - 0.5) ** 2) for x in jax.tree.leaves(c)) + jax.random.normal(key)
    prob = Problem(tmpl, f, True)
    es = make_es("snes", 8, tmpl, std_init=0.3)
    check(jax.make_mesh((4,), ("pop",), axis_types=(jax.sharding.AxisType.Auto,)))
    try:
        make_es_loop(prob, es, mesh=jax.make_mesh((4,), ("pop",),
                     axis_types=(jax.sharding.AxisType.Explicit,)))
    except ValueError as e:
        assert "Auto" in str(e)
    else:
        raise AssertionError("explicit mesh accepted")
    print("SHARD_OK 4")
    """
)
_SHARD_CHECK = textwrap.dedent(
    """
    def check(mesh):
        plain, sharded = make_es_loop(prob, es), make_es_loop(prob, es, mesh=mesh)
        s0 = plain.init(jax.random.key(0))
        a, ma = jax.jit(plain.run_chunk, static_argnums=1)(s0, 3)
        b, mb = jax.jit(sharded.run_chunk, static_argnums=1)(s0, 3)
        # generation 1 is bitwise equal; later ones may differ in the last bits because the
        # sharded tell reduces over the population in another order
        np.testing.assert_array_equal(np.asarray(ma.fitness[0]), np.asarray(mb.fitness[0]))
        np.testing.assert_allclose(np.asarray(ma.fitness), np.asarray(mb.fitness), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(a.es_state.mean), np.asarray(b.es_state.mean),
                                   rtol=1e-6, atol=1e-7)
        pop = jax.tree.map(lambda x: jnp.zeros((8, *x.shape)), tmpl)
        fit = jax.jit(sharded.evaluate_population)(jax.random.key(1), pop)
        # the population's fitness really lives on 4 devices, 2 members each
        assert len(fit.sharding.device_set) == 4, fit.sharding
        assert {s.data.shape for s in fit.addressable_shards} == {(2,)}
        # evaluation in 2 strided chunks of 4: same fitness, still spread over the 4 devices
        chunked = make_es_loop(prob, es, mesh=mesh, eval_batch_size=4)
        c, mc = jax.jit(chunked.run_chunk, static_argnums=1)(s0, 3)
        np.testing.assert_array_equal(np.asarray(ma.fitness[0]), np.asarray(mc.fitness[0]))
        fit_c = jax.jit(chunked.evaluate_population)(jax.random.key(1), pop)
        assert len(fit_c.sharding.device_set) == 4, fit_c.sharding
        # the mean evaluated beside a sharded population: same population fitness, and the
        # mean's fitness as in the unsharded loop (where it rides in the population's vmap)
        ms = make_es_loop(prob, es, mesh=mesh, evaluate_mean=True)
        mp = make_es_loop(prob, es, evaluate_mean=True)
        _, md = jax.jit(ms.run_chunk, static_argnums=1)(s0, 1)
        _, mu = jax.jit(mp.run_chunk, static_argnums=1)(s0, 1)
        np.testing.assert_array_equal(np.asarray(ma.fitness[0]), np.asarray(md.fitness[0]))
        np.testing.assert_allclose(np.asarray(md.mean_fitness), np.asarray(mu.mean_fitness),
                                   rtol=1e-6)
    """
)


def test_sharded_population_matches_unsharded():
    env = dict(os.environ)
    env["XLA_FLAGS"] = env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run(
        [sys.executable, "-c", _SHARD_CHECK + SHARD_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARD_OK 4" in out.stdout


def test_chunked_population_evaluation_equals_one_vmap():
    tmpl = {"a": jnp.zeros((3,), jnp.float32)}

    def f(key, c):
        return -jnp.sum((c["a"] - 0.5) ** 2) + jax.random.normal(key)

    prob = Problem(tmpl, f, True)
    es = make_es("snes", 8, tmpl, std_init=0.3)
    s0 = make_es_loop(prob, es).init(jax.random.key(0))
    pop = {"a": jnp.arange(24, dtype=jnp.float32).reshape(8, 3) / 24}
    plain = jax.jit(make_es_loop(prob, es).evaluate_population)(jax.random.key(1), pop)
    for bs in (1, 2, 4, 8):
        loop = make_es_loop(prob, es, eval_batch_size=bs)
        np.testing.assert_array_equal(
            jax.jit(loop.evaluate_population)(jax.random.key(1), pop), plain
        )
    a = jax.jit(make_es_loop(prob, es).run_chunk, static_argnums=1)(s0, 2)
    b = jax.jit(make_es_loop(prob, es, eval_batch_size=2).run_chunk, static_argnums=1)(s0, 2)
    np.testing.assert_array_equal(a[1].fitness, b[1].fitness)
    for bad in (0, 3, 16, 2.0):
        with pytest.raises(ValueError, match="eval_batch_size"):
            make_es_loop(prob, es, eval_batch_size=bad)
    from meta import auto_eval_batch_size

    assert auto_eval_batch_size(1024, "cpu") == 256
    assert auto_eval_batch_size(256, "cpu") is None
    assert auto_eval_batch_size(1024, "gpu") is None


def _by_generation(key, cand, context):
    # the population's fitness is the generation index: it can only come from the context
    return context.generation.astype(jnp.float32) + 0.0 * jnp.sum(cand["a"])


@pytest.mark.parametrize("eval_batch_size", [None, 2])
def test_generation_reaches_evaluate(eval_batch_size):
    tmpl = {"a": jnp.zeros((3,), jnp.float32)}
    prob = Problem(tmpl, _by_generation, maximize=True, uses_context=True)
    es = make_es("snes", 4, tmpl, std_init=0.3)
    loop = make_es_loop(prob, es, eval_batch_size=eval_batch_size, evaluate_mean=True)
    chunk = jax.jit(loop.run_chunk, static_argnums=1)
    state, m = chunk(loop.init(jax.random.key(0)), 3)
    np.testing.assert_array_equal(np.asarray(m.fitness), np.repeat([[0.0], [1.0], [2.0]], 4, 1))
    np.testing.assert_array_equal(np.asarray(m.mean_fitness), [0.0, 1.0, 2.0])
    # a resumed chunk continues the count (the index lives in the state, not the chunk)
    _, m = chunk(state, 2)
    np.testing.assert_array_equal(np.asarray(m.mean_fitness), [3.0, 4.0])
    pop = jax.tree.map(lambda x: jnp.zeros((4, *x.shape)), tmpl)
    f = jax.jit(loop.evaluate_population)(jax.random.key(1), pop, eval_context(7))
    np.testing.assert_array_equal(np.asarray(f), [7.0] * 4)
    f0 = jax.jit(loop.evaluate_population)(jax.random.key(1), pop)  # default: generation 0
    np.testing.assert_array_equal(np.asarray(f0), [0.0] * 4)
    # problems without a context keep the two-argument evaluate
    assert Problem(tmpl, _sphere, True).evaluate_in(jax.random.key(0), tmpl, eval_context(3)) == (
        _sphere(jax.random.key(0), tmpl)
    )
    assert (
        isinstance(eval_context(2), EvalContext) and eval_context(2).generation.dtype == jnp.int32
    )


@pytest.mark.parametrize("eval_batch_size", [None, 4])
def test_evaluate_mean_option(snes_loop, eval_batch_size, tmp_path):
    loop, step, _ = snes_loop
    with_mean = make_es_loop(PROBLEM, loop.es, eval_batch_size=eval_batch_size, evaluate_mean=True)
    step_mean = jax.jit(with_mean.step)
    s0 = loop.init(jax.random.key(3))
    s1, m1 = step(s0)
    t1, n1 = step_mean(s0)
    assert m1.mean_fitness is None
    # the mean's evaluation does not perturb the search: bitwise the same generation
    _equal(s1, t1)
    _equal(m1.fitness, n1.fitness)
    # it is the fitness of the mean sampled around, with the population's key (noise included)
    k_eval = jax.random.split(s0.key, 4)[2]
    want = _sphere(k_eval, loop.get_mean(s0))
    np.testing.assert_allclose(float(n1.mean_fitness), float(want), rtol=1e-6)
    assert n1.mean_fitness.dtype == jnp.float32 and n1.mean_fitness.shape == ()
    # the host loop's rows: mean_fitness in every row, generation g's the mean after g - 1
    _run(with_mean, tmp_path / "m", 3, keys=jax.random.key(3))
    recs = read_metrics(tmp_path / "m")
    assert [r["generation"] for r in recs] == [1, 2, 3]
    assert recs[0]["mean_fitness"] == float(n1.mean_fitness)
    assert all("mean_fitness" in r for r in recs)
    # without the option: no mean_fitness
    _run(loop, tmp_path / "p", 2)
    assert not any("mean_fitness" in r for r in read_metrics(tmp_path / "p"))


def test_es_run_annotate_every_row_and_evaluate_at_evaluations(snes_loop, tmp_path):
    from meta import ES_HEALTH
    from ued.host import HostConfig, run_trainer

    loop, _, _ = snes_loop
    seen = []

    def annotate(row):
        seen.append(row["generation"])
        return {"double": 2 * row["generation"]}

    host = HostConfig(3, chunk_size=2, eval_every=2, progress=False, health=ES_HEALTH)
    run_trainer(tmp_path / "a", es_trainer(loop), 3, host=host, annotate=annotate,
                evaluate=lambda st: {"last": int(st.generation)}, write=lambda m: None)  # fmt: skip
    recs = read_metrics(tmp_path / "a")
    assert seen == [1, 2, 3]
    assert [r["double"] for r in recs] == [2, 4, 6]
    assert [r.get("eval/last") for r in recs] == [None, 2, 3]


# ----------------------------------------------------------------------------- ES params

# sha256 (first 16 hex digits) of the search mean, best fitness and the fitness, mean-fitness
# and search-std metrics of 3 generations (key 0, std_init 0.3, evaluate_mean) as the ES core
# computed them while its learning rate and std were closure constants (recorded on CPU with
# this repository's pinned jax and evosax, in this file's fast-compile mode): default params
# must reproduce them bit for bit
_GOLDEN = {
    ("Open_ES", None): "5255d1388472a874",
    ("SNES", None): "870c41b098ab4de5",
    ("SNES", 0.1): "13c857dd767f6ecf",
    ("CMA_ES", None): "b6acda9cad81a5c6",
    ("Sep_CMA_ES", None): "27c52a9dd20a5d16",
    ("PGPE", None): "31dfc1f773909d8f",
}


@pytest.mark.parametrize("name,lr", list(_GOLDEN))
def test_default_params_reproduce_the_closure_constants(name, lr):
    import hashlib

    loop = make_es_loop(PROBLEM, make_es(name, 8, TEMPLATE, std_init=0.3, lr=lr),
                        evaluate_mean=True)  # fmt: skip
    s, m = jax.jit(loop.run_chunk, static_argnums=1)(loop.init(jax.random.key(0)), 3)
    h = hashlib.sha256()
    for x in jax.tree.leaves((loop.get_mean(s), s.best_fitness, m.fitness, m.mean_fitness,
                              m.search_std)):  # fmt: skip
        h.update(np.asarray(x).tobytes())
    assert h.hexdigest()[:16] == _GOLDEN[(name, lr)]
    assert float(s.params.std_init) == np.float32(0.3)


def test_a_grid_of_params_is_one_program():
    name = "SNES"
    from meta import es_params

    loop = make_es_loop(PROBLEM, make_es(name, 8, TEMPLATE, std_init=0.3))
    grid = jax.tree.map(lambda *x: jnp.stack(x), es_params(0.5, 0.3), es_params(0.05, 0.2))
    keys = jnp.stack([jax.random.key(0)] * 2)
    init = jax.jit(jax.vmap(loop.init, in_axes=(0, None, 0)))
    chunk = jax.jit(jax.vmap(loop.run_chunk, in_axes=(0, None)), static_argnums=1)
    both, m = chunk(init(keys, None, grid), 2)
    assert not np.array_equal(np.asarray(both.es_state.mean[0]), np.asarray(both.es_state.mean[1]))
    solo = jax.jit(loop.run_chunk, static_argnums=1)
    for i, (lr, std) in enumerate([(0.5, 0.3), (0.05, 0.2)]):
        alone, _ = solo(loop.init(jax.random.key(0), params=es_params(lr, std)), 2)
        np.testing.assert_allclose(np.asarray(both.es_state.mean[i]),
                                   np.asarray(alone.es_state.mean), rtol=1e-6, atol=1e-7)  # fmt: skip
        if i == 0:
            continue
        # and the run of an ES built with that rate and std as its defaults
        built = make_es_loop(PROBLEM, make_es(name, 8, TEMPLATE, std_init=std, lr=lr))
        b, _ = jax.jit(built.run_chunk, static_argnums=1)(built.init(jax.random.key(0)), 2)
        np.testing.assert_allclose(np.asarray(b.es_state.mean), np.asarray(alone.es_state.mean),
                                   rtol=1e-6, atol=1e-7)  # fmt: skip
    # other values of the grid: the same compiled programs
    chunk(init(keys, None, jax.tree.map(lambda x: x * 2, grid)), 2)
    assert init._cache_size() == 1 and chunk._cache_size() == 1


def test_checkpoint_without_params_resumes(snes_loop, tmp_path):
    """A run checkpointed before the state carried ESParams (no ``params``, no learning-rate
    slot in the optimizer state) resumes as the run it was."""
    from flax import serialization

    from ued.host import checkpoint_path, state_to_bytes

    loop, _, _ = snes_loop
    full = _run(loop, tmp_path / "full", 4)
    d = tmp_path / "old"
    _run(loop, d, 2)
    unit, state, _ = load_latest_checkpoint(d, loop.init(jax.random.key(0)))
    old = serialization.to_state_dict(jax.device_get(state))
    del old["params"]
    opt = old["es_state"]["opt_state"]  # SGD's chain: the rate's slot was an EmptyState
    old["es_state"]["opt_state"] = {**opt, str(len(opt) - 1): {}}
    old["key"] = np.asarray(jax.random.key_data(state.key))
    checkpoint_path(d, unit).write_bytes(state_to_bytes(old, unit=unit))
    resumed = _run(loop, d, 4, resume=True)
    _equal(resumed.es_state.mean, full.es_state.mean)
    assert (d / "metrics.jsonl").read_bytes() == (tmp_path / "full" / "metrics.jsonl").read_bytes()
