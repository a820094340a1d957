"""A run directory for any ``ued.make_train`` trainer, from Python (a notebook, a script).

``openued train`` builds its presets and calls the same pieces: :func:`seed_keys`,
:func:`jit_trainer` and :func:`~ued.host.loop.run_training`. Host only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from ued.host.loop import HostConfig, run_training
from ued.host.snapshots import make_level_snapshot


def seed_keys(seed: int, num_seeds: int) -> jax.Array:
    """Typed PRNG keys for seeds ``seed .. seed + num_seeds - 1``: one key (shape ``()``) for
    one seed, else shape ``(num_seeds,)``. Seed ``s`` gets ``jax.random.key(s)`` either way, so a
    seed trained alone or inside a batch starts from the same key."""
    if num_seeds == 1:
        return jax.random.key(seed)
    return jax.vmap(jax.random.key)(jnp.arange(seed, seed + num_seeds))


def jit_trainer(trainer: Any, num_seeds: int = 1) -> tuple[Callable, Callable]:
    """``(init(keys) -> state, run(state, n) -> (state, metrics))``, jitted; vmapped over a
    leading seed axis when ``num_seeds > 1`` (``n`` static). ``trainer``: a ``ued.Trainer``."""
    if num_seeds == 1:
        return jax.jit(trainer.init), jax.jit(trainer.run, static_argnums=1)
    init = jax.jit(jax.vmap(trainer.init))
    run = jax.jit(jax.vmap(trainer.run, in_axes=(0, None)), static_argnums=1)
    return init, run


def run_trainer(
    run_dir: str | Path,
    trainer: Any,
    num_updates: int,
    *,
    seed: int = 0,
    num_seeds: int = 1,
    config: dict | None = None,
    curriculum: Any = None,
    space: Any = None,
    evaluate: Callable[[Any], dict] | None = None,
    resume: bool = False,
    host: HostConfig | None = None,
    write: Callable[[str], None] | None = None,
) -> Any:
    """Train ``trainer`` into the run directory ``run_dir`` and return the final state.

    The run gets everything ``openued train`` gives its presets: ``config.json``, provenance,
    ``metrics.jsonl`` (one row per update; per-seed lists with ``num_seeds > 1``), checksummed
    checkpoints, exact resume (``resume=True`` continues from the newest good checkpoint), a lock,
    the NaN stop and, when ``curriculum`` (and optionally ``space``, for descriptors) is given and
    holds levels, a snapshot of its levels at each evaluation.

    Args:
      run_dir: the run directory (must not hold a run unless ``resume``).
      trainer: a ``ued.Trainer`` from ``ued.make_train``.
      num_updates: total updates of the run.
      seed: the first seed; seeds ``seed .. seed + num_seeds - 1`` train in one vmapped program.
      config: a JSON object describing the run, stored as ``config.json`` with
        ``num_updates`` added (default: the trainer config's fields and the seeds). A resume
        must describe the same run; only ``num_updates`` may change.
      curriculum, space: for level snapshots (optional).
      evaluate: ``state -> {name: value or per-seed list}`` logged under ``eval/``.
      host: chunking, checkpoints, evaluation schedule, progress (default ``HostConfig``
        with ``num_updates``); its ``num_updates`` is replaced by the argument.
    """
    import dataclasses

    host = HostConfig(num_updates=num_updates) if host is None else dataclasses.replace(
        host, num_updates=num_updates
    )
    cfg = trainer.config
    if config is None:
        config = {"trainer": dataclasses.asdict(cfg), "seed": seed, "num_seeds": num_seeds}
    config = {**config, "num_updates": num_updates}
    init, run = jit_trainer(trainer, num_seeds)
    keys = seed_keys(seed, num_seeds)
    snapshot = None
    if curriculum is not None:
        snapshot = make_level_snapshot(curriculum, space, batched=num_seeds > 1)
    return run_training(
        run_dir,
        lambda: init(keys),
        run,
        host,
        config=config,
        env_steps_per_update=cfg.num_envs * cfg.num_steps,
        num_seeds=num_seeds,
        resume=resume,
        may_change=("num_updates",),
        evaluate=evaluate,
        snapshot=snapshot,
        write=write,
    )
