"""Figures of behaviour distillation (HaDES): meta-training fitness and the distilled dataset.
Host only; nothing is jittable.

* :func:`plot_hades_fitness`: population mean and best fitness, and the ES mean's evaluation,
  against generation;
* :func:`plot_hades_dataset`: the dataset's states (PCA axes with the variance they explain,
  or the two named state dimensions) coloured by action, over the states a policy trained on
  it visits, or its image states one by one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from experiments.figures.names import action_names, state_names
from experiments.figures.style import _caption, _wrap, draw_series, legend_outside, style_axes


def plot_hades_fitness(rows: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """HaDES meta-training of one ES run: population mean and generation best fitness (return
    of policies trained on each candidate dataset) and the periodic evaluation of the ES mean,
    against generation. ``rows``: metric rows (``read_metrics``) with ``fitness_mean``."""
    recs = [r for r in rows if "fitness_mean" in r]
    fig = Figure(figsize=(7.6, 4.4), layout="constrained")
    ax = fig.subplots()
    g = np.array([r.get("generation", i) for i, r in enumerate(recs)], float)
    smoothed = False
    for key, lab in (("fitness_mean", "population mean"), ("fitness_best", "generation best")):
        v = np.array([np.nan if r.get(key) is None else r[key] for r in recs], float)
        smoothed |= draw_series(ax, g, v, label=lab)["smoothed"]
    ev = [(r.get("generation"), r["eval_mean_return"]) for r in rows
          if r.get("eval_mean_return") is not None]  # fmt: skip
    if ev:
        gx, gy = map(np.asarray, zip(*ev, strict=True))
        once = " (evaluated once)" if len(ev) == 1 else ""
        ax.plot(gx, gy, "s-", color="C2", ms=4, label=f"ES mean: fresh policies{once}")
    style_axes(ax, None, "generation", "return on the real environment")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend_outside(ax)
    fig.suptitle(title or "HaDES meta-training", fontsize=12)
    foot = "one ES run (no seed interval)"
    if smoothed:
        foot += ("; bold: trailing (causal) exponential moving average, which lags the data; "
                 "faint: unsmoothed")  # fmt: skip
    if ev:
        foot += "; ES mean: mean return of policies trained afresh on the mean's dataset"
    _caption(fig, _wrap(foot, 110))
    return fig


def _pca(x: np.ndarray, fit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(projection matrix (D, 2), mean, explained variance ratio (2,))`` fitted on ``fit``."""
    mu = fit.mean(0)
    _, s, vt = np.linalg.svd(fit - mu, full_matrices=False)
    var = s**2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    if vt.shape[0] >= 2:
        return vt[:2].T, mu, ratio[:2]
    return np.eye(fit.shape[1], 2), mu, np.pad(ratio, (0, 2 - len(ratio)))


def plot_hades_dataset(
    states: Any,
    targets: Any,
    *,
    discrete: bool,
    visited: Any = None,
    target: str | None = None,
    image: bool = False,
    title: str | None = None,
) -> Figure:
    """The distilled dataset. Vector states: the dataset's states on the first two principal
    components (fitted on dataset + visited states; axes say the share of variance each
    explains), coloured by action as categories with a legend of action names (continuous
    actions: a colour bar of the first action dimension); with ``visited`` (states a policy
    trained on the dataset visits) they are drawn behind it in the same panel. For 2-D
    states the axes are the named state dimensions instead of PCA. Image states
    (``image=True``): one picture per state, titled with its action name."""
    states = np.asarray(states, float)
    targets = np.asarray(targets, float)
    n = states.shape[0]
    labels = targets.argmax(-1) if discrete else targets.reshape(n, -1)[:, 0]
    na = targets.shape[-1] if discrete else 0
    anames = action_names(target, na) if discrete else []
    name = title or f"HaDES distilled dataset{': ' + target if target else ''} (N={n})"
    if image:
        cols = min(n, 8)
        rows_ = math.ceil(n / cols)
        fig = Figure(figsize=(1.7 * cols, 1.9 * rows_ + 0.5), layout="constrained")
        axes = fig.subplots(rows_, cols, squeeze=False).ravel()
        from matplotlib import colormaps

        hues = colormaps["tab10"](np.arange(states.shape[-1]) % 10)[:, :3]
        for i, a in enumerate(axes):
            a.axis("off")
            if i < n:
                img = np.clip(np.einsum("hwc,cd->hwd", np.clip(states[i], 0, None), hues), 0, 1)
                a.imshow(img, interpolation="nearest")
                a.set_title(anames[labels[i]] if discrete else f"a={labels[i]:.2f}", fontsize=8)
        fig.suptitle(name + "; colour: channel, title: action", fontsize=11)
        return fig
    flat_s = states.reshape(n, -1)
    vis = None if visited is None else np.asarray(visited, float).reshape(-1, flat_s.shape[1])
    d = flat_s.shape[1]
    if d == 2:
        proj, mu, ratio = np.eye(2), np.zeros(2), None
        axis_names = state_names(target, 2)
    else:
        fit = np.concatenate([flat_s, vis]) if vis is not None and len(vis) else flat_s
        proj, mu, ratio = _pca(flat_s, fit)
        axis_names = [f"PC {i + 1} ({ratio[i]:.0%} of variance)" for i in range(2)]
    ps = (flat_s - mu) @ proj
    pv = None if vis is None else (vis - mu) @ proj
    # with visited states one panel shows both: a second panel of the dataset alone would
    # repeat its points
    fig = Figure(figsize=(6.6, 4.6), layout="constrained")
    ax = fig.subplots()

    def dataset(ax, marker, size):
        if discrete:
            for a in range(na):
                sel = labels == a
                if sel.any():
                    ax.scatter(ps[sel, 0], ps[sel, 1], s=size, marker=marker, color=f"C{a % 10}",
                               edgecolor="black", lw=0.5, label=f"dataset: {anames[a]}",
                               zorder=3)  # fmt: skip
            return None
        return ax.scatter(ps[:, 0], ps[:, 1], c=labels, cmap="coolwarm", s=size, marker=marker,
                          edgecolor="black", lw=0.5, zorder=3)  # fmt: skip

    if pv is not None:
        ax.scatter(pv[:, 0], pv[:, 1], s=5, alpha=0.35, c="0.5",
                   label="visited by a policy\ntrained on the dataset")  # fmt: skip
    sc = dataset(ax, "*" if pv is not None else "o", 110 if pv is not None else 60)
    what = "dataset states (colour: action)"
    if pv is not None:
        what += " and the states a policy trained on them visits"
    style_axes(ax, _wrap(what, 60), axis_names[0], axis_names[1])
    if discrete or pv is not None:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=8)
    if not discrete and sc is not None:
        cb = fig.colorbar(sc, ax=ax, pad=0.01)
        cb.set_label("action (first dimension)", fontsize=8)
    fig.suptitle(name, fontsize=12)
    if ratio is not None:
        _caption(fig, _wrap(f"PCA fitted on dataset{' + visited' if vis is not None else ''} "
                 f"states ({d} dimensions); the two components explain {ratio.sum():.0%}", 90))
    return fig


__all__ = ["plot_hades_dataset", "plot_hades_fitness"]
