"""Plots of a run directory (``openued plot``; also written at the end of ``openued train``).

Host only. Writes into ``RUN_DIR/plots``:

* ``learning_curves.png``: rollout return and solve rate, evaluation solve rates (prefab and
  validation means), PPO loss and entropy, against env steps (mean over seeds, min-max band);
* ``per_maze_solve_rate.png``: solve rate per prefab maze at the last evaluation;
* ``curriculum.png``: curriculum diagnostics over updates (branch counts, replay fraction,
  buffer scores, estimated vs true regret, level statistics, ``cur/*``);
* ``top_levels.png``: the curriculum's highest-scoring stored levels (newest level snapshot);
* ``level_history.png``: how the curriculum's levels evolve, the mean and spread of each level
  descriptor over the stored levels at every level snapshot (``RUN_DIR/levels/``);
* ``agent.gif`` (``gif=True``): the agent on a few evaluation mazes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curve(ax, x, y, label=None):
    y = np.asarray(y, float)
    if y.ndim == 2:  # (lines, seeds)
        ok = ~np.all(np.isnan(y), axis=1)
        x, y = x[ok], y[ok]
        if not len(x):
            return
        mean = np.nanmean(y, 1)
        ax.plot(x, mean, label=label)
        ax.fill_between(x, np.nanmin(y, 1), np.nanmax(y, 1), alpha=0.25)
    else:
        ok = ~np.isnan(y)
        if ok.any():
            ax.plot(x[ok], y[ok], label=label, marker="." if ok.sum() < 30 else None)


def _grid(plt, n, w=3.6, h=2.6, ncols=3):
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def make_plots(run_dir, out_dir=None, gif: bool = False) -> list[Path]:
    """Write the run's plots; returns the paths written."""
    from ued.host import load_run

    plt = _plt()
    run = load_run(run_dir)
    out = Path(out_dir) if out_dir else Path(run_dir) / "plots"
    out.mkdir(parents=True, exist_ok=True)
    m = run.metrics
    written: list[Path] = []
    if "env_steps" not in m or not len(m["env_steps"]):
        return written
    x = np.asarray(m["env_steps"], float)
    upd = np.asarray(m["update"], float)

    # learning curves
    panels = [
        ("rollout/return", "training return"),
        ("rollout/solve_rate", "training solve rate"),
        ("eval/prefab_solve_rate", "prefab solve rate"),
        ("eval/validation_solve_rate", "validation solve rate"),
        ("ppo/loss", "PPO loss"),
        ("ppo/entropy", "policy entropy"),
    ]
    panels = [(k, t) for k, t in panels if k in m]
    if panels:
        fig, axes = _grid(plt, len(panels))
        for ax, (k, title) in zip(axes, panels, strict=False):
            v = np.asarray(m[k], float)
            if k.startswith("ppo/") and "trained" in m:
                # updates that skipped the gradient step (robust PLR's new levels) have no loss
                v = np.where(np.asarray(m["trained"], float) > 0, v, np.nan)
            _curve(ax, x, v)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("env steps", fontsize=8)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        p = out / "learning_curves.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        written.append(p)

    # per-maze solve rates at the last evaluation
    pre = sorted(k for k in m if k.startswith("eval/prefab/"))
    if pre:
        vals = []
        for k in pre:
            v = np.asarray(m[k], float)
            v = v.reshape(len(v), -1)
            rows = np.nonzero(~np.all(np.isnan(v), 1))[0]
            vals.append(v[rows[-1]] if len(rows) else np.full(v.shape[1], np.nan))
        vals = np.array(vals)
        fig, ax = plt.subplots(figsize=(7, 3))
        names = [k.split("/", 2)[2] for k in pre]
        ax.bar(names, np.nanmean(vals, 1), yerr=None if vals.shape[1] == 1 else np.nanstd(vals, 1))
        ax.set_ylim(0, 1)
        ax.set_ylabel("solve rate")
        ax.set_title(f"prefab mazes at update {int(upd[-1])}", fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        fig.tight_layout()
        p = out / "per_maze_solve_rate.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        written.append(p)

    # curriculum diagnostics
    keys = [k for k in m if k.startswith("branch/")]
    keys += [k for k in ("replay_fraction", "score/mean", "score/max") if k in m]
    keys += [k for k in m if k.startswith(("regret/", "level/", "cur/"))]
    keys = [k for k in keys if not k.startswith("cur/branch/")]  # duplicates branch/*

    def informative(k):
        v = np.asarray(m[k], float)
        v = v[np.isfinite(v)]
        return v.size > 0 and not np.all(v == 0)  # skip empty and all-zero (unused branches)

    keys = [k for k in keys if informative(k)]
    if keys:
        fig, axes = _grid(plt, len(keys), w=3.0, h=2.2, ncols=4)
        for ax, k in zip(axes, keys, strict=False):
            _curve(ax, upd, m[k])
            ax.set_title(k, fontsize=8)
            ax.tick_params(labelsize=6)
        fig.tight_layout()
        p = out / "curriculum.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        written.append(p)

    # top stored levels
    if run.buffer_levels is not None:
        p = _top_levels(run, out / "top_levels.png")
        if p is not None:
            written.append(p)

    history = run.level_history()
    if history:
        p = plot_level_history(history, out / "level_history.png", plt=plt)
        if p is not None:
            written.append(p)

    if gif:
        written.append(make_gif(run_dir, out / "agent.gif"))
    return written


def plot_level_history(history, path: Path, plt=None) -> Path | None:
    """Mean (line) and 10-90% band of every level descriptor over the curriculum's stored
    levels at each snapshot. ``history``: ``[(unit, snapshot dict)]`` as from
    ``ued.host.Run.level_history()``; seed axes are pooled. Returns ``None`` without
    descriptors."""
    rows = [(u, s) for u, s in history if s.get("descriptors") is not None]
    if not rows:
        return None
    plt = plt or _plt()
    d0 = np.asarray(rows[-1][1]["descriptors"])
    dim = d0.shape[-1]
    names = rows[-1][1].get("descriptor_names") or [f"descriptor {j}" for j in range(dim)]
    units = np.array([u for u, _ in rows], float)
    stats = np.full((len(rows), dim, 3), np.nan)  # (snapshots, D, [p10, mean, p90])
    for i, (_, snap) in enumerate(rows):
        d = np.asarray(snap["descriptors"], float).reshape(-1, dim)
        valid = np.asarray(snap.get("valid", np.ones(d.shape[0], bool)), bool).reshape(-1)
        d = d[valid]
        if len(d):
            stats[i, :, 0] = np.percentile(d, 10, axis=0)
            stats[i, :, 1] = d.mean(0)
            stats[i, :, 2] = np.percentile(d, 90, axis=0)
    fig, axes = _grid(plt, dim, ncols=min(dim, 3))
    for j, ax in enumerate(axes[:dim]):
        ax.plot(units, stats[:, j, 1], marker="." if len(units) < 30 else None)
        ax.fill_between(units, stats[:, j, 0], stats[:, j, 2], alpha=0.25)
        ax.set_title(f"stored levels: {names[j]}", fontsize=9)
        ax.set_xlabel("update", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _maze_levels(d, seed_axis: bool):
    from flax import serialization

    from envs.maze import MazeLevel

    if not isinstance(d, dict):  # a level pytree (load_run with a curriculum)
        d = serialization.to_state_dict(d)
    arrs = {k: np.asarray(v) for k, v in d.items()}
    if seed_axis:
        arrs = {k: v[0] for k, v in arrs.items()}
    return MazeLevel(**arrs)


def _top_levels(run, path: Path, k: int = 16) -> Path | None:
    from envs.maze import save_level_grid

    seed_axis = int(run.config.get("num_seeds", 1)) > 1
    levels = _maze_levels(run.buffer_levels, seed_axis)
    n = levels.wall_map.shape[0]
    scores = run.buffer_scores
    if scores is None:
        scores = np.zeros(n)
    scores = np.asarray(scores, float)
    if seed_axis:
        scores = scores[0]
    filled = np.isfinite(scores)
    if run.buffer_valid is not None:
        fl = np.asarray(run.buffer_valid, bool)
        filled &= fl[0] if seed_axis else fl
    idx = [i for i in np.argsort(-np.where(filled, scores, -np.inf), kind="stable") if filled[i]]
    idx = idx[:k]
    if not idx:
        return None
    sel = [
        type(levels)(
            **{
                f: np.asarray(getattr(levels, f))[i]
                for f in ("wall_map", "agent_pos", "agent_dir", "goal_pos", "width", "height")
            }
        )
        for i in idx
    ]
    save_level_grid(sel, path, titles=[f"#{i} {scores[i]:.3g}" for i in idx])
    return path


def make_gif(run_dir, path: Path, num_levels: int = 4, max_frames: int = 120) -> Path:
    """Animation of the agent (seed 0, sampled actions) on up to ``num_levels`` eval mazes: the
    first episode on each, drawn from the maze states the rollout records."""
    import jax
    import jax.numpy as jnp
    from PIL import Image

    from envs.maze import render_state
    from experiments.cli import restore
    from ued.rollout import first_episode, rollout_levels
    from ued.wrappers import AutoReplay, EpisodeStats

    exp, state, _ = restore(run_dir)
    params = state.student.params
    if exp.config.num_seeds > 1:
        params = jax.tree.map(lambda x: x[0], params)
    sets = exp.eval_sets
    if not sets:
        raise ValueError("no evaluation mazes to animate")
    names, levels = sets.get("prefab", next(iter(sets.values())))
    n = min(num_levels, len(names))
    levels = jax.tree.map(lambda x: x[:n], levels)
    env = EpisodeStats(AutoReplay(exp.env))
    ep = exp.env.default_params
    net = exp.student
    steps = min(max_frames, exp.config.max_episode_steps)

    @jax.jit
    def play(key):
        res = rollout_levels(
            key,
            env,
            levels,
            params,
            ep,
            net=net,
            num_steps=steps,
            record_state=env.base_state,  # the maze's own state, before each action
        )
        frames = jax.vmap(jax.vmap(render_state))(res.states)  # (T, n, H, W, 3)
        alive = first_episode(jnp.logical_or(res.traj.terminated, res.traj.truncated))
        return frames, alive

    frames, alive = jax.device_get(play(jax.random.key(0)))
    frames = np.asarray(frames)
    t_used = int(np.max(np.nonzero(np.asarray(alive).any(1))[0], initial=0)) + 1
    imgs = []
    for t in range(t_used):
        row = np.concatenate([frames[t, i] for i in range(n)], axis=1)
        imgs.append(Image.fromarray(row.astype(np.uint8)))
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=80, loop=0)
    return path


__all__ = ["make_gif", "make_plots", "plot_level_history"]
