"""PAIRED (Dennis et al. 2020) and its relatives as a ``ued.Curriculum``.

A learned teacher builds the levels: it acts in the editor environment of an editable level
space (``ued.editor.EditorEnv``; the Maze: goal, agent direction, agent, then wall toggles, one
cell index per step) and is trained by PPO on a regret estimate. ``make_train``'s student is the
*protagonist*; the curriculum's state holds the teacher and the *antagonist(s)*, each a learner
of the one learner stack (``ued.networks.make_actor_critic``, the PPO learner step
``ued.ppo.make_learner_step``) with its own network and optimiser state. One update::

    propose:  the teacher rolls out B editor episodes of num_edits steps from space.edit_empty
              (its trajectory is kept in the state) -> B levels, all trained on (branch "new")
    trainer:  the protagonist rolls out T steps on them and gets its PPO update -> LevelStats
    observe:  the antagonist(s) roll out T steps on the same levels and get their PPO updates;
              teacher reward (at its last step, 0 before) -> GAE -> the teacher's PPO update

Teacher rewards (``PAIREDConfig.variant``; returns are per level, over the T-step rollout with
auto-replay; a learner that finished no episode on a level counts return 0, as in minimax):

* ``"paired"`` (default): estimated regret = antagonist's max return - protagonist's mean return
  (jaxued's ``ant_max_returns - pro_mean_returns``; ``clip_regret`` clips it at 0 like minimax's
  ``relative_regret``). With ``true_regret=True`` it is ``space.optimal_return(level)`` -
  protagonist's mean return instead (no antagonist needed, so ``num_students`` defaults to 1).
* ``"minimax"``: the protagonist's negative mean return (minimax's ``neg_return``, the minimax
  adversary of Dennis et al.).
* ``"population"``: ``num_students`` >= 2 students (the protagonist and ``num_students - 1``
  students in the state, all trained on the teacher's levels); regret = the best student's
  max return - the mean of the other students' mean returns (:func:`population_regret`; the
  best student is chosen per level).

Published settings (jaxued ``maze_paired.py`` / minimax ``maze/paired``): 32 environments x 256
steps, PPO for the teacher and the students with lr 1e-4 and gamma 0.995 (lambda 0.98, 5 epochs,
1 minibatch, clip 0.2, entropy 1e-3; the ``ued.ppo`` defaults), 50 teacher steps, a teacher net
of 128 3x3 conv filters over the grid, a 10-d time embedding and the noise vector, LSTM 256 and
heads of 32 (:data:`TEACHER_NETWORK`), noise dimension 50 (minimax; see
:mod:`envs.maze.editor` for why not jaxued's 16).

Metrics (``Curriculum.diagnostics``, logged by ``make_train`` as ``cur/<name>``; ``openued
train`` logs them under the plain ``<name>``, see ``curricula.paired_registration.PAIRED_METRICS``), means
over the B levels of the update: ``regret`` (the variant's regret estimate: estimated, population or true
regret; for ``"minimax"`` the estimated regret if it has an antagonist, else nan),
``teacher_reward``, ``protagonist_return`` (mean return), ``antagonist_return`` (the best
antagonist's max return; nan without antagonists), ``teacher_entropy`` and ``teacher_loss`` (of
its PPO update), ``antagonist_loss``, and from the space's descriptor, when it names them,
``level_path_length`` (mean shortest path over the solvable levels; descriptor feature
``shortest_path``, -1 = unsolvable), ``level_solvable`` (share solvable) and ``level_walls``
(feature ``walls``); plus the usual proposal diagnostics of every curriculum.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from curricula.common import proposal_diagnostics
from curricula.regret import (  # noqa: F401 (re-exported with PAIRED)
    estimated_regret,
    finite_or_zero,
    minimax_reward,
    population_regret,
    teacher_rewards,
    true_regret,
)
from ued.curriculum import (
    BRANCH_NEW,
    Curriculum,
    CurriculumLevels,
    LevelStats,
    Proposal,
    new_proposal,
)
from ued.editor import EditorEnv, EditorParams, require_editable
from ued.env import Environment
from ued.level_space import LevelSpace, require_sample_conformance
from ued.networks import ActorCritic, NetworkConfig, make_actor_critic
from ued.ppo import (
    PPOConfig,
    PPOParams,
    StudentState,
    check_ppo_params,
    init_student,
    make_learner_step,
)
from ued.rollout import Transition, reset_batch
from ued.wrappers import AutoReplay, EpisodeStats

VARIANTS = ("paired", "minimax", "population")

# jaxued's AdversaryActorCritic: conv 128 3x3 over the grid, time embedding 10 (+ noise),
# LSTM 256, relu heads of 32. ``num_embeddings`` is raised to num_edits + 1 when built.
TEACHER_NETWORK = NetworkConfig(
    encoder="conv", conv_features=128, embed_dim=10, num_embeddings=51, core="lstm", core_size=256
)


@dataclasses.dataclass(frozen=True)
class PAIREDConfig:
    """Static PAIRED choices.

    Attributes:
      variant: ``"paired"``, ``"minimax"`` or ``"population"`` (module docstring).
      num_students: students including the protagonist (the state holds ``num_students - 1``).
        None: 2 for ``"paired"`` and ``"population"``, 1 for ``"minimax"`` and ``true_regret``.
        ``"paired"`` with the estimated regret needs exactly 2, ``"population"`` at least 2.
      true_regret: ``"paired"`` only: reward the teacher with ``space.optimal_return(level)`` -
        the protagonist's mean return (needs a space with ``optimal_return``).
      clip_regret: clip the estimated regret at 0 (minimax's ``relative_regret``; jaxued: no).
      noise_dim: the editor's noise input (minimax: 50).
      num_steps: ``T`` of the antagonists' rollouts; give it ``TrainConfig.num_steps``.
      student_ppo: the antagonists' static PPO settings (give them the protagonist's).
      teacher_ppo: the teacher's static PPO settings.
      teacher_network: the teacher's net (its ``num_embeddings`` is raised to ``num_edits + 1``
        so every time step has its own embedding).
    """

    variant: str = "paired"
    num_students: int | None = None
    true_regret: bool = False
    clip_regret: bool = False
    noise_dim: int = 50
    num_steps: int = 256
    student_ppo: PPOConfig = PPOConfig()
    teacher_ppo: PPOConfig = PPOConfig()
    teacher_network: NetworkConfig = TEACHER_NETWORK

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(
                f"PAIREDConfig.variant must be one of {VARIANTS}, got {self.variant!r}"
            )
        for name in ("true_regret", "clip_regret"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"PAIREDConfig.{name} must be a bool, got {getattr(self, name)!r}")
        if self.true_regret and self.variant != "paired":
            raise ValueError(
                f"PAIREDConfig.true_regret applies to variant 'paired', not {self.variant!r}"
            )
        n = self.num_students
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"PAIREDConfig.num_students must be None or an int >= 1, got {n!r}")
        students = self.students
        if self.variant == "paired" and not self.true_regret and students != 2:
            raise ValueError(
                "PAIREDConfig: variant 'paired' (estimated regret) needs num_students=2 (the "
                f"protagonist and one antagonist), got {students}; use variant='population' "
                "for more"
            )
        if self.variant == "population" and students < 2:
            raise ValueError(
                f"PAIREDConfig: variant 'population' needs num_students >= 2, got {students}"
            )
        if (
            isinstance(self.noise_dim, bool)
            or not isinstance(self.noise_dim, int)
            or (self.noise_dim < 0)
        ):
            raise ValueError(f"PAIREDConfig.noise_dim must be an int >= 0, got {self.noise_dim!r}")
        if (
            isinstance(self.num_steps, bool)
            or not isinstance(self.num_steps, int)
            or (self.num_steps < 1)
        ):
            raise ValueError(f"PAIREDConfig.num_steps must be an int >= 1, got {self.num_steps!r}")
        for name in ("student_ppo", "teacher_ppo"):
            if not isinstance(getattr(self, name), PPOConfig):
                raise TypeError(f"PAIREDConfig.{name} must be a PPOConfig")
        if not isinstance(self.teacher_network, NetworkConfig):
            raise TypeError("PAIREDConfig.teacher_network must be a NetworkConfig")

    @property
    def students(self) -> int:
        """Students including the protagonist (``num_students`` with its default resolved)."""
        if self.num_students is not None:
            return self.num_students
        if self.variant == "minimax" or self.true_regret:
            return 1
        return 2


@struct.dataclass
class PAIREDParams:
    """Dynamic numbers (vmappable): the students' and the teacher's PPO, the env's params for
    the antagonists' rollouts (None: ``env.default_params``; keep it equal to the trainer's)."""

    student: PPOParams = PPOParams()
    teacher: PPOParams = PPOParams()
    env: Any = None


@struct.dataclass
class PAIREDMetrics:
    """The last update's metrics (float32[] each; see the module docstring)."""

    regret: jax.Array
    teacher_reward: jax.Array
    protagonist_return: jax.Array
    antagonist_return: jax.Array
    teacher_entropy: jax.Array
    teacher_loss: jax.Array
    antagonist_loss: jax.Array


@struct.dataclass
class PAIREDState:
    teacher: StudentState
    antagonists: StudentState | None  # leaves (num_students - 1, ...); None without any
    teacher_traj: Transition  # the last teacher rollout, leaves (num_edits, B, ...)
    levels: Any  # level pytree (B, ...): the last levels the teacher built
    regret: jax.Array  # float32[B] the last levels' regret estimate (nan before the first)
    teacher_reward: jax.Array  # float32[B] the teacher's last reward per level
    metrics: PAIREDMetrics
    step: jax.Array  # int32[] observe count


# --------------------------------------------------------------------------------------------


def make_paired(
    env: Environment,
    space: LevelSpace,
    num_envs: int,
    student: ActorCritic,
    config: PAIREDConfig | None = None,
    *,
    teacher: ActorCritic | None = None,
    params: PAIREDParams | None = None,
) -> Curriculum:
    """PAIRED over an editable ``space`` (module docstring), a curriculum for ``ued.make_train``.

    Args:
      env: the students' raw environment (the one given to ``make_train``).
      space: an editable level space (``edit_empty``, ``num_edit_actions``, ``apply_edit``,
        ``num_edits``, ``edit_observation``); a missing field is a ``ValueError`` naming it.
      num_envs: ``B``, levels per proposal (``TrainConfig.num_envs``).
      student: the antagonists' actor-critic (usually the protagonist's, as in the papers).
      config: :class:`PAIREDConfig`.
      teacher: the teacher's actor-critic (default: ``config.teacher_network`` over the
        editor's observation, ``space.num_edit_actions`` actions).
      params: default dynamic :class:`PAIREDParams` (``env=None`` means ``env.default_params``).

    Params: :class:`PAIREDParams`. State: :class:`PAIREDState`. Name: ``"paired"``,
    ``"minimax"``, ``"population_paired"`` (``"paired_true_regret"`` with ``true_regret``).
    Every function is pure and jittable; ``levels(cstate)`` gives the last levels built (scores:
    their regret).
    """
    config = PAIREDConfig() if config is None else config
    if not isinstance(config, PAIREDConfig):
        raise TypeError(f"make_paired expects a PAIREDConfig, got {type(config).__name__}")
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
    require_editable(space, "make_paired")
    require_sample_conformance(space, "make_paired")
    if config.true_regret and space.optimal_return is None:
        raise ValueError(
            f"make_paired: true_regret=True needs a level space with optimal_return; "
            f"{space.name!r} has none"
        )
    if not isinstance(student, ActorCritic):
        raise TypeError(f"make_paired: student must be an ActorCritic, got {type(student)}")
    n_act = getattr(env.action_space(), "n", None)
    if n_act is not None and n_act != student.num_actions:
        raise ValueError(f"student has {student.num_actions} actions but the env has {n_act}")
    for name in ("student_ppo", "teacher_ppo"):
        nm = getattr(config, name).num_minibatches
        if num_envs % nm:
            raise ValueError(
                f"PAIREDConfig.{name}.num_minibatches={nm} must divide num_envs={num_envs}"
            )
    b = num_envs
    n_ant = config.students - 1
    variant = config.variant
    editor = EditorEnv(space, config.noise_dim)
    e_steps = editor.num_edits
    if teacher is None:
        tcfg = config.teacher_network
        if tcfg.num_embeddings < e_steps + 1:
            tcfg = dataclasses.replace(tcfg, num_embeddings=e_steps + 1)
        teacher = make_actor_critic(tcfg, int(space.num_edit_actions))
    elif teacher.num_actions != space.num_edit_actions:
        raise ValueError(
            f"teacher has {teacher.num_actions} actions but the space has "
            f"{space.num_edit_actions} edit actions"
        )
    default_params = PAIREDParams() if params is None else params
    check_ppo_params(default_params.student)
    check_ppo_params(default_params.teacher)
    if default_params.env is None:
        default_params = default_params.replace(env=env.default_params)
    wrapped = EpisodeStats(AutoReplay(env))
    # the teacher's rollout is an editor episode of num_edits steps; its reward (the regret)
    # arrives after the students' rollouts, so observe relabels the stored trajectory
    teacher_learner = make_learner_step(
        config.teacher_ppo, teacher, num_steps=e_steps, step_fn=editor.step, episode_stats=False
    )
    ant_learner = make_learner_step(
        config.student_ppo,
        student,
        num_steps=config.num_steps,
        step_fn=wrapped.step,
        count_episodes=True,
    )
    e_params = EditorParams()
    optimal_return = space.optimal_return
    desc_names = tuple(space.descriptor_names or ()) if space.descriptor is not None else ()
    nan = jnp.full((), jnp.nan, jnp.float32)

    def teacher_rollout(key, teacher_params, ppo: PPOParams):
        k_reset, k_roll = jax.random.split(key)
        rc = reset_batch(
            k_reset, editor, editor.empty_levels(b), e_params, teacher.initial_carry(b)
        )
        col = teacher_learner.collect(k_roll, rc, teacher_params, e_params, ppo)
        return col.traj, editor.built_level(col.carry.env_state)

    def init(key):
        k_t, k_a, k_o = jax.random.split(key, 3)
        obs_t, _ = jax.vmap(editor.reset_to_level, in_axes=(0, 0, None))(
            jax.random.split(k_o, 1), editor.empty_levels(1), e_params
        )
        t_state = init_student(k_t, config.teacher_ppo, teacher, obs_t)
        ants = None
        if n_ant:
            one = jax.tree.map(lambda x: jnp.asarray(x)[None], space.placeholder)
            obs_s, _ = jax.vmap(wrapped.reset_to_level, in_axes=(0, 0, None))(
                jax.random.split(k_o, 1), one, default_params.env
            )
            ants = jax.vmap(lambda k: init_student(k, config.student_ppo, student, obs_s))(
                jax.random.split(k_a, n_ant)
            )
        traj_shape, _ = jax.eval_shape(teacher_rollout, key, t_state.params, default_params.teacher)
        traj = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), traj_shape)
        levels = jax.tree.map(
            lambda x: jnp.broadcast_to(jnp.asarray(x), (b,) + jnp.shape(x)), space.placeholder
        )
        nanb = jnp.full((b,), jnp.nan, jnp.float32)
        return PAIREDState(
            teacher=t_state,
            antagonists=ants,
            teacher_traj=traj,
            levels=levels,
            regret=nanb,
            teacher_reward=nanb,
            metrics=PAIREDMetrics(*([nan] * len(dataclasses.fields(PAIREDMetrics)))),
            step=jnp.zeros((), jnp.int32),
        )

    def propose(key, state: PAIREDState, params: PAIREDParams, evaluate=None):
        del evaluate
        traj, levels = teacher_rollout(key, state.teacher.params, params.teacher)
        state = state.replace(teacher_traj=traj, levels=levels)
        return state, new_proposal(levels, BRANCH_NEW, True)

    def antagonist_step(key, st: StudentState, levels, params: PAIREDParams):
        k_roll, k_ppo = jax.random.split(key)
        k_reset, k_roll = jax.random.split(k_roll)
        rc = reset_batch(k_reset, wrapped, levels, params.env, student.initial_carry(b))
        col = ant_learner.collect(k_roll, rc, st.params, params.env, params.student)
        st, m = ant_learner.update(k_ppo, st, col, params.student)
        cnt = col.counters
        has = cnt.num_episodes > 0
        mean = jnp.where(has, cnt.sum_return / jnp.maximum(cnt.num_episodes, 1), 0.0)
        mx = jnp.where(has, cnt.max_return, 0.0)
        return st, mean.astype(jnp.float32), mx.astype(jnp.float32), m["loss"]

    def observe(key, state: PAIREDState, proposal: Proposal, stats: LevelStats, params):
        k_ant, k_teach = jax.random.split(key)
        levels = proposal.levels
        pro_mean = finite_or_zero(stats.mean_return)
        pro_max = finite_or_zero(stats.max_return)
        ants = state.antagonists
        if n_ant:
            ants, ant_mean, ant_max, ant_loss = jax.vmap(
                antagonist_step, in_axes=(0, 0, None, None)
            )(jax.random.split(k_ant, n_ant), ants, levels, params)
            ant_best = ant_max.max(0)  # (B,)
            est = estimated_regret(ant_best, pro_mean, config.clip_regret)
            ant_loss = ant_loss.mean()
        else:
            ant_best = jnp.full((b,), jnp.nan, jnp.float32)
            est = jnp.full((b,), jnp.nan, jnp.float32)
            ant_loss = nan
        if variant == "minimax":
            reward = minimax_reward(pro_mean)
            regret = est
        elif variant == "population":
            regret = population_regret(
                jnp.concatenate([pro_max[None], ant_max]),
                jnp.concatenate([pro_mean[None], ant_mean]),
            )
            reward = regret
        elif config.true_regret:
            opt = jax.vmap(optimal_return)(levels).astype(jnp.float32)
            regret = true_regret(opt, pro_mean)
            reward = regret
        else:
            regret = reward = est

        # the design ends at its last step (terminated): nothing to bootstrap
        col = teacher_learner.relabel(
            state.teacher_traj,
            teacher_rewards(reward, e_steps),
            jnp.zeros((b,), jnp.float32),
            params.teacher,
        )
        t_state, tm = teacher_learner.update(k_teach, state.teacher, col, params.teacher)
        metrics = PAIREDMetrics(
            regret=jnp.mean(regret),
            teacher_reward=jnp.mean(reward),
            protagonist_return=jnp.mean(pro_mean),
            antagonist_return=jnp.mean(ant_best),
            teacher_entropy=tm["entropy"],
            teacher_loss=tm["loss"],
            antagonist_loss=jnp.asarray(ant_loss, jnp.float32),
        )
        return state.replace(
            teacher=t_state,
            antagonists=ants,
            levels=levels,
            regret=regret.astype(jnp.float32),
            teacher_reward=reward.astype(jnp.float32),
            metrics=metrics,
            step=state.step + 1,
        )

    def diagnostics(state: PAIREDState, proposal: Proposal, stats: LevelStats) -> dict:
        out = proposal_diagnostics(space, proposal, stats, ("new",))
        for f in dataclasses.fields(PAIREDMetrics):
            out[f.name] = getattr(state.metrics, f.name)
        if desc_names:
            d = jax.vmap(space.descriptor)(proposal.levels).astype(jnp.float32)
            if "shortest_path" in desc_names:
                sp = d[:, desc_names.index("shortest_path")]
                ok = sp >= 0
                n_ok = ok.sum()
                out["level_path_length"] = jnp.where(
                    n_ok > 0, jnp.where(ok, sp, 0.0).sum() / jnp.maximum(n_ok, 1), jnp.nan
                )
                out["level_solvable"] = ok.mean(dtype=jnp.float32)
            if "walls" in desc_names:
                out["level_walls"] = d[:, desc_names.index("walls")].mean()
        return out

    def levels(state: PAIREDState) -> CurriculumLevels:
        return CurriculumLevels(state.levels, state.regret, jnp.broadcast_to(state.step > 0, (b,)))

    if variant == "paired":
        name = "paired_true_regret" if config.true_regret else "paired"
    else:
        name = {"minimax": "minimax", "population": "population_paired"}[variant]
    return Curriculum(
        name,
        init,
        propose,
        observe,
        default_params,
        diagnostics,
        False,
        levels=levels,
        branches=("new",),
        # the antagonists play each proposal for one rollout of num_steps in observe: a
        # proposal held for several protagonist rollouts would compare unequal spans
        supports_hold=False,
    )


__all__ = [
    "PAIREDConfig",
    "PAIREDMetrics",
    "PAIREDParams",
    "PAIREDState",
    "TEACHER_NETWORK",
    "VARIANTS",
    "estimated_regret",
    "finite_or_zero",
    "make_paired",
    "minimax_reward",
    "population_regret",
    "teacher_rewards",
    "true_regret",
]
