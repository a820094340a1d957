"""Evaluation and figures of ``ued`` runs (``openued eval`` / ``openued plot``). Host only.

Evaluation rolls the student out on the level space's held-out levels (its registration's
``eval_sets``: for the Maze the 8 standard mazes and the validation levels; ``--levels FILE``
for a file the space reads) with ``ued.make_evaluator``. Figures are drawn by
:mod:`experiments.figures` from the run directory's metrics, level snapshots and levels:

* ``learning_curves.png``: training return, solve rate and episode length, evaluation solve
  rates, PPO loss and entropy against env steps (mean over seeds with a 95% band);
* ``per_maze_solve_rate.png``: solve rate per named evaluation level at the last evaluation;
* ``curriculum.png``: the curriculum's diagnostics in named panels (its registration's
  ``panels`` included);
* ``top_levels.png`` / ``level_history.png``: the curriculum's stored levels;
* PAIRED-style curricula (their diagnostics logged under plain names): ``paired_curves.png``
  and the teacher's levels over training;
* ``cvar.png``: the alpha-CVaR of the win rate against alpha, when ``openued eval
  --sample-levels`` wrote it into ``eval.json``;
* ``agent.gif`` (``--gif``): the agent's first episode on each of the first evaluation levels.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from experiments import options as O

_EVAL_CACHE: dict = {}
# the shares of the SFL paper's CVaR figures (1%, 2%, 5%, 10%, 20%, 50%, 100%)
SFL_ALPHAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def make_eval_fn(
    exp: Any,
    num_seeds: int,
    attempts: int | None = None,
    sets: dict | None = None,
    greedy: bool | None = None,
):
    """``fn(key, student_params) -> {set: (names, EvalResult)}``; jitted, vmapped over seeds
    (``None`` when there are no evaluation levels). ``exp``: a ``ued`` experiment."""
    import jax
    import jax.numpy as jnp

    from ued.evaluation import make_evaluator

    cfg = exp.config
    sets = exp.eval_sets if sets is None else sets
    if not sets:
        return None
    attempts = cfg.eval_attempts if attempts is None else attempts
    greedy = cfg.eval_greedy if greedy is None else greedy
    names = list(sets)
    sizes = [len(sets[n][0]) for n in names]
    limit = int(exp.space_build.episode_limit)
    # the compiled evaluator depends only on these (experiments and their evaluation sets are
    # cached objects per process)
    cache_key = (id(exp.trainer), attempts, limit, greedy, num_seeds,
                 tuple(id(sets[n][1]) for n in names))  # fmt: skip
    fn = _EVAL_CACHE.get(cache_key)
    if fn is None:
        evaluator = make_evaluator(
            exp.env, exp.student, num_attempts=attempts, max_steps=limit, greedy=greedy
        )
        levels = jax.tree.map(lambda *xs: jnp.concatenate(xs, 0), *[sets[n][1] for n in names])

        def one(key, params):
            return evaluator(key, params, levels)

        fn = jax.jit(jax.vmap(one, in_axes=(None, 0)) if num_seeds > 1 else one)
        if all(sets[n] is exp.eval_sets.get(n) for n in names):
            _EVAL_CACHE[cache_key] = fn

    def run(key, params):
        res = jax.device_get(fn(key, params))
        out, start = {}, 0
        for n, size in zip(names, sizes, strict=True):
            sl = jax.tree.map(lambda x, s=start, z=size: x[..., s : s + z], res)
            out[n] = (sets[n][0], sl)
            start += size
        return out

    return run


def eval_summary(results: dict) -> dict:
    """Metrics dict (per-seed lists when batched) from :func:`make_eval_fn` output: per set its
    solve rate, return and length, and the solve rate of each prefab level."""
    import numpy as np

    out = {}
    for set_name, (names, r) in results.items():
        sr = np.asarray(r.solve_rate)
        out[f"{set_name}_solve_rate"] = sr.mean(-1)
        out[f"{set_name}_return"] = np.asarray(r.mean_return).mean(-1)
        out[f"{set_name}_length"] = np.asarray(r.mean_length).mean(-1)
        if set_name == "prefab":
            for i, n in enumerate(names):
                out[f"prefab/{n}"] = sr[..., i]
    return out


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    levels: str = O.option(
        "",
        O.STR,
        "a file of levels the space reads (maze: envs.maze.load_levels' ASCII format)",
        default_text="the run's evaluation sets",
    )
    attempts: int | None = O.option(
        None, O.optional(O.int_(1)), "episodes per level", default_text="the run's"
    )
    greedy: bool = O.option(False, O.BOOL, "argmax actions")
    seed: int = O.option(0, O.int_(0), "evaluation key")
    sample_levels: int | None = O.option(
        None,
        O.optional(O.int_(1)),
        "also draw N levels from the level space (the Maze: SFL's 60-wall solvable mazes at the "
        "run's size) and report the alpha-CVaR of the win rate on them (SFL's robustness "
        "protocol; eval.json key cvar); the levels depend only on --seed",
        default_text="none (off)",
    )
    cvar: tuple[float, ...] = O.option(
        (),
        O.floats(0, 1, lo_open=True),
        "with --sample-levels: the shares alpha of worst levels to report",
        default_text=" ".join(f"{a:g}" for a in SFL_ALPHAS) + " (SFL's)",
    )


EVAL_OPTIONS = O.Options(
    EvalOptions,
    "openued eval",
    "Evaluate a run's newest checkpoint on the level space's held-out levels (solve rates, "
    "returns, lengths per level and set). The last stdout line is one JSON object.",
    positionals=(("RUN_DIR", "a run directory written by openued train"),),
)


def sweep_figures(run_dir: Path, opts: dict) -> list[Path]:
    """``openued plot`` of a sweep run: ``sweep.png``, the curves of every configuration
    (:func:`experiments.figures.sweep.plot_sweep`). The per-level figures of single runs are
    not drawn for sweeps."""
    from experiments.figures.style import save
    from experiments.figures.sweep import plot_sweep
    from ued.host import ensure_dir, read_metrics

    out = ensure_dir(Path(opts.get("out") or Path(run_dir) / "plots"))
    fig = plot_sweep(read_metrics(run_dir))
    if fig is None:
        raise O.ConfigError(f"{run_dir}: no metrics rows of a sweep to draw")
    return [save(fig, out / "sweep.png")]


def evaluate_sweep(run_dir: Path, opts: dict) -> dict:
    """``openued eval`` of a sweep run: every lane (configuration x seed) on the held-out sets,
    then per configuration the mean solve rate over its levels, per seed, with a Student-t
    interval over seeds (clipped to [0, 1]; none from one seed) and its ``n``; configurations
    ranked by that mean. Prints the ranked table."""
    import jax
    import numpy as np

    from experiments.kinds import restore
    from experiments.kinds.ued_sweep import num_lanes, sweep_grid
    from ued.stats import RATE, seed_interval

    opts = {**O.defaults_of(EvalOptions), **opts}
    if opts["sample_levels"] is not None or opts["levels"]:
        raise NotImplementedError(
            "openued eval of a sweep run: --sample-levels and --levels are not implemented yet "
            "for sweeps (the held-out sets of the run are)"
        )
    r = restore(run_dir)
    exp, state, cfg = r.built.experiment, r.state, r.config
    if not exp.eval_sets:
        raise O.ConfigError(f"no held-out evaluation levels for this {cfg.space} configuration")
    lanes, k = num_lanes(cfg), cfg.num_seeds
    grid = sweep_grid(cfg, exp.trainer, r.kind.validate)
    ev = make_eval_fn(exp, lanes, attempts=opts["attempts"],
                      greedy=True if opts["greedy"] else None)  # fmt: skip
    res = ev(jax.random.key(opts["seed"]), state.student.params)
    per_level = np.concatenate(
        [np.asarray(rr.solve_rate).reshape(lanes, -1) for _, rr in res.values()], axis=1
    )  # (lanes, levels)
    configs = []
    for c, values in enumerate(grid.configs):
        per_seed = per_level[c * k : (c + 1) * k].mean(axis=1)
        configs.append({"config_id": c, "config": dict(values),
                        "solve_rate": seed_interval(per_seed, bounds=RATE)})  # fmt: skip
    ranked = sorted(configs, key=lambda e: -(e["solve_rate"]["mean"] or 0.0))
    sets = ", ".join(f"{n} ({len(names)})" for n, (names, _) in res.items())
    print(f"mean held-out solve rate per configuration ({sets}; n = {k} seed(s) each):")
    for e in ranked:
        sr = e["solve_rate"]
        lo, hi = sr["ci95"]
        ci = f"[{lo:.3f}, {hi:.3f}]" if lo is not None else "(no interval: one seed)"
        print(f"  config {e['config_id']:>3d}  {e['config']}  {sr['mean']:.3f} {ci}  n = {sr['n']}")
    return {
        "sweep": {
            "fields": list(grid.fields),
            "configs": configs,
            "ranked": [e["config_id"] for e in ranked],
            "metric": "mean solve rate over the held-out levels, per seed",
            "interval": "95% Student-t over seeds, clipped to [0, 1]",
            "num_levels": int(per_level.shape[1]),
        },
        "num_attempts": opts["attempts"] or cfg.eval_attempts,
        "update": r.unit,
        "run_dir": str(run_dir),
    }


def evaluate(run_dir: Path, opts: dict) -> dict:
    """``openued eval`` of a ``ued`` run: per-level solve rate, return and length (mean over
    seeds), per-set means, the per-seed mean solve rate with an IQM interval, and the report of
    :func:`experiments.report.eval_report`."""
    import jax
    import numpy as np

    from experiments.kinds import restore, stored_run
    from experiments.report import eval_report
    from ued.evaluation import iqm_ci

    if getattr(stored_run(run_dir)[1], "sweep", ()):
        return evaluate_sweep(run_dir, opts)
    opts = {**O.defaults_of(EvalOptions), **opts}
    if opts["cvar"] and opts["sample_levels"] is None:
        raise O.ConfigError("--cvar: takes effect with --sample-levels N (the levels to sample)")
    r = restore(run_dir)
    exp, state, update = r.built.experiment, r.state, r.unit
    cfg = r.config
    robust = None
    if opts["sample_levels"] is not None:
        robust = cvar_evaluation(exp, state.student.params, opts)
        if not opts["levels"] and not exp.eval_sets:  # no held-out sets: the CVaR alone
            return {"cvar": robust, "update": update, "run_dir": str(run_dir),
                    "student": exp.curriculum_entry.student_name}  # fmt: skip
    if opts["levels"]:
        load = exp.space_build.load_levels
        if load is None:
            raise O.ConfigError(f"--levels: level space {cfg.space!r} reads no level files")
        try:
            sets = {"levels": load(opts["levels"])}
        except (OSError, ValueError) as e:
            raise O.ConfigError(f"--levels {opts['levels']}: {e}") from e
    else:
        sets = exp.eval_sets
        if not sets:
            raise O.ConfigError(
                f"no held-out evaluation levels for this {cfg.space} configuration; pass --levels"
            )
    k = cfg.num_seeds
    ev = make_eval_fn(
        exp, k, attempts=opts["attempts"], sets=sets, greedy=True if opts["greedy"] else None
    )
    res = ev(jax.random.key(opts["seed"]), state.student.params)
    solve, ret, length, per_set = {}, {}, {}, {}
    seed_means = []
    for set_name, (names, rr) in res.items():
        sr = np.asarray(rr.solve_rate).reshape(k, -1)
        mr = np.asarray(rr.mean_return).reshape(k, -1)
        ml = np.asarray(rr.mean_length).reshape(k, -1)
        for i, n in enumerate(names):
            solve[n] = float(sr[:, i].mean())
            ret[n] = float(mr[:, i].mean())
            length[n] = float(ml[:, i].mean())
            print(f"{n:>24s}  solve {solve[n]:.3f}  return {ret[n]:.3f}  length {length[n]:.1f}")
        per_set[set_name] = float(sr.mean())
        seed_means.append(sr)
    per_level = np.concatenate(seed_means, axis=1)  # (seeds, levels)
    per_seed = per_level.mean(1)
    # the levels as rliable's tasks: with a few seeds the interval is not their min and max
    ci = iqm_ci(per_level)
    out = {
        "mean_solve_rate": float(np.mean(list(solve.values()))),
        "solve_rate": solve,
        "mean_return": ret,
        "episode_length": length,
        "set_solve_rate": per_set,
        "per_seed_mean_solve_rate": [float(x) for x in per_seed],
        "iqm_solve_rate": {
            "iqm": ci.iqm,
            "low": ci.low,  # null from one seed: no interval
            "high": ci.high,
            "num_seeds": ci.n,
            "num_levels": int(per_level.shape[1]),
            "interval": "95% stratified bootstrap over seeds, levels as tasks (rliable)",
        },
        "num_attempts": opts["attempts"] or cfg.eval_attempts,
        "update": update,
        "run_dir": str(run_dir),
        # PAIRED runs: the trained student is the protagonist (the antagonists are not evaluated)
        "student": exp.curriculum_entry.student_name,
    }
    # per-set means with intervals over seeds, the per-level table, and a headline that is the
    # prefab mean rather than a mean over every level pooled (100 validation levels would
    # outweigh the 8 prefabs)
    out.update(eval_report(res))
    if robust is not None:
        out["cvar"] = robust
    return out


def cvar_evaluation(exp: Any, params: Any, opts: dict) -> dict:
    """``openued eval --sample-levels N --cvar ALPHA ...``: the alpha-CVaR of the win rate
    (:mod:`ued.robustness`) over N levels of the space's ``cvar_space`` (default: the training
    space), drawn with key ``--seed`` (the same levels for every seed and for every run of the
    same space options), each level played ``--attempts`` times per key; prints one line per
    alpha and returns the ``cvar`` object of ``eval.json`` (:func:`experiments.report.
    cvar_report`)."""
    import jax

    from experiments.report import cvar_report
    from ued.evaluation import make_evaluator
    from ued.robustness import make_cvar_evaluator

    cfg = exp.config
    alphas = tuple(opts["cvar"]) or SFL_ALPHAS
    n = int(opts["sample_levels"])
    attempts = opts["attempts"] or cfg.eval_attempts
    greedy = bool(opts["greedy"] or cfg.eval_greedy)
    space = exp.space_build.cvar_space or exp.space
    limit = int(exp.space_build.episode_limit)
    ev = make_evaluator(exp.env, exp.student, num_attempts=attempts, max_steps=limit,
                        greedy=greedy)  # fmt: skip
    fn = make_cvar_evaluator(ev, space, n, alphas)
    if cfg.num_seeds > 1:
        fn = jax.vmap(fn, in_axes=(None, 0))
    res = jax.device_get(jax.jit(fn)(jax.random.key(opts["seed"]), params))
    rep = cvar_report(res, space=space.name, num_attempts=attempts, greedy=greedy,
                      seed=opts["seed"])  # fmt: skip
    k = rep["num_seeds"]

    def show(e):
        lo, hi = e["ci95"]
        if lo is None:
            return f"{e['mean']:.3f} (n={k} seed{'s' * (k > 1)}: no interval)"
        return f"{e['mean']:.3f} [{lo:.3f}, {hi:.3f}] (95% CI, n={k} seeds)"

    print(f"CVaR on {n} levels of {space.name}, {attempts} attempts per level and key:")
    for e in rep["by_alpha"]:
        print(f"  alpha {e['alpha']:<6g} worst {e['num_worst']:>6d}: win rate "
              f"{show(e['win_rate'])}; same levels on the selecting rollouts "
              f"{e['biased_win_rate']['mean']:.3f}")  # fmt: skip
    print(f"  mean over all {n}: win rate {show(rep['mean_win_rate'])}")
    return rep


# ----------------------------------------------------------------------------- figures


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    gif: bool = O.option(False, O.BOOL, "also an animation of the agent")
    out: str = O.option("", O.STR, "output directory", default_text="RUN_DIR/plots")


PLOT_OPTIONS = O.Options(
    PlotOptions,
    "openued plot",
    "Plots of a run: learning curves, evaluation, curriculum diagnostics, levels.",
    positionals=(("RUN_DIR", "a run directory written by openued train"),),
)


def run_label(run: Any) -> str:
    """``preset (dir name)`` of a loaded run (the dir name alone when they agree)."""
    name = Path(run.run_dir).name
    preset = run.config.get("preset") if isinstance(run.config, dict) else None
    if preset and preset != name:
        return f"{preset} ({name})"
    return name


def _entry(cfg: Any):
    import curricula  # noqa: F401 (registers the built-in curricula)
    from ued.registry import CURRICULA

    return CURRICULA.get(cfg.curriculum)


def space_renderer(space: Any):
    """``render(fields) -> uint8[n, H, W, 3]`` of a batch of ``space``'s levels given as
    ``{field: array (n, ...)}`` (as stored in snapshots), with ``space.render`` (``None`` when
    the space draws nothing)."""
    import jax
    import numpy as np
    from flax import serialization

    if space.render is None:
        return None
    fn = jax.jit(jax.vmap(space.render))

    def render(fields):
        return np.asarray(fn(serialization.from_state_dict(space.placeholder, fields)))

    return render


def top_levels(run: Any, path: Path, render, teacher: bool = False, k: int = 16) -> Path | None:
    """``top_levels.png``: the curriculum's ``k`` highest-scoring stored levels (seed 0),
    drawn by ``render`` (:func:`space_renderer`)."""
    import numpy as np

    from experiments import figures as F

    k_seeds = int(run.config.get("num_seeds", 1))
    fields = F.level_fields(run.buffer_levels)
    if k_seeds > 1:
        fields = {f: v[0] for f, v in fields.items()}
    n = next(iter(fields.values())).shape[0]
    scores = run.buffer_scores
    scores = np.zeros(n) if scores is None else np.asarray(scores, float)
    if k_seeds > 1:
        scores = scores[0]
    filled = np.isfinite(scores)
    if run.buffer_valid is not None:
        fl = np.asarray(run.buffer_valid, bool)
        filled &= fl[0] if k_seeds > 1 else fl
    idx = F.top_indices(scores, filled, k)
    if not idx:
        return None
    images = render({f: v[idx] for f, v in fields.items()})
    what = ("The teacher's latest levels" if teacher else "Stored levels") + ", highest score first"
    seed = f" (seed 0 of {k_seeds})" if k_seeds > 1 else ""
    fig = F.plot_level_grid(list(images), [f"slot {i}: score {scores[i]:.3g}" for i in idx],
                            suptitle=f"{what}: {run_label(run)}{seed}")  # fmt: skip
    return F.save(fig, path, dpi=100, bbox_inches=None)


def make_gif(
    run_dir: Path,
    path: Path,
    num_levels: int = 8,
    max_frames: int | None = None,
    scale: int = 2,
    frame_ms: int = 70,
) -> Path:
    """Animation of the agent (seed 0, sampled actions) on up to ``num_levels`` evaluation
    levels (the prefab set when there is one), each named: the first episode on each, to the
    env's step limit (``max_frames`` caps it) or until every episode has ended, with a step
    counter and a solved / failed marker (:func:`experiments.figures.gif_frames`). The last
    frame is held for 2 s. Maze runs (the frames are the maze's own rendering)."""
    import jax
    import jax.numpy as jnp

    from envs.maze import render_state
    from envs.maze.registration import maze_config
    from experiments import figures as F
    from experiments.kinds import restore
    from ued.rollout import rollout_levels
    from ued.wrappers import AutoReplay, EpisodeStats

    r = restore(run_dir)
    exp, state, update = r.built.experiment, r.state, r.unit
    if exp.config.space != "maze":
        raise O.ConfigError(f"--gif: draws maze runs; {run_dir} trains on {exp.config.space!r}")
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
    steps = int(exp.space_build.episode_limit)
    if max_frames is not None:
        steps = min(steps, int(max_frames))
    mcfg = maze_config(exp.config)

    @jax.jit
    def play(key):
        res = rollout_levels(
            key, env, levels, params, exp.env.default_params, net=exp.student, num_steps=steps,
            record_state=env.base_state,  # the maze's own state, before each action
        )  # fmt: skip
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


def figures(run_dir: Path, opts: dict) -> list[Path]:
    """Write the run's figures into ``--out`` (default ``RUN_DIR/plots``); returns the paths."""
    from experiments import figures as F
    from experiments.kinds import stored_run
    from ued.host import ensure_dir, load_run
    from ued.networks import CATEGORICAL

    opts = {**O.defaults_of(PlotOptions), **opts}
    kind, cfg = stored_run(run_dir)
    if getattr(cfg, "sweep", ()):
        return sweep_figures(run_dir, opts)
    entry = _entry(cfg)
    run = load_run(run_dir)
    out = ensure_dir(Path(opts["out"]) if opts["out"] else Path(run_dir) / "plots")
    m = run.metrics
    written: list[Path] = []
    if "env_steps" not in m or not len(m["env_steps"]):
        return written
    label = run_label(run)
    # the run's objects (cached per config): its space draws levels, its student's and its
    # teacher's action counts give the entropy panels their uniform maximum
    exp = kind.build(cfg, None).experiment
    student = exp.student
    n_act = student.num_actions if student.dist is CATEGORICAL else None
    fig = F.plot_learning_curves(m, label=label, num_actions=n_act)
    written.append(F.save(fig, out / "learning_curves.png"))
    names, _, _ = F.final_level_scores(m)
    if names:
        fig = F.plot_per_level_solve_rate(m, title=f"Solve rate per prefab maze: {label}")
        written.append(F.save(fig, out / "per_maze_solve_rate.png"))
    cm = m
    if entry.plain_metrics:
        # its own diagnostics have their own figure (paired_curves.png): not twice
        drop = set(entry.plain_metrics) | {f"cur/{k}" for k in entry.plain_metrics}
        cm = {k: v for k, v in m.items() if k not in drop}
    fig = F.plot_curriculum(cm, label=label, panels=entry.panels)
    if fig is not None:
        written.append(F.save(fig, out / "curriculum.png"))
    history = run.level_history()
    space = exp.space
    if entry.plain_metrics:  # regret and path-length curves, the teacher's levels over training
        fig = F.plot_paired_curves(run.metrics, label=label,
                                   teacher_actions=getattr(space, "num_edit_actions", None))  # fmt: skip
        written.append(F.save(fig, out / "paired_curves.png"))
        fig = F.plot_teacher_levels(history, label=label)
        if fig is not None:
            written.append(F.save(fig, out / "teacher_levels.png"))
    render = None
    if run.buffer_levels is not None:
        render = space_renderer(space)
    if render is not None:
        p = top_levels(run, out / "top_levels.png", render, teacher=bool(entry.plain_metrics))
        if p is not None:
            written.append(p)
    fig = F.plot_level_evolution(history, label=label) if history else None
    if fig is not None:
        written.append(F.save(fig, out / "level_history.png"))
    if F.load_cvar(run_dir) is not None:  # openued eval --sample-levels wrote the numbers
        written.append(F.save(F.plot_cvar({label: run_dir}), out / "cvar.png"))
    if opts["gif"]:
        written.append(make_gif(run_dir, out / "agent.gif"))
    return written


__all__ = [
    "EVAL_OPTIONS",
    "EvalOptions",
    "SFL_ALPHAS",
    "cvar_evaluation",
    "PLOT_OPTIONS",
    "PlotOptions",
    "eval_summary",
    "evaluate",
    "figures",
    "make_eval_fn",
    "make_gif",
    "run_label",
    "space_renderer",
    "top_levels",
]
