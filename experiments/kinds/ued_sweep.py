"""``openued train --sweep``: the grid of a ``ued`` run's configuration (``ued.sweep``).
Host only."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from experiments import options as O


def sweeps_of(cfg: Any) -> list[tuple[str, tuple[float, ...]]]:
    """The ``--sweep`` tokens of ``cfg`` as ``[(field, values)]`` (a repeated flag's values are
    joined by commas, so a token with ``=`` starts the next field). Raises ``ConfigError``."""
    from ued.sweep import parse_sweep

    groups: list[list[str]] = []
    for tok in cfg.sweep:
        if "=" in tok or not groups:
            groups.append([tok])
        else:
            groups[-1].append(tok)
    return [parse_sweep(",".join(g)) for g in groups]


def num_configs(cfg: Any) -> int:
    """Configurations of the run's grid (1 without ``--sweep``)."""
    n = 1
    for _, values in sweeps_of(cfg):
        n *= len(values)
    return n


def num_lanes(cfg: Any) -> int:
    """Lanes of the run's one program: configurations x seeds."""
    return num_configs(cfg) * cfg.num_seeds


def sweep_grid(cfg: Any, trainer: Any, validate: Callable[[Any], Any]):
    """The ``ued.sweep.Grid`` of ``cfg``'s ``--sweep`` over ``trainer``'s default params, each
    value checked by ``validate`` (the kind's) as the option of the same name would be. Raises
    ``ConfigError``."""
    from ued.sweep import make_grid

    if getattr(trainer, "default_params", None) is None:
        raise O.ConfigError(
            f"--sweep: the {cfg.curriculum} trainer takes no params pytree at init, so it "
            "cannot be swept in one program (sweeps need a ued.make_train trainer)"
        )
    sweeps = sweeps_of(cfg)
    grid = make_grid(trainer.default_params, sweeps, static=[f.name for f in dataclasses.fields(cfg)])
    for name, values in sweeps:
        field = name.replace("-", "_")
        if field in {f.name for f in dataclasses.fields(cfg)}:
            for v in values:
                validate(dataclasses.replace(cfg, **{field: type(getattr(cfg, field))(v)}))
    return grid


def sweep_lanes(cfg: Any, trainer: Any, validate: Callable[[Any], Any]):
    """``(lanes, split_rows)`` of a sweep run: what its ``init`` is vmapped over (configuration
    ``c``, seed ``s`` in lane ``c * K + s``) and the splitter of its metrics rows (one row per
    configuration)."""
    import functools

    from ued.host import seed_keys
    from ued.sweep import lane_inputs, split_lane_rows

    grid = sweep_grid(cfg, trainer, validate)
    lanes = lane_inputs(seed_keys(cfg.seed, cfg.num_seeds, batched=True), grid)
    return lanes, functools.partial(split_lane_rows, configs=grid.configs, k=cfg.num_seeds)


__all__ = ["num_configs", "num_lanes", "sweep_grid", "sweep_lanes", "sweeps_of"]
