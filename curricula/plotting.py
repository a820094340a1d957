"""Host-side diagnostic plots (matplotlib, Agg backend). Not jittable.

* :func:`plot_top_levels`: PNG grid of the highest-scoring buffer levels with their scores.
* :func:`plot_score_histogram`: histogram of the buffer's scores.
* :func:`plot_archive`: archive heat map (score per cell, empty cells blank, coverage in the
  title) next to a sample of elites drawn with ``space.render``.

Each returns the matplotlib ``Figure`` and, if ``path`` is given, saves a PNG there.
"""

from __future__ import annotations

import math

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from curricula.archive import ArchiveConfig, ArchiveState  # noqa: E402
from curricula.buffer import LevelBufferState  # noqa: E402
from ued.level_space import LevelSpace  # noqa: E402


def _render_many(space: LevelSpace, levels, n: int) -> list[np.ndarray]:
    if space.render is None:
        raise ValueError(f"level space {space.name!r} has no render")
    imgs = np.asarray(jax.jit(jax.vmap(space.render))(levels))
    return [imgs[i] for i in range(n)]


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def plot_top_levels(
    space: LevelSpace, state: LevelBufferState, k: int = 16, path=None, ncols: int = 4
):
    """Grid of the ``k`` highest-scoring filled buffer levels, each titled with its score."""
    scores = np.asarray(state.scores)
    filled = np.asarray(state.filled)
    order = [i for i in np.argsort(-np.where(filled, scores, -np.inf), kind="stable") if filled[i]]
    order = order[:k]
    n = max(len(order), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    if order:
        idx = np.asarray(order)
        levels = jax.tree.map(lambda x: np.asarray(x)[idx], state.levels)
        for j, img in enumerate(_render_many(space, levels, len(order))):
            ax = axes.ravel()[j]
            ax.imshow(img, interpolation="nearest")
            ax.set_title(f"#{order[j]}  {scores[order[j]]:.3g}", fontsize=8)
    else:
        axes[0, 0].text(0.5, 0.5, "empty buffer", ha="center", va="center")
    fig.suptitle(f"top {len(order)} buffer levels ({space.name})", fontsize=9)
    return _save(fig, path)


def plot_score_histogram(state: LevelBufferState, path=None, bins: int = 30):
    """Histogram of the finite scores of filled buffer slots."""
    s = np.asarray(state.scores)[np.asarray(state.filled)]
    s = s[np.isfinite(s)]
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.hist(s, bins=bins, color="tab:blue")
    ax.set_xlabel("score")
    ax.set_ylabel("levels")
    ax.set_title(f"buffer scores (n={s.size})", fontsize=9)
    return _save(fig, path)


def plot_archive(
    space: LevelSpace,
    state: ArchiveState,
    config: ArchiveConfig,
    path=None,
    num_elites: int = 8,
    seed: int = 0,
):
    """Heat map of elite score per cell (first two descriptor axes) plus sampled elites."""
    if len(config.bins) != 2:
        raise NotImplementedError("plot_archive draws 2-D archives only")
    scores = np.asarray(state.scores).reshape(config.bins)
    filled = np.asarray(state.filled).reshape(config.bins)
    grid = np.where(filled, scores, np.nan)
    filled_idx = np.flatnonzero(np.asarray(state.filled))
    rng = np.random.default_rng(seed)
    pick = rng.choice(filled_idx, size=min(num_elites, filled_idx.size), replace=False)
    ncols = 2 + max(1, math.ceil(len(pick) / 2))
    fig = plt.figure(figsize=(2.2 * ncols + 2, 4.4))
    gs = fig.add_gridspec(2, ncols)
    ax = fig.add_subplot(gs[:, :2])
    im = ax.imshow(
        grid.T,
        origin="lower",
        aspect="auto",
        extent=(config.lower[0], config.upper[0], config.lower[1], config.upper[1]),
        cmap="viridis",
    )
    fig.colorbar(im, ax=ax, label="elite score")
    names = space.descriptor_names or ("d0", "d1")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"archive coverage {filled.mean():.0%}", fontsize=9)
    if len(pick):
        levels = jax.tree.map(lambda x: np.asarray(x)[pick], state.levels)
        if space.render is not None:
            for j, img in enumerate(_render_many(space, levels, len(pick))):
                a = fig.add_subplot(gs[j % 2, 2 + j // 2])
                a.imshow(img, interpolation="nearest")
                a.axis("off")
                a.set_title(f"cell {pick[j]}: {np.asarray(state.scores)[pick[j]]:.3g}", fontsize=7)
    return _save(fig, path)
