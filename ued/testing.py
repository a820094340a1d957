"""Conformance kit: check a level space or an environment the way every curriculum will use it.

``check_level_space(space)`` and ``check_env(env, space)`` raise ``AssertionError`` naming the
first property that fails, so a notebook user learns at once what to fix. Host-only (they call
``jax.jit`` themselves).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ued.level_space import LevelSpace
from ued.wrappers import AutoReplay


def _fail(prop: str, detail: str) -> None:
    raise AssertionError(f"[{prop}] {detail}")


def _sig(tree: Any) -> list[tuple[str, tuple[int, ...], str, bool]]:
    """(path, shape, dtype, weak_type) of every leaf."""
    out = []
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        aval = jax.typeof(leaf) if isinstance(leaf, jax.Array) else None
        weak = bool(getattr(aval, "weak_type", False))
        out.append(
            (jax.tree_util.keystr(path), tuple(np.shape(leaf)), str(jnp.result_type(leaf)), weak)
        )
    return out


def _same_structure(prop: str, ref: Any, got: Any, what: str, check_weak: bool = False) -> None:
    if jax.tree.structure(ref) != jax.tree.structure(got):
        _fail(
            prop, f"{what}: pytree structure {jax.tree.structure(got)} != {jax.tree.structure(ref)}"
        )
    for (p, s0, d0, w0), (_, s1, d1, w1) in zip(_sig(ref), _sig(got), strict=True):
        if s0 != s1 or d0 != d1:
            _fail(
                prop, f"{what}: leaf {p} has shape {s1} dtype {d1}, expected shape {s0} dtype {d0}"
            )
        if check_weak and w1 and not w0:
            _fail(prop, f"{what}: leaf {p} is weakly typed (causes retraces); cast it explicitly")


def _tree_equal(a: Any, b: Any) -> bool:
    return all(
        np.array_equal(
            np.asarray(x), np.asarray(y), equal_nan=np.issubdtype(np.asarray(x).dtype, np.floating)
        )
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def _index(tree: Any, i: int) -> Any:
    return jax.tree.map(lambda x: x[i], tree)


def _check_finite(prop: str, tree: Any, what: str) -> None:
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        arr = np.asarray(leaf)
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            _fail(prop, f"{what}: leaf {jax.tree_util.keystr(path)} has non-finite values")


class _TraceCounter:
    def __init__(self, fn):
        self.fn = fn
        self.count = 0

    def __call__(self, *args):
        self.count += 1
        return self.fn(*args)


def check_level_space(space: LevelSpace, key: jax.Array | None = None, n: int = 8) -> None:
    """Check ``space`` under jit, vmap and ``lax.scan``; raise ``AssertionError`` on the first failure.

    Checked, in order: placeholder is a pytree of arrays; ``sample`` output matches the
    placeholder's shapes and dtypes; same key gives the same level and ``n`` different keys do not
    all give the same one; vmap and scan agree with single calls; no retrace on a second call;
    sampled levels are valid; ``mutate`` keeps shapes and dtypes (no weak types), is deterministic,
    keeps levels valid over repeated edits, and works under vmap and scan; floating leaves are
    finite; ``render`` gives (H, W, 3) uint8; ``descriptor`` gives a finite float vector.
    """
    if not isinstance(space, LevelSpace):
        _fail("type", f"expected a ued.LevelSpace, got {type(space).__name__}")
    key = jax.random.key(0) if key is None else key
    ph = space.placeholder
    for path, leaf in jax.tree_util.tree_leaves_with_path(ph):
        if not hasattr(leaf, "shape") or not hasattr(leaf, "dtype"):
            _fail("placeholder", f"leaf {jax.tree_util.keystr(path)} is not an array: {type(leaf)}")

    sample = _TraceCounter(space.sample)
    sample_j = jax.jit(sample)
    keys = jax.random.split(key, n)
    lvl = sample_j(keys[0])
    _same_structure("sample shapes/dtypes", ph, lvl, "sample(key)", check_weak=True)
    _check_finite("finite", lvl, "sample(key)")
    if not _tree_equal(lvl, sample_j(keys[0])):
        _fail("determinism", "sample(key) gave different levels for the same key")
    singles = [sample_j(k) for k in keys]
    if sample.count != 1:
        _fail("no retrace", f"jit(sample) traced {sample.count} times for same-shaped keys")
    if all(_tree_equal(singles[0], s) for s in singles[1:]):
        _fail("key dependence", f"sample gave the same level for {n} different keys (key ignored?)")
    batch = jax.jit(jax.vmap(space.sample))(keys)
    for i in range(n):
        _same_structure("vmap", ph, _index(batch, i), "vmap(sample)")
        if not _tree_equal(_index(batch, i), singles[i]):
            _fail("vmap", f"vmap(sample)(keys)[{i}] differs from sample(keys[{i}])")
    scanned = jax.jit(lambda ks: jax.lax.scan(lambda c, k: (c, space.sample(k)), 0, ks)[1])(keys)
    if not _tree_equal(scanned, batch):
        _fail("lax.scan", "lax.scan over sample differs from vmap(sample)")

    if space.is_valid is not None:
        valid = jax.jit(jax.vmap(space.is_valid))(batch)
        if valid.shape != (n,) or valid.dtype != jnp.bool_:
            _fail(
                "is_valid",
                f"is_valid must return a bool scalar, got {valid.dtype}{valid.shape[1:]}",
            )
        if not bool(jnp.all(valid)):
            _fail("is_valid", "sample produced levels that is_valid rejects")

    if space.mutate is not None:
        mut = _TraceCounter(space.mutate)
        mut_j = jax.jit(mut)
        k_m = jax.random.split(jax.random.fold_in(key, 1), 16)
        child = mut_j(k_m[0], singles[0])
        _same_structure("mutate shapes/dtypes", ph, child, "mutate(key, level)", check_weak=True)
        _check_finite("finite", child, "mutate(key, level)")
        if not _tree_equal(child, mut_j(k_m[0], singles[0])):
            _fail("mutate determinism", "mutate(key, level) differs for the same key")
        cur = child
        for k in k_m[1:]:
            cur = mut_j(k, cur)  # feeding the output back must not retrace
        if mut.count != 1:
            _fail(
                "no retrace",
                f"jit(mutate) traced {mut.count} times (output type differs from input?)",
            )
        if space.is_valid is not None and not bool(space.is_valid(cur)):
            _fail("validity after mutate", "15 successive mutations produced an invalid level")
        vm = jax.jit(jax.vmap(space.mutate))(jax.random.split(k_m[0], n), batch)
        _same_structure("mutate vmap", batch, vm, "vmap(mutate)")
        if space.is_valid is not None and not bool(jnp.all(jax.vmap(space.is_valid)(vm))):
            _fail("validity after mutate", "vmap(mutate) produced invalid levels")
        sc = jax.jit(
            lambda k, lv: jax.lax.scan(
                lambda c, kk: (space.mutate(kk, c), None), lv, jax.random.split(k, 4)
            )[0]
        )(k_m[0], singles[0])
        _same_structure("mutate lax.scan", ph, sc, "scan(mutate)")

    if space.render is not None:
        img = jax.jit(space.render)(singles[0])
        if img.ndim != 3 or img.shape[-1] != 3 or img.dtype != jnp.uint8:
            _fail(
                "render", f"render must return (H, W, 3) uint8, got {img.dtype}{tuple(img.shape)}"
            )
        imgs = jax.jit(jax.vmap(space.render))(batch)
        if imgs.shape != (n,) + img.shape:
            _fail("render", f"vmap(render) shape {imgs.shape} != {(n,) + img.shape}")

    if space.descriptor is not None:
        d = jax.jit(jax.vmap(space.descriptor))(batch)
        if d.ndim != 2 or not jnp.issubdtype(d.dtype, jnp.floating):
            _fail(
                "descriptor",
                f"descriptor must return a float vector, got {d.dtype}{tuple(d.shape[1:])}",
            )
        _check_finite("descriptor", d, "descriptor(level)")
        if space.descriptor_names is not None and len(space.descriptor_names) != d.shape[1]:
            _fail(
                "descriptor",
                f"{len(space.descriptor_names)} descriptor_names for {d.shape[1]} features",
            )

    if space.optimal_return is not None:
        r = jax.jit(jax.vmap(space.optimal_return))(batch)
        if r.shape != (n,) or not jnp.issubdtype(r.dtype, jnp.floating):
            _fail(
                "optimal_return",
                f"optimal_return must return a float scalar, got {r.dtype}{r.shape[1:]}",
            )


def check_env(
    env: Any,
    space: LevelSpace,
    params: Any = None,
    key: jax.Array | None = None,
    n_envs: int = 4,
    n_steps: int = 32,
) -> None:
    """Check an environment against the contract, on levels from ``space``.

    Checked: ``reset_to_level`` and ``step`` under jit and vmap, a ``lax.scan`` of ``n_steps`` with
    random actions through ``AutoReplay``; observation shapes and dtypes are the same at reset and
    after every step; state keeps its structure and dtypes (no weak types); reward is a float
    scalar, terminated and truncated are bool scalars; outputs are finite; determinism by key; no
    retrace on a second call.
    """
    key = jax.random.key(0) if key is None else key
    params = env.default_params if params is None else params
    k_lvl, k_reset, k_run = jax.random.split(key, 3)
    levels = space.sample_batch(k_lvl, n_envs)
    level0 = _index(levels, 0)
    aspace = env.action_space(params)

    reset = jax.jit(env.reset_to_level)
    obs, state = reset(k_reset, level0, params)
    obs2, state2 = reset(k_reset, level0, params)
    if not (_tree_equal(obs, obs2) and _tree_equal(state, state2)):
        _fail("reset determinism", "reset_to_level gave different results for the same key")
    _check_finite("finite", obs, "reset observation")

    step_c = _TraceCounter(env.step)
    step = jax.jit(step_c)
    act = aspace.sample(jax.random.key(1))
    out = step(jax.random.key(2), state, act, params)
    if len(out) != 6:
        _fail(
            "step signature",
            f"step must return 6 values (obs, state, reward, terminated, truncated, info), got {len(out)}",
        )
    o, s, r, term, trunc, info = out
    _same_structure("obs shapes/dtypes", obs, o, "step observation vs reset observation")
    _same_structure(
        "state shapes/dtypes", state, s, "state after step vs after reset", check_weak=True
    )
    if jnp.shape(r) != () or not jnp.issubdtype(jnp.result_type(r), jnp.floating):
        _fail("reward", f"reward must be a float scalar, got {jnp.result_type(r)}{jnp.shape(r)}")
    for name, v in (("terminated", term), ("truncated", trunc)):
        if jnp.shape(v) != () or jnp.result_type(v) != jnp.bool_:
            _fail(name, f"{name} must be a bool scalar, got {jnp.result_type(v)}{jnp.shape(v)}")
    if not isinstance(info, dict):
        _fail("info", f"info must be a dict, got {type(info).__name__}")
    step(jax.random.key(3), s, act, params)
    if step_c.count != 1:
        _fail("no retrace", f"jit(step) traced {step_c.count} times when fed its own state")

    wrapped = AutoReplay(env)

    def run(key):
        keys = jax.random.split(key, n_envs)
        o0, s0 = jax.vmap(wrapped.reset_to_level, (0, 0, None))(keys, levels, params)

        def body(carry, k):
            o_, s_ = carry
            ka, ks = jax.random.split(k)
            a = jax.vmap(aspace.sample)(jax.random.split(ka, n_envs))
            o_, s_, r_, te, tr, _ = jax.vmap(wrapped.step, (0, 0, 0, None))(
                jax.random.split(ks, n_envs), s_, a, params
            )
            return (o_, s_), (o_, r_, te, tr)

        (_, sN), traj = jax.lax.scan(body, (o0, s0), jax.random.split(key, n_steps))
        return sN, traj

    run_j = jax.jit(run)
    sN, traj = run_j(k_run)
    sN2, traj2 = run_j(k_run)
    if not (_tree_equal(traj, traj2) and _tree_equal(sN, sN2)):
        _fail(
            "determinism", "a scanned, vmapped rollout differs between two runs with the same key"
        )
    _check_finite("finite", traj, "scanned rollout (obs, reward)")
    o_traj = traj[0]
    for i in range(n_steps):
        _same_structure(
            "obs under scan", obs, _index(_index(o_traj, i), 0), f"observation at step {i}"
        )


def check_aleatoric_space(space: LevelSpace, **kwargs: Any) -> None:
    """Check a level space's aleatoric extension (SAMPLR); see ``ued.aleatoric``.

    Raises ``AssertionError`` naming the first failing property (prior, history statistics,
    posterior-predictive sampler against the analytic posterior per history class, ...).
    """
    from ued.aleatoric import check_aleatoric_space as _check

    _check(space, **kwargs)
