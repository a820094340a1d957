"""SAMPLR experiment: presets, training, ground-truth evaluation, plots and the docs table.

Presets (``docs/samplr.md`` gives the reasons). All: 32 envs x 64 steps, 5 seeds vmapped in
one program, egocentric observation (``make_aleatoric_maze(name, egocentric=True)``), PPO lr
3e-4 constant, gamma 0.99, lambda 0.95, 4 epochs, 2 minibatches, entropy 0.01; buffer 1000,
replay 0.8, staleness 0.3, min fill 0.5; robust PLR and SAMPLR score with MaxMC.

* ``gamble-dr``, ``gamble-robust-plr``, ``gamble-samplr``: generator with both exits at least 4
  moves from the start (``--min-exit-distance 4``), student flatten / Dense 64 / LSTM 64 /
  heads 32 (``--core lstm --core-size 64``), rank temperature 1.0, 2000 updates (4.1M env
  steps per seed), a checkpoint every 250 updates.
* ``lava-dr``, ``lava-robust-plr``, ``lava-samplr``: the template without lava below the
  corridor (``--lava-below false``), feed-forward student (flatten, Dense 64, heads 32), rank
  temperature 0.3, 1500 updates (3.07M env steps per seed).

Commands: this is the ``samplr`` kind of run (:mod:`experiments.kinds`). The presets are
``openued train`` presets (``openued train gamble-samplr --num-updates N``; every
:class:`SamplrConfig` field is an option), and ``openued eval RUN_DIR`` (last stdout line: one
JSON object, also stored as ``RUN_DIR/eval.json``, see :func:`samplr_eval`) and ``openued plot
RUN_DIR`` work on their runs (the run's ``config.json`` declares ``"kind": "samplr"``). The
curricula are the registered ones (``ued.registry.CURRICULA``: ``dr``, ``robust-plr``,
``samplr``). Across runs::

    python -m experiments.kinds.samplr plot RUN_DIR RUN_DIR ... --out DIR
    python -m experiments.kinds.samplr table RUN_DIR|EVAL_JSON [...] [--out docs/samplr.md]

Evaluation (:func:`samplr_eval`, built on :mod:`envs.aleatoric.evaluation`): per seed, then
the mean and a 95% t-interval over seeds, for the trained stochastic policy (``*_sampled``
keys; the acceptance checks read these) and the greedy one beside it.

* gamble: 64 held-out layouts from the run's own generator with both exits at the same BFS
  distance >= 4 (:func:`envs.aleatoric.evaluation.gamble_heldout_layouts`), 16 sampled
  episodes (1 greedy) per layout and cue class. ``exit_rate`` (no cue), ``gamble_rate``
  {``no_cue``, ``favourable``, ``unfavourable``} (gamble exits / exits), and the EXACT
  ground-truth return (exact in the coin, classes weighted by their prior probabilities).
* lava: :func:`envs.aleatoric.lava_eval_layouts` x 32 episodes with theta from the prior:
  ``detour_rate`` and the Monte-Carlo ground-truth return (with its standard error).
* ``paying_share`` (gamble) / ``mean_theta`` (lava): the aleatoric parameter in trained-on
  episodes, averaged over the run's trained updates (``cur/aleatoric/trained``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from curricula.buffer import BufferOptions
from experiments import options as O
from experiments.kinds import Built, Kind, config_dict, from_stored, host_config, register_kind

ENVS = ("gamble-maze", "lava-maze")
METHODS = ("dr", "robust-plr", "samplr")


_f = O.option
# the level buffer's options that the presets leave at their registered defaults
_BUFFER = O.option_fields(BufferOptions)


@dataclasses.dataclass(frozen=True)
class SamplrConfig:
    """One SAMPLR-experiment run (flat, JSON-serialisable). Validated on construction: every
    field as its ``openued train`` option (:class:`experiments.options.ConfigError`, a
    ``ValueError``, naming the flag and the allowed values)."""

    kind: str = _f("samplr", O.choice("samplr"), "what the run trains", cli=False)
    preset: str = _f("custom", O.STR, "preset the run started from", cli=False)
    env: str = _f("gamble-maze", O.choice(*ENVS), "aleatoric maze (envs.aleatoric)")
    egocentric: bool = _f(False, O.BOOL, "policy sees the grid from the agent (recentred, rotated)")
    min_exit_distance: int = _f(
        0, O.int_(0), "gamble maze: generator keeps levels with both exits at least this far"
    )
    lava_below: bool = _f(
        True, O.BOOL, "lava maze: lava also below the corridor (false: only above it)"
    )
    curriculum: str = _f("samplr", O.choice(*METHODS), "curriculum algorithm")
    score: str = _f("maxmc", O.choice("maxmc", "pvl"), "level score function (ued.scores)")
    num_envs: int = _f(32, O.int_(1), "parallel environments (levels per update)")
    num_steps: int = _f(64, O.int_(1), "rollout steps per update")
    num_updates: int = _f(
        1500, O.int_(0), "total train updates of the run", aliases={"--updates": None}
    )
    num_seeds: int = _f(5, O.int_(1), "seeds trained together (vmapped in one program)")
    seed: int = _f(0, O.int_(0), "random seed (seed i of --num-seeds K uses seed + i)")
    lr: float = _f(3e-4, O.float_(0, None, True), "learning rate (constant)")
    gamma: float = _f(0.99, O.float_(0.0, 1.0), "discount")
    gae_lambda: float = _f(0.95, O.float_(0.0, 1.0), "GAE lambda")
    num_epochs: int = _f(4, O.int_(1), "PPO epochs per batch")
    num_minibatches: int = _f(2, O.int_(1), "PPO minibatches per epoch (must divide num_envs)")
    ent_coef: float = _f(0.01, O.float_(0.0), "entropy bonus coefficient")
    core: str = _f(
        "none", O.choice("none", "lstm"), "student core (flatten, Dense 64, core, heads 32)"
    )
    core_size: int = _f(64, O.int_(1), "hidden size of the student's recurrent core (core lstm)")
    buffer_capacity: int = _f(1000, O.int_(1), "level buffer capacity")
    replay_prob: float = _f(0.8, O.float_(0.0, 1.0), "probability of a replay update")
    staleness_coef: float = _f(0.3, O.float_(0.0, 1.0), "staleness mixing coefficient")
    temperature: float = _f(0.3, O.float_(0, None, True), "rank prioritisation temperature")
    min_fill: float = _f(0.5, O.float_(0.0, 1.0), "buffer fill share before replay may happen")
    prioritization: str = dataclasses.field(
        default="rank", metadata=_BUFFER["prioritization"].metadata
    )
    topk_k: int = dataclasses.field(default=4, metadata=_BUFFER["topk_k"].metadata)
    duplicate_check: bool = dataclasses.field(
        default=True, metadata=_BUFFER["duplicate_check"].metadata
    )
    parallel: bool = _f(False, O.BOOL, "parallel robust PLR (all branches in every update)")
    fictitious: str = _f(
        "all", O.choice("all", "replay"), "SAMPLR: fictitious transitions on all or replay updates"
    )
    chunk_size: int = _f(50, O.int_(1), "updates per compiled chunk (logging granularity)")
    checkpoint_every: int = _f(0, O.int_(0), "updates between checkpoints (0: only at the end)")
    keep_checkpoints: int = _f(1, O.int_(1), "checkpoints kept")
    out: str = _f("", O.STR, "run directory (default runs/<preset>-<time>)", aliases={"-o": None})
    log: tuple[str, ...] = _f((), O.strs("tensorboard", "wandb"), "extra loggers")
    progress: bool = _f(True, O.BOOL, "progress bar")
    plot: bool = _f(True, O.BOOL, "write plots (RUN_DIR/plots) at the end of training")

    def __post_init__(self) -> None:
        if isinstance(self.log, list):
            object.__setattr__(self, "log", tuple(self.log))
        OPTIONS.check(self)
        if self.kind != "samplr":
            raise O.ConfigError(f"kind: a SAMPLR experiment has kind 'samplr', got {self.kind!r}")
        if self.num_envs % self.num_minibatches:
            raise O.ConfigError(
                f"--num-minibatches {self.num_minibatches} must divide --num-envs {self.num_envs}"
            )
        if self.min_exit_distance and self.env != "gamble-maze":
            raise O.ConfigError("--min-exit-distance applies to the gamble maze only")
        if not self.lava_below and self.env != "lava-maze":
            raise O.ConfigError("--lava-below false applies to the lava maze only")


# what a resumed run may change: its length and options that only affect execution
RESUMABLE = frozenset(
    {"num_updates", "chunk_size", "checkpoint_every", "keep_checkpoints", "progress", "log", "plot"}
)


def _preset(env: str, method: str) -> dict[str, Any]:
    p: dict[str, Any] = dict(env=env, curriculum=method, score="maxmc", egocentric=True)
    if env == "lava-maze":
        # the template whose best route flips between the prior mean (0.2) and a belief shifted
        # to slippery levels (docs/samplr.md, "Lava maze: can it show the bias?")
        p.update(lava_below=False)
    if env == "gamble-maze":
        # the pilots' design (docs/samplr.md, "Making the effect measurable")
        p.update(
            min_exit_distance=4,
            core="lstm",
            core_size=64,
            temperature=1.0,
            num_updates=2000,
            checkpoint_every=250,
        )
    return p


PRESETS: dict[str, dict[str, Any]] = {
    f"{e.split('-')[0]}-{m}": _preset(e, m) for e in ENVS for m in METHODS
}
OPTIONS = O.Options(
    SamplrConfig,
    "openued train",
    "Train on an aleatoric maze with DR, robust PLR or SAMPLR (presets: "
    + ", ".join(PRESETS)
    + ").",
    positionals=(("PRESET", "one of: " + ", ".join(PRESETS)),),
)


def make_config(preset: str, **overrides) -> SamplrConfig:
    """The preset's :class:`SamplrConfig` with keyword overrides (values or strings)."""
    if preset not in PRESETS:
        raise O.ConfigError(f"unknown SAMPLR preset {preset!r}; allowed: {', '.join(PRESETS)}")
    values = {k: OPTIONS.parse_value(k, v) for k, v in overrides.items()}
    return SamplrConfig(preset=preset, **{**PRESETS[preset], **values})


def config_from_dict(d: dict[str, Any]) -> SamplrConfig:
    """A run's stored config (``config.json``); an unknown key is an error naming it."""
    d = {k: v for k, v in d.items() if k != "experiment"}  # runs written before ``kind``
    d.setdefault("kind", "samplr")
    return from_stored(OPTIONS, SamplrConfig, d, stored=("preset", "kind"))


def config_to_dict(cfg: SamplrConfig) -> dict[str, Any]:
    return config_dict(cfg)


@dataclasses.dataclass(frozen=True)
class SamplrExperiment:
    config: SamplrConfig
    env: Any
    space: Any
    curriculum: Any
    student: Any
    trainer: Any


def build_experiment(cfg: SamplrConfig) -> SamplrExperiment:
    """Env, level space, curriculum (the registered one; SAMPLR's carries its step hook, DR's
    and robust PLR's get the aleatoric diagnostics), student (flatten, Dense 64, ``cfg.core``,
    heads 32) and trainer."""
    import curricula  # noqa: F401 (registers the curricula)
    from curricula.samplr import with_aleatoric_diagnostics
    from envs.aleatoric import make_aleatoric_maze
    from ued.networks import NetworkConfig, make_actor_critic
    from ued.ppo import PPOConfig, PPOParams
    from ued.registry import CURRICULA, CurriculumContext
    from ued.train import TrainConfig, make_train

    env, space = make_aleatoric_maze(
        cfg.env,
        egocentric=cfg.egocentric,
        min_exit_distance=cfg.min_exit_distance,
        lava_below=cfg.lava_below,
    )
    student = make_actor_critic(
        NetworkConfig(
            encoder="flat", torso=(64,), core=cfg.core, core_size=cfg.core_size, head_size=32
        ),
        env.action_space().n,
    )
    ppo = PPOConfig(num_epochs=cfg.num_epochs, num_minibatches=cfg.num_minibatches)
    pp = PPOParams(
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        ent_coef=cfg.ent_coef,
        lr=cfg.lr,
        lr_anneal_updates=0,
    )
    ctx = CurriculumContext(space, env, cfg.num_envs, cfg, student, ppo, pp)
    cur = CURRICULA.get(cfg.curriculum).make(ctx)
    if cfg.curriculum != "samplr":
        cur = with_aleatoric_diagnostics(cur, space)
    tc = TrainConfig(num_envs=cfg.num_envs, num_steps=cfg.num_steps, num_updates=cfg.num_updates,
                     ppo=ppo)  # fmt: skip
    trainer = make_train(tc, env, space, cur, student, cfg.score, ppo_params=pp)
    return SamplrExperiment(cfg, env, space, cur, student, trainer)


def build(cfg: SamplrConfig, run_dir: Any = None) -> Built:
    """The run of ``cfg`` for the one driver: every seed in one vmapped program (a leading seed
    axis even for one seed, as the evaluation expects)."""
    exp = build_experiment(cfg)
    host = host_config(
        cfg, cfg.num_updates, checkpoint_every=cfg.checkpoint_every or O.INT_MAX
    )  # 0: only the checkpoint at the end
    return Built(
        trainer=exp.trainer,
        num_units=cfg.num_updates,
        seed=cfg.seed,
        num_seeds=cfg.num_seeds,
        batched=True,
        host=host,
        experiment=exp,
    )


def train(cfg: SamplrConfig, write=None, run_dir: str | Path | None = None) -> Path:
    """Train ``cfg`` into a new run directory (``run_dir``, else ``cfg.out``, else
    ``runs/<preset>-<time>``) through the one driver; returns its path. Host."""
    from experiments.kinds import train_run

    out = Path(run_dir or cfg.out or KIND.default_out(cfg))
    train_run(KIND, cfg, out, False, write=write)
    return out


# ------------------------------------------------------------------------------ evaluation


def interval(values) -> dict[str, Any]:
    """Per-seed values, mean and a 95% t-interval over seeds (the value itself for one seed;
    ``None`` for NaN values). :func:`envs.aleatoric.evaluation.seed_interval`."""
    from envs.aleatoric.evaluation import seed_interval

    return seed_interval(values)


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
        r = load_run(run)
        exp = build_experiment(config_from_dict(r.config))
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
            m = r.metrics
            x = np.asarray(m.get("env_steps", m.get("update")), np.float64)
            x = x if x.ndim == 1 else np.nanmean(x.reshape(x.shape[0], -1), 1)
            run = {"method": r.config["curriculum"], "x": x,
                   "returns": np.asarray(m.get("rollout/return"), np.float64)}  # fmt: skip
            _, sd, _ = load_latest_checkpoint(r.run_dir, None, warn=lambda s: None)
            buf = sd.get("curriculum", {}).get("buffer") if isinstance(sd, dict) else None
            if buf is not None:  # DR keeps no buffer
                field = "coin" if env == "gamble-maze" else "theta"
                run["buffer_values"] = buf["levels"][field]
                run["buffer_filled"] = buf["filled"]
            data.append(run)
        p = out_dir / f"samplr_{env}.png"
        F.save(F.plot_samplr_runs(env, data), p, dpi=100, bbox_inches=None)
        written.append(str(p))
    return written


def _fmt(d: dict) -> str:
    if d is None or d["mean"] is None:
        return "n/a"
    lo, hi = d["ci95"]
    return f"{d['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


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
        "samplr table " + " ".join(str(d) for d in sources) + "`.\n\n"
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
    """``python -m experiments.kinds.samplr {plot,table} RUN_DIR ...``: figures of several
    SAMPLR runs together and the results table (one run: ``openued train/eval/plot``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] not in (["table"], ["plot"]):
        print(
            "usage: python -m experiments.kinds.samplr {plot,table} RUN_DIR ... [--out PATH] "
            "(train, eval and plot one run with openued)",
            file=sys.stderr,
        )
        return 2
    opts = O.Options(
        _RunsOptions,
        f"python -m experiments.kinds.samplr {argv[0]}",
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


# ----------------------------------------------------------------------------- the kind


def _train_options(preset: str | None, argv) -> O.Options:
    return OPTIONS


def _evaluate(run_dir: Path, opts: dict) -> dict:
    opts = {**O.defaults_of(EvalOptions), **opts}
    out = samplr_eval(run_dir, num_layouts=opts["layouts"])
    out["run_dir"] = str(run_dir)
    return out


def _figures(run_dir: Path, opts: dict) -> list:
    return plot_runs([run_dir], opts.get("out") or Path(run_dir) / "plots")


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    layouts: int = O.option(64, O.int_(1), "held-out gamble-maze layouts")


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    out: str = O.option("", O.STR, "output directory", default_text="RUN_DIR/plots")


KIND = register_kind(
    Kind(
        name="samplr",
        title="SAMPLR presets (aleatoric mazes; evaluated on the ground truth)",
        length="num_updates",
        unit="update",
        presets=lambda: {
            p: f"{v['env']} (aleatoric), "
            + {"dr": "domain randomisation", "robust-plr": "robust PLR",
               "samplr": "SAMPLR (fictitious transitions from the prior)"}[v["curriculum"]]
            for p, v in PRESETS.items()
        },  # fmt: skip
        train_options=_train_options,
        make_config=lambda preset, overrides: make_config(preset, **overrides),
        from_dict=config_from_dict,
        to_dict=config_to_dict,
        validate=lambda cfg: SamplrConfig(**dataclasses.asdict(cfg)),
        resumable=RESUMABLE,
        build=build,
        evaluate=_evaluate,
        eval_options=O.Options(
            EvalOptions,
            "openued eval",
            "Ground-truth evaluation of a SAMPLR run; the last stdout line is one JSON object.",
            positionals=(("RUN_DIR", "a run directory written by openued train"),),
        ),
        figures=_figures,
        plot_options=O.Options(
            PlotOptions,
            "openued plot",
            "The aleatoric parameter of the buffer's levels against the prior, and the return.",
            positionals=(("RUN_DIR", "a run directory written by openued train"),),
        ),
        default_out=lambda cfg: f"runs/{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}",
    )
)


if __name__ == "__main__":
    sys.exit(main())
