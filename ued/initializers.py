"""Weight initialisers that are safe to ``vmap`` on a CPU.

``orthogonal`` draws the same distribution as ``jax.nn.initializers.orthogonal`` (the Q factor,
with a positive-diagonal R, of a Gaussian matrix: Haar-uniform orthonormal rows or columns), but
computes Q with a twice-applied Gram-Schmidt in plain ``jnp`` operations instead of LAPACK's QR.

Why: under ``vmap`` (seeds, ES populations, HaDES-R initialisations) jax's initialiser becomes a
*batched* LAPACK QR, a custom call that splits the batch over XLA:CPU's intra-op thread pool
(``ParallelBatchMap``) and blocks on it. When the pool's threads are themselves busy running the
program (a 2-core machine has a 2-thread pool), the call waits for work that nothing will run:
the process hangs with every thread idle. This was observed on the 2-core development machine for
``jit(vmap(train))`` of TD3 over seeds, ``openued hades`` on MinAtar and the vmapped maze trainer.
Plain matmuls, reductions and loops never block like this.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def orthonormal_columns(a: jax.Array) -> jax.Array:
    """Q of the thin QR factorisation of ``a`` (float[m, k], m >= k) with ``diag(R) > 0``.

    Gram-Schmidt with re-orthogonalisation ("twice is enough"), column by column in a
    ``lax.fori_loop``; the not-yet-filled columns of Q are zero, so projecting on all of Q
    only removes the components along the columns already built. Jittable, vmappable.
    """
    m, k = a.shape
    if m < k:
        raise ValueError(f"orthonormal_columns needs m >= k, got shape {a.shape}")
    a = a.astype(jnp.float32)

    def body(j, q):
        v = jax.lax.dynamic_slice_in_dim(a, j, 1, axis=1)[:, 0]
        for _ in range(2):
            v = v - q @ (q.T @ v)
        v = v / jnp.linalg.norm(v)
        return jax.lax.dynamic_update_slice_in_dim(q, v[:, None], j, axis=1)

    return jax.lax.fori_loop(0, k, body, jnp.zeros((m, k), jnp.float32))


def orthogonal(scale: float = 1.0, column_axis: int = -1) -> Callable:
    """Orthogonal initialiser: ``init(key, shape, dtype=float32) -> scale * Q``.

    Same shapes and distribution as ``jax.nn.initializers.orthogonal(scale, column_axis)``
    (usable as a flax ``kernel_init``); the values differ because the Gaussian draw is
    orthogonalised by Gram-Schmidt here, not by LAPACK. ``shape`` must have rank >= 2.
    """

    def init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal initialiser needs a shape of rank >= 2, got {shape}")
        n_cols = shape[column_axis]
        n_rows = int(np.prod(shape)) // n_cols
        tall = (n_rows, n_cols) if n_rows >= n_cols else (n_cols, n_rows)
        q = orthonormal_columns(jax.random.normal(key, tall, jnp.float32))
        if n_rows < n_cols:
            q = q.T
        q = q.reshape(tuple(np.delete(np.array(shape), column_axis)) + (n_cols,))
        return (scale * jnp.moveaxis(q, -1, column_axis)).astype(dtype)

    return init


__all__ = ["orthogonal", "orthonormal_columns"]
