"""The one rollout (``ued.rollout``): determinism, jit / vmap / scan, what each flag records, the
recurrent carry across episode boundaries, continuous actions and gymnax-style environments,
policy functions (any ``policy(key, params, carry, obs, reset)``), resetting to levels and
first-episode returns."""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

sys.path.insert(0, os.path.dirname(__file__))
from _corridor import CorridorEnv, CorridorState, corridor_space  # noqa: E402

from ued.networks import NETWORK_PRESETS, NetworkConfig, make_actor_critic  # noqa: E402
from ued.ppo import gae  # noqa: E402
from ued.rollout import (  # noqa: E402
    PolicyStep,
    RolloutCarry,
    Transition,
    actor_critic_policy,
    first_episode,
    first_episode_return,
    reset_batch,
    rollout,
    rollout_levels,
)
from ued.wrappers import AutoReplay, EpisodeStats  # noqa: E402

B, T = 6, 30


def _leaves_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module", params=["small-ff", "small-lstm"])
def corridor(request):
    env = EpisodeStats(AutoReplay(CorridorEnv()))
    levels = corridor_space().sample_batch(jax.random.key(1), B)
    net = make_actor_critic(NETWORK_PRESETS[request.param](), 3)
    rc = reset_batch(jax.random.key(2), env, levels, env.default_params, net.initial_carry(B))
    params = net.init(jax.random.key(0), rc.obs)

    def roll(key, num_steps=T, **flags):
        return rollout(
            key,
            rc,
            params,
            env.default_params,
            net=net,
            step_fn=env.step,
            num_steps=num_steps,
            **flags,
        )

    return dict(env=env, net=net, rc=rc, params=params, roll=roll)


def test_same_key_is_bitwise_identical_under_jit(corridor):
    roll = jax.jit(corridor["roll"])
    a, b = roll(jax.random.key(5)), roll(jax.random.key(5))
    _leaves_equal(a, b)
    c = roll(jax.random.key(6))
    assert not np.array_equal(np.asarray(a.traj.action), np.asarray(c.traj.action))
    # shapes and dtypes of the trajectory
    tr = a.traj
    assert tr.action.shape == (T, B) and tr.action.dtype == jnp.int32
    assert tr.value.shape == tr.log_prob.shape == tr.reward.shape == (T, B)
    assert tr.reset.dtype == tr.terminated.dtype == tr.episode_done.dtype == jnp.bool_
    assert a.last_value.shape == (B,) and a.counters is None and a.states is None
    assert np.all(np.asarray(tr.log_prob) <= 0.0)
    # resets mark exactly the episode starts: the first obs and every obs after an end
    done = np.asarray(tr.terminated | tr.truncated)
    np.testing.assert_array_equal(np.asarray(tr.reset)[1:], done[:-1])
    assert np.all(np.asarray(tr.reset)[0])
    np.testing.assert_array_equal(np.asarray(a.carry.reset), done[-1])


def test_vmap_and_scan_over_keys_match_single_runs(corridor):
    roll = corridor["roll"]
    keys = jax.random.split(jax.random.key(7), 3)
    vm = jax.jit(jax.vmap(lambda k: roll(k).traj))(keys)
    _, sc = jax.jit(lambda ks: jax.lax.scan(lambda c, k: (c, roll(k).traj), 0, ks))(keys)
    for i in range(3):
        one = jax.jit(roll)(keys[i]).traj
        for x, y, z in zip(
            jax.tree.leaves(vm), jax.tree.leaves(sc), jax.tree.leaves(one), strict=True
        ):
            np.testing.assert_allclose(np.asarray(x[i]), np.asarray(z), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(np.asarray(y[i]), np.asarray(z), rtol=1e-5, atol=1e-6)


def test_rollouts_chain_through_the_carry(corridor):
    c = corridor
    env, net = c["env"], c["net"]

    def two(key):
        k1, k2 = jax.random.split(key)
        r1 = c["roll"](k1, num_steps=10)
        r2 = rollout(
            k2, r1.carry, c["params"], env.default_params, net=net, step_fn=env.step, num_steps=10
        )
        return r1, r2

    r1, r2 = jax.jit(two)(jax.random.key(3))
    _leaves_equal(jax.tree.map(lambda x: x[0], r2.traj.obs), r1.carry.obs)
    np.testing.assert_array_equal(np.asarray(r2.traj.reset[0]), np.asarray(r1.carry.reset))
    # the recurrent carry continues: V(s_10) of the first rollout is the second's first value
    np.testing.assert_allclose(
        np.asarray(r1.last_value), np.asarray(r2.traj.value[0]), rtol=1e-5, atol=1e-6
    )


def test_counters_state_and_info_flags(corridor):
    roll = corridor["roll"]
    key = jax.random.key(11)
    full = jax.jit(roll)(key)
    lean = jax.jit(
        lambda k: roll(
            k,
            record_trajectory=False,
            count_episodes=True,
            record_state=corridor["env"].base_state,
            record_info=("solved",),
        )
    )(key)
    assert lean.traj is None and lean.last_value is None
    # same key, same actions: the counters summarise the trajectory's episodes
    tr = full.traj
    done = np.asarray(tr.episode_done)
    cnt = lean.counters
    np.testing.assert_array_equal(np.asarray(cnt.num_episodes), done.sum(0))
    np.testing.assert_allclose(
        np.asarray(cnt.sum_return), (np.asarray(tr.episode_return) * done).sum(0), rtol=1e-6
    )
    np.testing.assert_array_equal(np.asarray(cnt.num_solved), (np.asarray(tr.solved) & done).sum(0))
    first = np.asarray(first_episode(jnp.asarray(done))) & done
    has = done.any(0)
    np.testing.assert_allclose(
        np.asarray(cnt.first_return)[has], (np.asarray(tr.episode_return) * first).sum(0)[has]
    )
    assert np.all(np.isnan(np.asarray(cnt.first_return)[~has]))
    # recorded states are the raw env's, before each step
    assert isinstance(lean.states, CorridorState) and lean.states.pos.shape == (T, B)
    obs_pos = np.asarray(tr.obs["pos"]).argmax(-1)
    np.testing.assert_array_equal(np.asarray(lean.states.pos), obs_pos)
    np.testing.assert_array_equal(np.asarray(lean.info["solved"]), np.asarray(tr.terminated))


def test_first_episode_mask():
    done = jnp.array([[0, 1], [1, 0], [0, 1], [1, 0]], bool)
    np.testing.assert_array_equal(np.asarray(first_episode(done)), [[1, 1], [1, 0], [0, 0], [0, 0]])


def test_greedy_takes_the_mode(corridor):
    res = jax.jit(lambda k: corridor["roll"](k, greedy=True))(jax.random.key(0))
    net, tr = corridor["net"], res.traj
    _, out, _ = net.apply(corridor["params"], net.initial_carry(B), tr.obs, tr.reset)
    np.testing.assert_array_equal(np.asarray(tr.action), np.asarray(net.dist.mode(out)))


def test_recurrent_carry_kept_within_episodes_and_reset_at_starts():
    env = EpisodeStats(AutoReplay(CorridorEnv()))
    levels = corridor_space().sample_batch(jax.random.key(1), B)
    net = make_actor_critic(NETWORK_PRESETS["small-lstm"](), 3)
    rc = reset_batch(jax.random.key(2), env, levels, env.default_params, net.initial_carry(B))
    params = net.init(jax.random.key(0), rc.obs)
    res = jax.jit(
        lambda k: rollout(k, rc, params, env.default_params, net=net, step_fn=env.step, num_steps=T)
    )(jax.random.key(4))
    tr = res.traj
    assert int(np.asarray(tr.reset)[1:].sum()) >= B  # every env starts a second episode
    ref_v, ref_lp, ref_carry = _stepwise_reference(net, params, tr, "episode")
    np.testing.assert_allclose(np.asarray(tr.value), ref_v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(tr.log_prob), ref_lp, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(res.carry.carry), jax.tree.leaves(ref_carry), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # and the carry matters both ways: resetting every step, or never, gives other values
    for wrong in ("every_step", "never"):
        v, _, _ = _stepwise_reference(net, params, tr, wrong)
        assert np.max(np.abs(v - np.asarray(tr.value))) > 1e-4, wrong


def _stepwise_reference(net, params, tr, mode: str):
    """Values and log-probs of ``tr``'s actions, one step at a time, with the recurrent state
    handled here: ``"episode"`` zeroes it where an episode starts, ``"every_step"`` at every
    step, ``"never"`` only at t = 0. The network itself is never told to reset."""
    b = tr.reset.shape[1]
    reset = {
        "episode": tr.reset,
        "every_step": jnp.ones_like(tr.reset),
        "never": jnp.zeros_like(tr.reset).at[0].set(True),
    }[mode]
    zero = net.initial_carry(b)

    def body(carry, x):
        obs, r, a = x
        carry = jax.tree.map(lambda c, z: jnp.where(r[:, None], z, c), carry, zero)
        obs1 = jax.tree.map(lambda o: o[None], obs)
        carry, out, v = net.apply(params, carry, obs1, jnp.zeros((1, b), bool))
        return carry, (v[0], net.dist.log_prob(jax.tree.map(lambda o: o[0], out), a))

    carry, (v, lp) = jax.jit(lambda: jax.lax.scan(body, zero, (tr.obs, reset, tr.action)))()
    return np.asarray(v), np.asarray(lp), carry


# ----------------------------------------------------------------------------- gymnax-style


@struct.dataclass
class PointState:
    pos: jax.Array  # float32[2]
    t: jax.Array  # int32[]


class PointEnv:
    """A gymnax-style env with continuous actions and auto-reset, and no episode statistics in
    ``info``: ``reset(key, params)``; ``step`` moves by the clipped action, reward ``-|pos|``,
    truncated after ``params`` steps."""

    def reset(self, key, params):
        s = PointState(jax.random.uniform(key, (2,), minval=-1.0, maxval=1.0), jnp.int32(0))
        return s.pos, s

    def step(self, key, state, action, params):
        pos = state.pos + 0.1 * action
        t = state.t + 1
        reward = -jnp.sqrt(jnp.sum(pos**2))
        trunc = t >= params
        obs_r, s_r = self.reset(key, params)
        s = jax.tree.map(lambda a, b: jnp.where(trunc, a, b), s_r, PointState(pos, t))
        obs = jnp.where(trunc, obs_r, pos)
        return obs, s, reward, jnp.zeros((), bool), trunc, {"t": t}


def test_continuous_actions_on_a_gymnax_style_env():
    env, horizon, n = PointEnv(), 5, 4
    net = make_actor_critic(NetworkConfig.mlp(16, 1), 2, continuous=True)
    obs, st = jax.vmap(env.reset, in_axes=(0, None))(
        jax.random.split(jax.random.key(0), n), horizon
    )
    rc = RolloutCarry.start(st, obs, net.initial_carry(n))
    params = net.init(jax.random.key(1), obs)
    clipped = lambda k, s, a, p: env.step(k, s, jnp.clip(a, -1.0, 1.0), p)

    def roll(key, **flags):
        return rollout(
            key,
            rc,
            params,
            horizon,
            net=net,
            step_fn=clipped,
            num_steps=12,
            episode_stats=False,
            **flags,
        )

    res = jax.jit(roll)(jax.random.key(2))
    _leaves_equal(res, jax.jit(roll)(jax.random.key(2)))
    tr = res.traj
    assert tr.action.shape == (12, n, 2) and tr.action.dtype == jnp.float32
    assert tr.episode_done is None and tr.solved is None
    np.testing.assert_array_equal(np.asarray(tr.truncated).sum(0), [2] * n)  # t = 5 and 10
    np.testing.assert_array_equal(np.asarray(tr.reset)[[0, 5, 10]], True)
    # log-probs are the Gaussian's of the recorded (unclipped) actions
    _, out, v = net.apply(params, rc.carry, tr.obs, tr.reset)
    np.testing.assert_allclose(
        np.asarray(tr.log_prob),
        np.asarray(net.dist.log_prob(out, tr.action)),
        rtol=1e-5,
        atol=1e-5,
    )
    np.testing.assert_allclose(np.asarray(tr.value), np.asarray(v), rtol=1e-5, atol=1e-6)
    adv, _ = gae(tr.reward, tr.value, tr.terminated, tr.truncated, res.last_value, 0.99, 0.95)
    assert adv.shape == (12, n) and bool(jnp.all(jnp.isfinite(adv)))
    greedy = jax.jit(lambda k: roll(k, greedy=True))(jax.random.key(2)).traj
    _, out_g, _ = net.apply(params, rc.carry, greedy.obs, greedy.reset)
    # the Gaussian's mean (the rollout applies the net one step at a time under jit, the
    # reference the whole sequence at once: equal up to float rounding)
    np.testing.assert_allclose(
        np.asarray(greedy.action), np.asarray(out_g[0]), rtol=1e-5, atol=1e-7
    )
    info = jax.jit(lambda k: roll(k, record_trajectory=False, record_info=("t",)))(
        jax.random.key(2)
    ).info
    assert info["t"].shape == (12, n)
    with pytest.raises(ValueError, match="episode_stats"):
        roll(jax.random.key(2), count_episodes=True)
    with pytest.raises(KeyError, match="EpisodeStats"):
        rollout(jax.random.key(2), rc, params, horizon, net=net, step_fn=clipped, num_steps=3)


def test_step_aux_reaches_the_hook(corridor):
    env, c = corridor["env"], corridor
    bonus = jnp.arange(B, dtype=jnp.float32)

    def hook(key, s, a, p, aux):
        obs, s, r, te, tr, info = env.step(key, s, a, p)
        return obs, s, r + aux, te, tr, info

    res = jax.jit(
        lambda k: rollout(
            k,
            c["rc"],
            c["params"],
            env.default_params,
            net=c["net"],
            step_fn=hook,
            num_steps=T,
            step_aux=bonus,
        )
    )(jax.random.key(5))
    plain = jax.jit(c["roll"])(jax.random.key(5))
    np.testing.assert_allclose(
        np.asarray(res.traj.reward), np.asarray(plain.traj.reward) + np.asarray(bonus)
    )


# ----------------------------------------------------------------------------- policy functions


def _noisy_linear(key, w, carry, obs, reset):
    """A policy function that is no actor-critic: a linear map plus Gaussian noise, with no
    log-probability or value (like an exploring TD3 actor)."""
    return PolicyStep(carry, jnp.tanh(obs @ w) + 0.3 * jax.random.normal(key, obs.shape))


@pytest.fixture(scope="module")
def point():
    env, horizon, n = PointEnv(), 5, 4
    obs, st = jax.vmap(env.reset, in_axes=(0, None))(
        jax.random.split(jax.random.key(0), n), horizon
    )
    rc = RolloutCarry.start(st, obs, ())
    w = jnp.array([[-1.0, 0.2], [0.1, -1.0]])

    def roll(key, w=w, num_steps=12, **flags):
        return rollout(
            key,
            rc,
            w,
            horizon,
            policy=_noisy_linear,
            step_fn=env.step,
            num_steps=num_steps,
            episode_stats=False,
            **flags,
        )

    return dict(env=env, horizon=horizon, n=n, rc=rc, w=w, roll=roll)


def test_policy_function_rollout_deterministic_under_jit_vmap_and_scan(point):
    roll = jax.jit(point["roll"])
    a, b = roll(jax.random.key(1)), roll(jax.random.key(1))
    _leaves_equal(a, b)
    tr = a.traj
    assert tr.action.shape == (12, point["n"], 2) and tr.action.dtype == jnp.float32
    # no log-probabilities or values from this policy: none recorded, nothing to bootstrap
    assert tr.log_prob is None and tr.value is None and a.last_value is None
    assert not np.array_equal(
        np.asarray(tr.action), np.asarray(roll(jax.random.key(2)).traj.action)
    )
    # the actions are the policy's: tanh(obs @ w) plus noise of scale 0.3
    noise = np.asarray(tr.action) - np.tanh(np.asarray(tr.obs) @ np.asarray(point["w"]))
    assert 0.15 < noise.std() < 0.45
    # vmapped over keys and parameters, and scanned over keys: each member is its single run
    keys = jax.random.split(jax.random.key(3), 3)
    ws = jnp.stack([point["w"], 2.0 * point["w"], -point["w"]])
    vm = jax.jit(jax.vmap(lambda k, w: point["roll"](k, w).traj))(keys, ws)
    _, sc = jax.jit(
        lambda ks: jax.lax.scan(lambda c, kw: (c, point["roll"](*kw).traj), 0, (ks, ws))
    )(keys)
    for i in range(3):
        one = jax.jit(point["roll"])(keys[i], ws[i]).traj
        for x, y, z in zip(
            jax.tree.leaves(vm), jax.tree.leaves(sc), jax.tree.leaves(one), strict=True
        ):
            np.testing.assert_allclose(np.asarray(x[i]), np.asarray(z), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(np.asarray(y[i]), np.asarray(z), rtol=1e-5, atol=1e-6)


def test_a_lone_environment_steps_with_the_step_key(point):
    """With B = 1 the rollout is a plain scan of one environment: step key ``k`` splits into
    the policy's and the environment's (not split again), so single-episode code written as
    such a scan keeps its random stream."""
    env, horizon, w = point["env"], point["horizon"], point["w"]
    obs0, s0 = env.reset(jax.random.key(4), horizon)

    def reference(key):
        def body(c, k):
            obs, s = c
            k_act, k_env = jax.random.split(k)
            a = _noisy_linear(k_act, w, (), obs[None], None).action[0]
            obs2, s, r, *_ = env.step(k_env, s, a, horizon)
            return (obs2, s), (a, r)

        return jax.lax.scan(body, (obs0, s0), jax.random.split(key, 12))[1]

    rc = RolloutCarry.start(*jax.tree.map(lambda x: x[None], (s0, obs0)), ())
    res = jax.jit(
        lambda k: rollout(
            k,
            rc,
            w,
            horizon,
            policy=_noisy_linear,
            step_fn=env.step,
            num_steps=12,
            episode_stats=False,
        )
    )(jax.random.key(5))
    a, r = jax.jit(reference)(jax.random.key(5))
    # the env resets itself at t = 5 and 10 from its step key: the keys matter here
    np.testing.assert_array_equal(np.asarray(res.traj.truncated)[:, 0].nonzero()[0], [4, 9])
    np.testing.assert_allclose(np.asarray(res.traj.action)[:, 0], np.asarray(a), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(res.traj.reward)[:, 0], np.asarray(r), rtol=1e-6)


def test_net_is_its_actor_critic_policy(corridor):
    c = corridor
    env = c["env"]
    for greedy in (False, True):
        by_net = jax.jit(lambda k, g=greedy: c["roll"](k, greedy=g))(jax.random.key(8))
        by_fn = jax.jit(
            lambda k, g=greedy: rollout(
                k,
                c["rc"],
                c["params"],
                env.default_params,
                policy=actor_critic_policy(c["net"], g),
                step_fn=env.step,
                num_steps=T,
            )
        )(jax.random.key(8))
        _leaves_equal(by_net, by_fn)


def test_policy_arguments_are_checked(point, corridor):
    c = corridor
    kw = dict(step_fn=c["env"].step, num_steps=2)
    args = (jax.random.key(0), c["rc"], c["params"], c["env"].default_params)
    with pytest.raises(ValueError, match="exactly one"):
        rollout(*args, **kw)
    with pytest.raises(ValueError, match="exactly one"):
        rollout(*args, net=c["net"], policy=actor_critic_policy(c["net"]), **kw)
    with pytest.raises(ValueError, match="greedy"):
        point["roll"](jax.random.key(0), greedy=True)


def test_rollout_levels_resets_then_rolls(corridor):
    c = corridor
    env, net = c["env"], c["net"]
    levels = corridor_space().sample_batch(jax.random.key(9), B)

    def by_hand(key):
        k_reset, k_roll = jax.random.split(key)
        rc = reset_batch(k_reset, env, levels, env.default_params, net.initial_carry(B))
        return rollout(
            k_roll,
            rc,
            c["params"],
            env.default_params,
            net=net,
            step_fn=env.step,
            num_steps=T,
            count_episodes=True,
        )

    def at_once(key):
        return rollout_levels(
            key,
            env,
            levels,
            c["params"],
            env.default_params,
            net=net,
            num_steps=T,
            count_episodes=True,
        )

    _leaves_equal(jax.jit(by_hand)(jax.random.key(10)), jax.jit(at_once)(jax.random.key(10)))


def test_first_episode_return_golden():
    # env 0: an episode ends at t = 1, the next never counts; env 1: truncated at t = 2;
    # env 2: never ends (the rewards so far)
    reward = jnp.array([[1.0, 2.0, 4.0], [10.0, 20.0, 40.0], [100.0, 200.0, 400.0]])
    term = jnp.array([[0, 0, 0], [1, 0, 0], [0, 0, 0]], bool)
    trunc = jnp.array([[0, 0, 0], [0, 0, 0], [0, 1, 0]], bool)
    z = jnp.zeros_like(reward)
    traj = Transition(
        obs=z,
        reset=term,
        action=z,
        log_prob=None,
        value=None,
        reward=reward,
        terminated=term,
        truncated=trunc,
    )
    np.testing.assert_allclose(np.asarray(first_episode_return(traj)), [11.0, 222.0, 444.0])
    # a horizon cuts every episode before step t = horizon (traced, under jit)
    cut = jax.jit(first_episode_return)(traj, jnp.int32(2))
    np.testing.assert_allclose(np.asarray(cut), [11.0, 22.0, 44.0])
    np.testing.assert_allclose(np.asarray(first_episode_return(traj, 0)), [0.0, 0.0, 0.0])
