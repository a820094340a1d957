"""``openued hades {train, eval, plot}``: behaviour distillation from the command line.

``train ENV``: a preset per target (see ``PRESETS``); every field of :class:`TrainOptions` is
an option (``--out``, ``--generations``, ``--population``, ``--dataset-size``, ``--seed``, ...;
``openued hades train ENV --help`` lists them with that target's defaults), parsed by the one
option parser (``experiments.options``). The run directory is kept by the run layer
(``ued.host``): ``config.json`` (``"kind": "hades"``, the target, the resolved options and, for
reading, the resolved ``hades`` and ``es`` configs), ``metrics.jsonl``, checksummed checkpoints
in ``checkpoints/`` (a directory that holds a run is resumed; only the run length and
execution-only options may change: ``MAY_CHANGE``), the best dataset so far (``dataset.npz`` +
``dataset.json`` for other tools; chosen by evaluating the ES *mean* with fresh policies) and
plots. ``eval RUN_DIR_OR_DATASET`` prints one JSON object as its last line. ``plot RUN_DIR``
writes ``fitness.png`` and ``dataset.png``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import sys
import time

import numpy as np

from experiments import options as O
from experiments.errors import group_overview, run_group

PRESETS: dict[str, dict] = {
    # target: HaDES settings, ES settings, run settings
    # N = 8: with 4 states the tanh policies the dataset is distilled for reach 500 too, but a
    # relu policy trained on it is seed-sensitive (144-500 over seeds); 8 states transfer to
    # all four architectures of hades eval --transfer (docs/learning-checks.md)
    "cartpole": dict(
        hades=dict(dataset_size=8, num_inits=2, eval_envs=4),
        policy=dict(hidden=(64, 64), activation="tanh", lr=0.01, steps=100),
        es=dict(strategy="SNES", population_size=64, std_init=0.5),
        run=dict(generations=30, chunk_size=10, eval_policies=16),
    ),
    "acrobot": dict(
        hades=dict(dataset_size=8, num_inits=2, eval_envs=4),
        policy=dict(hidden=(64, 64), activation="tanh", lr=0.01, steps=100),
        es=dict(strategy="SNES", population_size=64, std_init=0.5),
        run=dict(generations=100, chunk_size=10, eval_policies=16),
    ),
    "mountain-car": dict(
        hades=dict(dataset_size=8, num_inits=2, eval_envs=4),
        policy=dict(hidden=(64, 64), activation="tanh", lr=0.01, steps=100),
        es=dict(strategy="SNES", population_size=64, std_init=0.5),
        run=dict(generations=200, chunk_size=10, eval_policies=16),
    ),
    "pendulum": dict(
        hades=dict(dataset_size=16, num_inits=2, eval_envs=4),
        policy=dict(hidden=(64, 64), activation="tanh", lr=0.01, steps=100),
        es=dict(strategy="SNES", population_size=64, std_init=0.5),
        run=dict(generations=300, chunk_size=10, eval_policies=16),
    ),
    **{
        game: dict(
            # HaDES MinAtar: N=16 states only, fixed one-hot labels, SNES sigma 0.5; the
            # published runs used population 2048 x 2000 generations and 2x512 policies
            hades=dict(dataset_size=16, learn_labels=False, num_inits=2, eval_envs=4),
            policy=dict(hidden=(256, 256), activation="relu", lr=0.03, steps=64),
            es=dict(strategy="SNES", population_size=64, std_init=0.5),
            run=dict(generations=100, chunk_size=5, eval_policies=16),
        )
        for game in ("breakout", "asterix", "freeway", "space-invaders")
    },
    **{
        body: dict(
            hades=dict(dataset_size=64, num_inits=2, eval_envs=4),
            policy=dict(hidden=(512, 512), activation="tanh", lr=5e-3, steps=400),
            es=dict(strategy="Open_ES", population_size=256, std_init=0.03, lr=0.05),
            run=dict(generations=2000, chunk_size=10, eval_policies=16),
        )
        for body in ("hopper", "walker2d", "halfcheetah")
    },
}


def _strategies():
    from meta.es import STRATEGIES

    return STRATEGIES


def _activations():
    from ued.networks import ACTIVATIONS

    return tuple(ACTIVATIONS)


class CLIError(O.ConfigError):
    """A user error (a missing or malformed dataset): one ``openued: error:`` line, exit 2."""


_PRESET = "the preset's"
_f = O.option


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """``openued hades train ENV`` options. ``to``: where the value goes (``hades.*``:
    ``HadesConfig``, ``policy.*``: its ``PolicyConfig``, ``es.*``: ``ESConfig``); the others
    are run settings. ``None``: the target preset's value (``PRESETS``)."""

    out: str = _f(
        "", O.STR, "run directory (a directory holding a run is resumed)",
        aliases={"-o": None}, default_text="runs/hades-ENV-sSEED",
    )  # fmt: skip
    generations: int | None = _f(
        None, O.int_(1, 10_000_000), "ES generations of the run", default_text=_PRESET
    )
    population: int | None = _f(
        None, O.int_(2, 1 << 20), "ES population size", to="es.population_size",
        default_text=_PRESET,
    )  # fmt: skip
    dataset_size: int | None = _f(
        None, O.int_(1, 4096), "N distilled state-action pairs", to="hades.dataset_size",
        default_text=_PRESET,
    )  # fmt: skip
    seed: int = _f(0, O.int_(0), "random seed")
    strategy: str | None = _f(
        None, O.choice(_strategies), "ES strategy (evosax)", to="es.strategy",
        default_text=_PRESET,
    )  # fmt: skip
    std_init: float | None = _f(
        None, O.float_(0, None, True), "initial ES search std", to="es.std_init",
        default_text=_PRESET,
    )  # fmt: skip
    es_lr: float | None = _f(
        None, O.optional(O.float_(0, None, True)), "ES learning rate of the mean", to="es.lr",
        default_text="the preset's, else the strategy's",
    )  # fmt: skip
    inner_steps: int | None = _f(
        None, O.int_(1, 100_000), "behaviour-cloning steps of the inner loop",
        to="policy.steps", default_text=_PRESET,
    )  # fmt: skip
    inner_lr: float | None = _f(
        None, O.float_(0, 10, True), "inner-loop (Adam) learning rate", to="policy.lr",
        default_text=_PRESET,
    )  # fmt: skip
    hidden: tuple[int, ...] | None = _f(
        None, O.ints(1, 4096), "hidden widths of the policy, e.g. 64 64", to="policy.hidden",
        default_text=_PRESET,
    )  # fmt: skip
    activation: str | None = _f(
        None, O.choice(_activations), "policy activation", to="policy.activation",
        default_text=_PRESET,
    )  # fmt: skip
    num_inits: int | None = _f(
        None, O.int_(1, 64), "k policy inits per candidate (HaDES-R)", to="hades.num_inits",
        default_text=_PRESET,
    )  # fmt: skip
    fixed_init: bool = _f(False, O.BOOL, "HaDES-F (one fixed init)", to="hades.fixed_init")
    learn_labels: bool | None = _f(
        None, O.BOOL, "learn the labels (false: states only, fixed one-hot labels)",
        to="hades.learn_labels", aliases={"--states-only": False}, default_text=_PRESET,
    )  # fmt: skip
    eval_envs: int | None = _f(
        None, O.int_(1, 4096), "episodes per init in the fitness", to="hades.eval_envs",
        default_text=_PRESET,
    )  # fmt: skip
    eval_steps: int | None = _f(
        None, O.int_(0, 100_000), "rollout length of the fitness (0: episode limit)",
        to="hades.eval_steps", default_text=_PRESET,
    )  # fmt: skip
    chunk_size: int | None = _f(
        None, O.int_(1, 100_000), "generations per compiled chunk", default_text=_PRESET
    )
    eval_every: int = _f(1, O.int_(1, 100_000), "chunks between evaluations of the ES mean")
    eval_policies: int | None = _f(
        None, O.int_(0, 4096),
        "fresh policies per evaluation of the mean (0: no evaluation, keep the latest mean)",
        default_text=_PRESET,
    )  # fmt: skip
    eval_episodes: int = _f(8, O.int_(1, 4096), "episodes per policy in an evaluation")
    eval_batch_size: int = _f(
        0, O.int_(0, 1 << 20), "ES candidates per vmapped chunk (0: auto; same results)"
    )
    checkpoint_every: int = _f(1, O.int_(1, 100_000), "chunks between checkpoints")
    keep_checkpoints: int = _f(3, O.int_(1), "checkpoints kept")
    log: tuple[str, ...] = _f((), O.strs("tensorboard", "wandb"), "extra loggers")
    progress: bool = _f(True, O.BOOL, "progress bar")
    plot: bool = _f(True, O.BOOL, "write fitness.png and dataset.png at the end")


TRAIN_OPTIONS = O.Options(
    TrainOptions,
    "openued hades train",
    "Distil a dataset for ENV with its preset (behaviour distillation, HaDES).",
    positionals=(("ENV", "one of: " + ", ".join(PRESETS)),),
)
# what a resumed run may change: the run length and options that only affect execution
MAY_CHANGE = frozenset(
    {"generations", "checkpoint_every", "keep_checkpoints", "eval_batch_size", "log", "progress",
     "plot"}
)  # fmt: skip
_DERIVED = ("hades", "es")  # the resolved configs, stored for reading; compared as options


def resolve(target: str, given: dict):
    """The run's options: ``given`` over the preset of ``target`` over the configs' defaults
    (a :class:`TrainOptions` with no ``None`` left but ``es_lr``), checked."""
    from meta import ESConfig, HadesConfig, PolicyConfig

    if target not in PRESETS:
        raise O.ConfigError(f"ENV: unknown target {target!r}; allowed: {', '.join(PRESETS)}")
    p = PRESETS[target]
    defaults = {"hades": HadesConfig, "policy": PolicyConfig, "es": ESConfig}
    values = {}
    for f in dataclasses.fields(TrainOptions):
        if f.name in given:
            values[f.name] = given[f.name]
            continue
        if f.default is not None:
            continue
        section, _, key = (f.metadata.get("to") or f"run.{f.name}").partition(".")
        if key in p[section]:
            values[f.name] = p[section][key]
        elif section in defaults:
            values[f.name] = getattr(defaults[section](), key)
    opts = TrainOptions(**values)
    if isinstance(opts.hidden, list):
        opts = dataclasses.replace(opts, hidden=tuple(opts.hidden))
    return TRAIN_OPTIONS.check(opts)


def build_configs(target: str, opts: TrainOptions):
    """``(HadesConfig, ESConfig)`` of resolved options."""
    from meta import ESConfig, HadesConfig, PolicyConfig

    parts: dict[str, dict] = {"hades": {}, "policy": {}, "es": {}}
    for f in dataclasses.fields(TrainOptions):
        to = f.metadata.get("to")
        if to:
            section, _, key = to.partition(".")
            parts[section][key] = getattr(opts, f.name)
    return (
        HadesConfig(target=target, policy=PolicyConfig(**parts["policy"]), **parts["hades"]),
        ESConfig(**parts["es"]),
    )


def _config_dict(target: str, opts: TrainOptions, hcfg, ecfg) -> dict:
    """``config.json``: the kind, the target, the resolved options and (for reading) the
    resolved configs."""
    d = {"kind": "hades", "target": target}
    d.update({k: v for k, v in dataclasses.asdict(opts).items() if k != "out"})
    d["hades"] = dataclasses.asdict(hcfg)
    d["hades"]["policy"]["hidden"] = list(hcfg.policy.hidden)
    d["es"] = dataclasses.asdict(ecfg)
    return d


def _describe(name: str) -> str:
    return "ENV" if name == "target" else TRAIN_OPTIONS.describe(name)


def hades_config_from_dict(d: dict):
    """``HadesConfig`` from its JSON form (as in ``config.json`` / ``dataset.npz``)."""
    from meta import HadesConfig, PolicyConfig

    d = dict(d)
    pol = dict(d.pop("policy"))
    pol["hidden"] = tuple(pol["hidden"])
    return HadesConfig(policy=PolicyConfig(**pol), **d)


# ----------------------------------------------------------------------------- datasets


def save_dataset(path: str, hades, dataset, summary: dict) -> None:
    """Write the full dataset (labels materialised) as ``.npz`` plus a JSON summary next to
    it (``<stem>.json``). Atomic, data only."""
    hcfg = hades.config
    cfg = dataclasses.asdict(hcfg)
    cfg["policy"]["hidden"] = list(hcfg.policy.hidden)
    arrays = {
        "states": np.asarray(dataset.states, np.float32),
        "targets": np.asarray(dataset.targets, np.float32),
        "target": np.asarray(hcfg.target),
        "hades_config": np.asarray(json.dumps(cfg)),
    }
    from ued.host import atomic_write_bytes, write_json

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    write_json(os.path.splitext(path)[0] + ".json", summary)


def load_dataset(path: str):
    """Read a dataset ``.npz`` written by ``save_dataset``; returns ``(hades, Dataset)``.

    Raises :class:`CLIError` naming what is wrong (not a file / not an npz, missing arrays,
    unknown target, wrong shapes or non-finite values)."""
    import jax.numpy as jnp

    from meta import Dataset, make_hades

    if not os.path.isfile(path):
        raise CLIError(f"dataset: {path} is not a file")
    try:
        z = np.load(path, allow_pickle=False)
        files = set(z.files)
    except Exception as e:
        raise CLIError(f"dataset {path}: not a readable .npz file ({e})") from None
    with z:
        missing = [k for k in ("states", "targets", "target", "hades_config") if k not in files]
        if missing:
            raise CLIError(
                f"dataset {path}: missing array(s) {', '.join(missing)} (has: "
                f"{', '.join(sorted(files)) or 'nothing'}); expected states float32[N, *obs], "
                "targets float32[N, A], target (name), hades_config (JSON)"
            )
        try:
            hcfg = hades_config_from_dict(json.loads(str(z["hades_config"])))
        except Exception as e:
            raise CLIError(
                f"dataset {path}: hades_config is not a valid HaDES config: {e}"
            ) from None
        try:
            states = np.asarray(z["states"])
            targets = np.asarray(z["targets"])
        except Exception as e:  # zipfile / numpy errors of a truncated or altered file
            raise CLIError(
                f"dataset {path}: damaged, not a readable .npz file ({type(e).__name__}: {e})"
            ) from None
    hades = make_hades(hcfg)
    n = hcfg.dataset_size
    t = hades.target
    want_s = (n, *t.obs_shape)
    want_t = (n, t.action_dim)
    if states.shape != want_s:
        raise CLIError(
            f"dataset {path}: states has shape {states.shape}, expected {want_s} "
            f"(N={n} states of the {t.name} observation shape {t.obs_shape})"
        )
    if targets.shape != want_t:
        raise CLIError(
            f"dataset {path}: targets has shape {targets.shape}, expected {want_t} "
            f"(N={n} x {t.action_dim} actions of {t.name})"
        )
    for name, arr in (("states", states), ("targets", targets)):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)):
            raise CLIError(f"dataset {path}: {name} must be finite floats (dtype {arr.dtype})")
    return hades, Dataset(jnp.asarray(states, jnp.float32), jnp.asarray(targets, jnp.float32))


# ----------------------------------------------------------------------------- commands


def _read_best(path: str) -> dict:
    """The summary of the best dataset so far (``dataset.json``), or a fresh one."""
    try:
        with open(path, encoding="utf-8") as f:
            best = json.load(f)
        if isinstance(best, dict):
            return best
        why = "not a JSON object"
    except FileNotFoundError:
        return {"mean_return": -math.inf}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        why = str(e)
    print(
        f"warning: {path}: unreadable ({why}); the best dataset is chosen afresh from here",
        file=sys.stderr,
    )
    return {"mean_return": -math.inf}


def cmd_train(argv: list[str]) -> int:
    import jax

    from meta import (
        auto_eval_batch_size,
        make_dataset_evaluator,
        make_es_from_config,
        make_es_loop,
        make_hades,
        run_es,
    )
    from ued.host import check_resume, holds_run, read_config

    if ("-h" in argv or "--help" in argv) and argv[0] in PRESETS:
        defaults = dataclasses.asdict(resolve(argv[0], {}))
        raise O.ShowHelp(TRAIN_OPTIONS.help(defaults, title=f"options (defaults of {argv[0]})"))
    pos, given = TRAIN_OPTIONS.parse(argv)
    if not pos:
        raise O.ConfigError(f"give ENV, one of: {', '.join(PRESETS)}")
    target = pos[0]
    rcfg = resolve(target, given)
    hcfg, ecfg = build_configs(target, rcfg)
    out = rcfg.out or os.path.join("runs", f"hades-{target}-s{rcfg.seed}")
    cfg = _config_dict(target, rcfg, hcfg, ecfg)
    resume = holds_run(out)
    if resume:
        stored = {k: v for k, v in read_config(out).items() if k not in _DERIVED}
        new = {k: v for k, v in cfg.items() if k not in _DERIVED}
        check_resume(stored, new, MAY_CHANGE, describe=_describe)

    t0 = time.time()
    hades = make_hades(hcfg)
    es = make_es_from_config(ecfg, hades.template)
    bs = rcfg.eval_batch_size or auto_eval_batch_size(ecfg.population_size)
    loop = make_es_loop(hades.problem, es, eval_batch_size=bs)
    state = loop.init(jax.random.key(rcfg.seed))
    best_path = os.path.join(out, "dataset.npz")
    best = _read_best(os.path.join(out, "dataset.json")) if resume else {"mean_return": -math.inf}
    evaluator = make_dataset_evaluator(hades, episodes=rcfg.eval_episodes)

    def callback(st, recs):
        gen = int(st.generation)
        # chunks end on absolute multiples of chunk_size: a resumed run evaluates where an
        # uninterrupted one does
        if -(-gen // rcfg.chunk_size) % rcfg.eval_every and gen < rcfg.generations:
            return None
        data = hades.materialise(loop.get_mean(st))
        if rcfg.eval_policies == 0:  # no evaluation: the latest mean is the dataset
            best.update(
                target=hcfg.target,
                generation=gen,
                mean_return=None,
                std_return=None,
                num_policies=0,
                dataset_size=hcfg.dataset_size,
            )
            save_dataset(best_path, hades, data, best)
            return None
        key = jax.random.fold_in(jax.random.key(rcfg.seed + 1), gen)
        r = np.asarray(evaluator(key, data, rcfg.eval_policies))
        res = {"eval_mean_return": float(r.mean()), "eval_std_return": float(r.std())}
        if best.get("mean_return") is None or res["eval_mean_return"] >= best["mean_return"]:
            best.update(
                target=hcfg.target,
                generation=gen,
                mean_return=res["eval_mean_return"],
                std_return=res["eval_std_return"],
                num_policies=rcfg.eval_policies,
                dataset_size=hcfg.dataset_size,
            )
            save_dataset(best_path, hades, data, best)
        return res

    state, recs = run_es(
        loop,
        state,
        rcfg.generations,
        run_dir=out,
        config=cfg,
        resume=resume,
        chunk_size=rcfg.chunk_size,
        checkpoint_every=rcfg.checkpoint_every,
        callback=callback,
        progress=rcfg.progress,
        keep_checkpoints=rcfg.keep_checkpoints,
        log_backends=rcfg.log,
    )
    wall = time.time() - t0
    if rcfg.plot:
        try:
            plot_run(out)
        except Exception as e:  # plots are a convenience; never lose a run to them
            print(f"warning: plotting failed: {str(e).splitlines()[0]}", file=sys.stderr)
    summary = {
        "run_dir": out,
        "generation": int(state.generation),
        "best_eval_mean_return": best.get("mean_return"),
        "best_generation": best.get("generation"),
        "wall_s": round(wall, 2),
    }
    print(json.dumps(summary))
    return 0


def _resolve_dataset(path: str) -> str:
    if os.path.isdir(path):
        p = os.path.join(path, "dataset.npz")
        if not os.path.exists(p):
            raise CLIError(f"dataset: run directory {path} has no dataset.npz (train first)")
        return p
    return path


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    policies: int = _f(16, O.int_(1, 4096), "fresh policies trained on the dataset")
    episodes: int = _f(8, O.int_(1, 4096), "episodes per policy")
    seed: int = _f(0, O.int_(0), "evaluation key")
    transfer: bool = _f(False, O.BOOL, "also train other architectures on it (transfer)")


EVAL_OPTIONS = O.Options(
    EvalOptions,
    "openued hades eval",
    "Train fresh policies on a distilled dataset; the last stdout line is one JSON object.",
    positionals=(("PATH", "run directory or dataset .npz"),),
)


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    out: str = _f("", O.STR, "output directory", default_text="RUN_DIR")


PLOT_OPTIONS = O.Options(
    PlotOptions,
    "openued hades plot",
    "Fitness curves and a picture of the dataset (RUN_DIR/fitness.png, dataset.png).",
    positionals=(("RUN_DIR", "a run directory written by openued hades train"),),
)


def _one_path(opts: O.Options, argv: list[str], cls):
    pos, given = opts.parse(argv)
    if len(pos) != 1:
        raise O.ConfigError(f"give {opts.positionals[0][0]} (see {opts.prog} --help)")
    return pos[0], cls(**given)


def cmd_eval(argv: list[str]) -> int:
    import jax

    from meta import evaluate_transfer, make_dataset_evaluator

    path, args = _one_path(EVAL_OPTIONS, argv, EvalOptions)
    hades, data = load_dataset(_resolve_dataset(path))
    key = jax.random.key(args.seed)
    ev = make_dataset_evaluator(hades, episodes=args.episodes)
    r = np.asarray(ev(key, data, args.policies))
    out = {
        "target": hades.config.target,
        "dataset_size": int(data.states.shape[0]),
        "architecture": hades.config.policy.arch_name,
        "mean_return": float(r.mean()),
        "std_return": float(r.std()),
        "num_policies": int(args.policies),
    }
    if args.transfer:
        out["transfer"] = evaluate_transfer(
            jax.random.fold_in(key, 1), hades, data, args.policies, args.episodes
        )
    print(json.dumps(out))
    return 0


def plot_run(run_dir: str, out_dir: str | None = None) -> list[str]:
    """Write ``fitness.png`` and ``dataset.png`` into ``out_dir`` (default ``run_dir``);
    returns their paths (figures from :mod:`experiments.figures`)."""
    import jax

    from experiments import figures as F
    from meta import visited_states
    from ued.host import read_metrics

    mpath = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(mpath):
        raise CLIError(f"run_dir: {run_dir} has no metrics.jsonl (train first)")
    rows = read_metrics(run_dir)
    if not any("fitness_mean" in r for r in rows):
        raise CLIError(f"run_dir: {run_dir} has no generations in metrics.jsonl yet (train first)")
    out_dir = out_dir or run_dir
    os.makedirs(out_dir, exist_ok=True)
    name = os.path.basename(os.path.normpath(run_dir))
    written = [str(F.save(F.plot_hades_fitness(rows, title=f"HaDES meta-training: {name}"),
                          os.path.join(out_dir, "fitness.png")))]  # fmt: skip
    dpath = os.path.join(run_dir, "dataset.npz")
    if os.path.exists(dpath):
        hades, data = load_dataset(dpath)
        t = hades.target
        visited = None if t.image else visited_states(jax.random.key(0), hades, data)
        fig = F.plot_hades_dataset(
            np.asarray(data.states), np.asarray(data.targets), discrete=t.discrete,
            visited=visited, target=hades.config.target, image=t.image,
        )  # fmt: skip
        written.append(str(F.save(fig, os.path.join(out_dir, "dataset.png"))))
    return written


def cmd_plot(argv: list[str]) -> int:
    run_dir, opts = _one_path(PLOT_OPTIONS, argv, PlotOptions)
    if not os.path.isdir(run_dir):
        raise CLIError(f"RUN_DIR: {run_dir} is not a directory")
    print(json.dumps({"plots": plot_run(run_dir, opts.out or None)}))
    return 0


COMMANDS = {
    "train": ("distil a dataset for ENV with its preset (a run directory holding a run resumes)",
              cmd_train),
    "eval": ("train fresh policies on a distilled dataset; last line: one JSON object", cmd_eval),
    "plot": ("fitness curves and a picture of the dataset", cmd_plot),
}  # fmt: skip


def overview() -> str:
    return group_overview(
        "hades",
        "Behaviour distillation (HaDES): ES over small datasets of state-action pairs.",
        COMMANDS,
        PRESETS,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openued hades`` (see :func:`experiments.errors.run_group`)."""
    return run_group("hades", overview, COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
