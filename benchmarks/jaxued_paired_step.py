"""jaxued peer baseline for ``train_throughput.py --curriculum paired --compare jaxued``.

A rebuild, on jaxued's *public* API (``jaxued==0.0.1``), of the train step of jaxued's published
maze PAIRED example (``examples/maze_paired.py`` in jaxued's GitHub repo; the example is not in
the wheel). Written for this benchmark from the example's semantics and published settings; no
jaxued code is vendored. Evaluation, logging and checkpointing of the example are left out.

Public jaxued API used:

* ``jaxued.environments.Maze(13, 13, agent_view_size=5, normalize_obs=True)`` wrapped in
  ``jaxued.wrappers.AutoReplayWrapper`` (the students' env), ``env.reset_to_level`` /
  ``env.step`` vmapped;
* ``jaxued.environments.MazeEditor`` (the teacher's env: goal, direction, agent, then wall
  toggles; its observation is the 13x13x3 grid, an action mask (unused by the example's net), the
  time step and a noise vector) and ``jaxued.environments.maze.Level`` (the empty start level);
* ``jaxued.linen.ResetRNN`` around ``flax.linen.OptimizedLSTMCell(256)``;
* ``jaxued.utils.compute_max_mean_returns_epcount`` (per-level mean / max returns);
* ``jaxued.environments.maze.make_level_generator(13, 13, 25)`` (only for ``student_step``'s
  levels, the validation below).

One update (``train_step``), as in the example::

    teacher:     50 editor steps on B empty levels (its LSTM-256 policy) -> B levels
    protagonist: 256 steps on the levels (auto-replay), GAE -> mean returns
    antagonist:  256 steps on the same levels, GAE -> max returns
    teacher reward: ant_max_returns - pro_mean_returns at its last step, 0 before; GAE
                 (bootstrapped from the teacher's last value, as the example does), last done
                 set for the PPO batch
    three PPO updates: protagonist, antagonist, teacher (5 epochs x 1 minibatch each)

Settings (the example's defaults unless marked): 32 envs x 256 student steps, 50 teacher steps;
students: conv 16 3x3 VALID over the 5x5 view + one-hot direction -> Dense 5, LSTM 256, actor
Dense 32 tanh, critic Dense 32 relu; teacher: conv 128 3x3 VALID over the 13x13 grid, time
embedding (51 x 10), the noise vector, LSTM 256, heads Dense 32 relu. PPO for all three: lr 1e-4
linearly annealed over 30000 updates, Adam eps 1e-5, global grad-norm clip 0.5, gamma 0.995,
lambda 0.98 (GAE scan unrolled 16, as the example), 5 epochs x 1 minibatch (minibatches are
permutations of whole env sequences; the LSTM restarts from the zero state), clip 0.2 (policy
and value), value coefficient 0.5, entropy 1e-3. Categorical sampling from logits with
``jax.random.categorical`` (the example uses distrax; same distribution).

Deviation, to match openued's PAIRED (``curricula.paired``, minimax's setting): the teacher's
noise has 50 dimensions and is live (``MazeEditor(random_z_dimensions=50,
zero_out_random_z=True)``; the example's default is 16 dimensions multiplied by False, i.e.
zeros). ``--noise-dim 16 --zero-noise`` gives the example's exact setting.

Env steps per update: 2 x B x T student steps (the example's own ``num_env_steps`` count, which
openued's benchmark uses too) plus B x 50 teacher (editor) steps, reported separately.

``student_step`` is the protagonist part alone (rollout + GAE + returns + PPO update with the
gradient applied), for validating this rebuild against the maintainers' PLR reference
(``--validate /path/to/jaxued_plr_step.py``: its replay update, alternating, in this process).

    python benchmarks/jaxued_paired_step.py --updates 3
    python benchmarks/jaxued_paired_step.py --validate ../shared/bench/jaxued_plr_step.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.linen.initializers import constant, orthogonal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _jaxued import jaxued_module  # noqa: E402  (restores jax.tree_map before importing jaxued)
from train_throughput import prepare_update  # noqa: E402  (the same timing for both sides)

_envs = jaxued_module("jaxued.environments")
Maze, MazeEditor = _envs.Maze, _envs.MazeEditor
_maze = jaxued_module("jaxued.environments.maze")
Level, make_level_generator = _maze.Level, _maze.make_level_generator
ResetRNN = jaxued_module("jaxued.linen").ResetRNN
compute_max_mean_returns_epcount = jaxued_module("jaxued.utils").compute_max_mean_returns_epcount
AutoReplayWrapper = jaxued_module("jaxued.wrappers").AutoReplayWrapper

# the example's published settings (student_* and adv_* flags share the same values)
MAZE_SIZE = 13
AGENT_VIEW = 5
NUM_ENVS = 32
STUDENT_STEPS = 256
TEACHER_STEPS = 50
NOISE_DIM = 50  # openued / minimax; the example: 16, zeroed
LR = 1e-4
NUM_UPDATES = 30_000  # linear LR annealing horizon
MAX_GRAD_NORM = 0.5
GAMMA = 0.995
GAE_LAMBDA = 0.98
EPOCHS = 5
MINIBATCHES = 1
CLIP_EPS = 0.2
ENT_COEF = 1e-3
VF_COEF = 0.5
LSTM = 256


class StudentNet(nn.Module):
    """The example's student actor-critic (logits instead of a distrax distribution)."""

    num_actions: int

    @nn.compact
    def __call__(self, inputs, hidden):
        obs, dones = inputs
        img = nn.Conv(16, kernel_size=(3, 3), strides=(1, 1), padding="VALID")(obs.image)
        img = nn.relu(img.reshape(*img.shape[:-3], -1))
        d = nn.Dense(5, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(
            jax.nn.one_hot(obs.agent_dir, 4)
        )
        emb = jnp.concatenate([img, d], axis=-1)
        hidden, emb = ResetRNN(nn.OptimizedLSTMCell(features=LSTM))(
            (emb, dones), initial_carry=hidden
        )
        a = nn.tanh(nn.Dense(32, kernel_init=orthogonal(2), bias_init=constant(0.0))(emb))
        logits = nn.Dense(self.num_actions, kernel_init=orthogonal(0.01), bias_init=constant(0.0))(
            a
        )
        c = nn.relu(nn.Dense(32, kernel_init=orthogonal(2), bias_init=constant(0.0))(emb))
        v = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=constant(0.0))(c)
        return hidden, logits, jnp.squeeze(v, -1)


class TeacherNet(nn.Module):
    """The example's adversary: conv 128 over the grid, time embedding 10, noise, LSTM, heads."""

    num_actions: int
    max_timesteps: int = TEACHER_STEPS

    @nn.compact
    def __call__(self, inputs, hidden):
        obs, dones = inputs
        img = nn.Conv(128, kernel_size=(3, 3), strides=(1, 1), padding="VALID")(obs.image)
        img = nn.relu(img.reshape(*img.shape[:-3], -1))
        t = nn.Embed(self.max_timesteps + 1, 10, embedding_init=orthogonal(1.0))(
            jnp.clip(obs.time, None, self.max_timesteps)
        )
        emb = jnp.concatenate([img, t, obs.random_z], axis=-1)
        hidden, emb = ResetRNN(nn.OptimizedLSTMCell(features=LSTM))(
            (emb, dones), initial_carry=hidden
        )
        a = nn.relu(nn.Dense(32, kernel_init=orthogonal(2), bias_init=constant(0.0))(emb))
        logits = nn.Dense(self.num_actions, kernel_init=orthogonal(0.01), bias_init=constant(0.0))(
            a
        )
        c = nn.relu(nn.Dense(32, kernel_init=orthogonal(2), bias_init=constant(0.0))(emb))
        v = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=constant(0.0))(c)
        return hidden, logits, jnp.squeeze(v, -1)


def zero_carry(n: int):
    return nn.OptimizedLSTMCell(features=LSTM).initialize_carry(jax.random.PRNGKey(0), (n, LSTM))


class Learner(NamedTuple):
    params: Any
    opt_state: Any
    count: jax.Array  # PPO updates applied (for the linear LR schedule)


class PairedState(NamedTuple):
    rng: jax.Array
    pro: Learner
    ant: Learner
    adv: Learner
    update_count: jax.Array


class JaxuedPaired(NamedTuple):
    init: Any  # key -> PairedState
    train_step: Any  # PairedState -> (PairedState, metrics): one whole PAIRED update
    student_step: Any  # PairedState -> (PairedState, metrics): protagonist rollout + PPO only
    parts: dict  # name -> pure function of the pieces of train_step (profiling, below)
    num_envs: int
    num_steps: int
    teacher_steps: int


def make_jaxued_paired(
    num_envs: int = NUM_ENVS,
    num_steps: int = STUDENT_STEPS,
    teacher_steps: int = TEACHER_STEPS,
    noise_dim: int = NOISE_DIM,
    live_noise: bool = True,
) -> JaxuedPaired:
    """Pure (un-jitted) ``init``, ``train_step`` and ``student_step`` (module docstring)."""
    if num_envs % MINIBATCHES:
        raise ValueError("num_envs must be divisible by the number of minibatches")
    maze = Maze(
        max_height=MAZE_SIZE, max_width=MAZE_SIZE, agent_view_size=AGENT_VIEW, normalize_obs=True
    )
    editor = MazeEditor(maze, random_z_dimensions=noise_dim, zero_out_random_z=live_noise)
    env = AutoReplayWrapper(maze)
    env_params, adv_params = env.default_params, editor.default_params
    student = StudentNet(env.action_space(env_params).n)
    teacher = TeacherNet(editor.action_space(adv_params).n, teacher_steps)

    def schedule(count):
        return LR * (1.0 - (count // (MINIBATCHES * EPOCHS)) / NUM_UPDATES)

    tx = optax.chain(optax.clip_by_global_norm(MAX_GRAD_NORM), optax.adam(schedule, eps=1e-5))

    def empty_level():
        return Level(
            wall_map=jnp.zeros((MAZE_SIZE, MAZE_SIZE), dtype=jnp.bool_),
            goal_pos=jnp.array([0, 0], dtype=jnp.uint32),
            agent_pos=jnp.array([1, 1], dtype=jnp.uint32),
            agent_dir=jnp.array(0, dtype=jnp.uint8),
            width=MAZE_SIZE,
            height=MAZE_SIZE,
        )

    def init_learner(key, e, p, net):
        obs, _ = e.reset_to_level(key, empty_level(), p)
        x = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (1, num_envs) + jnp.shape(a)), obs)
        params = net.init(key, (x, jnp.zeros((1, num_envs), bool)), zero_carry(num_envs))
        return Learner(params, tx.init(params), jnp.zeros((), jnp.int32))

    def init(key) -> PairedState:
        k, kp, ka, kt = jax.random.split(key, 4)
        return PairedState(
            k,
            init_learner(kp, env, env_params, student),
            init_learner(ka, env, env_params, student),
            init_learner(kt, editor, adv_params, teacher),
            jnp.zeros((), jnp.int32),
        )

    def rollout(key, e, p, net, params, levels, steps):
        """The example's ``rollout``: reset to ``levels``, ``steps`` policy steps, GAE."""
        k_reset, key = jax.random.split(key)
        obs, state = jax.vmap(e.reset_to_level, (0, 0, None))(
            jax.random.split(k_reset, num_envs), levels, p
        )

        def step(carry, _):
            key, h, obs, state, last_done = carry
            key, k_act, k_env = jax.random.split(key, 3)
            x = jax.tree_util.tree_map(lambda a: a[None], (obs, last_done))
            h, logits, value = net.apply(params, x, h)
            logits, value = logits[0], value[0]
            action = jax.random.categorical(k_act, logits)
            logp = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], -1)[:, 0]
            nobs, state, reward, done, _ = jax.vmap(e.step, (0, 0, 0, None))(
                jax.random.split(k_env, num_envs), state, action, p
            )
            return (key, h, nobs, state, done), (obs, action, reward, done, logp, value)

        carry = (key, zero_carry(num_envs), obs, state, jnp.zeros(num_envs, bool))
        (_, h, last_obs, last_state, last_done), traj = jax.lax.scan(step, carry, None, steps)
        x = jax.tree_util.tree_map(lambda a: a[None], (last_obs, last_done))
        _, _, last_value = net.apply(params, x, h)
        return traj, last_state, last_value[0]

    def gae(last_value, values, rewards, dones):
        def back(carry, x):
            adv, next_value = carry
            v, r, d = x
            delta = r + GAMMA * next_value * (1 - d) - v
            adv = delta + GAMMA * GAE_LAMBDA * (1 - d) * adv
            return (adv, v), adv

        _, adv = jax.lax.scan(
            back,
            (jnp.zeros_like(last_value), last_value),
            (values, rewards, dones),
            reverse=True,
            unroll=16,
        )
        return adv, adv + values

    def ppo(key, net, learner: Learner, batch):
        """The example's ``update_actor_critic_rnn`` (update_grad=True)."""
        obs, actions, dones, log_probs, values, targets, advantages = batch
        last_dones = jnp.roll(dones, 1, axis=0).at[0].set(False)
        batch = (obs, actions, last_dones, log_probs, values, targets, advantages)
        h0 = zero_carry(num_envs)

        def loss_fn(params, mb):
            h, obs, actions, last_dones, old_logp, old_v, tgt, adv = mb
            _, logits, v = net.apply(params, (obs, last_dones), h)
            logp_all = jax.nn.log_softmax(logits)
            logp = jnp.take_along_axis(logp_all, actions[..., None], -1)[..., 0]
            entropy = -(jnp.exp(logp_all) * logp_all).sum(-1).mean()
            ratio = jnp.exp(logp - old_logp)
            adv = (adv - adv.mean()) / (adv.std() + 1e-5)
            l_clip = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - CLIP_EPS, 1 + CLIP_EPS) * adv)
            v_clip = old_v + (v - old_v).clip(-CLIP_EPS, CLIP_EPS)
            l_vf = 0.5 * jnp.maximum((v - tgt) ** 2, (v_clip - tgt) ** 2).mean()
            return l_clip.mean() + VF_COEF * l_vf - ENT_COEF * entropy

        grad_fn = jax.value_and_grad(loss_fn)

        def epoch(carry, _):
            key, learner = carry
            key, k_perm = jax.random.split(key)
            perm = jax.random.permutation(k_perm, num_envs)
            mbs = (
                jax.tree_util.tree_map(
                    lambda x: jnp.take(x, perm, 0).reshape(MINIBATCHES, -1, *x.shape[1:]), h0
                ),
                *jax.tree_util.tree_map(
                    lambda x: (
                        jnp.take(x, perm, 1)
                        .reshape(x.shape[0], MINIBATCHES, -1, *x.shape[2:])
                        .swapaxes(0, 1)
                    ),
                    batch,
                ),
            )

            def minibatch(learner, mb):
                loss, grads = grad_fn(learner.params, mb)
                updates, opt_state = tx.update(grads, learner.opt_state, learner.params)
                params = optax.apply_updates(learner.params, updates)
                return Learner(params, opt_state, learner.count + 1), loss

            learner, losses = jax.lax.scan(minibatch, learner, mbs)
            return (key, learner), losses

        (key, learner), losses = jax.lax.scan(epoch, (key, learner), None, EPOCHS)
        return learner, losses.mean()

    def student_rollout(key, learner, levels):
        traj, _, last_value = rollout(
            key, env, env_params, student, learner.params, levels, num_steps
        )
        obs, actions, rewards, dones, logp, values = traj
        adv, targets = gae(last_value, values, rewards, dones)
        mean_ret, max_ret, eps = compute_max_mean_returns_epcount(dones, rewards)
        return (obs, actions, dones, logp, values, targets, adv), (mean_ret, max_ret, eps)

    def teacher_levels(key, learner):
        empty = jax.tree_util.tree_map(
            lambda x: jnp.broadcast_to(x, (num_envs,) + jnp.shape(x)), empty_level()
        )
        traj, last_state, last_value = rollout(
            key, editor, adv_params, teacher, learner.params, empty, teacher_steps
        )
        return traj, last_state.level, last_value

    def train_step(state: PairedState):
        rng, k_adv, k_pro, k_ant, k_upd = jax.random.split(state.rng, 5)
        adv_traj, levels, adv_last_value = teacher_levels(k_adv, state.adv)
        pro_batch, (pro_mean, pro_max, pro_eps) = student_rollout(k_pro, state.pro, levels)
        ant_batch, (ant_mean, ant_max, ant_eps) = student_rollout(k_ant, state.ant, levels)
        est_regret = ant_max - pro_mean
        adv_batch = teacher_batch(adv_traj, adv_last_value, est_regret)
        k1, k2, k3 = jax.random.split(k_upd, 3)
        pro, pro_loss = ppo(k1, student, state.pro, pro_batch)
        ant, ant_loss = ppo(k2, student, state.ant, ant_batch)
        adv_l, adv_loss = ppo(k3, teacher, state.adv, adv_batch)
        metrics = {
            "pro_loss": pro_loss,
            "ant_loss": ant_loss,
            "adv_loss": adv_loss,
            "est_regret": est_regret.mean(),
            "pro_mean_return": pro_mean.mean(),
            "ant_max_return": ant_max.mean(),
            "pro_max_return": pro_max.mean(),
            "ant_mean_return": ant_mean.mean(),
            "pro_episodes": pro_eps.mean(),
            "ant_episodes": ant_eps.mean(),
            "mean_num_blocks": levels.wall_map.sum() / num_envs,
        }
        new = PairedState(rng, pro, ant, adv_l, state.update_count + 1)
        return new, metrics

    generator = make_level_generator(MAZE_SIZE, MAZE_SIZE, 25)

    def student_step(state: PairedState):
        """The protagonist's part alone (for validation against the PLR reference's replay
        update): rollout + GAE + returns + PPO update, on fresh 25-block generator levels (the
        same level distribution the PLR reference replays)."""
        rng, k_lvl, k_pro, k_upd = jax.random.split(state.rng, 4)
        levels = jax.vmap(generator)(jax.random.split(k_lvl, num_envs))
        batch, (mean_ret, _, _) = student_rollout(k_pro, state.pro, levels)
        pro, loss = ppo(k_upd, student, state.pro, batch)
        return state._replace(rng=rng, pro=pro), {"loss": loss, "mean_return": mean_ret.mean()}

    def teacher_batch(adv_traj, adv_last_value, est_regret):
        obs, actions, _, dones, logp, values = adv_traj
        rewards = jnp.zeros_like(values).at[-1].set(est_regret)
        adv, targets = gae(adv_last_value, values, rewards, dones)
        return (obs, actions, dones.at[-1].set(True), logp, values, targets, adv)

    # the pieces of train_step, for benchmarks/paired_profile.py
    parts = {
        "teacher_rollout": lambda key, st: teacher_levels(key, st.adv),
        "student_rollout": lambda key, st, levels: student_rollout(key, st.pro, levels),
        "student_ppo": lambda key, st, batch: ppo(key, student, st.pro, batch),
        "teacher_batch": teacher_batch,
        "teacher_ppo": lambda key, st, batch: ppo(key, teacher, st.adv, batch),
    }
    return JaxuedPaired(init, train_step, student_step, parts, num_envs, num_steps, teacher_steps)


def settings(pair: JaxuedPaired, noise_dim: int, live_noise: bool) -> dict:
    """The settings of a rebuild, for its JSON rows."""
    return {
        "maze": f"{MAZE_SIZE}x{MAZE_SIZE}",
        "num_envs": pair.num_envs,
        "num_steps": pair.num_steps,
        "teacher_steps": pair.teacher_steps,
        "noise_dim": noise_dim,
        "live_noise": live_noise,
        "teacher_obs": f"{MAZE_SIZE}x{MAZE_SIZE}x3 grid (MazeEditor)",
        "ppo": f"{EPOCHS} epochs x {MINIBATCHES} minibatch, lr {LR} annealed, clip {CLIP_EPS}",
    }


def prepare_jaxued_paired(
    num_envs=NUM_ENVS,
    num_steps=STUDENT_STEPS,
    seed=0,
    *,
    noise_dim=NOISE_DIM,
    live_noise=True,
    part="train",
):
    """``(call, compile_s, settings)`` for one whole jaxued PAIRED update (``part="train"``) or
    the protagonist part alone (``part="student"``)."""
    pair = make_jaxued_paired(num_envs, num_steps, TEACHER_STEPS, noise_dim, live_noise)
    state = jax.jit(pair.init)(jax.random.key(seed))
    fn = pair.train_step if part == "train" else pair.student_step
    call, compile_s = prepare_update(fn, state)
    return call, compile_s, settings(pair, noise_dim, live_noise)


def _load_reference(path: str):
    """Import the maintainers' ``jaxued_plr_step.py`` from where it lives (not copied)."""
    d = os.path.dirname(os.path.abspath(path))
    if d not in sys.path:
        sys.path.insert(0, d)
    spec = importlib.util.spec_from_file_location("jaxued_plr_step_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def prepare_reference_replay(path: str, num_envs: int, num_steps: int):
    """The reference's replay update (branch 1 forced, one update per call)."""
    ref = _load_reference(path)
    cfg = argparse.Namespace(
        num_envs=num_envs,
        num_steps=num_steps,
        updates=1,
        n_walls=25,
        num_edits=5,
        prefill=2048,
        accel=False,
    )
    init, train_k = ref.build(cfg)
    carry = jax.block_until_ready(jax.jit(init)(jax.random.PRNGKey(0)))
    forced = jnp.int32(1)
    t0 = time.perf_counter()
    compiled = jax.jit(train_k).lower(carry, forced).compile()
    compile_s = time.perf_counter() - t0
    box = {"c": carry}

    def call():
        t, c = time.perf_counter(), time.process_time()
        box["c"], out = compiled(box["c"], forced)
        jax.block_until_ready((box["c"], out))
        return time.perf_counter() - t, time.process_time() - c

    call()
    return call, compile_s


def validate(path: str, num_envs: int, num_steps: int, rounds: int, updates: int) -> dict:
    """Rebuild's protagonist update vs the reference's replay update, alternating rounds."""
    mine, c_mine, st = prepare_jaxued_paired(num_envs, num_steps, part="student")
    ref, c_ref = prepare_reference_replay(path, num_envs, num_steps)
    work = num_envs * num_steps
    per_round = []
    for r in range(rounds):
        order = (("rebuild", mine), ("reference", ref))
        if r % 2:
            order = order[::-1]
        med, cpu = {}, {}
        for name, call in order:
            ts = [call() for _ in range(updates)]
            med[name] = statistics.median(t for t, _ in ts)
            cpu[name] = statistics.median(c for _, c in ts)
        per_round.append(
            {
                "rebuild_env_steps_per_s": work / med["rebuild"],
                "reference_env_steps_per_s": work / med["reference"],
                "ratio": med["reference"] / med["rebuild"],  # rebuild rate / reference rate
                "cpu_s": cpu,
                "cpu_ratio": cpu["reference"] / cpu["rebuild"],
            }
        )
    ratio = statistics.median(x["ratio"] for x in per_round)
    cpu_ratio = statistics.median(x["cpu_ratio"] for x in per_round)
    return {
        "bench": "jaxued_paired_validation",
        "what": "rebuild student_step (rollout+GAE+returns+PPO) vs jaxued_plr_step.py replay",
        "reference": os.path.abspath(path),
        "num_envs": num_envs,
        "num_steps": num_steps,
        "rounds": per_round,
        "median_ratio_rebuild_over_reference": ratio,
        "within_15pct": abs(ratio - 1.0) <= 0.15,
        "median_cpu_ratio_rebuild_over_reference": cpu_ratio,
        "compile_s": {"rebuild": c_mine, "reference": c_ref},
        "settings": st,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--num-envs", type=int, default=NUM_ENVS)
    p.add_argument("--num-steps", type=int, default=STUDENT_STEPS)
    p.add_argument("--updates", type=int, default=3, help="timed updates (per round)")
    p.add_argument("--rounds", type=int, default=3, help="--validate: alternating rounds")
    p.add_argument("--noise-dim", type=int, default=NOISE_DIM)
    p.add_argument("--zero-noise", action="store_true", help="the example's zeroed noise")
    p.add_argument("--validate", metavar="JAXUED_PLR_STEP_PY", default=None)
    args = p.parse_args(argv)
    if args.validate:
        print(
            json.dumps(
                validate(args.validate, args.num_envs, args.num_steps, args.rounds, args.updates)
            ),
            flush=True,
        )
        return 0
    call, compile_s, st = prepare_jaxued_paired(
        args.num_envs, args.num_steps, noise_dim=args.noise_dim, live_noise=not args.zero_noise
    )
    times = [call() for _ in range(args.updates)]
    med = statistics.median(t for t, _ in times)
    print(
        json.dumps(
            {
                "impl": "jaxued",
                "curriculum": "paired",
                "update_kind": "paired",
                "env_steps_per_s": 2 * args.num_envs * args.num_steps / med,
                "teacher_steps_per_s": args.num_envs * TEACHER_STEPS / med,
                "median_update_s": med,
                "median_cpu_s": statistics.median(c for _, c in times),
                "compile_s": compile_s,
                **st,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
