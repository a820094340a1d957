"""Domain randomisation, PLR / robust PLR and ACCEL as ``ued.Curriculum`` values.

Semantics (following the papers; choices where libraries differ are noted):

* **DR**: every proposal is ``B`` fresh levels from ``space.sample``; the student trains on all.
* **PLR** (Jiang et al. 2021): each update either replays ``B`` levels drawn i.i.d. from the
  buffer's replay distribution (probability ``replay_prob`` once the buffer is ``min_fill``
  full) or plays ``B`` fresh levels whose scores are then inserted. PLR trains on both; **robust
  PLR** (PLR⊥, Jiang et al. 2021b) trains only on replayed levels. Replayed levels keep their
  level for the whole rollout (the trainer's auto-replay, never a reset to a random level).
* **ACCEL** (Parker-Holder et al. 2022): like robust PLR, but after every replay step the next
  step mutates **every** level just replayed (``num_edits`` applications of ``space.mutate``;
  dcd's implementation mutated only the first), rolls the children out (no training by default) and
  inserts them by score. ``generate_from_empty`` makes the "new" branch start from an empty
  level (minimax's ACCEL) instead of the random generator.
* **Parallel mode** (minimax's PLR‖ / ACCEL‖): one proposal holds new, replayed and (ACCEL)
  mutated levels side by side, with no branch choice: ``num_replay`` envs replay buffer
  levels, as many envs roll out children of *those* levels (ACCEL), the rest play new levels.
  Until the buffer is ``min_fill`` full every env plays a new level. ``replay_prob`` is unused.

**Replay starvation guard.** With duplicate checks on, the buffer only fills with *distinct*
levels, so a level space with fewer distinct levels than ``min_fill x capacity`` never lets the
buffer reach ``min_fill``: PLR never replays (it is DR) and robust PLR never trains. The state
counts updates without a replayed level; once that count reaches ``PLRConfig.no_replay_patience``
(default: twice the updates fresh levels need to fill the buffer to ``min_fill``) while the buffer
is still below ``min_fill``, the diagnostic ``replay_starved`` (``cur/replay_starved`` in the
trainer's metrics) holds that count instead of 0, and the host loop (``ued.host.HealthChecks``)
prints a warning once and records it in the metrics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from curricula.buffer import (
    BufferOptions,
    LevelBufferState,
    LevelSamplerConfig,
    LevelSamplerParams,
    buffer_config,
    buffer_params,
    buffer_summary,
    make_level_sampler,
)
from curricula.common import proposal_diagnostics, repeat_level, select_levels
from ued.curriculum import (
    BRANCH_MUTATE,
    BRANCH_NEW,
    BRANCH_REPLAY,
    Curriculum,
    CurriculumLevels,
    LevelExtras,
    LevelStats,
    Proposal,
    new_proposal,
)
from ued.level_space import (
    LevelSpace,
    require_mutate_conformance,
    require_sample_conformance,
)
from ued.options import BOOL, ConfigError, int_, option
from ued.registry import CURRICULA, CurriculumContext, CurriculumEntry

# --------------------------------------------------------------------------------------------
# DR

# the branches each curriculum of this module logs (ids as in ued.curriculum)
DR_BRANCHES = ("new",)
PLR_BRANCHES = ("new", "replay")
ACCEL_BRANCHES = ("new", "replay", "mutate")


@struct.dataclass
class DRParams:
    """DR has no dynamic parameters."""


@struct.dataclass
class DRState:
    step: jax.Array  # int32[]


def make_dr(space: LevelSpace, num_envs: int) -> Curriculum:
    """Domain randomisation: ``num_envs`` fresh levels per update, all trained on."""
    _check_envs(num_envs)
    require_sample_conformance(space, "make_dr")

    def init(key):
        del key
        return DRState(step=jnp.zeros((), jnp.int32))

    def propose(key, state, params, evaluate=None):
        del params, evaluate
        return state, new_proposal(space.sample_batch(key, num_envs), BRANCH_NEW, True)

    def observe(key, state, proposal, stats, params):
        del key, proposal, stats, params
        return state.replace(step=state.step + 1)

    def diagnostics(state, proposal, stats):
        return proposal_diagnostics(space, proposal, stats, DR_BRANCHES)

    return Curriculum(
        "dr", init, propose, observe, DRParams(), diagnostics, False, branches=DR_BRANCHES
    )


# --------------------------------------------------------------------------------------------
# PLR / ACCEL


@dataclasses.dataclass(frozen=True)
class PLRConfig:
    """Static PLR choices.

    Attributes:
      buffer: the level buffer's static config (capacity, prioritization, duplicate check).
      robust: train only on replayed levels (PLR⊥).
      parallel: new / replay (/ mutate) side by side in every proposal (see module docstring).
      num_replay: parallel mode only, envs that replay per proposal; default ``B // 2`` (PLR)
        or ``B // 3`` (ACCEL, with as many children).
      no_replay_patience: updates without a replayed level, while the buffer is below
        ``min_fill``, after which ``replay_starved`` is raised (see the module docstring);
        ``None``: ``2 * ceil(min_fill * capacity / num_envs)`` (twice the updates fresh levels
        need to reach ``min_fill``).
    """

    buffer: LevelSamplerConfig = LevelSamplerConfig()
    robust: bool = False
    parallel: bool = False
    num_replay: int | None = None
    no_replay_patience: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.buffer, LevelSamplerConfig):
            raise ValueError("PLRConfig.buffer must be a LevelSamplerConfig")
        if self.num_replay is not None and (
            not isinstance(self.num_replay, int) or self.num_replay < 1
        ):
            raise ValueError(
                f"PLRConfig.num_replay must be None or an int >= 1, got {self.num_replay}"
            )
        p = self.no_replay_patience
        if p is not None and (not isinstance(p, int) or isinstance(p, bool) or p < 1):
            raise ValueError(f"PLRConfig.no_replay_patience must be None or an int >= 1, got {p}")


@dataclasses.dataclass(frozen=True)
class ACCELConfig(PLRConfig):
    """ACCEL = robust PLR + mutation of replayed levels.

    Attributes (besides :class:`PLRConfig`, whose ``robust`` defaults to True here):
      num_edits: single edits (``space.mutate`` calls) per child, >= 1 (jaxued maze: 5).
      generate_from_empty: new levels come from ``empty_level`` instead of ``space.sample``.
      empty_level: ``empty_level(key) -> level`` or a fixed level; required with
        ``generate_from_empty``.
    """

    robust: bool = True
    num_edits: int = 5
    generate_from_empty: bool = False
    empty_level: Callable[[jax.Array], Any] | Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.num_edits, int) or self.num_edits < 1:
            raise ValueError(f"ACCELConfig.num_edits must be an int >= 1, got {self.num_edits}")
        if self.generate_from_empty and self.empty_level is None:
            raise ValueError(
                "ACCELConfig.generate_from_empty=True needs ACCELConfig.empty_level "
                "(a callable key -> level, or a level)"
            )


@struct.dataclass
class ReplayGuard:
    """What the replay starvation guard knows after the last ``observe``."""

    no_replay: jax.Array  # int32[] consecutive updates without a replayed level
    starved: jax.Array  # bool[] no_replay >= patience while the buffer is below min_fill
    min_size: jax.Array  # int32[] levels the buffer must hold before replay (min_fill x capacity)


@struct.dataclass
class PLRState:
    buffer: LevelBufferState
    parents: Any  # level pytree (B, ...): the levels replayed at the last step (ACCEL)
    mutate_next: jax.Array  # bool[] sequential ACCEL: the next proposal mutates `parents`
    step: jax.Array  # int32[] observe count
    guard: ReplayGuard


def _check_envs(num_envs: int) -> None:
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs}")


def _make_buffer_curriculum(
    name: str, space: LevelSpace, config: PLRConfig, num_envs: int, accel: bool
) -> Curriculum:
    _check_envs(num_envs)
    b = num_envs
    sampler = make_level_sampler(config.buffer)
    robust = config.robust
    if accel and space.mutate is None:
        raise ValueError(f"ACCEL needs a level space with mutate; {space.name!r} has none")
    require_sample_conformance(space, "make_accel" if accel else "make_plr")
    if accel:
        require_mutate_conformance(space, "make_accel")
    if config.parallel:
        nr = config.num_replay if config.num_replay is not None else b // (3 if accel else 2)
        nm = nr if accel else 0
        if nr < 1 or nr + nm > b:
            raise ValueError(
                f"parallel {name}: num_replay={nr} does not fit num_envs={b} "
                f"(need 1 <= num_replay{' * 2' if accel else ''} <= num_envs)"
            )
    else:
        nr = nm = 0

    def gen_new(key):
        if accel and config.generate_from_empty:
            e = config.empty_level
            if callable(e):
                return jax.vmap(e)(jax.random.split(key, b))
            return repeat_level(e, b)
        return space.sample_batch(key, b)

    def mutate_batch(key, levels):
        n = jax.tree.leaves(levels)[0].shape[0]
        return jax.vmap(lambda k, lv: space.mutate_n(k, lv, config.num_edits))(
            jax.random.split(key, n), levels
        )

    def init(key):
        del key
        return PLRState(
            buffer=sampler.init(space.placeholder),
            parents=repeat_level(space.placeholder, b),
            mutate_next=jnp.zeros((), bool),
            step=jnp.zeros((), jnp.int32),
            guard=ReplayGuard(
                no_replay=jnp.zeros((), jnp.int32),
                starved=jnp.zeros((), bool),
                min_size=jnp.zeros((), jnp.int32),
            ),
        )

    def _assemble(state, levels, branch, slots, buf):
        slot_ok = slots >= 0
        mr = jnp.where(slot_ok, buf.extras.max_return[jnp.maximum(slots, 0)], -jnp.inf)
        train = (branch == BRANCH_REPLAY) | (not robust)
        return Proposal(
            levels=levels,
            slots=slots.astype(jnp.int32),
            extras=LevelExtras(max_return=mr.astype(jnp.float32)),
            branch=branch.astype(jnp.int32),
            train=jnp.asarray(train, bool) & jnp.ones(b, bool),
        )

    def propose_sequential(key, state: PLRState, params):
        k_new, k_dec, k_smp, k_mut = jax.random.split(key, 4)
        new = gen_new(k_new)
        do_mut = state.mutate_next if accel else jnp.zeros((), bool)
        replay = sampler.should_replay(k_dec, state.buffer, params) & ~do_mut
        buf_s, slots = sampler.sample(k_smp, state.buffer, params, b)
        buf = jax.tree.map(lambda x, y: jnp.where(replay, x, y), buf_s, state.buffer)
        rep = sampler.get_levels(buf_s, slots)
        levels = select_levels(jnp.full(b, replay), rep, new)
        branch = jnp.where(replay, BRANCH_REPLAY, BRANCH_NEW) * jnp.ones(b, jnp.int32)
        if accel:
            children = mutate_batch(k_mut, state.parents)
            levels = select_levels(jnp.full(b, do_mut), children, levels)
            branch = jnp.where(do_mut, BRANCH_MUTATE, branch)
        slots = jnp.where(replay, slots, -1)
        prop = _assemble(state, levels, branch, slots, buf)
        state = state.replace(buffer=buf)
        if accel:
            state = state.replace(
                parents=select_levels(jnp.full(b, replay), rep, state.parents),
                mutate_next=replay,
            )
        return state, prop

    def propose_parallel(key, state: PLRState, params):
        k_new, k_smp, k_mut = jax.random.split(key, 3)
        new = gen_new(k_new)
        buf0 = state.buffer
        nfill = buf0.filled.sum()
        can = (nfill > 0) & (nfill / config.buffer.capacity >= params.min_fill)
        buf_s, slots_r = sampler.sample(k_smp, buf0, params, nr)
        buf = jax.tree.map(lambda x, y: jnp.where(can, x, y), buf_s, buf0)
        rep = sampler.get_levels(buf_s, slots_r)
        parts = [rep]
        branch_alt = [jnp.full(nr, BRANCH_REPLAY, jnp.int32)]
        if accel:
            parts.append(mutate_batch(k_mut, rep))  # children of this step's replayed levels
            branch_alt.append(jnp.full(nm, BRANCH_MUTATE, jnp.int32))
        nn = b - nr - nm
        if nn > 0:
            parts.append(jax.tree.map(lambda x: x[nr + nm :], new))
            branch_alt.append(jnp.full(nn, BRANCH_NEW, jnp.int32))
        alt = jax.tree.map(lambda *xs: jnp.concatenate(xs, 0), *parts)
        branch_alt = jnp.concatenate(branch_alt)
        levels = select_levels(jnp.full(b, can), alt, new)
        branch = jnp.where(can, branch_alt, BRANCH_NEW)
        slots = jnp.concatenate([slots_r, jnp.full(b - nr, -1, jnp.int32)])
        slots = jnp.where(can & (branch == BRANCH_REPLAY), slots, -1)
        prop = _assemble(state, levels, branch, slots, buf)
        return state.replace(buffer=buf), prop

    def propose(key, state, params, evaluate=None):
        del evaluate
        if config.parallel:
            return propose_parallel(key, state, params)
        return propose_sequential(key, state, params)

    def observe(key, state: PLRState, proposal: Proposal, stats: LevelStats, params):
        del key
        br = proposal.branch
        is_rep = (br == BRANCH_REPLAY) & (proposal.slots >= 0)
        buf = sampler.update(
            state.buffer, jnp.where(is_rep, proposal.slots, -1), stats.score, stats.max_return
        )
        ins = (br == BRANCH_NEW) | (br == BRANCH_MUTATE)
        buf, _ = sampler.insert(
            buf, proposal.levels, stats.score, stats.max_return, params, mask=ins
        )
        guard = _replay_guard(state.guard, buf, jnp.any(is_rep), params)
        return state.replace(buffer=buf, step=state.step + 1, guard=guard)

    def _replay_guard(guard: ReplayGuard, buf, replayed, params) -> ReplayGuard:
        cap = config.buffer.capacity
        no_replay = jnp.where(replayed, 0, guard.no_replay + 1).astype(jnp.int32)
        n = buf.filled.sum()
        min_fill = jnp.asarray(params.min_fill, jnp.float32)
        # the same test as replay (sampler.should_replay / parallel `can`)
        can_replay = (n > 0) & (n / cap >= min_fill)
        min_size = jnp.maximum(jnp.ceil(min_fill * cap - 1e-6), 1).astype(jnp.int32)
        if config.no_replay_patience is not None:
            patience = jnp.int32(config.no_replay_patience)
        else:
            patience = jnp.maximum(2 * jnp.ceil(min_size / b), 1).astype(jnp.int32)
        starved = (no_replay >= patience) & ~can_replay
        return ReplayGuard(no_replay=no_replay, starved=starved, min_size=min_size)

    branches = ACCEL_BRANCHES if accel else PLR_BRANCHES

    def diagnostics(state: PLRState, proposal, stats):
        out = proposal_diagnostics(space, proposal, stats, branches)
        out.update(buffer_summary(state.buffer))
        g = state.guard
        out["buffer/size"] = state.buffer.filled.sum().astype(jnp.float32)
        out["buffer/min_size"] = g.min_size.astype(jnp.float32)
        out["replay_starved"] = jnp.where(g.starved, g.no_replay, 0).astype(jnp.float32)
        return out

    return Curriculum(
        name,
        init,
        propose,
        observe,
        LevelSamplerParams(),
        diagnostics,
        False,
        levels=buffer_levels,
        branches=branches,
    )


def buffer_levels(state: PLRState) -> CurriculumLevels:
    """The buffer's levels, scores (nan in empty slots) and filled mask. Jittable."""
    buf = state.buffer
    return CurriculumLevels(buf.levels, jnp.where(buf.filled, buf.scores, jnp.nan), buf.filled)


def make_plr(
    space: LevelSpace,
    num_envs: int,
    config: PLRConfig | None = None,
    *,
    robust: bool | None = None,
) -> Curriculum:
    """PLR (``robust=False``) or robust PLR / PLR⊥ (``robust=True``) over ``space``.

    ``robust`` overrides ``config.robust`` when given. Params: :class:`LevelSamplerParams`.
    State: :class:`PLRState`. Name: ``"plr"``, ``"robust_plr"`` (``"..._parallel"`` suffix).
    """
    config = PLRConfig() if config is None else config
    if not isinstance(config, PLRConfig):
        raise TypeError(f"make_plr expects a PLRConfig, got {type(config)}")
    if robust is not None:
        config = dataclasses.replace(config, robust=bool(robust))
    name = ("robust_plr" if config.robust else "plr") + ("_parallel" if config.parallel else "")
    return _make_buffer_curriculum(name, space, config, num_envs, accel=False)


def make_accel(space: LevelSpace, num_envs: int, config: ACCELConfig | None = None) -> Curriculum:
    """ACCEL over ``space`` (needs ``space.mutate``). Params: :class:`LevelSamplerParams`.

    Name: ``"accel"`` (``"accel_parallel"`` in parallel mode).
    """
    config = ACCELConfig() if config is None else config
    if not isinstance(config, ACCELConfig):
        raise TypeError(f"make_accel expects an ACCELConfig, got {type(config)}")
    name = "accel" + ("_parallel" if config.parallel else "")
    return _make_buffer_curriculum(name, space, config, num_envs, accel=True)


# ----------------------------------------------------------------------------- registrations


@dataclasses.dataclass(frozen=True)
class ParallelOptions:
    """PLR / ACCEL: the sequential or the parallel mode (see the module docstring)."""

    parallel: bool = option(False, BOOL, "parallel PLR/ACCEL (all branches in every update)")


@dataclasses.dataclass(frozen=True)
class ACCELOptions:
    """ACCEL's own options (besides the level buffer's)."""

    num_edits: int = option(5, int_(1), "ACCEL edits per child")
    accel_from_empty: bool = option(False, BOOL, "ACCEL new levels start from empty levels")


def _make_dr(ctx: CurriculumContext) -> Curriculum:
    return make_dr(ctx.space, ctx.num_envs)


def _make_plr(robust: bool) -> Callable[[CurriculumContext], Curriculum]:
    def make(ctx: CurriculumContext) -> Curriculum:
        o = ctx.options
        pc = PLRConfig(buffer=buffer_config(o), robust=robust, parallel=o.parallel)
        return make_plr(ctx.space, ctx.num_envs, pc)._replace(default_params=buffer_params(o))

    return make


def _make_accel(ctx: CurriculumContext) -> Curriculum:
    o = ctx.options
    empty = None
    if o.accel_from_empty:
        empty = getattr(ctx.space_build, "empty_level", None)
        if empty is None:
            raise ConfigError(
                f"--accel-from-empty: level space {ctx.space.name!r} has no empty level "
                "(its registration's SpaceBuild.empty_level)"
            )
    ac = ACCELConfig(
        buffer=buffer_config(o),
        parallel=o.parallel,
        num_edits=o.num_edits,
        generate_from_empty=o.accel_from_empty,
        empty_level=empty,
    )
    return make_accel(ctx.space, ctx.num_envs, ac)._replace(default_params=buffer_params(o))


CURRICULA.register(
    CurriculumEntry("dr", "domain randomisation: a fresh random level for every env", _make_dr,
                    branches=DR_BRANCHES, order=0)
)  # fmt: skip
CURRICULA.register(
    CurriculumEntry(
        "plr", "prioritised level replay", _make_plr(False),
        options=(BufferOptions, ParallelOptions), branches=PLR_BRANCHES, order=1,
    )
)  # fmt: skip
CURRICULA.register(
    CurriculumEntry(
        "robust-plr", "robust PLR (trains on replayed levels only)", _make_plr(True),
        options=(BufferOptions, ParallelOptions), branches=PLR_BRANCHES, order=2,
    )
)  # fmt: skip
CURRICULA.register(
    CurriculumEntry(
        "accel", "ACCEL (robust PLR + mutations of replayed levels)", _make_accel,
        options=(BufferOptions, ParallelOptions, ACCELOptions), branches=ACCEL_BRANCHES, order=3,
    )
)  # fmt: skip
