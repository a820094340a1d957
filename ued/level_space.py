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
import jax.numpy as jnp
import numpy as np

L = TypeVar("L")
Key = jax.Array
Array = jax.Array

# The optional fields of an editable space (all or none), see LevelSpace.
EDIT_FIELDS = ("edit_empty", "num_edit_actions", "apply_edit", "num_edits", "edit_observation")


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

    Editable spaces (optional, all five or none; PAIRED's teacher builds levels edit by edit in
    ``ued.editor.EditorEnv``; check them with ``ued.testing.check_editable``):
      edit_empty: the level every edit sequence starts from (the placeholder's structure).
      num_edit_actions: number of discrete edit actions ``A`` (int >= 1).
      apply_edit: ``apply_edit(level, action, step) -> level``; the edit ``action`` (int32[] in
        ``0 .. A-1``) applied at edit step ``step`` (int32[], 0-based; a space may give steps
        different meanings, e.g. the Maze places its goal at step 0). Jittable, deterministic,
        no key; any action sequence of ``num_edits`` steps from ``edit_empty`` must end in a
        valid level (well-formed; solvability is measured, not forced).
      num_edits: edits per level (the editor's episode length; int >= 1).
      edit_observation: ``edit_observation(level) -> array`` (one fixed-shape array), what the
        teacher sees of the level being built (the Maze: the full grid).

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
    edit_empty: Any = None
    num_edit_actions: int | None = None
    apply_edit: Callable[[L, Array, Array], L] | None = None
    num_edits: int | None = None
    edit_observation: Callable[[L], Array] | None = None

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
        self._check_edit_fields()

    def _check_edit_fields(self) -> None:
        given = {f: getattr(self, f) is not None for f in EDIT_FIELDS}
        if not any(given.values()):
            return
        missing = [f for f, g in given.items() if not g]
        if missing:
            raise TypeError(
                f"LevelSpace {self.name!r}: the editable fields {EDIT_FIELDS} come all or none; "
                f"missing {missing}"
            )
        for f in ("num_edit_actions", "num_edits"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise TypeError(f"LevelSpace.{f} must be an int >= 1, got {v!r}")
        for f in ("apply_edit", "edit_observation"):
            if not callable(getattr(self, f)):
                raise TypeError(f"LevelSpace.{f} must be callable, got {type(getattr(self, f))}")
        ph, em = self.placeholder, self.edit_empty
        if jax.tree.structure(em) != jax.tree.structure(ph):
            raise TypeError(
                f"LevelSpace.edit_empty must have the placeholder's pytree structure "
                f"{jax.tree.structure(ph)}, got {jax.tree.structure(em)}"
            )
        for a, b in zip(jax.tree.leaves(em), jax.tree.leaves(ph), strict=True):
            if np.shape(a) != np.shape(b) or jnp.result_type(a) != jnp.result_type(b):
                raise TypeError(
                    "LevelSpace.edit_empty must have the placeholder's shapes and dtypes, got "
                    f"{jnp.result_type(a)}{np.shape(a)} for {jnp.result_type(b)}{np.shape(b)}"
                )

    @property
    def editable(self) -> bool:
        """Whether the space defines the editable fields (``EDIT_FIELDS``)."""
        return self.apply_edit is not None

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
