"""Where a PAIRED update's time goes: openued vs the jaxued rebuild, piece by piece.

Pieces (each jitted on its own, inputs precomputed, median of ``--repeats`` calls; wall and
process CPU seconds), at the settings of ``train_throughput.py --curriculum paired``:

* ``teacher_rollout``: the teacher's 50 editor steps on 32 empty levels (openued:
  ``curriculum.propose``);
* ``student_rollout``: one student's 256 steps on the teacher's levels + GAE (+ returns);
* ``student_ppo``: one student's PPO update (5 epochs x 1 minibatch) on that rollout;
* ``teacher_ppo``: the teacher's PPO update on its 50-step trajectory;
* openued only: ``observe`` (antagonist rollout + its PPO + the teacher's GAE and PPO) and the
  whole ``update``;
* jaxued only: the whole ``train_step``.

A whole update is about teacher_rollout + 2 x (student_rollout + student_ppo) + teacher_ppo.

    python benchmarks/paired_profile.py --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _timer(fn, *args, repeats: int):
    """Compile ``fn(*args)``, call it once, then time ``repeats`` calls: medians (wall, CPU)."""
    compiled = jax.jit(fn).lower(*args).compile()
    jax.block_until_ready(compiled(*args))
    ts = []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        jax.block_until_ready(compiled(*args))
        ts.append((time.perf_counter() - t, time.process_time() - c))
    return {
        "wall_s": statistics.median(t for t, _ in ts),
        "cpu_s": statistics.median(c for _, c in ts),
    }


def profile_openued(num_envs: int, num_steps: int, repeats: int, network: str) -> dict:
    from train_throughput import PAIRED_TEACHER_STEPS, build_paired

    from curricula.paired import TEACHER_NETWORK, teacher_rewards
    from ued.networks import make_actor_critic
    from ued.ppo import PPOConfig, PPOParams, gae, make_batch, make_ppo_update
    from ued.rollout import rollout_levels

    tr, _, cur, space = build_paired(num_envs, num_steps, network)
    state = jax.jit(tr.init)(jax.random.key(0))
    key = jax.random.key(1)
    pp = state.params
    cparams = pp.curriculum
    cstate = state.curriculum
    out = {}

    out["teacher_rollout"] = _timer(
        lambda k, c: cur.propose(k, c, cparams)[1].levels, key, cstate, repeats=repeats
    )
    cstate2, prop = jax.jit(lambda k, c: cur.propose(k, c, cparams))(key, cstate)
    levels = prop.levels

    student = tr.student

    def student_rollout(k, sp, levels):
        res = rollout_levels(k, tr.env, levels, sp, pp.env, net=student, num_steps=num_steps)
        t = res.traj
        adv, tgt = gae(t.reward, t.value, t.terminated, t.truncated, res.last_value, 0.995, 0.98)
        return make_batch(t, adv, tgt)

    out["student_rollout"] = _timer(
        student_rollout, key, state.student.params, levels, repeats=repeats
    )
    batch = jax.jit(student_rollout)(key, state.student.params, levels)
    s_upd = make_ppo_update(tr.config.ppo, student)
    out["student_ppo"] = _timer(
        lambda k, st, b: s_upd(k, st, b, pp.ppo)[0], key, state.student, batch, repeats=repeats
    )

    tcfg = dataclasses.replace(TEACHER_NETWORK, num_embeddings=PAIRED_TEACHER_STEPS + 1)
    teacher = make_actor_critic(tcfg, int(space.num_edit_actions))
    t_upd = make_ppo_update(PPOConfig(), teacher)

    def teacher_ppo(k, c):
        traj = c.teacher_traj
        r = teacher_rewards(jnp.ones((num_envs,), jnp.float32), PAIRED_TEACHER_STEPS)
        z = jnp.zeros((num_envs,), jnp.float32)
        adv, tgt = gae(r, traj.value, traj.terminated, traj.truncated, z, 0.995, 0.98)
        return t_upd(k, c.teacher, make_batch(traj.replace(reward=r), adv, tgt), PPOParams())[0]

    out["teacher_ppo"] = _timer(teacher_ppo, key, cstate2, repeats=repeats)

    out["update"] = _timer(tr.update, state, repeats=repeats)
    return out


def profile_jaxued(num_envs: int, num_steps: int, repeats: int) -> dict:
    from jaxued_paired_step import NOISE_DIM, make_jaxued_paired

    pair = make_jaxued_paired(num_envs, num_steps, noise_dim=NOISE_DIM, live_noise=True)
    state = jax.jit(pair.init)(jax.random.key(0))
    key = jax.random.PRNGKey(1)
    P = pair.parts
    out = {}
    out["teacher_rollout"] = _timer(P["teacher_rollout"], key, state, repeats=repeats)
    adv_traj, levels, last_v = jax.jit(P["teacher_rollout"])(key, state)
    out["student_rollout"] = _timer(P["student_rollout"], key, state, levels, repeats=repeats)
    batch, _ = jax.jit(P["student_rollout"])(key, state, levels)
    out["student_ppo"] = _timer(P["student_ppo"], key, state, batch, repeats=repeats)
    t_batch = jax.jit(P["teacher_batch"])(adv_traj, last_v, jnp.ones((num_envs,)))
    out["teacher_ppo"] = _timer(P["teacher_ppo"], key, state, t_batch, repeats=repeats)
    out["update"] = _timer(pair.train_step, state, repeats=repeats)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--num-envs", type=int, default=32)
    p.add_argument("--num-steps", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--network", default="maze")
    p.add_argument("--impls", default="openued,jaxued")
    args = p.parse_args(argv)
    res = {}
    for impl in args.impls.split(","):
        if impl == "openued":
            res[impl] = profile_openued(args.num_envs, args.num_steps, args.repeats, args.network)
        elif impl == "jaxued":
            res[impl] = profile_jaxued(args.num_envs, args.num_steps, args.repeats)
        for part, v in res[impl].items():
            print(
                f"{impl:>8s} {part:>16s} wall {v['wall_s']:8.2f} s  cpu {v['cpu_s']:8.2f} s",
                file=sys.stderr,
                flush=True,
            )
    print(json.dumps({"bench": "paired_profile", **vars(args), "parts": res}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
