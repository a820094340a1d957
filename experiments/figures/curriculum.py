"""Curriculum figures: the diagnostics a curriculum logs, grouped into panels named for people,
and pictures of what a curriculum stores (the scores in its level buffer, its MAP-Elites
archive). Host only; nothing is jittable.

* :func:`plot_curriculum`: branch shares, scores, estimated vs true regret, the buffer, level
  descriptors of the levels trained on vs proposed, against env steps
  (:func:`curriculum_panels`, :data:`CURRICULUM_PANELS`);
* :func:`plot_score_histogram`: the scores of a level buffer's filled slots;
* :func:`plot_archive`: a MAP-Elites archive's elite score per cell next to a sample of elites.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from experiments.figures.levels import _render_many
from experiments.figures.names import BRANCH_NAMES, BRANCHES, clean_name, descriptor_label  # noqa: F401
from experiments.figures.style import (
    _caption,
    _flat_limits,
    _fmt,
    _new_figure,
    _runs,
    _same,
    _seed_note,
    _seeds,
    _wrap,
    _x_axis,
    draw_series,
    legend_outside,
    load_metrics,
    num_seeds,
    reference_line,
    save,
    style_axes,
    title_note,
)

if TYPE_CHECKING:
    from curricula.archive import ArchiveConfig, ArchiveState
    from curricula.buffer import LevelBufferState
    from ued.level_space import LevelSpace

# (panel title, y label, [(key, series label)], y in [0, 1])
CURRICULUM_PANELS: list[tuple[str, str, list[tuple[str, str]], bool]] = [
    ("Proposals by branch", "share of proposed levels", [], True),  # filled from branch/*
    ("Share of levels trained on", "share", [("train_fraction", "trained on")], True),
    (
        "Scores of proposed levels",
        "score",
        [("score/max", "max")] + [(f"cur/score/{b}", f"mean, {b}") for b in BRANCHES],
        False,
    ),
    (
        "Level score, replayed levels",
        "score",
        # runs written before the score was named for what it is logged it as "regret"
        [("score/replay", "mean, replayed"), ("regret/estimated_replay", "mean, replayed")],
        False,
    ),
    (
        "True regret: optimal - mean return",
        "regret",
        [("regret/true_all", "all levels"), ("regret/true_replay", "replayed levels")],
        False,
    ),
    (
        "Buffer: scores",
        "score",
        [
            ("cur/buffer/max_score", "max"),
            ("cur/buffer/mean_score", "mean"),
            ("cur/buffer/min_score", "min"),
        ],
        False,
    ),
    ("Buffer: share of slots filled", "share", [("cur/buffer/fill", "filled")], True),
    (
        "Buffer: stored levels",
        "levels",
        [("cur/buffer/size", "stored"), ("cur/buffer/min_size", "needed to replay")],
        False,
    ),
    ("Levels: solve rate", "solve rate", [("cur/level/solve_rate", "proposed levels")], True),
]
# keys that repeat another shown metric (the value in parentheses)
DUPLICATE_KEYS: dict[str, str] = {
    "cur/score/mean": "score/mean (mean score, NaN-free variant)",
    "regret/estimated_all": "score/mean (older runs' name of the mean score)",
    "replay_fraction": "branch/replay",
    "cur/train/share": "train_fraction",
    **{f"cur/branch/{b}": f"branch/{b}" for b in BRANCHES},
}
# keys that are not curriculum diagnostics (drawn elsewhere or bookkeeping)
_NOT_CURRICULUM = ("rollout/", "ppo/", "eval/", "obs/")
_BOOKKEEPING = {"update", "env_steps", "generation", "trained", "nonfinite_loss", "train/share"}


def branch_names(m: Mapping[str, Any]) -> list[str]:
    """The branches a run logged: the ``X`` of its ``branch/X`` metrics (each curriculum names
    its own, ``ued.Curriculum.branches``), else of ``cur/branch/X``; the shared ones in the
    order of :data:`BRANCHES`, a curriculum's own after them."""
    for prefix in ("branch/", "cur/branch/"):
        names = [k[len(prefix) :] for k in m if k.startswith(prefix)]
        if names:
            known = [b for b in BRANCHES if b in names]
            return known + [b for b in names if b not in known]
    return []


# one colour per branch, the same in every panel (proposal shares, scores per branch)
BRANCH_COLORS = {b: f"C{i}" for i, b in enumerate(BRANCHES)}
_NAMED = {BRANCH_NAMES.get(b, b): b for b in BRANCHES}


def _branch_of(label: str) -> str | None:
    """The branch a series label names (``"mean, replay"``, ``"replay (from buffer)"``)."""
    b = label[len("mean, ") :] if label.startswith("mean, ") else _NAMED.get(label)
    return b if b in BRANCH_COLORS else None


def _colors(labels: Sequence[str]) -> list[str]:
    """A colour per series: a branch's series in its branch's colour, the others in the first
    colours no branch of the panel uses."""
    used = {BRANCH_COLORS[b] for b in map(_branch_of, labels) if b}
    free = iter([f"C{j}" for j in range(10) if f"C{j}" not in used] * 2)
    return [BRANCH_COLORS[b] if (b := _branch_of(lab)) else next(free) for lab in labels]


def _branch_shares(m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = branch_names(m)
    counts = {b: _seeds(m[f"branch/{b}"]) for b in names if f"branch/{b}" in m}
    if counts:
        tot = sum(np.nan_to_num(c) for c in counts.values())
        with np.errstate(invalid="ignore", divide="ignore"):
            return {b: np.where(tot > 0, c / tot, np.nan) for b, c in counts.items()}
    return {b: _seeds(m[f"cur/branch/{b}"]) for b in names if f"cur/branch/{b}" in m}


def _is_constant(v: np.ndarray) -> float | None:
    f = v[np.isfinite(v)]
    if f.size and np.all(f == f[0]):
        return float(f[0])
    return None


def curriculum_panels(
    metrics: Any, extra: Sequence[Any] = ()
) -> tuple[list[tuple[str, str, list, bool]], list[str]]:
    """The curriculum figure's panels ``(title, y label, [(series label, values)], unit)``
    with data, and footnotes (branches never used, constant metrics, duplicates left out).
    ``extra``: the curriculum's own panels (``ued.registry.Panel``: title, metric keys, y
    label), drawn after the branch panels. Series without a finite value are dropped; a panel
    whose series are all constant becomes a footnote; keys this module does not know get a
    panel each, titled with :func:`clean_name`."""
    m = load_metrics(metrics)
    used: set[str] = set()
    panels, notes, constant = [], [], []
    shares = _branch_shares(m)
    names = branch_names(m)
    used |= {f"branch/{b}" for b in names} | {f"cur/branch/{b}" for b in names}
    active = [b for b, v in shares.items() if np.nanmax(np.nan_to_num(v), initial=0) > 0]
    never = [b for b in shares if b not in active]
    if never:
        notes.append("branches never used: " + ", ".join(never))
    if len(active) == 1:  # a share that is 1 throughout says nothing a panel should show
        notes.append(f"every proposal came from one branch: {BRANCH_NAMES.get(active[0], active[0])}")
        active = []
    level_panels = []
    desc = sorted({k.split("/")[-1] for k in m if re.match(r"^(cur/)?level/", k)} - {"solve_rate"})
    for d in desc:
        name, unitn = descriptor_label(d)
        series = [(f"level/{d}", "levels trained on"), (f"cur/level/{d}", "proposed levels")]
        level_panels.append((f"Levels: {name}", unitn or name, series, False))
    own = [(p.title, p.ylabel, [(k, clean_name(k)) for k in p.keys], False) for p in extra]
    specs = list(CURRICULUM_PANELS[:2]) + own + list(CURRICULUM_PANELS[2:-1]) + level_panels
    specs.append(CURRICULUM_PANELS[-1])
    if "cur/buffer/size" in m and "cur/buffer/fill" in m:
        # the share filled is the stored count over the capacity: one panel draws both
        specs = [sp for sp in specs if sp[0] != "Buffer: share of slots filled"]
        used.add("cur/buffer/fill")
        notes.append("buffer: share of slots filled = stored levels / capacity (drawn once, "
                     "as stored levels)")  # fmt: skip
    for title, ylabel, series, unit in specs:
        if title == "Scores of proposed levels":  # one mean per branch the run logged
            series = [("score/max", "max"), ("score/mean", "mean, all")]
            series += [(f"cur/score/{b}", f"mean, {b}") for b in names]
        if title == "Proposals by branch":
            data = [(BRANCH_NAMES.get(b, b), shares[b]) for b in active]
            if not data:
                continue
        else:
            data = []
            for key, lab in series:
                used.add(key)
                if key in m and np.isfinite(m[key]).any():
                    data.append((lab, _seeds(m[key]), key))
            if len(data) == 1 and any(title == p.title for p in extra):
                data = [("", data[0][1], data[0][2])]  # one series: the panel names it
            if title == "Scores of proposed levels":
                per_branch = [d for d in data if d[2].startswith("cur/score/")]
                if len(per_branch) <= 1:  # one branch: its mean is the overall mean score
                    data = [d for d in data if not d[2].startswith("cur/score/")]
            data = [(lab, v) for lab, v, _ in data]
        if not data:
            continue
        consts = [_is_constant(v) for _, v in data]
        if all(c is not None for c in consts) and title != "Proposals by branch":
            constant += [f"{title.lower()}: {lab} = {_fmt(c)}" for (lab, _), c in
                         zip(data, consts, strict=True)]  # fmt: skip
            continue
        panels.append((title, ylabel, data, unit))
    used |= set(DUPLICATE_KEYS)
    for k in m:
        if k in used or k in _BOOKKEEPING or k.startswith(_NOT_CURRICULUM):
            continue
        if k.startswith("eval") or not np.isfinite(m[k]).any():
            continue
        c = _is_constant(m[k])
        if c is not None:
            constant.append(f"{clean_name(k)} = {_fmt(c)}")
            continue
        panels.append((clean_name(k).capitalize(), clean_name(k).split(": ")[-1], [("", _seeds(m[k]))],
                       False))  # fmt: skip
    if constant:
        notes.append("constant over the run: " + "; ".join(constant))
    dups = [k for k in DUPLICATE_KEYS if k in m and k not in ("score/mean",)]
    if dups:
        notes.append("left out as duplicates: " + ", ".join(dups))
    return _merge_identical(panels), notes


def _merge_identical(panels: list) -> list:
    """Series drawn twice are drawn once: within a panel, a series equal to an earlier one
    joins its label (e.g. levels trained on = proposed when every proposal is trained on); a
    panel whose every series is already drawn in another panel is left out (e.g. a single
    branch's mean score, which the regret panel shows as the estimated regret)."""
    out = []
    for title, ylabel, data, unit in panels:
        if title in _BLOCK_PANELS:
            out.append((title, ylabel, data, unit))
            continue
        merged: list[tuple[str, np.ndarray]] = []
        for lab, v in data:
            j = next((i for i, (_, w) in enumerate(merged) if _same(v, w)), None)
            if j is None:
                merged.append((lab, v))
            else:
                merged[j] = (f"{merged[j][0]} = {lab}", merged[j][1])
        out.append((title, ylabel, merged, unit))
    keep: list = []
    for i, (title, ylabel, data, unit) in enumerate(out):
        if title not in _BLOCK_PANELS:

            def covers(q, data=data):
                return q[0] not in _BLOCK_PANELS and all(
                    any(_same(v, w) for _, w in q[2]) for _, v in data
                )

            # every series already in a panel with more series, or in one kept before
            bigger = any(covers(q) and len(q[2]) > len(data) for j, q in enumerate(out) if j != i)
            if bigger or any(covers(q) for q in keep):
                continue
        keep.append((title, ylabel, data, unit))
    return keep


def plot_curriculum(
    metrics: Any,
    *,
    label: str | None = None,
    title: str | None = None,
    smoothing: float | None = None,
    panels: Sequence[Any] = (),
) -> Figure | None:
    """Curriculum diagnostics against env steps, grouped into named panels (branch shares,
    scores, estimated vs true regret, the buffer, level descriptors of the levels trained on
    vs proposed; see :func:`curriculum_panels`), with the curriculum's own ``panels``
    (``ued.registry.Panel``; a panel's ``reference`` is drawn as a dashed line). Returns
    ``None`` when the run has none."""
    runs = _runs(metrics, [label] if label else None)
    lab, m = runs[0]
    refs = {p.title: p.reference for p in panels if getattr(p, "reference", None)}
    panels, notes = curriculum_panels(m, panels)
    if not panels:
        return None
    x, xlabel = _x_axis(m)
    fig, axes = _new_figure(len(panels), 3, w=4.6, h=2.9)
    smoothed = False
    for ax, (ptitle, ylabel, data, unit) in zip(axes, panels, strict=True):
        if ptitle in _BLOCK_PANELS:
            _block_panel(
                ax, x, xlabel, ptitle, ylabel, data, stacked=ptitle == "Proposals by branch"
            )
            continue
        vals = []
        for (slab, v), color in zip(data, _colors([lab for lab, _ in data]), strict=True):
            info = draw_series(ax, x, v, label=slab or None, color=color, smoothing=smoothing)
            vals.append(info["values"])
            smoothed |= info["smoothed"]
        lone = data[0][0] if len(data) == 1 and ptitle not in refs else ""
        if lone and " = " not in lone and lone.lower() not in ptitle.lower():
            ylabel = f"{ylabel} ({lone})"  # a lone series gets no legend: the axis names it
        style_axes(ax, ptitle, xlabel, ylabel)
        if ptitle in refs:
            reference_line(ax, *refs[ptitle])
            vals.append(np.asarray([refs[ptitle][0]], float))
        note = _flat_limits(ax, np.concatenate(vals), unit)
        if unit and note is None:
            ax.set_ylim(-0.03, 1.03)
        title_note(ax, note)
        if len(data) > 1 or " = " in data[0][0] or ptitle in refs:  # several, or one for two
            legend_outside(ax)
    fig.suptitle(title or f"Curriculum diagnostics: {lab}", fontsize=12)
    foot = [_seed_note(num_seeds(m), smoothed)] + notes
    _caption(fig, "\n".join(_wrap(s, 170) for s in foot), fontsize=7.5)
    return fig


_BLOCK_PANELS = ("Proposals by branch", "Share of levels trained on")


def block_mean(x: Any, y: Any, blocks: int = 20) -> tuple[np.ndarray, np.ndarray, int]:
    """``(block centres, block means (B, K), block size)``: ``y`` (T,) or (T, K) averaged over
    consecutive blocks of at least 2 rows (about ``blocks`` of them), NaNs ignored. Shares that
    alternate from one update to the next (ACCEL's replay / new) read as their average."""
    a = _seeds(y)
    x = np.asarray(x, float)
    size = max(2, math.ceil(len(x) / blocks))
    nb = math.ceil(len(x) / size)
    xc = np.array([x[i * size : (i + 1) * size].mean() for i in range(nb)])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ym = np.stack([np.nanmean(a[i * size : (i + 1) * size], 0) for i in range(nb)])
    return xc, ym, size


def _block_panel(ax, x, xlabel, title, ylabel, data, stacked: bool) -> None:
    size = 1
    if stacked:
        ys = []
        for _, v in data:
            xc, ym, size = block_mean(x, v)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ys.append(np.nan_to_num(np.nanmean(ym, 1)))
        ax.stackplot(xc, *ys, labels=[lab for lab, _ in data], alpha=0.85,
                     colors=_colors([lab for lab, _ in data]))  # fmt: skip
        legend_outside(ax)
    else:
        for i, (lab, v) in enumerate(data):
            xc, ym, size = block_mean(x, v)
            draw_series(ax, xc, ym, label=lab or None, color=f"C{i}", smoothing=0)
    style_axes(ax, f"{title} (mean per {size} updates)", xlabel, ylabel)
    ax.set_ylim(-0.02, 1.02)
    if not stacked and len(data) > 1:
        legend_outside(ax)


# ----------------------------------------------------------------------------- stored levels


def plot_score_histogram(state: LevelBufferState, path=None, bins: int = 30) -> Figure:
    """Histogram of the finite scores of a level buffer's filled slots (``state.scores``,
    ``state.filled``: ``(capacity,)``, one seed). Saved as a PNG at ``path`` when given.
    Host only."""
    s = np.asarray(state.scores)[np.asarray(state.filled)]
    s = s[np.isfinite(s)]
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.hist(s, bins=bins, color="tab:blue")
    ax.set_xlabel("score")
    ax.set_ylabel("levels")
    ax.set_title(f"buffer scores (n={s.size})", fontsize=9)
    if path is not None:
        save(fig, path, dpi=100)
    return fig


def plot_archive(
    space: LevelSpace,
    state: ArchiveState,
    config: ArchiveConfig,
    path=None,
    num_elites: int = 8,
    seed: int = 0,
) -> Figure:
    """A 2-D MAP-Elites archive (one seed): a heat map of the elite score per cell over the
    two descriptor axes (empty cells blank, coverage in the title) next to ``num_elites``
    elites picked at random (``np.random.default_rng(seed)``) and drawn with
    ``space.render``, each titled with its cell and score. ``state.scores`` /
    ``state.filled``: ``(cells,)`` laid out as ``config.bins``. Saved as a PNG at ``path`` when
    given. Host only."""
    import jax

    if len(config.bins) != 2:
        raise NotImplementedError("plot_archive draws 2-D archives only")
    scores = np.asarray(state.scores).reshape(config.bins)
    filled = np.asarray(state.filled).reshape(config.bins)
    grid = np.where(filled, scores, np.nan)
    filled_idx = np.flatnonzero(np.asarray(state.filled))
    rng = np.random.default_rng(seed)
    pick = rng.choice(filled_idx, size=min(num_elites, filled_idx.size), replace=False)
    ncols = 2 + max(1, math.ceil(len(pick) / 2))
    fig = Figure(figsize=(2.2 * ncols + 2, 4.4))
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
    if path is not None:
        save(fig, path, dpi=100)
    return fig


__all__ = [
    "CURRICULUM_PANELS",
    "DUPLICATE_KEYS",
    "block_mean",
    "curriculum_panels",
    "plot_archive",
    "plot_curriculum",
    "plot_score_histogram",
]
