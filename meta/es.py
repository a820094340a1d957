"""Evolution-strategy core on evosax 0.3: problems with an explicit direction, a scanned
generation loop, data-only checkpoints and a host loop.

The pieces:

* :class:`Problem` -- a candidate template, a per-candidate ``evaluate(key, candidate)`` (or
  ``evaluate(key, candidate, context)`` with an :class:`EvalContext` holding the generation
  index, for fitness functions that change over the run: curricula, alternating inner learners)
  and an explicit ``maximize`` flag. evosax always minimises; :func:`make_es_loop` negates when
  ``maximize=True`` so that the higher fitness wins.
* :func:`make_es` -- any supported evosax strategy by name with its hyperparameters set
  explicitly (evosax's default ``std_init`` is 1.0, far too wide for most problems).
* :func:`make_es_loop` -- ``init`` / ``step`` / ``run_chunk`` pure functions. One generation is
  ``ask -> evaluate (whole population in one vmapped program, one shared key: common random
  numbers) -> tell``, optionally also evaluating the search mean (``evaluate_mean``).
  ``run_chunk`` is ``lax.scan`` over generations.
* :func:`run_es` -- host loop: runs chunks and, given a run directory, keeps it through the
  run layer (``ued.host``): lock, ``config.json``, ``metrics.jsonl`` rows (with per-record
  annotations), checksummed checkpoints with fallback, resume that trims rows past the
  checkpoint and continues bitwise; :func:`check_es_resume` is the resume rule.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from ued.host import (
    CONFIG_FILE,
    HealthChecks,
    Loggers,
    MetricsFile,
    ResumeError,
    RunExists,
    RunLock,
    TrainingDiverged,
    WarningChannel,
    atomic_write_text,
    check_resume,
    ensure_dir,
    holds_run,
    jsonable,
    load_latest_checkpoint,
    provenance,
    read_config,
    save_checkpoint,
    write_json,
)
from ued.host.loop import check_health, diverged_message, warning_text

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


class ES(NamedTuple):
    """An evosax strategy with explicit hyperparameters (see :func:`make_es`)."""

    name: str
    strategy: Any  # the evosax algorithm instance (its methods are already jitted)
    params: Any  # evosax ``Params`` (flax struct)
    population_size: int


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
    if name == "Open_ES":
        strategy = ea.Open_ES(
            population_size=population_size,
            solution=solution,
            optimizer=optax.adam(0.05 if lr is None else lr),
            std_schedule=optax.constant_schedule(float(std_init)),
        )
        params = strategy.default_params
    elif name == "SNES":
        strategy = ea.SNES(
            population_size=population_size,
            solution=solution,
            optimizer=optax.sgd(1.0 if lr is None else lr),
        )
        params = strategy.default_params.replace(std_init=float(std_init))
    elif name == "PGPE":
        from evosax.core.optimizer import clipup

        lr_ = 0.05 if lr is None else lr
        strategy = ea.PGPE(
            population_size=population_size,
            solution=solution,
            optimizer=clipup(lr_, max_velocity=2.0 * lr_),
        )
        params = strategy.default_params.replace(std_init=float(std_init))
    else:  # CMA_ES, Sep_CMA_ES
        strategy = getattr(ea, name)(population_size=population_size, solution=solution)
        params = strategy.default_params.replace(std_init=float(std_init))
    return ES(name, strategy, params, population_size)


def make_es_from_config(config: ESConfig, solution: Any) -> ES:
    """:func:`make_es` from an :class:`ESConfig`."""
    return make_es(
        config.strategy,
        config.population_size,
        solution,
        std_init=config.std_init,
        lr=config.lr,
    )


@struct.dataclass
class ESLoopState:
    """Everything one ES run carries from generation to generation."""

    es_state: Any  # evosax State (flax struct); internally in evosax's minimising sign
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

    * ``init(key, mean=None) -> ESLoopState``: ``mean`` defaults to ``problem.template``.
      The state's leaf dtypes are normalised to those the step produces, so a jitted step
      compiles once.
    * ``step(state) -> (state, GenerationMetrics)``: one generation, evaluated in context
      ``EvalContext(state.generation)``.
    * ``run_chunk(state, num_generations) -> (state, GenerationMetrics stacked over G)``:
      ``lax.scan`` of ``step`` (``num_generations`` static).
    * ``evaluate_population(key, population, context=None) -> float32[P]``: vmapped
      ``evaluate`` with one shared key and context (default generation 0; sharded over
      ``mesh`` if given).
    * ``get_mean(state) -> candidate``: the search distribution's mean.
    """
    strategy, params = es.strategy, es.params
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

    def step(state: ESLoopState):
        key, k_ask, k_eval, k_tell = jax.random.split(state.key, 4)
        context = EvalContext(generation=state.generation)
        population, es_state = strategy.ask(k_ask, state.es_state, params)
        if evaluate_mean:
            mean = strategy.get_mean(state.es_state)
            fitness, mean_fitness = evaluate_with_mean(k_eval, population, mean, context)
        else:
            fitness, mean_fitness = evaluate_population(k_eval, population, context), None
        # evosax minimises: hand it sign * fitness (sign = -1 when maximising).
        es_state, _ = strategy.tell(k_tell, population, sign * fitness, es_state, params)
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

    def init(key: jax.Array, mean: Any = None) -> ESLoopState:
        mean = problem.template if mean is None else mean
        k_init, key = jax.random.split(key)
        es_state = strategy.init(k_init, mean, params)
        worst = jnp.float32(-jnp.inf if problem.maximize else jnp.inf)
        state = ESLoopState(
            es_state=es_state,
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


# ----------------------------------------------------------------------------- host loop

UNIT = "generation"  # the row key of metrics.jsonl and the unit of checkpoints

# what run_es watches by default: a generation whose candidates ALL have a non-finite fitness
# (nan never wins, so the generation's best is non-finite only then) stops the run; the ES
# state is broken from there on
ES_HEALTH = HealthChecks(
    nonfinite=None, loss="fitness_best", loss_limit=float("inf"), entropy=None, active=None
)


def metrics_to_records(metrics: GenerationMetrics) -> list[dict]:
    """Stacked :class:`GenerationMetrics` (leaves ``(G, ...)``) -> one JSON-able dict per
    generation (the population fitness vector is summarised, not stored; ``mean_fitness`` only
    when the loop evaluates the mean). Host-only."""
    m = jax.device_get(metrics)
    records = []
    for g in range(np.shape(m.generation)[0]):
        rec = {}
        for f in dataclasses.fields(GenerationMetrics):
            value = getattr(m, f.name)
            if f.name == "fitness" or value is None:
                continue
            v = np.asarray(value)[g]
            rec[f.name] = int(v) if f.name == "generation" else float(v)
        records.append(rec)
    return records


def _flat(config: dict, prefix: str = "") -> dict:
    # nested sections compare field by field, so a refusal names the one field that changed
    out = {}
    for k, v in config.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def check_es_resume(
    run_dir: str | os.PathLike,
    config: dict,
    may_change: Collection[str] = (),
    describe: Callable[[str], str] = str,
) -> dict:
    """Read ``RUN_DIR/config.json`` and refuse ``config`` if it differs from it in anything but
    ``may_change``. Nested objects are compared field by field under dotted names
    (``"run.generations"``); ``describe`` turns such a name into what the user typed (a flag).
    Returns the stored config. Raises ``ConfigFileError`` / ``ResumeError`` (one line each).
    Host-only."""
    stored = read_config(run_dir)
    check_resume(_flat(stored), _flat(config), may_change, describe)
    return stored


def run_es(
    loop: ESLoop,
    state: ESLoopState,
    num_generations: int,
    *,
    run_dir: str | os.PathLike | None = None,
    config: dict | None = None,
    resume: bool = False,
    chunk_size: int = 10,
    checkpoint_every: int = 1,
    keep_checkpoints: int = 3,
    callback: Callable[[ESLoopState, list[dict]], dict | None] | None = None,
    annotate: Callable[[dict], dict | None] | None = None,
    on_resume: Callable[[ESLoopState], None] | None = None,
    progress: bool = True,
    run_chunk: Callable | None = None,
    write: Callable[[str], None] | None = None,
    metrics_path: str | os.PathLike | None = None,
    log_backends: tuple[str, ...] = (),
    health: HealthChecks | None = ES_HEALTH,
) -> tuple[ESLoopState, list[dict]]:
    """Run ``loop`` from ``state`` until ``num_generations`` generations are done (host-only).

    Chunk boundaries are absolute multiples of ``chunk_size``, so a run resumed from any
    checkpoint follows the same chunks and reaches the bitwise same state as an uninterrupted
    one.

    With a ``run_dir`` the run layer (``ued.host``) keeps the run directory: the directory is
    locked while the run writes; a fresh run (refused if ``run_dir`` already holds one) writes
    ``config.json`` (``config``), ``provenance.json``, an empty ``metrics.jsonl`` and a
    checkpoint of ``state``; after each chunk its records are appended to ``metrics.jsonl``, and
    every ``checkpoint_every`` chunks (and at the end) the state is saved as a checksummed
    checkpoint (``RUN_DIR/checkpoints``, newest ``keep_checkpoints`` kept). With ``resume``
    the state is the newest checkpoint that reads (``state`` is only its template; corrupted
    ones are skipped with a warning), rows past it are removed from ``metrics.jsonl`` (a crash
    between the checkpoint and the metrics write never duplicates a generation) and
    ``config.json`` is left as it is (check the new configuration first:
    :func:`check_es_resume`); ``on_resume(state)`` then runs before the first chunk.

    Records: one per generation, ``generation`` counting from 1. When the loop evaluates the
    mean (``make_es_loop(..., evaluate_mean=True)``) and the run starts at generation 0, a
    record ``{"generation": 0, "mean_fitness": ...}`` comes first: the initial mean's fitness
    (the same evaluation generation 1 reports), so a curve of the mean starts where the search
    starts.

    Hooks:
      annotate: ``annotate(record)`` returns fields merged into EVERY record, the
        generation-0 record included (e.g. host-side facts of that generation's fitness).
        Record ``g >= 1`` was evaluated in ``EvalContext(generation=g - 1)``; the
        generation-0 record in ``EvalContext(generation=0)``.
      callback: ``callback(state, records)`` after each chunk may return extra fields merged
        into the LAST record of the chunk (e.g. a costly evaluation of the mean).
      run_chunk: optionally a pre-jitted ``loop.run_chunk`` to share compilations.
      write: where messages go (default: stderr); warnings go there once each.
      metrics_path: without a ``run_dir``, append the records to this JSON-lines file (the run
        layer's row format) and keep nothing else (no checkpoints, config or lock).
      log_backends: with a ``run_dir``, extra loggers (``"tensorboard"``, ``"wandb"``; the run
        layer's ``ued.host.Loggers``) that receive every record.
      health: what to watch in the records (``ued.host.HealthChecks`` over record keys; default
        :data:`ES_HEALTH`: every candidate of a generation non-finite). A non-finite ``loss``
        metric (or a nonzero ``nonfinite`` one) stops the run with ``TrainingDiverged`` after
        writing the records up to that generation; ``loss`` above ``loss_limit`` and
        ``entropy`` below ``entropy_floor`` are warnings, printed once and recorded under
        ``"warnings"`` in that record. ``None``: nothing is watched.

    Returns ``(final_state, records of this call)``. Raises ``ValueError`` for bad arguments
    and :class:`ued.host.RunError`\\ s (``RunExists``, ``RunLocked``, ``ResumeError``,
    ``ConfigFileError``, ``CheckpointError``, ``RunFileError``) with one line each; refusals
    happen before anything is written.
    """
    for name, v in (
        ("num_generations", num_generations),
        ("chunk_size", chunk_size),
        ("checkpoint_every", checkpoint_every),
        ("keep_checkpoints", keep_checkpoints),
    ):
        lo = 0 if name == "num_generations" else 1
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
    if run_chunk is None:
        run_chunk = jax.jit(loop.run_chunk, static_argnums=1)
    write = write or (lambda m: print(m, file=sys.stderr))
    if run_dir is None:
        rows = None
        if metrics_path is not None:
            rows = MetricsFile(Path(metrics_path).parent)
            rows.path = Path(metrics_path)
        try:
            return _generations(
                loop, state, num_generations, None if rows is None else (None, rows), chunk_size,
                checkpoint_every, keep_checkpoints, callback, annotate, progress, run_chunk,
                health, WarningChannel(write), None,
            )  # fmt: skip
        finally:
            if rows is not None:
                rows.close()
    if metrics_path is not None:
        raise ValueError("metrics_path: give either run_dir or metrics_path, not both")
    run_dir = Path(run_dir)
    channel = WarningChannel(write)
    if resume:
        read_config(run_dir)  # a clear error for a missing or broken run directory
    elif holds_run(run_dir):
        raise RunExists(f"{run_dir} already holds a run; resume it or choose another directory")
    ensure_dir(run_dir)
    metrics = MetricsFile(run_dir)
    loggers = None
    with RunLock(run_dir, warn=channel):
        try:
            # loggers first: a missing backend fails before anything is written
            loggers = Loggers(run_dir, tuple(log_backends), config or {}, UNIT)
            if resume:
                gen, state, path = load_latest_checkpoint(run_dir, state, warn=channel)
                if gen > num_generations:
                    raise ResumeError(
                        f"{run_dir} is at {UNIT} {gen} ({path.name}); a resumed run cannot end "
                        f"before that: give a run length of at least {gen} {UNIT}s"
                    )
                write(f"resuming {run_dir} from {path.name} ({UNIT} {gen})")
                metrics.truncate_after(UNIT, gen)
                write_json(run_dir / f"provenance_resume_{gen}.json", provenance())
                if on_resume is not None:
                    on_resume(state)
            else:
                # the files first: a directory that cannot be written fails before compiling
                write_json(run_dir / CONFIG_FILE, {} if config is None else config)
                metrics.create()
                write_json(run_dir / "provenance.json", provenance())
                save_checkpoint(run_dir, int(state.generation), state, keep_checkpoints)
            return _generations(
                loop, state, num_generations, (run_dir, metrics), chunk_size, checkpoint_every,
                keep_checkpoints, callback, annotate, progress, run_chunk, health, channel,
                loggers,
            )  # fmt: skip
        finally:
            metrics.close()
            if loggers is not None:
                loggers.close()


def _check_records(recs: list[dict], hc: HealthChecks | None, channel) -> int | None:
    """Index of the first record that stops the run (``None``: none), by the run layer's one
    health check (``ued.host.loop.check_health``); warnings go to ``channel`` once each and
    into the record they concern."""
    if hc is None:
        return None
    # the initial mean's record (generation 0: nothing ran yet) is not checked
    idx = [i for i, r in enumerate(recs) if r[UNIT] != 0]
    if not idx:
        return None
    keys = {k for k in (hc.nonfinite, hc.loss, hc.entropy, hc.active) if k}
    cols = {
        k: np.array([np.nan if recs[i].get(k) is None else float(recs[i][k]) for i in idx])
        for k in keys
        if any(k in recs[i] for i in idx)
    }
    first_bad, _, found = check_health(cols, len(idx), False, hc)
    for j, name, _, value, extra in found:
        r = recs[idx[j]]
        if channel.warn(name, warning_text(name, UNIT, r[UNIT], "", value, hc, extra)):
            r.setdefault("warnings", {}).update(channel.take())
    return None if first_bad is None else idx[first_bad]


def _diverged(run_dir, g_bad: int, hc: HealthChecks) -> TrainingDiverged:
    msg, cp, cu = diverged_message(
        None if run_dir is None else Path(run_dir), UNIT, g_bad,
        what=f"non-finite {hc.loss or hc.nonfinite}",
        advice="other ES settings or another seed",
    )  # fmt: skip
    return TrainingDiverged(msg, unit=g_bad, checkpoint=cp, checkpoint_unit=cu)


def _generations(
    loop, state, num_generations, out, chunk_size, checkpoint_every, keep, callback, annotate,
    progress, run_chunk, health, channel, loggers,
):  # fmt: skip
    gen = int(state.generation)
    records: list[dict] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=num_generations, initial=min(gen, num_generations), unit="gen")
    chunks = 0
    try:
        while gen < num_generations:
            stop = min(num_generations, (gen // chunk_size + 1) * chunk_size)
            state, metrics = run_chunk(state, stop - gen)
            recs = metrics_to_records(metrics)
            if gen == 0 and "mean_fitness" in recs[0]:
                recs.insert(0, {UNIT: 0, "mean_fitness": recs[0]["mean_fitness"]})
            if annotate is not None:
                for r in recs:
                    r.update(annotate(r) or {})
            bad = _check_records(recs, health, channel)
            if bad is not None:
                recs = recs[: bad + 1]
                run_dir = out[0] if out is not None else None
                if out is not None:
                    out[1].append(recs)
                if loggers is not None:
                    for r in recs:
                        loggers.log(jsonable(r))
                err = _diverged(run_dir, recs[-1][UNIT], health)
                if run_dir is not None:
                    try:
                        atomic_write_text(Path(run_dir) / "error.txt", str(err) + "\n")
                    except OSError:
                        pass  # the divergence is the error to report
                raise err
            if callback is not None:
                extra = callback(state, recs)
                if extra:
                    recs[-1].update(extra)
            chunks += 1
            gen = stop
            if out is not None:
                run_dir, metrics_file = out
                metrics_file.append(recs)
                if loggers is not None:
                    for r in recs:
                        loggers.log(jsonable(r))
                if run_dir is not None and (
                    chunks % checkpoint_every == 0 or gen >= num_generations
                ):
                    save_checkpoint(run_dir, gen, state, keep)
            records.extend(recs)
            if bar is not None:
                bar.update(len([r for r in recs if r[UNIT] > 0]))
                bar.set_postfix(mean=f"{recs[-1].get('fitness_mean', float('nan')):.4g}")
    finally:
        if bar is not None:
            bar.close()
    return state, records
