"""Level-buffer throughput: one op = sample + insert + update of a whole batch.

Usage::

    python benchmarks/buffer_throughput.py                      # openued, batch 32 and 256
    python benchmarks/buffer_throughput.py --compare jaxued     # + jaxued's LevelSampler
    python benchmarks/buffer_throughput.py --compare jaxued --json

Work per op, identical for both implementations (rank prioritisation, temperature 0.3,
staleness 0.3, duplicate check on, ``max_return`` extras): draw ``B`` replay slots, insert ``B``
levels (a quarter are exact copies of the replayed levels, to exercise the duplicate path; the
rest are fresh random mazes), update the ``B`` replayed slots with new scores. The buffer starts
full (capacity 4000) with random maze-sized levels: ``bool[13, 13]`` wall map plus agent
position, goal position and direction (``int32``), built here so the benchmark does not depend
on ``envs.maze``. Ops run inside one jitted ``lax.scan`` chunk for both, so dispatch overhead is
excluded; ops/s = ops / wall time of whole chunks after a warm-up (compile) chunk.

``--json`` prints one JSON object per measurement with ``impl``, ``capacity``, ``batch``,
``ops_per_s`` (plus ``seconds``, ``ops``, ``backend``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
from flax import struct

from curricula.buffer import LevelSamplerConfig, LevelSamplerParams, make_level_sampler

H = W = 13


@struct.dataclass
class BenchLevel:
    wall_map: jax.Array  # bool[13, 13]
    agent_pos: jax.Array  # int32[2]
    goal_pos: jax.Array  # int32[2]
    agent_dir: jax.Array  # int32[]


def random_levels(key, n: int) -> BenchLevel:
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return BenchLevel(
        wall_map=jax.random.bernoulli(k1, 0.2, (n, H, W)),
        agent_pos=jax.random.randint(k2, (n, 2), 0, H, jnp.int32),
        goal_pos=jax.random.randint(k3, (n, 2), 0, H, jnp.int32),
        agent_dir=jax.random.randint(k4, (n,), 0, 4, jnp.int32),
    )


def placeholder() -> BenchLevel:
    return jax.tree.map(lambda x: x[0], random_levels(jax.random.key(0), 1))


def work_levels(key, replayed: BenchLevel, b: int) -> BenchLevel:
    """``b`` levels to insert: a quarter copies of ``replayed``, the rest fresh."""
    fresh = random_levels(key, b)
    q = b // 4
    return jax.tree.map(lambda f, r: f.at[:q].set(r[:q]), fresh, replayed)


def make_openued(capacity: int, b: int, chunk: int):
    sampler = make_level_sampler(
        LevelSamplerConfig(capacity=capacity, prioritization="rank", duplicate_check=True)
    )
    params = LevelSamplerParams(replay_prob=0.8, staleness_coef=0.3, temperature=0.3)

    @jax.jit
    def fill(key):
        k1, k2 = jax.random.split(key)
        st = sampler.init(placeholder())
        lv = random_levels(k1, capacity)
        sc = jax.random.uniform(k2, (capacity,))
        st, _ = sampler.insert(st, lv, sc, sc, params)
        return st

    def op(st, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        st, slots = sampler.sample(k1, st, params, b)
        rep = sampler.get_levels(st, slots)
        lv = work_levels(k2, rep, b)
        sc = jax.random.uniform(k3, (b,))
        st, _ = sampler.insert(st, lv, sc, sc, params)
        sc2 = jax.random.uniform(k4, (b,))
        st = sampler.update(st, slots, sc2, sc2)
        return st, None

    @jax.jit
    def run(st, key):
        st, _ = jax.lax.scan(op, st, jax.random.split(key, chunk))
        return st

    return fill, run, lambda st: int(st.filled.sum())


def make_jaxued(capacity: int, b: int, chunk: int):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _jaxued import jaxued_module

    LevelSampler = jaxued_module("jaxued.level_sampler").LevelSampler
    ls = LevelSampler(
        capacity=capacity,
        replay_prob=0.8,
        staleness_coeff=0.3,
        minimum_fill_ratio=0.5,
        prioritization="rank",
        prioritization_params={"temperature": 0.3},
        duplicate_check=True,
    )

    @jax.jit
    def fill(key):
        k1, k2 = jax.random.split(key)
        lv = random_levels(k1, capacity)
        sc = jax.random.uniform(k2, (capacity,))
        # built directly (a full buffer), same content as openued's fill
        return {
            "levels": lv,
            "scores": sc,
            "timestamps": jnp.zeros(capacity, jnp.int32),
            "size": jnp.asarray(capacity, jnp.int32),
            "episode_count": jnp.asarray(0, jnp.int32),
            "levels_extra": {"max_return": sc},
        }

    def op(st, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        st, (slots, rep) = ls.sample_replay_levels(st, k1, b)
        lv = work_levels(k2, rep, b)
        sc = jax.random.uniform(k3, (b,))
        st, _ = ls.insert_batch(st, lv, sc, {"max_return": sc})
        sc2 = jax.random.uniform(k4, (b,))
        st = ls.update_batch(st, slots, sc2, {"max_return": sc2})
        return st, None

    @jax.jit
    def run(st, key):
        st, _ = jax.lax.scan(op, st, jax.random.split(key, chunk))
        return st

    return fill, run, lambda st: int(st["size"])


def measure(impl: str, capacity: int, b: int, min_time: float) -> dict:
    # chunk sizes keep one chunk well under a second for each implementation
    chunk = {"openued": 20, "jaxued": 2 if b <= 32 else 1}[impl]
    fill, run, size = (make_openued if impl == "openued" else make_jaxued)(capacity, b, chunk)
    st = fill(jax.random.key(0))
    assert size(st) == capacity, f"{impl}: buffer not full after fill"
    st = jax.block_until_ready(run(st, jax.random.key(1)))  # compile + warm up
    ops, i, t0 = 0, 2, time.perf_counter()
    while True:
        st = jax.block_until_ready(run(st, jax.random.key(i)))
        ops += chunk
        i += 1
        dt = time.perf_counter() - t0
        if dt >= min_time:
            break
    return {
        "impl": impl,
        "capacity": capacity,
        "batch": b,
        "ops_per_s": ops / dt,
        "ops": ops,
        "seconds": dt,
        "backend": jax.default_backend(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--capacity", type=int, default=4000)
    ap.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    ap.add_argument("--compare", choices=["jaxued"], default=None)
    ap.add_argument("--json", action="store_true", help="one JSON object per measurement")
    ap.add_argument("--min-time", type=float, default=3.0, help="seconds timed per measurement")
    a = ap.parse_args(argv)
    impls = ["openued"] + ([a.compare] if a.compare else [])
    results = []
    for b in a.batch:
        for impl in impls:
            r = measure(impl, a.capacity, b, a.min_time)
            results.append(r)
            if a.json:
                print(json.dumps(r), flush=True)
            else:
                print(
                    f"{impl:8s} capacity={r['capacity']} batch={b:4d} "
                    f"{r['ops_per_s']:10.1f} ops/s ({r['ops']} ops in {r['seconds']:.2f} s)",
                    flush=True,
                )
        if a.compare and not a.json:
            o = next(r for r in results if r["impl"] == "openued" and r["batch"] == b)
            j = next(r for r in results if r["impl"] == a.compare and r["batch"] == b)
            print(f"  speed-up at batch {b}: {o['ops_per_s'] / j['ops_per_s']:.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
