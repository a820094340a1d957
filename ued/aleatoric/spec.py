"""The aleatoric level-space contract (the SAMPLR extension of ``ued.LevelSpace``).

Some parameters of a level are *aleatoric*: nobody gets to choose them at deployment (a hidden
coin, a slip probability), they follow a known ground-truth prior. A curriculum that selects
levels by score also selects on these draws ("luck") and so shifts their distribution away from
the prior (curriculum-induced covariate shift, Jiang et al. 2022, SAMPLR). A level space
declares them by setting ``LevelSpace.aleatoric`` to an :class:`AleatoricSpec`:

* the aleatoric draws are stored *in the level* (``spec.names`` are its field names), so DR and
  PLR replays repeat them;
* ``prior_sample`` redraws them from the ground-truth prior (designable fields untouched);
* ``history_stats(env_state)`` are the environment's own sufficient statistics of the episode so
  far (cue shown and its reading; forward moves and slips), never the agent's observations;
* ``predictive_prob(level, stats)`` is the analytic posterior predictive probability that the
  next random outcome is 1, and ``posterior_sample`` draws the aleatoric fields from their
  posterior given the statistics;
* ``condition_state(key, env_state, p)`` rewrites the hidden values of an env state so that the
  next random outcome is Bernoulli(``p``): SAMPLR's fictitious transitions call it before every
  step with ``p`` from the (analytic or learned) posterior predictive.

Design choice (the paper does not fix it): every random outcome of these spaces is binary (coin
pays / slip happens), so a posterior predictive is one probability, and a fictitious step is
"set the hidden value so that the next outcome is Bernoulli(p), then take the real step".
Resampling the hidden value from the posterior before every step, as in the paper, gives the
same next-outcome distribution.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Key = jax.Array
Array = jax.Array


@dataclasses.dataclass(frozen=True, eq=False)
class AleatoricSpec:
    """The aleatoric part of a level space (set as ``LevelSpace.aleatoric``).

    Attributes:
      names: field names of the level that hold aleatoric draws (e.g. ``("coin",
        "cue_reading")``); every other field is designable.
      stat_names: names of the ``S`` entries of ``history_stats``.
      env: the environment whose (unwrapped) state ``history_stats`` reads.
      prior_sample: ``(key, level) -> level`` with the aleatoric fields redrawn from the
        ground-truth prior, designable fields unchanged. Jittable.
      history_stats: ``(env_state) -> float32[S]`` sufficient statistics of the episode so far.
      predictive_prob: ``(level, stats float32[S]) -> float32[]`` analytic (ground-truth)
        posterior predictive probability that the next random outcome is 1.
      posterior_sample: ``(key, level, stats) -> level`` aleatoric fields drawn from their
        ground-truth posterior given ``stats``.
      condition_state: ``(key, env_state, p float32[]) -> env_state`` hidden values rewritten so
        that the next random outcome is Bernoulli(p); ``history_stats`` unchanged.
      episode_events: ``(key, level) -> (stats float32[N, S], outcome float32[N], mask bool[N])``
        the random events of one episode whose aleatoric draws come from the prior: the history
        before each event and its outcome (``mask``: the event happens). Trains the learned
        belief model.
      parameter: ``(level) -> float32[]`` the probability of outcome 1 that the level's
        aleatoric draws imply (the coin as 0/1, the slip probability); reported in plots and
        diagnostics. Its mean under ``posterior_sample`` is ``predictive_prob``.
      parameter_name: its name (e.g. ``"paying_share"``, ``"mean_theta"``).
      prior_mean: its mean under the prior.
      history_classes: float32[C, S] representative histories for checks.
      class_names: names of the ``C`` classes.
      stats_scale: float32[S] scale dividing ``stats`` before the learned belief model.
    """

    names: tuple[str, ...]
    stat_names: tuple[str, ...]
    env: Any
    prior_sample: Callable[[Key, Any], Any]
    history_stats: Callable[[Any], Array]
    predictive_prob: Callable[[Any, Array], Array]
    posterior_sample: Callable[[Key, Any, Array], Any]
    condition_state: Callable[[Key, Any, Array], Any]
    episode_events: Callable[[Key, Any], tuple[Array, Array, Array]]
    parameter: Callable[[Any], Array]
    parameter_name: str
    prior_mean: float
    history_classes: Any
    class_names: tuple[str, ...]
    stats_scale: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.names or not all(isinstance(n, str) for n in self.names):
            raise TypeError("AleatoricSpec.names must be a non-empty tuple of field names")
        for f in (
            "prior_sample",
            "history_stats",
            "predictive_prob",
            "posterior_sample",
            "condition_state",
            "episode_events",
            "parameter",
        ):
            if not callable(getattr(self, f)):
                raise TypeError(f"AleatoricSpec.{f} must be callable")
        hc = np.asarray(self.history_classes)
        if hc.ndim != 2 or hc.shape[1] != len(self.stat_names):
            raise ValueError(
                f"AleatoricSpec.history_classes must be (C, {len(self.stat_names)}), got {hc.shape}"
            )
        if len(self.class_names) != hc.shape[0]:
            raise ValueError("AleatoricSpec.class_names must name every history class")
        if len(self.stats_scale) != len(self.stat_names):
            raise ValueError("AleatoricSpec.stats_scale must have one entry per statistic")


def posterior_predictive(spec: AleatoricSpec, key: Key, level: Any, stats: Array) -> Array:
    """One draw of the next random outcome from the ground-truth posterior predictive: bool[]."""
    return jax.random.bernoulli(key, spec.predictive_prob(level, stats))


def designable_equal(spec: AleatoricSpec, a: Any, b: Any) -> Array:
    """bool[]: levels ``a`` and ``b`` agree on every designable (non-aleatoric) field."""
    fields = [f.name for f in dataclasses.fields(a) if f.name not in spec.names]
    eq = [
        jnp.all(jnp.asarray(x) == jnp.asarray(y))
        for f in fields
        for x, y in zip(jax.tree.leaves(getattr(a, f)), jax.tree.leaves(getattr(b, f)), strict=True)
    ]
    return jnp.all(jnp.stack(eq)) if eq else jnp.asarray(True)


__all__ = ["AleatoricSpec", "designable_equal", "posterior_predictive"]
