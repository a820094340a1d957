"""Aleatoric level spaces (the SAMPLR extension of ``ued.LevelSpace``).

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

Design choice (documented, the paper does not fix it): every random outcome of these spaces is
binary (coin pays / slip happens), so a posterior predictive is one probability, and a
fictitious step is "set the hidden value so that the next outcome is Bernoulli(p), then take
the real step". Resampling the hidden value from the posterior before every step, as in the
paper, gives the same next-outcome distribution.

The learned belief option (:func:`make_belief_model`) is a small MLP trained online on a stream
of prior-drawn episodes (``spec.episode_events``), predicting the next outcome from
``history_stats``; :func:`belief_error` compares it with the analytic posterior.

Everything here is jittable except :func:`check_aleatoric_space` (host-side conformance kit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

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


# ------------------------------------------------------------------------- analytic posteriors


def beta_binomial_pmf(k: Any, n: int, a: float, b: float) -> np.ndarray:
    """P(K = k) for K ~ Beta-Binomial(n, a, b) (NumPy, host). float64 like ``k``."""
    from scipy.special import betaln, gammaln

    k = np.asarray(k, np.float64)
    log_c = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.exp(log_c + betaln(k + a, n - k + b) - betaln(a, b))


def beta_bernoulli_predictive(n: Array, k: Array, a: float, b: float) -> Array:
    """P(next = 1 | k ones in n Bernoulli(theta) trials), theta ~ Beta(a, b): float32[]."""
    n = jnp.asarray(n, jnp.float32)
    k = jnp.asarray(k, jnp.float32)
    return ((a + k) / (a + b + n)).astype(jnp.float32)


def beta_integer(key: Key, a: Array, b: Array, max_count: int) -> Array:
    """One exact Beta(a, b) draw for integer ``1 <= a, b <= max_count``: float32[]. Jittable.

    Gamma(n) is a sum of n unit exponentials and Beta(a, b) = Ga / (Ga + Gb); this costs
    ``2 * max_count`` uniforms and no rejection loop, so it compiles and runs much faster than
    ``jax.random.beta`` (the Beta posteriors of Bernoulli counts always have integer parameters
    when the prior's are integers).
    """
    e = -jnp.log(jax.random.uniform(key, (2, max_count), jnp.float32, 1e-20, 1.0))
    i = jnp.arange(max_count)
    ga = jnp.sum(jnp.where(i < jnp.asarray(a, jnp.int32), e[0], 0.0))
    gb = jnp.sum(jnp.where(i < jnp.asarray(b, jnp.int32), e[1], 0.0))
    return (ga / (ga + gb)).astype(jnp.float32)


def noisy_cue_posterior(prior: float, accuracy: float, seen: Array, says_one: Array) -> Array:
    """P(coin = 1 | cue) for coin ~ Bernoulli(prior) and a cue equal to the coin w.p. accuracy.

    ``seen`` False: the prior. Jittable; float32[].
    """
    like1 = jnp.where(says_one, accuracy, 1.0 - accuracy)
    like0 = jnp.where(says_one, 1.0 - accuracy, accuracy)
    post = prior * like1 / (prior * like1 + (1.0 - prior) * like0)
    return jnp.where(seen, post, prior).astype(jnp.float32)


# --------------------------------------------------------------------------- learned belief


@dataclasses.dataclass(frozen=True)
class BeliefConfig:
    """Static settings of the learned belief model.

    Attributes:
      hidden: hidden layer sizes of the MLP (each >= 1).
      lr: initial Adam learning rate (> 0), cosine-decayed to 0 over ``num_updates`` (the
        decay averages out the noise of the online minibatches).
      batch_episodes: prior-drawn episodes per online update (>= 1).
      num_updates: online updates of :meth:`BeliefModel.fit` (>= 1).
    """

    hidden: tuple[int, ...] = (32, 32)
    lr: float = 1e-2
    batch_episodes: int = 256
    num_updates: int = 1000

    def __post_init__(self) -> None:
        if not self.hidden or any((not isinstance(h, int)) or h < 1 for h in self.hidden):
            raise ValueError(f"BeliefConfig.hidden must hold integers >= 1, got {self.hidden}")
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
    posterior predictive. The state is ``(params, opt_state)``.
    """
    import optax

    config = BeliefConfig() if config is None else config
    if not isinstance(config, BeliefConfig):
        raise TypeError(f"make_belief_model expects a BeliefConfig, got {type(config)}")
    s = len(spec.stat_names)
    scale = jnp.asarray(spec.stats_scale, jnp.float32)
    tx = optax.adam(optax.cosine_decay_schedule(config.lr, config.num_updates))
    sizes = (s, *config.hidden, 1)

    def init(key):
        params = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = jax.random.normal(jax.random.fold_in(key, i), (a, b)) * np.sqrt(1.0 / a)
            params.append((w.astype(jnp.float32), jnp.zeros((b,), jnp.float32)))
        return params, tx.init(params)

    def logit(params, stats):
        x = jnp.asarray(stats, jnp.float32) / scale
        for i, (w, b) in enumerate(params):
            x = x @ w + b
            if i < len(params) - 1:
                x = jnp.tanh(x)
        return x[..., 0]

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


# ----------------------------------------------------------------------------- conformance


def _fail(prop: str, detail: str) -> None:
    raise AssertionError(f"check_aleatoric_space [{prop}]: {detail}")


def _tree_equal(a: Any, b: Any) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(
        np.asarray(x).shape == np.asarray(y).shape and np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(la, lb, strict=True)
    )


def check_aleatoric_space(
    space: Any, key: jax.Array | None = None, n: int = 8, num_draws: int = 20_000, tol: float = 0.02
) -> None:
    """Check the SAMPLR extension of ``space``; raise ``AssertionError`` naming the property.

    Checked, in order: ``space.aleatoric`` is an :class:`AleatoricSpec` whose ``names`` are
    fields of the placeholder; ``prior_sample`` keeps shapes/dtypes, is deterministic by key,
    depends on the key, changes only aleatoric fields, keeps levels valid and agrees under jit,
    vmap and ``lax.scan``; ``history_stats`` of a reset state is a finite float32[S]
    (jit, vmap); ``predictive_prob`` lies in [0, 1] for every history class;
    ``posterior_sample`` keeps designable fields and the share of its draws' outcome-one
    probability matches ``predictive_prob`` within ``tol`` per history class (``num_draws``
    draws); draws of :func:`posterior_predictive` match it too; ``condition_state`` keeps the
    state's structure and its statistics; ``episode_events`` has consistent (N, S) / (N,) shapes
    and its outcomes' frequency given the first event's history matches ``predictive_prob``.
    """
    spec = getattr(space, "aleatoric", None)
    if not isinstance(spec, AleatoricSpec):
        _fail("spec", f"space.aleatoric must be an AleatoricSpec, got {type(spec).__name__}")
    key = jax.random.key(0) if key is None else key
    ph = space.placeholder
    fields = {f.name for f in dataclasses.fields(ph)}
    for name in spec.names:
        if name not in fields:
            _fail("names", f"aleatoric field {name!r} is not a field of the level {sorted(fields)}")
    # Everything below runs as a few jitted programs; comparisons happen in NumPy (eager JAX
    # ops would each compile a kernel).
    keys = jax.random.split(key, 8)
    levels = jax.jit(lambda k: jax.vmap(space.sample)(jax.random.split(k, n)))(keys[0])
    lv_np = jax.device_get(levels)
    one = _idx(lv_np, 0)

    # prior_sample: shapes, determinism, key dependence, designable fields, validity, vmap/scan
    ps = jax.jit(spec.prior_sample)
    a = ps(keys[1], one)
    if jax.tree.structure(a) != jax.tree.structure(ph) or any(
        x.shape != y.shape or x.dtype != y.dtype
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(ph), strict=True)
    ):
        _fail("prior_sample shapes/dtypes", "prior_sample(key, level) changed shapes or dtypes")
    if not _tree_equal(a, ps(keys[1], one)):
        _fail("prior_sample determinism", "same key gave different draws")
    pkeys = jax.random.split(keys[2], n)

    @jax.jit
    def prior_props(ks, lvls, lvl):
        draws = jax.vmap(spec.prior_sample, in_axes=(0, None))(ks, lvl)
        same = jax.vmap(lambda d: designable_equal(spec, d, lvl))(draws)
        valid = jax.vmap(space.is_valid)(draws) if space.is_valid is not None else jnp.ones(n, bool)
        vm = jax.vmap(spec.prior_sample)(ks, lvls)
        sc = jax.lax.scan(lambda c, x: (c, spec.prior_sample(x[0], x[1])), 0, (ks, lvls))[1]
        return draws, same, valid, vm, sc

    draws, same, valid, vm, sc = jax.device_get(prior_props(pkeys, levels, one))
    if all(_tree_equal(_idx(draws, 0), _idx(draws, i)) for i in range(1, n)):
        _fail("prior_sample key dependence", f"{n} keys gave the same aleatoric draw")
    if not np.all(same):
        _fail("prior_sample designable", "prior_sample changed a designable (non-aleatoric) field")
    if not np.all(valid):
        _fail("prior_sample validity", "prior_sample produced invalid levels")
    if not _tree_equal(vm, sc):
        _fail("prior_sample lax.scan", "scan over prior_sample differs from vmap")
    if not _tree_equal(_idx(vm, n - 1), ps(pkeys[n - 1], _idx(lv_np, n - 1))):
        _fail("prior_sample vmap", f"vmap(prior_sample)[{n - 1}] differs from a single call")

    # history_stats on reset states; condition_state keeps structure and statistics
    env = spec.env
    params = env.default_params

    @jax.jit
    def stats_props(ks, lvls, k):
        _, st = jax.vmap(env.reset_to_level, in_axes=(0, 0, None))(ks, lvls, params)
        hs = jax.vmap(spec.history_stats)(st)
        st0 = jax.tree.map(lambda x: x[0], st)
        st1 = spec.condition_state(k, st0, jnp.float32(0.5))
        return hs, spec.history_stats(st0), st0, st1, spec.history_stats(st1)

    hs, hs0, st0, st1, hs1 = jax.device_get(stats_props(pkeys, levels, keys[5]))
    s = len(spec.stat_names)
    if hs.shape != (n, s) or hs.dtype != np.float32:
        _fail("history_stats", f"expected float32[{s}] per state, got {hs.dtype}{hs.shape[1:]}")
    if not np.all(np.isfinite(hs)):
        _fail("history_stats", "non-finite statistics")
    if not np.array_equal(hs0, hs[0]):
        _fail("history_stats vmap", "vmap(history_stats) differs from a single call")
    if jax.tree.structure(st1) != jax.tree.structure(st0) or any(
        np.shape(x) != np.shape(y) or np.asarray(x).dtype != np.asarray(y).dtype
        for x, y in zip(jax.tree.leaves(st1), jax.tree.leaves(st0), strict=True)
    ):
        _fail("condition_state", "changed the env state's structure, shapes or dtypes")
    if not np.array_equal(hs1, hs0):
        _fail("condition_state", "changed history_stats (it may only rewrite hidden values)")

    # prior mean, posterior samplers per history class, episode events: one program
    hc = jnp.asarray(spec.history_classes, jnp.float32)
    nc = hc.shape[0]

    def per_class(k, lvl, h):
        ks = jax.random.split(k, num_draws)
        pred = spec.predictive_prob(lvl, h)
        post = jax.vmap(spec.posterior_sample, in_axes=(0, None, None))(ks, lvl, h)
        keep = jnp.all(jax.vmap(lambda d: designable_equal(spec, d, lvl))(post))
        # parameter(level) is the outcome probability the draws imply, so its posterior mean
        # is the posterior predictive
        mean_param = jnp.mean(jax.vmap(spec.parameter)(post))
        outs = jax.vmap(lambda kk: posterior_predictive(spec, kk, lvl, h))(
            jax.random.split(jax.random.fold_in(k, 1), num_draws)
        )
        return pred, keep, mean_param, jnp.mean(outs.astype(jnp.float32))

    @jax.jit
    def stochastic_props(k, lvl):
        k1, k2, k3 = jax.random.split(k, 3)
        prior = jax.vmap(spec.prior_sample, in_axes=(0, None))(jax.random.split(k1, num_draws), lvl)
        pm = jnp.mean(jax.vmap(spec.parameter)(prior))
        cls = jax.vmap(per_class, in_axes=(0, None, 0))(jax.random.split(k2, nc), lvl, hc)
        ev = jax.vmap(spec.episode_events, in_axes=(0, None))(jax.random.split(k3, num_draws), lvl)
        first_pred = jax.vmap(lambda h: spec.predictive_prob(lvl, h))(ev[0][:, 0])
        return pm, cls, ev, first_pred

    pm, (pp, keep, mpar, freq), (stats, out, mask), first_pred = jax.device_get(
        stochastic_props(keys[4], one)
    )
    if abs(float(pm) - spec.prior_mean) > tol:
        _fail(
            "prior mean",
            f"mean {spec.parameter_name} of prior draws {float(pm):.4f} != "
            f"declared prior_mean {spec.prior_mean:.4f} (tol {tol})",
        )
    if pp.shape != (nc,) or not np.all((pp >= 0) & (pp <= 1)):
        _fail("predictive_prob", f"must be a probability per class, got {pp}")
    for c, name in enumerate(spec.class_names):
        if not keep[c]:
            _fail("posterior_sample designable", f"class {name!r}: designable field changed")
        if abs(float(mpar[c]) - float(pp[c])) > tol:
            _fail(
                "posterior_sample",
                f"class {name!r}: mean of posterior draws "
                f"{float(mpar[c]):.4f} vs analytic posterior predictive {float(pp[c]):.4f} "
                f"(tol {tol})",
            )
        if abs(float(freq[c]) - float(pp[c])) > tol:
            _fail(
                "posterior_predictive",
                f"class {name!r}: outcome frequency "
                f"{float(freq[c]):.4f} vs {float(pp[c]):.4f} (tol {tol})",
            )
    if (
        stats.ndim != 3
        or stats.shape[2] != s
        or out.shape != stats.shape[:2]
        or (mask.shape != out.shape)
    ):
        _fail(
            "episode_events",
            f"shapes stats {stats.shape[1:]}, outcome {out.shape[1:]}, "
            f"mask {mask.shape[1:]}; expected (N, {s}), (N,), (N,)",
        )
    # first event of prior-drawn episodes: outcome frequency per history = predictive
    h0, o0, m0 = stats[:, 0], out[:, 0], mask[:, 0]
    for u in np.unique(h0[m0], axis=0):
        sel = m0 & np.all(h0 == u, axis=1)
        if sel.sum() < 2000:
            continue
        fr = float(o0[sel].mean())
        ref = float(first_pred[sel][0])
        if abs(fr - ref) > tol:
            _fail(
                "episode_events",
                f"first-event outcome frequency {fr:.4f} given history "
                f"{u.tolist()} vs predictive {ref:.4f}",
            )


def _idx(tree: Any, i: int) -> Any:
    return jax.tree.map(lambda x: np.asarray(x)[i], tree)


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
