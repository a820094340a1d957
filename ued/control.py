"""Control flow that stays cheap under ``vmap``.

``jax.lax.cond`` with a batched predicate (one per seed, per swept configuration, ...) becomes a
``select`` that evaluates both branches on every call. A periodic, expensive step (SFL's and
NCC's level-set refresh every N updates) then runs at every update of a seed-vmapped run.
:func:`run_if` runs its function in a ``while_loop`` of zero or one iteration instead: under
``vmap`` the loop runs while any lane's predicate holds, so the function is evaluated only when
at least one lane needs it (lanes that do not keep their operand), and never otherwise.

XLA hoists out of a loop whatever depends on loop-invariant values only, and would then compute
it at every call. Everything the expensive part of ``fn`` depends on (a key, the levels) must
therefore reach it through ``operand`` or ``args``, which pass an optimisation barrier tied to
the loop's flag; values ``fn`` closes over (the student's parameters) are fine where the work
also needs an operand or arg value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def run_if(pred: jax.Array | bool, fn: Callable[..., Any], operand: Any, *args: Any) -> Any:
    """``fn(operand, *args)`` where ``pred`` holds, else ``operand``. Jittable.

    Same result as ``lax.cond(pred, lambda x: fn(x, *args), lambda x: x, operand)``, but under
    ``vmap`` ``fn`` is evaluated only when some lane's ``pred`` holds (once for all lanes), not
    at every call. Pass what ``fn``'s costly work reads in ``operand`` or ``args``, not by
    closure (module docstring).

    Args:
      pred: bool[] (batched under ``vmap``).
      fn: ``(operand, *args) -> operand`` of the same structure, shapes and dtypes.
      operand: any pytree of arrays, the value returned.
      args: pytrees of arrays ``fn`` reads (a key, levels), not returned.
    """
    pred = jnp.asarray(pred, bool)

    def cond(carry):
        return jnp.logical_and(pred, jnp.logical_not(carry[0]))

    def body(carry):
        # tied to the flag, the operand and the args are loop-variant: nothing computed from
        # them is hoisted out of the loop (and run whether or not the loop runs)
        _, x, a = jax.lax.optimization_barrier(carry)
        return jnp.ones((), bool), fn(x, *a), a

    return jax.lax.while_loop(cond, body, (jnp.zeros((), bool), operand, args))[1]


__all__ = ["run_if"]
