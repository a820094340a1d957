"""Aleatoric level spaces: conformance, analytic posteriors, learned belief, lava slips."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from curricula.samplr import FictitiousEnv
from envs.aleatoric import (
    ALEATORIC_MAZES,
    LavaLevel,
    lava_route_values,
    make_aleatoric_maze,
)
from envs.maze import make_level
from ued.aleatoric import (
    BeliefConfig,
    belief_error,
    beta_binomial_pmf,
    make_belief_model,
)
from ued.testing import check_aleatoric_space, check_level_space


@pytest.fixture(scope="module", params=ALEATORIC_MAZES)
def maze(request):
    return make_aleatoric_maze(request.param)


def test_check_aleatoric_space(maze):
    _, space = maze
    check_aleatoric_space(space, num_draws=20_000, tol=0.02)


def test_check_level_space(maze):
    _, space = maze
    check_level_space(space, n=4)


def test_check_catches_wrong_posterior(maze):
    """The kit fails, naming the property, when a posterior sampler is off."""
    import dataclasses

    _, space = maze
    spec = space.aleatoric
    bad = dataclasses.replace(
        spec, predictive_prob=lambda lvl, s: jnp.clip(spec.predictive_prob(lvl, s) + 0.1, 0, 1)
    )
    with pytest.raises(AssertionError, match="posterior"):
        check_aleatoric_space(dataclasses.replace(space, aleatoric=bad), num_draws=4000)


def test_analytic_posteriors():
    _, g = make_aleatoric_maze("gamble-maze")
    _, lv = make_aleatoric_maze("lava-maze")
    gs, ls = g.aleatoric, lv.aleatoric
    p = jax.vmap(lambda h: gs.predictive_prob(None, h))(jnp.asarray(gs.history_classes))
    np.testing.assert_allclose(np.asarray(p), [0.25, 0.75, 0.025 / 0.7], atol=1e-6)
    hc = np.asarray(ls.history_classes)
    p = jax.vmap(lambda h: ls.predictive_prob(None, h))(jnp.asarray(hc))
    np.testing.assert_allclose(np.asarray(p), (2 + hc[:, 1]) / (10 + hc[:, 0]), atol=1e-6)


def test_learned_belief_matches_analytic(maze):
    _, space = maze
    spec = space.aleatoric
    model = make_belief_model(spec, BeliefConfig(num_updates=600, batch_episodes=256))
    st0 = model.init(jax.random.key(1))
    (params, _), losses = jax.jit(lambda k, s: model.fit(k, s, space.sample))(
        jax.random.key(2), st0
    )
    assert float(losses[-50:].mean()) < float(losses[:10].mean())
    err = belief_error(spec, lambda lvl, h: model.predict(params, lvl, h), space.placeholder)
    assert np.all(err <= 0.02), dict(zip(spec.class_names, err.round(4).tolist(), strict=True))


def _open_lava_level(theta: float) -> LavaLevel:
    # no lava, goal walled off in a corner: forward moves never end the episode
    walls = np.zeros((7, 7), bool)
    walls[6, 5] = walls[5, 6] = True
    maze = make_level(walls, [3, 3], 0, [6, 6])
    return LavaLevel(maze=maze, lava=jnp.zeros((7, 7), bool), theta=jnp.float32(theta))


def _slips_after(env, level, n_fwd: int, n_eps: int, key):
    """Slips in the first ``n_fwd`` forward moves of ``n_eps`` episodes (always forward)."""

    def one(k):
        k0, k1 = jax.random.split(k)
        _, s = env.reset_to_level(k0, level, env.default_params)

        def body(s, kk):
            _, s, *_ = env.step(kk, s, jnp.int32(2), env.default_params)
            return s, None

        s, _ = jax.lax.scan(body, s, jax.random.split(k1, n_fwd))
        return s.n_slips

    return np.asarray(jax.jit(jax.vmap(one))(jax.random.split(key, n_eps)))


def test_lava_slips_beta_binomial_under_fictitious_transitions():
    env, space = make_aleatoric_maze("lava-maze")
    n, eps = 10, 20_000
    level = _open_lava_level(0.5)  # a stored, unlucky theta
    fict = FictitiousEnv(env, space.aleatoric)
    k_f = _slips_after(fict, level, n, eps, jax.random.key(3))
    k_p = _slips_after(env, level, n, eps, jax.random.key(4))
    expected = beta_binomial_pmf(np.arange(n + 1), n, 2, 8) * eps

    # pool the sparse tail so every expected count is >= 5
    def pooled(counts):
        c = np.bincount(counts, minlength=n + 1).astype(float)
        cut = int(np.nonzero(expected >= 5)[0].max())
        return np.r_[c[:cut], c[cut:].sum()], np.r_[expected[:cut], expected[cut:].sum()]

    obs_f, exp_f = pooled(k_f)
    p_f = stats.chisquare(obs_f, exp_f * obs_f.sum() / exp_f.sum()).pvalue
    obs_p, exp_p = pooled(k_p)
    p_p = stats.chisquare(obs_p, exp_p * obs_p.sum() / exp_p.sum()).pvalue
    assert p_f > 0.01, p_f
    assert p_p < 1e-6, p_p


def test_lava_route_flips_near_009():
    """Corridor (forward) vs detour (turn right) first, by value iteration with known theta."""
    lo, hi = lava_route_values(0.06), lava_route_values(0.12)
    assert lo["corridor"] > lo["detour"]
    assert hi["detour"] > hi["corridor"]
    prior_mean = lava_route_values(0.2)
    assert prior_mean["detour"] > prior_mean["corridor"] + 0.05


def test_env_jit_vmap_scan_deterministic(maze):
    env, space = maze
    levels = jax.jit(jax.vmap(space.sample))(jax.random.split(jax.random.key(0), 4))

    @jax.jit
    def run(key):
        obs, s = jax.vmap(env.reset_to_level, in_axes=(0, 0, None))(
            jax.random.split(key, 4), levels, env.default_params
        )

        def body(s, k):
            ka, ks = jax.random.split(k)
            a = jax.random.randint(ka, (4,), 0, 3)
            o, s, r, te, tr, info = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(ks, 4), s, a, env.default_params
            )
            return s, (r, te, tr)

        return jax.lax.scan(body, s, jax.random.split(key, 70))[1]

    a, b = run(jax.random.key(5)), run(jax.random.key(5))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    r, te, tr = (np.asarray(x) for x in a)
    assert np.all(np.isfinite(r)) and np.all(r >= 0) and np.all(r <= 1)
    assert (te | tr).any()  # T = 64 < 70 steps: every env ended at least once


def test_lava_open_below_template_matches_the_analysis():
    """``lava_below=False``: only the 5 lava cells above the corridor, in the sampler, the
    evaluation layouts and the value-iteration template alike; the known-theta flip moves from
    ~0.09 up to ~0.155 (a slip down from the corridor is safe)."""
    from envs.aleatoric import lava_eval_layouts, lava_template, route_flip

    _, space = make_aleatoric_maze("lava-maze", lava_below=False)
    assert space.name == "lava-maze/7x7-open-below"
    lv = jax.jit(jax.vmap(space.sample))(jax.random.split(jax.random.key(0), 16))
    assert (np.asarray(lv.lava).sum((1, 2)) == 5).all()
    assert bool(jax.vmap(space.is_valid)(lv).all())
    lay = lava_eval_layouts(lava_below=False)
    assert (np.asarray(lay.lava).sum((1, 2)) == 5).all()
    t = lava_template(lava_below=False)
    np.testing.assert_array_equal(np.asarray(lay.lava[0]), t["lava"])
    np.testing.assert_array_equal(np.asarray(lay.maze.wall_map[0]), t["walls"])
    assert (np.asarray(lava_eval_layouts().lava).sum((1, 2)) == 8).all()
    assert 0.15 < route_flip(t) < 0.25
    with pytest.raises(ValueError, match="lava maze only"):
        make_aleatoric_maze("gamble-maze", lava_below=False)
