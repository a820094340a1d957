"""Golden numbers for every score function and ``level_stats`` on a hand-built rollout.

T = 4 steps, B = 4 levels (one env each):
  level 0: an episode terminates solved at t=1 (return 1); the next one crosses the rollout
           boundary (unfinished).
  level 1: an episode is truncated at t=2 (return 0, unsolved); then an unfinished one with 0.5
           reward so far.
  level 2: no episode finishes (rewards 0.1, 0.2 collected).
  level 3: two episodes: solved at t=1 (return 1), truncated unsolved at t=3 (return 0).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ued import ScoreInputs
from ued import scores as S

INF = math.inf


def make_inputs() -> tuple[ScoreInputs, jnp.ndarray]:
    z = np.zeros((4, 4), np.float32)
    reward = z.copy()
    reward[1, 0] = 1.0
    reward[3, 1] = 0.5
    reward[0, 2], reward[1, 2] = 0.1, 0.2
    reward[1, 3] = 1.0
    term = np.zeros((4, 4), bool)
    trunc = np.zeros((4, 4), bool)
    solved = np.zeros((4, 4), bool)
    ep_ret = z.copy()
    term[1, 0], solved[1, 0], ep_ret[1, 0] = True, True, 1.0
    trunc[2, 1], ep_ret[2, 1] = True, 0.0
    term[1, 3], solved[1, 3], ep_ret[1, 3] = True, True, 1.0
    trunc[3, 3], ep_ret[3, 3] = True, 0.0
    adv = np.array(
        [[0.5, -1.0, 2.0, 0.0], [-0.5, 0.2, 0.4, 0.0], [1.0, 0.0, -0.2, 0.0], [0.0, 0.3, 0.1, 0.0]],
        np.float32,
    )
    value = np.array(
        [[0.2, 0.1, 0.3, 0.0], [0.4, 0.1, 0.3, 0.0], [0.6, 0.2, 0.5, 0.0], [0.8, 0.3, 0.5, 0.0]],
        np.float32,
    )
    inputs = ScoreInputs(
        reward=jnp.asarray(reward),
        value=jnp.asarray(value),
        advantage=jnp.asarray(adv),
        terminated=jnp.asarray(term),
        truncated=jnp.asarray(trunc),
        solved=jnp.asarray(solved),
        episode_return=jnp.asarray(ep_ret),
        optimal_return=jnp.asarray([1.0, 1.0, 0.9, np.nan], jnp.float32),
    )
    max_return = jnp.asarray([0.5, 2.0, -INF, -INF], jnp.float32)
    return inputs, max_return


GOLDEN = {
    # mean over all 4 steps of max(adv, 0) / |adv|
    "pvl": [1.5 / 4, 0.5 / 4, 2.5 / 4, 0.0],
    "l1_value_loss": [2.0 / 4, 1.5 / 4, 2.7 / 4, 0.0],
    # R_max - mean V; level 0: max(0.5, 1) = 1; level 1: max(2, 0) = 2; level 2: never
    # finished -> falls back to pvl; level 3: max(-inf, 1, 0) = 1, V = 0.
    "maxmc": [1.0 - 0.5, 2.0 - 0.175, 2.5 / 4, 1.0],
    # level 2: no finished episode -> minus the reward gathered (0.3)
    "neg_return": [-1.0, 0.0, -0.3, -0.5],
    # p = 1, 0, none finished (-> 0), 0.5
    "learnability": [0.0, 0.0, 0.0, 0.25],
    # opt - mean return; level 2 uses the reward gathered; level 3 optimal unknown -> 0
    "true_regret": [0.0, 1.0, 0.6, 0.0],
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_scores(name):
    inputs, mr = make_inputs()
    got = jax.jit(S.get_score(name))(inputs, mr)
    assert got.dtype == jnp.float32 and got.shape == (4,)
    np.testing.assert_allclose(np.asarray(got), GOLDEN[name], rtol=1e-6, atol=1e-6)


def test_registry_covers_golden_scores():
    assert set(GOLDEN) <= set(S.SCORES)
    with pytest.raises(KeyError, match="unknown score"):
        S.get_score("nope")
    with pytest.raises(ValueError, match="already registered"):
        S.register_score("pvl", S.positive_value_loss)
    S.register_score("_test_zero", lambda inp, mr: jnp.zeros_like(mr))
    try:
        inputs, mr = make_inputs()
        assert np.all(np.asarray(S.level_stats("_test_zero", inputs, mr).score) == 0)
    finally:
        del S.SCORES["_test_zero"]


def test_level_stats_golden():
    inputs, mr = make_inputs()
    st = jax.jit(S.level_stats, static_argnums=0)("maxmc", inputs, mr)
    np.testing.assert_allclose(np.asarray(st.max_return), [1.0, 2.0, -INF, 1.0])
    np.testing.assert_allclose(np.asarray(st.mean_return), [1.0, 0.0, np.nan, 0.5])
    np.testing.assert_allclose(np.asarray(st.solve_rate), [1.0, 0.0, np.nan, 0.5])
    np.testing.assert_array_equal(np.asarray(st.num_episodes), [1, 1, 0, 2])
    assert st.num_episodes.dtype == jnp.int32
    np.testing.assert_allclose(np.asarray(st.score), GOLDEN["maxmc"], rtol=1e-6)


def test_scores_finite_and_vmappable():
    inputs, mr = make_inputs()
    batched = jax.tree.map(lambda x: jnp.stack([x, x]), (inputs, mr))
    for name in GOLDEN:
        out = jax.vmap(lambda i, m: S.level_stats(name, i, m).score)(*batched)
        assert out.shape == (2, 4)
        assert np.all(np.isfinite(np.asarray(out))), name
        np.testing.assert_allclose(np.asarray(out[0]), GOLDEN[name], rtol=1e-6, atol=1e-6)


def test_terminated_vs_truncated_matter_for_solve_rate_only_via_solved():
    # a truncated end counts as a finished, unsolved episode
    inputs, mr = make_inputs()
    st = S.level_stats("learnability", inputs, mr)
    assert int(st.num_episodes[1]) == 1 and float(st.solve_rate[1]) == 0.0
    # dropping the truncation leaves level 1 with no finished episode
    inputs2 = inputs.replace(truncated=jnp.zeros_like(inputs.truncated))
    st2 = S.level_stats("learnability", inputs2, mr)
    assert int(st2.num_episodes[1]) == 0 and np.isnan(float(st2.solve_rate[1]))
