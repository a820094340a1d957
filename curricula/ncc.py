"""NCC, a learned replay distribution (Monette et al., RLC 2025, "An Optimisation Framework for
Unsupervised Environment Design", arXiv 2505.20659; code: nmonette/NCC-UED), as a
``ued.Curriculum``.

NCC poses UED as the nonconvex-strongly-concave game ``min_x max_y  y . s(x) + lambda H(y)``
between the student ``x`` and a probability vector ``y`` over the ``N`` levels of a buffer
(``s_i(x)``: level ``i``'s score for the student, ``H``: entropy), and plays it with TiAda
(Li, Yang & He, ICLR 2023): the distribution player takes projected, adaptive gradient-ascent
steps; the student takes time-scale-adaptive steps that read the distribution player's
accumulated squared gradient norm. What this module does, following the published code
(``minigrid/train/minigrid_ncc.py`` with ``minigrid/train/config/minigrid-ncc-reg.yaml``; the
TiAda transforms of ``craftax/train/ncc_utils.py`` / ``xland/training/ncc_utils.py``):

* **Buffer and distribution.** ``N`` levels drawn from ``space.sample`` at ``init`` (the buffer
  starts full) and ``y = 1/N`` everywhere. Every env of every proposal plays a level drawn
  i.i.d. from ``y`` (branch ``replay``; the student trains on all of them).
* **Scores and refresh** (every ``refresh_every`` updates, from the second update on; published:
  every update). With the current student, ``evaluate`` scores all ``N`` buffer levels and
  ``num_new`` fresh ones: learnability ``p (1 - p)``, ``p`` the success rate pooled over
  ``eval_episodes`` copies of each level (the published ``learnability_fn``). The fresh levels,
  best first, then each replace the lowest-scored buffer level when they score strictly higher
  (jaxued's ``insert_batch`` with the distribution's own level weights, as published); a
  replaced slot keeps its probability ``y_i``.
* **The distribution player's step** (same refresh), on ``f(y) = y . s - lambda y . log(y +
  1e-6)`` (published ``grad_fn``; ``lambda`` = ``entropy_coef``, published ``META_REG =
  0.032``, optionally decayed as ``lambda / cbrt(t + 1)`` like the Craftax runs)::

      g   = s - lambda (log(y + 1e-6) + y / (y + 1e-6))              (gradient of f at y)
      m  <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2       (elementwise, TiAda-Adam)
      y  <- P( y + eta (m / (1 - b1^t)) / (v^beta / sqrt(1 - b2^t) + eps) )

  ``eta`` = ``lr`` (published ``META_LR = 0.005``), ``beta = 0.4``, ``b1 = 0.9``,
  ``b2 = 0.999``, ``eps = 1e-5`` (``scale_y_by_ti_ada``), and ``P`` the Euclidean projection
  onto the truncated simplex ``{y : sum y = 1, y_i >= floor}`` (:func:`project_truncated_simplex`;
  published ``META_TRUNC = 1e-5``).
* **The coupling** (``student="tiada"``): the student's optimiser is ``clip_by_global_norm ->``
  :func:`ued.optim.scale_by_tiada` (``alpha = 0.6``) instead of Adam, and at every gradient step
  it reads ``v_y = sum(v)``, the distribution player's accumulated squared gradient norm, kept
  here in the curriculum state and handed to the learner step through
  ``Curriculum.student_opt_args`` (the student's step is ``lr * g_hat / max(v_x, v_y)^alpha``
  in TiAda's terms; the student's learning rate and its annealing stay :class:`ued.PPOParams`).

**What the published code actually computes for the coupling.** Its training step copies the
distribution player's ``vy`` into the student's TiAda state with
``jax.tree_util.tree_map(lambda x: x if type(x) is not ScaleByTiAdaState else
x.replace(vy=...), opt_state)``; ``tree_map`` visits only the array leaves, never the
``ScaleByTiAdaState`` node, so the copy does nothing and the student's ``vy`` stays at its
initial zeros: in the published runs the ratio ``v_x^alpha / max(v_x, v_y)^alpha`` is 1 and
the student is an uncoupled TiAda-Adam. ``student="tiada"`` (default) implements the coupling
the code intends and TiAda prescribes; ``student="tiada-as-run"`` reproduces what the published
runs computed (``v_y = 0``); ``student="adam"`` keeps the toolkit's Adam student (no coupling).

The refresh runs under :func:`ued.control.run_if`, so training pays for the probe only at
refreshes, also under ``vmap`` over seeds or swept configurations (where a ``lax.cond`` would
become a select and probe at every update).

Deviations, all CPU scaling: ``buffer_size=64`` (published 4000), ``num_new=16`` (published:
the number of envs, 256), ``eval_episodes=4`` (published ``EVAL_NUM_ATTEMPTS``, set in its env
config); ``refresh_every > 1`` holds ``y`` (and the buffer) fixed between refreshes. Not done:
the optimistic variant (``META_OPTIMISTIC``, commented out in the published step) and the
oracle-regret score of NCC-Reg (``minigrid_ncc_regret.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from curricula.common import proposal_diagnostics
from curricula.sfl import success_rates
from ued.control import run_if
from ued.curriculum import (
    BRANCH_REPLAY,
    Curriculum,
    CurriculumLevels,
    LevelExtras,
    Proposal,
)
from ued.level_space import LevelSpace, require_sample_conformance
from ued.optim import scale_by_tiada
from ued.options import ConfigError, choice, float_, int_, option
from ued.registry import CURRICULA, CurriculumContext, CurriculumEntry, Panel
from ued.validation import require_ints

NCC_BRANCHES = ("new", "replay")  # every proposed level is replayed from the buffer
STUDENTS = ("tiada", "tiada-as-run", "adam")
ENTROPY_SCHEDULES = ("constant", "inv-cbrt")
_LOG_EPS = 1e-6  # the published log(y + 1e-6)


def project_truncated_simplex(x: jax.Array, floor: float) -> jax.Array:
    """Euclidean projection of ``x`` (float32[n]) onto ``{p : sum p = 1, p_i >= floor}``.

    Sort-based (Duchi et al., ICML 2008, on ``x - floor`` and the simplex of mass
    ``r = 1 - n floor``): with ``u`` = ``x - floor`` sorted descending and ``c`` its cumulative
    sums, ``k = max{j : u_j > (c_j - r) / j}``, ``theta = (c_k - r) / k``, the result is
    ``floor + max(x - floor - theta, 0)``. Same set (and so the same projection) as the
    published ``projection_simplex_truncated``'s ``{sum p = 1, floor <= p <= 1}``: the upper
    bound never binds. ``floor * n == 1`` gives the uniform vector.

    ``floor``: a Python float in ``[0, 1/n]``; ``floor * n > 1`` is a ``ValueError`` (no
    distribution has every probability above it). Jittable in ``x``; float32[n].
    """
    x = jnp.asarray(x, jnp.float32)
    if x.ndim != 1:
        raise ValueError(f"project_truncated_simplex: x must be 1-D, got shape {x.shape}")
    n = x.shape[0]
    floor = float(floor)
    if not 0.0 <= floor or floor * n > 1.0 + 1e-9:
        raise ValueError(
            f"project_truncated_simplex: floor must be in [0, 1/n] = [0, {1.0 / n:.6g}] for "
            f"n={n} levels (floor * n <= 1), got floor={floor} (floor * n = {floor * n:.6g})"
        )
    r = max(1.0 - n * floor, 0.0)
    z = x - floor
    u = jnp.sort(z)[::-1]
    css = jnp.cumsum(u)
    j = jnp.arange(1, n + 1, dtype=jnp.float32)
    k = jnp.maximum(jnp.sum(u - (css - r) / j > 0), 1)
    theta = (css[k - 1] - r) / k.astype(jnp.float32)
    return floor + jnp.maximum(z - theta, 0.0)


@dataclasses.dataclass(frozen=True)
class NCCConfig:
    """Static NCC choices (see the module docstring for the published values).

    Attributes:
      buffer_size: ``N`` levels the distribution is over (published 4000), >= 1.
      num_new: fresh levels scored at each refresh and offered to the buffer (published 256),
        >= 0.
      refresh_every: updates between refreshes (score, insert, distribution step); published
        1, >= 1.
      eval_episodes: evaluation copies per level for the success rate, >= 1.
      floor: every probability stays >= floor (published 1e-5); ``floor * buffer_size <= 1``.
      student: ``"tiada"`` (coupled TiAda student), ``"tiada-as-run"`` (TiAda student with
        ``v_y = 0``, what the published runs computed) or ``"adam"`` (no coupling).
      alpha: the student's TiAda exponent (published 0.6); beta: the distribution's (0.4).
      b1, b2, eps: both players' moment decays and epsilon (published 0.9, 0.999, 1e-5).
      entropy_schedule: ``"constant"`` (minigrid) or ``"inv-cbrt"`` (``lambda / cbrt(t + 1)``
        at the t-th distribution step, the Craftax runs).
    """

    buffer_size: int = 64
    num_new: int = 16
    refresh_every: int = 1
    eval_episodes: int = 4
    floor: float = 1e-5
    student: str = "tiada"
    alpha: float = 0.6
    beta: float = 0.4
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-5
    entropy_schedule: str = "constant"

    def __post_init__(self) -> None:
        require_ints(self, ("buffer_size", "refresh_every", "eval_episodes"))
        require_ints(self, ("num_new",), minimum=0)
        if not 0.0 <= self.floor or self.floor * self.buffer_size > 1.0:
            raise ValueError(
                f"NCCConfig.floor must be in [0, 1/buffer_size] = [0, {1 / self.buffer_size:.6g}]"
                f" (floor * buffer_size <= 1), got {self.floor}"
            )
        if self.student not in STUDENTS:
            raise ValueError(f"NCCConfig.student must be one of {STUDENTS}, got {self.student!r}")
        if self.entropy_schedule not in ENTROPY_SCHEDULES:
            raise ValueError(
                f"NCCConfig.entropy_schedule must be one of {ENTROPY_SCHEDULES}, got "
                f"{self.entropy_schedule!r}"
            )
        for f in ("alpha", "beta"):
            if not 0.0 < getattr(self, f) <= 1.0:
                raise ValueError(f"NCCConfig.{f} must be in (0, 1], got {getattr(self, f)}")
        for f in ("b1", "b2"):
            if not 0.0 <= getattr(self, f) < 1.0:
                raise ValueError(f"NCCConfig.{f} must be in [0, 1), got {getattr(self, f)}")
        if not self.eps > 0.0:
            raise ValueError(f"NCCConfig.eps must be > 0, got {self.eps}")


@struct.dataclass
class NCCParams:
    """Dynamic NCC numbers. lr: the distribution player's step size ``eta`` (published
    ``META_LR`` 0.005), >= 0; entropy_coef: ``lambda`` (published ``META_REG`` 0.032), >= 0."""

    lr: jax.Array | float = 0.005
    entropy_coef: jax.Array | float = 0.032


@struct.dataclass
class NCCState:
    levels: Any  # level pytree (N, ...) the buffer
    probs: jax.Array  # float32[N] the distribution y (sums to 1, >= floor)
    scores: jax.Array  # float32[N] latest score per slot (-inf before the first refresh)
    max_return: jax.Array  # float32[N] best return seen per slot (-inf: none)
    mom: jax.Array  # float32[N] the distribution player's first moment m
    sq: jax.Array  # float32[N] its second moment v (v_y = sum(sq))
    b1_pow: jax.Array  # float32[] b1^t
    b2_pow: jax.Array  # float32[] b2^t
    last_step: jax.Array  # float32[] norm of the last change of y
    inserted: jax.Array  # int32[] fresh levels inserted at the last refresh
    step: jax.Array  # int32[] observe count
    refreshes: jax.Array  # int32[] distribution steps taken


def distribution_gradient(probs: jax.Array, scores: jax.Array, entropy_coef) -> jax.Array:
    """float32[N] gradient of ``y . s - lambda y . log(y + 1e-6)`` at ``y = probs``. Jittable."""
    return scores - entropy_coef * (jnp.log(probs + _LOG_EPS) + probs / (probs + _LOG_EPS))


def distribution_step(
    state: NCCState, scores: jax.Array, params: NCCParams, config: NCCConfig
) -> NCCState:
    """One TiAda-Adam projected ascent step of the distribution on ``scores`` (float32[N]),
    the t-th being ``state.refreshes + 1`` (see the module docstring). Jittable."""
    t = state.refreshes.astype(jnp.float32)
    lam = jnp.asarray(params.entropy_coef, jnp.float32)
    if config.entropy_schedule == "inv-cbrt":
        lam = lam / jnp.cbrt(t + 1.0)
    g = distribution_gradient(state.probs, scores, lam)
    b1, b2 = config.b1, config.b2
    mom = b1 * state.mom + (1.0 - b1) * g
    sq = b2 * state.sq + (1.0 - b2) * jnp.square(g)
    p1, p2 = state.b1_pow * b1, state.b2_pow * b2
    step = params.lr * (mom / (1.0 - p1)) / (sq**config.beta / jnp.sqrt(1.0 - p2) + config.eps)
    probs = project_truncated_simplex(state.probs + step, config.floor)
    return state.replace(
        probs=probs,
        mom=mom,
        sq=sq,
        b1_pow=p1,
        b2_pow=p2,
        last_step=jnp.linalg.norm(probs - state.probs),
        refreshes=state.refreshes + 1,
    )


def _insert_best(state: NCCState, cand: Any, scores: jax.Array, max_ret: jax.Array) -> NCCState:
    """Candidates, best first, each replace the lowest-scored slot when strictly better."""
    order = jnp.argsort(-scores)
    cand = jax.tree.map(lambda x: x[order], cand)

    def body(st, item):
        lv, s, mr = item
        i = jnp.argmin(st.scores)
        ok = s > st.scores[i]
        put = lambda a, v: a.at[i].set(jnp.where(ok, v, a[i]))
        st = st.replace(
            levels=jax.tree.map(put, st.levels, lv),
            scores=put(st.scores, s),
            max_return=put(st.max_return, mr),
            inserted=st.inserted + ok.astype(jnp.int32),
        )
        return st, None

    state = state.replace(inserted=jnp.zeros((), jnp.int32))
    return jax.lax.scan(body, state, (cand, scores[order], max_ret[order]))[0]


def make_ncc(space: LevelSpace, num_envs: int, config: NCCConfig | None = None) -> Curriculum:
    """NCC over ``space``; ``needs_evaluate=True`` (``propose`` requires ``evaluate``). With
    ``config.student != "adam"`` the curriculum brings the student's optimiser
    (``Curriculum.student_optimizer``) and its per-step input (``Curriculum.student_opt_args``),
    which ``ued.make_train`` wires into the learner step. Params: :class:`NCCParams`."""
    config = NCCConfig() if config is None else config
    if not isinstance(config, NCCConfig):
        raise TypeError(f"make_ncc expects an NCCConfig, got {type(config)}")
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be an int >= 1, got {num_envs}")
    require_sample_conformance(space, "make_ncc")
    b, n, m, e = num_envs, config.buffer_size, config.num_new, config.eval_episodes

    def init(key):
        return NCCState(
            levels=space.sample_batch(key, n),
            probs=jnp.full((n,), 1.0 / n, jnp.float32),
            scores=jnp.full((n,), -jnp.inf, jnp.float32),
            max_return=jnp.full((n,), -jnp.inf, jnp.float32),
            mom=jnp.zeros((n,), jnp.float32),
            sq=jnp.zeros((n,), jnp.float32),
            b1_pow=jnp.ones((), jnp.float32),
            b2_pow=jnp.ones((), jnp.float32),
            last_step=jnp.zeros((), jnp.float32),
            inserted=jnp.zeros((), jnp.int32),
            step=jnp.zeros((), jnp.int32),
            refreshes=jnp.zeros((), jnp.int32),
        )

    def score_levels(key, levels, count, evaluate):
        reps = jax.tree.map(lambda x: jnp.tile(x, (e,) + (1,) * (x.ndim - 1)), levels)
        st = evaluate(key, reps)
        p = success_rates(st, count, e)
        mr = st.max_return.reshape(e, count).max(0)
        return p * (1.0 - p), mr

    def refresh(key, state: NCCState, params: NCCParams, evaluate):
        k_new, k_eval = jax.random.split(key)
        fresh = space.sample_batch(k_new, m) if m else None
        both = state.levels
        if m:
            both = jax.tree.map(lambda a, c: jnp.concatenate([a, c]), state.levels, fresh)
        s, mr = score_levels(k_eval, both, n + m, evaluate)
        state = state.replace(
            scores=s[:n], max_return=jnp.maximum(state.max_return, mr[:n])
        )
        if m:
            state = _insert_best(state, fresh, s[n:], mr[n:])
        return distribution_step(state, state.scores, params, config)

    def propose(key, state: NCCState, params: NCCParams, evaluate=None):
        if evaluate is None:
            raise ValueError("NCC needs the trainer's evaluate(key, levels) -> LevelStats")
        k_r, k_i = jax.random.split(key)
        # the published step samples with y, trains, then scores and moves y: the first
        # update samples the uniform y, every later one first catches up on the last update
        due = (state.step > 0) & (state.step % config.refresh_every == 0)
        # the key is an arg of run_if: the probe is never computed outside the refresh
        state = run_if(due, lambda s, k: refresh(k, s, params, evaluate), state, k_r)
        idx = jax.random.choice(k_i, n, (b,), p=state.probs)
        prop = Proposal(
            levels=jax.tree.map(lambda x: x[idx], state.levels),
            slots=idx.astype(jnp.int32),
            extras=LevelExtras(max_return=state.max_return[idx]),
            branch=jnp.full((b,), BRANCH_REPLAY, jnp.int32),
            train=jnp.ones((b,), bool),
        )
        return state, prop

    def observe(key, state: NCCState, proposal: Proposal, stats, params):
        del key, params
        mr = state.max_return.at[proposal.slots].max(stats.max_return)
        return state.replace(max_return=mr, step=state.step + 1)

    def diagnostics(state: NCCState, proposal, stats):
        out = proposal_diagnostics(space, proposal, stats, NCC_BRANCHES)
        y = state.probs
        fin = jnp.isfinite(state.scores)
        out["ncc/entropy"] = -jnp.sum(y * jnp.log(y))
        out["ncc/max_prob"] = jnp.max(y)
        out["ncc/floor_share"] = jnp.mean(y <= config.floor * (1.0 + 1e-3) + 1e-12)
        out["ncc/weighted_score"] = jnp.sum(jnp.where(fin, y * state.scores, 0.0))
        out["ncc/mean_score"] = jnp.where(fin, state.scores, 0.0).sum() / jnp.maximum(
            fin.sum(), 1
        )
        out["ncc/dual_sq_norm"] = jnp.sum(state.sq)
        out["ncc/step_norm"] = state.last_step
        out["ncc/inserted"] = state.inserted.astype(jnp.float32)
        out["ncc/refreshes"] = state.refreshes.astype(jnp.float32)
        return out

    def levels(state: NCCState) -> CurriculumLevels:
        # every slot holds a level from init on; scores are nan until the first refresh
        fin = jnp.isfinite(state.scores)
        return CurriculumLevels(
            state.levels, jnp.where(fin, state.scores, jnp.nan), jnp.ones((n,), bool)
        )

    student_optimizer = student_opt_args = None
    if config.student != "adam":

        def student_optimizer(ppo_config) -> optax.GradientTransformation:
            if getattr(ppo_config, "optimizer", "adam") != "adam":
                raise ValueError(
                    f"NCC's {config.student!r} student replaces Adam by TiAda; "
                    f"PPOConfig.optimizer={ppo_config.optimizer!r} (Adam-Rel resets Adam's "
                    "step count) does not apply: use optimizer='adam' or NCCConfig(student="
                    "'adam')"
                )
            tiada = scale_by_tiada(config.alpha, config.b1, config.b2, config.eps)
            if ppo_config.max_grad_norm is None:
                return tiada
            return optax.chain(optax.clip_by_global_norm(ppo_config.max_grad_norm), tiada)

        coupled = config.student == "tiada"

        def student_opt_args(state: NCCState) -> dict:
            v_y = jnp.sum(state.sq) if coupled else jnp.zeros((), jnp.float32)
            return {"dual_sq_norm": v_y}

    return Curriculum(
        "ncc",
        init,
        propose,
        observe,
        NCCParams(),
        diagnostics,
        True,
        levels=levels,
        branches=NCC_BRANCHES,
        student_optimizer=student_optimizer,
        student_opt_args=student_opt_args,
    )


# ----------------------------------------------------------------------------- registration


@dataclasses.dataclass(frozen=True)
class NCCOptions:
    """NCC's command-line options: :class:`NCCConfig` and :class:`NCCParams` (CPU-scaled
    defaults; the published values are in the module docstring)."""

    ncc_buffer_size: int = option(64, int_(1), "NCC levels the learned distribution is over")
    ncc_num_new: int = option(16, int_(0), "NCC fresh levels scored per refresh")
    ncc_refresh_every: int = option(1, int_(1), "NCC updates between distribution steps")
    ncc_eval_episodes: int = option(4, int_(1), "NCC evaluation copies per level")
    ncc_floor: float = option(1e-5, float_(0.0, 1.0), "NCC lower bound of every probability")
    ncc_lr: float = option(0.005, float_(0.0), "NCC distribution step size")
    ncc_entropy_coef: float = option(0.032, float_(0.0), "NCC entropy coefficient")
    ncc_entropy_schedule: str = option(
        "constant", choice(*ENTROPY_SCHEDULES), "NCC entropy coefficient schedule"
    )
    ncc_student: str = option(
        "tiada", choice(*STUDENTS), "NCC student optimiser (coupled TiAda, as run, or Adam)"
    )


def _validate_ncc(o: Any) -> None:
    if o.ncc_floor * o.ncc_buffer_size > 1.0:
        raise ConfigError(
            f"--ncc-floor {o.ncc_floor} x --ncc-buffer-size {o.ncc_buffer_size} exceeds 1: no "
            "distribution keeps every probability above the floor"
        )
    if o.ncc_student != "adam" and getattr(o, "optimizer", "adam") != "adam":
        raise ConfigError(
            f"--ncc-student {o.ncc_student} replaces the student's Adam by TiAda; it does not "
            f"combine with --optimizer {o.optimizer} (use --ncc-student adam)"
        )


def _make_ncc(ctx: CurriculumContext) -> Curriculum:
    o = ctx.options
    nc = NCCConfig(
        buffer_size=o.ncc_buffer_size,
        num_new=o.ncc_num_new,
        refresh_every=o.ncc_refresh_every,
        eval_episodes=o.ncc_eval_episodes,
        floor=o.ncc_floor,
        student=o.ncc_student,
        entropy_schedule=o.ncc_entropy_schedule,
    )
    cur = make_ncc(ctx.space, ctx.num_envs, nc)
    return cur._replace(default_params=NCCParams(lr=o.ncc_lr, entropy_coef=o.ncc_entropy_coef))


CURRICULA.register(
    CurriculumEntry(
        "ncc", "NCC: a replay distribution learned by projected TiAda ascent, coupled to the "
        "student's optimiser", _make_ncc, options=(NCCOptions,), branches=NCC_BRANCHES,
        score="learnability", validate=_validate_ncc, order=4,
        panels=(
            Panel("NCC: entropy of the learned distribution", ("cur/ncc/entropy",), "nats"),
            Panel("NCC: mass on single levels",
                  ("cur/ncc/max_prob", "cur/ncc/floor_share"), "probability / share"),
            Panel("NCC: buffer learnability",
                  ("cur/ncc/weighted_score", "cur/ncc/mean_score"), "p (1 - p)"),
            Panel("NCC: distribution player", ("cur/ncc/dual_sq_norm", "cur/ncc/step_norm"),
                  "v_y / |dy|"),
        ),
    )
)  # fmt: skip
