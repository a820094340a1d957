"""Aleatoric level spaces: SAMPLR's extension of ``ued.LevelSpace``.

* :mod:`ued.aleatoric.spec`: the contract, :class:`AleatoricSpec` (set as
  ``LevelSpace.aleatoric``), and what every curriculum derives from it;
* :mod:`ued.aleatoric.posteriors`: Beta-Bernoulli maths and analytic posteriors;
* :mod:`ued.aleatoric.belief`: the learned belief model, an MLP trained online on prior-drawn
  episodes, and its error against the analytic posterior.

The conformance check of an aleatoric space, :func:`check_aleatoric_space`, lives in the
conformance kit :mod:`ued.testing` with the kit's other checks; it is re-exported here.
Everything is jittable except the check, :func:`belief_error` and :func:`beta_binomial_pmf`
(host).
"""

from __future__ import annotations

from typing import Any

from ued.aleatoric.belief import BeliefConfig, BeliefModel, belief_error, make_belief_model
from ued.aleatoric.posteriors import (
    beta_bernoulli_predictive,
    beta_binomial_pmf,
    beta_integer,
    noisy_cue_posterior,
)
from ued.aleatoric.spec import AleatoricSpec, designable_equal, posterior_predictive


def __getattr__(name: str) -> Any:
    # resolved on first use: ued.testing imports this package's contract, so an eager import
    # here would be circular whichever of the two is imported first
    if name == "check_aleatoric_space":
        from ued.testing import check_aleatoric_space

        return check_aleatoric_space
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AleatoricSpec",
    "BeliefConfig",
    "BeliefModel",
    "belief_error",
    "beta_bernoulli_predictive",
    "beta_binomial_pmf",
    "beta_integer",
    "check_aleatoric_space",
    "designable_equal",
    "make_belief_model",
    "noisy_cue_posterior",
    "posterior_predictive",
]
