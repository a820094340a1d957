"""The one driver from a trainer to a run directory, for any trainer. Host only.

A *trainer* is any object with

* ``init(key) -> state``: a fresh state for one seed (jittable);
* ``run(state, n) -> (state, metrics)``: ``n`` (static) units in one compiled call, ``metrics``
  a dict of arrays with a leading ``(n,)`` axis (jittable);
* ``unit``: the name of one step, ``"update"`` (the default when absent) or ``"generation"``;
* optionally ``env_steps_per_unit`` (for the ``env_steps`` column; a ``ued.Trainer`` derives it
  from its config), ``health`` (a ``HealthChecks`` of its metric names) and ``upgrade_state``
  (``state dict -> state dict``: its checkpoints of an older state layout, read on resume).

``ued.make_train``'s ``Trainer`` is one (unit ``update``), and so is ``meta.es.es_trainer(loop)``
(unit ``generation``). :func:`run_trainer` jits ``init`` and ``run`` (vmapped over a leading seed
axis for several seeds) and hands them to the chunked host loop
(:func:`~ued.host.loop.run_training`); ``openued`` runs every kind of run through it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from ued.host.devices import leading_axis_sharding, plan_devices
from ued.host.loop import HostConfig, run_training
from ued.host.snapshots import make_level_snapshot


def seed_keys(seed: int, num_seeds: int, batched: bool | None = None) -> jax.Array:
    """Typed PRNG keys for seeds ``seed .. seed + num_seeds - 1``: one key (shape ``()``) for
    one seed, else shape ``(num_seeds,)`` (also for one seed with ``batched=True``). Seed ``s``
    gets ``jax.random.key(s)`` either way, so a seed trained alone or inside a batch starts from
    the same key."""
    if not (num_seeds > 1 if batched is None else batched):
        return jax.random.key(seed)
    return jax.vmap(jax.random.key)(jnp.arange(seed, seed + num_seeds))


def jit_trainer(
    trainer: Any,
    num_seeds: int = 1,
    batched: bool | None = None,
    mesh: jax.sharding.Mesh | None = None,
) -> tuple[Callable, Callable]:
    """``(init(keys) -> state, run(state, n) -> (state, metrics))``, jitted; vmapped over a
    leading seed axis when ``num_seeds > 1`` or ``batched`` (``n`` static). ``trainer``: any
    trainer (see the module docstring).

    ``mesh``: a 1-D mesh (``ued.host.devices.axis_mesh``) to shard the seed axis over: every
    leaf of the state and the metrics is split along its leading (seed) axis, and a state
    given as host arrays (a checkpoint) is placed on the mesh. Seeds are independent, so the
    sharded program computes what the unsharded one does."""
    if not (num_seeds > 1 if batched is None else batched):
        if mesh is not None and mesh.size > 1:
            raise ValueError("jit_trainer: a mesh shards the seed axis; this run has none")
        return jax.jit(trainer.init), jax.jit(trainer.run, static_argnums=1)
    shard: dict[str, Any] = {}
    if mesh is not None and mesh.size > 1:
        if num_seeds % mesh.size:
            raise ValueError(
                f"jit_trainer: {num_seeds} seeds do not split over {mesh.size} devices"
            )
        sh = leading_axis_sharding(mesh)
        shard = dict(in_shardings=(sh,), out_shardings=sh)
    init = jax.jit(jax.vmap(trainer.init), **shard)
    run = jax.jit(jax.vmap(trainer.run, in_axes=(0, None)), static_argnums=1, **shard)
    return init, run


def trainer_unit(trainer: Any) -> str:
    """The unit of one step of ``trainer`` (``"update"`` when it declares none)."""
    return getattr(trainer, "unit", None) or "update"


def env_steps_per_unit(trainer: Any) -> int:
    """Env steps one unit of ``trainer`` takes: its ``env_steps_per_unit``, else ``num_envs x
    num_steps x hold_updates`` of its ``config`` (a ``ued.Trainer``: one update plays its
    proposal for ``hold_updates`` rollouts), else 0 (no ``env_steps`` column)."""
    n = getattr(trainer, "env_steps_per_unit", None)
    if n is not None:
        return int(n)
    cfg = getattr(trainer, "config", None)
    if cfg is not None and hasattr(cfg, "num_envs") and hasattr(cfg, "num_steps"):
        hold = int(getattr(cfg, "hold_updates", 1))
        return int(cfg.num_envs) * int(cfg.num_steps) * hold
    return 0


def default_config(trainer: Any, seed: int, num_seeds: int) -> dict:
    """The ``config.json`` of a run written from Python: ``"kind": "python"``, the trainer's
    static config (when it is a dataclass) and the seeds."""
    out: dict[str, Any] = {"kind": "python", "unit": trainer_unit(trainer)}
    cfg = getattr(trainer, "config", None)
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        out["trainer"] = dataclasses.asdict(cfg)
    out.update(seed=seed, num_seeds=num_seeds)
    return out


def run_trainer(
    run_dir: str | Path,
    trainer: Any,
    num_updates: int,
    *,
    seed: int = 0,
    num_seeds: int = 1,
    keys: jax.Array | None = None,
    config: dict | None = None,
    curriculum: Any = None,
    space: Any = None,
    evaluate: Callable[[Any], dict] | None = None,
    snapshot: Callable[[Any], dict] | None = None,
    annotate: Callable[[dict], dict | None] | None = None,
    resume: bool = False,
    may_change: Collection[str] | None = ("num_updates",),
    host: HostConfig | None = None,
    write: Callable[[str], None] | None = None,
    programs: tuple[Callable, Callable] | None = None,
    batched: bool | None = None,
    devices: int | None = None,
    split_rows: Callable[[list[dict]], list[dict]] | None = None,
) -> Any:
    """Train ``trainer`` into the run directory ``run_dir`` and return the final state.

    The run gets everything ``openued train`` gives its runs: ``config.json`` (with the run
    format), provenance, ``metrics.jsonl`` (one row per unit; per-seed lists with
    ``num_seeds > 1``), checksummed checkpoints, exact resume (``resume=True`` continues from the
    newest good checkpoint), a lock, the health checks and, when ``curriculum`` (and
    optionally ``space``, for descriptors) is given and holds levels, a snapshot of its levels at
    each evaluation.

    Args:
      run_dir: the run directory (must not hold a run unless ``resume``).
      trainer: any trainer (module docstring): a ``ued.Trainer``, ``meta.es.es_trainer(loop)``.
      num_updates: total units of the run (updates or generations).
      seed: the first seed; seeds ``seed .. seed + num_seeds - 1`` train in one vmapped program.
      keys: the initial keys instead of ``seed_keys(seed, num_seeds)`` (leading seed axis
        when ``num_seeds > 1``).
      config: a JSON object describing the run, stored as ``config.json`` (default: "kind"
        ``python``, the trainer's config, the seeds and ``num_updates``). A resume must describe
        the same run; only the keys in ``may_change`` may differ (``None``: not compared).
      curriculum, space: for level snapshots (optional; ``snapshot`` replaces them).
      evaluate: ``state -> {name: value or per-seed list}`` logged under ``eval/``.
      snapshot: ``state -> dict of arrays`` written to ``RUN_DIR/levels/`` at each evaluation.
      annotate: ``row -> dict`` of host-side fields merged into every metrics row.
      host: chunking, checkpoints, evaluation schedule, progress, health checks (default
        ``HostConfig`` with the trainer's ``health`` when it has one); its ``num_updates`` is
        replaced by the argument.
      programs: already jitted ``(init, run)`` of the trainer (e.g. cached between runs of one
        process), instead of :func:`jit_trainer`'s.
      batched: keep a leading seed axis even for one seed (default: ``num_seeds > 1``).
      devices: local devices to shard the seed axis over (``ued.host.devices``; ``None``: the
        most that divide ``num_seeds``). Ignored when ``programs`` are given (they carry their
        own sharding).
      split_rows: ``rows -> rows`` before they are written (a sweep's one row per
        configuration: ``ued.sweep.split_lane_rows``).
    """
    batched = num_seeds > 1 if batched is None else bool(batched)
    if host is None:
        health = getattr(trainer, "health", None)
        host = HostConfig(num_updates=num_updates, **({"health": health} if health else {}))
    else:
        host = dataclasses.replace(host, num_updates=num_updates)
    if config is None:
        config = {**default_config(trainer, seed, num_seeds), "num_updates": num_updates}
    if programs is None:
        mesh = plan_devices(devices, num_seeds if batched else 1).mesh()
        programs = jit_trainer(trainer, num_seeds, batched, mesh=mesh)
    init, run = programs
    keys = seed_keys(seed, num_seeds, batched) if keys is None else keys
    if snapshot is None and curriculum is not None:
        snapshot = make_level_snapshot(curriculum, space, batched=batched)
    return run_training(
        run_dir,
        lambda: init(keys),
        run,
        host,
        config=config,
        env_steps_per_update=env_steps_per_unit(trainer),
        num_seeds=num_seeds,
        resume=resume,
        may_change=may_change,
        evaluate=evaluate,
        snapshot=snapshot,
        write=write,
        unit=trainer_unit(trainer),
        annotate=annotate,
        batched=batched,
        split_rows=split_rows,
        upgrade=getattr(trainer, "upgrade_state", None),
    )


__all__ = [
    "default_config",
    "env_steps_per_unit",
    "jit_trainer",
    "run_trainer",
    "seed_keys",
    "trainer_unit",
]
