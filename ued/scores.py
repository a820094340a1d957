"""Score functions: one number per level from a rollout batch, higher = more worth replaying.

Every score is ``fn(inputs: ScoreInputs, max_return: float32[B]) -> float32[B]`` and is defined
as in the PLR paper (Jiang et al. 2021): the per-step quantity is averaged over **all** ``T``
rollout steps spent on the level (each env runs one level for the whole rollout, with
auto-replay), finished and unfinished episodes alike. This differs on purpose from
jaxued/minimax, which average per finished episode and return ``-inf`` when none finished; ours
is always finite for finite inputs, so a level whose only episode crosses the rollout boundary
still gets a meaningful score.

``inputs.advantage`` is the trainer's GAE (bootstrapped at the rollout boundary; ``terminated``
stops bootstrapping, ``truncated`` does not). Per-episode quantities (return, success) only use
the episodes that *finished* in the rollout (``terminated | truncated`` at step ``t``; a
truncated episode counts as finished and unsolved unless ``solved`` says otherwise).

Registry: :data:`SCORES`, :func:`get_score`, :func:`register_score`; :data:`SCORE_NEEDS` names
the level-space fields a score cannot do without, checked at build time by
:func:`check_score_space` (``ued.make_train`` calls it). Everything else here is pure and
jittable.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from ued.curriculum import LevelStats, ScoreInputs

ScoreFn = Callable[[ScoreInputs, jax.Array], jax.Array]


def _done(inputs: ScoreInputs) -> jax.Array:
    return jnp.logical_or(inputs.terminated, inputs.truncated)


def _num_episodes(inputs: ScoreInputs) -> jax.Array:
    """int32[B] episodes finished on each level during the rollout."""
    return _done(inputs).sum(0).astype(jnp.int32)


def _mean_return_or_partial(inputs: ScoreInputs) -> jax.Array:
    """float32[B] mean return of finished episodes; with none finished, the reward gathered.

    With no finished episode, the only return information is the reward collected so far by
    the one unfinished episode (the sum of rewards over the rollout); we use it, so the value
    is always finite.
    """
    done = _done(inputs)
    n = done.sum(0)
    total = jnp.where(done, inputs.episode_return, 0.0).sum(0)
    partial = inputs.reward.sum(0)
    return jnp.where(n > 0, total / jnp.maximum(n, 1), partial).astype(jnp.float32)


def updated_max_return(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """float32[B]: ``max(max_return, best return of an episode finished in this rollout)``.

    Stays ``-inf`` for a level on which no episode has ever finished. Idempotent.
    """
    done = _done(inputs)
    best = jnp.where(done, inputs.episode_return, -jnp.inf).max(0)
    return jnp.maximum(max_return, best).astype(jnp.float32)


def positive_value_loss(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``pvl``: mean over the ``T`` steps of ``max(GAE_t, 0)``. float32[B]. Always finite."""
    del max_return
    return jnp.maximum(inputs.advantage, 0.0).mean(0).astype(jnp.float32)


def l1_value_loss(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``l1_value_loss``: mean over the ``T`` steps of ``|GAE_t|``. float32[B]."""
    del max_return
    return jnp.abs(inputs.advantage).mean(0).astype(jnp.float32)


def maxmc(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``maxmc``: mean over the ``T`` steps of ``R_max - V(s_t)``. float32[B].

    ``R_max`` is the highest return ever achieved on the level: the buffer's extra
    ``max_return`` updated with this rollout's finished episodes (:func:`updated_max_return`).
    Edge case: if no episode has *ever* finished on the level (``R_max = -inf``) the score falls
    back to positive value loss, so it stays finite and still ranks levels by learning signal.
    """
    r_max = updated_max_return(inputs, max_return)
    known = jnp.isfinite(r_max)
    mc = (jnp.where(known, r_max, 0.0)[None, :] - inputs.value).mean(0)
    return jnp.where(known, mc, positive_value_loss(inputs, max_return)).astype(jnp.float32)


def neg_return(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``neg_return``: minus the mean return of the episodes finished on the level. float32[B].

    Edge case: with no finished episode, minus the reward gathered during the rollout by the
    unfinished episode (0 for sparse goal rewards), so the value is finite.
    """
    del max_return
    return -_mean_return_or_partial(inputs)


def learnability(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``learnability``: ``p (1 - p)``, ``p`` = solved share of finished episodes. float32[B].

    Edge case: with no finished episode ``p = 0`` (the level was not solved), so the score is 0,
    never NaN. This matches SFL, where an unfinished evaluation counts as a failure.
    """
    del max_return
    p = solve_rate(inputs)
    p = jnp.where(jnp.isnan(p), 0.0, p)
    return (p * (1.0 - p)).astype(jnp.float32)


def true_regret(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``true_regret``: ``optimal_return - mean achieved return``. float32[B].

    The achieved return is the mean return of finished episodes, or the reward gathered by the
    unfinished episode when none finished. Edge case: where the space does not know the optimal
    return (``optimal_return`` is NaN) the score is 0 (no information), never NaN.
    """
    del max_return
    opt = inputs.optimal_return
    regret = opt - _mean_return_or_partial(inputs)
    return jnp.where(jnp.isnan(opt), 0.0, regret).astype(jnp.float32)


def clipped_lambda_advantage(
    td_error: jax.Array, done: jax.Array, gamma: jax.Array, gae_lambda: jax.Array
) -> jax.Array:
    """float32[T, B]: MNA's maximised negative advantage of every step (Mead et al. 2025). Jittable.

    For the step ``s`` and ``n = 1 .. N`` (``N``: steps to the end of its episode, the ending
    step included, or to the rollout boundary), with ``x_n = sum_{k<n} gamma^k delta_{s+k}``
    (the n-step return minus ``V(s_s)``), the clipped n-step advantage is

        y_n = min(0, y_{n-1} + gamma^{n-1} delta_{s+n-1}),  y_0 = 0,

    i.e. ``y_n = x_n - max(0, x_1, ..., x_n)``: the n-step return minus the *maximised* value,
    the largest of ``V(s_s)`` and the shorter returns. The step's advantage is their lambda-return
    mix, as GAE mixes the unclipped ``x_n``::

        A_s = (1 - lambda) sum_{n=1}^{N} lambda^{n-1} y_n + lambda^N y_N   (<= 0)

    (with every ``y`` replaced by ``x`` this is exactly the GAE of the same TD errors). This is
    ``compute_clipped_gae(..., use_max_value=True)`` of the authors' code
    (HarryMJMead/Dynamic-Environment-Generation-for-UED, ``minigrid/maze_plr.py``), written as a
    forward scan over the ``T`` steps that carries one partial sum per start step (O(T^2 B)).

    Args:
      td_error: float32[T, B] ``delta_t`` (:func:`ued.ppo.td_errors`).
      done: bool[T, B] an episode ended at ``t`` (terminated or truncated).
      gamma, gae_lambda: float32[] the GAE's discount and lambda.
    """
    td_error = td_error.astype(jnp.float32)
    done = done.astype(bool)
    t_len = td_error.shape[0]
    gamma = jnp.asarray(gamma, jnp.float32)
    lam = jnp.asarray(gae_lambda, jnp.float32)
    start = jnp.arange(t_len)[:, None]  # row s: the advantage of step s

    def body(carry, x):
        y, acc, ended = carry  # (T starts, B)
        t, delta, dn = x
        active = start <= t
        i = jnp.maximum(t - start, 0).astype(jnp.float32)  # n - 1 for the rows it concerns
        live = active & ~ended
        y = jnp.where(live, jnp.minimum(y + gamma**i * delta[None], 0.0), y)
        acc = acc + jnp.where(live, (1.0 - lam) * lam**i * y, 0.0)
        last = live & (dn[None] | (t == t_len - 1))  # n = N: the tail weight lambda^N
        acc = acc + jnp.where(last, lam ** (i + 1.0) * y, 0.0)
        return (y, acc, ended | (active & dn[None])), None

    zeros = jnp.zeros((t_len, td_error.shape[1]), jnp.float32)
    (_, adv, _), _ = jax.lax.scan(
        body, (zeros, zeros, zeros.astype(bool)), (jnp.arange(t_len), td_error, done)
    )
    return adv


def mna(inputs: ScoreInputs, max_return: jax.Array) -> jax.Array:
    """``mna``, Maximised Negative Advantage: ``C * mean over the T steps of -A_t``. float32[B].

    From "Improving Regret Approximation for Unsupervised Dynamic Environment Generation" (Mead,
    Lacerda, Foerster, Hawes; NeurIPS 2025, arXiv 2601.14957), whose code states it as
    ``(1/T sum_t G^lambda_t) * C`` (README of HarryMJMead/Dynamic-Environment-Generation-for-UED).
    ``A_t`` is :func:`clipped_lambda_advantage` (the code's ``compute_clipped_gae`` with
    ``use_max_value=True``; ``-A_t >= 0`` is the paper's ``G^lambda_t``), and ``C`` is 1 on a
    level the student has completed and 0 elsewhere: the code's ``max_returns > 0``, here
    ``R_max > 0`` with ``R_max`` the best return ever achieved on the level (``max_return``
    updated with this rollout, as for ``maxmc``; sparse goal rewards: solved at least once).

    Our conventions (module docstring): the mean over the ``T`` rollout steps where the code
    sums them (the same ranking of levels for a fixed ``T``); ``delta_t`` and the episode ends
    are the trainer's GAE's (``terminated`` stops bootstrapping, ``truncated`` bootstraps from
    ``V(s_t)``; the code, on jaxued's envs, bootstraps at neither). Always >= 0 and finite for
    finite inputs; 0 on a level never completed. Where every ``delta`` is <= 0 it equals
    ``C * mean(-GAE)``; where every ``delta`` is >= 0 it is 0 (``pvl`` is then largest).

    Needs ``inputs.td_error``, ``gamma`` and ``gae_lambda`` (``ued.make_train`` fills them); a
    ScoreInputs without them raises ``ValueError``.
    """
    missing = [f for f in ("td_error", "gamma", "gae_lambda") if getattr(inputs, f) is None]
    if missing:
        raise ValueError(
            f"score 'mna' needs ScoreInputs.{', '.join(missing)} (the GAE's TD errors, discount "
            "and lambda; ued.make_train fills them, ued.ppo.td_errors computes the TD errors)"
        )
    done = _done(inputs)
    adv = clipped_lambda_advantage(inputs.td_error, done, inputs.gamma, inputs.gae_lambda)
    completed = updated_max_return(inputs, max_return) > 0.0
    neg = jnp.maximum(-adv, 0.0).mean(0)
    return jnp.where(completed, neg, 0.0).astype(jnp.float32)


def solve_rate(inputs: ScoreInputs) -> jax.Array:
    """float32[B] share of finished episodes that were solved; NaN where none finished."""
    done = _done(inputs)
    n = done.sum(0)
    solved = jnp.logical_and(done, inputs.solved).sum(0)
    return jnp.where(n > 0, solved / jnp.maximum(n, 1), jnp.nan).astype(jnp.float32)


SCORES: dict[str, ScoreFn] = {
    "pvl": positive_value_loss,
    "l1_value_loss": l1_value_loss,
    "maxmc": maxmc,
    "neg_return": neg_return,
    "learnability": learnability,
    "true_regret": true_regret,
    "mna": mna,
}


# level-space fields (``ued.LevelSpace`` attributes) a score needs: without them it scores
# every level the same and the curriculum silently degenerates
SCORE_NEEDS: dict[str, tuple[str, ...]] = {"true_regret": ("optimal_return",)}


def register_score(name: str, fn: ScoreFn, needs: tuple[str, ...] = ()) -> None:
    """Add a score ``fn(inputs, max_return) -> float32[B]`` under ``name`` (host-side).

    ``needs``: the level-space fields the score cannot do without (see :data:`SCORE_NEEDS`).
    Raises ValueError if the name is taken, TypeError if ``fn`` is not callable.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("score name must be a non-empty string")
    if name in SCORES:
        raise ValueError(f"score {name!r} is already registered")
    if not callable(fn):
        raise TypeError(f"score {name!r} must be callable, got {type(fn)}")
    SCORES[name] = fn
    if needs:
        SCORE_NEEDS[name] = tuple(needs)


def check_score_space(name: str, space, caller: str = "make_train") -> None:
    """Raise at build time where score ``name`` cannot work on ``space`` (host-side).

    ``KeyError`` for an unknown name (listing the known ones); ``ValueError`` naming the score
    and the missing field where ``space`` lacks a field the score needs (e.g. ``true_regret``
    without ``optimal_return`` would score every level 0).
    """
    get_score(name)
    for field in SCORE_NEEDS.get(name, ()):
        if getattr(space, field, None) is None:
            raise ValueError(
                f"{caller}: score {name!r} needs the level space's {field}, but level space "
                f"{getattr(space, 'name', '?')!r} has {field}=None (the score would be 0 on "
                f"every level); set the space's {field} or choose another score "
                f"(e.g. 'maxmc' or 'pvl')"
            )


def get_score(name: str) -> ScoreFn:
    """The score function registered under ``name``; KeyError listing the known names."""
    try:
        return SCORES[name]
    except KeyError:
        raise KeyError(f"unknown score {name!r}; known: {sorted(SCORES)}") from None


def level_stats(name: str, inputs: ScoreInputs, max_return: jax.Array) -> LevelStats:
    """Score a rollout batch and summarise it per level. Jittable (``name`` is static).

    Args:
      name: a registered score name (see :data:`SCORES`).
      inputs: rollout quantities, leaves ``[T, B]`` (``optimal_return`` ``[B]``).
      max_return: float32[B] best return ever seen per level before this rollout (``-inf``:
        never), usually ``proposal.extras.max_return``.

    Returns:
      ``LevelStats`` with ``score`` (float32[B], the score with the updated ``max_return``),
      ``max_return`` (float32[B], updated with this rollout), ``mean_return`` (float32[B], NaN
      where no episode finished), ``solve_rate`` (float32[B], NaN where none finished) and
      ``num_episodes`` (int32[B]).
    """
    fn = get_score(name)
    max_return = jnp.asarray(max_return, jnp.float32)
    new_max = updated_max_return(inputs, max_return)
    done = _done(inputs)
    n = _num_episodes(inputs)
    mean_ret = jnp.where(
        n > 0, jnp.where(done, inputs.episode_return, 0.0).sum(0) / jnp.maximum(n, 1), jnp.nan
    )
    return LevelStats(
        score=fn(inputs, new_max).astype(jnp.float32),
        max_return=new_max,
        mean_return=mean_ret.astype(jnp.float32),
        solve_rate=solve_rate(inputs),
        num_episodes=n,
    )
