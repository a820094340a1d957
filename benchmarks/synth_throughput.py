"""Synthetic-environment throughput and time-to-train, SCB vs the real environment, in one run.

    python benchmarks/synth_throughput.py --env cartpole --json
    python benchmarks/synth_throughput.py --env cartpole --run-dir runs/scb --json

Measures (after compilation, best of ``--repeats``):

* ``steps_per_s``: synthetic env steps/s (``--num-envs`` vmapped envs x ``--num-steps`` scanned
  steps, random actions, auto-reset), next to ``real_steps_per_s`` for the real env;
* ``train_seconds_synthetic`` / ``train_seconds_real``: wall-clock of one PPO run of
  ``--train-steps`` env steps on the synthetic env and on the real env (same learner settings).

With ``--run-dir`` the discovered env of that run is used (and the real-env return of the agent
trained on it is reported); otherwise the default-initialised synthetic env. ``--json`` prints
one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp


def _best_time(fn, *args, repeats: int) -> float:
    jax.block_until_ready(fn(*args))  # compile
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return best


def _throughput(env, params, num_envs, num_steps, repeats):
    space = env.action_space(params)

    def run(key):
        obs, st = jax.vmap(env.reset, (0, None))(jax.random.split(key, num_envs), params)

        def body(c, k):
            ka, ks = jax.random.split(k)
            a = jax.vmap(space.sample)(jax.random.split(ka, num_envs))
            o, s, r, *_ = jax.vmap(env.step, (0, 0, 0, None))(
                jax.random.split(ks, num_envs), c, a, params
            )
            return s, jnp.sum(r)

        return jax.lax.scan(body, st, jax.random.split(key, num_steps))[1]

    t = _best_time(jax.jit(run), jax.random.key(0), repeats=repeats)
    return num_envs * num_steps / t


def main(argv: list[str] | None = None) -> dict:
    from meta.learners import LearnerConfig, default_hparams, evaluate_gymnax, make_learner
    from meta.synth import SynthMetaConfig, load_synth_env, make_real_env, synth_config_for
    from meta.synthetic import SynthConfig, SynthGymnaxEnv, init_synth_params

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="cartpole")
    ap.add_argument("--kind", choices=("scb", "mdp"), default=None)
    ap.add_argument("--run-dir", default=None)
    ap.add_argument("--num-envs", type=int, default=256)
    ap.add_argument("--num-steps", type=int, default=100)
    ap.add_argument("--train-steps", type=int, default=10_000)
    ap.add_argument("--learner", default="ppo")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    real = make_real_env(args.env)
    if args.run_dir:
        scfg, params, _ = load_synth_env(os.path.join(args.run_dir, "env"))
    else:
        scfg: SynthConfig = synth_config_for(SynthMetaConfig(args.env, kind=args.kind), real)
        params = init_synth_params(jax.random.key(0), scfg)
    senv = SynthGymnaxEnv(scfg)

    sps = _throughput(senv, params, args.num_envs, args.num_steps, args.repeats)
    real_sps = _throughput(real.env, real.params, args.num_envs, args.num_steps, args.repeats)

    lcfg = LearnerConfig(num_steps=args.train_steps)
    hp = default_hparams()
    ls = make_learner(args.learner, senv, lcfg, params)
    lr = make_learner(args.learner, real.env, lcfg, real.params)
    train_s = jax.jit(lambda k: ls.train(k, params, hp))
    train_r = jax.jit(lambda k: lr.train(k, real.params, hp))
    key = jax.random.key(1)
    t_syn = _best_time(train_s, key, repeats=args.repeats)
    t_real = _best_time(train_r, key, repeats=args.repeats)
    out = {
        "env": args.env,
        "kind": scfg.kind,
        "learner": args.learner,
        "steps_per_s": sps,
        "real_steps_per_s": real_sps,
        "train_steps": args.train_steps,
        "train_seconds_synthetic": t_syn,
        "train_seconds_real": t_real,
        "backend": jax.default_backend(),
        "discovered_env": bool(args.run_dir),
    }
    ev = jax.jit(
        lambda k, a, act: evaluate_gymnax(k, real.env, real.params, act, a, 16, real.max_steps),
        static_argnums=2,
    )
    out["return_after_synthetic_training"] = float(ev(key, train_s(key), ls.act))
    out["return_after_real_training"] = float(ev(key, train_r(key), lr.act))
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>32}: {v}")
    return out


if __name__ == "__main__":
    main()
