"""SFL, sampling for learnability (Rutherford et al., NeurIPS 2024), as a ``ued.Curriculum``.

Every ``refresh_every`` updates (and at the first one) SFL samples ``num_sample`` random
levels, estimates each level's success rate ``p`` from ``eval_episodes`` (>= 8) evaluation
episodes of the *current* student (the trainer's ``evaluate`` on ``eval_episodes`` repeated
copies of every level, outside the training rollout), and keeps the ``num_keep`` levels with
the highest learnability ``p (1 - p)``. Each proposal then trains on a mix: every env plays a
level drawn uniformly from the kept set with probability ``buffer_prob`` (branch ``SFL``) and a
fresh random level otherwise (branch ``NEW``). The student trains on all of them.

Defaults are scaled down to fit a CPU: the paper (MiniGrid) samples 5 x 5000 = 25,000 levels,
keeps 1,000, refreshes every 100 updates and uses 128 of 256 envs from the buffer. Ours:
``num_sample=512``, ``num_keep=64``, ``refresh_every=100``, ``buffer_prob=0.5``; set
``SFLConfig(num_sample=25_000, num_keep=1_000, eval_chunk=5_000)`` to go back to the paper.

The refresh runs under :func:`ued.control.run_if`, so training pays for it only every
``refresh_every`` updates, also under ``vmap`` over seeds or swept configurations (where a
``lax.cond`` would become a select and evaluate at every update).

Edge case: a level copy on which no evaluation episode finished counts as 0 episodes; a level
with no finished episode at all gets ``p = 0`` (learnability 0).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from curricula.common import proposal_diagnostics, repeat_level, select_levels
from ued.control import run_if
from ued.curriculum import (
    BRANCH_NEW,
    Curriculum,
    CurriculumLevels,
    LevelExtras,
    LevelStats,
    Proposal,
)
from ued.level_space import LevelSpace, require_sample_conformance
from ued.options import ConfigError, float_, int_, option
from ued.registry import CURRICULA, CurriculumContext, CurriculumEntry
from ued.validation import require_ints

# a level from the learnable set is SFL's own branch (after new)
BRANCH_SFL = 1
SFL_BRANCHES = ("new", "sfl")


@dataclasses.dataclass(frozen=True)
class SFLConfig:
    """Static SFL choices.

    Attributes:
      num_sample: random levels evaluated per refresh (paper: 25,000), >= num_keep.
      num_keep: levels kept by learnability (paper: 1,000), >= 1.
      refresh_every: updates between refreshes (paper: 100), >= 1.
      eval_episodes: evaluation copies per level (>= 8).
      eval_chunk: evaluate in chunks of this many levels (``None``: all at once); must divide
        ``num_sample``. Bounds the evaluation's memory.
    """

    num_sample: int = 512
    num_keep: int = 64
    refresh_every: int = 100
    eval_episodes: int = 8
    eval_chunk: int | None = None

    def __post_init__(self) -> None:
        require_ints(self, ("num_sample", "num_keep", "refresh_every"))
        if self.num_keep > self.num_sample:
            raise ValueError(
                f"SFLConfig.num_keep ({self.num_keep}) must be <= num_sample ({self.num_sample})"
            )
        if not isinstance(self.eval_episodes, int) or self.eval_episodes < 8:
            raise ValueError(
                f"SFLConfig.eval_episodes must be an int >= 8, got {self.eval_episodes}"
            )
        if self.eval_chunk is not None and (
            not isinstance(self.eval_chunk, int)
            or self.eval_chunk < 1
            or self.num_sample % self.eval_chunk
        ):
            raise ValueError(
                f"SFLConfig.eval_chunk must be None or a divisor of num_sample "
                f"({self.num_sample}), got {self.eval_chunk}"
            )


@struct.dataclass
class SFLParams:
    """buffer_prob in [0, 1]: chance that an env plays a kept (learnable) level."""

    buffer_prob: jax.Array | float = 0.5


@struct.dataclass
class SFLState:
    levels: Any  # level pytree (num_keep, ...) the learnable set
    learnability: jax.Array  # float32[num_keep]
    success: jax.Array  # float32[num_keep] estimated success rate p
    step: jax.Array  # int32[] observe count
    refreshes: jax.Array  # int32[] how many refreshes ran


def success_rates(stats: LevelStats, num_levels: int, copies: int) -> jax.Array:
    """float32[num_levels] pooled solve rate over ``copies`` evaluation copies per level.

    ``stats`` leaves are ``(copies * num_levels,)`` laid out copy-major (``jnp.tile``).
    Copies with no finished episode contribute nothing; no episode at all -> 0.
    """
    n = stats.num_episodes.reshape(copies, num_levels).astype(jnp.float32)
    sr = jnp.nan_to_num(stats.solve_rate.reshape(copies, num_levels), nan=0.0)
    tot = n.sum(0)
    return jnp.where(tot > 0, (sr * n).sum(0) / jnp.maximum(tot, 1.0), 0.0)


def make_sfl(space: LevelSpace, num_envs: int, config: SFLConfig | None = None) -> Curriculum:
    """SFL over ``space``; ``needs_evaluate=True`` (``propose`` requires ``evaluate``)."""
    config = SFLConfig() if config is None else config
    if not isinstance(config, SFLConfig):
        raise TypeError(f"make_sfl expects an SFLConfig, got {type(config)}")
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs}")
    require_sample_conformance(space, "make_sfl")
    b = num_envs
    m, k, e = config.num_sample, config.num_keep, config.eval_episodes
    chunk = config.eval_chunk or m

    def init(key):
        del key
        return SFLState(
            levels=repeat_level(space.placeholder, k),
            learnability=jnp.full((k,), -jnp.inf, jnp.float32),
            success=jnp.full((k,), jnp.nan, jnp.float32),
            step=jnp.zeros((), jnp.int32),
            refreshes=jnp.zeros((), jnp.int32),
        )

    def refresh(key, state, evaluate):
        k_s, k_e = jax.random.split(key)
        cand = space.sample_batch(k_s, m)
        chunks = jax.tree.map(lambda x: x.reshape((m // chunk, chunk) + x.shape[1:]), cand)

        def eval_chunk(args):
            kk, lv = args
            reps = jax.tree.map(lambda x: jnp.tile(x, (e,) + (1,) * (x.ndim - 1)), lv)
            return success_rates(evaluate(kk, reps), chunk, e)

        keys = jax.random.split(k_e, m // chunk)
        p = jax.lax.map(eval_chunk, (keys, chunks)).reshape(m)
        learn = p * (1.0 - p)
        top, idx = jax.lax.top_k(learn, k)
        return state.replace(
            levels=jax.tree.map(lambda x: x[idx], cand),
            learnability=top,
            success=p[idx],
            refreshes=state.refreshes + 1,
        )

    def propose(key, state: SFLState, params: SFLParams, evaluate=None):
        if evaluate is None:
            raise ValueError("SFL needs the trainer's evaluate(key, levels) -> LevelStats")
        k_r, k_n, k_i, k_u = jax.random.split(key, 4)
        due = (state.step % config.refresh_every) == 0
        # the key is an arg of run_if: what it alone determines (the candidates, their
        # evaluation) is then never computed outside the refresh
        state = run_if(due, lambda s, k: refresh(k, s, evaluate), state, k_r)
        new = space.sample_batch(k_n, b)
        idx = jax.random.randint(k_i, (b,), 0, k)
        kept = jax.tree.map(lambda x: x[idx], state.levels)
        use = jax.random.uniform(k_u, (b,)) < params.buffer_prob
        prop = Proposal(
            levels=select_levels(use, kept, new),
            slots=jnp.where(use, idx, -1).astype(jnp.int32),
            extras=LevelExtras(max_return=jnp.full((b,), -jnp.inf, jnp.float32)),
            branch=jnp.where(use, BRANCH_SFL, BRANCH_NEW).astype(jnp.int32),
            train=jnp.ones((b,), bool),
        )
        return state, prop

    def observe(key, state, proposal, stats, params):
        del key, proposal, stats, params
        return state.replace(step=state.step + 1)

    def diagnostics(state: SFLState, proposal, stats):
        out = proposal_diagnostics(space, proposal, stats, SFL_BRANCHES)
        fin = jnp.isfinite(state.learnability)
        out["sfl/mean_learnability"] = jnp.where(fin, state.learnability, 0.0).sum() / jnp.maximum(
            fin.sum(), 1
        )
        out["sfl/mean_success"] = jnp.nanmean(state.success)
        out["sfl/refreshes"] = state.refreshes.astype(jnp.float32)
        return out

    def levels(state: SFLState) -> CurriculumLevels:
        # the kept set, scored by learnability; -inf marks slots before the first refresh
        valid = jnp.isfinite(state.learnability)
        return CurriculumLevels(state.levels, jnp.where(valid, state.learnability, jnp.nan), valid)

    return Curriculum(
        "sfl",
        init,
        propose,
        observe,
        SFLParams(),
        diagnostics,
        True,
        levels=levels,
        branches=SFL_BRANCHES,
    )


# ----------------------------------------------------------------------------- registration


@dataclasses.dataclass(frozen=True)
class SFLOptions:
    """SFL's command-line options: :class:`SFLConfig` and :class:`SFLParams` (its CPU-scaled
    defaults)."""

    sfl_num_sample: int = option(512, int_(1), "SFL levels sampled per refresh")
    sfl_num_keep: int = option(64, int_(1), "SFL levels kept by learnability")
    sfl_refresh_every: int = option(100, int_(1), "SFL updates between refreshes")
    sfl_eval_episodes: int = option(8, int_(8), "SFL evaluation copies per level")
    sfl_buffer_prob: float = option(0.5, float_(0.0, 1.0), "SFL share of envs on kept levels")


def _validate_sfl(o: Any) -> None:
    if o.sfl_num_keep > o.sfl_num_sample:
        raise ConfigError("--sfl-num-keep must be <= --sfl-num-sample")


def _make_sfl(ctx: CurriculumContext) -> Curriculum:
    o = ctx.options
    sc = SFLConfig(
        num_sample=o.sfl_num_sample,
        num_keep=o.sfl_num_keep,
        refresh_every=o.sfl_refresh_every,
        eval_episodes=o.sfl_eval_episodes,
    )
    cur = make_sfl(ctx.space, ctx.num_envs, sc)
    return cur._replace(default_params=SFLParams(buffer_prob=o.sfl_buffer_prob))


CURRICULA.register(
    CurriculumEntry(
        "sfl", "sampling for learnability (a learnable set refreshed by probing the student)",
        _make_sfl, options=(SFLOptions,), branches=SFL_BRANCHES, score="learnability",
        validate=_validate_sfl, order=4,
    )
)  # fmt: skip
