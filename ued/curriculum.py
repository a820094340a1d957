"""The curriculum contract: ``init / propose / observe``, shared by every curriculum.

One training step of ``ued.make_train`` does::

    cstate, proposal = curriculum.propose(k1, cstate, cparams, evaluate)
    rollout on proposal.levels (auto-replay: every episode of env i runs on level i)
    student update, masked by proposal.train
    (rollout and update repeated hold_updates times, episodes running on across them)
    stats = ued.scores.level_stats(score_name, score_inputs, proposal.extras.max_return)
    cstate = curriculum.observe(k2, cstate, proposal, stats, cparams)

A proposal is a batch of ``B`` levels (``B`` = number of parallel environments), each with the
branch that produced it (new / replay / mutate / ...: ``Curriculum.branches`` names them), its buffer slot (-1 if not from a
buffer), its buffer extras, and whether the student trains on its transitions. Per-level
``branch`` and ``train`` let one proposal mix branches (parallel PLR/ACCEL, SFL's mix of buffer
and fresh levels) without ``lax.cond``.

``evaluate(key, levels) -> LevelStats`` is a closure the trainer builds around the current
student; curricula that need to probe the student outside the training rollout (SFL) call it,
the others ignore it. Curricula that own a learner of their own (PAIRED) keep it in their state.

A curriculum that changes transitions during its rollouts (SAMPLR resamples aleatoric
parameters step by step) carries a step-hook factory, ``make_step_hook(env) -> hook``: the
trainer calls it once, at build time, with its wrapped env (``EpisodeStats(AutoReplay(env))``)
and steps its training rollouts with ``hook(key, env_state, action, env_params, proposal_i)``
(one environment; ``proposal_i`` is that environment's slice of the proposal) instead of
``env.step``. So such a curriculum is passed to ``make_train`` like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

# Branch ids every curriculum means the same by; a curriculum names its own branches
# (``Curriculum.branches``, id i named branches[i]) and may add ids of its own after these.
BRANCH_NEW = 0
BRANCH_REPLAY = 1
BRANCH_MUTATE = 2
DEFAULT_BRANCHES = ("new", "replay", "mutate")


@struct.dataclass
class LevelExtras:
    """Per-level data kept alongside a level in a buffer."""

    max_return: jax.Array  # float32[B] best return ever achieved on the level (-inf: never)


@struct.dataclass
class Proposal:
    """A batch of ``B`` levels for the student, and where they came from."""

    levels: Any  # level pytree, leaves (B, ...)
    slots: jax.Array  # int32[B] buffer slot, -1 where the level is not from a buffer
    extras: LevelExtras  # per-level extras, leaves (B,)
    branch: jax.Array  # int32[B] one of BRANCH_*
    train: jax.Array  # bool[B] whether the student's update uses this level's transitions


@struct.dataclass
class LevelStats:
    """What a rollout says about each of its ``B`` levels (the curriculum's feedback)."""

    score: jax.Array  # float32[B] the curriculum's score (higher = more useful to replay)
    max_return: jax.Array  # float32[B] best episode return ever, this rollout included
    mean_return: jax.Array  # float32[B] mean return of episodes finished in the rollout (nan: none)
    solve_rate: jax.Array  # float32[B] share of finished episodes solved (nan: none finished)
    num_episodes: jax.Array  # int32[B] episodes finished on the level in the rollout


@struct.dataclass
class ScoreInputs:
    """Rollout quantities a score function may use; ``T`` steps x ``B`` levels (one env each)."""

    reward: jax.Array  # float32[T, B]
    value: jax.Array  # float32[T, B] V(s_t) under the student
    advantage: jax.Array  # float32[T, B] GAE (terminated stops bootstrap, truncated does not)
    terminated: jax.Array  # bool[T, B]
    truncated: jax.Array  # bool[T, B]
    solved: jax.Array  # bool[T, B] an episode ended solved at step t
    episode_return: jax.Array  # float32[T, B] return of the episode ending at t (where done)
    optimal_return: jax.Array  # float32[B] best achievable return (nan where unknown)
    # the GAE's ingredients, for scores built from n-step returns (``mna``); ``ued.make_train``
    # fills them, a hand-built ScoreInputs may leave them out (such scores then refuse it)
    td_error: jax.Array | None = None  # float32[T, B] delta_t of ued.ppo.td_errors
    gamma: jax.Array | None = None  # float32[] the GAE's discount
    gae_lambda: jax.Array | None = None  # float32[] the GAE's lambda


def new_proposal(levels: Any, branch: int, train: bool) -> Proposal:
    """A proposal of fresh levels (no buffer slot, extras at -inf). Jittable."""
    b = jax.tree.leaves(levels)[0].shape[0]
    return Proposal(
        levels=levels,
        slots=jnp.full((b,), -1, jnp.int32),
        extras=LevelExtras(max_return=jnp.full((b,), -jnp.inf, jnp.float32)),
        branch=jnp.full((b,), branch, jnp.int32),
        train=jnp.full((b,), train, bool),
    )


class CurriculumLevels(NamedTuple):
    """The levels a curriculum holds (its buffer, archive or kept set), for inspection, level
    snapshots and ``ued.host.load_run``. Leaves have a leading ``N`` (slots) axis."""

    levels: Any  # level pytree, leaves (N, ...); empty slots hold placeholder copies
    scores: jax.Array  # float32[N] the curriculum's score per slot (nan where it keeps none)
    valid: jax.Array  # bool[N] the slot holds a level


Evaluate = Callable[[jax.Array, Any], LevelStats]
# hook(key, env_state, action, env_params, proposal_i) -> (obs, state, reward, term, trunc, info)
StepHook = Callable[[jax.Array, Any, jax.Array, Any, Proposal], tuple]


class Curriculum(NamedTuple):
    """A curriculum as a value: pure functions plus default dynamic parameters.

    init(key) -> CState
    propose(key, cstate, params, evaluate | None) -> (CState, Proposal)
    observe(key, cstate, proposal, stats: LevelStats, params) -> CState
    diagnostics(cstate, proposal, stats) -> dict[str, float32[]]   (for logging)
    make_step_hook(wrapped_env) -> StepHook   (host-side, at build time; None: plain steps)
    levels(cstate) -> CurriculumLevels   (the levels it holds; None: it holds none, e.g. DR)
    student_optimizer(ppo_config) -> optax transform   (host-side, at build time; None: Adam)
    student_opt_args(cstate) -> dict   (jittable; None: no extra optimiser inputs)

    ``needs_evaluate``: the trainer passes ``propose`` an ``evaluate`` probe (else ``None``).
    ``branches``: the names of the branch ids its proposals use (id ``i`` is ``branches[i]``;
    ids 0-2 are ``new``, ``replay``, ``mutate`` wherever they are used); ``make_train`` logs
    ``branch/<name>`` (levels per update) for each, and a branch named ``"replay"`` is what the
    replay metrics count.
    ``levels`` is jittable; the run layer calls it for level snapshots and ``load_run``, so
    nothing outside the curriculum guesses where its levels live in its state.

    A curriculum coupled to the student's optimiser (NCC: the student's time-scale-adaptive
    step reads the level distribution's accumulated squared gradient norm) sets
    ``student_optimizer``, which ``make_train`` uses instead of ``ued.ppo.make_optimizer`` for
    the student (state and updates), and ``student_opt_args``, whose dict (read from the
    curriculum state after ``propose``) reaches the optimiser's ``update`` as extra keyword
    arguments at every gradient step of that update. Both ``None`` (every other curriculum):
    the student's program is exactly the plain one.

    ``supports_hold``: the curriculum accepts proposals held for several learner steps
    (``ued.TrainConfig.hold_updates > 1``: its ``observe`` then sees scores over all their
    steps); ``False`` for one that plays each proposal itself for exactly one rollout (PAIRED's
    antagonists), which ``make_train`` then refuses to hold.
    """

    name: str
    init: Callable[[jax.Array], Any]
    propose: Callable[[jax.Array, Any, Any, Evaluate | None], tuple[Any, Proposal]]
    observe: Callable[[jax.Array, Any, Proposal, LevelStats, Any], Any]
    default_params: Any
    diagnostics: Callable[[Any, Proposal, LevelStats], dict] | None = None
    needs_evaluate: bool = False
    make_step_hook: Callable[[Any], StepHook] | None = None
    levels: Callable[[Any], CurriculumLevels] | None = None
    branches: tuple[str, ...] = DEFAULT_BRANCHES
    student_optimizer: Callable[[Any], Any] | None = None
    student_opt_args: Callable[[Any], dict] | None = None
    supports_hold: bool = True
