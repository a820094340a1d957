"""Plots of a run directory (``openued plot``; also written at the end of ``openued train``).

Host only. The figures come from :mod:`experiments.figures` (functions of data that a notebook
can call too); this module reads the run directory and writes into ``RUN_DIR/plots``:

* ``learning_curves.png``: training return, solve rate and episode length, evaluation solve
  rates (prefab and validation), PPO loss and entropy against env steps (mean over seeds with
  a 95% bootstrap band, smoothed with the raw curve faint);
* ``per_maze_solve_rate.png``: solve rate per prefab maze at the last evaluation (values on
  the bars, a dot per seed, "all 0" said when nothing was solved);
* ``curriculum.png``: curriculum diagnostics in named panels (branch shares, scores, estimated
  vs true regret, the buffer, descriptors of the levels trained on vs proposed);
* ``top_levels.png``: the curriculum's highest-scoring stored levels (newest level snapshot);
* ``level_history.png``: the distribution of each level descriptor (and the scores) over the
  curriculum's stored levels at every level snapshot (``RUN_DIR/levels/``);
* ``agent.gif`` (``gif=True``): the agent's first episode on each prefab maze (named, with a
  step counter and a solved / failed marker), to the env's step limit or until all are done.

:func:`compare_plots` writes ``compare.png``, ``compare.md`` and ``compare.json`` for several
runs (``openued plot RUN RUN ... --compare --out DIR``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from experiments import figures as F


def make_plots(
    run_dir,
    out_dir=None,
    gif: bool = False,
    restore: Callable[[Any], tuple[Any, Any, int]] | None = None,
) -> list[Path]:
    """Write the run's plots; returns the paths written. ``gif=True`` also animates the agent
    (:func:`make_gif`), which needs ``restore``."""
    from ued.host import ensure_dir, load_run

    run = load_run(run_dir)
    out = ensure_dir(Path(out_dir) if out_dir else Path(run_dir) / "plots")
    m = run.metrics
    written: list[Path] = []
    if "env_steps" not in m or not len(m["env_steps"]):
        return written
    label = _run_label(run)

    written.append(F.save(F.plot_learning_curves(m, label=label), out / "learning_curves.png"))
    names, _, _ = F.final_level_scores(m)
    if names:
        fig = F.plot_per_level_solve_rate(m, title=f"Solve rate per prefab maze: {label}")
        written.append(F.save(fig, out / "per_maze_solve_rate.png"))
    cm = m
    if _is_paired(run):
        # PAIRED's own metrics have their own figure (paired_curves.png): not twice
        from experiments.presets import PAIRED_METRICS

        drop = set(PAIRED_METRICS) | {f"cur/{k}" for k in PAIRED_METRICS}
        cm = {k: v for k, v in m.items() if k not in drop}
    fig = F.plot_curriculum(cm, label=label)
    if fig is not None:
        written.append(F.save(fig, out / "curriculum.png"))
    if _is_paired(run):  # regret and path-length curves, the teacher's levels over training
        from experiments.paired_plots import write_paired_plots

        written += write_paired_plots(run, out, label=label)

    if run.buffer_levels is not None:
        p = _top_levels(run, out / "top_levels.png")
        if p is not None:
            written.append(p)

    history = run.level_history()
    if history:
        p = plot_level_history(history, out / "level_history.png", label=label)
        if p is not None:
            written.append(p)

    if gif:
        if restore is None:
            raise ValueError("make_plots: gif=True needs restore(run_dir) to load the agent")
        written.append(make_gif(run_dir, out / "agent.gif", restore=restore))
    return written


def compare_plots(run_dirs, out_dir, labels=None) -> list[Path]:
    """``compare.png`` (learning curves of every run overlaid, final IQM with 95%
    stratified-bootstrap intervals), ``compare.md`` and ``compare.json`` (the table) in
    ``out_dir``; labels default to ``preset (dir name)``. Returns the paths written."""
    from ued.host import load_run

    runs = [load_run(d) for d in run_dirs]
    labels = list(labels) if labels else _unique([_run_label(r) for r in runs])
    return F.write_comparison({lab: r.metrics for lab, r in zip(labels, runs, strict=True)},
                              out_dir)  # fmt: skip


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


def _is_paired(run) -> bool:
    from experiments.presets import is_paired

    return isinstance(run.config, dict) and is_paired(run.config)


def _run_label(run) -> str:
    name = Path(run.run_dir).name
    preset = run.config.get("preset") if isinstance(run.config, dict) else None
    if preset and preset != name:
        return f"{preset} ({name})"
    return name


def plot_level_history(history, path: Path, plt=None, label: str | None = None) -> Path | None:
    """Write :func:`experiments.figures.plot_level_evolution` of ``history`` (``[(unit,
    snapshot dict)]`` as from ``ued.host.Run.level_history()``) to ``path``. Returns ``None``
    without snapshots. (``plt`` is accepted for compatibility and unused.)"""
    fig = F.plot_level_evolution(history, label=label)
    if fig is None:
        return None
    return F.save(fig, path)


def _top_levels(run, path: Path, k: int = 16) -> Path | None:
    seed_axis = int(run.config.get("num_seeds", 1)) > 1
    fields = F.level_fields(run.buffer_levels)
    if seed_axis:
        fields = {f: v[0] for f, v in fields.items()}
    n = fields["wall_map"].shape[0]
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
    idx = F.top_indices(scores, filled, k)
    if not idx:
        return None
    images = F.maze_renderer()({f: v[idx] for f, v in fields.items()})
    k_seeds = int(run.config.get("num_seeds", 1))
    what = ("The teacher's latest levels" if _is_paired(run) else "Stored levels") + \
        ", highest score first"
    seed = f" (seed 0 of {k_seeds})" if k_seeds > 1 else ""
    fig = F.plot_level_grid(list(images), [f"slot {i}: score {scores[i]:.3g}" for i in idx],
                            suptitle=f"{what}: {_run_label(run)}{seed}")  # fmt: skip
    return F.save(fig, path, dpi=100, bbox_inches=None)


def make_gif(
    run_dir,
    path: Path,
    num_levels: int = 8,
    max_frames: int | None = None,
    scale: int = 2,
    frame_ms: int = 70,
    *,
    restore: Callable[[Any], tuple[Any, Any, int]],
) -> Path:
    """Animation of the agent (seed 0, sampled actions) on up to ``num_levels`` evaluation mazes
    (the prefab set when there is one), each named: the first episode on each, to the env's
    step limit (``max_frames`` caps it) or until every episode has ended, with a step counter
    and a solved / failed marker (:func:`experiments.figures.gif_frames`). The last frame is
    held for 2 s. ``restore(run_dir) -> (experiment, state, update)`` loads the run's newest
    checkpoint (``experiments.cli.restore``; the command that owns the run kind passes it)."""
    import jax
    import jax.numpy as jnp

    from envs.maze import render_state
    from ued.rollout import rollout_levels
    from ued.wrappers import AutoReplay, EpisodeStats

    exp, state, update = restore(run_dir)
    params = state.student.params
    if exp.config.num_seeds > 1:
        params = jax.tree.map(lambda x: x[0], params)
    sets = exp.eval_sets
    if not sets:
        raise ValueError("no evaluation mazes to animate")
    set_name = "prefab" if "prefab" in sets else next(iter(sets))
    names, levels = sets[set_name]
    n = min(num_levels, len(names))
    levels = jax.tree.map(lambda x: x[:n], levels)
    env = EpisodeStats(AutoReplay(exp.env))
    ep = exp.env.default_params
    net = exp.student
    steps = int(exp.config.max_episode_steps)
    if max_frames is not None:
        steps = min(steps, int(max_frames))
    mcfg = getattr(exp, "maze_config", None)

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
        frames = jax.vmap(jax.vmap(lambda s: render_state(s, config=mcfg)))(res.states)
        done = jnp.logical_or(res.traj.terminated, res.traj.truncated)  # (T, n)
        end = jnp.where(done.any(0), jnp.argmax(done, axis=0), steps)
        solved = jnp.take_along_axis(
            jnp.asarray(res.traj.solved, bool), jnp.minimum(end, steps - 1)[None], axis=0
        )[0] & (end < steps)
        return frames, end, solved

    frames, end, solved = jax.device_get(play(jax.random.key(0)))
    title = f"{Path(run_dir).name}, update {update}, {set_name} mazes"
    imgs = F.gif_frames(frames, end, solved, list(names[:n]), max_steps=steps, scale=scale,
                        title=title)  # fmt: skip
    return F.save(imgs, path, frame_ms=[frame_ms] * (len(imgs) - 1) + [2000])


# drawn by the figures package now; importable from here as before
gif_frames = F.gif_frames

__all__ = ["compare_plots", "gif_frames", "make_gif", "make_plots", "plot_level_history"]
