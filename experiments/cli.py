"""The ``openued`` command line (console script ``openued = experiments.cli:main``).

    openued train PRESET [--field-name VALUE ...]     train (presets: experiments.presets.PRESETS)
    openued train --resume RUN_DIR --num-updates N    continue a run to N updates in total
    openued eval RUN_DIR [--levels FILE]              evaluate; last line is one JSON object
    openued plot RUN_DIR [--gif]                      learning curves, diagnostics, levels
    openued hades ... / openued synth ...             ES meta-learning commands (if installed)

Every ``ExperimentConfig`` field is an override (``--num-envs 8``, ``--gamma 0.99``, ...); a bad
value or unknown option is an error naming it and its allowed values.

Runs go through the run layer (``ued.host``): the run directory, its lock, checkpoints, level
snapshots and the resume rule live there. Errors are one line on stderr: exit status 2 for the
caller's mistakes (a bad option or config file, a refused resume, a directory that cannot be
written), 1 for failures of the run itself (divergence, a full disk, lost checkpoints).
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

from experiments import presets as P

# what a resumed run may change: its length and options that only affect execution (chunking,
# checkpointing, progress, loggers, plotting). Anything else, evaluation settings included,
# changes what the run computes or records.
RESUMABLE = frozenset(
    {
        "num_updates",
        "chunk_size",
        "checkpoint_every",
        "keep_checkpoints",
        "progress",
        "log",
        "plot",
    }
)


class CLIError(Exception):
    pass


def _err(msg: str) -> None:
    print(f"openued: error: {msg}", file=sys.stderr)


# ----------------------------------------------------------------------------- train


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="openued train",
        description="Train a student with a UED curriculum. Presets: " + ", ".join(P.PRESETS),
        allow_abbrev=False,
    )
    p.add_argument("preset", nargs="?", help="one of: " + ", ".join(P.PRESETS))
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run (no preset)")
    for name, f in P.FIELDS.items():
        if name == "preset":
            continue
        flags = [P.flag(name)]
        if name == "out":
            flags.append("-o")
        if name == "num_updates":
            flags.append("--updates")
        kind = f.metadata["check"][0]
        kw: dict[str, Any] = dict(
            dest=name,
            default=None,
            help=f"{f.metadata['help']} ({P.allowed(name)}; default {f.default!r})",
        )
        if kind == "bool":
            kw.update(nargs="?", const="true", metavar="BOOL")
        else:
            kw.update(metavar="VALUE")
        p.add_argument(*flags, **kw)
    return p


def _parse_train(argv: list[str]) -> tuple[argparse.Namespace, dict[str, Any]]:
    p = _train_parser()
    args, unknown = p.parse_known_args(argv)
    for u in unknown:
        if u.startswith("-"):
            raise P.unknown_field(u.lstrip("-").split("=")[0].replace("-", "_"))
        raise P.ConfigError(f"unexpected argument {u!r}")
    overrides = {n: getattr(args, n) for n in P.FIELDS if n != "preset"}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return args, overrides


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
    """The run's configuration; every problem is one ``ConfigFileError`` naming the file."""
    from ued.host import CONFIG_FILE, ConfigFileError, read_config

    raw = read_config(run_dir)
    try:
        return P.config_from_dict(raw)
    except P.ConfigError as e:
        raise ConfigFileError(f"{run_dir / CONFIG_FILE}: {e}") from None


def _start_over_command(cfg: P.ExperimentConfig) -> str | None:
    """The ``openued train`` command that starts ``cfg`` over (into NEW_DIR), if it has a preset."""
    if cfg.preset not in P.PRESETS:
        return None
    base = P.config_to_dict(P.make_config(cfg.preset))
    parts = ["openued train", cfg.preset]
    for name, value in P.config_to_dict(cfg).items():
        if name in ("preset", "out") or base.get(name) == value:
            continue
        if isinstance(value, list):
            text = ",".join(value)
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        parts += [P.flag(name), text]
    return " ".join(parts + ["--out", "NEW_DIR"])


def _check_resume_position(run_dir: Path, cfg: P.ExperimentConfig) -> None:
    """Refuse a run length below the run's position before anything is built or written."""
    from ued.host import CheckpointError, ResumeError, load_latest_checkpoint

    try:
        start, _, path = load_latest_checkpoint(run_dir, None, warn=lambda m: None)
    except CheckpointError as e:
        cmd = _start_over_command(cfg)
        raise CheckpointError(f"{e}{f': {cmd}' if cmd else ''}") from None
    if cfg.num_updates < start:
        raise ResumeError(
            f"--num-updates {cfg.num_updates}: {run_dir} is already at update {start} "
            f"({path.name}); give --num-updates {start} or more"
        )


def cmd_train(argv: list[str]) -> int:
    import jax

    from ued.host import HostConfig, check_resume, holds_run, run_training

    args, overrides = _parse_train(argv)
    if args.resume:
        if args.preset:
            raise P.ConfigError(
                "--resume RUN_DIR takes no preset (the run directory holds the "
                "config); give only --num-updates and logging options"
            )
        run_dir = Path(args.resume)
        old = _stored_config(run_dir)
        cfg = P.validate(
            dataclasses.replace(old, **{k: P.parse_value(k, v) for k, v in overrides.items()})
        )
        check_resume(P.config_to_dict(old), P.config_to_dict(cfg), RESUMABLE, describe=P.flag)
        _check_resume_position(run_dir, cfg)
    else:
        if not args.preset:
            raise P.ConfigError("give a preset (" + ", ".join(P.PRESETS) + ") or --resume RUN_DIR")
        cfg = P.make_config(args.preset, overrides)
        if not cfg.out:
            cfg = dataclasses.replace(
                cfg, out=f"runs/{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
            )
        run_dir = Path(cfg.out)
        if holds_run(run_dir):
            raise P.ConfigError(
                f"--out: {run_dir} already holds a run; continue it with "
                f"--resume {run_dir} or choose another directory"
            )
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
        resume=bool(args.resume),
        may_change=RESUMABLE if args.resume else None,
        evaluate=evaluate if ev is not None else None,
        snapshot=snapshot,
    )
    wall = time.perf_counter() - t0
    print(
        f"trained {cfg.num_updates} updates x {k} seed(s) in {wall:.1f} s -> {run_dir}",
        file=sys.stderr,
    )
    if cfg.plot:
        from experiments.plots import make_plots

        written = make_plots(run_dir)
        print(f"plots: {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- restore / eval


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


def cmd_eval(argv: list[str]) -> int:
    import jax
    import numpy as np

    from ued.evaluation import iqm_ci

    p = argparse.ArgumentParser(
        prog="openued eval", allow_abbrev=False, description="Evaluate a run's latest checkpoint."
    )
    p.add_argument("run_dir")
    p.add_argument("--levels", help="file of ASCII levels (envs.maze.load_levels format)")
    p.add_argument("--attempts", type=int, default=None, help="episodes per level")
    p.add_argument("--greedy", action="store_true", help="argmax actions")
    p.add_argument("--seed", type=int, default=0, help="evaluation key")
    args = p.parse_args(argv)
    if args.attempts is not None and args.attempts < 1:
        raise P.ConfigError(f"--attempts: must be an integer >= 1, got {args.attempts}")
    exp, state, update = restore(args.run_dir)
    if args.levels:
        from envs.maze import load_levels, stack_levels

        try:
            lv = load_levels(args.levels, exp.maze_config)
        except (OSError, ValueError) as e:
            raise P.ConfigError(f"--levels {args.levels}: {e}") from e
        if not lv:
            raise P.ConfigError(f"--levels {args.levels}: no levels in the file")
        sets = {"levels": (tuple(f"level-{i}" for i in range(len(lv))), stack_levels(lv))}
    else:
        sets = exp.eval_sets
        if not sets:
            raise P.ConfigError("no default evaluation levels for this maze size; pass --levels")
    k = exp.config.num_seeds
    ev = make_eval_fn(
        exp, k, attempts=args.attempts, sets=sets, greedy=True if args.greedy else None
    )
    res = ev(jax.random.key(args.seed), state.student.params)
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
        "num_attempts": args.attempts or exp.config.eval_attempts,
        "update": update,
        "run_dir": str(args.run_dir),
    }
    print(json.dumps(out, allow_nan=False, default=lambda x: None))
    return 0


def cmd_plot(argv: list[str]) -> int:
    from experiments.plots import make_plots

    p = argparse.ArgumentParser(
        prog="openued plot",
        allow_abbrev=False,
        description="Plots of a run (written to RUN_DIR/plots).",
    )
    p.add_argument("run_dir")
    p.add_argument("--gif", action="store_true", help="also an animation of the agent")
    p.add_argument("--out", default=None, help="output directory (default RUN_DIR/plots)")
    args = p.parse_args(argv)
    _stored_config(Path(args.run_dir))
    for path in make_plots(args.run_dir, out_dir=args.out, gif=args.gif):
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


def _is_samplr(cmd: str, rest: list[str]) -> bool:
    """True for ``train <gamble-*|lava-*>`` and ``eval``/``plot`` of a SAMPLR run directory."""
    from experiments.samplr import PRESETS as SAMPLR_PRESETS

    if not rest:
        return False
    if cmd == "train":
        return rest[0] in SAMPLR_PRESETS
    cfg = Path(rest[0]) / "config.json"
    if cmd in ("eval", "plot") and cfg.is_file():
        try:
            return json.loads(cfg.read_text()).get("experiment") == "samplr"
        except (OSError, ValueError):
            return False
    return False


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "plot": cmd_plot}
USAGE = (
    "usage: openued {train,eval,plot,hades,synth} ...\n"
    "  train PRESET [--field VALUE ...] | train --resume RUN_DIR --num-updates N\n"
    "  eval RUN_DIR [--levels FILE]\n"
    "  plot RUN_DIR [--gif]\n"
    "presets: "
    + ", ".join(P.PRESETS)
    + ", gamble-{dr,robust-plr,samplr}, lava-{dr,robust-plr,samplr}"
)


def _os_error_line(e: OSError) -> str:
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{(e.strerror or str(e)).lower()}"


_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EISDIR}


def _run_command(fn, args: list[str]) -> int:
    """``fn(args)`` with every expected failure turned into one line and an exit status."""
    from ued.host import RunError, TrainingDiverged

    try:
        return fn(args)
    except P.ConfigError as e:
        _err(str(e))
        return 2
    except RunError as e:
        msg = str(e)
        if isinstance(e, TrainingDiverged) and e.checkpoint is not None:
            run_dir = e.checkpoint.parent.parent
            msg += (
                f" (to keep it up to there: openued train --resume {run_dir} "
                f"--num-updates {e.unit - 1})"
            )
        _err(msg)
        return 2 if e.user_error else 1
    except OSError as e:
        _err(_os_error_line(e))
        return 2 if e.errno in _USER_ERRNOS else 1
    except MemoryError:
        _err("out of memory; use fewer environments, steps or seeds (--num-envs, --num-seeds)")
        return 1
    except Exception as e:
        if "RESOURCE_EXHAUSTED" not in str(e):
            raise
        _err(
            "out of device memory; use fewer environments, steps or seeds "
            "(--num-envs, --num-steps, --num-seeds)"
        )
        return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 runtime failure, 2 usage error)."""
    from ued.host import RunError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "hades":
        return _delegate("experiments.hades_cli", rest)
    if cmd == "synth":
        return _delegate("experiments.synth_cli", rest)
    if cmd not in COMMANDS:
        _err(f"unknown command {cmd!r}; allowed: train, eval, plot, hades, synth")
        return 2
    if _is_samplr(cmd, rest):
        # SAMPLR runs use their own env, config and evaluation (experiments.samplr)
        from experiments import samplr

        def run_samplr(args):
            try:
                return samplr.main([cmd, *args])
            except ValueError as e:
                if isinstance(e, P.ConfigError | RunError):
                    raise
                _err(str(e))
                return 2

        return _run_command(run_samplr, rest)
    return _run_command(COMMANDS[cmd], rest)


if __name__ == "__main__":
    sys.exit(main())
