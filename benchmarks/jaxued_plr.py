"""jaxued peer baseline for ``train_throughput.py --compare jaxued``: the maze robust-PLR step.

This module rebuilds, on jaxued's *public* API, the train step of jaxued's published maze
robust-PLR setup (``jaxued==0.0.1``), so that its env steps/s can be measured next to openued's
robust-PLR ``replay`` and ``new`` updates. It was written for this benchmark from the published
settings and jaxued's API documentation; it is not a copy of jaxued's ``examples/maze_plr.py``.

Public jaxued API used:

* ``jaxued.environments.Maze`` (13x13, view 5, ``normalize_obs=True``) wrapped in
  ``jaxued.wrappers.AutoReplayWrapper``; ``env.reset_to_level`` / ``env.step`` (vmapped).
* ``jaxued.environments.maze.make_level_generator(13, 13, 25)`` for fresh levels.
* ``jaxued.linen.ResetRNN`` around ``flax.linen.OptimizedLSTMCell(256)``.
* ``jaxued.level_sampler.LevelSampler`` (capacity 4000, replay_prob 0.8, staleness 0.3, rank
  prioritisation with temperature 0.3, duplicate check; ``minimum_fill_ratio=0`` so replay can
  start at once): ``initialize`` (with a ``max_return`` level extra), ``sample_replay_levels``,
  ``get_levels_extra``, ``update_batch``, ``insert_batch``.
* ``jaxued.utils.compute_max_returns`` and ``jaxued.utils.max_mc`` (MaxMC scores, robust PLR).

Settings: 32 envs x 256 steps; PPO with GAE (gamma 0.995, lambda 0.98), 5 epochs x 1 minibatch
inside ``lax.scan``, minibatches are permutations of whole env sequences, the LSTM state of each
minibatch restarts from the rollout's initial hidden state, clip 0.2 (policy and value), value
coefficient 0.5, entropy 1e-3, ``optax.chain(clip_by_global_norm(0.5), adam(1e-4, eps=1e-5))``.

Two pure update functions over one train-state pytree (the caller jits them):

* ``replay_step``: sample replay levels, roll out, GAE, MaxMC scores, ``update_batch``, and the
  PPO update with its gradients applied.
* ``new_step``: fresh generator levels, roll out, MaxMC scores, ``insert_batch``; then, as in
  jaxued's robust PLR, the PPO update passes run but their gradients are thrown away (params and
  optimiser state are kept). Its loss and gradient norm are returned in the metrics, so XLA cannot
  dead-code-eliminate the forward or backward passes.

    python benchmarks/jaxued_plr.py --updates 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from _jaxued import jaxued_module  # restores jax.tree_map before importing jaxued
from flax.linen.initializers import constant, orthogonal

Maze = jaxued_module("jaxued.environments").Maze
make_level_generator = jaxued_module("jaxued.environments.maze").make_level_generator
LevelSampler = jaxued_module("jaxued.level_sampler").LevelSampler
ResetRNN = jaxued_module("jaxued.linen").ResetRNN
_utils = jaxued_module("jaxued.utils")
compute_max_returns, max_mc = _utils.compute_max_returns, _utils.max_mc
AutoReplayWrapper = jaxued_module("jaxued.wrappers").AutoReplayWrapper

# published jaxued maze robust-PLR settings
GAMMA = 0.995
GAE_LAMBDA = 0.98
NUM_EPOCHS = 5
NUM_MINIBATCHES = 1
CLIP_EPS = 0.2
VF_COEF = 0.5
ENT_COEF = 1e-3
LR = 1e-4
MAX_GRAD_NORM = 0.5
LSTM_FEATURES = 256


class MazeActorCritic(nn.Module):
    """jaxued's maze actor-critic: conv image + direction embedding -> reset-LSTM -> heads."""

    num_actions: int

    @nn.compact
    def __call__(self, inputs, hidden):
        obs, resets = inputs  # obs fields and resets are [T, B, ...]
        img = nn.Conv(16, kernel_size=(3, 3), strides=(1, 1), padding="VALID")(obs.image)
        img = nn.relu(img.reshape(*img.shape[:-3], -1))
        direction = jax.nn.one_hot(obs.agent_dir, 4)
        direction = nn.Dense(5, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(
            direction
        )
        emb = jnp.concatenate([img, direction], axis=-1)
        hidden, emb = ResetRNN(nn.OptimizedLSTMCell(features=LSTM_FEATURES))(
            (emb, resets), initial_carry=hidden
        )
        a = nn.Dense(32, kernel_init=orthogonal(2.0), bias_init=constant(0.0))(emb)
        logits = nn.Dense(self.num_actions, kernel_init=orthogonal(0.01), bias_init=constant(0.0))(
            nn.relu(a)
        )
        c = nn.Dense(32, kernel_init=orthogonal(2.0), bias_init=constant(0.0))(emb)
        value = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=constant(0.0))(nn.relu(c))
        return hidden, logits, jnp.squeeze(value, -1)

    @staticmethod
    def initialize_carry(batch: int):
        cell = nn.OptimizedLSTMCell(features=LSTM_FEATURES)
        return cell.initialize_carry(jax.random.PRNGKey(0), (batch, LSTM_FEATURES))


class TrainState(NamedTuple):
    params: Any
    opt_state: Any
    sampler: dict  # jaxued LevelSampler's sampler dict
    rng: jax.Array
    num_updates: jax.Array


class JaxuedPLR(NamedTuple):
    init: Any  # key -> TrainState
    replay_step: Any  # TrainState -> (TrainState, metrics)
    new_step: Any  # TrainState -> (TrainState, metrics)
    num_envs: int
    num_steps: int


def make_jaxued_plr(num_envs: int = 32, num_steps: int = 256, seed: int = 0) -> JaxuedPLR:
    """Pure (un-jitted) ``init``, ``replay_step`` and ``new_step`` of jaxued's maze robust PLR."""
    del seed  # the seed enters through init's key; kept for a uniform signature
    if num_envs % NUM_MINIBATCHES:
        raise ValueError("num_envs must be divisible by the number of minibatches")
    env = AutoReplayWrapper(
        Maze(max_height=13, max_width=13, agent_view_size=5, normalize_obs=True)
    )
    env_params = env.default_params
    num_actions = env.action_space(env_params).n
    generator = make_level_generator(13, 13, 25)
    level_sampler = LevelSampler(
        capacity=4000,
        replay_prob=0.8,
        staleness_coeff=0.3,
        minimum_fill_ratio=0.0,
        prioritization="rank",
        prioritization_params={"temperature": 0.3},
        duplicate_check=True,
    )
    net = MazeActorCritic(num_actions)
    tx = optax.chain(optax.clip_by_global_norm(MAX_GRAD_NORM), optax.adam(LR, eps=1e-5))

    def init(key) -> TrainState:
        k_net, k_lvl, k_state = jax.random.split(key, 3)
        levels = jax.vmap(generator)(jax.random.split(k_lvl, num_envs))
        obs, _ = jax.vmap(env.reset_to_level, (0, 0, None))(
            jax.random.split(k_lvl, num_envs), levels, env_params
        )
        dummy = (jax.tree_util.tree_map(lambda x: x[None], obs), jnp.zeros((1, num_envs), bool))
        params = net.init(k_net, dummy, MazeActorCritic.initialize_carry(num_envs))
        sampler = level_sampler.initialize(
            generator(jax.random.PRNGKey(0)), {"max_return": -jnp.inf}
        )
        # python-int counters become int32 arrays so the state's types stay fixed across updates
        sampler = {
            **sampler,
            "size": jnp.asarray(sampler["size"], jnp.int32),
            "episode_count": jnp.asarray(sampler["episode_count"], jnp.int32),
        }
        return TrainState(params, tx.init(params), sampler, k_state, jnp.zeros((), jnp.int32))

    def rollout(params, key, levels):
        """Reset to ``levels`` and run ``num_steps`` policy steps; returns the trajectory."""
        k_reset, k_roll = jax.random.split(key)
        obs, env_state = jax.vmap(env.reset_to_level, (0, 0, None))(
            jax.random.split(k_reset, num_envs), levels, env_params
        )
        h0 = MazeActorCritic.initialize_carry(num_envs)

        def step(carry, _):
            key, env_state, obs, last_done, h = carry
            key, k_act, k_env = jax.random.split(key, 3)
            x = (jax.tree_util.tree_map(lambda a: a[None], obs), last_done[None])
            h, logits, value = net.apply(params, x, h)
            logits, value = logits[0], value[0]
            action = jax.random.categorical(k_act, logits)
            log_prob = jnp.take_along_axis(
                jax.nn.log_softmax(logits), action[:, None], axis=-1
            ).squeeze(-1)
            next_obs, env_state, reward, done, _ = jax.vmap(env.step, (0, 0, 0, None))(
                jax.random.split(k_env, num_envs), env_state, action, env_params
            )
            tr = dict(
                obs=obs,
                last_done=last_done,
                action=action,
                log_prob=log_prob,
                value=value,
                reward=reward,
                done=done,
            )
            return (key, env_state, next_obs, done, h), tr

        init_carry = (k_roll, env_state, obs, jnp.zeros(num_envs, bool), h0)
        (_, _, last_obs, last_done, h), traj = jax.lax.scan(step, init_carry, None, num_steps)
        x = (jax.tree_util.tree_map(lambda a: a[None], last_obs), last_done[None])
        _, _, last_value = net.apply(params, x, h)
        return h0, traj, last_value[0]

    def gae(traj, last_value):
        def back(carry, t):
            adv, next_value = carry
            not_done = 1.0 - t["done"].astype(jnp.float32)
            delta = t["reward"] + GAMMA * next_value * not_done - t["value"]
            adv = delta + GAMMA * GAE_LAMBDA * not_done * adv
            return (adv, t["value"]), adv

        init = (jnp.zeros_like(last_value), last_value)
        sub = {k: traj[k] for k in ("done", "reward", "value")}
        _, adv = jax.lax.scan(back, init, sub, reverse=True)
        return adv, adv + traj["value"]

    def loss_fn(params, h0, mb):
        _, logits, values = net.apply(params, (mb["obs"], mb["last_done"]), h0)
        log_probs = jax.nn.log_softmax(logits)
        log_prob = jnp.take_along_axis(log_probs, mb["action"][..., None], axis=-1).squeeze(-1)
        entropy = -(jnp.exp(log_probs) * log_probs).sum(-1).mean()
        ratio = jnp.exp(log_prob - mb["log_prob"])
        adv = mb["adv"]
        adv = (adv - adv.mean()) / (adv.std() + 1e-5)
        pg = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - CLIP_EPS, 1 + CLIP_EPS) * adv).mean()
        v_clip = mb["value"] + jnp.clip(values - mb["value"], -CLIP_EPS, CLIP_EPS)
        vf = 0.5 * jnp.maximum((values - mb["target"]) ** 2, (v_clip - mb["target"]) ** 2).mean()
        return pg + VF_COEF * vf - ENT_COEF * entropy

    grad_fn = jax.value_and_grad(loss_fn)

    def ppo(params, opt_state, key, h0, traj, adv, target, apply_grads: bool):
        """``NUM_EPOCHS`` x ``NUM_MINIBATCHES`` PPO passes; gradients applied iff ``apply_grads``."""
        batch = {k: traj[k] for k in ("obs", "last_done", "action", "log_prob", "value")}
        batch = {**batch, "adv": adv, "target": target}
        mb_size = num_envs // NUM_MINIBATCHES

        def epoch(carry, k):
            perm = jax.random.permutation(k, num_envs)

            def split_time_major(x):  # [T, B, ...] -> [M, T, B/M, ...]
                x = jnp.take(x, perm, axis=1)
                x = x.reshape(x.shape[0], NUM_MINIBATCHES, mb_size, *x.shape[2:])
                return jnp.swapaxes(x, 0, 1)

            mbs = jax.tree_util.tree_map(split_time_major, batch)
            h_mbs = jax.tree_util.tree_map(
                lambda x: jnp.take(x, perm, axis=0).reshape(NUM_MINIBATCHES, mb_size, -1), h0
            )

            def minibatch(carry, xs):
                params, opt_state = carry
                h, mb = xs
                loss, grads = grad_fn(params, h, mb)
                grad_norm = optax.global_norm(grads)
                if apply_grads:
                    updates, opt_state = tx.update(grads, opt_state, params)
                    params = optax.apply_updates(params, updates)
                return (params, opt_state), (loss, grad_norm)

            return jax.lax.scan(minibatch, carry, (h_mbs, mbs))

        carry, (loss, grad_norm) = jax.lax.scan(
            epoch, (params, opt_state), jax.random.split(key, NUM_EPOCHS)
        )
        return carry, loss.mean(), grad_norm.mean()

    def train_on(state: TrainState, levels, key, apply_grads: bool):
        k_roll, k_ppo = jax.random.split(key)
        h0, traj, last_value = rollout(state.params, k_roll, levels)
        adv, target = gae(traj, last_value)
        max_returns = compute_max_returns(traj["done"], traj["reward"])
        (params, opt_state), loss, grad_norm = ppo(
            state.params, state.opt_state, k_ppo, h0, traj, adv, target, apply_grads
        )
        metrics = {
            "loss": loss,
            "grad_norm": grad_norm,
            "mean_reward": traj["reward"].mean(),
            "episodes": traj["done"].sum(),
        }
        return traj, max_returns, params, opt_state, metrics

    def replay_step(state: TrainState):
        rng, k_sample, k_train = jax.random.split(state.rng, 3)
        sampler, (inds, levels) = level_sampler.sample_replay_levels(
            state.sampler, k_sample, num_envs
        )
        traj, max_returns, params, opt_state, metrics = train_on(state, levels, k_train, True)
        max_returns = jnp.maximum(
            level_sampler.get_levels_extra(sampler, inds)["max_return"], max_returns
        )
        scores = max_mc(traj["done"], traj["value"], max_returns)
        sampler = level_sampler.update_batch(sampler, inds, scores, {"max_return": max_returns})
        metrics = {**metrics, "mean_score": scores.mean(), "buffer_size": sampler["size"]}
        new = TrainState(params, opt_state, sampler, rng, state.num_updates + 1)
        return new, metrics

    def new_step(state: TrainState):
        rng, k_levels, k_train = jax.random.split(state.rng, 3)
        levels = jax.vmap(generator)(jax.random.split(k_levels, num_envs))
        # the PPO passes run; their params / optimiser state are thrown away below
        traj, max_returns, _, _, metrics = train_on(state, levels, k_train, False)
        scores = max_mc(traj["done"], traj["value"], max_returns)
        sampler, _ = level_sampler.insert_batch(
            state.sampler, levels, scores, {"max_return": max_returns}
        )
        metrics = {**metrics, "mean_score": scores.mean(), "buffer_size": sampler["size"]}
        new = TrainState(state.params, state.opt_state, sampler, rng, state.num_updates + 1)
        return new, metrics

    return JaxuedPLR(init, replay_step, new_step, num_envs, num_steps)


def measure_jaxued(num_envs: int, num_steps: int, updates: int, seed: int = 0) -> list[dict]:
    """Compile and time jaxued's robust-PLR ``replay`` and ``new`` updates (rows like
    ``train_throughput.measure``). The buffer is first filled with one new update; then one
    untimed call of each kind, then ``updates`` timed calls of each kind, alternating."""
    plr = make_jaxued_plr(num_envs, num_steps, seed)
    state = jax.jit(plr.init)(jax.random.key(seed))
    jax.block_until_ready(state)
    fns, compile_s = {}, {}
    for kind, fn in (("replay", plr.replay_step), ("new", plr.new_step)):
        t0 = time.perf_counter()
        fns[kind] = jax.jit(fn).lower(state).compile()
        compile_s[kind] = time.perf_counter() - t0
    state, _ = fns["new"](state)  # fill: replay needs levels in the buffer
    if int(state.sampler["size"]) == 0:  # levels with no finished episode score -inf
        raise RuntimeError("the fill update inserted no level; use num_steps > 250")
    for kind in ("replay", "new"):  # first call of each kind: discarded
        state, m = fns[kind](state)
        jax.block_until_ready((state, m))
    times: dict[str, list[float]] = {"replay": [], "new": []}
    cpu: dict[str, list[float]] = {"replay": [], "new": []}
    for _ in range(updates):
        for kind in ("replay", "new"):
            t, c = time.perf_counter(), time.process_time()
            state, m = fns[kind](state)
            jax.block_until_ready((state, m))
            times[kind].append(time.perf_counter() - t)
            cpu[kind].append(time.process_time() - c)
    dev = jax.devices()[0]
    rows = []
    for kind in ("replay", "new"):
        med = statistics.median(times[kind])
        rows.append(
            {
                "impl": "jaxued",
                "curriculum": "robust-plr",
                "update_kind": kind,
                "num_envs": num_envs,
                "num_steps": num_steps,
                "env_steps_per_s": num_envs * num_steps / med,
                "median_update_s": med,
                "median_cpu_s": statistics.median(cpu[kind]),
                "samples": len(times[kind]),
                "compile_s": compile_s[kind],
                "device": f"{dev.platform}:{getattr(dev, 'device_kind', str(dev))}",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--num-envs", type=int, default=32)
    p.add_argument("--num-steps", type=int, default=256)
    p.add_argument("--updates", type=int, default=3, help="timed updates per update kind")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for row in measure_jaxued(args.num_envs, args.num_steps, args.updates, args.seed):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
