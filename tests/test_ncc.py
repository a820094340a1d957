"""NCC (curricula.ncc): the truncated-simplex projection against a NumPy reference, one
distribution step and one TiAda student step computed by hand, the coupling through the learner
step, ``make_train`` determinism / vmap over seeds / exact resume, and ``openued train`` on the
maze. The curriculum conformance (jit / vmap / every branch / determinism) is in
tests/test_curricula.py with the other curricula."""

from __future__ import annotations

import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import curricula as C
from curricula.ncc import distribution_gradient, distribution_step
from ued import LevelSpace, LevelStats
from ued.optim import ScaleByTiAdaState, scale_by_tiada
from ued.ppo import PPOConfig, PPOParams
from ued.train import TrainConfig, make_train

sys.path.insert(0, os.path.dirname(__file__))
from _corridor import CorridorEnv, corridor_space, pvl_score  # noqa: E402

# ----------------------------------------------------------------------------- projection


def np_project(x, floor):
    """Independent reference: bisection on the shift theta of sum(max(x - theta, floor)) = 1
    (float64, 200 halvings)."""
    x = np.asarray(x, np.float64)
    lo, hi = x.min() - 1.0, x.max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.maximum(x - mid, floor).sum() > 1.0:
            lo = mid
        else:
            hi = mid
    return np.maximum(x - 0.5 * (lo + hi), floor)


VECTORS = [
    ([0.5, 0.3, -0.2, 0.6], 0.05),
    ([10.0, 0.0, 0.0, 0.0, 0.0], 0.01),
    ([-3.0, -3.0, -3.0], 0.1),
    ([0.2, 0.2, 0.2, 0.2, 0.2], 0.0),
    ([1e-6, 0.7, 0.3, 2.0, -1.0, 0.4], 1e-5),
    ([0.9, 0.1, 0.0, 0.0], 0.25),  # floor * n == 1: only the uniform vector
]


@pytest.mark.parametrize("x, floor", VECTORS)
def test_projection_matches_numpy_reference(x, floor):
    p = np.asarray(jax.jit(C.project_truncated_simplex, static_argnums=1)(jnp.array(x), floor))
    np.testing.assert_allclose(p, np_project(x, floor), atol=2e-6)
    assert abs(p.sum() - 1.0) < 1e-5
    assert np.all(p >= floor - 1e-7)
    again = np.asarray(C.project_truncated_simplex(jnp.asarray(p), floor))
    np.testing.assert_allclose(again, p, atol=1e-6)  # idempotent


def test_projection_hand_case_and_feasible_vectors_unchanged():
    # x - floor = [.45, .25, -.25, .55], mass r = 1 - 4 * .05 = .8; sorted .55 .45 .25 -.25,
    # cumsums .55 1.0 1.25 1.0; u_j - (c_j - r)/j = .8, .35, .1, -.3 -> k = 3,
    # theta = (1.25 - .8) / 3 = .15 -> max(z - .15, 0) + .05 = [.35, .15, .05, .45]
    p = C.project_truncated_simplex(jnp.array([0.5, 0.3, -0.2, 0.6]), 0.05)
    np.testing.assert_allclose(np.asarray(p), [0.35, 0.15, 0.05, 0.45], atol=1e-6)
    for y in ([0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.05, 0.05, 0.3, 0.6]):
        np.testing.assert_allclose(
            np.asarray(C.project_truncated_simplex(jnp.array(y), 0.05)), y, atol=1e-6
        )
    batch = jnp.array([[0.5, 0.3, -0.2, 0.6], [0.7, 0.1, 0.1, 0.1]])
    vp = jax.vmap(lambda v: C.project_truncated_simplex(v, 0.05))(batch)
    np.testing.assert_allclose(np.asarray(vp[0]), [0.35, 0.15, 0.05, 0.45], atol=1e-6)


def test_projection_refuses_an_infeasible_floor():
    with pytest.raises(ValueError, match=r"floor \* n = 1.2"):
        C.project_truncated_simplex(jnp.ones(4), 0.3)
    with pytest.raises(ValueError, match="floor"):
        C.NCCConfig(buffer_size=64, floor=0.02)


# ----------------------------------------------------------------------------- hand steps


def test_distribution_gradient_by_hand():
    # g = s - lam (log(y + 1e-6) + y / (y + 1e-6)); s = 0, lam = 1:
    # y = .5:   log(.500001) = -0.6931452, .5/.500001 = 0.999998   -> g = -0.3068528
    # y = .25:  log(.250001) = -1.3862904, 0.999996                -> g =  0.3862944
    # y = .125: log(.125001) = -2.0794335, 0.999992                -> g =  1.0794415
    g = distribution_gradient(jnp.array([0.5, 0.25, 0.125, 0.125]), jnp.zeros(4), 1.0)
    np.testing.assert_allclose(
        np.asarray(g), [-0.3068528, 0.3862944, 1.0794415, 1.0794415], rtol=2e-6
    )


def test_one_distribution_step_by_hand():
    cfg = C.NCCConfig(buffer_size=4, num_new=0)
    cur = C.make_ncc(_BITS, 2, cfg)
    st = cur.init(jax.random.key(0))
    s = jnp.array([1.0, 1 / 32, 1 / 1024, 0.0])
    new = distribution_step(st, s, C.NCCParams(lr=0.1, entropy_coef=0.0), cfg)
    # lam = 0 -> g = s. First step: m = .1 g, m_hat = m / (1 - .9) = g; v = .001 g^2, and
    # v^.4 / sqrt(1 - .999) = .001^(.4 - .5) |g|^.8 = 10^.3 |g|^.8 = 1.9952623 |g|^.8.
    # step = .1 g / (1.9952623 |g|^.8 + 1e-5):
    #   g = 1:      .1 / 1.9952723                              = 0.0501185
    #   g = 1/32:   |g|^.8 = 1/16; .003125 / (.1247039 + 1e-5)  = 0.0250574
    #   g = 1/1024: |g|^.8 = 1/256; 9.765625e-5 / .0078040      = 0.0125136
    #   g = 0:      0
    # y + step = [.3001185, .2750574, .2625136, .25] sums to 1.0876895: the projection (all
    # far above the floor) subtracts the mean step .0219224 from each:
    np.testing.assert_allclose(
        np.asarray(new.probs), [0.2781961, 0.2531350, 0.2405913, 0.2280776], atol=2e-6
    )
    # v_y = sum(v) = .001 (1 + 1/1024 + 1/1048576) = 0.0010009775
    np.testing.assert_allclose(float(jnp.sum(new.sq)), 0.0010009775, rtol=1e-5)
    assert int(new.refreshes) == 1 and abs(float(new.b1_pow) - 0.9) < 1e-7


def test_tiada_student_step_by_hand():
    tx = scale_by_tiada()  # alpha .6, b1 .9, b2 .999, eps 1e-5
    params = jnp.zeros(2)
    g = jnp.array([3.0, 4.0])
    st = tx.init(params)
    # first step: m_hat = g; v = .001 g^2 = [.009, .016], v_x = .025;
    # v^.6 / sqrt(.001) + 1e-5 = [.0592305, .0836512] * 31.6227766 + 1e-5 = [1.8730433, 2.6452921]
    # out = g / that = [1.6016714, 1.5121204]
    out, new = tx.update(g, st, params)
    np.testing.assert_allclose(np.asarray(out), [1.6016714, 1.5121204], rtol=1e-5)  # float32
    assert isinstance(new, ScaleByTiAdaState)
    # a dual player below the learner changes nothing: max(v_x, v_y) = v_x
    low, _ = tx.update(g, st, params, dual_sq_norm=jnp.float32(0.01))
    np.testing.assert_array_equal(np.asarray(low), np.asarray(out))
    # above it the step shrinks by (v_x / v_y)^.6 = (.025 / .1)^.6 = .25^.6 = 0.4352753
    high, _ = tx.update(g, st, params, dual_sq_norm=jnp.float32(0.1))
    np.testing.assert_allclose(np.asarray(high), [0.6971680, 0.6581886], rtol=1e-5)
    # inside an optax chain the clip ignores the extra argument and passes it on
    chained = optax.chain(optax.clip_by_global_norm(1e9), tx)
    c_out, _ = chained.update(g, chained.init(params), params, dual_sq_norm=jnp.float32(0.1))
    np.testing.assert_allclose(np.asarray(c_out), np.asarray(high), rtol=1e-6)


# ----------------------------------------------------------------------------- behaviour

_BITS = LevelSpace(
    name="bits6",
    placeholder=jnp.zeros(6, jnp.int32),
    sample=lambda k: jax.random.bernoulli(k, 0.5, (6,)).astype(jnp.int32),
)


def _evaluate(key, levels):
    """Success rate .5 on levels with exactly 3 ones (learnability .25), else 0 or 1."""
    ones = levels.sum(-1)
    p = jnp.where(ones == 3, 0.5, jnp.where(ones > 3, 1.0, 0.0)).astype(jnp.float32)
    return LevelStats(p, p, p, p, jnp.ones(p.shape[0], jnp.int32))


def _run_bits(cfg, params, steps=25):
    cur = C.make_ncc(_BITS, 4, cfg)

    @jax.jit
    def step(key, st):
        st, prop = cur.propose(key, st, params, _evaluate)
        stats = _evaluate(key, prop.levels)
        return cur.observe(key, st, prop, stats, params), prop

    st0 = st = cur.init(jax.random.key(3))
    for k in jax.random.split(jax.random.key(4), steps):
        st, prop = step(k, st)
    return st0, st, prop


def test_distribution_moves_mass_to_learnable_levels():
    cfg = C.NCCConfig(buffer_size=8, num_new=0, eval_episodes=2)  # a fixed buffer
    st0, st, prop = _run_bits(cfg, C.NCCParams(lr=0.05, entropy_coef=0.001))
    learnable = np.asarray(st.levels.sum(-1) == 3)
    np.testing.assert_array_equal(np.asarray(st.levels), np.asarray(st0.levels))
    assert 0 < learnable.mean() < 1
    probs = np.asarray(st.probs)
    assert probs[learnable].sum() > learnable.mean() + 0.2  # y prefers the learnable levels
    assert abs(probs.sum() - 1.0) < 1e-5 and probs.min() >= cfg.floor - 1e-7
    assert int(st.refreshes) == 24  # every update but the first
    np.testing.assert_array_equal(np.asarray(prop.levels), np.asarray(st.levels)[prop.slots])


def test_refresh_inserts_better_fresh_levels():
    cfg = C.NCCConfig(buffer_size=8, num_new=4, eval_episodes=2)
    st0, st, _ = _run_bits(cfg, C.NCCParams(lr=0.05, entropy_coef=0.001))
    assert float(jnp.mean(st0.levels.sum(-1) == 3)) < 1
    # fresh learnable levels (.25) replaced every unlearnable one (0)
    assert np.all(np.asarray(st.levels.sum(-1)) == 3)
    np.testing.assert_allclose(np.asarray(st.scores), 0.25)


# ----------------------------------------------------------------------------- make_train

B, T, U = 4, 16, 2


def _trainer(student="tiada", ppo=None):
    space = corridor_space()
    cur = C.make_ncc(
        space, B, C.NCCConfig(buffer_size=4, num_new=2, eval_episodes=1, student=student)
    )
    cfg = TrainConfig(
        num_envs=B,
        num_steps=T,
        num_updates=U,
        ppo=ppo or PPOConfig(num_epochs=1, num_minibatches=1),
        evaluate_steps=12,
    )
    from ued.networks import NetworkConfig, make_actor_critic

    net = make_actor_critic(NetworkConfig.small_ff(), 3)
    return make_train(
        cfg, CorridorEnv(), space, cur, net, pvl_score,
        ppo_params=PPOParams(lr=3e-3, lr_anneal_updates=0),
    )  # fmt: skip


def _leaves_equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _tiada_state(opt_state) -> ScaleByTiAdaState:
    is_t = lambda s: isinstance(s, ScaleByTiAdaState)
    found = [s for s in jax.tree.leaves(opt_state, is_leaf=is_t) if is_t(s)]
    assert len(found) == 1  # the student's optimiser is the curriculum's TiAda
    return found[0]


@pytest.fixture(scope="module")
def trainer():
    return _trainer()


@pytest.fixture(scope="module")
def ncc_train(trainer):
    tr = trainer
    init, run = jax.jit(tr.init), jax.jit(tr.run, static_argnums=1)
    return tr, init, run, run(init(jax.random.key(0)), U)


@pytest.mark.slow  # four compilations of the corridor program (about a minute on 2 cores)
def test_make_train_deterministic_vmap_and_exact_resume(ncc_train):
    tr, init, run, (state, m) = ncc_train
    assert int(state.curriculum.refreshes) == U - 1 and float(m["cur/ncc/dual_sq_norm"][-1]) > 0
    _leaves_equal(run(init(jax.random.key(0)), U), (state, m))  # bitwise
    st, m_a = run(init(jax.random.key(0)), 1)
    st, m_b = run(st, 1)
    _leaves_equal(st, state)  # resumed in chunks == uninterrupted, bitwise
    for k in m:
        np.testing.assert_array_equal(np.concatenate([m_a[k], m_b[k]]), np.asarray(m[k]), k)
    keys = jnp.stack([jax.random.key(0), jax.random.key(1)])
    sb, _ = jax.jit(jax.vmap(lambda k: tr.run(tr.init(k), U)))(keys)
    s1, _ = run(init(jax.random.key(1)), U)
    for i, s in enumerate([state, s1]):
        for a, b in zip(jax.tree.leaves(sb.student), jax.tree.leaves(s.student), strict=True):
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(sb.curriculum.probs[i]), s.curriculum.probs, 1e-4)


def test_student_step_reads_the_distribution_through_the_learner_step(trainer):
    tr, init = trainer, jax.jit(trainer.init)
    # the first update takes no distribution step, so the student reads v_y = sum(sq) straight
    # from the curriculum state: one gradient step with v_y = 0 (no coupling: max(v_x, 0) =
    # v_x) and one with v_y = 8 v_x must differ by exactly (v_x / v_y)^.6 = (1/8)^.6
    update = jax.jit(tr.update)
    s0 = init(jax.random.key(2))
    _tiada_state(s0.student.opt_state)
    s_free, _ = update(s0)
    v_x = sum(jnp.sum(v) for v in jax.tree.leaves(_tiada_state(s_free.student.opt_state).nu))
    sq = jnp.zeros_like(s0.curriculum.sq).at[0].set(8.0 * v_x)
    s_slow, _ = update(s0.replace(curriculum=s0.curriculum.replace(sq=sq)))
    d_free = jax.tree.map(lambda a, b: a - b, s_free.student.params, s0.student.params)
    d_slow = jax.tree.map(lambda a, b: a - b, s_slow.student.params, s0.student.params)
    ratio = 0.125**0.6  # 0.2871746
    for a, b in zip(jax.tree.leaves(d_slow), jax.tree.leaves(d_free), strict=True):
        np.testing.assert_allclose(np.asarray(a), ratio * np.asarray(b), rtol=1e-3, atol=2e-7)
    assert max(float(jnp.abs(x).max()) for x in jax.tree.leaves(d_free)) > 1e-4


def test_adam_student_and_refusals():
    tr = _trainer(student="adam")
    st = jax.eval_shape(tr.init, jax.random.key(0))
    kinds = {type(s).__name__ for s in jax.tree.leaves(
        st.student.opt_state, is_leaf=lambda s: isinstance(s, tuple) and hasattr(s, "_fields")
    )}  # fmt: skip
    assert "ScaleByAdamState" in kinds and "ScaleByTiAdaState" not in kinds
    with pytest.raises(ValueError, match="Adam-Rel"):
        _trainer(ppo=PPOConfig(num_epochs=1, num_minibatches=1, optimizer="adam-rel"))
    with pytest.raises(ValueError, match="needs the trainer's evaluate"):
        C.make_ncc(_BITS, 2).propose(jax.random.key(0), None, C.NCCParams(), None)


# ----------------------------------------------------------------------------- CLI


@pytest.mark.slow  # compiles the maze program (about a minute on 2 cores)
def test_openued_train_maze_with_ncc(tmp_path):
    from experiments import cli
    from experiments.kinds import ued as P

    assert P.resolve_preset("maze-ncc")[1]["curriculum"] == "ncc"
    out = tmp_path / "run"
    argv = [
        "train", "maze", "--curriculum", "ncc",
        "--num-envs", "4", "--num-steps", "16", "--maze-size", "7", "--n-walls", "5",
        "--network", "small-ff", "--max-episode-steps", "16", "--num-validation-levels", "4",
        "--eval-attempts", "2", "--eval-every", "0", "--num-epochs", "1",
        "--progress", "false", "--plot", "false", "--num-updates", "3", "--chunk-size", "3",
        "--ncc-buffer-size", "8", "--ncc-num-new", "4", "--ncc-eval-episodes", "1",
        "--out", str(out),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == [1, 2, 3]
    assert all(r["branch/replay"] == 4 and r["branch/new"] == 0 for r in rows)
    assert [r["cur/ncc/refreshes"] for r in rows] == [0, 1, 2]
    assert abs(rows[0]["cur/ncc/entropy"] - np.log(8)) < 1e-4  # uniform before the first step
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["curriculum"] == "ncc" and cfg["score"] == "learnability"


def test_registry_builds_the_maze_trainer_and_validates_options():
    from experiments.kinds import ued as P
    from ued.options import ConfigError

    tiny = dict(num_envs=4, num_steps=8, network="small-ff", maze_size=7, n_walls=5,
                max_episode_steps=16, num_validation_levels=0, ncc_buffer_size=8)  # fmt: skip
    exp = P.build_experiment(P.make_config("maze-ncc", tiny))  # abstract evaluation only
    assert exp.curriculum.name == "ncc" and exp.curriculum.default_params == C.NCCParams()
    assert {"cur/ncc/entropy", "cur/ncc/dual_sq_norm", "branch/replay"} <= set(
        exp.trainer.metric_names
    )
    st = jax.eval_shape(exp.trainer.init, jax.random.key(0))
    _tiada_state(st.student.opt_state)
    with pytest.raises(ConfigError, match="exceeds 1"):
        P.make_config("maze-ncc", dict(tiny, ncc_floor=0.2))
    with pytest.raises(ConfigError, match="--ncc-student tiada"):
        P.make_config("maze-ncc", dict(tiny, optimizer="adam-rel"))
    cfg = P.make_config("maze-ncc", dict(tiny, optimizer="adam-rel", ncc_student="adam"))
    assert cfg.ncc_student == "adam"
