"""Ground-truth evaluation of trained students on the aleatoric mazes (SAMPLR's measurable
effect): held-out layouts, pure and jittable episode statistics, and the interval over seeds.

Design (see ``docs/samplr.md``):

* **Layouts** (:func:`gamble_heldout_layouts`): drawn from the *training* generator
  (:func:`envs.aleatoric.gamble.sample_gamble_level`) with a seed no training run uses, kept
  only when both exits are at the **same** BFS distance (cell moves, each exit avoiding the
  other, :func:`envs.maze.bfs.cell_distances`) of at least ``min_distance`` (default 4) from the
  start. Equal distance makes the exit taken a *choice*, not which exit is nearer; the minimum
  distance makes the choice one the agent navigates to, not an accident of starting next to an
  exit.
* **Episodes** (:func:`gamble_episodes`, :func:`lava_episodes`): ``num_episodes`` first
  episodes per layout and observation class, stochastic (the trained policy: the acceptance
  thresholds use it) or greedy (argmax, reported beside it).
* **Gamble maze** per observation class ``c`` in (no cue, favourable cue, unfavourable cue):
  ``exit_rate`` = episodes that leave by either exit / all episodes; ``gamble_rate`` =
  gamble exits / episodes that leave (the *choice*; NaN when none leaves); ``gamble_share`` =
  gamble exits / all episodes (bounded by ``exit_rate``). ``ground_truth_return`` is exact in
  the coin: the policy sees only the cue, so its episode in class ``c`` is the same whatever the
  coin, and an episode that leaves at time ``t`` by the safe exit is worth ``0.5 d(t)``, by the
  gamble exit ``P(pay | c) d(t)`` (``d(t) = 1 - 0.9 t / T``), with ``P(pay | no cue) = 0.25``,
  ``P(pay | says pay) = 0.75``, ``P(pay | says no pay) = 0.0357``; the classes are weighted by
  their ground-truth probabilities ``0.5 / 0.15 / 0.35``. Only the policy's own randomness
  is sampled.
* **Lava maze** (:func:`lava_episodes`): theta from the prior Beta(2, 8) and the slips are
  sampled (Monte Carlo): ``detour_rate`` = episodes reaching the goal never next to lava / all
  episodes, ``solve_rate``, ``lava_rate`` and ``ground_truth_return`` (the episode's reward).
* **Over seeds** (:func:`seed_interval`, :func:`summarize`, :func:`intervals_apart`, from
  :mod:`ued.stats`): the functions take parameters with a leading seed axis (vmapped), one value
  per seed, then the mean and a 95% Student-t interval.

Episodes are rolled out by the toolkit's one rollout (:func:`ued.rollout.rollout_levels`, the
``info`` of every step recorded, :func:`ued.rollout.first_episode` masking the first episode).
Everything but the layout filter's final selection and :func:`summarize` is jittable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from envs.aleatoric.gamble import (
    CUE_ACCURACY,
    EXIT_GAMBLE,
    EXIT_NONE,
    EXIT_SAFE,
    P_PAY,
    SAFE_PAYOUT,
    GambleLevel,
    exit_distances,
    sample_gamble_level,
)
from envs.aleatoric.grid import MAX_STEPS, cell_mask
from envs.maze.bfs import UNREACHABLE
from ued.rollout import PolicyStep, first_episode, rollout_levels
from ued.stats import intervals_apart, seed_interval, summarize

# The observation classes of the gamble maze: (has_cue, cue_reading) as the policy sees them.
CLASSES = ("no_cue", "favourable", "unfavourable")
_CLASS_CUE = ((False, False), (True, True), (True, False))


def _class_probs() -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth P(class) and P(pay | class) for :data:`CLASSES` (cue on half the levels)."""
    says_pay = P_PAY * CUE_ACCURACY + (1 - P_PAY) * (1 - CUE_ACCURACY)  # 0.3
    p_class = np.array([0.5, 0.5 * says_pay, 0.5 * (1 - says_pay)])
    p_pay = np.array(
        [
            P_PAY,
            P_PAY * CUE_ACCURACY / says_pay,
            P_PAY * (1 - CUE_ACCURACY) / (1 - says_pay),
        ]
    )
    return p_class, p_pay


CLASS_PROB, PAY_PROB = _class_probs()  # float64[3] each


# ------------------------------------------------------------------------------ layouts


def equal_distance_mask(level: GambleLevel, min_distance: int = 4) -> jax.Array:
    """bool[]: both exits reachable (each avoiding the other) at the same BFS distance, at
    least ``min_distance``. Jittable, vmappable."""
    a, b = exit_distances(level)
    return (a == b) & (a >= min_distance) & (a < UNREACHABLE)


def gamble_heldout_layouts(
    n: int = 64,
    seed: int = 20_261_130,
    min_distance: int = 4,
    max_draws: int = 16_384,
    sampler: Callable[[jax.Array], GambleLevel] = sample_gamble_level,
) -> GambleLevel:
    """``n`` held-out gamble layouts (batched, leaves ``(n, ...)``): draws of the training
    generator ``sampler`` from keys split off ``jax.random.key(seed)`` (a seed no training run
    uses: runs use small seeds), kept when :func:`equal_distance_mask` holds, in draw order.
    ``has_cue``, ``coin`` and ``cue_reading`` are zeroed: the evaluation sets the observation
    class. ``ValueError`` if fewer than ``n`` of ``max_draws`` draws qualify. Host (the filter's
    selection has a data-dependent size)."""
    keys = jax.random.split(jax.random.key(seed), max_draws)
    lv = jax.jit(jax.vmap(sampler))(keys)
    ok = np.asarray(jax.jit(jax.vmap(lambda lvl: equal_distance_mask(lvl, min_distance)))(lv))
    idx = np.nonzero(ok)[0]
    if idx.size < n:
        raise ValueError(
            f"only {idx.size} of {max_draws} generator draws have both exits at equal distance "
            f">= {min_distance}; {n} requested"
        )
    sel = jnp.asarray(idx[:n])
    out = jax.tree.map(lambda x: x[sel], lv)
    z = jnp.zeros((n,), bool)
    return out.replace(has_cue=z, coin=z, cue_reading=z)


def with_class(layouts: GambleLevel, cls: int) -> GambleLevel:
    """``layouts`` with the cue set for observation class ``cls`` (index into
    :data:`CLASSES`); the coin is 0 (the policy cannot see it; the ground truth is applied
    exactly afterwards). Jittable."""
    has_cue, reading = _CLASS_CUE[cls]
    n = layouts.has_cue.shape
    return layouts.replace(
        has_cue=jnp.full(n, has_cue),
        cue_reading=jnp.full(n, reading),
        coin=jnp.zeros(n, bool),
    )


# ------------------------------------------------------------------------------ episodes

# An actor: ``act(key, carry, obs, first) -> (carry, action)`` for a batch of B environments;
# ``obs`` leaves (B, ...), ``first`` bool[B] (the step starts an episode), action int32[B].
Actor = Callable[[jax.Array, Any, Any, jax.Array], tuple[Any, jax.Array]]


def network_actor(net, params, greedy: bool = False) -> tuple[Actor, Callable[[int], Any]]:
    """``(act, initial_carry)`` for an :class:`ued.networks.ActorCritic` with ``params`` (one
    seed): actions sampled from its policy, or its argmax with ``greedy``. Jittable."""

    def act(key, carry, obs, first):
        seq = jax.tree.map(lambda x: x[None], obs)
        carry, out, _ = net.apply(params, carry, seq, first[None])
        logits = out[0]
        a = jnp.argmax(logits, -1) if greedy else jax.random.categorical(key, logits)
        return carry, a.astype(jnp.int32)

    return act, net.initial_carry


def scripted_gamble_actor(choice: str) -> tuple[Actor, Callable[[int], Any]]:
    """``(act, initial_carry)`` of a scripted gamble-maze policy read off the observation:
    ``"safe"`` / ``"gamble"`` walk a shortest path (:func:`envs.aleatoric.scripted_action`) to
    that exit, never entering the other; ``"random"`` takes uniform random actions. For tests
    and sanity checks. Jittable."""
    if choice not in ("safe", "gamble", "random"):
        raise ValueError(f"choice must be 'safe', 'gamble' or 'random', got {choice!r}")
    from envs.aleatoric.analysis import scripted_action

    def pos(mask):  # (7, 7) one-hot -> int32[2] (x, y)
        i = jnp.argmax(mask.reshape(-1))
        return jnp.stack([i % mask.shape[1], i // mask.shape[1]]).astype(jnp.int32)

    def one(obs):
        img = obs.image
        walls = img[..., 0] > 0.5
        safe, gamble, agent = pos(img[..., 1]), pos(img[..., 2]), pos(img[..., 3])
        target, other = (safe, gamble) if choice == "safe" else (gamble, safe)
        return scripted_action(walls, agent, obs.agent_dir, target, cell_mask(other))

    def act(key, carry, obs, first):
        del first
        b = obs.agent_dir.shape[0]
        if choice == "random":
            return carry, jax.random.randint(key, (b,), 0, 3).astype(jnp.int32)
        return carry, jax.vmap(one)(obs)

    return act, lambda b: ()


def first_episodes(
    key, env, act: Actor, carry, levels, num_steps: int = MAX_STEPS, info_keys=()
) -> dict[str, jax.Array]:
    """Run one episode on each of ``levels`` (batched, ``B``) for up to ``num_steps`` steps;
    steps after an episode ends are ignored. Returns per-level arrays: ``done`` bool (the episode
    ended within ``num_steps``), ``return`` float32, ``length`` int32 (steps of the episode)
    and, for each of ``info_keys``, ``info[k]`` (int32) on the step that ended it (0 if
    unfinished). ``env`` is stepped as it is (no auto-reset needed: what follows an episode's
    end is masked out). Jittable."""

    def policy(k, params, carry, obs, reset):
        del params
        carry, action = act(k, carry, obs, reset)
        return PolicyStep(carry, action)

    res = rollout_levels(
        key,
        env,
        levels,
        None,
        env.default_params,
        num_steps=num_steps,
        carry=carry,
        policy=policy,
        record_info=tuple(info_keys),
        episode_stats=False,
    )
    tr = res.traj
    ended = jnp.logical_or(tr.terminated, tr.truncated)  # (T, B)
    live = first_episode(ended)
    end = jnp.logical_and(live, ended)
    out = {
        "done": jnp.any(end, axis=0),
        "return": jnp.sum(jnp.where(live, tr.reward, 0.0), axis=0),
        "length": jnp.sum(live, axis=0, dtype=jnp.int32),
    }
    for k in info_keys:
        out[k] = jnp.sum(jnp.where(end, res.info[k].astype(jnp.int32), 0), axis=0)
    return out


def gamble_episode_stats(exit_: jax.Array, length: jax.Array, cls: int) -> dict[str, jax.Array]:
    """Statistics of episodes of one observation class ``cls`` from their ``exit`` codes
    (int32[N]: 0 none, 1 safe, 2 gamble) and ``length`` (int32[N], the exit step): scalars
    ``exit_rate``, ``gamble_rate`` (gamble exits / exits; NaN if none exits), ``gamble_share``
    (gamble exits / all) and ``ground_truth_return`` (the class's exact expected return given
    the exits taken, see the module docstring). Jittable."""
    exited = exit_ != EXIT_NONE
    gamble = exit_ == EXIT_GAMBLE
    safe = exit_ == EXIT_SAFE
    disc = 1.0 - 0.9 * length.astype(jnp.float32) / MAX_STEPS
    value = jnp.where(safe, SAFE_PAYOUT, jnp.where(gamble, float(PAY_PROB[cls]), 0.0)) * disc
    n_exit = jnp.sum(exited)
    return {
        "exit_rate": jnp.mean(exited.astype(jnp.float32)),
        "gamble_rate": jnp.where(
            n_exit > 0, jnp.sum(gamble) / jnp.maximum(n_exit, 1), jnp.nan
        ).astype(jnp.float32),
        "gamble_share": jnp.mean(gamble.astype(jnp.float32)),
        "ground_truth_return": jnp.mean(value),
    }


def gamble_episodes(
    key, env, make_actor, layouts: GambleLevel, num_episodes: int = 8
) -> dict[str, jax.Array]:
    """Evaluate one policy on the gamble maze: ``num_episodes`` first episodes per layout and
    observation class.

    Args:
      key: PRNG key (the policy's sampling).
      env: a :class:`envs.aleatoric.GambleMazeEnv`.
      make_actor: ``() -> (act, initial_carry)`` (e.g. ``lambda: network_actor(net, p)``, or
        a scripted policy; see :data:`Actor`).
      layouts: batched layouts from :func:`gamble_heldout_layouts`.

    Returns a dict of float32 scalars: ``{class}/{stat}`` for each class of :data:`CLASSES` and
    stat of :func:`gamble_episode_stats`, and ``ground_truth_return`` (classes weighted by
    :data:`CLASS_PROB`). Jittable (``make_actor`` is called inside).
    """
    act, initial_carry = make_actor()
    n = layouts.has_cue.shape[0]
    lv = jax.tree.map(lambda x: jnp.repeat(x, num_episodes, 0), layouts)
    out = {}
    gt = jnp.float32(0.0)
    for c, name in enumerate(CLASSES):
        res = first_episodes(
            jax.random.fold_in(key, c),
            env,
            act,
            initial_carry(n * num_episodes),
            with_class(lv, c),
            MAX_STEPS,
            ("exit",),
        )
        st = gamble_episode_stats(res["exit"], res["length"], c)
        for k, v in st.items():
            out[f"{name}/{k}"] = v
        gt = gt + float(CLASS_PROB[c]) * st["ground_truth_return"]
    out["ground_truth_return"] = gt
    return out


def gamble_eval_seeds(
    key, env, net, params, layouts: GambleLevel, num_episodes: int = 8, greedy: bool = False
) -> dict[str, jax.Array]:
    """:func:`gamble_episodes` for a network whose ``params`` carry a leading seed axis ``S``:
    dict of float32[S] (one value per seed). Greedy runs one episode per layout and class
    (deterministic). Jittable (jit it with ``net``/``env`` closed over)."""
    reps = 1 if greedy else num_episodes

    def one(k, p):
        return gamble_episodes(k, env, lambda: network_actor(net, p, greedy), layouts, reps)

    s = jax.tree.leaves(params)[0].shape[0]
    return jax.vmap(one)(jax.random.split(key, s), params)


def lava_episodes(
    key, env, make_actor, layouts, prior_sample, num_episodes: int = 32
) -> dict[str, jax.Array]:
    """Evaluate one policy on the lava maze: ``num_episodes`` first episodes per layout, theta
    drawn by ``prior_sample(key, level)`` (the space's ``aleatoric.prior_sample``, Beta(2, 8)),
    slips sampled by the env. Returns float32 scalars ``detour_rate``, ``solve_rate``,
    ``lava_rate`` and ``ground_truth_return`` (Monte Carlo mean of the episode's reward) with
    ``ground_truth_return_se`` (its standard error). Jittable."""
    act, initial_carry = make_actor()
    n = jax.tree.leaves(layouts)[0].shape[0] * num_episodes
    lv = jax.tree.map(lambda x: jnp.repeat(x, num_episodes, 0), layouts)
    k_t, k_run = jax.random.split(key)
    lv = jax.vmap(prior_sample)(jax.random.split(k_t, n), lv)
    res = first_episodes(
        k_run, env, act, initial_carry(n), lv, MAX_STEPS, ("detour", "lava", "solved")
    )
    ret = res["return"]
    return {
        "detour_rate": jnp.mean(res["detour"].astype(jnp.float32)),
        "solve_rate": jnp.mean(res["solved"].astype(jnp.float32)),
        "lava_rate": jnp.mean(res["lava"].astype(jnp.float32)),
        "ground_truth_return": jnp.mean(ret),
        "ground_truth_return_se": jnp.std(ret, ddof=1) / jnp.sqrt(n),
    }


def lava_eval_seeds(
    key, env, net, params, layouts, prior_sample, num_episodes: int = 32, greedy: bool = False
) -> dict[str, jax.Array]:
    """:func:`lava_episodes` for a network whose ``params`` carry a leading seed axis ``S``:
    dict of float32[S]. Jittable."""

    def one(k, p):
        return lava_episodes(
            k, env, lambda: network_actor(net, p, greedy), layouts, prior_sample, num_episodes
        )

    s = jax.tree.leaves(params)[0].shape[0]
    return jax.vmap(one)(jax.random.split(key, s), params)


__all__ = [
    "CLASSES",
    "CLASS_PROB",
    "PAY_PROB",
    "Actor",
    "equal_distance_mask",
    "exit_distances",  # re-exported from envs.aleatoric.gamble
    "first_episodes",
    "gamble_episode_stats",
    "gamble_episodes",
    "gamble_eval_seeds",
    "gamble_heldout_layouts",
    "intervals_apart",  # re-exported from ued.stats
    "lava_episodes",
    "lava_eval_seeds",
    "network_actor",
    "scripted_gamble_actor",
    "seed_interval",  # re-exported from ued.stats
    "summarize",  # re-exported from ued.stats
    "with_class",
]
