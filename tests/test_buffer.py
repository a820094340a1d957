"""The level buffer against a small NumPy reference (hypothesis), plus sampling statistics.

Levels are int32[6] bit vectors; a small integer range makes duplicates frequent.
"""

from __future__ import annotations

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from curricula.buffer import (
    LevelSamplerConfig,
    LevelSamplerParams,
    make_level_sampler,
    rank_weights,
    score_ranks,
)

CAP, B = 5, 4
PARAMS = LevelSamplerParams(
    replay_prob=0.8, staleness_coef=0.3, temperature=0.3, min_fill=0.0, topk_k=3
)


def bits(v: int) -> np.ndarray:
    return np.array([(v >> i) & 1 for i in range(6)], np.int32)


# --------------------------------------------------------------------------------------------
# NumPy reference


class Ref:
    def __init__(self, cap, prioritization, dup):
        self.cap, self.prio, self.dup = cap, prioritization, dup
        self.levels = np.zeros((cap, 6), np.int32)
        self.scores = np.full(cap, -np.inf)
        self.last_used = np.zeros(cap, np.int64)
        self.filled = np.zeros(cap, bool)
        self.maxret = np.full(cap, -np.inf)
        self.clock = 0

    def weights(self, p):
        f = self.filled
        w = np.zeros(self.cap)
        if f.any():
            s = np.where(np.isnan(self.scores), -np.inf, self.scores)
            order = sorted(np.flatnonzero(f), key=lambda i: (-s[i], i))
            rank = np.zeros(self.cap)
            rank[order] = np.arange(1, len(order) + 1)
            if self.prio == "rank":
                h = np.where(f, np.maximum(rank, 1) ** (-1.0 / p.temperature), 0.0)
                ps = h / h.sum()
            else:
                sel = f & (rank <= max(p.topk_k, 1))
                ps = sel / sel.sum()
            stale = np.where(f, np.maximum(self.clock - self.last_used, 0), 0).astype(float)
            pst = stale / stale.sum() if stale.sum() > 0 else f / f.sum()
            w = (1 - p.staleness_coef) * ps + p.staleness_coef * pst
        return w

    def sample(self, slots, p):
        w = self.weights(p)
        if self.filled.any():
            assert np.all(w[slots] > 0), "sampled a zero-weight slot"
        self.clock += len(slots)
        self.last_used[slots] = self.clock

    def update(self, slots, scores, maxret):
        for j in set(int(x) for x in slots if x >= 0):
            if not self.filled[j]:
                continue
            grp = [k for k in range(len(slots)) if slots[k] == j]
            fin = [scores[k] for k in grp if np.isfinite(scores[k])]
            self.scores[j] = np.mean(fin) if fin else -np.inf
            self.maxret[j] = max(self.maxret[j], max(maxret[k] for k in grp))

    def insert(self, levels, scores, maxret, mask, w_jax):
        b = len(scores)
        s = np.where(np.isnan(scores), -np.inf, scores).astype(np.float32)
        rep = list(range(b))
        matched = [False] * b
        m = [0] * b
        if self.dup:
            for i in range(b):
                if not mask[i]:
                    continue
                for j in range(i + 1):
                    if mask[j] and np.array_equal(levels[i], levels[j]):
                        rep[i] = j
                        break
                for k in range(self.cap):
                    if self.filled[k] and np.array_equal(self.levels[k], levels[i]):
                        matched[i], m[i] = True, k
                        break
        is_rep = [bool(mask[i]) and rep[i] == i for i in range(b)]
        gscore = np.full(b, -np.inf, np.float32)
        gmax = np.full(b, -np.inf)
        for r in range(b):
            if not is_rep[r]:
                continue
            grp = [i for i in range(b) if mask[i] and rep[i] == r]
            fin = [s[i] for i in grp if np.isfinite(s[i])]
            gscore[r] = (
                np.float32(np.sum(np.asarray(fin, np.float32)) / len(fin)) if fin else -np.inf
            )
            gmax[r] = max(maxret[i] for i in grp)
        old_scores, old_filled = self.scores.copy(), self.filled.copy()
        protected = np.zeros(self.cap, bool)
        slot_of = np.full(b, -1)
        for r in range(b):
            if is_rep[r] and matched[r]:
                k = m[r]
                self.scores[k] = gscore[r]
                self.maxret[k] = max(self.maxret[k], gmax[r])
                self.last_used[k] = self.clock
                protected[k] = True
                slot_of[r] = k
        key = np.where(old_filled, w_jax, -1.0)
        key = np.where(protected, 2.0, key)
        k = min(b, self.cap)
        victims = sorted(range(self.cap), key=lambda j: (key[j], j))[:k]
        cand = [is_rep[i] and not matched[i] for i in range(b)]
        corder = sorted(range(b), key=lambda i: (-(gscore[i] if cand[i] else -np.inf), i))[:k]
        for c, v in zip(corder, victims, strict=True):
            if cand[c] and not protected[v] and (not old_filled[v] or gscore[c] > old_scores[v]):
                self.levels[v] = levels[c]
                self.scores[v] = gscore[c]
                self.maxret[v] = gmax[c]
                self.last_used[v] = self.clock
                self.filled[v] = True
                slot_of[c] = v
        return np.array([slot_of[rep[i]] if mask[i] else -1 for i in range(b)])


# --------------------------------------------------------------------------------------------
# compiled once per config


_CACHE: dict = {}


def compiled(prio, dup):
    if (prio, dup) not in _CACHE:
        ls = make_level_sampler(
            LevelSamplerConfig(capacity=CAP, prioritization=prio, duplicate_check=dup)
        )
        _CACHE[(prio, dup)] = dict(
            ls=ls,
            init=jax.jit(ls.init),
            weights=jax.jit(ls.weights),
            sample=jax.jit(ls.sample, static_argnums=3),
            insert=jax.jit(ls.insert),
            update=jax.jit(ls.update),
        )
    return _CACHE[(prio, dup)]


def check_same(ref: Ref, state):
    f = np.asarray(state.filled)
    np.testing.assert_array_equal(f, ref.filled)
    np.testing.assert_array_equal(np.asarray(state.levels)[f], ref.levels[f])
    np.testing.assert_allclose(np.asarray(state.scores)[f], ref.scores[f], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(state.extras.max_return)[f], ref.maxret[f])
    np.testing.assert_array_equal(np.asarray(state.last_used)[f], ref.last_used[f])
    assert int(state.clock) == ref.clock


SCORE = st.sampled_from([0.0, 0.5, 1.0, 2.0, -math.inf, math.nan])
OP = st.one_of(
    st.tuples(
        st.just("insert"),
        st.lists(st.integers(0, 7), min_size=B, max_size=B),
        st.lists(SCORE, min_size=B, max_size=B),
        st.lists(st.booleans(), min_size=B, max_size=B),
    ),
    st.tuples(st.just("sample"), st.integers(0, 2**16)),
    st.tuples(
        st.just("update"),
        st.lists(st.integers(-1, CAP - 1), min_size=B, max_size=B),
        st.lists(SCORE, min_size=B, max_size=B),
    ),
)


@pytest.mark.parametrize("prio,dup", [("rank", True), ("topk", False), ("rank", False)])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(OP, min_size=1, max_size=10))
def test_buffer_matches_reference(prio, dup, ops):
    c = compiled(prio, dup)
    state = c["init"](jnp.zeros(6, jnp.int32))
    ref = Ref(CAP, prio, dup)
    for op in ops:
        prev = state
        if op[0] == "insert":
            levels = np.stack([bits(v) for v in op[1]])
            sc = np.asarray(op[2], np.float32)
            mr = np.where(np.isnan(sc), 0.0, sc).astype(np.float32)
            mask = np.asarray(op[3])
            w = np.asarray(c["weights"](state, PARAMS))
            state, slots = c["insert"](state, jnp.asarray(levels), sc, mr, PARAMS, mask)
            ref_slots = ref.insert(levels, sc, mr, mask, w)
            np.testing.assert_array_equal(np.asarray(slots), ref_slots)
            # an insert only evicts a lower-scoring level
            pf, ps, pl = np.asarray(prev.filled), np.asarray(prev.scores), np.asarray(prev.levels)
            nl, ns = np.asarray(state.levels), np.asarray(state.scores)
            for j in range(CAP):
                if pf[j] and not np.array_equal(pl[j], nl[j]):
                    assert ns[j] > ps[j]
            changed = set(int(x) for x in np.asarray(slots) if x >= 0)
        elif op[0] == "sample":
            state, slots = c["sample"](jax.random.key(op[1]), state, PARAMS, B)
            ref.sample(np.asarray(slots), PARAMS)
            changed = set(np.asarray(slots).tolist())
        else:
            sl = np.asarray(op[1], np.int32)
            sc = np.asarray(op[2], np.float32)
            mr = np.where(np.isnan(sc), 0.0, sc).astype(np.float32)
            state = c["update"](state, sl, sc, mr)
            ref.update(sl, sc, mr)
            changed = set()
        check_same(ref, state)
        # invariants
        f = np.asarray(state.filled)
        assert f.sum() <= CAP
        w = np.asarray(c["weights"](state, PARAMS))
        assert np.all(w >= 0) and np.all(w[~f] == 0)
        if f.any():
            assert abs(w[f].sum() - 1) < 1e-5
        np.testing.assert_allclose(w, ref.weights(PARAMS), rtol=1e-5, atol=1e-6)
        # staleness only drops for slots that were used (sampled / inserted / refreshed)
        st_prev = int(prev.clock) - np.asarray(prev.last_used)
        st_now = int(state.clock) - np.asarray(state.last_used)
        for j in range(CAP):
            if j not in changed and bool(np.asarray(prev.filled)[j]):
                assert st_now[j] >= st_prev[j]
        if dup:
            lv = np.asarray(state.levels)[f]
            assert len({tuple(x) for x in lv}) == len(lv), "duplicate levels stored"


def test_config_validation():
    with pytest.raises(ValueError, match="capacity"):
        LevelSamplerConfig(capacity=0)
    with pytest.raises(ValueError, match="prioritization"):
        LevelSamplerConfig(prioritization="softmax")
    with pytest.raises(TypeError):
        make_level_sampler({"capacity": 3})


def fixed_ops(ls, state, jit: bool):
    f = (lambda g, **kw: jax.jit(g, **kw)) if jit else (lambda g, **kw: g)
    ins, smp, upd = f(ls.insert), f(ls.sample, static_argnums=3), f(ls.update)
    lv = jnp.asarray(np.stack([bits(v) for v in [1, 2, 3, 1]]))
    state, _ = ins(state, lv, jnp.array([0.5, 1.0, 0.2, 0.7]), jnp.zeros(4), PARAMS, None)
    state, slots = smp(jax.random.key(3), state, PARAMS, 4)
    state = upd(state, slots, jnp.array([0.1, 0.9, 0.3, 0.4]), jnp.ones(4))
    lv = jnp.asarray(np.stack([bits(v) for v in [4, 5, 6, 7]]))
    state, _ = ins(state, lv, jnp.array([0.6, 0.05, 2.0, 0.3]), jnp.zeros(4), PARAMS, None)
    return state


def test_jit_equals_eager_and_deterministic():
    ls = make_level_sampler(LevelSamplerConfig(capacity=CAP))
    s0 = ls.init(jnp.zeros(6, jnp.int32))
    a = fixed_ops(ls, s0, jit=False)
    b = fixed_ops(ls, s0, jit=True)
    c = fixed_ops(ls, s0, jit=True)
    chex.assert_trees_all_close(a, b, rtol=1e-6)
    chex.assert_trees_all_equal(b, c)


def test_vmap_over_params_matches_loop():
    ls = make_level_sampler(LevelSamplerConfig(capacity=CAP))
    s0 = ls.init(jnp.zeros(6, jnp.int32))
    s0 = fixed_ops(ls, s0, jit=True)
    ps = LevelSamplerParams(
        replay_prob=jnp.array([0.1, 0.9, 0.5]),
        staleness_coef=jnp.array([0.0, 0.3, 1.0]),
        temperature=jnp.array([0.1, 0.3, 2.0]),
        min_fill=jnp.array([0.0, 0.5, 1.0]),
        topk_k=jnp.array([1, 2, 3]),
    )

    def run(p):
        st, slots = ls.sample(jax.random.key(0), s0, p, 4)
        lv = jnp.asarray(np.stack([bits(v) for v in [8, 9, 1, 10]]))
        st, ins = ls.insert(st, lv, jnp.array([3.0, 0.0, 1.0, 0.4]), jnp.zeros(4), p)
        return ls.weights(st, p), slots, ins, ls.should_replay(jax.random.key(1), st, p)

    out = jax.jit(jax.vmap(run))(ps)
    run_j = jax.jit(run)
    for i in range(3):
        one = run_j(jax.tree.map(lambda x, i=i: x[i], ps))
        chex.assert_trees_all_close(
            jax.tree.map(lambda x, i=i: x[i], out), one, rtol=1e-5, atol=1e-7
        )


def _filled_state(scores, last_used, clock):
    n = len(scores)
    ls = make_level_sampler(LevelSamplerConfig(capacity=n + 2, duplicate_check=False))
    s = ls.init(jnp.zeros(6, jnp.int32))
    lv = jnp.asarray(np.stack([bits(v) for v in range(n)]))
    # written directly (slot i holds scores[i]); insert would order by score
    s = s.replace(
        levels=s.levels.at[:n].set(lv),
        scores=s.scores.at[:n].set(jnp.asarray(scores, jnp.float32)),
        filled=s.filled.at[:n].set(True),
        last_used=s.last_used.at[:n].set(jnp.asarray(last_used, jnp.int32)),
        clock=jnp.asarray(clock, jnp.int32),
    )
    return ls, s


def test_sampling_frequencies_chi_square():
    scores = [0.3, 2.0, 0.3, 1.0, -1.0, 0.7]
    ls, s = _filled_state(scores, [0, 5, 9, 2, 0, 7], 10)
    p = LevelSamplerParams(staleness_coef=0.3, temperature=0.5)
    # the formula, by hand: ranks by score desc, ties by slot: slots 1,3,5,0,2,4
    rank = np.array([4, 1, 5, 2, 6, 3], float)
    h = rank ** (-1 / 0.5)
    stale = 10 - np.array([0, 5, 9, 2, 0, 7], float)
    expected = 0.7 * h / h.sum() + 0.3 * stale / stale.sum()
    w = np.asarray(jax.jit(ls.weights)(s, p))
    np.testing.assert_allclose(w[:6], expected, rtol=1e-5)
    assert np.all(w[6:] == 0)
    n = 20000
    s2, slots = jax.jit(ls.sample, static_argnums=3)(jax.random.key(42), s, p, n)
    counts = np.bincount(np.asarray(slots), minlength=8)
    assert counts[6:].sum() == 0
    chi2 = ((counts[:6] - n * expected) ** 2 / (n * expected)).sum()
    assert chi2 < sps.chi2.ppf(0.999, df=5), chi2
    # the same counts reject the temperature-as-division distribution (minimax's variant)
    sdiv = np.exp(np.array(scores) / 0.5)
    wrong = 0.7 * sdiv / sdiv.sum() + 0.3 * stale / stale.sum()
    chi2_wrong = ((counts[:6] - n * wrong) ** 2 / (n * wrong)).sum()
    assert chi2_wrong > sps.chi2.ppf(0.999, df=5)
    # sample advanced the clock by n and stamped the drawn slots with it
    assert int(s2.clock) == 10 + n
    assert np.all(np.asarray(s2.last_used)[np.unique(np.asarray(slots))] == 10 + n)


def test_temperature_is_a_power_and_nan_free():
    scores = jnp.array([3.0, 1.0, 2.0, 0.0])
    filled = jnp.array([True, True, True, False])
    w = np.asarray(rank_weights(scores, filled, 0.5))
    h = np.array([1.0, 1 / 3, 1 / 2]) ** 2
    np.testing.assert_allclose(w[:3], h / h.sum(), rtol=1e-6)
    assert w[3] == 0
    for t in (0.0, 1e-9, 1e-3):
        wt = np.asarray(rank_weights(scores, filled, t))
        assert np.all(np.isfinite(wt)) and abs(wt.sum() - 1) < 1e-6
        assert wt[0] == pytest.approx(1.0, abs=1e-3)
    eq = np.asarray(rank_weights(jnp.ones(4), jnp.ones(4, bool), 1e-9))
    assert np.all(np.isfinite(eq)) and eq[0] == pytest.approx(1.0)
    assert np.all(np.asarray(rank_weights(jnp.zeros(4), jnp.zeros(4, bool), 0.3)) == 0)


def test_score_ranks_ties_by_slot_and_nan():
    s = jnp.array([1.0, jnp.nan, 1.0, -jnp.inf, 5.0, 1.0])
    f = jnp.array([True, True, True, True, True, False])
    np.testing.assert_array_equal(np.asarray(score_ranks(s, f)), [2, 4, 3, 5, 1, 6])


def test_duplicates_within_batch_and_vs_buffer():
    ls = make_level_sampler(LevelSamplerConfig(capacity=6, duplicate_check=True))
    s = ls.init(jnp.zeros(6, jnp.int32))
    ins = jax.jit(ls.insert)
    lv = jnp.asarray(np.stack([bits(v) for v in [3, 3, 5, 3]]))
    s, slots = ins(s, lv, jnp.array([1.0, 2.0, 0.5, 3.0]), jnp.array([0.0, 4, 0, 1]), PARAMS)
    assert int(s.filled.sum()) == 2
    sl = np.asarray(slots)
    assert sl[0] == sl[1] == sl[3] != sl[2]
    assert float(s.scores[sl[0]]) == pytest.approx(2.0)  # mean of the three copies
    assert float(s.extras.max_return[sl[0]]) == 4.0
    # a stored copy is refreshed, not inserted
    s, slots2 = ins(s, lv[:1], jnp.array([-1.0]), jnp.array([9.0]), PARAMS)
    assert int(s.filled.sum()) == 2 and int(slots2[0]) == sl[0]
    assert float(s.scores[sl[0]]) == -1.0 and float(s.extras.max_return[sl[0]]) == 9.0


def test_full_buffer_replaces_lowest_weight_only_if_higher():
    ls, s = _filled_state([0.3, 2.0, 0.3, 1.0], [0, 0, 0, 0], 0)
    s = s.replace(filled=s.filled.at[4:].set(True), scores=s.scores.at[4:].set(5.0))
    s = s.replace(levels=s.levels.at[4].set(bits(40)).at[5].set(bits(41)))
    p = LevelSamplerParams(staleness_coef=0.0, temperature=1.0)
    ins = jax.jit(ls.insert)
    # lowest weight = worst rank = slot 2 (0.3, later slot than slot 0)
    s2, sl = ins(s, jnp.asarray(bits(60))[None], jnp.array([0.2]), jnp.zeros(1), p)
    assert int(sl[0]) == -1 and np.array_equal(np.asarray(s2.levels), np.asarray(s.levels))
    s3, sl = ins(s, jnp.asarray(bits(60))[None], jnp.array([0.31]), jnp.zeros(1), p)
    assert int(sl[0]) == 2 and float(s3.scores[2]) == pytest.approx(0.31)


def test_should_replay_respects_min_fill():
    ls, s = _filled_state([1.0, 2.0], [0, 0], 0)  # 2 of 4 slots
    keys = jax.random.split(jax.random.key(0), 200)
    dec = jax.jit(lambda p: jax.vmap(lambda k: ls.should_replay(k, s, p))(keys))
    assert not np.asarray(dec(LevelSamplerParams(replay_prob=1.0, min_fill=0.75))).any()
    assert np.asarray(dec(LevelSamplerParams(replay_prob=1.0, min_fill=0.5))).all()
    frac = np.asarray(dec(LevelSamplerParams(replay_prob=0.5, min_fill=0.0))).mean()
    assert 0.35 < frac < 0.65
    empty = ls.init(jnp.zeros(6, jnp.int32))
    assert not bool(
        ls.should_replay(keys[0], empty, LevelSamplerParams(min_fill=0.0, replay_prob=1.0))
    )
