"""SAMPLR (Jiang et al. 2022): robust PLR over the designable parameters, trained on fictitious
transitions that follow the ground-truth posterior of the aleatoric parameters.

A score-driven curriculum replays levels whose aleatoric draws were lucky (a paying coin, a low
slip probability), so the student trains under a shifted distribution of those draws and can
learn a policy that is suboptimal under the ground truth. SAMPLR keeps the curriculum but
replaces every random outcome on its levels by a draw from the ground-truth posterior
predictive given the episode's ``history_stats`` (``ued.aleatoric``), so for ANY policy the
trajectory distribution on a level equals the one under fresh prior draws of its aleatoric
parameters; levels are scored on these fictitious transitions.

:func:`make_samplr` returns one ``ued.Curriculum``, used like any other
(``make_train(config, env, space, make_samplr(space, B), student, "maxmc")``). It has two parts:

* its ``propose`` is robust PLR's (``curricula.make_plr``) with the aleatoric fields of the
  fictitious levels redrawn from the prior before the rollout's first reset. The trainer resets
  the environments itself, and the reset observation may already show a random outcome (the
  gamble maze's cue is in view at t = 0): with an empty history the posterior predictive *is*
  the prior, so this is the fictitious draw of that first outcome. The buffer keeps the stored
  levels (their draws are never used for training).
* its ``make_step_hook`` builds the trainer's per-step hook (:func:`make_samplr_step_hook` is
  the same hook for a raw env): on fictitious levels it replaces the wrapped env's step. Before
  each step it rewrites the hidden values of the env state so that the next outcome is
  Bernoulli(p), p = posterior predictive given ``history_stats`` (analytic, or a learned
  belief); when an episode ends, the auto-replay reset redraws the aleatoric fields from the
  prior (a fresh episode has an empty history). Only the environment's transitions change: the
  student's recurrent state is the rollout's, kept within an episode and reset at its end.

Choice (documented; the paper applies fictitious transitions to replayed levels): by default
(``SAMPLRConfig.fictitious="all"``) new levels are rolled out fictitiously too, so their
insertion scores also depend on the designable parameters only; ``"replay"`` restricts it to
replayed levels as in the paper. :func:`with_aleatoric_diagnostics` adds the trained-on share of
the aleatoric parameter to any curriculum's diagnostics (used for DR / robust PLR / SAMPLR).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from curricula.buffer import BufferOptions, LevelSamplerConfig, buffer_config, buffer_params
from curricula.common import select_levels
from curricula.plr import PLR_BRANCHES, PLRConfig, make_plr
from ued.aleatoric import AleatoricSpec
from ued.curriculum import BRANCH_REPLAY, Curriculum, Proposal
from ued.env import Environment, tree_select
from ued.level_space import LevelSpace
from ued.options import choice, option
from ued.registry import CURRICULA, CurriculumContext, CurriculumEntry
from ued.wrappers import AutoReplay, EpisodeStats, EpisodeStatsState, Wrapper

FICTITIOUS = ("all", "replay")


@dataclasses.dataclass(frozen=True)
class SAMPLRConfig:
    """Static SAMPLR choices.

    Attributes:
      buffer: the level buffer's static config (robust PLR underneath).
      fictitious: ``"all"`` (every proposed level) or ``"replay"`` (replayed levels only, as in
        the paper) run on fictitious transitions.
    """

    buffer: LevelSamplerConfig = LevelSamplerConfig()
    fictitious: str = "all"

    def __post_init__(self) -> None:
        if not isinstance(self.buffer, LevelSamplerConfig):
            raise ValueError("SAMPLRConfig.buffer must be a LevelSamplerConfig")
        if self.fictitious not in FICTITIOUS:
            raise ValueError(
                f"SAMPLRConfig.fictitious must be one of {FICTITIOUS}, got {self.fictitious!r}"
            )


def _spec(space: LevelSpace) -> AleatoricSpec:
    spec = getattr(space, "aleatoric", None)
    if not isinstance(spec, AleatoricSpec):
        raise ValueError(
            f"SAMPLR needs a level space with aleatoric parameters (LevelSpace.aleatoric = "
            f"ued.aleatoric.AleatoricSpec); {space.name!r} has {type(spec).__name__}"
        )
    return spec


def fictitious_mask(config: SAMPLRConfig, branch: jax.Array) -> jax.Array:
    """bool[...]: which levels (by their proposal branch) run on fictitious transitions."""
    if config.fictitious == "all":
        return jnp.ones(jnp.shape(branch), bool)
    return branch == BRANCH_REPLAY


def make_samplr(
    space: LevelSpace,
    num_envs: int,
    config: SAMPLRConfig | None = None,
    belief: Callable[[Any, jax.Array], jax.Array] | None = None,
) -> Curriculum:
    """SAMPLR's curriculum: robust PLR over ``space`` + prior redraw of the fictitious levels'
    aleatoric fields in each proposal + the fictitious-transition step hook
    (``make_step_hook``, which ``ued.make_train`` calls with its wrapped env).

    ``belief(level, stats) -> p``: the posterior predictive of the fictitious outcomes (see
    :func:`make_samplr_step_hook`; the analytic one by default).
    Params: ``curricula.LevelSamplerParams``; state: ``curricula.PLRState``; name ``"samplr"``.
    Diagnostics add ``aleatoric/*`` (see :func:`with_aleatoric_diagnostics`).
    """
    config = SAMPLRConfig() if config is None else config
    if not isinstance(config, SAMPLRConfig):
        raise TypeError(f"make_samplr expects a SAMPLRConfig, got {type(config)}")
    spec = _spec(space)
    base = make_plr(space, num_envs, PLRConfig(buffer=config.buffer, robust=True))

    def propose(key, state, params, evaluate=None):
        k_base, k_prior = jax.random.split(key)
        state, prop = base.propose(k_base, state, params, evaluate)
        fresh = jax.vmap(spec.prior_sample)(jax.random.split(k_prior, num_envs), prop.levels)
        levels = select_levels(fictitious_mask(config, prop.branch), fresh, prop.levels)
        return state, prop.replace(levels=levels)

    def observe(key, state, proposal: Proposal, stats, params):
        # new levels are inserted as proposed (their draws are prior draws either way)
        return base.observe(key, state, proposal, stats, params)

    cur = Curriculum(
        "samplr",
        base.init,
        propose,
        observe,
        base.default_params,
        base.diagnostics,
        False,
        make_step_hook=lambda wrapped: _fictitious_hook(wrapped, spec, config, belief),
        levels=base.levels,
        branches=base.branches,
    )
    return with_aleatoric_diagnostics(cur, space)


def make_samplr_step_hook(
    env: Environment,
    space: LevelSpace,
    config: SAMPLRConfig | None = None,
    belief: Callable[[Any, jax.Array], jax.Array] | None = None,
) -> Callable:
    """SAMPLR's per-step hook for the raw ``env`` wrapped as ``EpisodeStats(AutoReplay(env))``
    (the trainer's wrapping): ``hook(key, env_state, action, env_params, proposal_i)`` takes and
    returns those wrappers' states. A building block: :func:`make_samplr` already carries this
    hook (``make_step_hook``), so training needs nothing but the curriculum.

    ``belief(level, stats) -> p`` is the posterior predictive used for fictitious outcomes:
    the analytic ``spec.predictive_prob`` by default, or a learned one
    (``functools.partial(model.predict, params)`` from ``ued.aleatoric.make_belief_model``).
    Jittable; the non-fictitious branch is exactly the wrapped env's step.
    """
    config = SAMPLRConfig() if config is None else config
    return _fictitious_hook(EpisodeStats(AutoReplay(env)), _spec(space), config, belief)


def _fictitious_hook(wrapped: Wrapper, spec: AleatoricSpec, config: SAMPLRConfig, belief):
    """The hook on ``wrapped``'s states: the same wrappers around ``FictitiousEnv``."""
    if not isinstance(wrapped, Wrapper):
        raise TypeError(
            "SAMPLR's step hook replaces the step of a wrapped env (auto-reset wrappers around "
            f"the raw env); got {type(wrapped).__name__}"
        )
    plain_w = wrapped
    fict_w = wrapped.with_base_env(FictitiousEnv(wrapped.unwrapped, spec, belief))

    def hook(key, state: EpisodeStatsState, action, params, proposal_i: Proposal):
        on = fictitious_mask(config, proposal_i.branch)
        out_f = fict_w.step(key, state, action, params)
        if config.fictitious == "all":
            return out_f
        out_p = plain_w.step(key, state, action, params)
        return tree_select(on, out_f, out_p)

    return hook


class FictitiousEnv(Wrapper):
    """``env`` with SAMPLR's fictitious transitions (see the module docstring).

    ``reset_to_level`` redraws the level's aleatoric fields from the prior (the posterior given
    an empty history); ``step`` first rewrites the hidden values so that the next random outcome
    is Bernoulli(belief(level, history_stats)). Its state is ``env``'s state. Jittable.
    """

    def __init__(self, env: Environment, spec: AleatoricSpec, belief=None):
        self.env = env
        self.spec = spec
        self.belief = spec.predictive_prob if belief is None else belief

    @property
    def name(self) -> str:
        return f"Fictitious({self.env.name})"

    def inner_state(self, state):
        return state  # its state is the wrapped env's own

    def reset_to_level(self, key, level, params):
        k_prior, k_reset = jax.random.split(key)
        return self.env.reset_to_level(k_reset, self.spec.prior_sample(k_prior, level), params)

    def step(self, key, state, action, params):
        k_cond, k_step = jax.random.split(key)
        p = self.belief(None, self.spec.history_stats(state))
        state = self.spec.condition_state(k_cond, state, p)
        return self.env.step(k_step, state, action, params)


def with_aleatoric_diagnostics(curriculum: Curriculum, space: LevelSpace) -> Curriculum:
    """``curriculum`` with extra diagnostics about the aleatoric parameter (``spec.parameter``):

    * ``aleatoric/trained`` mean over trained-on levels, weighted by episodes finished on each
      (the paying share in trained-on episodes; mean theta); levels with no finished episode
      count once;
    * ``aleatoric/proposed`` mean over all proposed levels;
    * ``aleatoric/buffer`` mean over the filled buffer slots (buffer curricula only).

    For SAMPLR the proposal's fictitious levels carry the prior redraw used at the rollout's
    first reset; later episodes redraw from the same prior, so the expectation is the same.
    """
    spec = _spec(space)
    base_diag = curriculum.diagnostics

    def diagnostics(state, proposal: Proposal, stats):
        out = dict(base_diag(state, proposal, stats)) if base_diag is not None else {}
        par = jax.vmap(spec.parameter)(proposal.levels).astype(jnp.float32)
        w = jnp.maximum(stats.num_episodes, 1).astype(jnp.float32) * proposal.train
        out["aleatoric/trained"] = jnp.where(
            w.sum() > 0, (par * w).sum() / jnp.maximum(w.sum(), 1e-9), jnp.nan
        )
        out["aleatoric/proposed"] = par.mean()
        buf = getattr(state, "buffer", None)
        if buf is not None and hasattr(buf, "levels") and hasattr(buf, "filled"):
            bp = jax.vmap(spec.parameter)(buf.levels).astype(jnp.float32)
            f = buf.filled.astype(jnp.float32)
            out["aleatoric/buffer"] = jnp.where(
                f.sum() > 0, (bp * f).sum() / jnp.maximum(f.sum(), 1.0), jnp.nan
            )
        return out

    return curriculum._replace(diagnostics=diagnostics)


__all__ = [
    "FICTITIOUS",
    "FictitiousEnv",
    "SAMPLRConfig",
    "fictitious_mask",
    "make_samplr",
    "make_samplr_step_hook",
    "with_aleatoric_diagnostics",
]


# ----------------------------------------------------------------------------- registration


@dataclasses.dataclass(frozen=True)
class SAMPLROptions:
    """SAMPLR's own option (besides the level buffer's)."""

    fictitious: str = option(
        "all", choice(*FICTITIOUS), "SAMPLR: fictitious transitions on all or replay updates"
    )


def _make_samplr(ctx: CurriculumContext) -> Curriculum:
    o = ctx.options
    cfg = SAMPLRConfig(buffer=buffer_config(o), fictitious=o.fictitious)
    return make_samplr(ctx.space, ctx.num_envs, cfg)._replace(default_params=buffer_params(o))


CURRICULA.register(
    CurriculumEntry(
        "samplr", "SAMPLR (robust PLR on fictitious transitions from the aleatoric prior)",
        _make_samplr, options=(BufferOptions, SAMPLROptions), branches=PLR_BRANCHES,
        scores=("maxmc", "pvl"), requires=("aleatoric",), order=9,
    )
)  # fmt: skip
