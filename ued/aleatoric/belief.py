"""The learned belief model: an MLP that predicts the next aleatoric outcome from the episode's
``history_stats``, trained online on prior-drawn episodes.

Its cross-entropy optimum is the ground-truth posterior predictive, so SAMPLR can use it where
no analytic posterior is at hand; :func:`belief_error` measures how far it is from the analytic
one on a spec's representative histories. The network is the toolkit's :class:`ued.networks.MLP`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ued.aleatoric.spec import AleatoricSpec
from ued.networks import MLP, check_activation


@dataclasses.dataclass(frozen=True)
class BeliefConfig:
    """Static settings of the learned belief model.

    Attributes:
      hidden: hidden layer sizes of the MLP (each >= 1).
      activation: a key of :data:`ued.networks.ACTIVATIONS`.
      lr: initial Adam learning rate (> 0), cosine-decayed to 0 over ``num_updates`` (the
        decay averages out the noise of the online minibatches).
      batch_episodes: prior-drawn episodes per online update (>= 1).
      num_updates: online updates of :meth:`BeliefModel.fit` (>= 1).
    """

    hidden: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    lr: float = 1e-2
    batch_episodes: int = 256
    num_updates: int = 1000

    def __post_init__(self) -> None:
        if not self.hidden or any((not isinstance(h, int)) or h < 1 for h in self.hidden):
            raise ValueError(f"BeliefConfig.hidden must hold integers >= 1, got {self.hidden}")
        check_activation(self.activation, "BeliefConfig.activation")
        if not (isinstance(self.lr, float | int) and self.lr > 0):
            raise ValueError(f"BeliefConfig.lr must be > 0, got {self.lr}")
        for f in ("batch_episodes", "num_updates"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"BeliefConfig.{f} must be an integer >= 1, got {v!r}")


class BeliefModel(NamedTuple):
    """``init(key) -> state``; ``update(key, state, level_sampler) -> (state, loss)`` one online
    step on fresh prior-drawn episodes; ``fit(key, state, sample_level) -> (state, losses)`` runs
    ``num_updates`` of them in a ``lax.scan``; ``predict(params, level, stats) -> float32[]``
    the learned P(next outcome = 1 | stats) (usable as SAMPLR's belief). All jittable."""

    init: Callable
    update: Callable
    fit: Callable
    predict: Callable
    config: BeliefConfig


def make_belief_model(spec: AleatoricSpec, config: BeliefConfig | None = None) -> BeliefModel:
    """A small MLP classifier of the next random outcome from ``history_stats``.

    Trained online with a cross-entropy loss on events of episodes whose aleatoric parameters
    are drawn from the prior (``spec.episode_events``), so its optimum is the ground-truth
    posterior predictive. The state is ``(params, opt_state)``; ``params`` are the MLP's
    (float32[S] statistics, divided by ``spec.stats_scale``, in; one logit out).
    """
    import optax

    config = BeliefConfig() if config is None else config
    if not isinstance(config, BeliefConfig):
        raise TypeError(f"make_belief_model expects a BeliefConfig, got {type(config)}")
    s = len(spec.stat_names)
    scale = jnp.asarray(spec.stats_scale, jnp.float32)
    tx = optax.adam(optax.cosine_decay_schedule(config.lr, config.num_updates))
    # LeCun init (variance 1 / fan_in) keeps tanh units out of saturation on O(1) inputs,
    # which stats / stats_scale are
    net = MLP(hidden=tuple(config.hidden), out=1, activation=config.activation, kernel_init="lecun")

    def init(key):
        params = net.init(key, jnp.zeros((s,), jnp.float32))
        return params, tx.init(params)

    def logit(params, stats):
        # stats: float32[..., S] -> float32[...]
        return net.apply(params, jnp.asarray(stats, jnp.float32) / scale)[..., 0]

    def predict(params, level, stats):
        del level
        return jax.nn.sigmoid(logit(params, stats)).astype(jnp.float32)

    def update(key, state, sample_level):
        params, opt = state
        k_lvl, k_ev = jax.random.split(key)
        levels = jax.vmap(sample_level)(jax.random.split(k_lvl, config.batch_episodes))
        stats, out, mask = jax.vmap(spec.episode_events)(
            jax.random.split(k_ev, config.batch_episodes), levels
        )

        def loss_fn(p):
            z = logit(p, stats)
            ce = optax.sigmoid_binary_cross_entropy(z, out)
            m = mask.astype(jnp.float32)
            return jnp.sum(ce * m) / jnp.maximum(jnp.sum(m), 1.0)

        loss, g = jax.value_and_grad(loss_fn)(params)
        upd, opt = tx.update(g, opt, params)
        return (optax.apply_updates(params, upd), opt), loss

    def fit(key, state, sample_level):
        def body(st, k):
            return update(k, st, sample_level)

        return jax.lax.scan(body, state, jax.random.split(key, config.num_updates))

    return BeliefModel(init, update, fit, predict, config)


def belief_error(spec: AleatoricSpec, belief: Callable, level: Any) -> np.ndarray:
    """|belief(level, h) - predictive_prob(level, h)| per history class: float64[C]. Host."""
    hc = jnp.asarray(spec.history_classes, jnp.float32)
    got = jax.vmap(lambda h: belief(level, h))(hc)
    ref = jax.vmap(lambda h: spec.predictive_prob(level, h))(hc)
    return np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64))


__all__ = ["BeliefConfig", "BeliefModel", "belief_error", "make_belief_model"]
