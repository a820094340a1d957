"""Meta-learning synthetic environments with ES ("Discovering Minimal RL Environments").

Fitness of a candidate :class:`meta.synthetic.SynthParams`: train a fresh agent on the synthetic
environment for ``learner.num_steps`` steps (hyperparameters drawn per run from the configured
ranges; the learner rotates per generation), then score its mean return on the REAL environment
over ``eval_envs`` episodes cut at the curriculum's horizon ``L(generation)``.

    cfg = SynthMetaConfig(target="cartpole", population=32)
    meta = make_synth_meta(cfg)
    loop = meta.loop                      # an ``meta.es.ESLoop``: run it with ``meta.es.run_es``
    state = loop.init(jax.random.key(0))  # the ES mean starts at the networks' default init

Targets: ``cartpole``, ``acrobot`` (SCB by default), ``mountain-car``, ``pendulum`` (synthetic
MDP by default) and Brax ``hopper`` (needs the ``brax`` extra; clear ``ImportError`` otherwise).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from meta import es as es_core
from meta.learners import (
    LearnerConfig,
    evaluate_gymnax,
    learners_for,
    make_learner,
)
from meta.synthetic import (
    KINDS,
    SynthConfig,
    SynthGymnaxEnv,
    SynthParams,
    init_synth_params,
)

GYMNAX_IDS = {
    "cartpole": "CartPole-v1",
    "acrobot": "Acrobot-v1",
    "mountain-car": "MountainCar-v0",
    "pendulum": "Pendulum-v1",
}
SYNTH_TARGETS = tuple(GYMNAX_IDS) + ("hopper",)
DEFAULT_KIND = {
    "cartpole": "scb",
    "acrobot": "scb",
    "mountain-car": "mdp",
    "pendulum": "mdp",
    "hopper": "scb",
}
# Affine map between the synthetic networks' space and raw observations: rough scales of the
# states these environments visit, so the default-initialised networks emit plausible states.
_OBS_AFFINE = {
    "cartpole": ((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 0.1, 1.0)),
    "acrobot": ((0.0,) * 6, (1.0, 1.0, 1.0, 1.0, 2.0, 4.0)),
    "mountain-car": ((-0.5, 0.0), (0.5, 0.05)),
    "pendulum": ((0.0, 0.0, 0.0), (1.0, 1.0, 4.0)),
}
# Evaluation horizon (init, end) of the curriculum ``horizon_schedule``: constant full horizon
# for classic control. For Brax hopper it only grows from 100 to the 1000-step episode when
# ``horizon_transition`` > 0 is set (the default 0 jumps to ``end`` at ``horizon_begin``).
_HORIZON = {
    "cartpole": (500, 500),
    "acrobot": (500, 500),
    "mountain-car": (200, 200),
    "pendulum": (200, 200),
    "hopper": (100, 1000),
}


@dataclasses.dataclass(frozen=True)
class SynthMetaConfig:
    """Static settings of one synthetic-environment meta-training run.

    Attributes:
      target: one of :data:`SYNTH_TARGETS`.
      kind: ``"scb"`` or ``"mdp"``; ``None`` takes the target's default.
      hidden: hidden units of each synthetic-env head.
      mdp_max_steps: episode limit of a synthetic MDP.
      learners: inner-loop learners, rotated per generation (``generation % len``); ``None``
        takes every learner that fits the action space.
      learner: static settings of the inner learners (``num_steps`` default 10k).
      eval_envs: real-environment episodes per fitness evaluation.
      horizon_init, horizon_end, horizon_begin, horizon_transition: evaluation-horizon
        curriculum ``L(g) = linear_schedule(init, end, transition, begin)(g)``; ``None`` takes
        the target's default (constant full horizon for classic control).
      strategy, population, std_init, es_lr: the ES (``meta.es.make_es``); SNES with
        ``std_init=0.05`` as in the paper.
    """

    target: str = "cartpole"
    kind: str | None = None
    hidden: int = 32
    mdp_max_steps: int = 200
    learners: tuple[str, ...] | None = None
    learner: LearnerConfig = LearnerConfig()
    eval_envs: int = 16
    horizon_init: int | None = None
    horizon_end: int | None = None
    horizon_begin: int = 0
    horizon_transition: int = 0
    strategy: str = "SNES"
    population: int = 32
    std_init: float = 0.05
    es_lr: float | None = None

    def __post_init__(self):
        if self.target not in SYNTH_TARGETS:
            raise ValueError(
                f"SynthMetaConfig.target must be one of {SYNTH_TARGETS}, got {self.target!r}"
            )
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"SynthMetaConfig.kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("hidden", "mdp_max_steps", "eval_envs", "population"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"SynthMetaConfig.{name} must be an int >= 1, got {v!r}")
        if self.population < 2:
            raise ValueError("SynthMetaConfig.population must be >= 2")
        for name in ("horizon_init", "horizon_end"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise ValueError(f"SynthMetaConfig.{name} must be None or an int >= 1, got {v!r}")
        if self.horizon_begin < 0 or self.horizon_transition < 0:
            raise ValueError("SynthMetaConfig.horizon_begin/horizon_transition must be >= 0")
        if not self.std_init > 0:
            raise ValueError(f"SynthMetaConfig.std_init must be > 0, got {self.std_init!r}")
        es_core.canonical_strategy(self.strategy)

    @property
    def resolved_kind(self) -> str:
        return self.kind or DEFAULT_KIND[self.target]

    @property
    def horizon(self) -> tuple[int, int]:
        init, end = _HORIZON[self.target]
        return (self.horizon_init or init, self.horizon_end or end)

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["learner"] = dataclasses.asdict(self.learner)
        return d

    @staticmethod
    def from_json(d: dict) -> SynthMetaConfig:
        d = dict(d)
        lc = dict(d.pop("learner"))
        lc["ranges"] = tuple(tuple(r) for r in lc.get("ranges", ()))
        if d.get("learners") is not None:
            d["learners"] = tuple(d["learners"])
        return SynthMetaConfig(learner=LearnerConfig(**lc), **d)


# ----------------------------------------------------------------------------- real envs


class TargetGymnaxEnv:
    """Gymnax-style adapter over a ``meta.targets.Target`` (used for Brax targets): auto-reset
    (``info["final_observation"]`` keeps the last observation of the finished episode) and
    ``terminated`` = the target's ``done`` except time-outs, which are ``truncated`` (told apart
    through ``meta.targets.BraxCarry.truncated`` when the target's state carries it)."""

    def __init__(self, target):
        self.target = target
        self.default_params = None

    def action_space(self, params=None):
        import ued

        t = self.target
        return ued.Box(t.action_low, t.action_high, (t.action_dim,), jnp.float32)

    def reset(self, key, params=None):
        return self.target.reset(key)

    def step(self, key, state, action, params=None):
        k_s, k_r = jax.random.split(key)
        obs, state2, reward, done = self.target.step(k_s, state, action)
        obs_r, state_r = self.target.reset(k_r)
        truncated = jnp.logical_and(done, getattr(state2, "truncated", jnp.zeros((), bool)))
        terminated = jnp.logical_and(done, jnp.logical_not(truncated))
        info = {
            "terminated": terminated,
            "truncated": truncated,
            "final_observation": obs,
            "discount": 1.0 - terminated.astype(jnp.float32),
        }
        obs = jnp.where(done, obs_r, obs)
        state2 = jax.tree.map(lambda a, b: jnp.where(done, a, b), state_r, state2)
        return obs, state2, reward, terminated, truncated, info


class RealEnv(NamedTuple):
    name: str
    env: Any  # gymnax-style environment
    params: Any  # its params
    discrete: bool
    num_actions: int  # actions (discrete) or action dims
    action_low: float
    action_high: float
    obs_dim: int
    max_steps: int


def make_real_env(target: str) -> RealEnv:
    """The real environment of ``target`` as a gymnax-style env. Host-only.

    Raises ``ValueError`` for unknown targets and ``ImportError`` (with the install command)
    for ``hopper`` when brax is missing.
    """
    if target not in SYNTH_TARGETS:
        raise ValueError(f"target: unknown target {target!r}; allowed: {SYNTH_TARGETS}")
    if target == "hopper":
        try:
            import brax  # noqa: F401
        except ImportError as e:
            raise ImportError(
                "target 'hopper' needs Brax, which is not installed; install the extra with "
                "`pip install 'openued[brax]'`"
            ) from e
        from meta.targets import make_target

        t = make_target("hopper")
        env = TargetGymnaxEnv(t)
        return RealEnv(
            "hopper",
            env,
            None,
            False,
            t.action_dim,
            t.action_low,
            t.action_high,
            t.obs_shape[0],
            t.max_steps,
        )
    import gymnax

    env, params = gymnax.make(GYMNAX_IDS[target])
    space = env.action_space(params)
    obs, _ = env.reset(jax.random.key(0), params)
    if hasattr(space, "n"):
        discrete, n, lo, hi = True, int(space.n), 0.0, float(space.n - 1)
    else:
        discrete, n = False, int(np.prod(space.shape or (1,)))
        lo, hi = float(np.min(space.low)), float(np.max(space.high))
    return RealEnv(
        target,
        env,
        params,
        discrete,
        n,
        lo,
        hi,
        int(obs.shape[0]),
        int(params.max_steps_in_episode),
    )


def synth_config_for(config: SynthMetaConfig, real: RealEnv) -> SynthConfig:
    """The :class:`SynthConfig` whose spaces match ``real``.

    Brax targets (:class:`TargetGymnaxEnv`) use their ``meta.targets`` normalisation (the
    standing pose as the mean), so the default-initialised networks emit near-initial states.
    """
    if config.target in _OBS_AFFINE:
        mean, scale = _OBS_AFFINE[config.target]
    elif isinstance(real.env, TargetGymnaxEnv):
        t = real.env.target
        mean = tuple(np.broadcast_to(np.asarray(t.obs_mean, float), (real.obs_dim,)).tolist())
        scale = tuple(np.broadcast_to(np.asarray(t.obs_scale, float), (real.obs_dim,)).tolist())
    else:
        mean, scale = (0.0,) * real.obs_dim, (1.0,) * real.obs_dim
    return SynthConfig(
        obs_dim=real.obs_dim,
        discrete=real.discrete,
        num_actions=real.num_actions,
        action_low=real.action_low,
        action_high=real.action_high,
        obs_mean=tuple(mean),
        obs_scale=tuple(scale),
        kind=config.resolved_kind,
        hidden=config.hidden,
        max_steps=config.mdp_max_steps,
    )


# ----------------------------------------------------------------------------- fitness


def horizon_schedule(config: SynthMetaConfig, generation: jax.Array) -> jax.Array:
    """Evaluation horizon ``int32[]`` at ``generation`` (linear from init to end). Jittable."""
    init, end = config.horizon
    g = jnp.asarray(generation, jnp.float32)
    if config.horizon_transition == 0:
        frac = jnp.where(g >= config.horizon_begin, 1.0, 0.0)
    else:
        frac = jnp.clip((g - config.horizon_begin) / config.horizon_transition, 0.0, 1.0)
    return jnp.round(init + frac * (end - init)).astype(jnp.int32)


class SynthMeta(NamedTuple):
    """Everything one meta-training run needs (see :func:`make_synth_meta`)."""

    config: SynthMetaConfig
    real: RealEnv
    synth_config: SynthConfig
    synth_env: SynthGymnaxEnv
    learner_names: tuple[str, ...]
    template: SynthParams  # default init: the ES mean's starting point
    fitness: Callable[[jax.Array, SynthParams, jax.Array], jax.Array]
    fitness_with: Callable[[int, jax.Array, SynthParams, jax.Array], jax.Array]
    loop: es_core.ESLoop


def make_synth_meta(config: SynthMetaConfig, init_key: jax.Array | None = None) -> SynthMeta:
    """Build the fitness function and the ES loop for ``config``. Host-only (builds closures).

    ``fitness(key, synth_params, generation) -> float32[]`` (jittable, vmappable over params):
    learner ``generation % len(learners)`` trains on the synthetic env with hyperparameters
    drawn from its ranges, then the mean real-env return over ``eval_envs`` episodes cut at
    ``horizon_schedule(generation)`` is returned. Deterministic per key.
    ``fitness_with(i, key, params, generation)`` uses learner ``i`` (static).
    """
    real = make_real_env(config.target)
    scfg = synth_config_for(config, real)
    senv = SynthGymnaxEnv(scfg)
    names = config.learners or learners_for(real.discrete)
    template = init_synth_params(jax.random.key(0) if init_key is None else init_key, scfg)
    learners = [make_learner(n, senv, config.learner, template) for n in names]
    max_h = max(config.horizon)

    def fitness_with(i: int, key, params: SynthParams, generation):
        k_hp, k_train, k_eval = jax.random.split(key, 3)
        lrn = learners[i]
        hp = lrn.sample_hparams(k_hp)
        agent = lrn.train(k_train, params, hp)
        horizon = horizon_schedule(config, generation)
        return evaluate_gymnax(
            k_eval, real.env, real.params, lrn.act, agent, config.eval_envs, max_h, False, horizon
        )

    def fitness(key, params, generation):
        if len(learners) == 1:
            return fitness_with(0, key, params, generation)
        branches = [(lambda k, p, g, i=i: fitness_with(i, k, p, g)) for i in range(len(learners))]
        idx = jnp.asarray(generation, jnp.int32) % len(learners)
        return jax.lax.switch(idx, branches, key, params, generation)

    problem = es_core.Problem(
        template=template,
        evaluate=lambda k, p: fitness(k, p, jnp.zeros((), jnp.int32)),
        maximize=True,
    )
    es = es_core.make_es(
        config.strategy, config.population, template, std_init=config.std_init, lr=config.es_lr
    )
    loop = make_generation_loop(
        problem, es, fitness, lambda g: horizon_schedule(config, g), len(learners)
    )
    return SynthMeta(config, real, scfg, senv, tuple(names), template, fitness, fitness_with, loop)


@struct.dataclass
class SynthGenerationMetrics:
    """Per-generation statistics (fitness in the problem's sign), one generation or stacked."""

    generation: jax.Array  # int32[] generations completed after this step (1-based)
    fitness_mean: jax.Array  # float32[]
    fitness_std: jax.Array  # float32[]
    fitness_best: jax.Array  # float32[]
    fitness_worst: jax.Array  # float32[]
    best_fitness: jax.Array  # float32[] best member so far
    search_std: jax.Array  # float32[] mean search std (nan if the strategy has none)
    mean_fitness: jax.Array  # float32[] fitness of the search MEAN this generation sampled around
    horizon: jax.Array  # int32[] evaluation horizon of this generation
    learner: jax.Array  # int32[] index of the inner learner of this generation
    fitness: jax.Array  # float32[P] the whole population's fitness


def make_generation_loop(
    problem: es_core.Problem,
    es: es_core.ES,
    fitness: Callable,
    horizon_fn: Callable[[jax.Array], jax.Array] | None = None,
    num_learners: int = 1,
) -> es_core.ESLoop:
    """An :class:`meta.es.ESLoop` whose fitness also sees the generation index.

    ``meta.es.make_es_loop`` calls ``evaluate(key, candidate)`` without the generation, which the
    horizon curriculum and the learner rotation need; this builds a loop with the same state type
    (``meta.es.ESLoopState``, so ``meta.es`` checkpoints work) and ``fitness(key, candidate,
    generation)``. One shared key per generation (common random numbers) for the population AND
    the current search mean (evaluated in the same vmapped program, so the meta-training curve
    of the mean, generation 0 included, costs no extra compile); ``maximize`` is honoured by
    negating before evosax's ``tell``. ``step`` returns :class:`SynthGenerationMetrics`.
    """
    strategy, params = es.strategy, es.params
    sign = -1.0 if problem.maximize else 1.0

    def evaluate_population(key, population, generation=None):
        g = jnp.zeros((), jnp.int32) if generation is None else generation
        f = jax.vmap(fitness, in_axes=(None, 0, None))(key, population, g)
        return jnp.asarray(f, jnp.float32)

    def step(state: es_core.ESLoopState):
        key, k_ask, k_eval, k_tell = jax.random.split(state.key, 4)
        mean = strategy.get_mean(state.es_state)
        population, es_state = strategy.ask(k_ask, state.es_state, params)
        both = jax.tree.map(lambda p, m: jnp.concatenate([p, m[None]]), population, mean)
        fit_all = evaluate_population(k_eval, both, state.generation)
        fit, mean_fit = fit_all[:-1], fit_all[-1]
        es_state, _ = strategy.tell(k_tell, population, sign * fit, es_state, params)
        score = jnp.where(jnp.isnan(fit), jnp.inf, sign * fit)
        i = jnp.argmin(score)
        improved = sign * fit[i] < sign * state.best_fitness
        member = jax.tree.map(lambda x: x[i], population)
        new = es_core.ESLoopState(
            es_state=es_state,
            key=key,
            generation=state.generation + 1,
            best_fitness=jnp.where(improved, fit[i], state.best_fitness),
            best_solution=jax.tree.map(
                lambda a, b: jnp.where(improved, a, b), member, state.best_solution
            ),
        )
        std = getattr(es_state, "std", None)
        g = state.generation
        metrics = SynthGenerationMetrics(
            generation=new.generation,
            fitness_mean=jnp.mean(fit),
            fitness_std=jnp.std(fit),
            fitness_best=fit[i],
            fitness_worst=sign * jnp.max(jnp.where(jnp.isnan(fit), -jnp.inf, sign * fit)),
            best_fitness=new.best_fitness,
            search_std=jnp.asarray(jnp.nan if std is None else jnp.mean(std), jnp.float32),
            mean_fitness=mean_fit,
            horizon=jnp.asarray(-1 if horizon_fn is None else horizon_fn(g), jnp.int32),
            learner=jnp.asarray(g % num_learners, jnp.int32),
            fitness=fit,
        )
        return es_core._strong(new), es_core._strong(metrics)

    def init(key, mean=None):
        mean = problem.template if mean is None else mean
        k_init, key = jax.random.split(key)
        es_state = strategy.init(k_init, mean, params)
        worst = jnp.float32(-jnp.inf if problem.maximize else jnp.inf)
        state = es_core.ESLoopState(
            es_state=es_state,
            key=key,
            generation=jnp.zeros((), jnp.int32),
            best_fitness=worst,
            best_solution=jax.tree.map(jnp.asarray, mean),
        )
        out = jax.eval_shape(lambda s: step(s)[0], state)
        return jax.tree.map(lambda x, s: jnp.asarray(x, dtype=s.dtype), state, out)

    def run_chunk(state, num_generations: int):
        return jax.lax.scan(lambda s, _: step(s), state, None, length=num_generations)

    def get_mean(state):
        return strategy.get_mean(state.es_state)

    return es_core.ESLoop(init, step, run_chunk, evaluate_population, get_mean, problem, es)


def metrics_records(metrics: SynthGenerationMetrics, learner_names=None) -> list[dict]:
    """Stacked metrics (leaves ``(G, ...)``) -> one JSON-able dict per generation. Host-only."""
    m = jax.device_get(metrics)
    out = []
    for g in range(np.shape(m.generation)[0]):
        rec = {}
        for f in dataclasses.fields(SynthGenerationMetrics):
            if f.name == "fitness":
                continue
            v = np.asarray(getattr(m, f.name))[g]
            rec[f.name] = int(v) if np.issubdtype(v.dtype, np.integer) else float(v)
        if learner_names is not None:
            rec["learner"] = learner_names[rec["learner"]]
        out.append(rec)
    return out


def run_synth_es(
    loop: es_core.ESLoop,
    state: es_core.ESLoopState,
    num_generations: int,
    *,
    chunk_size: int = 10,
    checkpoint_path: str | os.PathLike | None = None,
    metrics_path: str | os.PathLike | None = None,
    learner_names: tuple[str, ...] | None = None,
    progress: bool = True,
) -> tuple[es_core.ESLoopState, list[dict]]:
    """Host loop for :func:`make_generation_loop` (like ``meta.es.run_es``). Host-only.

    Chunk boundaries are absolute multiples of ``chunk_size`` (a resumed run follows the same
    chunks and reaches the bitwise same state). Before the first generation a record
    ``{"generation": 0, "mean_fitness": ...}`` (the fitness of the initial mean) is written;
    after each chunk the records are appended to ``metrics_path`` and the state checkpointed
    atomically (``meta.es.save_checkpoint``).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size: must be >= 1, got {chunk_size}")
    run_chunk = jax.jit(loop.run_chunk, static_argnums=1)
    gen = int(state.generation)
    records: list[dict] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=num_generations, initial=min(gen, num_generations), unit="gen")
    try:
        while gen < num_generations:
            stop = min(num_generations, (gen // chunk_size + 1) * chunk_size)
            state, metrics = run_chunk(state, stop - gen)
            recs = metrics_records(metrics, learner_names)
            if gen == 0:
                first = recs[0]
                recs.insert(
                    0,
                    {"generation": 0, "mean_fitness": first["mean_fitness"],
                     "horizon": first["horizon"], "learner": first["learner"]},
                )  # fmt: skip
            if metrics_path is not None:
                with open(metrics_path, "a") as f:
                    for r in recs:
                        f.write(json.dumps(r) + "\n")
            records.extend(recs)
            if bar is not None:
                bar.update(stop - gen)
                bar.set_postfix(mean=f"{recs[-1]['fitness_mean']:.4g}")
            gen = stop
            if checkpoint_path is not None:
                es_core.save_checkpoint(checkpoint_path, state, {"generation": gen})
    finally:
        if bar is not None:
            bar.close()
    return state, records


# ----------------------------------------------------------------------------- discovered env I/O


def _flat_params(params: SynthParams) -> dict[str, np.ndarray]:
    out = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        name = jax.tree_util.keystr(path).strip(".").replace(".", "/")
        out[name] = np.asarray(leaf)
    return out


def save_synth_env(
    path_prefix: str | os.PathLike, config: SynthConfig, params: SynthParams, extra: dict
) -> tuple[str, str]:
    """Write ``<prefix>.npz`` (named float32 arrays) and ``<prefix>.json`` (config + ``extra``).

    Data only: no pickle anywhere. Returns the two paths. Host-only.
    """
    prefix = os.fspath(path_prefix)
    arrays = _flat_params(params)
    tmp = prefix + ".npz.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, prefix + ".npz")
    meta = {
        "synth_config": dataclasses.asdict(config),
        "arrays": {k: list(v.shape) for k, v in arrays.items()},
        "num_params": int(sum(v.size for v in arrays.values())),
        **extra,
    }
    with open(prefix + ".json", "w") as f:
        json.dump(meta, f, indent=2)
    return prefix + ".npz", prefix + ".json"


def load_synth_env(path_prefix: str | os.PathLike) -> tuple[SynthConfig, SynthParams, dict]:
    """Read what :func:`save_synth_env` wrote: ``(config, params, json_meta)``. Host-only."""
    prefix = os.fspath(path_prefix)
    with open(prefix + ".json") as f:
        meta = json.load(f)
    sc = dict(meta["synth_config"])
    for k in ("obs_mean", "obs_scale"):
        if sc.get(k) is not None:
            sc[k] = tuple(sc[k])
    config = SynthConfig(**sc)
    template = init_synth_params(jax.random.key(0), config)
    with np.load(prefix + ".npz", allow_pickle=False) as z:
        leaves = []
        for path, ref in jax.tree_util.tree_leaves_with_path(template):
            name = jax.tree_util.keystr(path).strip(".").replace(".", "/")
            arr = z[name]
            if arr.shape != ref.shape:
                raise ValueError(
                    f"{prefix}.npz: array {name} has shape {arr.shape}, want {ref.shape}"
                )
            leaves.append(jnp.asarray(arr, jnp.float32))
    params = jax.tree.unflatten(jax.tree.structure(template), leaves)
    return config, params, meta


__all__ = [
    "DEFAULT_KIND",
    "GYMNAX_IDS",
    "RealEnv",
    "SYNTH_TARGETS",
    "SynthMeta",
    "SynthMetaConfig",
    "TargetGymnaxEnv",
    "horizon_schedule",
    "load_synth_env",
    "make_generation_loop",
    "make_real_env",
    "make_synth_meta",
    "metrics_records",
    "run_synth_es",
    "save_synth_env",
    "SynthGenerationMetrics",
    "synth_config_for",
]
