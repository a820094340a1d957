"""Evolution-strategy core on evosax 0.3: problems with an explicit direction and a scanned
generation loop, as a trainer of the one host loop (``ued.host``).

The pieces:

* :class:`Problem` -- a candidate template, a per-candidate ``evaluate(key, candidate)`` (or
  ``evaluate(key, candidate, context)`` with an :class:`EvalContext` holding the generation
  index, for fitness functions that change over the run: curricula, alternating inner learners)
  and an explicit ``maximize`` flag. evosax always minimises; :func:`make_es_loop` negates when
  ``maximize=True`` so that the higher fitness wins.
* :func:`make_es` (:mod:`meta.es_strategy`) -- any supported evosax strategy by name with its
  hyperparameters set explicitly (evosax's default ``std_init`` is 1.0, far too wide for most problems). The
  numbers one may vmap or sweep (the mean's learning rate, the initial search std) are an
  :class:`ESParams` pytree that ``init`` takes and the state carries, read at run time: a grid
  of them is one more vmapped input of one compiled program.
* :func:`make_es_loop` -- ``init`` / ``step`` / ``run_chunk`` pure functions. One generation is
  ``ask -> evaluate (whole population in one vmapped program, one shared key: common random
  numbers) -> tell``, optionally also evaluating the search mean (``evaluate_mean``).
  ``run_chunk`` is ``lax.scan`` over generations.
* :func:`es_trainer` -- the loop as a trainer of the one host loop: ``ued.host.run_trainer(
  run_dir, es_trainer(loop), generations)`` keeps a run directory (lock, ``config.json``,
  ``metrics.jsonl``, checksummed checkpoints, exact resume, health checks) as for every other
  kind of run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from meta.es_strategy import (  # noqa: F401 (re-exported: one import for the ES core)
    DEFAULT_LR,
    ES,
    STRATEGIES,
    ESConfig,
    ESParams,
    canonical_strategy,
    es_params,
    make_es,
    make_es_from_config,
    with_lr,
)
from ued.host import HealthChecks


@struct.dataclass
class EvalContext:
    """What a fitness evaluation may know about where the run stands (same for every candidate
    of a generation, never batched)."""

    generation: jax.Array  # int32[] generation being evaluated: generations completed before it


def eval_context(generation: int | jax.Array = 0) -> EvalContext:
    """An :class:`EvalContext` at ``generation`` (int32[]). Jittable."""
    return EvalContext(generation=jnp.asarray(generation, jnp.int32))


class Problem(NamedTuple):
    """An optimisation problem over pytree candidates.

    ``evaluate(key, candidate) -> float32[]``, or ``evaluate(key, candidate, context)`` when
    ``uses_context`` (``context`` an :class:`EvalContext`: the generation index drives e.g. a
    horizon curriculum or which inner learner trains), must be jittable and vmappable over
    ``candidate``; the loop calls it with the SAME key and context for every population member
    of a generation (common random numbers), so differences in fitness come from the
    candidates. ``maximize`` says whether higher fitness is better.
    """

    template: Any  # candidate pytree; fixes shapes and dtypes, default initial mean
    evaluate: Callable[..., jax.Array]
    maximize: bool
    uses_context: bool = False  # evaluate takes a third argument, the EvalContext

    def evaluate_in(self, key: jax.Array, candidate: Any, context: EvalContext) -> jax.Array:
        """``evaluate`` with the context passed on, or dropped when not ``uses_context``."""
        if self.uses_context:
            return self.evaluate(key, candidate, context)
        return self.evaluate(key, candidate)


@struct.dataclass
class ESLoopState:
    """Everything one ES run carries from generation to generation."""

    es_state: Any  # evosax State (flax struct); internally in evosax's minimising sign
    params: ESParams  # the run's dynamic ES hyperparameters (fixed over the run)
    key: jax.Array  # typed PRNG key, split once per generation
    generation: jax.Array  # int32[] generations completed
    best_fitness: jax.Array  # float32[] best member fitness so far, in the PROBLEM's sign
    best_solution: Any  # candidate pytree of the best member so far


@struct.dataclass
class GenerationMetrics:
    """Per-generation statistics, fitness in the problem's sign."""

    generation: jax.Array  # int32[] generation index (1-based after the step)
    fitness_mean: jax.Array  # float32[]
    fitness_std: jax.Array  # float32[]
    fitness_best: jax.Array  # float32[] best of this generation
    fitness_worst: jax.Array  # float32[]
    best_fitness: jax.Array  # float32[] best so far
    search_std: jax.Array  # float32[] mean search std of the strategy (nan if none)
    # float32[] fitness of the search mean this generation sampled around (same key and
    # context as the population); None unless make_es_loop(..., evaluate_mean=True)
    mean_fitness: jax.Array | None
    fitness: jax.Array  # float32[P] the whole population's fitness


class ESLoop(NamedTuple):
    """Pure functions of one ES run (see :func:`make_es_loop`)."""

    init: Callable[..., ESLoopState]
    step: Callable[[ESLoopState], tuple[ESLoopState, GenerationMetrics]]
    run_chunk: Callable[[ESLoopState, int], tuple[ESLoopState, GenerationMetrics]]
    evaluate_population: Callable[..., jax.Array]
    get_mean: Callable[[ESLoopState], Any]
    problem: Problem
    es: ES


def _strong(tree):
    # evosax returns weakly typed scalars from init (Python floats turned into arrays);
    # a weak/strong flip between the first and second call would retrace every jitted step.
    return jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.result_type(x)), tree)


def auto_eval_batch_size(population_size: int, backend: str | None = None) -> int | None:
    """The chunk size :func:`make_es_loop` should evaluate a population in (``None``: all at
    once). On CPU, chunks of 256 candidates when the population is larger and 256 divides it
    (measured on HaDES CartPole at P = 1024, 2-core CPU: 3.76 s per generation in chunks vs
    4.77 s in one vmap, identical fitness); on accelerators one vmap."""
    backend = backend or jax.default_backend()
    if backend == "cpu" and population_size > 256 and population_size % 256 == 0:
        return 256
    return None


def make_es_loop(
    problem: Problem,
    es: ES,
    mesh: jax.sharding.Mesh | None = None,
    eval_batch_size: int | None = None,
    evaluate_mean: bool = False,
) -> ESLoop:
    """The generation loop of ``es`` on ``problem``.

    Args:
      problem: the :class:`Problem` (direction given by ``problem.maximize``; with
        ``problem.uses_context`` its ``evaluate`` receives ``EvalContext(generation)``, the
        index of the generation being evaluated, 0 for the first).
      es: from :func:`make_es`.
      mesh: optional 1-D ``jax.sharding.Mesh`` with an ``Auto`` axis; the population axis (leading axis of every
        population leaf and of the fitness vector) is sharded over its single axis. The
        population size must be divisible by the mesh size.
      eval_batch_size: evaluate the population in ``P / eval_batch_size`` sequential chunks
        of ``eval_batch_size`` vmapped candidates (``lax.map``) instead of all ``P`` at once:
        same results (each candidate sees the same key), a smaller working set. On a CPU the
        HaDES inner loop at P = 1024 runs faster in chunks that fit the cache; on an
        accelerator leave it ``None`` (one vmap). Must divide ``P``; with a ``mesh`` the
        chunks are strided so that every chunk stays spread over all devices.
      evaluate_mean: also evaluate the search mean each generation (the mean the population
        was sampled around, with the population's key and context), reported as
        ``GenerationMetrics.mean_fitness``: the ES's own solution, which the best member's
        fitness overstates under noise. Costs one candidate per generation; the ES trajectory
        is unchanged. Without ``mesh`` and chunking the mean rides in the population's vmapped
        program as one more lane, so the fitness graph is compiled once.

    Returns an :class:`ESLoop` of pure (jittable) functions:

    * ``init(key, mean=None, params=None) -> ESLoopState``: ``mean`` defaults to
      ``problem.template``, ``params`` (an :class:`ESParams`) to ``es.default_params``; the
      state carries ``params`` and every generation reads them, so ``init`` vmapped over a
      grid of params runs the grid in one program. The state's leaf dtypes are normalised to
      those the step produces, so a jitted step compiles once.
    * ``step(state) -> (state, GenerationMetrics)``: one generation, evaluated in context
      ``EvalContext(state.generation)``.
    * ``run_chunk(state, num_generations) -> (state, GenerationMetrics stacked over G)``:
      ``lax.scan`` of ``step`` (``num_generations`` static).
    * ``evaluate_population(key, population, context=None) -> float32[P]``: vmapped
      ``evaluate`` with one shared key and context (default generation 0; sharded over
      ``mesh`` if given).
    * ``get_mean(state) -> candidate``: the search distribution's mean.
    """
    strategy = es.strategy
    # Open_ES draws its std from a schedule, not from params: the loop sets it instead
    std_in_state = es.name == "Open_ES"
    sign = -1.0 if problem.maximize else 1.0
    pop = es.population_size
    n_chunks = 1
    if eval_batch_size is not None:
        if not isinstance(eval_batch_size, int) or eval_batch_size < 1 or pop % eval_batch_size:
            raise ValueError(
                f"eval_batch_size: must be a positive integer dividing the population size "
                f"{pop}, got {eval_batch_size!r}"
            )
        n_chunks = pop // eval_batch_size
        if mesh is not None and eval_batch_size % mesh.size:
            raise ValueError(
                f"eval_batch_size: {eval_batch_size} must be divisible by the mesh size "
                f"{mesh.size} (each chunk is sharded over the devices)"
            )
    if mesh is not None:
        if len(mesh.axis_names) != 1:
            raise ValueError(f"mesh: must be 1-D, got axes {mesh.axis_names}")
        if es.population_size % mesh.size:
            raise ValueError(
                f"population_size: {es.population_size} must be divisible by the mesh size "
                f"{mesh.size} to shard the population axis"
            )
        pop_sharding = jax.sharding.NamedSharding(
            mesh, jax.sharding.PartitionSpec(mesh.axis_names[0])
        )
        if any(t != jax.sharding.AxisType.Auto for t in mesh.axis_types):
            # evosax's internals index the population/fitness, which explicit-mode sharding
            # rejects outside a ``jax.set_mesh`` context; keep it a compiler hint instead.
            raise ValueError(
                "mesh: the population axis must be an Auto axis; build the mesh with "
                "jax.make_mesh((n,), ('pop',), axis_types=(jax.sharding.AxisType.Auto,))"
            )
    # P + 1 lanes would break the mesh's and the chunks' divisibility; only the plain vmap
    # takes the mean as an extra lane
    mean_in_lanes = mesh is None and n_chunks == 1
    vmapped = jax.vmap(problem.evaluate_in, in_axes=(None, 0, None))

    def shard(tree):
        if mesh is None:
            return tree
        return jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, pop_sharding), tree)

    def evaluate_population(key, population, context: EvalContext | None = None):
        context = eval_context(0) if context is None else context
        population = shard(population)
        if n_chunks == 1:
            fitness = vmapped(key, population, context)
        else:
            # chunk j holds candidates j, j + n_chunks, ...: strided, so a population sharded in
            # contiguous blocks keeps every chunk spread over all devices
            chunks = jax.tree.map(
                lambda x: jnp.swapaxes(x.reshape((pop // n_chunks, n_chunks) + x.shape[1:]), 0, 1),
                population,
            )
            # (n_chunks, P / n_chunks)
            fit = jax.lax.map(lambda c: vmapped(key, c, context), chunks)
            fitness = jnp.swapaxes(fit, 0, 1).reshape(pop)
        return shard(jnp.asarray(fitness, jnp.float32))

    def evaluate_with_mean(key, population, mean, context):
        if mean_in_lanes:
            both = jax.tree.map(lambda p, m: jnp.concatenate([p, m[None]]), population, mean)
            fit = jnp.asarray(vmapped(key, both, context), jnp.float32)
            return fit[:-1], fit[-1]
        fitness = evaluate_population(key, population, context)
        return fitness, jnp.asarray(problem.evaluate_in(key, mean, context), jnp.float32)

    def strategy_params(p: ESParams):
        # evosax's own params with the run's std_init (evosax reads it in init only)
        if hasattr(es.params, "std_init"):
            return es.params.replace(std_init=p.std_init)
        return es.params

    def step(state: ESLoopState):
        key, k_ask, k_eval, k_tell = jax.random.split(state.key, 4)
        context = EvalContext(generation=state.generation)
        params = strategy_params(state.params)
        es_state = with_lr(state.es_state, state.params.lr)
        population, es_state = strategy.ask(k_ask, es_state, params)
        if evaluate_mean:
            mean = strategy.get_mean(state.es_state)
            fitness, mean_fitness = evaluate_with_mean(k_eval, population, mean, context)
        else:
            fitness, mean_fitness = evaluate_population(k_eval, population, context), None
        # evosax minimises: hand it sign * fitness (sign = -1 when maximising).
        es_state, _ = strategy.tell(k_tell, population, sign * fitness, es_state, params)
        if std_in_state:
            es_state = es_state.replace(std=state.params.std_init)
        # nan never wins (evosax also treats nan as +inf when minimising)
        score = jnp.where(jnp.isnan(fitness), jnp.inf, sign * fitness)
        i = jnp.argmin(score)
        gen_best = fitness[i]
        improved = sign * gen_best < sign * state.best_fitness
        best_fitness = jnp.where(improved, gen_best, state.best_fitness)
        member = jax.tree.map(lambda x: x[i], population)
        best_solution = jax.tree.map(
            lambda new, old: jnp.where(improved, new, old), member, state.best_solution
        )
        new_state = ESLoopState(
            es_state=es_state,
            params=state.params,
            key=key,
            generation=state.generation + 1,
            best_fitness=best_fitness,
            best_solution=best_solution,
        )
        std = getattr(es_state, "std", None)
        search_std = jnp.nan if std is None else jnp.mean(std)
        metrics = GenerationMetrics(
            generation=new_state.generation,
            fitness_mean=jnp.mean(fitness),
            fitness_std=jnp.std(fitness),
            fitness_best=gen_best,
            fitness_worst=sign * jnp.max(jnp.where(jnp.isnan(fitness), -jnp.inf, sign * fitness)),
            best_fitness=best_fitness,
            search_std=jnp.asarray(search_std, jnp.float32),
            mean_fitness=mean_fitness,
            fitness=fitness,
        )
        return _strong(new_state), _strong(metrics)

    def init(key: jax.Array, mean: Any = None, params: ESParams | None = None) -> ESLoopState:
        mean = problem.template if mean is None else mean
        params = es.default_params if params is None else params
        params = jax.tree.map(lambda x: jnp.asarray(x, jnp.float32), params)
        k_init, key = jax.random.split(key)
        es_state = with_lr(strategy.init(k_init, mean, strategy_params(params)), params.lr)
        if std_in_state:
            es_state = es_state.replace(std=params.std_init)
        worst = jnp.float32(-jnp.inf if problem.maximize else jnp.inf)
        state = ESLoopState(
            es_state=es_state,
            params=params,
            key=key,
            generation=jnp.zeros((), jnp.int32),
            best_fitness=worst,
            best_solution=jax.tree.map(jnp.asarray, mean),
        )
        # Normalise dtypes (and weak types) to the fixed point of ``step``.
        out = jax.eval_shape(lambda s: step(s)[0], state)
        return jax.tree.map(lambda x, s: jnp.asarray(x, dtype=s.dtype), state, out)

    def run_chunk(state: ESLoopState, num_generations: int):
        return jax.lax.scan(lambda s, _: step(s), state, None, length=num_generations)

    def get_mean(state: ESLoopState):
        return strategy.get_mean(state.es_state)

    return ESLoop(init, step, run_chunk, evaluate_population, get_mean, problem, es)


# ----------------------------------------------------------------------------- as a trainer

UNIT = "generation"  # the row key of metrics.jsonl and the unit of checkpoints

# what a host loop watches in an ES run: a generation whose candidates ALL have a non-finite
# fitness (nan never wins, so the generation's best is non-finite only then) stops the run; the
# ES state is broken from there on
ES_HEALTH = HealthChecks(
    nonfinite=None, loss="fitness_best", loss_limit=float("inf"), entropy=None, active=None,
    replay_starved=None, embed_clipped=None, diverged="non-finite fitness_best",
    advice="other ES settings or another seed",
)  # fmt: skip


def generation_metrics(metrics: GenerationMetrics) -> dict[str, jax.Array]:
    """``{name: (G,) array}`` of stacked :class:`GenerationMetrics` (leaves ``(G, ...)``): every
    scalar field but ``generation`` (the host loop counts the unit itself); the population's
    fitness vector is summarised, not kept; ``mean_fitness`` only when the loop evaluates the
    mean. Jittable."""
    out = {}
    for f in dataclasses.fields(GenerationMetrics):
        value = getattr(metrics, f.name)
        if f.name in ("fitness", "generation") or value is None:
            continue
        out[f.name] = value
    return out


def metrics_to_records(metrics: GenerationMetrics) -> list[dict]:
    """Stacked :class:`GenerationMetrics` (leaves ``(G, ...)``) -> one JSON-able dict per
    generation (``generation`` counting from 1 after the step, and the fields of
    :func:`generation_metrics`). Host-only."""
    m = jax.device_get(metrics)
    cols = generation_metrics(m)
    return [
        {
            UNIT: int(np.asarray(m.generation)[g]),
            **{k: float(np.asarray(v)[g]) for k, v in cols.items()},
        }
        for g in range(np.shape(m.generation)[0])
    ]


class ESTrainer(NamedTuple):
    """An ES loop as a trainer of the one host loop (``ued.host.run_trainer``), unit
    ``"generation"``: ``init(key, params=None) -> ESLoopState`` (``params``: an
    :class:`ESParams`, default the ES's); ``run(state, n) -> (state, metrics)`` with the
    :func:`generation_metrics` of ``n`` generations (leaves ``(n,)``). Both jittable and
    vmappable over keys and params (several seeds, or a grid of ES params, in one program).
    ``upgrade_state``: a checkpoint's state dict written before the state carried its params ->
    today's layout (the host loop applies it on resume)."""

    init: Callable[..., ESLoopState]
    run: Callable[[ESLoopState, int], tuple[ESLoopState, dict]]
    loop: ESLoop
    unit: str = UNIT
    env_steps_per_unit: int = 0
    health: HealthChecks = ES_HEALTH
    upgrade_state: Callable[[dict], dict] | None = None


def _fill_missing(stored: Any, fresh: Any) -> Any:
    """``stored`` (a nested state dict) with the entries it lacks taken from ``fresh``: a key it
    does not have, or an empty dict (an optax ``EmptyState``) where ``fresh`` holds state."""
    if not isinstance(fresh, dict) or not isinstance(stored, dict):
        return stored
    if not stored and fresh:
        return fresh
    out = dict(stored)
    for k, v in fresh.items():
        out[k] = _fill_missing(stored[k], v) if k in stored else v
    return out


def es_trainer(loop: ESLoop, mean: Any = None) -> ESTrainer:
    """The ES ``loop`` as a trainer (:class:`ESTrainer`); ``mean``: the initial search mean
    (default: the problem's template)."""

    def init(key: jax.Array, params: ESParams | None = None) -> ESLoopState:
        return loop.init(key, mean, params)

    def run(state: ESLoopState, n: int):
        state, metrics = loop.run_chunk(state, n)
        return state, generation_metrics(metrics)

    def upgrade_state(stored: dict) -> dict:
        # a run's checkpoints from before ESParams: it ran at the ES's default params, and its
        # optimizer state lacks the rate slot; both come from a fresh state of the same run
        if "params" in stored or not isinstance(stored.get("es_state"), dict):
            return stored
        from flax import serialization

        fresh = jax.device_get(jax.jit(loop.init)(jax.random.key(0), mean))
        out = dict(stored, params=serialization.to_state_dict(fresh.params))
        out["es_state"] = _fill_missing(
            stored["es_state"], serialization.to_state_dict(fresh.es_state)
        )
        return out

    return ESTrainer(init, run, loop, upgrade_state=upgrade_state)


__all__ = [
    "ES",
    "ES_HEALTH",
    "ESConfig",
    "ESLoop",
    "ESLoopState",
    "ESParams",
    "ESTrainer",
    "EvalContext",
    "GenerationMetrics",
    "Problem",
    "STRATEGIES",
    "UNIT",
    "auto_eval_batch_size",
    "canonical_strategy",
    "es_params",
    "es_trainer",
    "eval_context",
    "generation_metrics",
    "make_es",
    "make_es_from_config",
    "make_es_loop",
    "metrics_to_records",
]
