"""Maze env throughput: env steps/s of jit(scan(vmap(step))) with random actions and auto-replay.

Usage::

    python benchmarks/env_throughput.py --num-envs 256 4096
    python benchmarks/env_throughput.py --num-envs 4096 --compare jaxued --json
    python benchmarks/env_throughput.py --num-envs 1024 --keydoor
    python benchmarks/env_throughput.py --num-envs 1024 4096 --xland

Each measurement compiles once (compile time reported separately), then times ``--repeats``
calls of a ``--num-steps``-step scan and reports the median. With ``--compare jaxued`` the two
implementations are timed alternately in the same process on the same levels and the same
random actions (7-action space for both; the same observation content: 5x5x3 uint8 view and
direction), and the ratio openued / jaxued is printed. With ``--keydoor`` a ``keydoor`` row
times the key-and-door maze (``envs.keydoor``, 13x13, its own generator's levels, uniform
random actions over its 4 actions), alternated with the Maze rows in the same way. With
``--xland`` (needs ``pip install 'openued[xland]'``) two more rows time XLand-MiniGrid on the
same 9x9 rulesets (``envs.xland``'s generator, depth 1) and the same uniform random actions over
its 6 actions: ``xland-pkg``, the package's own env driven directly (its ``reset`` / ``step``
under its ``GymAutoResetWrapper``, the ruleset per env in its params, objects re-placed at random
on each reset), and ``xland``, the toolkit's adapter (``envs.xland.XLandEnv`` under
``ued.AutoReplay``, observations ``view`` + ``goal`` + ``pocket``); the ratio
``xland-pkg / xland`` (the adapter's overhead) is printed.
random actions over its 4 actions), alternated with the Maze rows in the same way.

With ``--craftax`` (needs ``pip install 'openued[craftax]'``) only Craftax-Classic is timed, two
rows alternated on the same worlds (the package's generator on the same keys) and the same
uniform random actions over its 17: ``craftax-package``, the package's own
``CraftaxClassicSymbolicEnv.step`` (its auto-reset draws a fresh world when an episode ends),
``craftax-package-noreset``, the package's ``CraftaxClassicSymbolicEnvNoAutoReset.step`` (no
reset at all), and ``craftax-openued``, ``envs.craftax.CraftaxEnv`` through the toolkit's
contract under ``ued.AutoReplay`` (an ended episode restarts its level, without regenerating
it). The package's auto-reset computes a new world on every step (a select keeps it only where
an episode ended), so the first ratio is mostly that; openued / no-reset is the adapter's
overhead (below 1: slower). All consume the symbolic observation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp

import ued
from envs.keydoor import KeyDoorConfig, KeyDoorEnv, make_keydoor_space
from envs.maze import MazeConfig, MazeEnv, make_maze_space


def _import_jaxued():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _jaxued import jaxued_module

    maze = jaxued_module("jaxued.environments.maze")
    wrappers = jaxued_module("jaxued.wrappers")
    return maze.Level, maze.Maze, wrappers.AutoReplayWrapper


def _machine() -> str:
    """The device, and for CPUs the model name and core count."""
    device = jax.devices()[0]
    if device.platform != "cpu":
        return f"{device.platform}: {device.device_kind}"
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    return f"cpu: {model}, {os.cpu_count()} cores"


def _make_rollout(env, key_fn):
    """jit(scan(vmap(step))) over the steps of ``actions`` (int32[num_steps, num_envs]).

    The uniform random actions are drawn once, outside the timed call, and are the same for
    every implementation, so the timing is of the environments, not of the action RNG. Each
    step gets a fresh per-env key (split inside the scan), as a training rollout would.
    """
    params = env.default_params

    def one_step(carry, actions):
        state, key = carry
        key, k_step = jax.random.split(key)
        keys = key_fn(k_step, actions.shape[0])
        out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, actions, params)
        obs, state, reward = out[0], out[1], out[2]
        # Consume the observation so it is not dead code.
        checksum = jnp.sum(reward) + jnp.sum(obs.image.astype(jnp.float32)[:, :, :, 0])
        return (state, key), checksum

    def rollout(state, key, actions):
        (state, key), cs = jax.lax.scan(one_step, (state, key), actions)
        return state, key, jnp.sum(cs)

    return jax.jit(rollout)


def _xland_setup(impl: str, num_envs: int, actions):
    """Compiled rollout of XLand (``xland-pkg``: the package's env driven directly; ``xland``:
    the toolkit's adapter) on the same rulesets and actions; ``(compiled, args, compile_s)``."""
    from xminigrid.envs.xland import XLandMiniGrid
    from xminigrid.types import RuleSet
    from xminigrid.wrappers import GymAutoResetWrapper

    from envs.xland import XLandConfig, XLandEnv, make_xland_space

    cfg = XLandConfig()
    levels = jax.jit(make_xland_space(cfg).sample_batch, static_argnums=1)(
        jax.random.key(42), num_envs
    )
    key = jax.random.key(1)
    if impl == "xland-pkg":
        env = GymAutoResetWrapper(XLandMiniGrid())
        params = env.default_params(grid_type="R1", height=cfg.size, width=cfg.size,
                                    view_size=cfg.view_size, max_steps=cfg.max_steps)  # fmt: skip
        rulesets = RuleSet(goal=levels.goal, rules=levels.rules, init_tiles=levels.init_tiles)
        params = params.replace(ruleset=rulesets)
        ts = jax.jit(jax.vmap(env.reset))(params, jax.random.split(jax.random.key(0), num_envs))

        def one_step(ts, a):
            ts = jax.vmap(env.step)(params, ts, a)
            return ts, jnp.sum(ts.reward) + jnp.sum(ts.observation.astype(jnp.float32)[..., 0])

        def rollout(ts, key, actions):
            ts, cs = jax.lax.scan(one_step, ts, actions)
            return ts, key, jnp.sum(cs)

        state = ts
    else:
        env = ued.AutoReplay(XLandEnv(cfg))
        p = env.default_params
        reset_keys = jax.random.split(jax.random.key(0), num_envs)
        _, state = jax.jit(jax.vmap(env.reset_to_level, in_axes=(0, 0, None)))(
            reset_keys, levels, p
        )

        def one_step(carry, a):
            state, key = carry
            key, k_step = jax.random.split(key)
            keys = jax.random.split(k_step, a.shape[0])
            obs, state, reward, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, a, p)
            cs = jnp.sum(reward) + jnp.sum(obs["view"].astype(jnp.float32)[..., 0])
            return (state, key), cs + jnp.sum(obs["goal"]) + jnp.sum(obs["pocket"])

        def rollout(state, key, actions):
            (state, key), cs = jax.lax.scan(one_step, (state, key), actions)
            return state, key, jnp.sum(cs)

    fn = jax.jit(rollout)
    t0 = time.perf_counter()
    compiled = fn.lower(state, key, actions).compile()
    compile_s = time.perf_counter() - t0
    args = (state, key, actions)
    jax.block_until_ready(compiled(*args))
    return compiled, args, compile_s


def _setup(impl: str, num_envs: int, levels, actions):
    params_key = jax.random.key(0)
    if impl == "openued":
        env = ued.AutoReplay(MazeEnv(MazeConfig(n_actions=7)))
        lv = levels
        key_fn = lambda k, n: jax.random.split(k, n)
        reset_keys = jax.random.split(params_key, num_envs)
    elif impl == "keydoor":
        env = ued.AutoReplay(KeyDoorEnv(KeyDoorConfig()))
        lv = levels
        key_fn = lambda k, n: jax.random.split(k, n)
        reset_keys = jax.random.split(params_key, num_envs)
    elif impl == "jaxued":
        level_cls, maze_cls, wrapper_cls = _import_jaxued()
        env = wrapper_cls(maze_cls(max_height=13, max_width=13, agent_view_size=5))
        lv = level_cls(
            wall_map=levels.wall_map,
            goal_pos=levels.goal_pos.astype(jnp.uint32),
            agent_pos=levels.agent_pos.astype(jnp.uint32),
            agent_dir=levels.agent_dir.astype(jnp.uint8),
            width=levels.width,
            height=levels.height,
        )
        key_fn = lambda k, n: jax.random.split(jax.random.key_data(k)[..., -2:], n)
        reset_keys = jax.random.split(jax.random.PRNGKey(0), num_envs)
    else:
        raise ValueError(f"unknown impl {impl!r}")
    params = env.default_params
    _, state = jax.jit(jax.vmap(env.reset_to_level, in_axes=(0, 0, None)))(reset_keys, lv, params)
    fn = _make_rollout(env, key_fn)
    key = jax.random.key(1)
    t0 = time.perf_counter()
    compiled = fn.lower(state, key, actions).compile()
    compile_s = time.perf_counter() - t0
    args = (state, key, actions)
    jax.block_until_ready(compiled(*args))  # warm-up (first execution allocates buffers)
    return compiled, args, compile_s


def _setup_craftax(impl: str, num_envs: int, actions):
    """Compiled rollout of one Craftax row (module docstring) on the worlds of keys
    ``split(key(42), num_envs)``."""
    from craftax.craftax_classic.envs.craftax_symbolic_env import (
        CraftaxClassicSymbolicEnv,
        CraftaxClassicSymbolicEnvNoAutoReset,
    )

    from envs.craftax import CraftaxEnv, make_craftax_space

    keys = jax.random.split(jax.random.key(42), num_envs)
    if impl in ("craftax-package", "craftax-package-noreset"):
        reset_too = impl == "craftax-package"
        pkg = CraftaxClassicSymbolicEnv() if reset_too else CraftaxClassicSymbolicEnvNoAutoReset()
        params = pkg.default_params

        def one_step(carry, acts):
            state, key = carry
            key, k_step = jax.random.split(key)
            ks = jax.random.split(k_step, acts.shape[0])
            obs, state, reward, _, _ = jax.vmap(pkg.step, in_axes=(0, 0, 0, None))(
                ks, state, acts, params
            )
            return (state, key), jnp.sum(reward) + jnp.sum(obs)

        _, state = jax.jit(jax.vmap(pkg.reset, in_axes=(0, None)))(keys, params)
    elif impl == "craftax-openued":
        env = ued.AutoReplay(CraftaxEnv())
        params = env.default_params
        levels = jax.jit(jax.vmap(make_craftax_space().sample))(keys)

        def one_step(carry, acts):
            state, key = carry
            key, k_step = jax.random.split(key)
            ks = jax.random.split(k_step, acts.shape[0])
            obs, state, reward, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                ks, state, acts, params
            )
            return (state, key), jnp.sum(reward) + jnp.sum(obs)

        _, state = jax.jit(jax.vmap(env.reset_to_level, in_axes=(0, 0, None)))(
            keys, levels, params
        )
    else:
        raise ValueError(f"unknown impl {impl!r}")

    def rollout(state, key, acts):
        (state, key), cs = jax.lax.scan(one_step, (state, key), acts)
        return state, key, jnp.sum(cs)

    key = jax.random.key(1)
    t0 = time.perf_counter()
    compiled = jax.jit(rollout).lower(state, key, actions).compile()
    compile_s = time.perf_counter() - t0
    args = (state, key, actions)
    jax.block_until_ready(compiled(*args))
    return compiled, args, compile_s


def _time_once(compiled, args) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--num-envs", type=int, nargs="+", default=[256, 4096])
    ap.add_argument("--num-steps", type=int, default=128, help="scan length per timed call")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--compare", choices=["jaxued"], default=None)
    ap.add_argument("--json", action="store_true", help="one JSON object per measurement")
    ap.add_argument(
        "--keydoor", action="store_true", help="also time the key-and-door maze (envs.keydoor)"
    )
    ap.add_argument(
        "--xland",
        action="store_true",
        help="also time XLand-MiniGrid: the package's env and the toolkit's adapter (envs.xland)",
    )
    ap.add_argument(
        "--craftax",
        action="store_true",
        help="time Craftax-Classic instead: the package's env vs envs.craftax (needs the extra)",
    )
    args = ap.parse_args(argv)
    if args.craftax:
        if args.compare or args.keydoor or args.xland:
            ap.error("--craftax times Craftax alone; drop --compare / --keydoor / --xland")
        return _main_craftax(args)

    impls = ["openued"] + (["keydoor"] if args.keydoor else [])
    impls += ["xland-pkg", "xland"] if args.xland else []
    impls += [args.compare] if args.compare else []
    if args.compare == "jaxued":
        _import_jaxued()  # fail loudly before any work
    machine = _machine()
    space = make_maze_space(MazeConfig())
    kd_space = make_keydoor_space(KeyDoorConfig())
    results = []
    for n in args.num_envs:
        levels = jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(42), n)
        # 7 actions for both (jaxued's Maze has 7; ours with n_actions=7 is the same MDP).
        actions = jax.random.randint(jax.random.key(7), (args.num_steps, n), 0, 7, jnp.int32)
        setups = {}
        for i in impls:
            if i == "keydoor":
                kd_levels = jax.jit(kd_space.sample_batch, static_argnums=1)(jax.random.key(42), n)
                kd_actions = actions % 4  # uniform over the key-and-door maze's 4 actions
                setups[i] = _setup(i, n, kd_levels, kd_actions)
            elif i.startswith("xland"):
                setups[i] = _xland_setup(i, n, actions % 6)  # XLand's 6 actions
            else:
                setups[i] = _setup(i, n, levels, actions)
        times: dict[str, list[float]] = {i: [] for i in impls}
        for _ in range(args.repeats):
            for i in impls:  # alternate so drift and neighbours' load hit both alike
                compiled, fargs, _ = setups[i]
                times[i].append(_time_once(compiled, fargs))
        row = {}
        for i in impls:
            med = statistics.median(times[i])
            sps = n * args.num_steps / med
            rec = {
                "impl": i,
                "env": {
                    "keydoor": "keydoor 13x13",
                    "xland": "xland 9x9",
                    "xland-pkg": "xland 9x9",
                }.get(i, "maze 13x13"),
                "num_envs": n,
                "num_steps": args.num_steps,
                "repeats": args.repeats,
                "steps_per_s": sps,
                "median_s": med,
                "compile_s": setups[i][2],
                "device": machine,
            }
            row[i] = sps
            if args.compare:
                rec[f"ratio_openued_over_{args.compare}"] = None
            results.append(rec)
        if args.compare:
            ratio = row["openued"] / row[args.compare]
            for rec in results[-len(impls) :]:
                rec[f"ratio_openued_over_{args.compare}"] = ratio
        for rec in results[-len(impls) :]:
            i, sps, med = rec["impl"], rec["steps_per_s"], rec["median_s"]
            if args.json:
                print(json.dumps(rec), flush=True)
            else:
                print(
                    f"{i:8s} num_envs={n:6d}  {sps / 1e6:9.3f} M steps/s  "
                    f"(median {med * 1e3:8.2f} ms over {args.repeats}, "
                    f"compile {rec['compile_s']:.2f} s)  [{machine}]",
                    flush=True,
                )
        if args.compare and not args.json:
            print(f"ratio openued/{args.compare} at num_envs={n}: {ratio:.2f}x", flush=True)
        if args.xland:
            over = row["xland-pkg"] / row["xland"]
            if args.json:
                print(json.dumps({"num_envs": n, "xland_adapter_overhead": over}), flush=True)
            else:
                print(f"xland adapter overhead (package / adapter) at num_envs={n}: "
                      f"{over:.2f}x", flush=True)  # fmt: skip
    return 0


def _main_craftax(args) -> int:
    """The ``--craftax`` rows (module docstring)."""
    from envs.craftax import require_craftax

    require_craftax()
    machine = _machine()
    impls = ("craftax-package", "craftax-package-noreset", "craftax-openued")
    for n in args.num_envs:
        actions = jax.random.randint(jax.random.key(7), (args.num_steps, n), 0, 17, jnp.int32)
        setups = {}
        for i in impls:
            setups[i] = _setup_craftax(i, n, actions)
            print(f"# {i}: compiled in {setups[i][2]:.1f} s", file=sys.stderr, flush=True)
        times: dict[str, list[float]] = {i: [] for i in impls}
        for _ in range(args.repeats):
            for i in impls:  # alternate so drift and neighbours' load hit both alike
                times[i].append(_time_once(setups[i][0], setups[i][1]))
        sps = {i: n * args.num_steps / statistics.median(times[i]) for i in impls}
        ratio = sps["craftax-openued"] / sps["craftax-package"]
        ratio_step = sps["craftax-openued"] / sps["craftax-package-noreset"]
        for i in impls:
            rec = {
                "impl": i,
                "env": "craftax-classic symbolic",
                "num_envs": n,
                "num_steps": args.num_steps,
                "repeats": args.repeats,
                "steps_per_s": sps[i],
                "median_s": statistics.median(times[i]),
                "compile_s": setups[i][2],
                "ratio_openued_over_package": ratio,
                "ratio_openued_over_package_noreset": ratio_step,
                "device": machine,
            }
            if args.json:
                print(json.dumps(rec), flush=True)
            else:
                print(
                    f"{i:16s} num_envs={n:6d}  {sps[i] / 1e3:9.1f} k steps/s  "
                    f"(median {rec['median_s'] * 1e3:8.1f} ms over {args.repeats}, "
                    f"compile {rec['compile_s']:.1f} s)  [{machine}]",
                    flush=True,
                )
        if not args.json:
            print(
                f"ratio openued/package at num_envs={n}: {ratio:.2f}x (auto-reset), "
                f"{ratio_step:.2f}x (no reset: the adapter's overhead)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
