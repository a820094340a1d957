"""The level space: what one environment instance is, and how to sample, mutate and draw one.

A *level* is any pytree of fixed-shape arrays (usually a frozen ``flax.struct`` dataclass).
Every curriculum in the toolkit only talks to levels through a :class:`LevelSpace`, so a new
environment family becomes usable by DR, PLR, ACCEL, SFL and the QD archive by writing one.
"""

from __future__ import annotations

import dataclasses
import weakref
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


# ----------------------------------------------------------------------------- the cheap check
# (the conformance kit ``ued.testing`` re-exports these; builders call them at build time)


def _fail(prop: str, detail: str) -> None:
    raise AssertionError(f"[{prop}] {detail}")


def _key_dependent_outputs(closed: Any) -> list[bool]:
    """Per output of a traced ``sample``: whether data flows into it from the key argument.

    Conservative through nested programs (jit, while, cond, scan): an equation with a
    key-dependent input makes all its outputs key-dependent.
    """
    jaxpr = closed.jaxpr
    dep = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(type(v).__name__ != "Literal" and v in dep for v in eqn.invars):
            dep.update(eqn.outvars)
    return [type(v).__name__ != "Literal" and v in dep for v in jaxpr.outvars]


_SAMPLE_CHECKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_sample(space: LevelSpace, key: jax.Array | None = None) -> None:
    """The kit's cheap checks of ``space.sample``; raise ``AssertionError`` on the first failure.

    Checked by tracing ``sample`` once (``jax.make_jaxpr``, no compilation, no execution): the
    placeholder is a pytree of arrays; ``sample(key)`` has the placeholder's structure, shapes
    and dtypes; at least one leaf of the level depends on the key. A space that passes is
    remembered, so checking it again is free. Host only.
    """
    if not isinstance(space, LevelSpace):
        _fail("type", f"expected a ued.LevelSpace, got {type(space).__name__}")
    if space in _SAMPLE_CHECKED:
        return
    ph = space.placeholder
    for path, leaf in jax.tree_util.tree_leaves_with_path(ph):
        if not hasattr(leaf, "shape") or not hasattr(leaf, "dtype"):
            _fail("placeholder", f"leaf {jax.tree_util.keystr(path)} is not an array: {type(leaf)}")
    key = jax.random.key(0) if key is None else key
    closed, out = jax.make_jaxpr(space.sample, return_shape=True)(key)
    if jax.tree.structure(out) != jax.tree.structure(ph):
        _fail(
            "sample shapes/dtypes",
            f"sample(key): pytree structure {jax.tree.structure(out)} != placeholder's "
            f"{jax.tree.structure(ph)}",
        )
    for (path, want), got in zip(
        jax.tree_util.tree_leaves_with_path(ph), jax.tree.leaves(out), strict=True
    ):
        ws, wd = tuple(np.shape(want)), np.dtype(want.dtype)
        if tuple(got.shape) != ws or np.dtype(got.dtype) != wd:
            _fail(
                "sample shapes/dtypes",
                f"sample(key): leaf {jax.tree_util.keystr(path) or '(the level)'} has shape "
                f"{tuple(got.shape)} "
                f"dtype {got.dtype}, expected shape {ws} dtype {wd} (the placeholder's)",
            )
    if not any(_key_dependent_outputs(closed)):
        _fail("key dependence", "sample(key) does not use its key: every level would be the same")
    _SAMPLE_CHECKED[space] = True


def require_sample_conformance(space: LevelSpace, caller: str) -> None:
    """:func:`check_sample` for builders: a failure becomes a ``ValueError`` that names the
    caller and the space and carries the kit's message. Host only."""
    try:
        check_sample(space)
    except AssertionError as e:
        name = getattr(space, "name", "?")
        raise ValueError(
            f"{caller}: level space {name!r} fails ued.testing.check_sample: {e}"
        ) from None


def check_mutate(space: LevelSpace, key: jax.Array | None = None) -> None:
    """The kit's cheap checks of ``space.mutate``; raise ``AssertionError`` on the first failure.

    Checked by tracing ``mutate(key, placeholder)`` once (no compilation, no execution): it
    returns the placeholder's pytree structure, shapes and dtypes, with no weakly typed leaf (a
    weak type flips on the next edit and retraces every compiled ACCEL update). Host only.
    """
    if space.mutate is None:
        _fail("mutate", f"level space {space.name!r} defines no mutate")
    key = jax.random.key(0) if key is None else key
    ph = space.placeholder
    out = jax.eval_shape(space.mutate, key, ph)
    if jax.tree.structure(out) != jax.tree.structure(ph):
        _fail(
            "mutate shapes/dtypes",
            f"mutate(key, level): pytree structure {jax.tree.structure(out)} != placeholder's "
            f"{jax.tree.structure(ph)}",
        )
    for (path, want), got in zip(
        jax.tree_util.tree_leaves_with_path(ph), jax.tree.leaves(out), strict=True
    ):
        where = jax.tree_util.keystr(path) or "(the level)"
        ws, wd = tuple(np.shape(want)), np.dtype(want.dtype)
        if tuple(got.shape) != ws or np.dtype(got.dtype) != wd:
            _fail(
                "mutate shapes/dtypes",
                f"mutate(key, level): leaf {where} has shape {tuple(got.shape)} dtype "
                f"{got.dtype}, expected shape {ws} dtype {wd} (the placeholder's)",
            )
        if getattr(got, "weak_type", False) and not getattr(jax.typeof(want), "weak_type", False):
            _fail(
                "mutate shapes/dtypes",
                f"mutate(key, level): leaf {where} is weakly typed (causes retraces); cast it "
                "explicitly",
            )


def require_mutate_conformance(space: LevelSpace, caller: str) -> None:
    """:func:`check_mutate` for builders (``ValueError`` naming the caller and the space)."""
    try:
        check_mutate(space)
    except AssertionError as e:
        raise ValueError(
            f"{caller}: level space {space.name!r} fails ued.testing.check_mutate: {e}"
        ) from None
