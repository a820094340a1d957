"""HaDES throughput on CartPole: generations/s and env steps/s at population 256 and 1024.

Also measures, in the same run, the env-step rate of a plain vmapped rollout of the same
policy network in gymnax CartPole (same number of parallel episodes, same length, no BC and
no ES), so the overhead of the inner loop is visible (goal: HaDES within 2x of it). The
population is evaluated as ``openued hades train`` does by default (``--eval-batch-size 0``:
``meta.auto_eval_batch_size``, chunks of 256 candidates on CPU when P > 256).

    python benchmarks/es_throughput.py [--populations 256 1024] [--generations 2] [--json]

Env steps per generation = population * num_inits * eval_envs * episode steps (every rollout
runs the full 500 steps; the return counts the first episode only).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import jax.numpy as jnp


def _block(x):
    return jax.block_until_ready(x)


def bench(
    population: int,
    generations: int,
    num_inits: int,
    eval_envs: int,
    steps: int,
    eval_batch_size: int = 0,
):
    from meta import (
        HadesConfig,
        PolicyConfig,
        auto_eval_batch_size,
        make_es,
        make_es_loop,
        make_hades,
        make_rollout,
    )

    cfg = HadesConfig(
        target="cartpole",
        dataset_size=4,
        num_inits=num_inits,
        eval_envs=eval_envs,
        policy=PolicyConfig(hidden=(64, 64), activation="tanh", lr=0.01, steps=steps),
    )
    h = make_hades(cfg)
    # 0: what `openued hades train` uses by default (chunks of 256 on CPU for P > 256)
    bs = eval_batch_size or auto_eval_batch_size(population)
    es = make_es("snes", population, h.template, std_init=0.5)
    loop = make_es_loop(h.problem, es, eval_batch_size=bs)
    chunk = jax.jit(loop.run_chunk, static_argnums=1)
    state = loop.init(jax.random.key(0))
    t0 = time.perf_counter()
    state, _ = _block(chunk(state, generations))  # compile + first run
    compile_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    state, _ = _block(chunk(state, generations))
    run_s, run_cpu = time.perf_counter() - t0, time.process_time() - c0
    n_rollouts = population * num_inits * eval_envs
    env_steps = n_rollouts * h.num_steps * generations

    # Plain rollout baseline: the same number of episodes of the same network, no BC, no ES.
    rollout = make_rollout(h.target, h.policy, h.num_steps)  # same code as the fitness
    params = jax.vmap(h.policy.init)(jax.random.split(jax.random.key(1), population * num_inits))

    @jax.jit
    def plain(key, params):
        keys = jax.random.split(key, (population * num_inits, eval_envs))
        ret = jax.vmap(lambda ks, p: jax.vmap(rollout, in_axes=(0, None))(ks, p)[0])(keys, params)
        return jnp.mean(ret)

    _block(plain(jax.random.key(2), params))
    t0, c0 = time.perf_counter(), time.process_time()
    for g in range(generations):
        _block(plain(jax.random.key(3 + g), params))
    plain_s, plain_cpu = time.perf_counter() - t0, time.process_time() - c0
    hades_rate = env_steps / run_s
    plain_rate = env_steps / plain_s
    return {
        "population": population,
        "num_inits": num_inits,
        "eval_envs": eval_envs,
        "bc_steps": steps,
        "eval_batch_size": bs,
        "generations_timed": generations,
        "compile_plus_first_s": round(compile_s, 2),
        "generations_per_s": generations / run_s,
        "env_steps_per_s": hades_rate,
        "plain_rollout_env_steps_per_s": plain_rate,
        "hades_over_plain_time_ratio": plain_rate / hades_rate,
        # CPU seconds of this process: robust when the machine is shared with other jobs
        "cpu_s_per_generation": run_cpu / generations,
        "plain_cpu_s_per_generation": plain_cpu / generations,
        "hades_over_plain_cpu_ratio": run_cpu / plain_cpu,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--populations", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--generations", type=int, default=2)
    p.add_argument("--num-inits", type=int, default=2)
    p.add_argument("--eval-envs", type=int, default=4)
    p.add_argument("--bc-steps", type=int, default=100)
    p.add_argument(
        "--eval-batch-size",
        type=int,
        default=0,
        help="ES candidates per vmapped chunk (0: meta.auto_eval_batch_size, as the CLI)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    a = p.parse_args(argv)
    results = [
        bench(pop, a.generations, a.num_inits, a.eval_envs, a.bc_steps, a.eval_batch_size)
        for pop in a.populations
    ]
    out = {
        "benchmark": "hades_cartpole_es_throughput",
        "device": str(jax.devices()[0].device_kind),
        "platform": jax.default_backend(),
        "cpu_count": __import__("os").cpu_count(),
        "machine": platform.machine(),
        "results": results,
    }
    if a.json:
        print(json.dumps(out))
    else:
        for r in results:
            print(
                f"P={r['population']:5d}: {r['generations_per_s']:.3f} gen/s, "
                f"{r['env_steps_per_s']:.3g} env steps/s (plain rollout "
                f"{r['plain_rollout_env_steps_per_s']:.3g}; HaDES takes "
                f"{r['hades_over_plain_time_ratio']:.2f}x its time)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
