"""Aleatoric level spaces: SAMPLR's extension of ``ued.LevelSpace``.

* :mod:`ued.aleatoric.spec`: the contract, :class:`AleatoricSpec` (set as
  ``LevelSpace.aleatoric``), and what every curriculum derives from it;
* :mod:`ued.aleatoric.posteriors`: Beta-Bernoulli maths and analytic posteriors;
* :mod:`ued.aleatoric.belief`: the learned belief model, an MLP trained online on prior-drawn
  episodes, and its error against the analytic posterior.

The conformance check of an aleatoric space, ``check_aleatoric_space``, lives in the
conformance kit :mod:`ued.testing` with the kit's other checks (the runtime never imports the
kit). Everything is jittable except :func:`belief_error` and :func:`beta_binomial_pmf` (host).
"""

from __future__ import annotations

from ued.aleatoric.belief import BeliefConfig, BeliefModel, belief_error, make_belief_model
from ued.aleatoric.posteriors import (
    beta_bernoulli_predictive,
    beta_binomial_pmf,
    beta_integer,
    noisy_cue_posterior,
)
from ued.aleatoric.spec import AleatoricSpec, designable_equal, posterior_predictive

__all__ = [
    "AleatoricSpec",
    "BeliefConfig",
    "BeliefModel",
    "belief_error",
    "beta_bernoulli_predictive",
    "beta_binomial_pmf",
    "beta_integer",
    "designable_equal",
    "make_belief_model",
    "noisy_cue_posterior",
    "posterior_predictive",
]
