"""The MNA score (Maximised Negative Advantage, ``ued.scores.mna``): golden numbers computed by
hand, an independent NumPy reference (n-step returns against a running maximum, where the code
uses a clipped recursion), its orderings relative to the GAE and ``pvl``, the refusal of inputs
without the GAE's ingredients, ``ued.ppo.td_errors`` against ``gae``, and ``--score mna`` on the
command line."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.kinds import ued as U
from ued import ScoreInputs
from ued import scores as S
from ued.ppo import gae, td_errors

INF = math.inf


def _inputs(td, done_t=(), gamma=0.5, lam=0.5, value=None, adv=None):
    """ScoreInputs of B levels x T steps with TD errors ``td`` (T, B); ``done_t``: (t, b) where
    an episode terminates. Only the fields MNA reads matter; the others are zeros."""
    td = np.asarray(td, np.float32)
    t, b = td.shape
    term = np.zeros((t, b), bool)
    for i, j in done_t:
        term[i, j] = True
    z = jnp.zeros((t, b), jnp.float32)
    return ScoreInputs(
        reward=z,
        value=z if value is None else jnp.asarray(value, jnp.float32),
        advantage=z if adv is None else jnp.asarray(adv, jnp.float32),
        terminated=jnp.asarray(term),
        truncated=jnp.zeros((t, b), bool),
        solved=jnp.zeros((t, b), bool),
        episode_return=z,
        optimal_return=jnp.full((b,), jnp.nan, jnp.float32),
        td_error=jnp.asarray(td),
        gamma=jnp.float32(gamma),
        gae_lambda=jnp.float32(lam),
    )


def test_golden_mna_by_hand():
    # T = 3, gamma = lambda = 0.5, delta = (-1, 0.5, -1) on every level.
    # level 0: no episode end. Start s=0: y1 = min(0, -1) = -1; y2 = min(0, -1 + 0.5*0.5) =
    #   -0.75; y3 = min(0, -0.75 + 0.25*(-1)) = -1; N = 3:
    #   A_0 = 0.5*(y1 + 0.5*y2 + 0.25*y3) + 0.125*y3 = 0.5*(-1.625) - 0.125 = -0.9375.
    #   s=1: y1 = min(0, 0.5) = 0 (the clip: unclipped the 2-step sum would be 0.5 - 0.5 = 0,
    #   here -0.5); y2 = min(0, 0 + 0.5*(-1)) = -0.5; N = 2:
    #   A_1 = 0.5*(0 + 0.5*(-0.5)) + 0.25*(-0.5) = -0.125 - 0.125 = -0.25.
    #   s=2: y1 = -1, N = 1: A_2 = 0.5*(-1) + 0.5*(-1) = -1.
    #   MNA = (0.9375 + 0.25 + 1) / 3 = 2.1875 / 3.
    # level 1: an episode terminates at t=1. s=0: y1 = -1, y2 = -0.75, N = 2:
    #   A_0 = 0.5*(-1 + 0.5*(-0.75)) + 0.25*(-0.75) = -0.6875 - 0.1875 = -0.875;
    #   s=1: y1 = 0, N = 1: A_1 = 0; s=2: A_2 = -1. MNA = (0.875 + 0 + 1) / 3 = 0.625.
    # level 2: as level 0, never completed (R_max = -inf): MNA = 0.
    # level 3: as level 0, R_max = 0 (completed means a positive return): MNA = 0.
    td = np.tile(np.array([[-1.0], [0.5], [-1.0]], np.float32), (1, 4))
    inputs = _inputs(td, done_t=[(1, 1)])
    r_max = jnp.asarray([1.0, 1.0, -INF, 0.0], jnp.float32)
    adv = S.clipped_lambda_advantage(inputs.td_error, inputs.terminated, 0.5, 0.5)
    np.testing.assert_allclose(adv[:, 0], [-0.9375, -0.25, -1.0], atol=1e-6)
    np.testing.assert_allclose(adv[:, 1], [-0.875, 0.0, -1.0], atol=1e-6)
    got = jax.jit(S.get_score("mna"))(inputs, r_max)
    assert got.dtype == jnp.float32 and got.shape == (4,)
    np.testing.assert_allclose(got, [2.1875 / 3, 0.625, 0.0, 0.0], rtol=1e-6, atol=1e-7)
    # through level_stats, whose R_max is updated with the rollout (none finished here)
    st = S.level_stats("mna", inputs, r_max)
    np.testing.assert_allclose(st.score, [2.1875 / 3, 0.625, 0.0, 0.0], rtol=1e-6, atol=1e-7)


def _reference(td, done, gamma, lam):
    """Independent NumPy reference: for each step s, the n-step advantages x_n (the discounted
    TD sums), each measured against the running maximum max(0, x_1, ..., x_n), mixed with the
    lambda-return weights (1 - lambda) lambda^{n-1} and the tail lambda^N."""
    t_len, b = td.shape
    out = np.zeros((t_len, b))
    for j in range(b):
        for s in range(t_len):
            ends = [t for t in range(s, t_len) if done[t, j]]
            n_max = (ends[0] - s + 1) if ends else (t_len - s)
            x = np.cumsum([gamma**k * td[s + k, j] for k in range(n_max)])
            y = x - np.maximum.accumulate(np.maximum(x, 0.0))
            w = (1 - lam) * lam ** np.arange(n_max)
            out[s, j] = float((w * y).sum() + lam**n_max * y[-1])
    return out


@pytest.mark.parametrize("gamma,lam", [(0.9, 0.8), (0.995, 0.98), (0.7, 0.0), (0.9, 1.0)])
def test_matches_numpy_reference(gamma, lam):
    rng = np.random.default_rng(int(gamma * 1000 + lam * 10))
    td = rng.normal(0.0, 0.5, (12, 5)).astype(np.float32)
    done = rng.random((12, 5)) < 0.15
    got = S.clipped_lambda_advantage(jnp.asarray(td), jnp.asarray(done), gamma, lam)
    np.testing.assert_allclose(got, _reference(td, done, gamma, lam), rtol=2e-5, atol=2e-6)
    assert np.all(np.asarray(got) <= 0.0)


def _rollout(seed, t_len=10, b=6):
    rng = np.random.default_rng(seed)
    reward = (rng.random((t_len, b)) < 0.2).astype(np.float32)
    value = rng.random((t_len, b)).astype(np.float32)
    term = rng.random((t_len, b)) < 0.15
    trunc = (rng.random((t_len, b)) < 0.1) & ~term
    last = rng.random(b).astype(np.float32)
    return reward, value, term, trunc, last


def test_td_errors_are_the_gae_s():
    reward, value, term, trunc, last = _rollout(0)
    adv, _ = gae(reward, value, term, trunc, last, 0.9, 0.8)
    d = np.asarray(td_errors(reward, value, term, trunc, last, 0.9))
    cont = 1.0 - (term | trunc)
    rebuilt = np.zeros_like(d)
    acc = np.zeros(d.shape[1])
    for t in reversed(range(d.shape[0])):  # A_t = delta_t + gamma lambda c_t A_{t+1}
        acc = d[t] + 0.9 * 0.8 * cont[t] * acc
        rebuilt[t] = acc
    np.testing.assert_allclose(adv, rebuilt, atol=1e-5)


def _trainer_inputs(reward, value, term, trunc, last, gamma=0.9, lam=0.8):
    adv, _ = gae(reward, value, term, trunc, last, gamma, lam)
    d = td_errors(reward, value, term, trunc, last, gamma)
    return ScoreInputs(
        reward=jnp.asarray(reward), value=jnp.asarray(value), advantage=adv,
        terminated=jnp.asarray(term), truncated=jnp.asarray(trunc),
        solved=jnp.zeros(term.shape, bool), episode_return=jnp.zeros(term.shape),
        optimal_return=jnp.full(term.shape[1], jnp.nan), td_error=d,
        gamma=jnp.float32(gamma), gae_lambda=jnp.float32(lam),
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_orderings_relative_to_the_gae_and_pvl(seed):
    inputs = _trainer_inputs(*_rollout(seed))
    b = inputs.td_error.shape[1]
    done = inputs.terminated | inputs.truncated
    clipped = S.clipped_lambda_advantage(inputs.td_error, done, inputs.gamma, inputs.gae_lambda)
    # every clipped n-step advantage is at most its unclipped one and at most 0, so the
    # lambda mix is at most min(GAE, 0): MNA >= the mean of max(-GAE, 0) on completed levels
    assert np.all(np.asarray(clipped) <= np.minimum(np.asarray(inputs.advantage), 0.0) + 1e-5)
    done_mr = jnp.ones(b, jnp.float32)
    mna = np.asarray(S.mna(inputs, done_mr))
    neg_gae = np.maximum(-np.asarray(inputs.advantage), 0.0).mean(0)
    assert np.all(mna >= neg_gae - 1e-5) and np.all(mna >= 0.0)
    assert np.all(np.asarray(S.mna(inputs, jnp.full(b, -INF))) == 0.0)  # never completed


def test_signs_where_every_td_error_has_one_sign():
    # delta <= 0 everywhere: the n-step sums only fall, nothing is clipped, MNA = mean(-GAE)
    # V = 2 everywhere, no reward, V(s_T) = 0: delta = 0.9 * 2 - 2 = -0.2 inside an episode and
    # at a truncation, -2 where it terminates or at the boundary
    reward, value, term, trunc, last = _rollout(4)
    value = np.full_like(value, 2.0)
    inputs = _trainer_inputs(np.zeros_like(reward), value, term, trunc, np.zeros_like(last))
    assert np.all(np.asarray(inputs.td_error) <= 0.0)
    mr = jnp.ones(inputs.td_error.shape[1], jnp.float32)
    np.testing.assert_allclose(S.mna(inputs, mr), (-np.asarray(inputs.advantage)).mean(0),
                               rtol=1e-5)  # fmt: skip
    # delta >= 0 everywhere: every n-step return beats the maximised value, MNA = 0, where pvl
    # (the mean positive GAE) is largest
    pos = inputs.replace(td_error=-inputs.td_error, advantage=-inputs.advantage)
    assert np.all(np.asarray(S.mna(pos, mr)) == 0.0)
    assert np.all(np.asarray(S.positive_value_loss(pos, mr)) > 0.0)


def test_jit_vmap_scan_and_determinism():
    inputs = _trainer_inputs(*_rollout(5))
    mr = jnp.asarray([1.0, -INF, 0.5, 2.0, 1.0, 1.0], jnp.float32)
    one = jax.jit(S.mna)(inputs, mr)
    np.testing.assert_array_equal(one, jax.jit(S.mna)(inputs, mr))  # bitwise
    both = jax.vmap(S.mna)(*jax.tree.map(lambda x: jnp.stack([x, x]), (inputs, mr)))
    np.testing.assert_allclose(both[1], one, rtol=1e-6)
    _, seq = jax.lax.scan(lambda c, _: (c, S.mna(inputs, mr)), 0, None, length=2)
    np.testing.assert_allclose(seq[0], one, rtol=1e-6)
    assert np.all(np.isfinite(np.asarray(one)))


def test_inputs_without_the_gae_ingredients_are_refused():
    inputs = _inputs(np.zeros((3, 2)))
    for missing in ("td_error", "gamma"):
        with pytest.raises(ValueError, match=f"needs ScoreInputs.{missing}"):
            S.mna(inputs.replace(**{missing: None}), jnp.ones(2))


def test_score_option_accepts_mna():
    cfg = U.make_config("maze-plr", {"score": "mna"})
    assert cfg.score == "mna" and "mna" in S.SCORES and "mna" not in S.SCORE_NEEDS
