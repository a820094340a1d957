"""Hyperparameter sweeps in one program: a grid over dynamic (``*Params``) fields, crossed with
seeds, compiled once and run as one vmapped (and shardable) axis of *lanes*.

A run's dynamic numbers live in its params pytree (``ued.TrainParams``: PPO's, the curriculum's
and the env's), which ``trainer.init(key, params)`` takes and the state carries, so a grid of
them is one more vmapped input: lane ``c * K + s`` trains configuration ``c`` with seed
``seed + s`` (``K`` seeds), from exactly the key and params the individual run of that
configuration and seed would start from. A static field (one that changes shapes or code:
``num_envs``, the network, the buffer's capacity, ...) cannot be swept in one program and is
refused, naming the fields that can.

Python::

    from ued.sweep import make_grid, sweep_trainer, lane_inputs
    grid = make_grid(trainer.default_params, [("lr", [1e-4, 3e-4]),
                                              ("staleness_coef", [0.1, 0.3])])
    lanes = lane_inputs(seed_keys(0, 2, batched=True), grid)      # 4 configs x 2 seeds
    init = jax.jit(jax.vmap(sweep_trainer(trainer).init))           # one compilation
    state = init(lanes)

``openued train ... --sweep lr=1e-4,3e-4 --sweep staleness_coef=0.1,0.3`` does the same and
writes one ``metrics.jsonl`` row per configuration per update (:func:`split_lane_rows`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ued.options import ConfigError
from ued.train import strongly_typed


class Grid(NamedTuple):
    """A grid of configurations.

    Attributes:
      params: the params pytree with a leading ``(C,)`` axis on every leaf.
      configs: ``C`` dicts ``{field: value}`` of the swept values, in grid order (the first
        sweep varies slowest).
      fields: the swept fields, as given (``"lr"``, ``"curriculum.staleness_coef"``).
    """

    params: Any
    configs: tuple[dict[str, float], ...]
    fields: tuple[str, ...]


class Lanes(NamedTuple):
    """What one lane's ``init`` takes: its key and its params (leading ``(C*K,)`` axis)."""

    key: jax.Array
    params: Any


def _is_struct(x: Any) -> bool:
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


def sweepable_fields(params: Any) -> dict[str, tuple[str, ...]]:
    """Every scalar leaf of a params pytree of dataclasses, by qualified name
    (``"ppo.lr"``: path ``("ppo", "lr")``) and, where the last name is unique, by that name
    too (``"lr"``)."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            p = (*path, f.name)
            if _is_struct(v):
                walk(v, p)
            elif v is not None and np.ndim(v) == 0 and not _is_key(v):
                out[".".join(p)] = p

    if _is_struct(params):
        walk(params, ())
    last: dict[str, list[tuple[str, ...]]] = {}
    for p in list(out.values()):
        last.setdefault(p[-1], []).append(p)
    for name, paths in last.items():
        if len(paths) == 1:
            out.setdefault(name, paths[0])
    return out


def _is_key(v: Any) -> bool:
    return isinstance(v, jax.Array) and jax.dtypes.issubdtype(v.dtype, jax.dtypes.prng_key)


def resolve_field(params: Any, name: str, static: Sequence[str] = ()) -> tuple[str, ...]:
    """The path of the swept field ``name`` (``-`` read as ``_``) in ``params``.

    Raises:
      ConfigError: ``name`` is a static field (listed in ``static``: it changes shapes or the
        compiled program) or no field at all; the message names the dynamic fields.
    """
    fields = sweepable_fields(params)
    key = name.replace("-", "_")
    if key in fields:
        return fields[key]
    dynamic = ", ".join(sorted(k for k in fields if "." not in k) or sorted(fields))
    if key in {s.replace("-", "_") for s in static}:
        raise ConfigError(
            f"--sweep {name}: a static field (it sets shapes or the compiled program, so each "
            f"value needs its own program; run them separately); dynamic fields: {dynamic}"
        )
    raise ConfigError(f"--sweep {name}: no such field; dynamic fields: {dynamic}")


def parse_sweep(text: str) -> tuple[str, tuple[float, ...]]:
    """``"lr=1e-4,3e-4"`` -> ``("lr", (1e-4, 3e-4))``. Raises ``ConfigError`` naming the
    malformed part."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ConfigError(f"--sweep {text!r}: expected FIELD=v1,v2,... (e.g. lr=1e-4,3e-4)")
    out = []
    for v in values.split(","):
        try:
            out.append(float(v))
        except ValueError:
            raise ConfigError(f"--sweep {name}: {v.strip()!r} is not a number") from None
    if len(out) < 1:
        raise ConfigError(f"--sweep {name}: no values")
    if len(set(out)) != len(out):
        raise ConfigError(f"--sweep {name}: repeated values {values}")
    return name, tuple(out)


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        node = getattr(node, p)
    return node


def _set(node: Any, path: tuple[str, ...], value: Any) -> Any:
    if len(path) == 1:
        return node.replace(**{path[0]: value})
    return node.replace(**{path[0]: _set(getattr(node, path[0]), path[1:], value)})


def make_grid(
    params: Any, sweeps: Sequence[tuple[str, Sequence[float]]], static: Sequence[str] = ()
) -> Grid:
    """The grid of ``sweeps`` (``[(field, values), ...]``) over the base ``params``: every
    combination, the first sweep varying slowest. Each value takes the dtype of the field it
    replaces (an integer field refuses a fractional value). Host only."""
    if not sweeps:
        raise ConfigError("--sweep: no field to sweep")
    names = [n for n, _ in sweeps]
    paths = [resolve_field(params, n, static) for n in names]
    if len(set(paths)) != len(paths):
        raise ConfigError(f"--sweep: a field is swept twice ({', '.join(names)})")
    for (n, vals), p in zip(sweeps, paths, strict=True):
        dt = jnp.result_type(_get(params, p))
        if jnp.issubdtype(dt, jnp.integer) and any(float(v) != int(v) for v in vals):
            raise ConfigError(f"--sweep {n}: an integer field; got {', '.join(map(str, vals))}")
    if int(np.prod([len(v) for _, v in sweeps])) < 2:
        raise ConfigError("--sweep: a grid needs at least two configurations (two values)")
    configs, trees = [], []
    for combo in itertools.product(*(vals for _, vals in sweeps)):
        p_c = params
        cfg: dict[str, float] = {}
        for n, path, v in zip(names, paths, combo, strict=True):
            dt = jnp.result_type(_get(params, path))
            value = int(v) if jnp.issubdtype(dt, jnp.integer) else float(v)
            p_c = _set(p_c, path, jnp.asarray(value, dtype=dt))
            cfg[n] = value
        configs.append(cfg)
        trees.append(strongly_typed(p_c))  # as init and a checkpoint have them
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *trees)
    return Grid(stacked, tuple(configs), tuple(names))


def lane_inputs(keys: jax.Array, grid: Grid) -> Lanes:
    """Lanes ``c * K + s`` = (``keys[s]``, configuration ``c``) for ``K = len(keys)`` seeds
    (typed PRNG keys, shape ``(K,)``) and the ``C`` configurations of ``grid``."""
    k = keys.shape[0]
    c = len(grid.configs)
    key = keys[jnp.tile(jnp.arange(k), c)]
    params = jax.tree.map(lambda x: jnp.repeat(x, k, axis=0), grid.params)
    return Lanes(key, params)


@dataclasses.dataclass(frozen=True)
class SweptTrainer:
    """A trainer (``init(key, params)``, ``run``) whose ``init`` takes one :class:`Lanes`
    entry, so that ``vmap`` runs a grid of configurations as lanes. Everything else is the
    wrapped trainer's."""

    trainer: Any

    def init(self, lane: Lanes) -> Any:
        return self.trainer.init(lane.key, lane.params)

    def run(self, state: Any, n: int) -> tuple[Any, dict]:
        return self.trainer.run(state, n)

    def __getattr__(self, name: str) -> Any:  # unit, config, health, env_steps_per_unit, ...
        return getattr(self.trainer, name)


def sweep_trainer(trainer: Any) -> SweptTrainer:
    """``trainer`` taking lanes (see :class:`SweptTrainer`)."""
    return SweptTrainer(trainer)


def split_lane_rows(rows: list[dict], configs: Sequence[dict], k: int) -> list[dict]:
    """Rows with per-lane lists (length ``C * K``) -> ``C`` rows each: configuration ``c``
    keeps lanes ``c*K .. c*K + K - 1`` (a plain number when ``K == 1``) and gains
    ``config_id`` and ``config`` (its swept values); values shared by all lanes (the unit,
    env steps, warnings) are copied. Host only."""
    n_lanes = len(configs) * k
    out = []
    for row in rows:
        for c, cfg in enumerate(configs):
            new: dict = {}
            for key, v in row.items():
                if isinstance(v, list) and len(v) == n_lanes and key != "warnings":
                    part = v[c * k : (c + 1) * k]
                    new[key] = part[0] if k == 1 else part
                else:
                    new[key] = v
            new["config_id"] = c
            new["config"] = dict(cfg)
            out.append(new)
    return out


__all__ = [
    "Grid",
    "Lanes",
    "SweptTrainer",
    "lane_inputs",
    "make_grid",
    "parse_sweep",
    "resolve_field",
    "split_lane_rows",
    "sweep_trainer",
    "sweepable_fields",
]
