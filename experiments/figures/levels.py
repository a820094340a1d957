"""Figures of levels: grids of level pictures, the curriculum's top levels, how the stored
levels' descriptors evolve over training, and the frames of the agent GIF. Host only; the
renderers jit a level space's ``render`` but nothing here is jittable.

* :func:`plot_level_grid`: pictures of levels ``uint8[n, H, W, 3]`` in a titled grid;
* :func:`top_indices`, :func:`plot_top_levels`: the highest-scoring filled buffer slots;
* :func:`plot_level_evolution`: distributions of the stored levels' descriptors (and scores)
  at every level snapshot;
* :func:`gif_frames`: frames of the agent's first episode on each of several mazes;
* :func:`level_fields`, :func:`maze_renderer`: level pytrees as arrays and maze pictures.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from experiments.figures.names import descriptor_label
from experiments.figures.style import _caption, _new_figure, _note, save, style_axes

if TYPE_CHECKING:
    from curricula.buffer import LevelBufferState
    from ued.level_space import LevelSpace

# ----------------------------------------------------------------------------- level pictures


def level_fields(levels: Any) -> dict[str, np.ndarray]:
    """``{field: array}`` of a level pytree (a flax dataclass such as ``MazeLevel``) or of a
    dict of arrays as stored in checkpoints and level snapshots."""
    if not isinstance(levels, Mapping):
        from flax import serialization

        levels = serialization.to_state_dict(levels)
    return {k: np.asarray(v) for k, v in levels.items()}


def maze_renderer(tile: int = 8) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """``render(fields) -> uint8[n, h, w, 3]``: pictures of a batch of maze levels given as
    ``{field: array (n, ...)}`` (``envs.maze.render_level``, jitted per shape)."""
    import jax

    from envs.maze import MazeLevel, render_level

    fn = jax.jit(jax.vmap(lambda lv: render_level(lv, tile)))

    def render(fields):
        return np.asarray(fn(MazeLevel(**{k: np.asarray(v) for k, v in fields.items()})))

    return render


def _render_many(space: LevelSpace, levels: Any, n: int) -> list[np.ndarray]:
    """The first ``n`` pictures of a batch of ``space``'s levels (``space.render`` vmapped)."""
    import jax

    if space.render is None:
        raise ValueError(f"level space {space.name!r} has no render")
    imgs = np.asarray(jax.jit(jax.vmap(space.render))(levels))
    return [imgs[i] for i in range(n)]


def plot_level_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 4,
    suptitle: str | None = None,
    suptitle_size: float = 10,
    tight: bool = True,
    empty: str = "no levels",
) -> Figure:
    """Pictures of levels (``images``: n arrays ``uint8[H, W, 3]``, sizes may differ) in a grid
    of ``ncols`` columns without axes, each titled with ``titles[i]``, under ``suptitle``.
    ``tight``: a tight layout (panels close together); without images the figure says
    ``empty``. Host only."""
    n = len(images)
    if titles is not None and len(titles) != n:
        raise ValueError(f"plot_level_grid: {len(titles)} titles for {n} levels")
    if ncols < 1:
        raise ValueError(f"plot_level_grid: ncols must be >= 1, got {ncols}")
    ncols = min(ncols, max(n, 1))
    nrows = max(1, math.ceil(n / ncols))
    fig = Figure(figsize=(2.2 * ncols, 2.4 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if not n:
        axes[0, 0].text(0.5, 0.5, empty, ha="center", va="center")
    if suptitle:
        fig.suptitle(suptitle, fontsize=suptitle_size)
    if tight:
        fig.tight_layout()
    return fig


def top_indices(scores: Any, filled: Any, k: int) -> list[int]:
    """Indices of the ``k`` highest-scoring filled slots (``scores``, ``filled``: ``(N,)``),
    highest first; ties keep slot order."""
    scores = np.asarray(scores, float)
    filled = np.asarray(filled, bool)
    order = np.argsort(-np.where(filled, scores, -np.inf), kind="stable")
    return [int(i) for i in order if filled[i]][:k]


def plot_top_levels(
    space: LevelSpace, state: LevelBufferState, k: int = 16, path=None, ncols: int = 4
) -> Figure:
    """Grid of the ``k`` highest-scoring filled levels of a level buffer (one seed:
    ``state.scores``, ``state.filled`` ``(capacity,)``), drawn with ``space.render`` and each
    titled with its slot and score. Saved as a PNG at ``path`` when given. Host only."""
    import jax

    scores = np.asarray(state.scores)
    order = top_indices(scores, state.filled, k)
    images = []
    if order:
        idx = np.asarray(order)
        levels = jax.tree.map(lambda x: np.asarray(x)[idx], state.levels)
        images = _render_many(space, levels, len(order))
    fig = plot_level_grid(images, [f"#{i}  {scores[i]:.3g}" for i in order], ncols=ncols,
                          suptitle=f"top {len(order)} buffer levels ({space.name})",
                          suptitle_size=9, tight=False, empty="empty buffer")  # fmt: skip
    if path is not None:
        save(fig, path, dpi=100)
    return fig


# ----------------------------------------------------------------------------- level evolution


def _snapshot_arrays(snap: Mapping) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, int]:
    """``(descriptors (N, D) pooled over seeds, scores (N,), valid (N,), seeds)``."""
    d = snap.get("descriptors")
    s = snap.get("scores")
    v = snap.get("valid")
    k = 1
    if d is not None:
        d = np.asarray(d, float)
        if d.ndim == 3:
            k = d.shape[0]
        d = d.reshape(-1, d.shape[-1])
    n = d.shape[0] if d is not None else (np.size(s) if s is not None else 0)
    s = np.asarray(s, float).reshape(-1) if s is not None else np.full(n, np.nan)
    v = np.asarray(v, bool).reshape(-1) if v is not None else np.ones(n, bool)
    if s.ndim and np.ndim(snap.get("scores")) == 2:
        k = np.shape(snap["scores"])[0]
    return d, s, v, k


def plot_level_evolution(
    history: Sequence[tuple[int, Mapping]] | str | os.PathLike,
    *,
    title: str | None = None,
    label: str | None = None,
    unit_name: str = "update",
) -> Figure | None:
    """How the curriculum's stored levels change over training: for every level descriptor
    (e.g. wall count, shortest path) a heat map of its distribution over the stored levels at
    each level snapshot (colour: share of stored levels; line: median; dashed: 10th and 90th
    percentiles), and the stored levels' scores (median and interquartile band). Seeds are
    pooled. Unsolvable levels (shortest path -1) are left out of the distribution and their
    share is drawn as its own line. ``history``: ``[(unit, snapshot)]`` as from
    ``Run.level_history()``, or a run directory. Returns ``None`` without snapshots."""
    if isinstance(history, str | os.PathLike):
        from ued.host import load_run

        label = label or Path(history).name
        history = load_run(history).level_history()
    rows = [(u, _snapshot_arrays(s), s) for u, s in history]
    rows = [r for r in rows if r[1][2].size]
    if not rows:
        return None
    units = np.array([u for u, _, _ in rows], float)
    with_desc = [r for r in rows if r[1][0] is not None]
    dim = with_desc[-1][1][0].shape[-1] if with_desc else 0
    names = (with_desc[-1][2].get("descriptor_names") if with_desc else None) or [
        f"d{j}" for j in range(dim)
    ]
    k = rows[-1][1][3]
    fig, axes = _new_figure(dim + 1, min(dim + 1, 3), w=4.4, h=3.3)
    pos = np.arange(len(units))
    ticks = pos if len(pos) <= 10 else pos[:: math.ceil(len(pos) / 10)]

    def xaxis(ax):
        ax.set_xticks(ticks, [str(int(units[i])) for i in ticks], fontsize=8)
        ax.set_xlim(-0.5, len(units) - 0.5)

    extra: list[str] = []
    for j in range(dim):
        ax = axes[j]
        name, unitn = descriptor_label(names[j])
        vals, unsolv = [], np.full(len(rows), np.nan)
        for i, (_, (d, _, valid, _), _) in enumerate(rows):
            col = d[valid, j] if d is not None else np.zeros(0)
            if names[j] == "shortest_path":
                unsolv[i] = np.mean(col < 0) if col.size else np.nan
                col = col[col >= 0]
            vals.append(col[np.isfinite(col)])
        allv = np.concatenate(vals) if vals else np.zeros(0)
        style_axes(ax, f"Stored levels: {name}", unit_name, unitn or name)
        if not allv.size:
            _note(ax, "no stored levels")
            continue
        lo, hi = float(allv.min()), float(allv.max())
        integer = np.allclose(allv, np.round(allv)) and hi - lo <= 80
        edges = (np.arange(lo - 0.5, hi + 1.5, 1.0) if integer
                 else np.linspace(lo, hi if hi > lo else lo + 1, 31))  # fmt: skip
        grid = np.full((len(edges) - 1, len(rows)), np.nan)
        for i, col in enumerate(vals):
            if col.size:
                h, _ = np.histogram(col, edges)
                grid[:, i] = h / col.size
        im = ax.pcolormesh(np.arange(len(rows) + 1) - 0.5, edges, grid, cmap="Blues", vmin=0,
                           shading="flat")  # fmt: skip
        med = [np.median(c) if c.size else np.nan for c in vals]
        p10 = [np.percentile(c, 10) if c.size else np.nan for c in vals]
        p90 = [np.percentile(c, 90) if c.size else np.nan for c in vals]
        ax.plot(pos, med, "o-", color="C1", ms=3, lw=1.5, label="median")
        ax.plot(pos, p10, "--", color="C1", lw=0.9, label="10th / 90th percentile")
        ax.plot(pos, p90, "--", color="C1", lw=0.9)
        cb = fig.colorbar(im, ax=ax, pad=0.01)
        cb.set_label("share of stored levels", fontsize=8)
        cb.ax.tick_params(labelsize=7)
        if np.nanmax(np.nan_to_num(unsolv), initial=0) > 0:
            lo_u, hi_u = np.nanmin(unsolv), np.nanmax(unsolv)
            share = f"{hi_u:.0%}" if f"{lo_u:.0%}" == f"{hi_u:.0%}" else f"{lo_u:.0%} to {hi_u:.0%}"
            extra.append(f"{name}: unsolvable levels left out ({share} of those stored)")
        xaxis(ax)
        ax.yaxis.set_major_locator(MaxNLocator(integer=integer))
    ax = axes[dim]
    med = np.full(len(rows), np.nan)
    q1, q3 = med.copy(), med.copy()
    fill = med.copy()
    for i, (_, (_, s, valid, _), _) in enumerate(rows):
        sv = s[valid & np.isfinite(s)]
        fill[i] = valid.mean() if valid.size else np.nan
        if sv.size:
            med[i], q1[i], q3[i] = np.median(sv), np.percentile(sv, 25), np.percentile(sv, 75)
    style_axes(ax, "Stored levels: score", unit_name, "score")
    if np.isfinite(med).any():
        ax.plot(pos, med, "o-", ms=3, color="C0", label="median")
        ax.fill_between(pos, q1, q3, alpha=0.25, color="C0", lw=0, label="interquartile range")
    else:
        _note(ax, "no scores stored")
    xaxis(ax)
    # one legend for every panel, beside them (inside, it would cover the distributions)
    handles, labels = [], []
    for a in axes:
        for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
            lab = f"score: {lab}" if a is ax else lab
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="outside right center", fontsize=7.5, frameon=False)
    seeds = f"{k} seeds pooled" if k > 1 else "1 seed"
    fig.suptitle(title or f"Curriculum levels over training{': ' + label if label else ''}",
                 fontsize=12)  # fmt: skip
    _caption(fig, f"{len(rows)} level snapshots ({unit_name} {int(units[0])} to "
             f"{int(units[-1])}), {seeds}; slots holding a level at the last snapshot: "
             f"{fill[-1]:.0%}" + "".join("; " + e for e in extra), ha="center", va="bottom", fontsize=8, color="0.35")  # fmt: skip
    return fig


# ----------------------------------------------------------------------------- agent GIF


def gif_frames(
    frames,
    end_step,
    solved,
    names,
    *,
    max_steps: int,
    scale: int = 2,
    ncols: int = 4,
    title: str = "",
):
    """Frames of the agent GIF, as PIL images. Host only.

    ``frames``: uint8[T, n, H, W, 3] the mazes before each step; ``end_step``: int[n] the step
    at which each first episode ended (``>= T``: it did not end within the rollout);
    ``solved``: bool[n] whether it ended solved; ``names``: the n maze names. Frame ``t`` shows
    every maze at step ``min(t, end)`` (a maze whose episode ended stays on its last picture
    with a green "solved in N steps" or red "failed" banner and border), titled with its name,
    under a header ``title - step t / max_steps`` and a count of the mazes solved so far. The
    animation runs until every episode has ended (or ``T`` steps)."""
    from PIL import Image, ImageDraw, ImageFont

    frames = np.asarray(frames)
    t_total, n = frames.shape[0], frames.shape[1]
    end = np.asarray(end_step, int).reshape(n)
    solved = np.asarray(solved, bool).reshape(n)
    t_used = int(min(t_total, end.max() + 1)) if n else 0
    h, w = frames.shape[2] * scale, frames.shape[3] * scale
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    pad, label_h, banner_h, head_h = 6, 20, 18, 30
    cell_w, cell_h = w + 2 * pad, h + label_h + banner_h + 2 * pad
    width, height = ncols * cell_w, head_h + nrows * cell_h
    try:
        font = ImageFont.load_default(size=13)
        big = ImageFont.load_default(size=15)
    except TypeError:  # Pillow < 10.1: the bitmap font only
        font = big = ImageFont.load_default()
    green, red, grey = (40, 160, 60), (200, 50, 40), (120, 120, 120)
    images = []
    for t in range(t_used):
        img = Image.new("RGB", (width, height), (255, 255, 255))
        d = ImageDraw.Draw(img)
        done_now = end <= t
        n_solved = int(np.sum(done_now & solved))
        head = f"{title} - step {t + 1} / {max_steps}   solved: {n_solved} / {n}".strip(" -")
        d.text((pad, 7), head, fill=(0, 0, 0), font=big)
        for i in range(n):
            r, c = divmod(i, ncols)
            x0, y0 = c * cell_w + pad, head_h + r * cell_h + pad
            d.text((x0, y0), str(names[i])[:32], fill=(0, 0, 0), font=font)
            tile = frames[min(t, end[i], t_total - 1), i]
            tile = np.repeat(np.repeat(tile, scale, 0), scale, 1)
            ty = y0 + label_h
            if done_now[i]:
                col = green if solved[i] else red
                d.rectangle([x0 - 4, ty - 4, x0 + w + 3, ty + h + 3], fill=col)
                msg = (
                    f"solved in {end[i] + 1} steps"
                    if solved[i]
                    else f"not solved in {end[i] + 1} steps"
                )
                d.text((x0, ty + h + 3), msg, fill=col, font=font)
            else:
                d.rectangle([x0 - 2, ty - 2, x0 + w + 1, ty + h + 1], fill=grey)
            img.paste(Image.fromarray(tile.astype(np.uint8)), (x0, ty))
        images.append(img)
    return images


__all__ = [
    "gif_frames",
    "level_fields",
    "maze_renderer",
    "plot_level_evolution",
    "plot_level_grid",
    "plot_top_levels",
    "top_indices",
]
