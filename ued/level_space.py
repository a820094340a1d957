"""The level space: what one environment instance is, and how to sample, mutate and draw one.

A *level* is any pytree of fixed-shape arrays (usually a frozen ``flax.struct`` dataclass).
Every curriculum in the toolkit only talks to levels through a :class:`LevelSpace`, so a new
environment family becomes usable by DR, PLR, ACCEL, SFL and the QD archive by writing one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax

L = TypeVar("L")
Key = jax.Array
Array = jax.Array


@dataclasses.dataclass(frozen=True, eq=False)
class LevelSpace(Generic[L]):
    """A family of levels, built by keyword in a notebook cell.

    Attributes:
      name: identifier, e.g. ``"maze/13x13"``.
      placeholder: one level; the template of every level's shapes and dtypes.
      sample: ``sample(key) -> level``; jittable generator (the DR distribution).
      mutate: ``mutate(key, level) -> level``; ONE edit (ACCEL applies it n times). Optional.
      is_valid: ``is_valid(level) -> bool[]``; structural validity. Optional.
      render: ``render(level) -> uint8[H, W, 3]``; jittable picture. Optional.
      descriptor: ``descriptor(level) -> float32[D]``; behaviour features for the QD archive and
        plots. Optional.
      descriptor_names: names of the D descriptor features (for plot axes). Optional.
      optimal_return: ``optimal_return(level) -> float32[]``, the best achievable return, for
        spaces that know it (enables the true-regret score). Optional.
      aleatoric: SAMPLR extension (aleatoric parameters, prior, posterior predictive); ignored by
        every other curriculum. Optional, see ``ued.aleatoric`` once it exists.

    Equality and hashing are by identity (``eq=False``) so a space can be closed over or passed
    as a static argument without hashing its arrays.
    """

    name: str
    placeholder: L
    sample: Callable[[Key], L]
    mutate: Callable[[Key, L], L] | None = None
    is_valid: Callable[[L], Array] | None = None
    render: Callable[[L], Array] | None = None
    descriptor: Callable[[L], Array] | None = None
    descriptor_names: tuple[str, ...] | None = None
    optimal_return: Callable[[L], Array] | None = None
    aleatoric: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError("LevelSpace.name must be a non-empty string")
        if not callable(self.sample):
            raise TypeError("LevelSpace.sample must be callable: sample(key) -> level")
        for field in ("mutate", "is_valid", "render", "descriptor", "optimal_return"):
            fn = getattr(self, field)
            if fn is not None and not callable(fn):
                raise TypeError(f"LevelSpace.{field} must be callable or None, got {type(fn)}")
        leaves = jax.tree.leaves(self.placeholder)
        if not leaves:
            raise TypeError("LevelSpace.placeholder must be a pytree with at least one array")

    def sample_batch(self, key: Key, n: int) -> L:
        """``n`` independent levels, batched on a leading axis. Jittable."""
        return jax.vmap(self.sample)(jax.random.split(key, n))

    def mutate_n(self, key: Key, level: L, n_edits: int) -> L:
        """Apply ``mutate`` ``n_edits`` times (static count). Jittable."""
        if self.mutate is None:
            raise NotImplementedError(f"level space {self.name!r} defines no mutate")

        def body(lvl, k):
            return self.mutate(k, lvl), None

        out, _ = jax.lax.scan(body, level, jax.random.split(key, n_edits))
        return out
