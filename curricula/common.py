"""Helpers shared by the curricula: proposal assembly and diagnostics."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ued.curriculum import DEFAULT_BRANCHES, LevelStats, Proposal
from ued.level_space import LevelSpace


def select_levels(mask: jax.Array, a: Any, b: Any) -> Any:
    """Per-level select: ``a[i]`` where ``mask[i]`` else ``b[i]`` (leaves ``(B, ...)``)."""

    def sel(x, y):
        m = mask.reshape(mask.shape + (1,) * (x.ndim - 1))
        return jnp.where(m, x, y)

    return jax.tree.map(sel, a, b)


def repeat_level(level: Any, n: int) -> Any:
    """Broadcast one level to a batch of ``n`` (leaves ``(n, ...)``)."""
    return jax.tree.map(lambda x: jnp.broadcast_to(x, (n,) + jnp.shape(x)), level)


def proposal_diagnostics(
    space: LevelSpace,
    proposal: Proposal,
    stats: LevelStats,
    branches: tuple[str, ...] = DEFAULT_BRANCHES,
) -> dict[str, jax.Array]:
    """Scalars for logging: share of each of the curriculum's ``branches`` (id i named
    ``branches[i]``), mean score (overall and per branch present),
    mean solve rate, and the mean of each descriptor feature of the proposed levels
    (``level/<descriptor name>``, e.g. wall count, shortest-path length). Jittable."""
    out: dict[str, jax.Array] = {}
    br = proposal.branch
    score = jnp.where(jnp.isfinite(stats.score), stats.score, 0.0)
    for i, name in enumerate(branches):
        m = br == i
        n = m.sum()
        out[f"branch/{name}"] = m.mean().astype(jnp.float32)
        out[f"score/{name}"] = jnp.where(n > 0, (score * m).sum() / jnp.maximum(n, 1), jnp.nan)
    out["score/mean"] = score.mean()
    out["train/share"] = proposal.train.mean().astype(jnp.float32)
    sr = stats.solve_rate
    ok = ~jnp.isnan(sr)
    out["level/solve_rate"] = jnp.where(
        ok.any(), jnp.where(ok, sr, 0.0).sum() / jnp.maximum(ok.sum(), 1), jnp.nan
    )
    if space.descriptor is not None:
        d = jax.vmap(space.descriptor)(proposal.levels).astype(jnp.float32)
        names = space.descriptor_names or tuple(f"d{i}" for i in range(d.shape[-1]))
        for i, name in enumerate(names):
            out[f"level/{name}"] = d[:, i].mean()
    return out
