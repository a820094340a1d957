"""PAIRED and its variants as a curriculum: score functions (golden numbers), the teacher's
reward per variant, tiny end-to-end ``make_train`` runs, determinism and vmap over seeds."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import curricula
import ued
from curricula.paired import (
    PAIREDConfig,
    estimated_regret,
    finite_or_zero,
    minimax_reward,
    population_regret,
    teacher_rewards,
    true_regret,
)
from envs.maze import MazeConfig, MazeEnv, make_maze_space
from ued.level_space import EDIT_FIELDS
from ued.scores import level_stats

B, T, E = 4, 8, 6
MCFG = MazeConfig(height=5, width=5, n_walls=3, max_steps=12)
PPO = ued.PPOConfig(num_epochs=1)
STUDENT = ued.NetworkConfig(encoder="flat", core="none", embed_dim=2, head_size=8)
TEACHER = ued.NetworkConfig(encoder="flat", core="none", embed_dim=2, head_size=8)
PAIRED_METRICS = (
    "regret",
    "teacher_reward",
    "protagonist_return",
    "antagonist_return",
    "teacher_entropy",
    "teacher_loss",
    "antagonist_loss",
    "level_path_length",
    "level_solvable",
    "level_walls",
)


@pytest.fixture(scope="module")
def setup():
    space = make_maze_space(MCFG, num_edits=E)
    env = MazeEnv(MCFG)
    net = ued.make_actor_critic(STUDENT, MCFG.n_actions)
    return space, env, net


def _config(**kw):
    return PAIREDConfig(
        num_steps=T,
        noise_dim=3,
        student_ppo=PPO,
        teacher_ppo=PPO,
        teacher_network=TEACHER,
        **kw,
    )


# the protagonist's per-level returns, fabricated by the score function given to make_train
# (a tiny student solves nothing in 8 steps), so the teacher's reward is checked on real numbers
PRO_MEAN = np.array([0.5, np.nan, 0.2, 0.9], np.float32)
PRO_MAX = np.array([0.6, -np.inf, 0.2, 0.95], np.float32)


def _score(inputs, max_return):
    s = level_stats("maxmc", inputs, max_return)
    return s.replace(mean_return=jnp.asarray(PRO_MEAN), max_return=jnp.asarray(PRO_MAX))


def _trainer(setup, num_updates=2, **kw):
    space, env, net = setup
    cur = curricula.make_paired(env, space, B, net, _config(**kw))
    tc = ued.TrainConfig(num_envs=B, num_steps=T, num_updates=num_updates, ppo=PPO)
    return cur, ued.make_train(tc, env, space, cur, net, score=_score)


def _np(tree):
    def leaf(x):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        return np.asarray(x)

    return jax.tree.map(leaf, tree)


# ------------------------------------------------------------------ score functions


def test_regret_golden_numbers():
    ant_max = jnp.array([0.5, 0.0, 0.9, -jnp.inf, 0.7])
    pro_mean = jnp.array([0.2, jnp.nan, 1.0, 0.3, 0.7])
    np.testing.assert_allclose(
        estimated_regret(ant_max, pro_mean), [0.3, 0.0, -0.1, -0.3, 0.0], atol=1e-7
    )
    np.testing.assert_allclose(
        estimated_regret(ant_max, pro_mean, clip=True), [0.3, 0.0, 0.0, 0.0, 0.0], atol=1e-7
    )
    np.testing.assert_allclose(finite_or_zero(jnp.array([jnp.nan, -jnp.inf, 2.0])), [0, 0, 2])
    np.testing.assert_allclose(minimax_reward(pro_mean), [-0.2, 0.0, -1.0, -0.3, -0.7])
    np.testing.assert_allclose(
        true_regret(jnp.array([0.9, 0.0, 0.64]), jnp.array([0.5, jnp.nan, 0.64])),
        [0.4, 0.0, 0.0],
        atol=1e-7,
    )


def test_population_regret_golden_numbers():
    # 3 students x 2 levels: the best student's max return - the mean of the others' means.
    # level 0: best is student 1 (0.7); others' means 0.4 and 0.0 -> 0.7 - 0.2
    # level 1: best is student 0 (0.1; nan counts 0); others' means 0.0 and -inf -> 0.1 - 0
    max_r = jnp.array([[0.5, 0.1], [0.7, 0.0], [0.2, jnp.nan]])
    mean_r = jnp.array([[0.4, 0.1], [0.2, 0.0], [0.0, -jnp.inf]])
    np.testing.assert_allclose(population_regret(max_r, mean_r), [0.5, 0.1], atol=1e-7)
    # two students: the better one's max return - the other's mean return
    np.testing.assert_allclose(
        population_regret(jnp.array([[0.3], [0.8]]), jnp.array([[0.1], [0.5]])), [0.7], atol=1e-7
    )
    # ties go to the first student: 0.6 - mean(0.2, 0.4)
    np.testing.assert_allclose(
        population_regret(jnp.array([[0.6], [0.6], [0.1]]), jnp.array([[0.9], [0.2], [0.4]])),
        [0.3], atol=1e-6,
    )


def test_teacher_rewards_only_at_the_last_step():
    r = teacher_rewards(jnp.array([0.5, -1.0]), 3)
    np.testing.assert_array_equal(r, [[0, 0], [0, 0], [0.5, -1.0]])
    assert r.dtype == jnp.float32


# ------------------------------------------------------------------ construction errors


def test_space_without_edit_fields_is_rejected(setup):
    space, env, net = setup
    plain = dataclasses.replace(space, **{f: None for f in EDIT_FIELDS})
    with pytest.raises(ValueError, match="make_paired.*not editable.*'edit_empty'"):
        curricula.make_paired(env, plain, B, net, _config())
    no_opt = dataclasses.replace(space, optimal_return=None)
    with pytest.raises(ValueError, match="true_regret=True needs .*optimal_return"):
        curricula.make_paired(env, no_opt, B, net, _config(true_regret=True))


def test_config_validation():
    with pytest.raises(ValueError, match="variant must be one of"):
        PAIREDConfig(variant="repaired")
    with pytest.raises(ValueError, match="needs num_students=2"):
        PAIREDConfig(num_students=3)
    with pytest.raises(ValueError, match="'population' needs num_students >= 2"):
        PAIREDConfig(variant="population", num_students=1)
    with pytest.raises(ValueError, match="true_regret applies to variant 'paired'"):
        PAIREDConfig(variant="minimax", true_regret=True)
    assert PAIREDConfig().students == 2
    assert PAIREDConfig(variant="minimax").students == 1
    assert PAIREDConfig(true_regret=True).students == 1
    assert PAIREDConfig(variant="population", num_students=4).students == 4
    # published defaults
    p = curricula.PAIREDParams()
    assert float(p.student.lr) == float(p.teacher.lr) == 1e-4
    assert float(p.student.gamma) == float(p.teacher.gamma) == 0.995
    c = PAIREDConfig()
    assert c.noise_dim == 50 and c.num_steps == 256 and c.teacher_network.conv_features == 128


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def paired_runs(setup):
    cur, tr = _trainer(setup)
    train = jax.jit(jax.vmap(tr.train))
    keys = jnp.stack([jax.random.key(0), jax.random.key(1)])
    return cur, tr, _np(train(keys)), _np(train(keys))


def test_paired_end_to_end_vmapped_and_deterministic(setup, paired_runs):
    space = setup[0]
    cur, tr, (state, m), (state2, m2) = paired_runs
    assert cur.name == "paired"
    # same keys -> bitwise the same run
    for a, b in zip(jax.tree.leaves((state, m)), jax.tree.leaves((state2, m2)), strict=True):
        np.testing.assert_array_equal(a, b)
    for name in PAIRED_METRICS:
        key = f"cur/{name}"
        assert key in m and m[key].shape == (2, 2), key
    for name in PAIRED_METRICS:
        if name != "level_path_length":  # nan when no level of the batch is solvable
            assert np.isfinite(m[f"cur/{name}"]).all(), name
    # regret = antagonist's max return - protagonist's mean return, per level (so in the mean)
    np.testing.assert_allclose(
        m["cur/regret"],
        m["cur/antagonist_return"] - m["cur/protagonist_return"],
        atol=1e-6,
    )
    np.testing.assert_allclose(m["cur/protagonist_return"], np.nansum(PRO_MEAN) / B, rtol=1e-6)
    np.testing.assert_array_equal(m["cur/teacher_reward"], m["cur/regret"])
    cs = state.curriculum
    np.testing.assert_array_equal(cs.teacher_reward, cs.regret)
    assert cs.antagonists.num_updates.tolist() == [[2], [2]]
    assert cs.teacher.num_updates.tolist() == [2, 2]
    # the two seeds trained different teachers and built different levels
    assert any(not np.array_equal(x[0], x[1]) for x in jax.tree.leaves(cs.levels))
    assert any(not np.array_equal(x[0], x[1]) for x in jax.tree.leaves(cs.teacher.params))
    valid = jax.vmap(jax.vmap(space.is_valid))(jax.tree.map(jnp.asarray, cs.levels))
    assert bool(jnp.all(valid))


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(variant="minimax"), "minimax"),
        # population PAIRED also runs end to end through the CLI (tests/test_paired_cli.py) and
        # its regret has golden numbers above; this library-level run is the slow copy
        pytest.param(dict(variant="population", num_students=3), "population_paired",
                     marks=pytest.mark.slow),
        (dict(true_regret=True), "paired_true_regret"),
    ],
    ids=["minimax_teacher_reward_is_negative_protagonist_return", "population", "true_regret"],
)
def test_variants_end_to_end(setup, kw, name):
    space = setup[0]
    cur, tr = _trainer(setup, **kw)
    assert cur.name == name
    state, m = _np(jax.jit(tr.train)(jax.random.key(3)))
    cs = state.curriculum
    assert np.isfinite(m["cur/teacher_loss"]).all() and np.isfinite(m["ppo/loss"]).all()
    assert cs.teacher.num_updates.tolist() == 2 and cs.step.tolist() == 2
    levels = jax.tree.map(jnp.asarray, cs.levels)
    assert bool(jnp.all(jax.vmap(space.is_valid)(levels)))
    lv = cur.levels(jax.tree.map(jnp.asarray, cs))
    assert bool(jnp.all(lv.valid)) and lv.scores.shape == (B,)
    pro = np.nan_to_num(PRO_MEAN)
    if name == "minimax":
        # the minimax adversary: rewarded by the protagonist's negative return
        assert cs.antagonists is None and np.isnan(m["cur/antagonist_return"]).all()
        np.testing.assert_allclose(cs.teacher_reward, [-0.5, 0.0, -0.2, -0.9])
        np.testing.assert_allclose(m["cur/teacher_reward"], -pro.mean(), rtol=1e-6)
    elif name == "population_paired":
        assert cs.antagonists.num_updates.tolist() == [2, 2]
        np.testing.assert_array_equal(cs.teacher_reward, cs.regret)
        # the best student's max return (>= the protagonist's) - the mean of the other two
        # students' mean returns (maze returns lie in [0, 1]); exact values: the golden test
        best_low = np.nan_to_num(PRO_MAX, neginf=0.0)
        assert (cs.regret >= best_low - 1.0 - 1e-6).all()
        assert (cs.regret <= 1.0 + 1e-6).all()
    else:
        assert cs.antagonists is None
        opt = np.asarray(jax.vmap(space.optimal_return)(levels))
        np.testing.assert_allclose(cs.regret, opt - pro, atol=1e-6)
        np.testing.assert_array_equal(cs.teacher_reward, cs.regret)
