"""The ``openued`` command line (console script ``openued = experiments.cli:main``).

    openued train PRESET [--option VALUE ...]          train (maze and SAMPLR presets)
    openued train --resume RUN_DIR --num-updates N     continue a run to N updates in total
    openued eval RUN_DIR [--option VALUE ...]          evaluate; last line is one JSON object
    openued plot RUN_DIR [--option VALUE ...]          learning curves, diagnostics, levels
    openued hades train|eval|plot ...                  behaviour distillation (HaDES)
    openued synth train|eval|plot ...                  synthetic environments

Every command parses its options from typed dataclass fields (``experiments.options``): a bad
value or unknown option is one error line naming the flag and its allowed values, and
``--help`` lists each flag with its type, allowed values, default and help. A preset belongs
to a *kind* of run (``maze``: ``experiments.presets``; ``samplr``: ``experiments.samplr``);
the run's ``config.json`` declares its kind, and ``eval``, ``plot`` and ``--resume`` dispatch
on it.

Runs go through the run layer (``ued.host``): the run directory, its lock, checkpoints, level
snapshots and the resume rule (``ued.host.check_resume``) live there. Errors are one line
``openued: error: ...`` on stderr: exit status 2 for the caller's mistakes (a bad option or
config file, a refused resume, a directory that cannot be written), 1 for failures of the run
itself (divergence, a full disk, lost checkpoints).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from experiments import options as O
from experiments import presets as P
from experiments import samplr as S
from experiments.errors import error as _err
from experiments.errors import run_command

# what a resumed maze run may change: its length and options that only affect execution
# (chunking, checkpointing, progress, loggers, plotting). Anything else, evaluation settings
# included, changes what the run computes or records.
RESUMABLE = frozenset(
    {
        "num_updates",
        "chunk_size",
        "checkpoint_every",
        "keep_checkpoints",
        "progress",
        "log",
        "plot",
        "eval_at_start",  # acts only when a fresh run starts
    }
)
# stored keys of runs written before ``config.json`` declared its kind ("experiment": the
# SAMPLR runs' old name for it); the kind itself never changes on resume (it picks the code)
_LEGACY_KEYS = frozenset({"kind", "experiment"})


@dataclasses.dataclass(frozen=True)
class ResumeOption:
    resume: str = O.option(
        "",
        O.STR,
        "continue the run in this directory (no preset: the run holds its config; give only "
        "the run length and execution options)",
        default_text="none",
    )


# ----------------------------------------------------------------------------- kinds of runs


class Kind(NamedTuple):
    """What ``train``, ``eval``, ``plot`` and ``--resume`` do for one kind of run."""

    name: str
    title: str
    presets: dict[str, str]  # preset -> one-line description
    options: O.Options  # the train options: config fields + --resume
    make_config: Callable[[str, dict], Any]
    from_dict: Callable[[dict], Any]
    to_dict: Callable[[Any], dict]
    validate: Callable[[Any], Any]
    resumable: frozenset
    train: Callable[[Any, Path, bool], None]
    evaluate: Callable[[Path, Any, dict], int]
    plot: Callable[[Path, Any, dict], list]


def _train_options(config_cls, summary: str, presets) -> O.Options:
    return O.Options(
        (config_cls, ResumeOption),
        "openued train",
        summary,
        positionals=(("PRESET", "one of: " + ", ".join(presets)),),
    )


_MAZE_PRESETS = {
    "maze-dr": "maze, domain randomisation",
    "maze-plr": "maze, prioritised level replay",
    "maze-robust-plr": "maze, robust PLR (trains on replayed levels only)",
    "maze-accel": "maze, ACCEL (robust PLR + mutations of replayed levels)",
    "maze-sfl": "maze, sampling for learnability",
    "maze-archive": "maze, MAP-Elites level archive",
    "maze-paired": "maze, PAIRED (teacher, protagonist and antagonist; estimated regret)",
    "maze-minimax": "maze, minimax adversary (teacher rewarded by the protagonist's -return)",
    "maze-population-paired": "maze, population PAIRED (3 students by default)",
    "maze-demo": "7x7 maze, robust PLR, sized to learn visibly in a few CPU minutes",
}
_SAMPLR_PRESETS = {
    f"{env}-{m}": f"{env}-maze (aleatoric), {desc}"
    for env in ("gamble", "lava")
    for m, desc in (
        ("dr", "domain randomisation"),
        ("robust-plr", "robust PLR"),
        ("samplr", "SAMPLR (fictitious transitions from the prior)"),
    )
}
assert set(_MAZE_PRESETS) == set(P.PRESETS) and set(_SAMPLR_PRESETS) == set(S.PRESETS)


def _run_label(cfg) -> str:
    return f"{cfg.num_updates} updates x {cfg.num_seeds} seed(s)"


def _train_samplr(cfg: S.SamplrConfig, run_dir: Path, resume: bool) -> None:
    t0 = time.perf_counter()
    S.train(
        cfg,
        resume=resume,
        may_change=(S.RESUMABLE | _LEGACY_KEYS) if resume else None,
        run_dir=run_dir,
    )
    wall = time.perf_counter() - t0
    print(f"trained {_run_label(cfg)} in {wall:.1f} s -> {run_dir}", file=sys.stderr)
    if cfg.plot:
        written = S.plot_runs([run_dir], run_dir / "plots")
        print(f"plots: {', '.join(str(p) for p in written)}", file=sys.stderr)


def _eval_samplr(run_dir: Path, cfg: S.SamplrConfig, opts: dict) -> int:
    res = S.samplr_eval(run_dir, num_layouts=opts["layouts"])
    res["run_dir"] = str(run_dir)
    _emit_eval(run_dir, res)
    return 0


def _plot_samplr(run_dir: Path, cfg: S.SamplrConfig, opts: dict) -> list:
    return S.plot_runs([run_dir], opts["out"] or run_dir / "plots")


def _kinds() -> dict[str, Kind]:
    return {
        "maze": Kind(
            "maze",
            "maze presets (experiments.presets.ExperimentConfig)",
            _MAZE_PRESETS,
            _train_options(
                P.ExperimentConfig, "Train a maze student with a UED curriculum.", P.PRESETS
            ),
            P.make_config,
            P.config_from_dict,
            P.config_to_dict,
            P.validate,
            RESUMABLE,
            lambda cfg, run_dir, resume: _train_maze(cfg, run_dir, resume),
            lambda run_dir, cfg, opts: _eval_maze(run_dir, cfg, opts),
            lambda run_dir, cfg, opts: _plot_maze(run_dir, cfg, opts),
        ),
        "samplr": Kind(
            "samplr",
            "SAMPLR presets (experiments.samplr.SamplrConfig)",
            _SAMPLR_PRESETS,
            _train_options(
                S.SamplrConfig,
                "Train on an aleatoric maze with DR, robust PLR or SAMPLR.",
                S.PRESETS,
            ),
            lambda preset, ov: S.make_config(preset, **ov),
            S.config_from_dict,
            S.config_to_dict,
            lambda cfg: S.SamplrConfig(**dataclasses.asdict(cfg)),
            S.RESUMABLE,
            _train_samplr,
            _eval_samplr,
            _plot_samplr,
        ),
    }


KINDS = _kinds()
PRESET_KIND = {p: k.name for k in KINDS.values() for p in k.presets}


def _preset_kind(preset: str) -> Kind:
    if preset not in PRESET_KIND:
        raise O.ConfigError(f"unknown preset {preset!r}; allowed: {', '.join(PRESET_KIND)}")
    return KINDS[PRESET_KIND[preset]]


def _stored_run(run_dir: Path, command: str) -> tuple[Kind, Any]:
    """The run's kind (declared by its ``config.json``) and configuration; every problem with
    the file is one ``ConfigFileError`` naming it."""
    from ued.host import CONFIG_FILE, ConfigFileError, read_config

    raw = read_config(run_dir)
    name = raw.get("kind") or raw.get("experiment") or "maze"  # older maze runs declare none
    if name in ("hades", "synth"):
        use = f"openued {name} {command} {run_dir}"
        if command == "train":  # an ES run resumes with its train command and --out
            use = f"openued {name} train ENV --out {run_dir}"
        raise O.ConfigError(f"{run_dir} is a {name} run; use: {use}")
    if name not in KINDS:
        raise ConfigFileError(
            f"{run_dir / CONFIG_FILE}: unknown kind {name!r}; allowed: {', '.join(KINDS)}"
        )
    kind = KINDS[name]
    try:
        return kind, kind.from_dict(raw)
    except O.ConfigError as e:
        raise ConfigFileError(f"{run_dir / CONFIG_FILE}: {e}") from None


# ----------------------------------------------------------------------------- maze runs


_EVAL_CACHE: dict = {}


def _seed_keys(seed: int, k: int):
    import jax
    import jax.numpy as jnp

    if k == 1:
        return jax.random.key(seed)
    return jax.vmap(jax.random.key)(jnp.arange(seed, seed + k))


def make_eval_fn(
    exp: P.Experiment,
    num_seeds: int,
    attempts: int | None = None,
    sets: dict | None = None,
    greedy: bool | None = None,
):
    """``fn(key, student_params) -> {set: (names, EvalResult)}``; jitted, vmapped over seeds."""
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
    # the compiled evaluator depends only on these (eval sets are cached objects per process)
    cache_key = (
        exp.maze_config,
        cfg.network,
        attempts,
        cfg.max_episode_steps,
        greedy,
        num_seeds,
        tuple(id(sets[n][1]) for n in names),
    )
    fn = _EVAL_CACHE.get(cache_key)
    if fn is None:
        evaluator = make_evaluator(
            exp.env,
            exp.student,
            num_attempts=attempts,
            max_steps=cfg.max_episode_steps,
            greedy=greedy,
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
    """Metrics dict (per-seed lists when batched) from ``make_eval_fn`` output."""
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


# fields that do not change the compiled program (a run in the same process reuses it)
_RUN_ONLY = {
    "num_updates",
    "seed",
    "out",
    "chunk_size",
    "checkpoint_every",
    "keep_checkpoints",
    "eval_every",
    "eval_at_start",
    "progress",
    "log",
    "plot",
    "preset",
}
_PROGRAMS: dict = {}


def _program(cfg: P.ExperimentConfig):
    """``(experiment, jitted init(keys), jitted run(state, n))``, cached per process by the
    fields that shape the program (repeated and resumed runs in one process compile once).
    ``num_updates`` is not part of the key: the CLI drives ``run`` in chunks and never calls
    ``experiment.trainer.train``."""
    exp, init_j, run_j, _ = _program_and_snapshot(cfg)
    return exp, init_j, run_j


def _program_and_snapshot(cfg: P.ExperimentConfig):
    """:func:`_program` plus the run's level snapshot function (``None`` for DR), cached with it."""
    import jax

    from ued.host import make_level_snapshot

    key = (tuple(sorted((k, v) for k, v in dataclasses.asdict(cfg).items() if k not in _RUN_ONLY)),)
    hit = _PROGRAMS.get(key)
    if hit is not None:
        exp, init_j, run_j, snap = hit
        return exp._replace(config=cfg), init_j, run_j, snap
    exp = P.build(cfg)
    tr = exp.trainer
    if cfg.num_seeds == 1:
        init_j = jax.jit(tr.init)
        run_j = jax.jit(tr.run, static_argnums=1)
    else:
        init_j = jax.jit(jax.vmap(tr.init))
        run_j = jax.jit(jax.vmap(tr.run, in_axes=(0, None)), static_argnums=1)
    snap = make_level_snapshot(exp.curriculum, exp.space, batched=cfg.num_seeds > 1)
    _PROGRAMS[key] = (exp, init_j, run_j, snap)
    return exp, init_j, run_j, snap


def _stored_config(run_dir: Path) -> P.ExperimentConfig:
    """A maze run's configuration; every problem is one ``ConfigFileError`` naming the file."""
    kind, cfg = _stored_run(run_dir, "eval")
    if kind.name != "maze":
        raise O.ConfigError(f"{run_dir} is a {kind.name} run, not a maze run")
    return cfg


def _start_over_command(cfg, kind: Kind) -> str | None:
    """The ``openued train`` command that starts ``cfg`` over (into NEW_DIR), if it has a preset."""
    if cfg.preset not in kind.presets:
        return None
    base = kind.to_dict(kind.make_config(cfg.preset, {}))
    parts = ["openued train", cfg.preset]
    for name, value in kind.to_dict(cfg).items():
        if name not in kind.options.fields or name == "out" or base.get(name) == value:
            continue
        if isinstance(value, list):
            text = ",".join(value)
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        parts += [O.flag(name), text]
    return " ".join(parts + ["--out", "NEW_DIR"])


def _check_resume_position(run_dir: Path, cfg, kind: Kind) -> None:
    """Refuse a run length below the run's position before anything is built or written."""
    from ued.host import CheckpointError, ResumeError, load_latest_checkpoint

    try:
        start, _, path = load_latest_checkpoint(run_dir, None, warn=lambda m: None)
    except CheckpointError as e:
        cmd = _start_over_command(cfg, kind)
        raise CheckpointError(f"{e}{f': {cmd}' if cmd else ''}") from None
    if cfg.num_updates < start:
        raise ResumeError(
            f"--num-updates {cfg.num_updates}: {run_dir} is already at update {start} "
            f"({path.name}); give --num-updates {start} or more"
        )


def _train_maze(cfg: P.ExperimentConfig, run_dir: Path, resume: bool) -> None:
    import jax

    from ued.host import HostConfig, run_training

    k = cfg.num_seeds
    keys = _seed_keys(cfg.seed, k)
    exp, init_j, run_j, snapshot = _program_and_snapshot(cfg)
    ev = make_eval_fn(exp, k)

    def evaluate(state):
        key = jax.random.fold_in(jax.random.key(cfg.seed), 7919)
        return eval_summary(ev(key, state.student.params))

    host = HostConfig(
        num_updates=cfg.num_updates,
        chunk_size=cfg.chunk_size,
        checkpoint_every=cfg.checkpoint_every,
        keep_checkpoints=cfg.keep_checkpoints,
        eval_every=cfg.eval_every,
        eval_at_start=cfg.eval_at_start,
        progress=cfg.progress,
        log_backends=cfg.log,
    )
    t0 = time.perf_counter()
    run_training(
        run_dir,
        lambda: init_j(keys),
        run_j,
        host,
        config=P.config_to_dict(cfg),
        env_steps_per_update=cfg.num_envs * cfg.num_steps,
        num_seeds=k,
        resume=resume,
        may_change=(RESUMABLE | _LEGACY_KEYS) if resume else None,
        evaluate=evaluate if ev is not None else None,
        snapshot=snapshot,
    )
    wall = time.perf_counter() - t0
    print(f"trained {_run_label(cfg)} in {wall:.1f} s -> {run_dir}", file=sys.stderr)
    if cfg.plot:
        from experiments.plots import make_plots

        written = make_plots(run_dir)
        print(f"plots: {', '.join(str(p) for p in written)}", file=sys.stderr)


def restore(run_dir: str | Path):
    """``(experiment, state, update)`` of a run's newest good checkpoint."""
    import jax

    from ued.host import load_latest_checkpoint

    run_dir = Path(run_dir)
    cfg = _stored_config(run_dir)
    exp, _, _ = _program(cfg)
    k = cfg.num_seeds
    init = jax.vmap(exp.trainer.init) if k > 1 else exp.trainer.init
    template = jax.eval_shape(init, _seed_keys(cfg.seed, k))  # shapes only: nothing runs
    update, state, _ = load_latest_checkpoint(run_dir, template)
    return exp, state, update


def _eval_maze(run_dir: Path, cfg: P.ExperimentConfig, opts: dict) -> int:
    import jax
    import numpy as np

    from experiments.report import eval_report
    from ued.evaluation import iqm_ci

    exp, state, update = restore(run_dir)
    if opts["levels"]:
        from envs.maze import load_levels, stack_levels

        try:
            lv = load_levels(opts["levels"], exp.maze_config)
        except (OSError, ValueError) as e:
            raise O.ConfigError(f"--levels {opts['levels']}: {e}") from e
        if not lv:
            raise O.ConfigError(f"--levels {opts['levels']}: no levels in the file")
        sets = {"levels": (tuple(f"level-{i}" for i in range(len(lv))), stack_levels(lv))}
    else:
        sets = exp.eval_sets
        if not sets:
            raise O.ConfigError("no default evaluation levels for this maze size; pass --levels")
    k = exp.config.num_seeds
    ev = make_eval_fn(
        exp, k, attempts=opts["attempts"], sets=sets, greedy=True if opts["greedy"] else None
    )
    res = ev(jax.random.key(opts["seed"]), state.student.params)
    solve, ret, length, per_set = {}, {}, {}, {}
    seed_means = []
    for set_name, (names, r) in res.items():
        sr = np.asarray(r.solve_rate).reshape(k, -1)
        mr = np.asarray(r.mean_return).reshape(k, -1)
        ml = np.asarray(r.mean_length).reshape(k, -1)
        for i, n in enumerate(names):
            solve[n] = float(sr[:, i].mean())
            ret[n] = float(mr[:, i].mean())
            length[n] = float(ml[:, i].mean())
            print(f"{n:>24s}  solve {solve[n]:.3f}  return {ret[n]:.3f}  length {length[n]:.1f}")
        per_set[set_name] = float(sr.mean())
        seed_means.append(sr)
    per_seed = np.concatenate(seed_means, axis=1).mean(1)
    ci = iqm_ci(per_seed)
    out = {
        "mean_solve_rate": float(np.mean(list(solve.values()))),
        "solve_rate": solve,
        "mean_return": ret,
        "episode_length": length,
        "set_solve_rate": per_set,
        "per_seed_mean_solve_rate": [float(x) for x in per_seed],
        "iqm_solve_rate": {"iqm": ci.iqm, "low": ci.low, "high": ci.high, "num_seeds": ci.n},
        "num_attempts": opts["attempts"] or exp.config.eval_attempts,
        "update": update,
        "run_dir": str(run_dir),
        # PAIRED runs: the trained student is the protagonist (the antagonists are not evaluated)
        "student": "protagonist" if P.is_paired(cfg) else "student",
    }
    # per-set means with intervals over seeds, the per-level table, and a headline that is the
    # prefab mean rather than a mean over every level pooled (100 validation levels would
    # outweigh the 8 prefabs)
    out.update(eval_report(res))
    _emit_eval(run_dir, out)
    return 0


def _emit_eval(run_dir: Path, out: dict) -> None:
    """Print ``out`` as the last stdout line and store the same line as ``RUN_DIR/eval.json``."""
    from ued.host import atomic_write_text, jsonable

    line = json.dumps(jsonable(out), allow_nan=False, default=lambda x: None)
    print(line, flush=True)
    atomic_write_text(run_dir / "eval.json", line + "\n")


def _plot_maze(run_dir: Path, cfg: P.ExperimentConfig, opts: dict) -> list:
    from experiments.plots import make_plots

    return make_plots(run_dir, out_dir=opts["out"] or None, gif=opts["gif"], restore=restore)


# ----------------------------------------------------------------------------- commands


def _peek_resume(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--resume":
            return argv[i + 1] if i + 1 < len(argv) else ""
        if a.startswith("--resume="):
            return a.split("=", 1)[1]
    return None


def train_help() -> str:
    """``openued train --help``: every preset, then the options of each kind of preset."""
    lines = [
        "usage: openued train PRESET [--option VALUE ...]",
        "       openued train --resume RUN_DIR [--num-updates N] [execution options]",
        "",
        "Train a student from a preset into a run directory, or continue a run. "
        "'openued train PRESET --help' shows the options with that preset's defaults.",
    ]
    for kind in KINDS.values():
        lines += ["", f"{kind.title}:"]
        lines += [f"  {p:<24s}{d}" for p, d in kind.presets.items()]
    for kind in KINDS.values():
        lines += ["", f"options of the {kind.name} presets:", *kind.options.option_lines()]
        lines.append(
            "  a resumed run may change only: "
            + ", ".join(O.flag(n) for n in sorted(kind.resumable))
        )
    return "\n".join(lines)


def cmd_train(argv: list[str]) -> int:
    from ued.host import check_resume, holds_run

    preset = argv[0] if argv and not argv[0].startswith("-") else None
    resume = _peek_resume(argv)
    wants_help = "-h" in argv or "--help" in argv
    if resume is not None:
        if preset:
            raise O.ConfigError(
                "--resume RUN_DIR takes no preset (the run directory holds the "
                "config); give only --num-updates and execution options"
            )
        if wants_help:
            raise O.ShowHelp(train_help())
        if not resume:
            raise O.ConfigError("--resume: expected a run directory")
        run_dir = Path(resume)
        kind, old = _stored_run(run_dir, "train")
        pos, overrides = kind.options.parse(argv)
        overrides.pop("resume", None)
        if pos:
            raise O.ConfigError(f"unexpected argument {pos[0]!r}: --resume RUN_DIR takes no preset")
        cfg = kind.validate(dataclasses.replace(old, **overrides))
        check_resume(
            kind.to_dict(old), kind.to_dict(cfg), kind.resumable, describe=kind.options.describe
        )
        _check_resume_position(run_dir, cfg, kind)
    else:
        if preset is None:
            if wants_help:
                raise O.ShowHelp(train_help())
            raise O.ConfigError(
                "give a preset (" + ", ".join(PRESET_KIND) + ") or --resume RUN_DIR"
            )
        kind = _preset_kind(preset)
        if wants_help:
            defaults = kind.to_dict(kind.make_config(preset, {}))
            raise O.ShowHelp(kind.options.help(defaults, title=f"options (defaults of {preset})"))
        _, overrides = kind.options.parse(argv)  # positionals: the preset only
        if "resume" in overrides:
            raise O.ConfigError("--resume RUN_DIR takes no preset")
        cfg = kind.make_config(preset, overrides)
        if not cfg.out:
            cfg = dataclasses.replace(
                cfg, out=f"runs/{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
            )
        run_dir = Path(cfg.out)
        if holds_run(run_dir):
            raise O.ConfigError(
                f"--out: {run_dir} already holds a run; continue it with "
                f"--resume {run_dir} or choose another directory"
            )
    kind.train(cfg, run_dir, resume is not None)
    return 0


def _run_dir_arg(opts: O.Options, argv: list[str]) -> tuple[Path, dict]:
    pos, given = opts.parse(argv)
    if len(pos) != 1:
        raise O.ConfigError(f"give one RUN_DIR (see {opts.prog} --help)")
    return Path(pos[0]), given


def _check_applies(given: dict, applies: dict[str, str], kind: Kind, run_dir: Path) -> None:
    for name in given:
        if applies.get(name, kind.name) != kind.name:
            raise O.ConfigError(
                f"{O.flag(name)}: applies to {applies[name]} runs; {run_dir} is a {kind.name} run"
            )


def _defaults(cls) -> dict:
    return {f.name: f.default for f in dataclasses.fields(cls)}


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    levels: str = O.option(
        "",
        O.STR,
        "maze runs: file of ASCII levels (envs.maze.load_levels format)",
        default_text="the run's evaluation sets",
    )
    attempts: int | None = O.option(
        None, O.optional(O.int_(1)), "maze runs: episodes per level", default_text="the run's"
    )
    greedy: bool = O.option(False, O.BOOL, "maze runs: argmax actions")
    seed: int = O.option(0, O.int_(0), "maze runs: evaluation key")
    layouts: int = O.option(64, O.int_(1), "SAMPLR runs: held-out gamble-maze layouts")


_EVAL_APPLIES = {"levels": "maze", "attempts": "maze", "greedy": "maze", "seed": "maze",
                 "layouts": "samplr"}  # fmt: skip
EVAL_OPTIONS = O.Options(
    EvalOptions,
    "openued eval",
    "Evaluate a run's newest checkpoint (maze: solve rates on the evaluation sets; SAMPLR: "
    "ground-truth evaluation). The last stdout line is one JSON object.",
    positionals=(("RUN_DIR", "a run directory written by openued train"),),
)


def cmd_eval(argv: list[str]) -> int:
    run_dir, given = _run_dir_arg(EVAL_OPTIONS, argv)
    kind, cfg = _stored_run(run_dir, "eval")
    _check_applies(given, _EVAL_APPLIES, kind, run_dir)
    return kind.evaluate(run_dir, cfg, {**_defaults(EvalOptions), **given})


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    gif: bool = O.option(False, O.BOOL, "maze runs: also an animation of the agent")
    out: str = O.option(
        "", O.STR, "output directory", default_text="RUN_DIR/plots; with --compare: required"
    )
    compare: bool = O.option(
        False,
        O.BOOL,
        "overlay two or more runs (or curricula): compare.png, plus compare.md and compare.json "
        "with each run's final evaluation IQM and its 95% stratified-bootstrap interval",
    )
    labels: tuple[str, ...] = O.option(
        (), O.STRS, "with --compare: one legend label per run", default_text="the directory names"
    )


PLOT_OPTIONS = O.Options(
    PlotOptions,
    "openued plot",
    "Plots of a run: learning curves, evaluation, curriculum diagnostics, levels. With "
    "--compare, one figure and table comparing several runs.",
    positionals=(("RUN_DIR...", "run directories written by openued train (one, or several "
                  "with --compare)"),),  # fmt: skip
)


def cmd_plot(argv: list[str]) -> int:
    pos, given = PLOT_OPTIONS.parse(argv)
    opts = {**_defaults(PlotOptions), **given}
    if not pos:
        raise O.ConfigError(f"give a RUN_DIR (see {PLOT_OPTIONS.prog} --help)")
    if opts["compare"]:
        return _plot_compare([Path(p) for p in pos], opts)
    if opts["labels"]:
        raise O.ConfigError("--labels: only with --compare")
    if len(pos) != 1:
        raise O.ConfigError("give one RUN_DIR, or several with --compare")
    run_dir = Path(pos[0])
    kind, cfg = _stored_run(run_dir, "plot")
    _check_applies(given, {"gif": "maze"}, kind, run_dir)
    for path in kind.plot(run_dir, cfg, opts):
        print(path)
    return 0


def _plot_compare(run_dirs: list[Path], opts: dict) -> int:
    from experiments.plots import compare_plots

    if len(run_dirs) < 2:
        raise O.ConfigError("--compare: give two or more run directories")
    if not opts["out"]:
        raise O.ConfigError("--compare: give --out DIR for the comparison figure and table")
    if opts["gif"]:
        raise O.ConfigError("--gif: not with --compare")
    labels = list(opts["labels"]) or None
    if labels is not None and len(labels) != len(run_dirs):
        raise O.ConfigError(
            f"--labels: {len(labels)} labels for {len(run_dirs)} run directories"
        )
    for d in run_dirs:
        _stored_run(d, "plot")  # a clear error for a directory that holds no run
    for path in compare_plots([str(d) for d in run_dirs], opts["out"], labels=labels):
        print(path)
    return 0


# ----------------------------------------------------------------------------- dispatch


def _delegate(module: str, argv: list[str]) -> int:
    if importlib.util.find_spec(module) is None:
        _err(f"{module} is not available in this installation (the command needs {module}.py)")
        return 2
    mod = importlib.import_module(module)
    rc = mod.main(argv)
    return 0 if rc is None else int(rc)


# command -> (one-line description, function); hades and synth live in their own modules
COMMANDS: dict[str, tuple[str, Callable[[list[str]], int] | str]] = {
    "train": ("train a student from a preset (maze or SAMPLR), or --resume a run", cmd_train),
    "eval": ("evaluate a run's newest checkpoint; the last stdout line is one JSON object", cmd_eval),
    "plot": ("plots of a run into RUN_DIR/plots", cmd_plot),
    "hades": ("behaviour distillation with ES: hades train | eval | plot", "experiments.hades_cli"),
    "synth": ("synthetic environments meta-learned with ES: synth train | eval | plot",
              "experiments.synth_cli"),
    "gallery": ("train small runs of every kind and draw every figure the docs show",
                "experiments.gallery"),
}  # fmt: skip


def overview() -> str:
    """``openued --help``: every command with one line, and the train presets."""
    lines = ["usage: openued COMMAND [ARGS ...]   ('openued COMMAND --help' for its options)", ""]
    lines.append("commands:")
    lines += [f"  {c:<8s}{d}" for c, (d, _) in COMMANDS.items()]
    lines += ["", "train presets: " + ", ".join(PRESET_KIND)]
    return "\n".join(lines)


def _resume_hint(run_dir: Path, unit: int) -> str:
    return f"to keep it up to there: openued train --resume {run_dir} --num-updates {unit}"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 runtime failure, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(overview(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(overview())
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        _err(f"unknown command {cmd!r}; allowed: {', '.join(COMMANDS)}")
        return 2
    fn = COMMANDS[cmd][1]
    if isinstance(fn, str):
        return _delegate(fn, rest)
    return run_command(fn, rest, resume_hint=_resume_hint)


if __name__ == "__main__":
    sys.exit(main())
