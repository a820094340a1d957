"""Conformance kit: check a level space or an environment the way every curriculum will use it.

``check_level_space(space)``, ``check_env(env, space)`` and, for SAMPLR's aleatoric spaces,
``check_aleatoric_space(space)`` raise ``AssertionError`` naming the first property that fails,
so a notebook user learns at once what to fix. Host-only (they call ``jax.jit`` themselves).

``check_sample(space)`` is the kit's cheap part (tracing only, no compilation): ``sample``'s
shapes and dtypes against the placeholder, and whether its output depends on its key. The
curriculum factories and ``ued.make_train`` run it through
``ued.level_space.require_sample_conformance``, so a space that breaks it is rejected with the
kit's message before anything is built; both live next to ``LevelSpace`` (the runtime never
imports this kit) and are re-exported here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from ued.aleatoric.spec import AleatoricSpec, designable_equal, posterior_predictive
from ued.level_space import (  # noqa: F401 (the kit's cheap check, re-exported)
    LevelSpace,
    check_mutate,
    check_sample,
    require_mutate_conformance,
    require_sample_conformance,
)
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


def _jit_traced_once(fn: Callable[..., Any], retrace_detail: str) -> Callable[..., Any]:
    """``jax.jit(fn)`` that fails ``[no retrace] <retrace_detail>`` when it is traced a second time.

    The trace count is ``chex.assert_max_traces(n=1)``'s. chex keeps one process-wide table keyed by
    where the wrapper is made and its source, which is the same for every space checked from the
    same place, so the table is cleared here: each check starts from zero. This also resets the
    counts of any other ``chex.assert_max_traces`` wrappers in the process, and
    ``chex.disable_asserts()`` turns this check off. ``fn`` is wrapped in a local function first,
    so an already-jitted function or a ``functools.partial`` is accepted.
    """
    chex.clear_trace_counter()

    def traced_by_ued_testing(*args):
        return fn(*args)

    jitted = jax.jit(chex.assert_max_traces(traced_by_ued_testing, n=1))

    def call(*args):
        try:
            return jitted(*args)
        except AssertionError as e:
            if "Function 'traced_by_ued_testing' is traced >" not in str(e):
                raise  # the user's own assertion, not this trace count
            _fail("no retrace", retrace_detail)

    return call


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

    sample_j = _jit_traced_once(
        space.sample,
        "jit(sample) was traced again for a key of the same shape and dtype, so every call "
        "recompiles (does sample change JAX's trace context, e.g. jax.config, as a side effect?)",
    )
    keys = jax.random.split(key, n)
    lvl = sample_j(keys[0])
    _same_structure("sample shapes/dtypes", ph, lvl, "sample(key)", check_weak=True)
    _check_finite("finite", lvl, "sample(key)")
    if not _tree_equal(lvl, sample_j(keys[0])):
        _fail("determinism", "sample(key) gave different levels for the same key")
    singles = [sample_j(k) for k in keys]
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
        mut_j = _jit_traced_once(
            space.mutate,
            "jit(mutate) was traced again when fed its own output (does the output's type, "
            "weak type or pytree structure differ from the input level's?)",
        )
        k_m = jax.random.split(jax.random.fold_in(key, 1), 16)
        child = mut_j(k_m[0], singles[0])
        _same_structure("mutate shapes/dtypes", ph, child, "mutate(key, level)", check_weak=True)
        _check_finite("finite", child, "mutate(key, level)")
        if not _tree_equal(child, mut_j(k_m[0], singles[0])):
            _fail("mutate determinism", "mutate(key, level) differs for the same key")
        cur = child
        for k in k_m[1:]:
            cur = mut_j(k, cur)  # feeding the output back must not retrace
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


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:.6g}"


def _check_observations(env: Any, params: Any, obs: Any, batches: list[Any]) -> None:
    """``check_env``'s observation checks: the declared ``env.observation_space(params)`` (a
    pytree of ``Box`` / ``Discrete``) against one observation ``obs`` (structure, shapes) and
    against the values of ``obs`` and of ``batches`` (observations with leading batch axes).

    Without a declared space, an integer scalar observation taking values outside the default
    network's embedding (``NetworkConfig.num_embeddings``) gets a ``UserWarning``.
    """
    import warnings

    from ued.env import Box, Discrete
    from ued.networks import NetworkConfig

    is_space = lambda x: isinstance(x, Box | Discrete)
    obs_leaves = jax.tree_util.tree_leaves_with_path(obs)
    values = []  # per leaf: every observed value, leading axis = observations
    def flat(a, ref):
        # not reshape(-1, ...): a leaf may have size 0 (an empty noise vector)
        a = np.asarray(a)
        lead = int(np.prod(a.shape[: a.ndim - np.ndim(ref)]))
        return a.reshape((lead,) + np.shape(ref))

    for i, (_, ref) in enumerate(obs_leaves):
        parts = [flat(jax.tree.leaves(b)[i], ref) for b in batches]
        values.append(np.concatenate([np.asarray(ref)[None], *parts]))
    try:
        declared = env.observation_space(params)
    except NotImplementedError:
        declared = None
    if declared is None:
        size = NetworkConfig().num_embeddings
        for (path, ref), v in zip(obs_leaves, values, strict=True):
            if np.ndim(ref) == 0 and np.issubdtype(np.asarray(ref).dtype, np.integer) and v.size:
                if v.min() < 0 or v.max() >= size:
                    warnings.warn(
                        f"check_env: observation leaf {jax.tree_util.keystr(path) or '(obs)'} is "
                        f"an integer scalar taking values in [{v.min()}, {v.max()}] and the env "
                        "declares no observation_space: ued.networks embeds integer scalars in "
                        f"NetworkConfig.num_embeddings={size} entries (values 0..{size - 1}; the "
                        "rest are clipped), so declare observation_space (e.g. ued.Discrete(n)) "
                        "and build the student with make_actor_critic(..., observation_space=...)",
                        stacklevel=3,
                    )
        return
    sp_struct = jax.tree.structure(declared, is_leaf=is_space)
    if sp_struct != jax.tree.structure(obs):
        _fail(
            "observation space",
            f"env.observation_space() has pytree structure {sp_struct} but observations have "
            f"{jax.tree.structure(obs)}",
        )
    spaces = jax.tree.leaves(declared, is_leaf=is_space)
    for (path, ref), sp, v in zip(obs_leaves, spaces, values, strict=True):
        name = jax.tree_util.keystr(path) or "(the observation)"
        if not is_space(sp):
            _fail(
                "observation space",
                f"leaf {name}: observation_space must hold ued.Box / ued.Discrete, got "
                f"{type(sp).__name__}",
            )
        want = tuple(sp.shape)
        if tuple(np.shape(ref)) != want:
            _fail(
                "observation space",
                f"leaf {name} has shape {tuple(np.shape(ref))} but env.observation_space() "
                f"declares shape {want} ({sp})",
            )
        if isinstance(sp, Discrete):
            lo = np.zeros(want)
            hi = np.full(want, sp.n - 1)
        else:
            lo = np.broadcast_to(np.asarray(sp.low, np.float64), want)
            hi = np.broadcast_to(np.asarray(sp.high, np.float64), want)
        vf = v.astype(np.float64)
        bad = (vf < lo) | (vf > hi)
        if v.size and bad.any():
            _fail(
                "observation range",
                f"leaf {name} takes values in [{_fmt_num(vf.min())}, {_fmt_num(vf.max())}] in a "
                f"rollout but env.observation_space() declares {sp}: values in "
                f"[{_fmt_num(lo.min())}, {_fmt_num(hi.max())}] ({int(bad.sum())} of "
                f"{bad.size} values outside)",
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
    retrace on a second call; where the env declares ``observation_space(params)`` (a pytree of
    ``Box`` / ``Discrete``), the observations have its structure and shapes and every value of
    the rollout lies in its declared range (a failure names the leaf, the observed range and the
    declared one). Without a declared space, an integer scalar observation outside the default
    network's embedding (``NetworkConfig.num_embeddings``) gets a ``UserWarning``.
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

    step = _jit_traced_once(
        env.step,
        "jit(step) was traced again when fed its own state (does the state's type, weak type "
        "or pytree structure change after a step?)",
    )
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
    step(jax.random.key(3), s, act, params)  # fed its own state: must not retrace

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
        return sN, traj, o0

    run_j = jax.jit(run)
    sN, traj, o_reset = run_j(k_run)
    sN2, traj2, _ = run_j(k_run)
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
    _check_observations(env, params, obs, [o_reset, o_traj])


def check_aleatoric_space(
    space: LevelSpace,
    key: jax.Array | None = None,
    n: int = 8,
    num_draws: int = 20_000,
    tol: float = 0.02,
) -> None:
    """Check the SAMPLR extension of ``space`` (see ``ued.aleatoric``); raise ``AssertionError``
    naming the first failing property.

    Checked, in order: ``space.aleatoric`` is an :class:`ued.aleatoric.AleatoricSpec` whose
    ``names`` are fields of the placeholder; ``prior_sample`` keeps shapes/dtypes, is deterministic by key,
    depends on the key, changes only aleatoric fields, keeps levels valid and agrees under jit,
    vmap and ``lax.scan``; ``history_stats`` of a reset state is a finite float32[S]
    (jit, vmap); ``predictive_prob`` lies in [0, 1] for every history class;
    ``posterior_sample`` keeps designable fields and the share of its draws' outcome-one
    probability matches ``predictive_prob`` within ``tol`` per history class (``num_draws``
    draws); draws of :func:`posterior_predictive` match it too; ``condition_state`` keeps the
    state's structure and its statistics; ``episode_events`` has consistent (N, S) / (N,) shapes
    and its outcomes' frequency given the first event's history matches ``predictive_prob``.
    """
    spec = getattr(space, "aleatoric", None)
    if not isinstance(spec, AleatoricSpec):
        _fail("spec", f"space.aleatoric must be an AleatoricSpec, got {type(spec).__name__}")
    key = jax.random.key(0) if key is None else key
    ph = space.placeholder
    fields = {f.name for f in dataclasses.fields(ph)}
    for name in spec.names:
        if name not in fields:
            _fail("names", f"aleatoric field {name!r} is not a field of the level {sorted(fields)}")
    # Everything below runs as a few jitted programs; comparisons happen in NumPy (eager JAX
    # ops would each compile a kernel).
    keys = jax.random.split(key, 8)
    levels = jax.jit(lambda k: jax.vmap(space.sample)(jax.random.split(k, n)))(keys[0])
    lv_np = jax.device_get(levels)
    one = _index(lv_np, 0)

    # prior_sample: shapes, determinism, key dependence, designable fields, validity, vmap/scan
    ps = jax.jit(spec.prior_sample)
    a = ps(keys[1], one)
    if jax.tree.structure(a) != jax.tree.structure(ph) or any(
        x.shape != y.shape or x.dtype != y.dtype
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(ph), strict=True)
    ):
        _fail("prior_sample shapes/dtypes", "prior_sample(key, level) changed shapes or dtypes")
    if not _tree_equal(a, ps(keys[1], one)):
        _fail("prior_sample determinism", "same key gave different draws")
    pkeys = jax.random.split(keys[2], n)

    @jax.jit
    def prior_props(ks, lvls, lvl):
        draws = jax.vmap(spec.prior_sample, in_axes=(0, None))(ks, lvl)
        same = jax.vmap(lambda d: designable_equal(spec, d, lvl))(draws)
        valid = jax.vmap(space.is_valid)(draws) if space.is_valid is not None else jnp.ones(n, bool)
        vm = jax.vmap(spec.prior_sample)(ks, lvls)
        sc = jax.lax.scan(lambda c, x: (c, spec.prior_sample(x[0], x[1])), 0, (ks, lvls))[1]
        return draws, same, valid, vm, sc

    draws, same, valid, vm, sc = jax.device_get(prior_props(pkeys, levels, one))
    if all(_tree_equal(_index(draws, 0), _index(draws, i)) for i in range(1, n)):
        _fail("prior_sample key dependence", f"{n} keys gave the same aleatoric draw")
    if not np.all(same):
        _fail("prior_sample designable", "prior_sample changed a designable (non-aleatoric) field")
    if not np.all(valid):
        _fail("prior_sample validity", "prior_sample produced invalid levels")
    if not _tree_equal(vm, sc):
        _fail("prior_sample lax.scan", "scan over prior_sample differs from vmap")
    if not _tree_equal(_index(vm, n - 1), ps(pkeys[n - 1], _index(lv_np, n - 1))):
        _fail("prior_sample vmap", f"vmap(prior_sample)[{n - 1}] differs from a single call")

    # history_stats on reset states; condition_state keeps structure and statistics
    env = spec.env
    params = env.default_params

    @jax.jit
    def stats_props(ks, lvls, k):
        _, st = jax.vmap(env.reset_to_level, in_axes=(0, 0, None))(ks, lvls, params)
        hs = jax.vmap(spec.history_stats)(st)
        st0 = jax.tree.map(lambda x: x[0], st)
        st1 = spec.condition_state(k, st0, jnp.float32(0.5))
        return hs, spec.history_stats(st0), st0, st1, spec.history_stats(st1)

    hs, hs0, st0, st1, hs1 = jax.device_get(stats_props(pkeys, levels, keys[5]))
    s = len(spec.stat_names)
    if hs.shape != (n, s) or hs.dtype != np.float32:
        _fail("history_stats", f"expected float32[{s}] per state, got {hs.dtype}{hs.shape[1:]}")
    if not np.all(np.isfinite(hs)):
        _fail("history_stats", "non-finite statistics")
    if not np.array_equal(hs0, hs[0]):
        _fail("history_stats vmap", "vmap(history_stats) differs from a single call")
    if jax.tree.structure(st1) != jax.tree.structure(st0) or any(
        np.shape(x) != np.shape(y) or np.asarray(x).dtype != np.asarray(y).dtype
        for x, y in zip(jax.tree.leaves(st1), jax.tree.leaves(st0), strict=True)
    ):
        _fail("condition_state", "changed the env state's structure, shapes or dtypes")
    if not np.array_equal(hs1, hs0):
        _fail("condition_state", "changed history_stats (it may only rewrite hidden values)")

    # prior mean, posterior samplers per history class, episode events: one program
    hc = jnp.asarray(spec.history_classes, jnp.float32)
    nc = hc.shape[0]

    def per_class(k, lvl, h):
        ks = jax.random.split(k, num_draws)
        pred = spec.predictive_prob(lvl, h)
        post = jax.vmap(spec.posterior_sample, in_axes=(0, None, None))(ks, lvl, h)
        keep = jnp.all(jax.vmap(lambda d: designable_equal(spec, d, lvl))(post))
        # parameter(level) is the outcome probability the draws imply, so its posterior mean
        # is the posterior predictive
        mean_param = jnp.mean(jax.vmap(spec.parameter)(post))
        outs = jax.vmap(lambda kk: posterior_predictive(spec, kk, lvl, h))(
            jax.random.split(jax.random.fold_in(k, 1), num_draws)
        )
        return pred, keep, mean_param, jnp.mean(outs.astype(jnp.float32))

    @jax.jit
    def stochastic_props(k, lvl):
        k1, k2, k3 = jax.random.split(k, 3)
        prior = jax.vmap(spec.prior_sample, in_axes=(0, None))(jax.random.split(k1, num_draws), lvl)
        pm = jnp.mean(jax.vmap(spec.parameter)(prior))
        cls = jax.vmap(per_class, in_axes=(0, None, 0))(jax.random.split(k2, nc), lvl, hc)
        ev = jax.vmap(spec.episode_events, in_axes=(0, None))(jax.random.split(k3, num_draws), lvl)
        first_pred = jax.vmap(lambda h: spec.predictive_prob(lvl, h))(ev[0][:, 0])
        return pm, cls, ev, first_pred

    pm, (pp, keep, mpar, freq), (stats, out, mask), first_pred = jax.device_get(
        stochastic_props(keys[4], one)
    )
    if abs(float(pm) - spec.prior_mean) > tol:
        _fail(
            "prior mean",
            f"mean {spec.parameter_name} of prior draws {float(pm):.4f} != "
            f"declared prior_mean {spec.prior_mean:.4f} (tol {tol})",
        )
    if pp.shape != (nc,) or not np.all((pp >= 0) & (pp <= 1)):
        _fail("predictive_prob", f"must be a probability per class, got {pp}")
    for c, name in enumerate(spec.class_names):
        if not keep[c]:
            _fail("posterior_sample designable", f"class {name!r}: designable field changed")
        if abs(float(mpar[c]) - float(pp[c])) > tol:
            _fail(
                "posterior_sample",
                f"class {name!r}: mean of posterior draws "
                f"{float(mpar[c]):.4f} vs analytic posterior predictive {float(pp[c]):.4f} "
                f"(tol {tol})",
            )
        if abs(float(freq[c]) - float(pp[c])) > tol:
            _fail(
                "posterior_predictive",
                f"class {name!r}: outcome frequency "
                f"{float(freq[c]):.4f} vs {float(pp[c]):.4f} (tol {tol})",
            )
    if (
        stats.ndim != 3
        or stats.shape[2] != s
        or out.shape != stats.shape[:2]
        or (mask.shape != out.shape)
    ):
        _fail(
            "episode_events",
            f"shapes stats {stats.shape[1:]}, outcome {out.shape[1:]}, "
            f"mask {mask.shape[1:]}; expected (N, {s}), (N,), (N,)",
        )
    # first event of prior-drawn episodes: outcome frequency per history = predictive
    h0, o0, m0 = stats[:, 0], out[:, 0], mask[:, 0]
    for u in np.unique(h0[m0], axis=0):
        sel = m0 & np.all(h0 == u, axis=1)
        if sel.sum() < 2000:
            continue
        fr = float(o0[sel].mean())
        ref = float(first_pred[sel][0])
        if abs(fr - ref) > tol:
            _fail(
                "episode_events",
                f"first-event outcome frequency {fr:.4f} given history "
                f"{u.tolist()} vs predictive {ref:.4f}",
            )


def check_editable(space: LevelSpace, key: jax.Array | None = None, n: int = 16) -> None:
    """Check the editable fields of ``space`` (``ued.LevelSpace``: ``edit_empty``,
    ``num_edit_actions``, ``apply_edit``, ``num_edits``, ``edit_observation``) the way PAIRED's
    editor uses them; raise ``AssertionError`` naming the first property that fails. Host only.

    Checked, in order: the space is editable; ``edit_empty`` has the placeholder's structure,
    shapes and dtypes and is valid; ``apply_edit(level, action, step)`` under jit keeps them (no
    weak types), is deterministic and is not traced again when fed its own output; ``n`` random
    sequences of ``num_edits`` actions (uniform over ``0 .. num_edit_actions - 1``), run as a
    ``vmap`` of ``lax.scan``, all end in levels ``is_valid`` accepts ("valid" = well-formed;
    solvability is the curriculum's to measure), agree with step-by-step jitted calls, and are
    not all the same level; ``edit_observation`` is one array of the same shape and dtype for
    the empty and the edited levels, finite, and works under vmap.
    """
    if not isinstance(space, LevelSpace):
        _fail("type", f"expected a ued.LevelSpace, got {type(space).__name__}")
    if not space.editable:
        _fail(
            "editable",
            f"level space {space.name!r} defines no edit fields (edit_empty, num_edit_actions, "
            "apply_edit, num_edits, edit_observation)",
        )
    key = jax.random.key(0) if key is None else key
    ph, empty = space.placeholder, space.edit_empty
    n_act, n_edits = int(space.num_edit_actions), int(space.num_edits)
    _same_structure("edit_empty shapes/dtypes", ph, empty, "edit_empty", check_weak=True)
    _check_finite("finite", empty, "edit_empty")
    if space.is_valid is not None and not bool(jax.jit(space.is_valid)(empty)):
        _fail("edit_empty validity", "is_valid rejects edit_empty")

    edit_j = _jit_traced_once(
        space.apply_edit,
        "jit(apply_edit) was traced again when fed its own output (does the output's type, weak "
        "type or pytree structure differ from the input level's?)",
    )
    actions = np.asarray(
        jax.random.randint(key, (n, n_edits), 0, n_act, dtype=jnp.int32)
    )  # (n, num_edits)
    one = edit_j(empty, jnp.int32(actions[0, 0]), jnp.int32(0))
    _same_structure("apply_edit shapes/dtypes", ph, one, "apply_edit(level, a, t)", check_weak=True)
    if not _tree_equal(one, edit_j(empty, jnp.int32(actions[0, 0]), jnp.int32(0))):
        _fail("apply_edit determinism", "apply_edit gave different levels for the same inputs")
    stepwise = one
    for t in range(1, n_edits):  # fed its own output: must not retrace
        stepwise = edit_j(stepwise, jnp.int32(actions[0, t]), jnp.int32(t))
    _check_finite("finite", stepwise, "apply_edit after num_edits edits")

    def build(acts):
        def body(lvl, x):
            a, t = x
            return space.apply_edit(lvl, a, t), None

        steps = jnp.arange(n_edits, dtype=jnp.int32)
        return jax.lax.scan(body, empty, (acts, steps))[0]

    finals = jax.jit(jax.vmap(build))(jnp.asarray(actions))
    _same_structure("apply_edit vmap/scan", ph, _index(finals, 0), "vmap(scan(apply_edit))")
    if not _tree_equal(_index(finals, 0), stepwise):
        _fail(
            "apply_edit lax.scan",
            "a vmap of lax.scan over apply_edit differs from step-by-step jitted calls",
        )
    if not _tree_equal(finals, jax.jit(jax.vmap(build))(jnp.asarray(actions))):
        _fail("apply_edit determinism", "the same edit sequences built different levels")
    if space.is_valid is not None:
        valid = np.asarray(jax.jit(jax.vmap(space.is_valid))(finals))
        if not valid.all():
            bad = int(np.argmin(valid))
            _fail(
                "validity after edits",
                f"{int((~valid).sum())} of {n} random edit sequences ended in a level is_valid "
                f"rejects (e.g. actions {actions[bad].tolist()})",
            )
    if n > 1 and all(_tree_equal(_index(finals, 0), _index(finals, i)) for i in range(1, n)):
        _fail("edits have effect", f"{n} different random edit sequences built the same level")

    obs_e = jax.jit(space.edit_observation)(empty)
    obs_f = jax.jit(space.edit_observation)(stepwise)
    if len(jax.tree.leaves(obs_e)) != 1 or not hasattr(obs_e, "shape"):
        _fail("edit_observation", f"must return one array, got {type(obs_e).__name__}")
    _same_structure("edit_observation", obs_e, obs_f, "edit_observation of an edited level")
    _check_finite("edit_observation", obs_f, "edit_observation(level)")
    obs_v = jax.jit(jax.vmap(space.edit_observation))(finals)
    if obs_v.shape != (n,) + tuple(obs_e.shape) or obs_v.dtype != obs_e.dtype:
        _fail(
            "edit_observation vmap",
            f"vmap(edit_observation) gave {obs_v.dtype}{obs_v.shape}, expected "
            f"{obs_e.dtype}{(n,) + tuple(obs_e.shape)}",
        )
