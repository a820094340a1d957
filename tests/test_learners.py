"""meta.learners on the toolkit's learner stack: PPO with the learning rate in a vmappable
pytree (``ued.ppo``), discrete and continuous actions; DQN and TD3 stepping through the one
rollout; the first-episode evaluation cut at a horizon."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from meta.learners import LearnerConfig, default_hparams, evaluate_gymnax, make_learner
from meta.synth import make_real_env

TINY_PPO = LearnerConfig(
    num_steps=128, num_envs=4, hidden=8, ppo_rollout=8, ppo_epochs=2, ppo_minibatches=2
)


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_ppo_learning_rates_in_one_vmapped_program_match_separate_runs():
    """Two PPO agents with learning rates 1e-3 and 1e-4 trained in ONE vmapped program end
    where two separate programs end (same key, same environment: 4 updates of 2 epochs x 2
    minibatches).

    Not bitwise on XLA:CPU: the loss means of PPO are reductions over ``T * B`` transitions,
    and XLA accumulates a reduction over the trailing axes of a batched ``(2, T * B)`` operand
    in another order than the unbatched one, so the first update already differs in the last
    bit (measured: value loss 6e-8 apart with elementwise-identical inputs). After 4 updates the
    parameters differ by at most 6e-8 (on weights of magnitude ~1) and 2e-9 (on biases ~1e-3):
    ``rtol=1e-6, atol=1e-8`` is the tightest round tolerance that holds.
    """
    real = make_real_env("cartpole")
    lrn = make_learner("ppo", real.env, TINY_PPO, real.params)
    key = jax.random.key(0)
    hps = [default_hparams(lr=1e-3), default_hparams(lr=1e-4)]
    train = jax.jit(lrn.train)
    separate = [train(key, real.params, hp) for hp in hps]
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *hps)
    together = jax.jit(jax.vmap(lrn.train, in_axes=(None, None, 0)))(key, real.params, stacked)
    for i, agent in enumerate(separate):
        member = jax.tree.map(lambda x, i=i: x[i], together)
        for a, b in zip(_leaves(agent), _leaves(member), strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-8)
    # each member trained at its own rate: the larger one moves the weights further from the
    # initialisation (a run at rate 0 never leaves it)
    init = _leaves(train(key, real.params, default_hparams(lr=0.0)))
    moved = [
        sum(float(np.abs(a - b).sum()) for a, b in zip(_leaves(p), init, strict=True))
        for p in separate
    ]
    assert moved[0] > 3 * moved[1] > 0, moved


def test_continuous_ppo_runs_and_acts_in_bounds():
    # plumbing only: the least XLA optimisation compiles fastest
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        real = make_real_env("pendulum")
        lrn = make_learner("ppo", real.env, TINY_PPO, real.params)
        agent = jax.jit(lrn.train)(jax.random.key(1), real.params, default_hparams())
        # a Gaussian policy: the state-independent log_std starts at -0.5 and is learned
        assert agent["log_std"].shape == (1,)
        assert float(agent["log_std"][0]) != -0.5
        assert all(np.all(np.isfinite(x)) for x in _leaves(agent))
        obs = 10.0 * jax.random.normal(jax.random.key(2), (64, 3))
        for det in (True, False):
            a = np.asarray(lrn.act(agent, obs, jax.random.key(3), det))
            assert a.shape == (64, 1) and a.dtype == np.float32
            assert np.all((a >= -2.0) & (a <= 2.0))  # clipped into Pendulum's bounds
        # one observation without a batch axis
        assert lrn.act(agent, obs[0], jax.random.key(3), True).shape == (1,)
    finally:
        jax.config.update("jax_disable_most_optimizations", old)


class _StepCounter:
    """A gymnax-style env with known returns: reward 1 per step in the first episode, 2 in
    every later one; episodes of 5 steps (terminated), then auto-reset."""

    def action_space(self, params=None):
        from ued import Discrete

        return Discrete(2)

    def reset(self, key, params):
        return jnp.zeros((1,), jnp.float32), (jnp.int32(0), jnp.int32(0))

    def step(self, key, state, action, params):
        t, episode = state
        t = t + 1
        done = t >= 5
        reward = jnp.where(episode == 0, 1.0, 2.0)
        state = (jnp.where(done, 0, t), episode + done.astype(jnp.int32))
        obs = state[0].astype(jnp.float32)[None]
        return obs, state, reward, done, jnp.zeros((), bool), {}


def test_evaluate_gymnax_counts_the_first_episode_up_to_the_horizon():
    env = _StepCounter()

    def act(agent, obs, key, deterministic):
        return jnp.zeros(obs.shape[:-1], jnp.int32)

    def ev(max_steps, horizon=None):
        return jax.jit(
            lambda k, h: evaluate_gymnax(k, env, None, act, None, 3, max_steps, True, h)
        )(jax.random.key(0), horizon)

    assert float(ev(12)) == 5.0  # the second episode's rewards (2 each) never count
    assert float(ev(3)) == 3.0  # cut at max_steps
    assert float(ev(12, jnp.int32(4))) == 4.0  # cut at the (traced) horizon
    assert float(ev(12, jnp.int32(0))) == 0.0
    hs = jnp.arange(7, dtype=jnp.int32)
    by_h = jax.jit(
        jax.vmap(lambda h: evaluate_gymnax(jax.random.key(0), env, None, act, None, 2, 12, True, h))
    )(hs)
    np.testing.assert_array_equal(np.asarray(by_h), [0, 1, 2, 3, 4, 5, 5])


def test_off_policy_learners_deterministic_per_key():
    """DQN and TD3 step their environments through the one rollout (one step per iteration)
    between gradient steps: same key, bitwise the same agent; another key, another agent."""
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        cfg = LearnerConfig(num_steps=64, num_envs=4, hidden=8, learning_starts=16, batch_size=8)
        for name, target in (("dqn", "cartpole"), ("td3", "pendulum")):
            real = make_real_env(target)
            lrn = make_learner(name, real.env, cfg, real.params)
            train = jax.jit(lrn.train)
            a = train(jax.random.key(0), real.params, default_hparams())
            b = train(jax.random.key(0), real.params, default_hparams())
            for x, y in zip(_leaves(a), _leaves(b), strict=True):
                np.testing.assert_array_equal(x, y)
            assert all(np.all(np.isfinite(x)) for x in _leaves(a))
            c = train(jax.random.key(1), real.params, default_hparams())
            assert any(
                not np.array_equal(x, y) for x, y in zip(_leaves(a), _leaves(c), strict=True)
            )
            ret = jax.jit(
                lambda k, ag, lrn=lrn, real=real: evaluate_gymnax(
                    k, real.env, real.params, lrn.act, ag, 2, 20, True
                )
            )(jax.random.key(2), a)
            assert np.isfinite(float(ret)), name
    finally:
        jax.config.update("jax_disable_most_optimizations", old)
