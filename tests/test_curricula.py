"""Curricula: conformance under jit / vmap / scan, every branch on a tiny config, behaviour and
peer-bug regressions. Toy level space: a level is int32[6] bits; mutate flips one bit;
descriptor = (number of ones, index of the first one)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import curricula as C
from curricula.archive import BRANCH_ARCHIVE, archive_insert
from curricula.sfl import BRANCH_SFL, success_rates
from ued import (
    BRANCH_MUTATE,
    BRANCH_NEW,
    BRANCH_REPLAY,
    LevelSpace,
    LevelStats,
)

B = 6


def _mutate(key, lv):
    i = jax.random.randint(key, (), 0, 6)
    return lv.at[i].set(1 - lv[i])


def _render(lv):
    img = jnp.repeat(lv.astype(jnp.uint8)[None, :] * 255, 3, 0)  # (3, 6)
    return jnp.stack([img] * 3, -1)


SPACE = LevelSpace(
    name="bits6",
    placeholder=jnp.zeros(6, jnp.int32),
    sample=lambda k: jax.random.bernoulli(k, 0.5, (6,)).astype(jnp.int32),
    mutate=_mutate,
    is_valid=lambda lv: jnp.all((lv == 0) | (lv == 1)),
    render=_render,
    descriptor=lambda lv: jnp.array([lv.sum(), jnp.argmax(lv)], jnp.float32),
    descriptor_names=("ones", "first"),
)


def level_value(levels):
    """Deterministic synthetic score: the level read as a binary number / 63."""
    return (levels * (2 ** jnp.arange(6))).sum(-1).astype(jnp.float32) / 63.0


def fake_stats(prop):
    s = level_value(prop.levels)
    return LevelStats(
        score=s,
        max_return=jnp.maximum(prop.extras.max_return, s),
        mean_return=s,
        solve_rate=s,
        num_episodes=jnp.ones(s.shape, jnp.int32),
    )


def evaluate(key, levels):
    """Success rate 0.5 on levels with exactly 3 ones, else 0 or 1 (deterministic)."""
    ones = levels.sum(-1)
    p = jnp.where(ones == 3, 0.5, jnp.where(ones > 3, 1.0, 0.0)).astype(jnp.float32)
    n = p.shape[0]
    return LevelStats(p, p, p, p, jnp.ones(n, jnp.int32))


def make_runner(cur, steps):
    """jit(scan(propose -> fake rollout -> observe)); returns final state and per-step outs."""

    def step(carry, key):
        st, params = carry
        k1, k2 = jax.random.split(key)
        st, prop = cur.propose(k1, st, params, evaluate)
        stats = fake_stats(prop)
        st = cur.observe(k2, st, prop, stats, params)
        diag = cur.diagnostics(st, prop, stats)
        return (st, params), (prop, diag)

    def run(key, params):
        k0, k1 = jax.random.split(key)
        st = cur.init(k0)
        (st, _), outs = jax.lax.scan(step, (st, params), jax.random.split(k1, steps))
        return st, outs

    return run


TINY_BUF = C.LevelSamplerConfig(capacity=8, duplicate_check=True)
TINY_PARAMS = C.LevelSamplerParams(replay_prob=0.6, min_fill=0.25, staleness_coef=0.3)

CURRICULA = {
    "dr": lambda: C.make_dr(SPACE, B),
    "plr": lambda: C.make_plr(SPACE, B, C.PLRConfig(buffer=TINY_BUF)),
    "robust_plr": lambda: C.make_plr(SPACE, B, C.PLRConfig(buffer=TINY_BUF), robust=True),
    "plr_parallel": lambda: C.make_plr(SPACE, B, C.PLRConfig(buffer=TINY_BUF, parallel=True)),
    "accel": lambda: C.make_accel(SPACE, B, C.ACCELConfig(buffer=TINY_BUF, num_edits=1)),
    "accel_parallel": lambda: C.make_accel(
        SPACE, B, C.ACCELConfig(buffer=TINY_BUF, num_edits=1, parallel=True)
    ),
    "accel_empty": lambda: C.make_accel(
        SPACE,
        B,
        C.ACCELConfig(
            buffer=TINY_BUF,
            num_edits=1,
            generate_from_empty=True,
            empty_level=lambda k: (
                jnp.zeros(6, jnp.int32).at[jax.random.randint(k, (), 0, 6)].set(1)
            ),
        ),
    ),
    "sfl": lambda: C.make_sfl(
        SPACE, B, C.SFLConfig(num_sample=16, num_keep=4, refresh_every=5, eval_chunk=8)
    ),
    "archive": lambda: C.make_archive(
        SPACE, B, C.ArchiveConfig(lower=(0, 0), upper=(7, 6), bins=(7, 6), num_edits=1)
    ),
    "ncc": lambda: C.make_ncc(
        SPACE, B, C.NCCConfig(buffer_size=8, num_new=4, refresh_every=2, eval_episodes=2)
    ),
}
STEPS = 12
EXPECTED_BRANCHES = {
    "dr": {BRANCH_NEW},
    "plr": {BRANCH_NEW, BRANCH_REPLAY},
    "robust_plr": {BRANCH_NEW, BRANCH_REPLAY},
    "plr_parallel": {BRANCH_NEW, BRANCH_REPLAY},
    "accel": {BRANCH_NEW, BRANCH_REPLAY, BRANCH_MUTATE},
    "accel_parallel": {BRANCH_NEW, BRANCH_REPLAY, BRANCH_MUTATE},
    "accel_empty": {BRANCH_NEW, BRANCH_REPLAY, BRANCH_MUTATE},
    "sfl": {BRANCH_NEW, BRANCH_SFL},
    "archive": {BRANCH_NEW, BRANCH_REPLAY, BRANCH_ARCHIVE},
    "ncc": {BRANCH_REPLAY},  # every level is replayed from the buffer by the learned y
}


def params_for(cur):
    return (
        TINY_PARAMS
        if isinstance(cur.default_params, C.LevelSamplerParams)
        else (cur.default_params)
    )


class Compiled:
    """A curriculum with ONE jitted step (propose -> synthetic stats -> observe -> diagnostics),
    compiled once per module. ``override`` (float32[B]) replaces the synthetic scores where
    ``use_override`` is set, so regression tests can inject scores without recompiling."""

    def __init__(self, cur):
        self.cur = cur

        def step(key, st, params, override, use_override):
            ka, kb = jax.random.split(key)
            mid, prop = cur.propose(ka, st, params, evaluate)
            stats = fake_stats(prop)
            stats = stats.replace(score=jnp.where(use_override, override, stats.score))
            new = cur.observe(kb, mid, prop, stats, params)
            return mid, prop, new, cur.diagnostics(new, prop, stats)

        self.step = jax.jit(step)

    def __call__(self, key, st, params, override=None):
        use = override is not None
        override = jnp.zeros(B) if override is None else jnp.asarray(override, jnp.float32)
        return self.step(key, st, params, override, use)

    def run(self, key, params, steps=STEPS):
        """Python loop over the jitted step; returns (state, (stacked proposals, diags))."""
        k0, k1 = jax.random.split(key)
        st = self.cur.init(k0)
        props, diags = [], []
        for k in jax.random.split(k1, steps):
            _, prop, st, diag = self(k, st, params)
            props.append(prop)
            diags.append(diag)
        stack = lambda xs: jax.tree.map(lambda *v: jnp.stack(v), *xs)
        return st, (stack(props), stack(diags))


@pytest.fixture(scope="module")
def runs():
    """Every curriculum run once with jitted steps (compiled once, shared by the tests)."""
    out = {}
    for name, mk in CURRICULA.items():
        c = Compiled(mk())
        out[name] = (c.cur, c, c.run(jax.random.key(0), params_for(c.cur)))
    return out


@pytest.mark.parametrize("name", sorted(CURRICULA))
def test_conformance_and_every_branch(runs, name):
    cur, run, (st, (prop, diag)) = runs[name]
    assert cur.name.startswith(name.split("_empty")[0])
    assert prop.slots.shape == (STEPS, B) and prop.slots.dtype == jnp.int32
    assert prop.branch.shape == (STEPS, B) and prop.train.dtype == jnp.bool_
    assert prop.extras.max_return.shape == (STEPS, B)
    assert jax.tree.leaves(prop.levels)[0].shape == (STEPS, B, 6)
    valid = jax.vmap(jax.vmap(SPACE.is_valid))(prop.levels)
    assert bool(valid.all())
    assert set(np.unique(np.asarray(prop.branch)).tolist()) == EXPECTED_BRANCHES[name]
    # slots are set exactly where a level came from a buffer / archive / SFL set
    from_buf = np.isin(np.asarray(prop.branch), [BRANCH_REPLAY, BRANCH_SFL])
    assert np.all((np.asarray(prop.slots) >= 0) == from_buf)
    for k, v in diag.items():
        assert v.shape == (STEPS,), k
    # determinism: same key -> bitwise equal
    again = run.run(jax.random.key(0), params_for(cur), steps=4)
    for x, y in zip(jax.tree.leaves(again[1][0]), jax.tree.leaves(prop), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y)[:4])


@pytest.mark.parametrize("name", sorted(CURRICULA))
def test_every_curriculum_under_vmap(runs, name):
    """One step vmapped over two keys and two copies of a mid-run state equals two calls."""
    cur, comp, (st, _) = runs[name]
    p = params_for(cur)
    keys = jax.random.split(jax.random.key(5), 2)
    sts = jax.tree.map(lambda x: jnp.stack([x, x]), st)
    vstep = jax.jit(jax.vmap(comp.step, in_axes=(0, 0, None, None, None)))
    vout = vstep(keys, sts, p, jnp.zeros(B), False)
    for i in range(2):
        out = comp(keys[i], st, p)
        for x, y in zip(jax.tree.leaves(vout), jax.tree.leaves(out), strict=True):
            np.testing.assert_allclose(np.asarray(x)[i], np.asarray(y), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["accel_parallel", "archive"])
def test_vmap_scan_over_params_matches_loop(runs, name):
    """jit(vmap(scan(step))) over two params equals the jitted step loop for each."""
    cur, comp, _ = runs[name]
    p0 = params_for(cur)
    if isinstance(p0, C.LevelSamplerParams):
        ps = [p0, p0.replace(replay_prob=1.0, min_fill=0.0, temperature=0.05)]
    else:
        ps = [p0, p0.replace(new_prob=0.5, replay_prob=0.1)]
    stacked = jax.tree.map(lambda *x: jnp.stack([jnp.asarray(v) for v in x]), *ps)
    vst, (vprop, vdiag) = jax.jit(jax.vmap(make_runner(cur, 6), in_axes=(None, 0)))(
        jax.random.key(1), stacked
    )
    for i, p in enumerate(ps):
        st, (prop, diag) = comp.run(jax.random.key(1), jax.tree.map(jnp.asarray, p), steps=6)
        for x, y in zip(
            jax.tree.leaves((vst, vprop, vdiag)), jax.tree.leaves((st, prop, diag)), strict=True
        ):
            np.testing.assert_allclose(np.asarray(x)[i], np.asarray(y), rtol=1e-5, atol=1e-6)
    lv = np.asarray(vprop.levels)
    assert not np.array_equal(lv[0], lv[1])  # the params really matter


def test_robust_trains_only_on_replay(runs):
    for name in ("robust_plr", "accel"):
        _, _, (_, (prop, _)) = runs[name]
        np.testing.assert_array_equal(
            np.asarray(prop.train), np.asarray(prop.branch) == BRANCH_REPLAY
        )
    _, _, (_, (prop, _)) = runs["plr"]
    assert bool(prop.train.all())


def test_plr_replayed_levels_are_buffer_levels_and_rescored(runs):
    """Regression (minimax reset replays to random levels): a replay proposal is the buffer's
    own levels, with their extras; observe updates exactly those slots and inserts nothing."""
    cur, comp, _ = runs["robust_plr"]
    p = TINY_PARAMS.replace(replay_prob=1.0, min_fill=0.0)
    st = cur.init(jax.random.key(0))
    _, prop, st, _ = comp(jax.random.key(1), st, p)  # empty buffer: new levels, inserted
    assert bool((prop.branch == BRANCH_NEW).all()) and int(st.buffer.filled.sum()) > 0
    before = st.buffer
    mid, prop, st2, _ = comp(jax.random.key(9), st, p, override=jnp.full(B, 7.0))
    assert bool((prop.branch == BRANCH_REPLAY).all())
    sl = np.asarray(prop.slots)
    np.testing.assert_array_equal(np.asarray(prop.levels), np.asarray(before.levels)[sl])
    np.testing.assert_array_equal(
        np.asarray(prop.extras.max_return), np.asarray(before.extras.max_return)[sl]
    )
    np.testing.assert_array_equal(np.asarray(st2.buffer.levels), np.asarray(before.levels))
    np.testing.assert_array_equal(np.asarray(st2.buffer.filled), np.asarray(before.filled))
    assert np.all(np.asarray(st2.buffer.scores)[sl] == 7.0)
    untouched = np.setdiff1d(np.flatnonzero(np.asarray(before.filled)), sl)
    np.testing.assert_array_equal(
        np.asarray(st2.buffer.scores)[untouched], np.asarray(before.scores)[untouched]
    )
    # the replayed slots were stamped with the advanced clock
    assert int(mid.buffer.clock) == int(before.clock) + B
    assert np.all(np.asarray(mid.buffer.last_used)[sl] == int(mid.buffer.clock))


def test_accel_mutates_every_replayed_level(runs):
    """Regression (dcd mutated only the first): the step after a replay mutates ALL replayed
    levels, each child one edit (one bit) away from its own parent, valid, not trained on,
    inserted by score."""
    cur, comp, _ = runs["accel"]
    p = TINY_PARAMS.replace(replay_prob=1.0, min_fill=0.0)
    st = cur.init(jax.random.key(0))
    _, prop, st, _ = comp(jax.random.key(1), st, p)
    assert bool((prop.branch == BRANCH_NEW).all())
    _, rep, st, _ = comp(jax.random.key(2), st, p)
    assert bool((rep.branch == BRANCH_REPLAY).all())
    _, mut, st, _ = comp(jax.random.key(3), st, p, override=jnp.full(B, 5.0))
    assert bool((mut.branch == BRANCH_MUTATE).all())
    assert not bool(mut.train.any())
    diff = np.abs(np.asarray(mut.levels) - np.asarray(rep.levels)).sum(-1)
    np.testing.assert_array_equal(diff, np.ones(B))
    assert bool(jax.vmap(SPACE.is_valid)(mut.levels).all())
    # children with a top score are in the buffer now
    stored = {tuple(x) for x in np.asarray(st.buffer.levels)[np.asarray(st.buffer.filled)]}
    assert all(tuple(x) in stored for x in np.asarray(mut.levels))
    _, nxt, _, _ = comp(jax.random.key(4), st, p)
    assert bool((nxt.branch == BRANCH_REPLAY).all())  # back to replay, not mutate again


def test_accel_parallel_children_of_this_steps_replays(runs):
    _, _, (_, (prop, _)) = runs["accel_parallel"]
    br = np.asarray(prop.branch)
    lv = np.asarray(prop.levels)
    nr = B // 3
    for t in np.flatnonzero((br == BRANCH_REPLAY).any(1)):
        assert np.all(br[t, :nr] == BRANCH_REPLAY) and np.all(br[t, nr : 2 * nr] == BRANCH_MUTATE)
        d = np.abs(lv[t, nr : 2 * nr] - lv[t, :nr]).sum(-1)
        np.testing.assert_array_equal(d, np.ones(nr))


def test_accel_generate_from_empty(runs):
    _, _, (_, (prop, _)) = runs["accel_empty"]
    new = np.asarray(prop.branch) == BRANCH_NEW
    assert np.all(np.asarray(prop.levels)[new].sum(-1) == 1)  # "empty" generator: one bit
    with pytest.raises(ValueError, match="empty_level"):
        C.ACCELConfig(generate_from_empty=True)


def test_archive_keeps_best_per_cell_and_fills_many(runs):
    cur, _, (st, (prop, diag)) = runs["archive"]
    cfg = C.ArchiveConfig(lower=(0, 0), upper=(7, 6), bins=(7, 6), num_edits=1)
    br = np.asarray(prop.branch).ravel()
    lv = np.asarray(prop.levels).reshape(-1, 6)
    cand = np.isin(br, [BRANCH_NEW, BRANCH_ARCHIVE])
    cells = np.asarray(C.cell_index(cfg, jax.vmap(SPACE.descriptor)(jnp.asarray(lv))))
    val = np.asarray(level_value(jnp.asarray(lv)))
    best = {}
    for c, v, ok in zip(cells, val, cand, strict=True):
        if ok:
            best[c] = max(best.get(c, -np.inf), v)
    f = np.asarray(st.filled)
    assert f.sum() > 1
    assert set(np.flatnonzero(f).tolist()) == set(best)
    for c, v in best.items():
        assert float(st.scores[c]) == pytest.approx(v)  # re-scoring is deterministic here
    assert float(diag["archive/coverage"][-1]) == pytest.approx(f.mean())


def test_archive_insert_rules_and_rescoring_decay(runs):
    cur, comp, _ = runs["archive"]
    cfg = C.ArchiveConfig(lower=(0, 0), upper=(7, 6), bins=(7, 6), num_edits=1)
    ins = jax.jit(archive_insert, static_argnums=0)
    st = cur.init(jax.random.key(0))
    lv = jnp.asarray(
        [
            [1, 1, 0, 0, 0, 0],
            [1, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 0, 1],
            [1, 1, 1, 0, 0, 0],
            [1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 1],
        ],
        jnp.int32,
    )
    cells = C.cell_index(cfg, jax.vmap(SPACE.descriptor)(lv))
    assert int(cells[0]) == int(cells[1])  # same descriptor (2 ones, first at 0)
    sc = jnp.array([0.2, 0.5, 0.1, 0.3, 0.4, 0.0])
    mask = jnp.array([True, True, True, True, False, True])
    st = ins(cfg, st, cells, lv, sc, jnp.zeros(B), mask)
    assert int(st.filled.sum()) == 4
    c0 = int(cells[0])
    np.testing.assert_array_equal(np.asarray(st.levels[c0]), np.asarray(lv[1]))  # best wins
    st2 = ins(cfg, st, cells, lv, jnp.full(B, 0.4), jnp.zeros(B), jnp.arange(B) == 4)
    assert float(st2.scores[c0]) == 0.5  # a lower score does not replace
    # a replayed elite is re-scored (stale scores decay) by observe
    p = C.ArchiveParams(new_prob=0.0, replay_prob=1.0, uniform_share=0.3, temperature=1.0)
    _, prop, st4, _ = comp(jax.random.key(1), st, p, override=jnp.zeros(B))
    assert bool((prop.branch == BRANCH_REPLAY).all())
    assert np.all(np.asarray(st4.scores)[np.asarray(prop.slots)] == 0.0)
    assert int(st4.filled.sum()) == 4


def test_sfl_prefers_learnable_levels(runs):
    _, _, (st, (prop, diag)) = runs["sfl"]
    ones = np.asarray(st.levels).sum(-1)
    assert np.all(ones == 3)  # p = 0.5 beats p in {0, 1}
    np.testing.assert_allclose(np.asarray(st.learnability), 0.25)
    assert int(st.refreshes) == (STEPS + 4) // 5  # steps 0, 5, 10
    sfl = np.asarray(prop.branch) == BRANCH_SFL
    assert np.all(np.asarray(prop.levels)[sfl].sum(-1) == 3)
    with pytest.raises(ValueError, match="evaluate"):
        C.make_sfl(SPACE, B).propose(jax.random.key(0), None, C.SFLParams(), None)


def test_sfl_success_rates_pool_copies():
    # 2 levels x 8 copies, copy-major; one copy without a finished episode (nan, 0 eps)
    sr = np.tile([1.0, 0.0], 8).astype(np.float32)
    sr[0] = np.nan
    n = np.ones(16, np.int32)
    n[0] = 0
    sr[1::2][:4] = 1.0  # level 1 solved in 4 of 8 copies
    stats = LevelStats(
        jnp.asarray(sr), jnp.asarray(sr), jnp.asarray(sr), jnp.asarray(sr), jnp.asarray(n)
    )
    np.testing.assert_allclose(np.asarray(success_rates(stats, 2, 8)), [1.0, 0.5])
    with pytest.raises(ValueError, match="eval_episodes"):
        C.SFLConfig(eval_episodes=4)


def test_config_validation():
    with pytest.raises(ValueError, match="num_edits"):
        C.ACCELConfig(num_edits=0)
    with pytest.raises(ValueError, match="num_replay"):
        C.make_plr(SPACE, 2, C.PLRConfig(parallel=True, num_replay=3))
    with pytest.raises(ValueError, match="bins"):
        C.ArchiveConfig(lower=(0,), upper=(1, 1), bins=(2, 2))
    with pytest.raises(ValueError, match="num_keep"):
        C.SFLConfig(num_sample=4, num_keep=8)
    with pytest.raises(ValueError, match="mutate"):
        C.make_accel(dataclasses.replace(SPACE, mutate=None), B)


def test_plots(runs, tmp_path):
    from experiments.figures import plot_archive, plot_score_histogram, plot_top_levels

    _, _, (st, _) = runs["plr"]
    plot_top_levels(SPACE, st.buffer, k=4, path=tmp_path / "top.png")
    plot_score_histogram(st.buffer, path=tmp_path / "hist.png")
    _, _, (ast, _) = runs["archive"]
    cfg = C.ArchiveConfig(lower=(0, 0), upper=(7, 6), bins=(7, 6))
    plot_archive(SPACE, ast, cfg, path=tmp_path / "archive.png", num_elites=4)
    for f in ("top.png", "hist.png", "archive.png"):
        assert (tmp_path / f).stat().st_size > 1000


def test_archive_on_maze_space():
    """Optional: the archive over the real Maze space (skipped if envs.maze is unavailable)."""
    maze = pytest.importorskip("envs.maze")
    space = maze.make_maze_space(maze.MazeConfig(height=7, width=7, n_walls=10))
    cfg = C.maze_archive_config(7, 7, bins=(10, 10), num_edits=2)
    cur = C.make_archive(space, 4, cfg)

    @jax.jit
    def step(key, st):
        ka, kb = jax.random.split(key)
        st, prop = cur.propose(ka, st, cur.default_params, None)
        d = jax.vmap(space.descriptor)(prop.levels)
        s = d[:, 0] / 49.0 + d[:, 1] / 49.0  # synthetic: more walls and longer paths
        stats = LevelStats(s, s, s, s, jnp.ones(4, jnp.int32))
        return cur.observe(kb, st, prop, stats, cur.default_params), prop

    st = cur.init(jax.random.key(0))
    for i in range(4):
        st, prop = step(jax.random.key(i), st)
    assert int(st.filled.sum()) > 1
    elites = jax.tree.map(lambda x: x[np.flatnonzero(np.asarray(st.filled))], st.levels)
    assert bool(jax.vmap(space.is_valid)(elites).all())


# ----------------------------------------------------------------------------- run-layer hooks


@pytest.mark.parametrize("name", sorted(CURRICULA))
def test_levels_accessor_reports_what_the_curriculum_holds(runs, name):
    cur, _, (st, _) = runs[name]
    if name == "dr":
        assert cur.levels is None  # DR holds no levels
        return
    lv = cur.levels(st)
    if name == "sfl":
        levels, scores, valid = st.levels, st.learnability, np.isfinite(st.learnability)
    elif name == "archive":
        levels, scores, valid = st.levels, st.scores, st.filled
    elif name == "ncc":  # the buffer is full from init on
        levels, scores, valid = st.levels, st.scores, np.ones(st.scores.shape, bool)
    else:
        levels, scores, valid = st.buffer.levels, st.buffer.scores, st.buffer.filled
    valid = np.asarray(valid)
    assert valid.any() and lv.levels.shape[0] == valid.shape[0]
    np.testing.assert_array_equal(np.asarray(lv.valid), valid)
    np.testing.assert_array_equal(np.asarray(lv.levels), np.asarray(levels))
    np.testing.assert_array_equal(np.asarray(lv.scores)[valid], np.asarray(scores)[valid])
    assert np.all(np.isnan(np.asarray(lv.scores)[~valid]))
    jax.jit(cur.levels)(st)  # jittable (the run layer's snapshots jit it)


def test_samplr_reports_its_buffer_levels():
    from envs.aleatoric import make_aleatoric_maze

    _, space = make_aleatoric_maze("gamble-maze")
    cur = C.make_samplr(space, 2, C.SAMPLRConfig(buffer=C.LevelSamplerConfig(capacity=4)))
    st = jax.eval_shape(cur.init, jax.random.key(0))
    lv = jax.eval_shape(cur.levels, st)
    assert lv.valid.shape == (4,) and lv.scores.shape == (4,)


_BAD_SAMPLES = {
    "dtype": (lambda k: jax.random.uniform(k, (6,)), r"\[sample shapes/dtypes\].*float32"),
    "shape": (
        lambda k: jax.random.bernoulli(k, 0.5, (7,)).astype(jnp.int32),
        r"\[sample shapes/dtypes\].*\(7,\)",
    ),
    "key": (lambda k: jnp.ones(6, jnp.int32), r"\[key dependence\]"),
}
_FACTORIES = {
    "make_dr": lambda s: C.make_dr(s, B),
    "make_plr": lambda s: C.make_plr(s, B, C.PLRConfig(buffer=TINY_BUF)),
    "make_accel": lambda s: C.make_accel(s, B, C.ACCELConfig(buffer=TINY_BUF)),
    "make_sfl": lambda s: C.make_sfl(s, B, C.SFLConfig(num_sample=8, num_keep=4)),
    "make_ncc": lambda s: C.make_ncc(s, B, C.NCCConfig(buffer_size=8)),
    "make_archive": lambda s: C.make_archive(
        s, B, C.ArchiveConfig(lower=(0, 0), upper=(7, 6), bins=(7, 6))
    ),
}


@pytest.mark.parametrize("bad", sorted(_BAD_SAMPLES))
def test_factories_reject_spaces_failing_the_kits_cheap_checks(bad):
    sample, pattern = _BAD_SAMPLES[bad]
    space = dataclasses.replace(SPACE, name=f"bits6-{bad}", sample=sample)
    for caller, make in _FACTORIES.items():
        with pytest.raises(ValueError, match=f"{caller}: level space 'bits6-{bad}'.*{pattern}"):
            make(space)
