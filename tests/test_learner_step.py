"""The one PPO learner step (``ued.ppo.make_learner_step``): it is bitwise the hand composition of
``rollout``, ``gae``, ``make_batch`` and ``make_ppo_update``; deterministic by key under jit,
vmap and scan; an all-false mask does no update; relabelled rewards, the learning-rate scale,
the metric names and the carry that lets episodes run on across updates."""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _corridor import CorridorEnv, corridor_space  # noqa: E402

from ued.networks import NetworkConfig, make_actor_critic  # noqa: E402
from ued.ppo import (  # noqa: E402
    PPO_METRICS,
    PPOConfig,
    PPOParams,
    gae,
    init_student,
    make_batch,
    make_learner_step,
    make_ppo_update,
    zero_metrics,
)
from ued.rollout import reset_batch, rollout  # noqa: E402
from ued.wrappers import AutoReplay, EpisodeStats  # noqa: E402

B, T = 4, 8
CFG = PPOConfig(num_epochs=1, num_minibatches=2)
PP = PPOParams(lr=1e-2, lr_anneal_updates=0, gamma=0.9, gae_lambda=0.8)


def _equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module")
def s():
    env = EpisodeStats(AutoReplay(CorridorEnv()))
    net = make_actor_critic(NetworkConfig.small_ff(), 3)
    levels = corridor_space().sample_batch(jax.random.key(1), B)
    rc = reset_batch(jax.random.key(2), env, levels, env.default_params, net.initial_carry(B))
    student = init_student(jax.random.key(0), CFG, net, rc.obs)
    ls = make_learner_step(CFG, net, num_steps=T, step_fn=env.step)
    step = jax.jit(lambda k, st, rc, mask: ls.step(k, st, rc, env.default_params, PP, mask))
    return dict(env=env, net=net, rc=rc, student=student, ls=ls, step=step)


def test_collect_and_update_are_bitwise_the_hand_composition(s):
    env, net, ls = s["env"], s["net"], s["ls"]
    ppo_update = make_ppo_update(CFG, net)

    def new(key, st, rc, mask):
        k_roll, k_upd = jax.random.split(key)
        col = ls.collect(k_roll, rc, st.params, env.default_params, PP)
        st, m = ls.update(k_upd, st, col, PP, mask)
        return col.traj, col.advantage, col.target, col.carry, st, m

    def hand(key, st, rc, mask):
        k_roll, k_upd = jax.random.split(key)
        res = rollout(
            k_roll, rc, st.params, env.default_params, net=net, step_fn=env.step, num_steps=T
        )
        tr = res.traj
        adv, target = gae(
            tr.reward, tr.value, tr.terminated, tr.truncated, res.last_value, 0.9, 0.8
        )
        batch = make_batch(tr, adv, target, mask)
        st, m = jax.lax.cond(
            jnp.any(mask),
            lambda x: ppo_update(k_upd, x, batch, PP),
            lambda x: (x, zero_metrics()),
            st,
        )
        return tr, adv, target, res.carry, st, m

    mask = jnp.array([True, False, True, True])
    args = (jax.random.key(3), s["student"], s["rc"], mask)
    out_new = jax.jit(new)(*args)
    _equal(out_new, jax.jit(hand)(*args))
    # the composed step is the same thing, and it changed the student
    st, col, m = s["step"](*args)
    _equal((col.traj, col.advantage, col.target, col.carry, st, m), out_new)
    assert int(st.num_updates) == 1 and float(m["grad_norm"]) > 0
    assert not np.array_equal(
        jax.tree.leaves(st.params)[0], jax.tree.leaves(s["student"].params)[0]
    )


def test_mask_selecting_nothing_skips_the_update_with_zero_metrics(s):
    st, _, m = s["step"](jax.random.key(3), s["student"], s["rc"], jnp.zeros((B,), bool))
    _equal(st, s["student"])  # params, optimiser state and update count untouched
    assert set(m) == set(PPO_METRICS)
    assert all(float(v) == 0.0 for v in m.values())
    # the skip is a branch of lax.cond, not a zero-weighted gradient step
    ls, env = s["ls"], s["env"]
    jaxpr = jax.make_jaxpr(
        lambda k, st, rc, mask: ls.step(k, st, rc, env.default_params, PP, mask)
    )(jax.random.key(3), s["student"], s["rc"], jnp.zeros((B,), bool))
    assert "cond[" in str(jaxpr)


def test_metric_names_are_ppo_metrics(s):
    st, _, m = s["step"](jax.random.key(4), s["student"], s["rc"], jnp.ones((B,), bool))
    assert set(m) == set(PPO_METRICS) and "lr" in PPO_METRICS and "grad_norm" in PPO_METRICS
    np.testing.assert_allclose(float(m["lr"]), 1e-2, rtol=1e-6)


def test_same_key_bitwise_and_keys_matter(s):
    a = s["step"](jax.random.key(5), s["student"], s["rc"], jnp.ones((B,), bool))
    b = s["step"](jax.random.key(5), s["student"], s["rc"], jnp.ones((B,), bool))
    _equal(a, b)
    c = s["step"](jax.random.key(6), s["student"], s["rc"], jnp.ones((B,), bool))
    assert not np.array_equal(np.asarray(a[1].traj.action), np.asarray(c[1].traj.action))


def test_vmap_over_keys_matches_single_runs(s):
    env, ls = s["env"], s["ls"]
    keys = jnp.stack([jax.random.key(7), jax.random.key(8)])
    f = jax.jit(jax.vmap(lambda k: ls.step(k, s["student"], s["rc"], env.default_params, PP)[::2]))
    sb, mb = f(keys)
    for i in range(2):
        st, _, m = s["step"](keys[i], s["student"], s["rc"], jnp.ones((B,), bool))
        for x, y in zip(jax.tree.leaves((sb, mb)), jax.tree.leaves((st, m)), strict=True):
            np.testing.assert_allclose(np.asarray(x[i]), np.asarray(y), rtol=1e-5, atol=1e-6)


def test_scanned_updates_continue_episodes_through_the_carry(s):
    env, ls = s["env"], s["ls"]

    def body(c, k):
        st, rc = c
        st, col, m = ls.step(k, st, rc, env.default_params, PP)
        return (st, col.carry), (col.traj, col.carry, m["loss"])

    keys = jax.random.split(jax.random.key(9), 2)
    (st, _), (traj, carry, loss) = jax.jit(
        lambda ks: jax.lax.scan(body, (s["student"], s["rc"]), ks)
    )(keys)
    assert int(st.num_updates) == 2 and np.all(np.isfinite(np.asarray(loss)))
    # the second rollout starts where the first ended (no reset in between)
    _equal(jax.tree.map(lambda x: x[1, 0], traj.obs), jax.tree.map(lambda x: x[0], carry.obs))
    np.testing.assert_array_equal(np.asarray(traj.reset[1, 0]), np.asarray(carry.reset[0]))
    # and the scan is the same program as stepping twice by hand
    st1, col1, _ = s["step"](keys[0], s["student"], s["rc"], jnp.ones((B,), bool))
    st2, _, _ = s["step"](keys[1], st1, col1.carry, jnp.ones((B,), bool))
    for x, y in zip(jax.tree.leaves(st), jax.tree.leaves(st2), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


def test_relabel_recomputes_gae_for_replaced_rewards(s):
    env, ls = s["env"], s["ls"]
    col = jax.jit(lambda k: ls.collect(k, s["rc"], s["student"].params, env.default_params, PP))(
        jax.random.key(10)
    )
    reward = jnp.zeros((T, B), jnp.float32).at[-1].set(jnp.arange(B, dtype=jnp.float32))
    last = jnp.zeros((B,), jnp.float32)
    rel = ls.relabel(col.traj, reward, last, PP)
    tr = col.traj
    adv, target = gae(reward, tr.value, tr.terminated, tr.truncated, last, 0.9, 0.8)
    np.testing.assert_array_equal(np.asarray(rel.traj.reward), np.asarray(reward))
    np.testing.assert_array_equal(np.asarray(rel.advantage), np.asarray(adv))
    np.testing.assert_array_equal(np.asarray(rel.target), np.asarray(target))
    assert not np.array_equal(np.asarray(rel.advantage), np.asarray(col.advantage))


def test_lr_scale_is_a_dynamic_step_size_factor(s):
    env, ls = s["env"], s["ls"]
    col = ls.collect(jax.random.key(11), s["rc"], s["student"].params, env.default_params, PP)
    upd = jax.jit(lambda sc: ls.update(jax.random.key(12), s["student"], col, PP, None, sc))
    st0, m0 = upd(jnp.float32(0.0))
    _equal(st0.params, s["student"].params)  # a zero step leaves the parameters
    assert float(m0["lr"]) == 0.0 and float(m0["grad_norm"]) > 0
    st1, m1 = upd(jnp.float32(1.0))
    ref = jax.jit(lambda: ls.update(jax.random.key(12), s["student"], col, PP))()
    _equal((st1, m1), ref)


def test_num_steps_is_checked(s):
    with pytest.raises(ValueError, match="num_steps"):
        make_learner_step(CFG, s["net"], num_steps=0, step_fn=s["env"].step)
    with pytest.raises(ValueError, match="count_episodes"):
        make_learner_step(
            CFG,
            s["net"],
            num_steps=T,
            step_fn=s["env"].step,
            episode_stats=False,
            count_episodes=True,
        )
