"""One training step for every curriculum, and the pure ``train(key)`` built from it.

One update (``B = num_envs`` environments, ``T = num_steps`` steps)::

    cstate, prop = curriculum.propose(k, cstate, cparams, evaluate)   # B levels + branch/train
    reset the B environments to prop.levels (auto-replay: env i stays on level i)
    K = hold_updates times (a lax.scan when K > 1), episodes running on from one to the next:
        scanned rollout of T steps under the student  ->  GAE (terminated vs truncated)
        PPO update on the transitions of levels with prop.train       # skipped via lax.cond
    stats = score(ScoreInputs over the K*T steps, prop.extras.max_return)  # one per level
    cstate = curriculum.observe(k, cstate, prop, stats, cparams)

Holding a proposal for ``K > 1`` learner steps (level spaces whose episodes outlast a rollout,
e.g. Craftax's 10,000 steps) keeps, of each inner step, only the ``(T, B)`` arrays the score
and the metrics read (:class:`Span`), never its observations; the PPO metrics are the means
over the K inner updates. ``K = 1`` is the plain program (no scan).

``make_train`` returns pure functions; nothing is jitted here (jit once at the top, e.g.
``jax.jit(jax.vmap(trainer.train))(keys)``). Rollout, GAE and PPO update are the learner step
of :func:`ued.ppo.make_learner_step` (``collect`` then ``update`` with the proposal's train
mask), the one PAIRED's learners and the meta inner loops use too; its rollout is
:func:`ued.rollout.rollout`, the same one evaluation, SAMPLR and the plots use. Room for the
curricula that come next:

* a step hook ``hook(key, env_state, action, env_params, proposal_i)`` replaces the wrapped
  env's ``step`` during training rollouts, with ``proposal_i`` the proposal's slice for that
  environment (its level, branch, slot...): SAMPLR changes transitions there. A curriculum
  brings its own (``Curriculum.make_step_hook``, called here with the wrapped env), so it is
  used like any other; ``make_train(..., step_hook=)`` is for a hook of the caller's own and
  may not be combined with a curriculum's.
* the curriculum state is opaque and may hold a learner of its own (PAIRED); ``evaluate`` lets a
  curriculum probe the current student on any batch of levels (always on the env's own
  transitions, never through the hook).
* a curriculum coupled to the student's optimiser (NCC) brings the student's optimiser
  (``Curriculum.student_optimizer(ppo_config)``, used for the student's state and every
  update) and the dynamic inputs it reads at each gradient step
  (``Curriculum.student_opt_args(cstate)``, from the curriculum state after ``propose``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from ued.curriculum import Curriculum, LevelStats, ScoreInputs
from ued.env import Environment
from ued.level_space import LevelSpace, require_sample_conformance
from ued.networks import ActorCritic, check_observation_embeddings, integer_embeddings
from ued.ppo import (
    PPOConfig,
    PPOParams,
    StudentState,
    check_ppo_params,
    init_student,
    make_learner_step,
    td_errors,
)
from ued.rollout import reset_batch, rollout_levels
from ued.validation import require_ints
from ued.wrappers import AutoReplay, EpisodeStats

ScoreFn = Callable[[ScoreInputs, jax.Array], LevelStats]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Static training settings.

    Attributes:
      num_envs: ``B``, parallel environments = levels per update.
      num_steps: ``T``, rollout length per update.
      num_updates: updates ``train(key)`` runs (proposals; PPO updates are ``num_updates *
        hold_updates``).
      hold_updates: ``K``, learner steps per proposal (>= 1): the envs are reset to the
        proposal once, then ``K`` rollouts of ``T`` steps, each followed by its PPO update, run
        on with episodes continuing across them; the level scores see all ``K * T`` steps.
      ppo: :class:`ued.ppo.PPOConfig`.
      evaluate_steps: steps per level when a curriculum calls ``evaluate`` (SFL).
      evaluate_greedy: greedy (argmax) actions in ``evaluate`` instead of sampled ones.
    """

    num_envs: int = 32
    num_steps: int = 256
    num_updates: int = 30_000
    ppo: PPOConfig = dataclasses.field(default_factory=PPOConfig)
    evaluate_steps: int = 512
    evaluate_greedy: bool = False
    hold_updates: int = 1

    def __post_init__(self) -> None:
        require_ints(self, ("num_envs", "num_steps", "evaluate_steps", "hold_updates"))
        require_ints(self, ("num_updates",), minimum=0)
        if self.num_envs % self.ppo.num_minibatches:
            raise ValueError(
                f"num_minibatches={self.ppo.num_minibatches} must divide "
                f"num_envs={self.num_envs} (minibatches split the environment axis)"
            )


@struct.dataclass
class TrainParams:
    """Dynamic numbers of a run (vmappable): PPO's, the curriculum's and the env's."""

    ppo: PPOParams
    curriculum: Any
    env: Any


@struct.dataclass
class TrainState:
    """Everything a run carries from update to update."""

    key: jax.Array  # typed PRNG key
    update: jax.Array  # int32[] updates done
    student: StudentState
    curriculum: Any  # the curriculum's state (may hold a learner of its own)
    params: TrainParams


@struct.dataclass
class Span:
    """What the score and the metrics read of a held proposal's rollouts: ``(S, B)`` arrays
    over its ``S = hold_updates * num_steps`` steps (the inner rollouts end to end), named as
    in :class:`ued.rollout.Transition`."""

    reward: jax.Array  # float32[S, B]
    value: jax.Array  # float32[S, B]
    advantage: jax.Array  # float32[S, B] GAE of each inner rollout (its own bootstrap)
    terminated: jax.Array  # bool[S, B]
    truncated: jax.Array  # bool[S, B]
    solved: jax.Array  # bool[S, B] (where episode_done)
    episode_done: jax.Array  # bool[S, B]
    episode_return: jax.Array  # float32[S, B] (where episode_done)
    episode_length: jax.Array  # int32[S, B] (where episode_done)
    td_error: jax.Array  # float32[S, B] of each inner rollout (its own bootstrap)

    @classmethod
    def of(cls, col: Any, gamma: jax.Array) -> Span:
        """The span of one :class:`ued.ppo.Collected` rollout (``S = T``)."""
        traj = col.traj
        td = td_errors(
            traj.reward, traj.value, traj.terminated, traj.truncated, col.last_value, gamma
        )
        return cls(
            traj.reward, traj.value, col.advantage, traj.terminated, traj.truncated,
            traj.solved, traj.episode_done, traj.episode_return, traj.episode_length, td,
        )  # fmt: skip


class Trainer(NamedTuple):
    """``init(key, params=None) -> TrainState``; ``update(state) -> (state, metrics)``;
    ``run(state, n_updates) -> (state, metrics with leaves (n_updates,))``;
    ``train(key) -> (state, metrics)`` = ``run(init(key), config.num_updates)``;
    ``evaluate(key, student_params, levels, env_params) -> LevelStats`` (the curriculum probe).
    ``metric_names``: the keys of ``metrics``. All pure and jittable (``n_updates`` static).
    ``step_hook``: the hook training rollouts step with (the curriculum's or the caller's), or
    ``None`` for the wrapped env's own step. ``default_params``: the ``TrainParams`` ``init``
    uses when given none (a sweep's grid replaces some of its fields: ``ued.sweep``)."""

    init: Callable
    update: Callable
    run: Callable
    train: Callable
    evaluate: Callable
    metric_names: tuple[str, ...]
    config: TrainConfig
    env: Environment  # the wrapped env used for training (EpisodeStats(AutoReplay(env)))
    student: ActorCritic
    step_hook: Callable | None = None
    default_params: Any = None  # the TrainParams ``init`` uses when given none (ued.sweep)


def _nanmean_where(x: jax.Array, where: jax.Array) -> jax.Array:
    w = jnp.logical_and(where, jnp.isfinite(x))
    n = jnp.sum(w)
    return jnp.where(n > 0, jnp.sum(jnp.where(w, x, 0.0)) / jnp.maximum(n, 1), jnp.nan)


def _resolve_score(score: str | ScoreFn, space: LevelSpace) -> ScoreFn:
    if callable(score):
        return score
    if not isinstance(score, str):
        raise TypeError(f"score must be a score-function name or a callable, got {type(score)}")
    from ued import scores as _scores  # written alongside; imported lazily

    try:
        _scores.check_score_space(score, space, "make_train")
    except KeyError as e:
        raise ValueError(f"make_train: {e.args[0]}") from None
    return lambda inputs, max_return: _scores.level_stats(score, inputs, max_return)


def _declared_observation_space(env: Environment, env_params: Any) -> Any:
    """``env.observation_space(env_params)``, or ``None`` where the env declares none."""
    try:
        return env.observation_space(env_params)
    except NotImplementedError:
        return None


def _check_proposal_size(curriculum: Curriculum, prop: Any, num_envs: int) -> None:
    """Build-time check that the curriculum proposes ``num_envs`` levels per update."""
    leaves = jax.tree.leaves(prop.levels) + [prop.train, prop.branch]
    sizes = {int(x.shape[0]) for x in leaves if x.ndim >= 1}
    bad = sorted(n for n in sizes if n != num_envs)
    if bad:
        n = bad[0]
        raise ValueError(
            f"make_train: curriculum {curriculum.name!r} proposes {n} levels per update (it was "
            f"built with num_envs={n}) but TrainConfig.num_envs={num_envs}; build the "
            f"curriculum with num_envs={num_envs} or set TrainConfig(num_envs={n})"
        )


def strongly_typed(tree: Any) -> Any:
    """Every leaf of ``tree`` as an array of its own dtype without a weak type (PRNG keys as
    they are): a params pytree as a checkpoint restores it. Jittable."""

    def strong(x: Any) -> Any:
        if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return x
        return jnp.asarray(x, dtype=jnp.result_type(x))

    return jax.tree.map(strong, tree)


def make_train(
    config: TrainConfig,
    env: Environment,
    space: LevelSpace,
    curriculum: Curriculum,
    student: ActorCritic,
    score: str | ScoreFn,
    *,
    env_params: Any = None,
    ppo_params: PPOParams | None = None,
    step_hook: Callable | None = None,
) -> Trainer:
    """Build the pure training functions (see the module docstring).

    Args:
      config: static :class:`TrainConfig`.
      env: a raw environment (``reset_to_level`` / ``step``); it is wrapped here as
        ``EpisodeStats(AutoReplay(env))``.
      space: the level space the curriculum draws from (for ``optimal_return``/``descriptor``).
      curriculum: a :class:`ued.Curriculum`.
      student: an :class:`ued.networks.ActorCritic` with ``num_actions == env.action_space().n``.
      score: a name for ``ued.scores.level_stats`` or ``score(inputs, max_return) -> LevelStats``.
      env_params / ppo_params: default dynamic parameters (``env.default_params`` / defaults).
      step_hook: optional replacement of the wrapped env's step during training rollouts,
        ``hook(key, env_state, action, env_params, proposal_i) -> step outputs`` on the wrapped
        env's states. A curriculum that carries its own (``curriculum.make_step_hook``, e.g.
        ``curricula.make_samplr``) needs none; passing one as well is a ``ValueError``.

    Build-time checks (``ValueError``): the student's action count; a curriculum that proposes
    another number of levels than ``config.num_envs``; a score that needs a level-space field
    the space lacks (``"true_regret"`` without ``optimal_return``); an integer scalar
    observation whose declared range (``env.observation_space()``) exceeds the student's
    embedding. With integer scalar observations the metrics hold ``obs/embed_clipped``, the
    share of them outside the embedding (the host loop warns when it is nonzero).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config)}")
    require_sample_conformance(space, "make_train")
    n_act = getattr(env.action_space(), "n", None)
    if n_act is not None and n_act != student.num_actions:
        raise ValueError(f"student has {student.num_actions} actions but the env has {n_act}")
    wrapped = EpisodeStats(AutoReplay(env))
    score_fn = _resolve_score(score, space)
    b, t = config.num_envs, config.num_steps
    default_env_params = env.default_params if env_params is None else env_params
    default_ppo = PPOParams() if ppo_params is None else ppo_params
    check_ppo_params(default_ppo)
    descriptor_names = tuple(space.descriptor_names or ()) if space.descriptor else ()
    optimal_return = space.optimal_return
    # integer scalar observations: their declared range must fit the student's embedding
    obs_one = jax.eval_shape(
        lambda k: wrapped.reset_to_level(k, space.placeholder, default_env_params)[0],
        jax.random.key(0),
    )
    obs_space = _declared_observation_space(env, default_env_params)
    if obs_space is not None:
        check_observation_embeddings(student, obs_one, obs_space)
    embedded = integer_embeddings(student, obs_one)  # watched at run time (obs/embed_clipped)

    if curriculum.make_step_hook is not None:
        if step_hook is not None:
            raise ValueError(
                f"curriculum {curriculum.name!r} brings its own step hook "
                "(Curriculum.make_step_hook); do not pass step_hook to make_train as well"
            )
        step_hook = curriculum.make_step_hook(wrapped)
        if not callable(step_hook):
            raise TypeError(
                f"curriculum {curriculum.name!r}: make_step_hook(env) must return a callable, "
                f"got {type(step_hook).__name__}"
            )
    step_fn = wrapped.step if step_hook is None else step_hook
    # a curriculum coupled to the student's optimiser brings it (NCC's TiAda student)
    student_tx = None
    if curriculum.student_optimizer is not None:
        student_tx = curriculum.student_optimizer(config.ppo)
    hold = config.hold_updates
    if hold > 1 and not curriculum.supports_hold:
        raise ValueError(
            f"make_train: curriculum {curriculum.name!r} does not support "
            f"TrainConfig.hold_updates={hold} (it plays each proposal itself for one rollout); "
            "use hold_updates=1"
        )
    # held proposals continue episodes from one rollout to the next
    learner = make_learner_step(
        config.ppo, student, num_steps=t, step_fn=step_fn, tx=student_tx,
        continue_episodes=hold > 1,
    )  # fmt: skip

    def clipped(obs) -> jax.Array | None:
        """float32[]: the share of integer scalar observations (leaves (T, B, ...)) outside the
        student's embedding (clipped there, so distinct values look the same); None without
        such observations."""
        if not embedded:
            return None
        obs_leaves = jax.tree.leaves(obs)
        out = [
            jnp.mean((obs_leaves[i] < lo) | (obs_leaves[i] >= lo + n)) for _, i, lo, n in embedded
        ]
        return jnp.mean(jnp.stack(out)).astype(jnp.float32)

    def evaluate_with(student_params, env_params, key, levels) -> LevelStats:
        cnt = rollout_levels(
            key,
            wrapped,
            levels,
            student_params,
            env_params,
            net=student,
            num_steps=config.evaluate_steps,
            greedy=config.evaluate_greedy,
            record_trajectory=False,
            count_episodes=True,
        ).counters
        has = cnt.num_episodes > 0
        denom = jnp.maximum(cnt.num_episodes, 1).astype(jnp.float32)
        solve = jnp.where(has, cnt.num_solved / denom, jnp.nan)
        return LevelStats(
            score=jnp.where(has, solve * (1.0 - solve), 0.0),  # learnability p(1-p)
            max_return=cnt.max_return,
            mean_return=jnp.where(has, cnt.sum_return / denom, jnp.nan),
            solve_rate=solve,
            num_episodes=cnt.num_episodes,
        )

    def evaluate(key, student_params, levels, env_params=None) -> LevelStats:
        """Probe ``student_params`` on ``levels`` (leaves (N, ...)): per-level LevelStats."""
        ep = default_env_params if env_params is None else env_params
        return evaluate_with(student_params, ep, key, levels)

    def init(key: jax.Array, params: TrainParams | None = None) -> TrainState:
        """Fresh run state. Jittable."""
        if params is None:
            params = TrainParams(
                ppo=default_ppo, curriculum=curriculum.default_params, env=default_env_params
            )
        # strongly typed, as a checkpoint restores them: a weakly typed leaf here would make a
        # resumed run's first chunk retrace and compile again
        params = strongly_typed(params)
        k_net, k_cur, k_obs, k_run = jax.random.split(key, 4)
        one = jax.tree.map(lambda x: jnp.asarray(x)[None], space.placeholder)
        obs, _ = jax.vmap(wrapped.reset_to_level, in_axes=(0, 0, None))(
            jax.random.split(k_obs, 1), one, params.env
        )
        return TrainState(
            key=k_run,
            update=jnp.zeros((), jnp.int32),
            student=init_student(k_net, config.ppo, student, obs, student_tx),
            curriculum=curriculum.init(k_cur),
            params=params,
        )

    def update(state: TrainState) -> tuple[TrainState, dict]:
        """One train update. Jittable."""
        key, k_prop, k_reset, k_roll, k_ppo, k_obs = jax.random.split(state.key, 6)
        params = state.params
        ev = None
        if curriculum.needs_evaluate:
            sp = state.student.params
            ev = lambda k, levels: evaluate_with(sp, params.env, k, levels)
        cstate, prop = curriculum.propose(k_prop, state.curriculum, params.curriculum, ev)

        rc = reset_batch(k_reset, wrapped, prop.levels, params.env, student.initial_carry(b))
        # a hook reads its env's slice of the proposal; the plain step takes no extra input
        aux = None if step_hook is None else prop
        train_mask = prop.train.astype(bool)
        # levels not trained on (robust PLR's new levels) are masked out; with none left the
        # update does no gradient work at all
        opt_args = None
        if curriculum.student_opt_args is not None:
            opt_args = curriculum.student_opt_args(cstate)

        def learn(st, rc, k_roll, k_ppo):
            """One learner step on the held proposal: (student, carry, span, ppo metrics,
            share of clipped observations or None)."""
            col = learner.collect(k_roll, rc, st.params, params.env, params.ppo, aux)
            st, ppo_m = learner.update(k_ppo, st, col, params.ppo, train_mask, opt_args=opt_args)
            return st, col.carry, Span.of(col, params.ppo.gamma), ppo_m, clipped(col.traj.obs)

        if hold == 1:
            st, _, span, ppo_m, clip = learn(state.student, rc, k_roll, k_ppo)
        else:

            def inner(c, ks):
                st, rc, span, ppo_m, clip = learn(*c, *ks)
                return (st, rc), (span, ppo_m, clip)

            keys = (jax.random.split(k_roll, hold), jax.random.split(k_ppo, hold))
            (st, _), (span, ppo_m, clip) = jax.lax.scan(inner, (state.student, rc), keys)
            # the K inner rollouts end to end: (K, T, B) -> (K * T, B)
            span = jax.tree.map(lambda x: x.reshape((hold * t,) + x.shape[2:]), span)
            ppo_m = {k: jnp.mean(v) for k, v in ppo_m.items()}
            clip = None if clip is None else jnp.mean(clip)
        if optimal_return is not None:
            opt_ret = jax.vmap(optimal_return)(prop.levels).astype(jnp.float32)
        else:
            opt_ret = jnp.full((b,), jnp.nan, jnp.float32)
        inputs = ScoreInputs(
            reward=span.reward,
            value=span.value,
            advantage=span.advantage,
            terminated=span.terminated,
            truncated=span.truncated,
            solved=jnp.logical_and(span.episode_done, span.solved),
            episode_return=jnp.where(span.episode_done, span.episode_return, 0.0),
            optimal_return=opt_ret,
            td_error=span.td_error,
            gamma=jnp.asarray(params.ppo.gamma, jnp.float32),
            gae_lambda=jnp.asarray(params.ppo.gae_lambda, jnp.float32),
        )
        stats = score_fn(inputs, prop.extras.max_return)
        trained = jnp.any(train_mask)
        cstate = curriculum.observe(k_obs, cstate, prop, stats, params.curriculum)

        metrics = _metrics(
            curriculum.branches, span, prop, stats, opt_ret, ppo_m, trained, train_mask
        )
        if clip is not None:
            # the host loop warns when nonzero (mean over the inner rollouts when held)
            metrics["obs/embed_clipped"] = clip
        if descriptor_names:
            desc_all = jax.vmap(space.descriptor)(prop.levels).astype(jnp.float32)
            for i, name in enumerate(descriptor_names):
                # e.g. level/shortest_path: mean over the levels the student trained on
                metrics[f"level/{name}"] = _nanmean_where(desc_all[:, i], train_mask)
        if curriculum.diagnostics is not None:
            for k, v in curriculum.diagnostics(cstate, prop, stats).items():
                metrics[f"cur/{k}"] = jnp.asarray(v, jnp.float32).reshape(())
        new_state = TrainState(
            key=key, update=state.update + 1, student=st, curriculum=cstate, params=params
        )
        metrics["update"] = new_state.update
        return new_state, metrics

    def run(state: TrainState, n_updates: int) -> tuple[TrainState, dict]:
        """``n_updates`` (static) updates in a ``lax.scan``; metrics leaves (n_updates,)."""
        return jax.lax.scan(lambda s, _: update(s), state, None, length=n_updates)

    def train(key: jax.Array) -> tuple[TrainState, dict]:
        """A whole run of ``config.num_updates`` updates from ``key``. Pure and jittable."""
        return run(init(key), config.num_updates)

    def first_proposal(k):
        st = init(k)
        ev = None
        if curriculum.needs_evaluate:
            sp = st.student.params
            ev = lambda kk, levels: evaluate_with(sp, st.params.env, kk, levels)
        return curriculum.propose(k, st.curriculum, st.params.curriculum, ev)[1]

    # the curriculum must propose num_envs levels (by abstract evaluation, no compilation)
    _check_proposal_size(curriculum, jax.eval_shape(first_proposal, jax.random.key(0)), b)
    # names of the metrics, by abstract evaluation (no compilation)
    names = tuple(jax.eval_shape(lambda k: update(init(k))[1], jax.random.key(0)).keys())
    defaults = TrainParams(
        ppo=default_ppo, curriculum=curriculum.default_params, env=default_env_params
    )
    return Trainer(
        init, update, run, train, evaluate, names, config, wrapped, student, step_hook, defaults
    )


def _metrics(
    branches, span: Span, prop, stats: LevelStats, opt_ret, ppo_m, trained, train_mask
) -> dict:
    b = train_mask.shape[0]
    m: dict[str, jax.Array] = {}
    for i, name in enumerate(branches):
        m[f"branch/{name}"] = jnp.sum(prop.branch == i).astype(jnp.int32)
    # the replay metrics count the branch the curriculum names "replay" (none: nothing)
    replay = prop.branch == (branches.index("replay") if "replay" in branches else -1)
    m["replay_fraction"] = jnp.mean(replay.astype(jnp.float32))
    m["train_fraction"] = jnp.mean(train_mask.astype(jnp.float32))
    m["trained"] = trained.astype(jnp.int32)
    done = span.episode_done
    n_ep = jnp.sum(done)
    denom = jnp.maximum(n_ep, 1).astype(jnp.float32)
    m["rollout/num_episodes"] = n_ep.astype(jnp.int32)
    # the episodes still running when the rollout stops: a rollout shorter than the episode
    # limit finishes only the short ones, so the solve rate below (of FINISHED episodes) reads
    # high; their share says how far it can be trusted
    running = jnp.sum(~jnp.logical_or(span.terminated[-1], span.truncated[-1]))
    m["rollout/finished_share"] = (n_ep / jnp.maximum(n_ep + running, 1)).astype(jnp.float32)
    m["rollout/return"] = jnp.where(n_ep > 0, jnp.sum(span.episode_return * done) / denom, jnp.nan)
    m["rollout/solve_rate"] = jnp.where(
        n_ep > 0, jnp.sum(jnp.logical_and(span.solved, done)) / denom, jnp.nan
    )
    m["rollout/episode_length"] = jnp.where(
        n_ep > 0, jnp.sum(span.episode_length * done) / denom, jnp.nan
    )
    all_levels = jnp.ones((b,), bool)
    m["score/mean"] = _nanmean_where(stats.score, all_levels)
    finite = jnp.isfinite(stats.score)
    m["score/max"] = jnp.where(
        jnp.any(finite), jnp.max(jnp.where(finite, stats.score, -jnp.inf)), jnp.nan
    )
    # the level score (maxmc, pvl, ...) estimates regret; the curriculum's regret it is not
    m["score/replay"] = _nanmean_where(stats.score, replay)
    # true regret: the optimal return - the mean return (spaces that know their optimum)
    m["regret/true_replay"] = _nanmean_where(opt_ret - stats.mean_return, replay)
    m["regret/true_all"] = _nanmean_where(opt_ret - stats.mean_return, all_levels)
    for k, v in ppo_m.items():
        m[f"ppo/{k}"] = v
    # NaN guard for the host loop: a trained update whose loss is not finite
    m["nonfinite_loss"] = jnp.logical_and(trained, ~jnp.isfinite(ppo_m["loss"])).astype(jnp.int32)
    return m


__all__ = [
    "Span",
    "TrainConfig",
    "TrainParams",
    "TrainState",
    "Trainer",
    "make_train",
    "strongly_typed",
]
