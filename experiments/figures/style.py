"""What every figure shares: reading metrics, smoothing, seed bands, axes style, notes, the
series drawer and the one way a figure file is written. Host only; nothing is jittable.

Metrics are columns ``{key: (rows,) or (rows, K)}`` float64 (:func:`load_metrics` accepts a run
directory, metric rows or columns). A curve of more than 12 points is smoothed with a trailing
(causal) exponential moving average (:func:`ema`, which lags the data), drawn bold over its
unsmoothed self drawn faint, and with K > 1 seeds it is the mean over seeds inside the 95%
percentile-bootstrap interval of that mean (:func:`seed_band`; one seed: no interval);
:func:`draw_series` does all of it for one series and says whether it smoothed. Legends sit
outside the panels (:func:`legend_outside`), so they never cover data; notes about a panel's
data go into its title (:func:`title_note`) or the caption (:func:`_caption`,
:func:`_seed_note` says what the curves and bands are, with the number of seeds). Every figure
file goes through :func:`save`, which writes atomically (a reader never sees a half-written PNG
or GIF).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, ScalarFormatter

# ----------------------------------------------------------------------------- data


def load_metrics(source: Any) -> dict[str, np.ndarray]:
    """Metric columns ``{key: (rows,) or (rows, K)}`` float64 from a run directory, a list of
    metric rows (``read_metrics``), a dict of arrays (``metrics_to_arrays`` / ``Run.metrics``)
    or a ``ued.host.Run``. Non-numeric columns are left out."""
    from ued.host import metrics_to_arrays, read_metrics

    if hasattr(source, "metrics") and isinstance(source.metrics, Mapping):
        source = source.metrics
    if isinstance(source, str | os.PathLike):
        return metrics_to_arrays(read_metrics(source))
    if isinstance(source, Mapping):
        out = {}
        for k, v in source.items():
            try:
                a = np.asarray(v, np.float64)
            except (TypeError, ValueError):
                continue
            if a.ndim in (1, 2):
                out[str(k)] = a
        return out
    if isinstance(source, Sequence):
        return metrics_to_arrays([r for r in source if isinstance(r, Mapping)])
    raise TypeError(f"metrics: expected a run directory, rows or a dict of arrays, got {source!r}")


def _label_of(source: Any, i: int) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name or str(source)
    rd = getattr(source, "run_dir", None)
    if rd is not None:
        return Path(rd).name
    return f"run {i + 1}"


def _x_axis(m: Mapping[str, np.ndarray]) -> tuple[np.ndarray, str]:
    for k, label in (
        ("env_steps", "env steps"),
        ("update", "update"),
        ("generation", "generation"),
    ):
        if k in m and len(m[k]):
            x = np.asarray(m[k], float)
            return (x if x.ndim == 1 else np.nanmean(x, 1)), label
    n = len(next(iter(m.values()))) if m else 0
    return np.arange(n, dtype=float), "row"


def _seeds(y: Any) -> np.ndarray:
    """``(T, K)`` float64 from ``(T,)`` or ``(T, K)``."""
    a = np.asarray(y, np.float64)
    return a[:, None] if a.ndim == 1 else a.reshape(a.shape[0], -1)


def num_seeds(m: Mapping[str, np.ndarray]) -> int:
    """Width of the widest per-seed column (1 without a seed axis)."""
    return max((np.shape(v)[1] for v in m.values() if np.ndim(v) == 2), default=1)


def ema(y: Any, weight: float) -> np.ndarray:
    """Trailing (causal) exponential smoothing along axis 0: point t is the average of the
    finite points ``s <= t`` weighted by ``weight ** (t - s)`` (normalised, so the start is not
    pulled towards 0), skipping NaNs (they stay NaN). A smoothed curve never moves before its
    raw data does; it lags behind it. ``weight`` in [0, 1): 0 is no smoothing."""
    a = np.asarray(y, np.float64)
    if weight <= 0 or a.shape[0] < 2:
        return a.copy()
    flat = a.reshape(a.shape[0], -1)
    ok = np.isfinite(flat)
    fs, fn = _ema_sums(np.where(ok, flat, 0.0), ok, weight)
    out = np.where(ok, fs / np.maximum(fn, 1e-300), np.nan)
    return out.reshape(a.shape)


def _ema_sums(v: np.ndarray, ok: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Running sums ``sum_{s <= t} weight ** (t - s) * v[s]`` and of the weights over the finite
    points, along axis 0 of ``(T, K)`` arrays."""
    acc, norm = np.zeros_like(v), np.zeros_like(v)
    a, n = np.zeros(v.shape[1:]), np.zeros(v.shape[1:])
    for t in range(v.shape[0]):
        a = weight * a + v[t]
        n = weight * n + ok[t]
        acc[t], norm[t] = a, n
    return acc, norm


def _fill_gaps(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Each column of ``a`` (T, K) linearly interpolated over its NaN gaps between its first
    and last finite value (seeds that log a metric on different updates, e.g. only when they
    trained, then average into one smooth curve)."""
    out = a.copy()
    for j in range(a.shape[1]):
        ok = np.isfinite(a[:, j])
        if ok.sum() >= 2:
            i0, i1 = np.nonzero(ok)[0][[0, -1]]
            xs = x[i0 : i1 + 1]
            out[i0 : i1 + 1, j] = np.interp(xs, x[ok], a[ok, j])
    return out


def auto_smoothing(n: int) -> float:
    """EMA weight for ``n`` points: about ``n / 10`` points of memory (at most 50), none
    below 12 points."""
    if n < 12:
        return 0.0
    return float(np.clip(1.0 - 10.0 / n, 0.0, 0.98))


def seed_band(
    y: Any, confidence: float = 0.95, reps: int = 500, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, low, high)`` over the seed axis of ``(T, K)`` values: the mean of the finite
    seeds and the ``confidence`` percentile-bootstrap interval of that mean (seeds resampled
    ``reps`` times with ``np.random.default_rng(seed)``; NaN where fewer than two seeds). With
    few seeds the interval stays inside the seeds' range (a t-interval with 2 seeds is 12.7
    standard errors wide)."""
    a = _seeds(y)
    t, k = a.shape
    ok = np.isfinite(a)
    n = ok.sum(1)
    a0 = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, a0.sum(1) / np.maximum(n, 1), np.nan)
    lo = np.full(t, np.nan)
    hi = np.full(t, np.nan)
    if k >= 2 and (n >= 2).any():
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(k, np.full(k, 1.0 / k), size=reps).astype(np.float64)  # (R, K)
        num = a0 @ counts.T  # (T, R)
        den = ok.astype(np.float64) @ counts.T
        with np.errstate(invalid="ignore", divide="ignore"):
            boots = np.where(den > 0, num / den, np.nan)
        rows = n >= 2
        q = (1 - confidence) / 2
        lo[rows] = np.nanquantile(boots[rows], q, axis=1)
        hi[rows] = np.nanquantile(boots[rows], 1 - q, axis=1)
    return mean, lo, hi


def _runs(sources: Any, labels: Sequence[str] | None) -> list[tuple[str, dict[str, np.ndarray]]]:
    if (
        isinstance(sources, Mapping)
        and sources
        and all(isinstance(v, Mapping | str | os.PathLike | list) for v in sources.values())
    ):
        items = list(sources.items())
        labels = labels or [str(k) for k, _ in items]
        sources = [v for _, v in items]
    elif isinstance(sources, str | os.PathLike | Mapping) or hasattr(sources, "metrics"):
        sources = [sources]
    elif (
        isinstance(sources, Sequence)
        and sources
        and isinstance(sources[0], Mapping)
        and ("update" in sources[0] or "generation" in sources[0])
    ):
        sources = [sources]  # one list of metric rows
    sources = list(sources)
    if labels is not None and len(labels) != len(sources):
        raise ValueError(f"labels: {len(labels)} labels for {len(sources)} runs")
    labels = (
        list(labels) if labels is not None else [_label_of(s, i) for i, s in enumerate(sources)]
    )
    return [(lab, load_metrics(s)) for lab, s in zip(labels, sources, strict=True)]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, equal_nan=True))


# ----------------------------------------------------------------------------- axes


def _si(v: float, _pos=None) -> str:
    a = abs(v)
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            s = f"{v / div:.2f}".rstrip("0").rstrip(".")
            return s + suf
    return f"{v:g}"


def style_axes(ax, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    """Title, labels, grid, no offset notation; ``env steps`` ticks read 200k, 1.5M."""
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9)
    fmt = ScalarFormatter(useOffset=False)
    fmt.set_scientific(False)
    ax.yaxis.set_major_formatter(fmt)
    if xlabel == "env steps":
        ax.xaxis.set_major_formatter(FuncFormatter(_si))
    else:
        xf = ScalarFormatter(useOffset=False)
        xf.set_scientific(False)
        ax.xaxis.set_major_formatter(xf)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25, lw=0.6)


def _note(ax, text: str, loc: str = "upper left") -> None:
    x, ha = (0.02, "left") if "left" in loc else (0.98, "right")
    y, va = (0.96, "top") if "upper" in loc else (0.04, "bottom")
    ax.text(
        x,
        y,
        text,
        transform=ax.transAxes,
        ha=ha,
        va=va,
        fontsize=7.5,
        color="0.25",
        bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.8", alpha=0.85),
    )


def _caption(fig: Figure, text: str, fontsize: float = 8, **_: Any) -> None:
    """A grey caption under the panels (kept clear of them by the constrained layout)."""
    fig.supxlabel(text, fontsize=fontsize, color="0.35")


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def _flat_limits(ax, values: np.ndarray, unit_range: bool) -> str | None:
    """When the finite ``values`` are (nearly) constant, set readable y limits around them and
    return a note; ``None`` otherwise."""
    v = values[np.isfinite(values)]
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    scale = max(abs(lo), abs(hi), 1e-12)
    if hi - lo > 1e-3 * scale and hi - lo > 1e-9:
        return None
    c = 0.5 * (lo + hi)
    if unit_range:
        ax.set_ylim(-0.05, 1.05)
    else:
        pad = max(0.1 * abs(c), 0.05)
        ax.set_ylim(c - pad, c + pad)
    return f"constant {_fmt(c)}" if lo == hi else f"≈ constant {c:.4g}"


def draw_series(
    ax,
    x: np.ndarray,
    y: Any,
    *,
    label: str | None = None,
    color=None,
    smoothing: float | None = None,
    dodge: float = 0.0,
    width: float = 1.0,
) -> dict:
    """Draw one metric against ``x`` on ``ax``: the mean over seeds (smoothed, the unsmoothed
    mean faint behind) and a 95% bootstrap band (:func:`seed_band`) when ``y`` has K > 1 seeds
    (one seed: no band); rows where every seed is NaN are skipped. Series with at most 12 points
    are drawn as markers joined by a line (no smoothing); a single point as a marker with its
    seed interval, moved sideways by ``dodge`` percent of its x so that several runs evaluated
    at the same step stay visible. ``width`` scales line widths and marker sizes (several runs
    drawn over each other: the first widest, so that equal curves all stay visible). Returns ``{"points": n, "seeds": K, "values": finite means,
    "smoothed": whether a moving average was drawn, "line", "x"}``."""
    a = _seeds(y)
    x = np.asarray(x, float)
    rows = ~np.all(np.isnan(a), axis=1)
    x, a = x[rows], a[rows]
    n, k = len(x), a.shape[1]
    info = {"points": n, "seeds": k, "values": np.zeros(0), "line": None, "smoothed": False}
    if n == 0:
        return info
    w = auto_smoothing(n) if smoothing is None else float(smoothing)
    smooth = w > 0 and n > 12
    raw_mean, _, _ = seed_band(a)
    sm = _fill_gaps(x, ema(a, w)) if smooth else a
    mean, lo, hi = seed_band(sm)
    if n == 1:
        xd = x + dodge * 0.01 * max(abs(float(x[0])), 1.0)
        (line,) = ax.plot(xd, mean, "o", ms=7 * width, color=color, label=label, zorder=3)
        if k > 1 and np.isfinite(lo).all():
            ax.errorbar(xd, mean, yerr=[mean - lo, hi - mean], fmt="none", color=line.get_color())
    elif not smooth:
        (line,) = ax.plot(x, mean, "o-", ms=4 * width, lw=1.4 * width, color=color, label=label,
                          zorder=3)  # fmt: skip
    else:
        (faint,) = ax.plot(x, raw_mean, lw=0.7, alpha=0.3, color=color, zorder=1)
        color = faint.get_color()
        (line,) = ax.plot(x, mean, lw=1.6 * width, color=color, label=label, zorder=3)
    if k > 1 and n > 1:
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(x, np.where(ok, lo, mean), np.where(ok, hi, mean), alpha=0.2, lw=0,
                        color=line.get_color())  # fmt: skip
    info.update(values=raw_mean[np.isfinite(raw_mean)], line=line, x=x, smoothed=smooth)
    return info


def legend_outside(ax, handles=None, labels=None, *, title: str | None = None, wrap: int = 26):
    """The panel's legend to the right of its axes, outside the data area (a constrained layout
    makes room for it), so that it never covers a curve, a band or a bar. Labels longer than
    ``wrap`` characters are wrapped. Returns the legend (``None`` without labelled artists)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    labels = [_wrap(str(lab), wrap) for lab in labels]
    return ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5),
                     borderaxespad=0.0, fontsize=7.5, frameon=False, title=title,
                     title_fontsize=7.5)  # fmt: skip


def reference_line(ax, value: float, text: str) -> None:
    """A dashed horizontal line at ``value`` labelled ``text`` (in the legend): the scale a
    zoomed axis needs, e.g. an entropy's uniform maximum or a prior's mean."""
    ax.axhline(value, ls="--", lw=1.1, color="0.3", label=text, zorder=2)


def title_note(ax, note: str | None) -> None:
    """Append ``note`` (e.g. "constant 1") to the panel's title, where it cannot cover data."""
    if note:
        title = ax.get_title()
        ax.set_title(f"{title}\n({note})" if title else f"({note})", fontsize=10)


def grid_shape(n: int, max_cols: int = 3) -> tuple[int, int]:
    """``(rows, cols)`` for ``n`` panels: one row when they fit in ``max_cols``, else
    ``max_cols`` or ``max_cols + 1`` columns, whichever leaves fewer cells empty (ties: fewer
    rows), 4 panels 2 x 2; e.g. 7 panels are 2 x 4, 8 are 2 x 4, 9 are 3 x 3, 5 are 2 x 3."""
    if n == 4 and max_cols < 4:
        return 2, 2
    if n <= max_cols:
        return 1, max(n, 1)
    best = min(
        (math.ceil(n / c) * c - n, math.ceil(n / c), c) for c in (max_cols + 1, max_cols)
    )
    return best[1], best[2]


def _new_figure(n: int, ncols: int, w: float = 4.0, h: float = 3.0):
    nrows, ncols = grid_shape(max(n, 1), ncols)
    fig = Figure(figsize=(w * ncols, h * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _seed_note(k: int | str, smoothed: bool = True) -> str:
    """What the curves of a figure are: the mean over ``k`` seeds with the band's interval and
    its n (one seed: no interval), and, when a curve was smoothed, that the smoothing is a
    trailing moving average. ``k``: seeds, or a text such as "3/5" when runs differ."""
    if k == 1 or k == "1":
        parts = ["1 seed (no interval)"]
    else:
        parts = [f"mean over n = {k} seeds, band: 95% bootstrap interval of that mean"]
    if smoothed:
        parts.append("bold: trailing (causal) exponential moving average, which lags the data; "
                     "faint: unsmoothed")  # fmt: skip
    return "; ".join(parts)


def _wrap(s: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(s, width)) or s


# ----------------------------------------------------------------------------- saving


def save(
    fig: Any,
    path: str | os.PathLike,
    dpi: int = 130,
    *,
    bbox_inches: str | None = "tight",
    frame_ms: int | Sequence[int] = 70,
) -> Path:
    """Write a figure file atomically (a temporary file renamed over ``path``, through
    ``ued.host.atomic_write_bytes``) and return its path. Host only.

    ``fig``: a matplotlib ``Figure``, rendered in the format of ``path``'s suffix at ``dpi``
    with a tight bounding box (``bbox_inches=None``: the figure's own size); or an animation
    as a sequence of PIL images, written as a looping GIF showing each for ``frame_ms``
    milliseconds (one number, or one per image)."""
    import io

    from ued.host import atomic_write_bytes, save_figure

    if isinstance(fig, Figure):
        return save_figure(fig, path, dpi=dpi, bbox_inches=bbox_inches)
    frames = list(fig)
    if not frames:
        raise ValueError(f"save: no frames to write to {path}")
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0, optimize=True)  # fmt: skip
    return atomic_write_bytes(path, buf.getvalue())


__all__ = [
    "auto_smoothing",
    "draw_series",
    "ema",
    "grid_shape",
    "legend_outside",
    "reference_line",
    "load_metrics",
    "num_seeds",
    "save",
    "seed_band",
    "style_axes",
    "title_note",
]
