"""SAMPLR runs: ground-truth evaluation, figures and the results table. Host only.

Evaluation (:func:`samplr_eval`, built on :mod:`envs.aleatoric.evaluation`): per seed, then
the mean and a 95% t-interval over seeds, for the trained stochastic policy (``*_sampled``
keys; the acceptance checks read these) and the greedy one beside it. See
:mod:`experiments.kinds.samplr` for the presets and the run. Across runs::

    python -m experiments.kinds.samplr_report plot RUN_DIR RUN_DIR ... --out DIR
    python -m experiments.kinds.samplr_report table RUN_DIR|EVAL_JSON [...] [--out docs/samplr.md]
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from experiments import options as O

METHODS = ("dr", "robust-plr", "samplr")

# ------------------------------------------------------------------------------ evaluation


def interval(values) -> dict[str, Any]:
    """Per-seed values, mean and a 95% t-interval over seeds (the value itself for one seed;
    ``None`` for NaN values). :func:`envs.aleatoric.evaluation.seed_interval`."""
    from ued.stats import RATE, seed_interval

    return seed_interval(values, bounds=RATE)  # a share of levels or a slip probability


def gamble_eval(
    env,
    space,
    student,
    params,
    num_layouts: int = 64,
    num_episodes: int = 16,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Ground-truth evaluation of gamble-maze policies whose ``params`` carry a leading seed
    axis: :func:`envs.aleatoric.evaluation.gamble_eval_seeds` on ``num_layouts`` held-out
    equal-distance layouts drawn from the run's own generator (``space.sample``), greedy and
    sampled (``num_episodes`` per layout and class). Returns ``{"greedy": ..., "sampled": ...}``,
    each :func:`envs.aleatoric.evaluation.summarize` of the per-seed statistics
    (``{class}/{stat}`` and ``ground_truth_return``). Host."""
    import jax

    from envs.aleatoric.evaluation import gamble_eval_seeds, gamble_heldout_layouts, summarize

    layouts = gamble_heldout_layouts(num_layouts, sampler=space.sample)
    out = {}
    for name, greedy in (("greedy", True), ("sampled", False)):
        fn = jax.jit(
            lambda p, k, g=greedy: gamble_eval_seeds(
                k, env, student, p, layouts, num_episodes=num_episodes, greedy=g
            )
        )
        res = fn(params, jax.random.key(seed))
        out[name] = summarize(jax.tree.map(np.asarray, res))
    return out


def lava_eval(
    env, space, student, params, num_episodes: int = 32, seed: int = 0, lava_below: bool = True
) -> dict[str, dict[str, Any]]:
    """Monte-Carlo ground-truth evaluation of lava-maze policies (leading seed axis):
    :func:`envs.aleatoric.evaluation.lava_eval_seeds` on :func:`envs.aleatoric.lava_eval_layouts`
    (of the run's template, ``lava_below``) with theta from the prior, greedy and sampled. Returns ``{"greedy": ..., "sampled": ...}``
    of :func:`envs.aleatoric.evaluation.summarize` results. Host."""
    import jax

    from envs.aleatoric import lava_eval_layouts
    from envs.aleatoric.evaluation import lava_eval_seeds, summarize

    lay = lava_eval_layouts(lava_below)
    out = {}
    for name, greedy in (("greedy", True), ("sampled", False)):
        fn = jax.jit(
            lambda p, k, g=greedy: lava_eval_seeds(
                k, env, student, p, lay, space.aleatoric.prior_sample, num_episodes, greedy=g
            )
        )
        res = fn(params, jax.random.key(seed))
        out[name] = summarize(jax.tree.map(np.asarray, res))
    return out


def _trained_param(metrics: dict, k: int) -> np.ndarray:
    """Per-seed mean of ``cur/aleatoric/trained`` over trained updates."""
    v = np.asarray(metrics.get("cur/aleatoric/trained", np.full((1, k), np.nan)), np.float64)
    t = np.asarray(metrics.get("trained", np.ones_like(v)), np.float64)
    v = v.reshape(v.shape[0], -1)
    t = t.reshape(t.shape[0], -1)
    ok = np.isfinite(v) & (t > 0)
    return np.array(
        [float(v[ok[:, i], i].mean()) if ok[:, i].any() else np.nan for i in range(v.shape[1])]
    )


def samplr_eval(
    run: str | Path | tuple, num_layouts: int = 64, num_episodes: int | None = None
) -> dict[str, Any]:
    """Ground-truth evaluation of a SAMPLR-experiment run (see ``docs/samplr.md``).

    ``run``: a run directory, or ``(SamplrExperiment, vmapped TrainState, metrics dict)``.
    ``num_episodes``: sampled episodes per layout and class (default 16 on the gamble maze, 32
    per layout on the lava maze); greedy runs one. Every value is ``{"per_seed", "mean",
    "ci95", "n"}`` (mean and 95% t-interval over seeds). Keys, with ``MODE`` ``""`` for the
    greedy policy and ``"_sampled"`` for the trained stochastic policy (the acceptance checks
    read the sampled one):

    * both: ``env``, ``method``, ``num_seeds``, ``num_layouts`` (gamble) / ``num_episodes``;
    * gamble: ``paying_share`` (trained-on), ``exit_rate{MODE}`` (no cue),
      ``gamble_rate{MODE}`` {``no_cue``, ``favourable``, ``unfavourable``} (gamble exits /
      exits), ``ground_truth_return{MODE}`` (exact in the coin), and ``stats{MODE}`` (every
      ``{class}/{stat}`` of :func:`envs.aleatoric.evaluation.gamble_episode_stats`);
    * lava: ``mean_theta`` (trained-on), ``detour_rate{MODE}``, ``ground_truth_return{MODE}``
      (Monte Carlo), ``ground_truth_return{MODE}_se`` (per seed) and ``stats{MODE}``.

    Host.
    """
    import jax

    from ued.host import load_run

    if isinstance(run, tuple):
        exp, state, metrics = run
        params = state.student.params
    else:
        from experiments.kinds import stored_run

        r = load_run(run)
        kind, cfg = stored_run(run)
        exp = kind.build(cfg, None).experiment
        params = jax.tree.map(np.asarray, r.params)  # runs always carry a leading seed axis
        metrics = r.metrics
    cfg = exp.config
    k = cfg.num_seeds
    out: dict[str, Any] = {"env": cfg.env, "method": cfg.curriculum, "num_seeds": k}
    par = _trained_param(metrics, k)
    pname = "paying_share" if cfg.env == "gamble-maze" else "mean_theta"
    out[pname] = interval(par)
    if cfg.env == "gamble-maze":
        n_ep = num_episodes or 16
        res = gamble_eval(exp.env, exp.space, exp.student, params, num_layouts, n_ep)
        out.update(num_layouts=num_layouts, num_episodes=n_ep)
    else:
        n_ep = num_episodes or 32
        res = lava_eval(
            exp.env, exp.space, exp.student, params, n_ep, lava_below=cfg.lava_below
        )
        out.update(num_episodes=n_ep)
    for mode, name in (("", "greedy"), ("_sampled", "sampled")):
        st = res[name]
        if cfg.env == "gamble-maze":
            out[f"exit_rate{mode}"] = st["no_cue/exit_rate"]
            out[f"gamble_rate{mode}"] = {c: st[f"{c}/gamble_rate"] for c in _CLASSES}
        else:
            out[f"detour_rate{mode}"] = st["detour_rate"]
            out[f"ground_truth_return{mode}_se"] = st["ground_truth_return_se"]["per_seed"]
        out[f"ground_truth_return{mode}"] = st["ground_truth_return"]
        out[f"stats{mode}"] = st
    return out


_CLASSES = ("no_cue", "favourable", "unfavourable")


# ------------------------------------------------------------------------------ plots, table


def plot_runs(run_dirs, out_dir: str | Path) -> list[str]:
    """Aleatoric parameter in the PLR/SAMPLR buffer vs the prior, and return curves: one
    ``samplr_<env>.png`` per environment (:func:`experiments.figures.plot_samplr_runs`). Host."""
    from experiments import figures as F
    from ued.host import load_latest_checkpoint, load_run

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [load_run(d) for d in run_dirs]
    written = []
    by_env: dict[str, list] = {}
    for r in runs:
        by_env.setdefault(r.config["env"], []).append(r)
    for env, rs in by_env.items():
        data = []
        for r in rs:
            _, sd, _ = load_latest_checkpoint(r.run_dir, None, warn=lambda s: None)
            buf = sd.get("curriculum", {}).get("buffer") if isinstance(sd, dict) else None
            final = None
            if buf is not None:  # DR keeps no buffer
                field = "coin" if env == "gamble-maze" else "theta"
                final = {"values": buf["levels"][field], "filled": buf["filled"]}
            data.append(F.samplr_run_data(r.metrics, r.config["curriculum"], final))
        p = out_dir / f"samplr_{env}.png"
        F.save(F.plot_samplr_runs(env, data, note="buffer at the end: the newest checkpoint"),
               p, dpi=100)  # fmt: skip
        written.append(str(p))
    return written


def _fmt(d: dict) -> str:
    if d is None or d["mean"] is None:
        return "n/a"
    lo, hi = d["ci95"]
    if lo is None or hi is None:
        return f"{d['mean']:.3f} (n={d.get('n', 1)}, no interval)"
    return f"{d['mean']:.3f} [{lo:.3f}, {hi:.3f}] (n={d.get('n')})"


_ORDER = {m: i for i, m in enumerate(METHODS)}


def results_table(results: list[dict]) -> str:
    """Markdown tables (one per env) from :func:`samplr_eval` results: one row per method and
    policy (``sampled``: the trained stochastic policy, which the acceptance checks read;
    ``greedy``: argmax actions, beside it). Gamble columns: no-cue exit rate first, then the
    gamble rate (gamble exits / exits) per cue class, the exact ground-truth return and the
    trained-on paying share."""
    lines = []
    results = sorted(results, key=lambda r: (r["env"], _ORDER.get(r["method"], 99)))
    g = [r for r in results if r["env"] == "gamble-maze"]
    lv = [r for r in results if r["env"] == "lava-maze"]
    modes = (("_sampled", "sampled"), ("", "greedy"))
    if g:
        lines += [
            "### gamble-maze",
            "",
            "| method | policy | seeds | exit rate (no cue) | gamble rate: no cue | favourable "
            "| unfavourable | ground-truth return (exact) | paying share (trained-on) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in g:
            for mode, name in modes:
                if f"gamble_rate{mode}" not in r:
                    continue
                gr = r[f"gamble_rate{mode}"]
                lines.append(
                    f"| {r['method']} | {name} | {r['num_seeds']} | "
                    f"{_fmt(r[f'exit_rate{mode}'])} | {_fmt(gr['no_cue'])} | "
                    f"{_fmt(gr['favourable'])} | {_fmt(gr['unfavourable'])} | "
                    f"{_fmt(r[f'ground_truth_return{mode}'])} | {_fmt(r['paying_share'])} |"
                )
        lines.append("")
    if lv:
        lines += [
            "### lava-maze",
            "",
            "| method | policy | seeds | detour rate | ground-truth return (MC) "
            "| mean theta (trained-on) |",
            "|---|---|---|---|---|---|",
        ]
        for r in lv:
            for mode, name in modes:
                if f"detour_rate{mode}" not in r:
                    continue
                lines.append(
                    f"| {r['method']} | {name} | {r['num_seeds']} | "
                    f"{_fmt(r[f'detour_rate{mode}'])} | "
                    f"{_fmt(r[f'ground_truth_return{mode}'])} | {_fmt(r['mean_theta'])} |"
                )
        lines.append("")
    checks = acceptance_checks(results)
    if checks:
        lines += ["### acceptance checks (gamble maze, sampled policy)", ""]
        lines += ["| check | measured | verdict |", "|---|---|---|"]
        lines += [f"| {c} | {m} | {'met' if ok else '**not met**'} |" for c, m, ok in checks]
        lines.append("")
    return "\n".join(lines)


def acceptance_checks(results: list[dict]) -> list[tuple[str, str, bool]]:
    """The gamble-maze acceptance checks of ``docs/samplr.md`` on the sampled policy, as
    ``(check, measured, met)``: exit rate >= 0.9 for every method; robust PLR's no-cue gamble
    rate >= 0.5 and SAMPLR's <= 0.2 with 95% intervals apart; SAMPLR's ground-truth return above
    robust PLR's with intervals apart. Checks whose methods are missing are left out."""
    from envs.aleatoric.evaluation import intervals_apart

    g = {r["method"]: r for r in results if r["env"] == "gamble-maze" and "exit_rate_sampled" in r}
    out = []
    for m in METHODS:
        if m in g:
            e = g[m]["exit_rate_sampled"]
            out.append(
                (
                    f"{m}: no-cue exit rate >= 0.9",
                    _fmt(e),
                    e["mean"] is not None and e["mean"] >= 0.9,
                )
            )
    if "robust-plr" in g and "samplr" in g:
        p = g["robust-plr"]["gamble_rate_sampled"]["no_cue"]
        s_ = g["samplr"]["gamble_rate_sampled"]["no_cue"]
        ok = (
            p["mean"] is not None
            and s_["mean"] is not None
            and p["mean"] >= 0.5
            and s_["mean"] <= 0.2
            and intervals_apart(p, s_)
        )
        out.append(
            (
                "no-cue gamble rate: robust PLR >= 0.5, SAMPLR <= 0.2, intervals apart",
                f"robust PLR {_fmt(p)}; SAMPLR {_fmt(s_)}",
                bool(ok),
            )
        )
        p = g["robust-plr"]["ground_truth_return_sampled"]
        s_ = g["samplr"]["ground_truth_return_sampled"]
        ok = p["mean"] is not None and s_["mean"] is not None and s_["mean"] > p["mean"]
        out.append(
            (
                "ground-truth return: SAMPLR above robust PLR, intervals apart",
                f"SAMPLR {_fmt(s_)}; robust PLR {_fmt(p)}",
                bool(ok and intervals_apart(p, s_)),
            )
        )
    return out


TABLE_BEGIN = "<!-- samplr-table:begin -->"
TABLE_END = "<!-- samplr-table:end -->"


def _load_result(src) -> dict:
    """A :func:`samplr_eval` result: evaluated from a run directory, or read from a JSON file
    (an ``openued eval`` output, e.g. ``docs/samplr/gamble-samplr.json``)."""
    src = Path(src)
    if src.suffix == ".json":
        return json.loads(src.read_text())
    return samplr_eval(src)


def write_table(sources, path: str | Path = "docs/samplr.md", header: str = "") -> str:
    """Evaluate run directories (or read eval JSON files) and write the results table into
    ``path``: between the ``TABLE_BEGIN`` / ``TABLE_END`` markers when the file has them (the
    rest of the file is kept), else as the whole file. Returns the table. Host."""
    res = [_load_result(d) for d in sources]
    table = (header + "\n\n" if header else "") + (
        "Values: mean over seeds [95% t-interval]; produced by `python -m experiments."
        "kinds.samplr_report table " + " ".join(str(d) for d in sources) + "`.\n\n"
    )
    table += results_table(res)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    old = p.read_text() if p.exists() else ""
    if TABLE_BEGIN in old and TABLE_END in old:
        a = old.index(TABLE_BEGIN) + len(TABLE_BEGIN)
        b = old.index(TABLE_END)
        p.write_text(old[:a] + "\n" + table + "\n" + old[b:])
    else:
        p.write_text("# SAMPLR results\n\n" + table)
    return table


def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.kinds.samplr_report {plot,table} RUN_DIR ...``: figures of several
    SAMPLR runs together and the results table (one run: ``openued train/eval/plot``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] not in (["table"], ["plot"]):
        print(
            "usage: python -m experiments.kinds.samplr_report {plot,table} RUN_DIR ... [--out PATH] "
            "(train, eval and plot one run with openued)",
            file=sys.stderr,
        )
        return 2
    opts = O.Options(
        _RunsOptions,
        f"python -m experiments.kinds.samplr_report {argv[0]}",
        "Plots of several SAMPLR runs together."
        if argv[0] == "plot"
        else "Evaluate SAMPLR runs and write the results table.",
        positionals=(("RUN_DIR...", "run directories (table: or eval JSON files)"),),
    )
    try:
        runs, ov = opts.parse(argv[1:])
    except O.ShowHelp as h:
        print(h)
        return 0
    except O.ConfigError as e:
        print(f"openued: error: {e}", file=sys.stderr)
        return 2
    if argv[0] == "plot":
        print(json.dumps({"plots": plot_runs(runs, ov.get("out") or "plots")}))
    else:
        print(write_table(runs, ov.get("out") or "docs/samplr.md"))
    return 0


@dataclasses.dataclass(frozen=True)
class _RunsOptions:
    out: str = O.option("", O.STR, "output directory (plot) or file (table)")




if __name__ == "__main__":
    sys.exit(main())
