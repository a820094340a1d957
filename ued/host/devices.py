"""How a run spreads over devices: one rule, one mesh, for every kind of run. Host only.

A run shards exactly one axis over a 1-D ``jax.sharding.Mesh`` of local devices:

* the **seed axis** when the run trains several seeds (``--num-seeds K``, ``K > 1``): each device
  trains ``K / N`` seeds of the one vmapped program; seeds never talk to each other, so a
  sharded run equals the unsharded one bit for bit;
* otherwise the **ES population axis** of an ES run (``hades train``, ``synth train``): each
  device evaluates ``P / N`` candidates, and the ES update gathers the fitness vector
  (``meta.es.make_es_loop``'s ``mesh``);
* otherwise nothing: a one-seed student run is one program on one device.

``--devices N`` picks the device count; without it the run takes the most local devices that
divide the sharded axis (one seed: 1 device; 6 seeds on 4 devices: 3). An ``N`` that does not divide the axis, or exceeds the local devices, is
one :class:`~ued.options.ConfigError` naming both numbers. :func:`describe_sharding` is the line
every run prints at start.

Checkpoints hold host arrays (``ued.host.checkpoints`` gathers every leaf with
``numpy.asarray``), so a run saved on 4 devices resumes on 1 and the other way round: the
resumed program places the host state on its own mesh.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from ued.options import ConfigError

SEED_AXIS = "seeds"
POPULATION_AXIS = "pop"


class DevicePlan(NamedTuple):
    """Which axis a run shards and over how many devices.

    Attributes:
      devices: the device count (1: no sharding).
      axis: ``"seeds"``, ``"pop"`` or ``""`` (nothing sharded).
      size: the length of the sharded axis (seeds or population size; 1 when none).
    """

    devices: int
    axis: str
    size: int

    def mesh(self) -> jax.sharding.Mesh | None:
        """The 1-D mesh of the first ``devices`` local devices (``None`` for one device)."""
        return axis_mesh(self.devices, self.axis) if self.devices > 1 else None


def resolve_devices(
    requested: int | None, axis_size: int, what: str, available: int | None = None
) -> int:
    """The device count a run uses for an axis of ``axis_size`` entries.

    Args:
      requested: ``--devices`` (``None``: the most local devices that divide ``axis_size``).
      axis_size: the length of the sharded axis (``>= 1``).
      what: the option that sets the axis (``"--num-seeds"``, ``"--population"``), for errors.
      available: the local device count (default ``jax.local_device_count()``).

    Returns:
      The device count, a divisor of ``axis_size`` in ``[1, available]``.

    Raises:
      ConfigError: ``requested`` is below 1, above ``available`` or does not divide
        ``axis_size`` (the message names both numbers).
    """
    available = jax.local_device_count() if available is None else int(available)
    if requested is None:
        return max(d for d in range(1, min(available, axis_size) + 1) if axis_size % d == 0)
    n = int(requested)
    if n < 1:
        raise ConfigError(f"--devices: must be >= 1, got {n}")
    if n > available:
        raise ConfigError(
            f"--devices: {n} requested but this process sees {available} local device(s) "
            f"({jax.default_backend()})"
        )
    if axis_size % n:
        raise ConfigError(
            f"--devices {n} does not divide {what} {axis_size}: the sharded axis must split "
            "evenly over the devices"
        )
    return n


def plan_devices(
    requested: int | None, num_seeds: int, population: int | None = None
) -> DevicePlan:
    """The module docstring's rule: shard the seeds when there are several, else an ES run's
    population, else nothing (a one-seed student run asking for more than one device is refused
    by :func:`resolve_devices`, naming ``--num-seeds 1``)."""
    if num_seeds > 1 or population is None:
        n = resolve_devices(requested, num_seeds, "--num-seeds")
        return DevicePlan(n, SEED_AXIS if n > 1 else "", num_seeds)
    n = resolve_devices(requested, population, "--population")
    return DevicePlan(n, POPULATION_AXIS if n > 1 else "", population)


def axis_mesh(n: int, name: str) -> jax.sharding.Mesh:
    """A 1-D mesh named ``name`` over the first ``n`` local devices (an ``Auto`` axis, so the
    compiler places the rest of the program)."""
    devices = jax.local_devices()
    if n > len(devices):
        raise ConfigError(f"--devices: {n} requested but {len(devices)} local device(s)")
    return jax.sharding.Mesh(
        np.asarray(devices[:n]), (name,), axis_types=(jax.sharding.AxisType.Auto,)
    )


def leading_axis_sharding(mesh: jax.sharding.Mesh) -> jax.sharding.NamedSharding:
    """Every leaf split along its leading axis over the mesh's one axis."""
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(mesh.axis_names[0]))


def describe_sharding(plan: DevicePlan) -> str:
    """One line for the start of a run: what is sharded over how many devices."""
    backend = jax.default_backend()
    if plan.devices == 1:
        return f"devices: 1 ({backend}; nothing sharded)"
    what = "seeds" if plan.axis == SEED_AXIS else "ES candidates"
    return (
        f"devices: {plan.devices} ({backend}); sharding the {what} axis: {plan.size} {what}, "
        f"{plan.size // plan.devices} per device"
    )


def device_count_of(tree: Any) -> int:
    """How many devices the arrays of ``tree`` live on together (1 for host arrays)."""
    ids = set()
    for leaf in jax.tree.leaves(tree):
        sharding = getattr(leaf, "sharding", None)
        if sharding is not None:
            ids.update(d.id for d in sharding.device_set)
    return max(len(ids), 1)


__all__ = [
    "POPULATION_AXIS",
    "SEED_AXIS",
    "DevicePlan",
    "axis_mesh",
    "describe_sharding",
    "device_count_of",
    "leading_axis_sharding",
    "plan_devices",
    "resolve_devices",
]
