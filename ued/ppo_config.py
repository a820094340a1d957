"""PPO's settings: the static :class:`PPOConfig` and the dynamic, vmappable :class:`PPOParams`
(defaults: the published maze settings of jaxued / minimax), with their checks. Re-exported by
:mod:`ued.ppo`."""

from __future__ import annotations

import dataclasses

import jax
from flax import struct

from ued.validation import require_ints

OPTIMIZERS = ("adam", "adam-rel")
MINIBATCH_AXES = ("env", "sample")


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """Static PPO settings (defaults: the published maze settings of jaxued / minimax).

    Attributes:
      num_epochs: passes over each rollout batch.
      num_minibatches: minibatches per epoch.
      minibatch_axis: ``"env"`` splits the environment axis (whole sequences: recurrent nets
        need them; ``num_minibatches`` must divide ``B``); ``"sample"`` shuffles single
        transitions (feed-forward nets only; ``num_minibatches`` must divide ``T * B``).
      max_grad_norm: global gradient-norm clip.
      optimizer: ``"adam"`` or ``"adam-rel"`` (Adam's step count restarts at each PPO batch).
      adam_eps: Adam's epsilon.
      normalize_advantages: standardise advantages over the (masked) minibatch.
    """

    num_epochs: int = 5
    num_minibatches: int = 1
    minibatch_axis: str = "env"
    max_grad_norm: float = 0.5
    optimizer: str = "adam"
    adam_eps: float = 1e-5
    normalize_advantages: bool = True

    def __post_init__(self) -> None:
        require_ints(self, ("num_epochs", "num_minibatches"))
        if self.minibatch_axis not in MINIBATCH_AXES:
            raise ValueError(
                f"PPOConfig.minibatch_axis must be one of {MINIBATCH_AXES}, "
                f"got {self.minibatch_axis!r}"
            )
        if not self.max_grad_norm > 0:
            raise ValueError(f"PPOConfig.max_grad_norm must be > 0, got {self.max_grad_norm!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"PPOConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"
            )


@struct.dataclass
class PPOParams:
    """Dynamic PPO numbers (vmappable, sweepable; defaults: the published maze settings).

    ``lr`` is the initial learning rate; it decays linearly to 0 over ``lr_anneal_updates``
    student updates (gradient batches actually applied; 0 keeps it constant). The annealing
    length is its own field, independent of the run length, so extending a run never changes
    its past.
    """

    gamma: jax.Array | float = 0.995
    gae_lambda: jax.Array | float = 0.98
    clip_eps: jax.Array | float = 0.2
    vf_coef: jax.Array | float = 0.5
    ent_coef: jax.Array | float = 1e-3
    lr: jax.Array | float = 1e-4
    lr_anneal_updates: jax.Array | int = 30_000


_PARAM_RANGES = {
    "gamma": (0.0, 1.0),
    "gae_lambda": (0.0, 1.0),
    "clip_eps": (0.0, None),
    "vf_coef": (0.0, None),
    "ent_coef": (0.0, None),
    "lr": (0.0, None),
    "lr_anneal_updates": (0.0, None),
}


def check_ppo_params(params: PPOParams) -> None:
    """Host-side check of concrete :class:`PPOParams` (traced fields are skipped): every value
    finite and in range (``0 <= gamma, gae_lambda <= 1``, ``lr > 0``, the rest ``>= 0``).
    Raises ``ValueError`` naming the field, the bad value and the allowed range."""
    import numpy as np

    for name, (lo, hi) in _PARAM_RANGES.items():
        v = getattr(params, name)
        if isinstance(v, jax.core.Tracer):
            continue
        a = np.asarray(v, np.float64)
        bad = ~np.isfinite(a) | (a < lo) | ((a > hi) if hi is not None else False)
        if name == "lr":
            bad = bad | (a <= 0)
        if np.any(bad):
            rng = f"[{lo}, {hi}]" if hi is not None else ("> 0" if name == "lr" else f">= {lo}")
            raise ValueError(f"PPOParams.{name} must be {rng}, got {v!r}")


__all__ = ["MINIBATCH_AXES", "OPTIMIZERS", "PPOConfig", "PPOParams", "check_ppo_params"]
