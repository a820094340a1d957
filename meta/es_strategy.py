"""evosax 0.3 strategies by name with explicit hyperparameters, for the ES core
(:mod:`meta.es`).

Three kinds of settings, as everywhere in the toolkit: :class:`ESConfig` (static: the strategy,
the population size, the defaults of the dynamic numbers); :class:`ESParams` (dynamic: the mean's
learning rate and the initial search std, a ``flax.struct`` pytree that the ES loop's ``init``
takes and its state carries, so a grid of them is one vmapped program); evosax's own strategy
params (fitness-shaping weights, the std's learning rate, CMA's constants), which stay evosax's.
The learning rate reaches the optimizer through its state (``optax.inject_hyperparams``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

# Canonical evosax class names; the dict maps lower-case aliases (CLI friendly) to them.
STRATEGIES = ("Open_ES", "SNES", "CMA_ES", "Sep_CMA_ES", "PGPE")
_ALIASES = {
    "open_es": "Open_ES",
    "openes": "Open_ES",
    "snes": "SNES",
    "cma_es": "CMA_ES",
    "cmaes": "CMA_ES",
    "cma-es": "CMA_ES",
    "sep_cma_es": "Sep_CMA_ES",
    "sepcmaes": "Sep_CMA_ES",
    "sep-cma-es": "Sep_CMA_ES",
    "pgpe": "PGPE",
}


def canonical_strategy(name: str) -> str:
    """Return the evosax class name for ``name`` (case-insensitive aliases allowed)."""
    key = name.strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"strategy: unknown ES strategy {name!r}; allowed: {', '.join(STRATEGIES)} "
            "(case-insensitive; '-' or '_' separators)"
        )
    return _ALIASES[key]


@dataclasses.dataclass(frozen=True)
class ESConfig:
    """Static ES settings.

    ``lr`` is the learning rate of the mean update; ``None`` uses this module's per-strategy
    default (SNES 1.0 with SGD as in the SNES paper, Open_ES 0.05 with Adam as in HaDES,
    PGPE 0.05 with ClipUp). CMA-ES and Sep-CMA-ES have no learning rate and ignore it.
    """

    strategy: str = "SNES"
    population_size: int = 64
    std_init: float = 0.5
    lr: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "strategy", canonical_strategy(self.strategy))
        if not isinstance(self.population_size, int) or not 2 <= self.population_size <= 1 << 20:
            raise ValueError(
                f"population_size: must be an int in [2, 1048576], got {self.population_size!r}"
            )
        if not (self.std_init > 0 and np.isfinite(self.std_init)):
            raise ValueError(f"std_init: must be a finite float > 0, got {self.std_init!r}")
        if self.lr is not None and not (self.lr > 0 and np.isfinite(self.lr)):
            raise ValueError(f"lr: must be None or a finite float > 0, got {self.lr!r}")


@struct.dataclass
class ESParams:
    """The dynamic ES hyperparameters: passed to ``init``, carried in :class:`ESLoopState` and
    read at run time, so a program vmapped over a grid of them compiles once. evosax's own
    strategy params (fitness-shaping weights, the std's learning rate, CMA's constants) stay
    evosax's (``ES.params``)."""

    lr: jax.Array  # float32[] learning rate of the mean update (nan: the strategy has none)
    std_init: jax.Array  # float32[] initial search standard deviation


def es_params(lr: float, std_init: float) -> ESParams:
    """An :class:`ESParams` of float32 scalars (``lr`` nan for CMA-ES / Sep-CMA-ES)."""
    return ESParams(lr=jnp.float32(lr), std_init=jnp.float32(std_init))


class ES(NamedTuple):
    """An evosax strategy with explicit hyperparameters (see :func:`make_es`)."""

    name: str
    strategy: Any  # the evosax algorithm instance (its methods are already jitted)
    params: Any  # evosax's own ``Params`` (flax struct); its std_init is default_params'
    population_size: int
    default_params: ESParams  # the run's ESParams unless init is given others


# the learning rate each strategy's mean update uses when ESConfig.lr is None
DEFAULT_LR = {"Open_ES": 0.05, "SNES": 1.0, "PGPE": 0.05}


def _descent(built: float, learning_rate: jax.Array) -> optax.GradientTransformation:
    """``optax.scale_by_learning_rate``: updates times ``-learning_rate`` (float32[], read from
    the state at run time). While the rate equals the one the optimizer was ``built`` with, the
    product is by that rate as a compile-time constant, as in optax's stock optimizers: XLA
    folds and fuses a constant rate differently from a run-time one (a rate of 1 becomes a plain
    negation), so only this keeps a run at its configured rate bit-identical to one of an
    optimizer with the rate baked in."""

    def update(updates, state, params=None):
        del params
        lr = jnp.asarray(learning_rate)
        return jax.tree.map(lambda g: jnp.where(lr == built, -built * g, -lr * g), updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _lr_from_state(lr: float, *head: optax.GradientTransformation) -> optax.GradientTransformation:
    """``chain(*head, scale_by_learning_rate(lr))`` -- the layout of optax's SGD and Adam and of
    evosax's ClipUp -- with the rate held in the optimizer state (``optax.inject_hyperparams``)
    so that it is read at run time; only the rate is injected, so the other transforms compute
    exactly what the stock optimizers do."""
    inject = optax.inject_hyperparams(functools.partial(_descent, lr))
    return optax.chain(*head, inject(lr))


def _is_injected(x: Any) -> bool:
    return isinstance(x, optax.InjectStatefulHyperparamsState)


def with_lr(es_state: Any, lr: jax.Array) -> Any:
    """``es_state`` whose optimizer reads the learning rate ``lr`` (float32[]); unchanged for
    strategies without an optimizer."""
    opt_state = getattr(es_state, "opt_state", None)
    if opt_state is None:
        return es_state

    def put(s):
        if not _is_injected(s):
            return s
        return s._replace(hyperparams={**s.hyperparams, "learning_rate": lr})

    return es_state.replace(opt_state=jax.tree.map(put, opt_state, is_leaf=_is_injected))


def make_es(
    strategy_name: str,
    population_size: int,
    solution: Any,
    *,
    std_init: float,
    lr: float | None = None,
) -> ES:
    """Build an evosax 0.3 strategy by name with explicit hyperparameters.

    Args:
      strategy_name: one of ``STRATEGIES`` (aliases such as ``"snes"``, ``"openes"`` work).
      population_size: number of candidates per generation.
      solution: a candidate pytree (template: evosax ravels/unravels with it).
      std_init: initial search standard deviation (required: evosax defaults to 1.0).
      lr: learning rate of the mean update; ``None`` takes the documented default of
        :class:`ESConfig`.

    Returns an :class:`ES`. Host-only (builds Python objects).
    """
    from evosax import algorithms as ea

    cfg = ESConfig(strategy_name, population_size, float(std_init), lr)
    name = cfg.strategy
    lr_ = DEFAULT_LR.get(name, float("nan")) if lr is None else float(lr)
    if name == "Open_ES":
        strategy = ea.Open_ES(
            population_size=population_size,
            solution=solution,
            optimizer=_lr_from_state(lr_, optax.scale_by_adam()),
            # constant: the loop sets the std from ESParams.std_init after init and every tell
            std_schedule=optax.constant_schedule(float(std_init)),
        )
    elif name == "SNES":
        optimizer = _lr_from_state(lr_, optax.identity())  # optax.sgd's layout
        strategy = ea.SNES(population_size=population_size, solution=solution, optimizer=optimizer)
    elif name == "PGPE":
        from evosax.core.optimizer import scale_by_clipup

        # evosax's clipup(lr, max_velocity=2 lr): the velocity is capped at 2 lr for any lr
        optimizer = _lr_from_state(
            lr_,
            optax.normalize_by_update_norm(eps=1e-8),
            scale_by_clipup(max_velocity_ratio=2.0, momentum=0.9),
        )
        strategy = ea.PGPE(population_size=population_size, solution=solution, optimizer=optimizer)
    else:  # CMA_ES, Sep_CMA_ES
        strategy = getattr(ea, name)(population_size=population_size, solution=solution)
    defaults = es_params(lr_, std_init)
    return ES(name, strategy, strategy.default_params, population_size, defaults)


def make_es_from_config(config: ESConfig, solution: Any) -> ES:
    """:func:`make_es` from an :class:`ESConfig`."""
    return make_es(
        config.strategy,
        config.population_size,
        solution,
        std_init=config.std_init,
        lr=config.lr,
    )


__all__ = [
    "DEFAULT_LR",
    "ES",
    "ESConfig",
    "ESParams",
    "STRATEGIES",
    "canonical_strategy",
    "es_params",
    "make_es",
    "make_es_from_config",
    "with_lr",
]
