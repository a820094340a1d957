"""What the two ES kinds (``hades``, ``synth``) share about seeds and devices. Host only.

``--num-seeds K`` trains ``K`` independent ES runs, seeds ``SEED .. SEED + K - 1`` (seed ``s``
starts from ``jax.random.key(s)``, as a one-seed run of seed ``s`` does), vmapped over a leading
seed axis of one program. Devices follow the one rule of ``ued.host.plan_devices``: the seed
axis is sharded when ``K > 1``, the ES population otherwise. Metrics rows hold per-seed lists
(``ued.host``'s batched rows); a one-seed run's files are those of before the option existed
(its ``config.json`` leaves ``num_seeds`` out).
"""

from __future__ import annotations

from typing import Any

from experiments import options as O


def num_seeds_option() -> Any:
    """The ``--num-seeds`` option field of an ES kind's ``TrainOptions``."""
    return O.option(
        1, O.int_(1, 4096),
        "independent ES runs (seeds SEED .. SEED+K-1) vmapped in one program",
    )  # fmt: skip


def devices_option() -> Any:
    """The ``--devices`` option field of an ES kind's ``TrainOptions``."""
    return O.option(
        None, O.optional(O.int_(1), "auto"),
        "local devices to shard over: the seeds when --num-seeds > 1, else the ES population "
        "(default: the most that divide it)",
    )  # fmt: skip


def es_devices(cfg: Any, population: int) -> tuple[Any, Any]:
    """``(DevicePlan, mesh for the ES population or None)`` of a run's ``devices`` and
    ``num_seeds``: with several seeds the host loop shards the seeds, and the population of
    each seed stays whole."""
    from ued.host import POPULATION_AXIS, plan_devices

    plan = plan_devices(cfg.devices, cfg.num_seeds, population)
    return plan, plan.mesh() if plan.axis == POPULATION_AXIS else None


def seed_states(state: Any, num_seeds: int) -> list:
    """The state of each seed: ``[state]`` for one seed, else the slices of the leading seed
    axis."""
    import jax

    if num_seeds == 1:
        return [state]
    return [jax.tree.map(lambda x, i=i: x[i], state) for i in range(num_seeds)]


def per_seed(results: list[dict]) -> dict:
    """One dict from the dicts of each seed: the one seed's as it is, else ``{name: [value of
    each seed]}`` (the per-seed lists of a batched metrics row)."""
    if len(results) == 1:
        return results[0]
    return {k: [r[k] for r in results] for k in results[0]}


def stored_config(d: dict) -> dict:
    """``config.json`` of a run: ``num_seeds`` left out for one seed, as before the option."""
    return {k: v for k, v in d.items() if not (k == "num_seeds" and v == 1)}


def run_num_seeds(run_dir: Any) -> int:
    """``num_seeds`` of a stored run (1 when its ``config.json`` has none)."""
    from ued.host import read_config

    return int(read_config(run_dir).get("num_seeds", 1))


def refuse_seeds(run_dir: Any, command: str) -> None:
    """One line refusing ``command`` for a run of several seeds (it reads one-seed runs)."""
    k = run_num_seeds(run_dir)
    if k > 1:
        raise O.ConfigError(
            f"{command}: {run_dir} trained {k} seeds (--num-seeds {k}); {command} reads "
            "one-seed runs only"
        )


def seed_name(name: str, seed: int, num_seeds: int) -> str:
    """The file stem of seed ``seed``'s artefact: ``name`` for a one-seed run, else
    ``name_s<seed>``."""
    return name if num_seeds == 1 else f"{name}_s{seed}"


__all__ = [
    "devices_option",
    "es_devices",
    "num_seeds_option",
    "per_seed",
    "refuse_seeds",
    "run_num_seeds",
    "seed_name",
    "seed_states",
    "stored_config",
]
