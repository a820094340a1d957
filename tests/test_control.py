"""``ued.control.run_if``: lax.cond's result, but under vmap the function runs only when a
lane needs it (the periodic refresh of SFL and NCC in seed-vmapped runs)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ued.control import run_if


def _fn(calls):
    def fn(x):
        jax.debug.callback(lambda: calls.append(1))
        return {"a": x["a"] * 2.0 + 1.0, "n": x["n"] + 1}

    return fn


def _x(n=None):
    a = jnp.arange(3.0) if n is None else jnp.arange(3.0 * n).reshape(n, 3)
    return {"a": a, "n": jnp.zeros(() if n is None else (n,), jnp.int32)}


def test_equals_cond_under_jit_and_scan():
    calls = []
    fn = _fn(calls)
    for pred in (True, False):
        got = jax.jit(lambda p, x: run_if(p, fn, x))(pred, _x())
        want = jax.lax.cond(pred, fn, lambda x: x, _x())
        jax.tree.map(np.testing.assert_array_equal, got, want)

    def step(x, p):
        return run_if(p, fn, x), x["n"]

    preds = jnp.array([True, False, False, True])
    out, ns = jax.lax.scan(step, _x(), preds)
    np.testing.assert_array_equal(ns, [0, 1, 1, 1])
    assert int(out["n"]) == 2


def test_under_vmap_runs_only_when_a_lane_needs_it():
    calls = []
    f = jax.jit(jax.vmap(lambda p, x: run_if(p, _fn(calls), x)))
    x = _x(4)
    out = jax.block_until_ready(f(jnp.zeros(4, bool), x))
    jax.effects_barrier()
    assert calls == []  # no lane's predicate holds: the function never ran
    jax.tree.map(np.testing.assert_array_equal, out, x)
    pred = jnp.array([True, False, True, False])
    out = jax.block_until_ready(f(pred, x))
    jax.effects_barrier()
    assert len(calls) >= 1
    np.testing.assert_array_equal(out["n"], [1, 0, 1, 0])
    np.testing.assert_array_equal(out["a"][1], x["a"][1])
    np.testing.assert_array_equal(out["a"][0], x["a"][0] * 2.0 + 1.0)
    # lax.cond under vmap evaluates the function even when no lane needs it
    calls.clear()
    g = jax.jit(jax.vmap(lambda p, x: jax.lax.cond(p, _fn(calls), lambda y: y, x)))
    jax.block_until_ready(g(jnp.zeros(4, bool), x))
    jax.effects_barrier()
    assert calls != []


def _entry(hlo: str) -> str:
    start = hlo.index("ENTRY")
    return hlo[start:hlo.index("\n}", start)]


def test_work_on_the_operand_is_not_hoisted_out_of_the_loop():
    # XLA moves loop-invariant work before a loop, where it runs whether or not the loop does:
    # a value fn only passes through would be invariant without the barrier in run_if
    def fn(x):
        s, m = x
        return s + jnp.dot(m, m.T).sum(), m

    f = jax.jit(lambda p, s, m: run_if(p, fn, (s, m))[0])
    m = jnp.ones((37, 41), jnp.float32)
    hlo = f.lower(True, jnp.float32(0.0), m).compile().as_text()
    assert "f32[37,37]" in hlo and "f32[37,37]" not in _entry(hlo)
    assert float(f(False, jnp.float32(0.0), m)) == 0.0
    assert float(f(True, jnp.float32(0.0), m)) == 37 * 37 * 41


def test_work_on_the_args_is_not_hoisted_out_of_the_loop():
    # args pass through the loop unchanged: without the barrier they are invariant
    f = jax.jit(lambda p, s, m: run_if(p, lambda x, a: x + jnp.dot(a, a.T).sum(), s, m))
    m = jnp.ones((37, 41), jnp.float32)
    hlo = f.lower(True, jnp.float32(0.0), m).compile().as_text()
    assert "f32[37,37]" in hlo and "f32[37,37]" not in _entry(hlo)
    assert float(f(False, jnp.float32(0.0), m)) == 0.0
    assert float(f(True, jnp.float32(0.0), m)) == 37 * 37 * 41
