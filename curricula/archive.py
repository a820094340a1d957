"""A MAP-Elites level archive as a ``ued.Curriculum``: open-ended and diversity-keeping.

The archive is a grid over ``space.descriptor`` (``D`` features, ``bins[j]`` bins between
``lower[j]`` and ``upper[j]``; values outside are clipped into the edge bins). Each cell keeps
its highest-scoring level (its *elite*). Every proposal mixes, per env:

* with probability ``new_prob``: a fresh random level (branch ``NEW``), which seeds the grid;
* with probability ``replay_prob``: an elite itself (branch ``REPLAY``, ``slot`` = its cell), so
  elites are **re-scored whenever they are trained on**: its cell score is overwritten by the new
  score (mean over copies in the batch), so stale high scores decay as the student improves;
* otherwise: a child of an elite, ``num_edits`` single mutations away (branch ``ARCHIVE``).

Elites are drawn from ``(1 - uniform_share) * P_rank + uniform_share * uniform`` over filled
cells, ``P_rank`` being the buffer's rank prioritisation with ``temperature``. While the archive
is empty, every env plays a fresh level. After the rollout, new levels and children go to the
cell of their descriptor and replace its elite only if the cell is empty or their score is
strictly higher (several candidates for one cell in a batch: the highest wins, ties to the
lower env index). Default training: on every proposed level (``robust=True``: elites only).

Maze default: wall count x shortest-path length, 10 x 10 bins; use
:func:`maze_archive_config` for its bounds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from curricula.buffer import rank_weights
from curricula.common import proposal_diagnostics, repeat_level, select_levels
from ued.curriculum import (
    BRANCH_NEW,
    BRANCH_REPLAY,
    Curriculum,
    CurriculumLevels,
    LevelExtras,
    LevelStats,
    Proposal,
)
from ued.level_space import (
    LevelSpace,
    require_mutate_conformance,
    require_sample_conformance,
)
from ued.options import ConfigError, float_, int_, option
from ued.registry import CURRICULA, CurriculumContext, CurriculumEntry

# a child of an elite is the archive's own branch (after new and replay)
BRANCH_ARCHIVE = 2
ARCHIVE_BRANCHES = ("new", "replay", "archive")


@dataclasses.dataclass(frozen=True)
class ArchiveConfig:
    """Static archive choices.

    Attributes:
      lower, upper: per-descriptor bounds (length D, ``upper > lower``).
      bins: bins per descriptor (length D, each >= 1). Default 10 x 10.
      num_edits: mutations per child, >= 1.
      robust: train only on replayed elites.
    """

    lower: tuple[float, ...] = (0.0, 0.0)
    upper: tuple[float, ...] = (1.0, 1.0)
    bins: tuple[int, ...] = (10, 10)
    num_edits: int = 1
    robust: bool = False

    def __post_init__(self) -> None:
        d = len(self.bins)
        if d < 1 or len(self.lower) != d or len(self.upper) != d:
            raise ValueError(
                "ArchiveConfig.lower, .upper and .bins must have the same length >= 1, got "
                f"{len(self.lower)}, {len(self.upper)}, {d}"
            )
        for j in range(d):
            if not self.upper[j] > self.lower[j]:
                raise ValueError(f"ArchiveConfig.upper[{j}] must be > lower[{j}]")
            if not isinstance(self.bins[j], int) or self.bins[j] < 1:
                raise ValueError(f"ArchiveConfig.bins[{j}] must be an int >= 1")
        if not isinstance(self.num_edits, int) or self.num_edits < 1:
            raise ValueError(f"ArchiveConfig.num_edits must be an int >= 1, got {self.num_edits}")

    @property
    def num_cells(self) -> int:
        return int(np.prod(self.bins))


def maze_archive_config(height: int = 13, width: int = 13, bins=(10, 10), **kw) -> ArchiveConfig:
    """Bounds for a maze descriptor (wall count, shortest-path length) on an H x W grid."""
    cells = float(height * width)
    return ArchiveConfig(lower=(0.0, 0.0), upper=(cells, cells), bins=tuple(bins), **kw)


@struct.dataclass
class ArchiveParams:
    """new_prob, replay_prob in [0, 1] (sum <= 1); uniform_share in [0, 1]; temperature > 0."""

    new_prob: jax.Array | float = 0.2
    replay_prob: jax.Array | float = 0.3
    uniform_share: jax.Array | float = 0.3
    temperature: jax.Array | float = 1.0


@struct.dataclass
class ArchiveState:
    levels: Any  # level pytree (num_cells, ...) elite per cell
    scores: jax.Array  # float32[num_cells] (-inf: empty)
    filled: jax.Array  # bool[num_cells]
    extras: LevelExtras  # max_return float32[num_cells]
    inserts: jax.Array  # int32[] elites placed so far
    step: jax.Array  # int32[]


def cell_index(config: ArchiveConfig, descriptor: jax.Array) -> jax.Array:
    """int32[...] flat cell of descriptors ``float32[..., D]`` (row-major over ``bins``)."""
    lo = jnp.asarray(config.lower, jnp.float32)
    hi = jnp.asarray(config.upper, jnp.float32)
    nb = jnp.asarray(config.bins, jnp.int32)
    frac = (descriptor.astype(jnp.float32) - lo) / (hi - lo)
    idx = jnp.clip(jnp.floor(frac * nb).astype(jnp.int32), 0, nb - 1)
    flat = jnp.zeros(idx.shape[:-1], jnp.int32)
    for j in range(len(config.bins)):
        flat = flat * config.bins[j] + idx[..., j]
    return flat


def archive_insert(
    config: ArchiveConfig, state: ArchiveState, cells, levels, scores, max_ret, mask
) -> ArchiveState:
    """Place candidates (cell ``int32[B]``) whose score beats their cell's elite. Jittable."""
    c = config.num_cells
    b = scores.shape[0]
    s = jnp.where(jnp.isnan(scores), -jnp.inf, scores).astype(jnp.float32)
    idx = jnp.where(mask, cells, c)
    best = jnp.full(c, -jnp.inf, jnp.float32).at[idx].max(s, mode="drop")
    # the winner per cell: highest score, lowest env index among ties
    is_best = mask & (s == best[jnp.clip(cells, 0, c - 1)])
    win = (
        jnp.full(c, b, jnp.int32)
        .at[jnp.where(is_best, cells, c)]
        .min(jnp.arange(b, dtype=jnp.int32), mode="drop")
    )
    has = win < b
    wi = jnp.minimum(win, b - 1)
    cand_s = s[wi]
    take = has & (~state.filled | (cand_s > state.scores))
    levels_new = jax.tree.map(
        lambda old, x: jnp.where(take.reshape((c,) + (1,) * (old.ndim - 1)), x[wi], old),
        state.levels,
        levels,
    )
    return state.replace(
        levels=levels_new,
        scores=jnp.where(take, cand_s, state.scores),
        filled=state.filled | take,
        extras=LevelExtras(max_return=jnp.where(take, max_ret[wi], state.extras.max_return)),
        inserts=state.inserts + take.sum().astype(jnp.int32),
    )


def make_archive(space: LevelSpace, num_envs: int, config: ArchiveConfig) -> Curriculum:
    """MAP-Elites archive curriculum over ``space`` (needs ``descriptor`` and ``mutate``)."""
    if not isinstance(config, ArchiveConfig):
        raise TypeError(f"make_archive expects an ArchiveConfig, got {type(config)}")
    if space.descriptor is None or space.mutate is None:
        raise ValueError(
            f"the archive needs a level space with descriptor and mutate; {space.name!r} lacks one"
        )
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs}")
    require_sample_conformance(space, "make_archive")
    require_mutate_conformance(space, "make_archive")
    d = jnp.shape(space.descriptor(space.placeholder))
    if d != (len(config.bins),):
        raise ValueError(
            f"space.descriptor returns shape {d}, ArchiveConfig has {len(config.bins)} bins"
        )
    b, c = num_envs, config.num_cells

    def init(key):
        del key
        return ArchiveState(
            levels=repeat_level(space.placeholder, c),
            scores=jnp.full((c,), -jnp.inf, jnp.float32),
            filled=jnp.zeros((c,), bool),
            extras=LevelExtras(max_return=jnp.full((c,), -jnp.inf, jnp.float32)),
            inserts=jnp.zeros((), jnp.int32),
            step=jnp.zeros((), jnp.int32),
        )

    def elite_weights(state, params):
        pr = rank_weights(state.scores, state.filled, params.temperature)
        uni = state.filled / jnp.maximum(state.filled.sum(), 1)
        u = jnp.asarray(params.uniform_share, jnp.float32)
        return (1.0 - u) * pr + u * uni

    def propose(key, state: ArchiveState, params: ArchiveParams, evaluate=None):
        del evaluate
        k_n, k_c, k_e, k_m = jax.random.split(key, 4)
        new = space.sample_batch(k_n, b)
        w = elite_weights(state, params)
        p = w / jnp.maximum(w.sum(), 1e-12)
        cells = jax.random.choice(k_e, c, (b,), p=jnp.where(state.filled.any(), p, 1.0 / c))
        elites = jax.tree.map(lambda x: x[cells], state.levels)
        children = jax.vmap(lambda kk, lv: space.mutate_n(kk, lv, config.num_edits))(
            jax.random.split(k_m, b), elites
        )
        u = jax.random.uniform(k_c, (b,))
        nonempty = state.filled.any()
        is_new = (~nonempty) | (u < params.new_prob)
        is_rep = (~is_new) & (u < params.new_prob + params.replay_prob)
        levels = select_levels(is_new, new, select_levels(is_rep, elites, children))
        branch = jnp.where(is_new, BRANCH_NEW, jnp.where(is_rep, BRANCH_REPLAY, BRANCH_ARCHIVE))
        train = jnp.ones(b, bool) if not config.robust else is_rep
        prop = Proposal(
            levels=levels,
            slots=jnp.where(is_rep, cells, -1).astype(jnp.int32),
            extras=LevelExtras(
                max_return=jnp.where(is_rep, state.extras.max_return[cells], -jnp.inf)
            ),
            branch=branch.astype(jnp.int32),
            train=train,
        )
        return state, prop

    def observe(key, state: ArchiveState, proposal: Proposal, stats: LevelStats, params):
        del key, params
        br = proposal.branch
        s = jnp.where(jnp.isnan(stats.score), -jnp.inf, stats.score).astype(jnp.float32)
        # re-score replayed elites (mean over copies; max for max_return)
        rep = (br == BRANCH_REPLAY) & (proposal.slots >= 0)
        ridx = jnp.where(rep, proposal.slots, c)
        tot = jnp.zeros(c, jnp.float32).at[ridx].add(jnp.where(rep, s, 0.0), mode="drop")
        cnt = jnp.zeros(c, jnp.float32).at[ridx].add(rep.astype(jnp.float32), mode="drop")
        mr = jnp.full(c, -jnp.inf, jnp.float32).at[ridx].max(stats.max_return, mode="drop")
        touched = (cnt > 0) & state.filled
        state = state.replace(
            scores=jnp.where(touched, tot / jnp.maximum(cnt, 1.0), state.scores),
            extras=LevelExtras(
                max_return=jnp.where(
                    touched, jnp.maximum(mr, state.extras.max_return), state.extras.max_return
                )
            ),
        )
        cand = (br == BRANCH_NEW) | (br == BRANCH_ARCHIVE)
        cells = cell_index(config, jax.vmap(space.descriptor)(proposal.levels))
        state = archive_insert(config, state, cells, proposal.levels, s, stats.max_return, cand)
        return state.replace(step=state.step + 1)

    def diagnostics(state: ArchiveState, proposal, stats):
        out = proposal_diagnostics(space, proposal, stats, ARCHIVE_BRANCHES)
        f = state.filled
        fin = f & jnp.isfinite(state.scores)
        out["archive/coverage"] = f.mean().astype(jnp.float32)
        out["archive/qd_score"] = jnp.where(fin, state.scores, 0.0).sum()
        out["archive/max_score"] = jnp.where(fin, state.scores, -jnp.inf).max()
        out["archive/mean_score"] = jnp.where(fin, state.scores, 0.0).sum() / jnp.maximum(
            fin.sum(), 1
        )
        out["archive/inserts"] = state.inserts.astype(jnp.float32)
        return out

    def levels(state: ArchiveState) -> CurriculumLevels:
        return CurriculumLevels(
            state.levels, jnp.where(state.filled, state.scores, jnp.nan), state.filled
        )

    return Curriculum(
        "archive",
        init,
        propose,
        observe,
        ArchiveParams(),
        diagnostics,
        False,
        levels=levels,
        branches=ARCHIVE_BRANCHES,
    )


# ----------------------------------------------------------------------------- registration


@dataclasses.dataclass(frozen=True)
class ArchiveOptions:
    """The archive's command-line options (:class:`ArchiveParams` defaults otherwise)."""

    archive_bins: int = option(10, int_(1), "archive bins per descriptor")
    archive_new_prob: float = option(0.2, float_(0.0, 1.0), "archive: share of new levels")
    archive_replay_prob: float = option(0.3, float_(0.0, 1.0), "archive: share of replayed elites")
    archive_num_edits: int = option(1, int_(1), "archive edits per child")


def _validate_archive(o: Any) -> None:
    if o.archive_new_prob + o.archive_replay_prob > 1.0:
        raise ConfigError("--archive-new-prob + --archive-replay-prob must be <= 1")


def _make_archive(ctx: CurriculumContext) -> Curriculum:
    o = ctx.options
    bounds = getattr(ctx.space_build, "descriptor_bounds", None)
    if bounds is None or ctx.space.descriptor is None:
        raise ConfigError(
            f"--curriculum archive: level space {ctx.space.name!r} declares no descriptor "
            "bounds (its registration's SpaceBuild.descriptor_bounds)"
        )
    lower, upper = bounds
    cfg = ArchiveConfig(
        lower=tuple(float(x) for x in lower),
        upper=tuple(float(x) for x in upper),
        bins=(o.archive_bins,) * len(lower),
        num_edits=o.archive_num_edits,
    )
    params = ArchiveParams(new_prob=o.archive_new_prob, replay_prob=o.archive_replay_prob)
    return make_archive(ctx.space, ctx.num_envs, cfg)._replace(default_params=params)


CURRICULA.register(
    CurriculumEntry(
        "archive", "MAP-Elites level archive over the space's descriptor", _make_archive,
        options=(ArchiveOptions,), branches=ARCHIVE_BRANCHES, validate=_validate_archive, order=5,
    )
)  # fmt: skip
