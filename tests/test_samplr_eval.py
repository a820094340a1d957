"""SAMPLR evaluation (envs.aleatoric.evaluation): the held-out layout filter keeps only
equal-distance layouts, and exit rate, gamble rate and the exact ground-truth return are right
on scripted policies (always safe, always gamble, random)."""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.aleatoric import EXIT_GAMBLE, EXIT_NONE, GambleMazeEnv, make_aleatoric_maze
from envs.aleatoric import evaluation as ev
from envs.aleatoric.grid import MAX_STEPS
from envs.maze import make_level


def _bfs(walls: np.ndarray, start, goal, avoid) -> int:
    """Reference BFS (cell moves) from start to goal over free cells, never entering avoid."""
    h, w = walls.shape
    seen = {tuple(start): 0}
    q = collections.deque([tuple(start)])
    while q:
        x, y = q.popleft()
        if (x, y) == tuple(goal):
            return seen[(x, y)]
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nx, ny = x + dx, y + dy
            if not (0 <= nx < w and 0 <= ny < h) or walls[ny, nx] or (nx, ny) == tuple(avoid):
                continue
            if (nx, ny) not in seen:
                seen[(nx, ny)] = seen[(x, y)] + 1
                q.append((nx, ny))
    return -1


@pytest.fixture(scope="module")
def layouts():
    return ev.gamble_heldout_layouts(24, max_draws=2048)


@pytest.fixture(scope="module")
def env():
    return GambleMazeEnv()


def test_layout_filter_keeps_only_equal_distances(layouts):
    n = layouts.has_cue.shape[0]
    assert n == 24
    for i in range(n):
        lv = jax.tree.map(lambda x, i=i: np.asarray(x[i]), layouts)
        m = lv.maze
        d_safe = _bfs(m.wall_map, m.agent_pos, m.goal_pos, lv.gamble_pos)
        d_gamble = _bfs(m.wall_map, m.agent_pos, lv.gamble_pos, m.goal_pos)
        assert d_safe == d_gamble >= 4, (i, d_safe, d_gamble)
    # the observation-class fields are cleared: the evaluation sets them
    assert not np.any(layouts.has_cue | layouts.coin | layouts.cue_reading)
    # held out: a different seed gives different layouts
    other = ev.gamble_heldout_layouts(24, seed=1, max_draws=2048)
    assert not np.array_equal(np.asarray(other.maze.wall_map), np.asarray(layouts.maze.wall_map))


def test_layout_filter_rejects_unequal_and_near(layouts):
    base = jax.tree.map(lambda x: x[0], layouts)
    empty = jnp.zeros((7, 7), bool)
    # start (0, 3); safe exit 4 moves away, gamble exit 5 moves away: rejected
    lv = base.replace(
        maze=make_level(empty, jnp.array([0, 3]), 0, jnp.array([4, 3])),
        gamble_pos=jnp.array([3, 5], jnp.int32),
    )
    a, b = ev.exit_distances(lv)
    assert (int(a), int(b)) == (4, 5)
    assert not bool(ev.equal_distance_mask(lv))
    # equal distances 4 and 4: kept; equal but 3: rejected by the minimum
    lv4 = lv.replace(gamble_pos=jnp.array([1, 0], jnp.int32))
    assert tuple(int(x) for x in ev.exit_distances(lv4)) == (4, 4)
    assert bool(ev.equal_distance_mask(lv4))
    assert not bool(ev.equal_distance_mask(lv4, min_distance=5))
    lv3 = lv.replace(
        maze=make_level(empty, jnp.array([0, 3]), 0, jnp.array([3, 3])),
        gamble_pos=jnp.array([0, 0], jnp.int32),
    )
    assert tuple(int(x) for x in ev.exit_distances(lv3)) == (3, 3)
    assert not bool(ev.equal_distance_mask(lv3))


def _run(env, layouts, choice, n_eps, key=0):
    f = jax.jit(
        lambda k: ev.gamble_episodes(
            k, env, lambda: ev.scripted_gamble_actor(choice), layouts, n_eps
        )
    )
    return {k: float(v) for k, v in f(jax.random.key(key)).items()}


def _lengths(env, layouts, choice):
    """Exit step of the scripted policy per layout (no cue)."""
    act, carry = ev.scripted_gamble_actor(choice)
    n = layouts.has_cue.shape[0]
    res = ev.first_episodes(
        jax.random.key(0), env, act, carry(n), ev.with_class(layouts, 0), MAX_STEPS, ("exit",)
    )
    return np.asarray(res["length"]), np.asarray(res["exit"])


@pytest.mark.parametrize("choice", ["safe", "gamble"])
def test_scripted_exits(env, layouts, choice):
    out = _run(env, layouts, choice, 1)
    want = 1.0 if choice == "gamble" else 0.0
    length, ex = _lengths(env, layouts, choice)
    assert np.all(ex != EXIT_NONE)
    disc = 1.0 - 0.9 * length / MAX_STEPS
    for c in ev.CLASSES:
        assert out[f"{c}/exit_rate"] == 1.0
        assert out[f"{c}/gamble_rate"] == want
        assert out[f"{c}/gamble_share"] == want
    # exact ground truth: safe pays 0.5 d(t); gamble pays P(pay | class) d(t), and over the
    # classes P(pay) = 0.25 (total probability)
    np.testing.assert_allclose(
        out["no_cue/ground_truth_return"], (0.25 if want else 0.5) * disc.mean(), rtol=1e-5
    )
    np.testing.assert_allclose(
        out["favourable/ground_truth_return"], (0.75 if want else 0.5) * disc.mean(), rtol=1e-5
    )
    np.testing.assert_allclose(
        out["ground_truth_return"], (0.25 if want else 0.5) * disc.mean(), rtol=1e-5
    )
    np.testing.assert_allclose(ev.CLASS_PROB @ ev.PAY_PROB, 0.25, rtol=1e-12)


def test_exact_return_matches_sampled_coins(env, layouts):
    """The exact ground truth of always-gamble equals the mean reward under coins drawn from
    the prior (Monte Carlo, within 4 standard errors)."""
    _, space = make_aleatoric_maze("gamble-maze")
    out = _run(env, layouts, "gamble", 1)
    n_rep = 200
    lv = jax.tree.map(lambda x: jnp.repeat(x, n_rep, 0), layouts)
    n = lv.has_cue.shape[0]
    lv = jax.vmap(space.aleatoric.prior_sample)(jax.random.split(jax.random.key(3), n), lv)
    lv = lv.replace(has_cue=jax.random.bernoulli(jax.random.key(4), 0.5, (n,)))
    act, carry = ev.scripted_gamble_actor("gamble")
    res = jax.jit(lambda k: ev.first_episodes(k, env, act, carry(n), lv, MAX_STEPS, ("exit",)))(
        jax.random.key(5)
    )
    r = np.asarray(res["return"])
    se = r.std(ddof=1) / np.sqrt(r.size)
    assert abs(r.mean() - out["ground_truth_return"]) < 4 * se, (r.mean(), out, se)


def test_random_policy_rates_are_counts(env, layouts):
    n_eps = 16
    out = _run(env, layouts, "random", n_eps, key=7)
    # recompute from the raw episodes of the same key for the no-cue class
    act, carry = ev.scripted_gamble_actor("random")
    lv = jax.tree.map(lambda x: jnp.repeat(x, n_eps, 0), layouts)
    n = lv.has_cue.shape[0]
    res = ev.first_episodes(
        jax.random.fold_in(jax.random.key(7), 0),
        env,
        act,
        carry(n),
        ev.with_class(lv, 0),
        MAX_STEPS,
        ("exit",),
    )
    ex, length, done = (np.asarray(res[k]) for k in ("exit", "length", "done"))
    exited = ex != EXIT_NONE
    assert np.all(done == (exited | (length == MAX_STEPS)))
    assert np.all(length[~exited] == MAX_STEPS)
    assert 0.05 < exited.mean() < 0.95  # a random walk sometimes leaves, sometimes not
    np.testing.assert_allclose(out["no_cue/exit_rate"], exited.mean(), rtol=1e-6)
    np.testing.assert_allclose(
        out["no_cue/gamble_rate"], (ex == EXIT_GAMBLE).sum() / exited.sum(), rtol=1e-6
    )
    np.testing.assert_allclose(out["no_cue/gamble_share"], (ex == EXIT_GAMBLE).mean(), rtol=1e-6)
    # the cue is not seen by a random policy: every class behaves alike
    for c in ev.CLASSES:
        assert 0.2 < out[f"{c}/gamble_rate"] < 0.8


def test_gamble_rate_nan_without_exits():
    st = ev.gamble_episode_stats(jnp.zeros(4, jnp.int32), jnp.full(4, MAX_STEPS), 0)
    assert np.isnan(float(st["gamble_rate"]))
    assert float(st["exit_rate"]) == 0.0 and float(st["ground_truth_return"]) == 0.0


def test_seed_interval():
    r = ev.seed_interval([0.1, 0.2, 0.3, np.nan])
    assert r["n"] == 3 and r["per_seed"][3] is None
    np.testing.assert_allclose(r["mean"], 0.2)
    np.testing.assert_allclose(r["ci95"][1] - 0.2, 4.303 * 0.1 / np.sqrt(3), rtol=1e-3)
    assert ev.seed_interval([np.nan])["mean"] is None
    lo, hi = ev.seed_interval([0.0, 0.1, 0.05]), ev.seed_interval([0.9, 1.0, 0.95])
    assert ev.intervals_apart(lo, hi) and ev.intervals_apart(hi, lo)
    assert not ev.intervals_apart(ev.seed_interval([0.0, 1.0, 0.5]), hi)


def test_min_exit_distance_generator():
    from envs.aleatoric import exit_distances, make_gamble_sampler

    lv = jax.jit(jax.vmap(make_gamble_sampler(3)))(jax.random.split(jax.random.key(0), 64))
    a, b = jax.vmap(exit_distances)(lv)
    # rejection is bounded (16 tries): allow a rare miss, never an unsolvable level
    assert np.mean((np.asarray(a) >= 3) & (np.asarray(b) >= 3)) > 0.95
    assert np.all(np.asarray(a) < 2**30) and np.all(np.asarray(b) < 2**30)
    _, space = make_aleatoric_maze("gamble-maze", min_exit_distance=3)
    assert space.sample is not None
    with pytest.raises(ValueError):
        make_gamble_sampler(-1)


def test_egocentric_view():
    """The agent sits at row 6, column 6 facing up: the cell ahead is row 5, its right column 7;
    cells beyond the border are marked in the last channel."""
    env, space = make_aleatoric_maze("gamble-maze", egocentric=True)
    base = space.sample(jax.random.key(0))
    for d, ahead in enumerate([(4, 3), (3, 4), (2, 3), (3, 2)]):
        # agent at (3, 3) facing d; put the wall right ahead of it
        w = jnp.zeros((7, 7), bool).at[ahead[1], ahead[0]].set(True)
        lv = base.replace(
            maze=make_level(w, jnp.array([3, 3]), d, jnp.array([0, 0])),
            gamble_pos=jnp.array([6, 6], jnp.int32),
        )
        obs, _ = env.reset_to_level(jax.random.key(0), lv, env.default_params)
        img = np.asarray(obs.image)
        assert img.shape == (13, 13, 4)
        assert img[5, 6, 0] == 1.0 and img[:, :, 0].sum() == 1.0, d
        assert img[6, 6, 3] == 0.0 and img[0, 0, 3] == 1.0  # centre inside, corner outside
        assert img[..., 1].sum() == 1.0 and img[..., 2].sum() == 1.0  # both exits in view
    # facing right (d = 0) from (3, 3): the safe exit (0, 0) is 3 behind and 3 to the left
    lv = base.replace(
        maze=make_level(jnp.zeros((7, 7), bool), jnp.array([3, 3]), 0, jnp.array([0, 0])),
        gamble_pos=jnp.array([6, 6], jnp.int32),
    )
    img = np.asarray(env.reset_to_level(jax.random.key(0), lv, env.default_params)[0].image)
    assert img[9, 3, 1] == 1.0  # row 6 + 3 (behind), column 6 - 3 (left)
    assert img[3, 9, 2] == 1.0  # gamble (6, 6): 3 ahead, 3 right


def test_route_values_match_known_theta_and_bayes_limit():
    from envs.aleatoric import lava_route_values, lava_template, route_values
    from envs.aleatoric.lava import TEMPLATE_LAVA, TEMPLATE_WALLS

    tp = lava_template()
    assert np.array_equal(tp["lava"], TEMPLATE_LAVA) and np.array_equal(tp["walls"], TEMPLATE_WALLS)
    args = (tp["walls"], tp["lava"], tp["start"], tp["goal"])
    for th in (0.05, 0.2):
        ref = lava_route_values(th)
        got = route_values(*args, theta=th)
        np.testing.assert_allclose([got["forward"], got["right"]], [ref["corridor"], ref["detour"]])
    # a very concentrated prior behaves like the known mean
    sharp = route_values(*args, prior=(200.0, 800.0))
    known = route_values(*args, theta=0.2)
    np.testing.assert_allclose(sharp["forward"], known["forward"], atol=5e-3)
    np.testing.assert_allclose(sharp["right"], known["right"], atol=5e-3)
    with pytest.raises(ValueError):
        route_values(*args)
