"""The ``hades`` kind: behaviour distillation (HaDES) with ES, ``openued hades {train, eval,
plot}``. Host only.

``train ENV``: a preset per target (:func:`presets`, declared with each target); every field of :class:`TrainOptions` is
an option (``--out``, ``--generations``, ``--population``, ``--dataset-size``, ``--seed``, ...;
``openued hades train ENV --help`` lists them with that target's defaults). The run trains
through the one host loop (``ued.host.run_trainer``, unit ``generation``): ``config.json``
(``"kind": "hades"``, the target, the resolved options and, for reading, the resolved ``hades``
and ``es`` configs), ``metrics.jsonl``, checksummed checkpoints; a directory that holds a run
is continued only with ``openued hades train --resume RUN_DIR`` (only the run length and
execution-only options may change: ``MAY_CHANGE``). Every ``eval_every`` chunks (and at the
end) the ES *mean* is evaluated with fresh policies (``eval/mean_return``,
``eval/std_return``) and the best dataset so far is kept (``dataset.npz`` + ``dataset.json``
for other tools). ``eval RUN_DIR_OR_DATASET`` prints one JSON object as its last line.
``plot RUN_DIR`` writes ``fitness.png`` and ``dataset.png``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from experiments import options as O
from experiments.kinds import Built, Kind, host_config, register_kind
from experiments.kinds import es_seeds as S
from meta.hades import (  # noqa: F401 (the dataset files, re-exported)
    DatasetFileError,
    hades_config_from_dict,
    load_dataset,
    save_dataset,
)


def presets() -> dict[str, dict]:
    """Target -> its HaDES preset (sections ``hades``, ``policy``, ``es``, ``run``): declared
    with each target (``meta.targets.TargetSpec.hades``, the registry of ES targets)."""
    from meta.targets import target_names, target_spec

    return {n: target_spec(n).hades for n in target_names() if target_spec(n).hades}


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
    are run settings. ``None``: the target preset's value (:func:`presets`)."""

    out: str = _f(
        "", O.STR, "run directory (a new one; continue a run with --resume RUN_DIR)",
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
    num_seeds: int = S.num_seeds_option()
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
    devices: int | None = S.devices_option()
    checkpoint_every: int = _f(1, O.int_(1, 100_000), "chunks between checkpoints")
    keep_checkpoints: int = _f(3, O.int_(1), "checkpoints kept")
    log: tuple[str, ...] = _f((), O.strs("tensorboard", "wandb"), "extra loggers")
    progress: bool = _f(True, O.BOOL, "progress bar")
    plot: bool = _f(True, O.BOOL, "write fitness.png and dataset.png at the end")


@dataclasses.dataclass(frozen=True)
class HadesRunConfig(TrainOptions):
    """A HaDES run: its :class:`TrainOptions` (resolved: no ``None`` left but ``es_lr``) and
    its target."""

    kind: str = _f("hades", O.choice("hades"), "what the run trains", cli=False)
    target: str = _f("cartpole", O.choice(lambda: tuple(presets())), "the target env", cli=False)


TRAIN_OPTIONS = O.Options(
    TrainOptions,
    "openued hades train",
    "Distil a dataset for ENV with its preset (behaviour distillation, HaDES).",
    positionals=(("ENV", "a target with a HaDES preset (openued hades train --help)"),),
)
# what a resumed run may change: the run length and options that only affect execution
MAY_CHANGE = frozenset(
    {"generations", "checkpoint_every", "keep_checkpoints", "eval_batch_size", "log", "progress",
     "plot", "devices"}
)  # fmt: skip
_DERIVED = ("hades", "es")  # the resolved configs, stored for reading; compared as options


def resolve(target: str, given: dict):
    """The run's options: ``given`` over the preset of ``target`` over the configs' defaults
    (a :class:`TrainOptions` with no ``None`` left but ``es_lr``), checked."""
    from meta import ESConfig, HadesConfig, PolicyConfig

    known = presets()
    if target not in known:
        raise O.ConfigError(f"ENV: unknown target {target!r}; allowed: {', '.join(known)}")
    p = known[target]
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

    parts = O.routed(opts)
    return (
        HadesConfig(target=target, policy=PolicyConfig(**parts["policy"]), **parts["hades"]),
        ESConfig(**parts["es"]),
    )


def make_config(target: str, given: dict) -> HadesRunConfig:
    """The run config of ``target`` with the given options over its preset."""
    opts = resolve(target, given)
    return HadesRunConfig(**dataclasses.asdict(opts), target=target)


def config_to_dict(cfg: HadesRunConfig) -> dict:
    """``config.json``: the kind, the target, the resolved options and (for reading) the
    resolved ``hades`` and ``es`` configs."""
    hcfg, ecfg = build_configs(cfg.target, cfg)
    d = {"kind": "hades", "target": cfg.target}
    d.update({k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("out", "kind", "target")})
    d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
    d["hades"] = dataclasses.asdict(hcfg)
    d["hades"]["policy"]["hidden"] = list(hcfg.policy.hidden)
    d["es"] = dataclasses.asdict(ecfg)
    return S.stored_config(d)


def config_from_dict(d: dict) -> HadesRunConfig:
    """A run's config from its ``config.json`` (the derived ``hades``/``es`` sections are
    recomputed, not read)."""
    d = {k: v for k, v in d.items() if k not in _DERIVED + ("format_version",)}
    target = d.pop("target", None)
    if target not in presets():
        raise O.ConfigError(f"target: unknown {target!r}; allowed: {', '.join(presets())}")
    d.pop("kind", None)
    cfg = TRAIN_OPTIONS.from_dict(TrainOptions, d)
    if isinstance(cfg.hidden, list):
        cfg = dataclasses.replace(cfg, hidden=tuple(cfg.hidden))
    return HadesRunConfig(**dataclasses.asdict(cfg), target=target)


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


def build(cfg: HadesRunConfig, run_dir: Path | None = None) -> Built:
    """The run for the one driver: the ES loop as a trainer (unit ``generation``) and, at each
    evaluation (every ``eval_every`` chunks and at the end), the ES mean evaluated with fresh
    policies; the best dataset so far is kept in ``RUN_DIR/dataset.npz`` (with ``--num-seeds
    K > 1``: per seed, ``RUN_DIR/dataset_s<SEED>.npz``, and the evaluations per-seed lists)."""
    import jax

    from meta import (
        ES_HEALTH,
        auto_eval_batch_size,
        es_trainer,
        make_dataset_evaluator,
        make_es_from_config,
        make_es_loop,
        make_hades,
    )

    hcfg, ecfg = build_configs(cfg.target, cfg)
    hades = make_hades(hcfg)
    es = make_es_from_config(ecfg, hades.template)
    plan, mesh = S.es_devices(cfg, ecfg.population_size)
    bs = cfg.eval_batch_size or auto_eval_batch_size(ecfg.population_size)
    if bs is not None and mesh is not None and bs % plan.devices:
        raise O.ConfigError(
            f"--eval-batch-size {bs} must be divisible by --devices {plan.devices} (each chunk "
            "of candidates is split over the devices)"
        )
    loop = make_es_loop(hades.problem, es, mesh=mesh, eval_batch_size=bs)
    evaluator = make_dataset_evaluator(hades, episodes=cfg.eval_episodes)
    k = cfg.num_seeds
    stems = [S.seed_name("dataset", cfg.seed + i, k) for i in range(k)]
    paths = [None if run_dir is None else os.path.join(run_dir, f"{n}.npz") for n in stems]
    # the best dataset of each seed so far survives a resume through its summary file
    bests = [_read_best(os.path.join(run_dir, f"{n}.json")) if run_dir else {} for n in stems]
    for best in bests:
        best.setdefault("mean_return", -math.inf)

    def evaluate_seed(i: int, st) -> dict:
        gen, best, best_path = int(st.generation), bests[i], paths[i]
        data = hades.materialise(loop.get_mean(st))
        if cfg.eval_policies == 0:  # no evaluation: the latest mean is the dataset
            best.update(target=hcfg.target, generation=gen, mean_return=None, std_return=None,
                        num_policies=0, dataset_size=hcfg.dataset_size)  # fmt: skip
            save_dataset(best_path, hades, data, best)
            return {}
        # seed s is evaluated with the keys of the one-seed run of seed s
        key = jax.random.fold_in(jax.random.key(cfg.seed + i + 1), gen)
        r = np.asarray(evaluator(key, data, cfg.eval_policies))
        res = {"mean_return": float(r.mean()), "std_return": float(r.std())}
        if best.get("mean_return") is None or res["mean_return"] >= best["mean_return"]:
            best.update(target=hcfg.target, generation=gen, mean_return=res["mean_return"],
                        std_return=res["std_return"], num_policies=cfg.eval_policies,
                        dataset_size=hcfg.dataset_size)  # fmt: skip
            save_dataset(best_path, hades, data, best)
        return res

    def evaluate(st) -> dict:
        return S.per_seed([evaluate_seed(i, s) for i, s in enumerate(S.seed_states(st, k))])

    def finish(st, run_dir) -> dict:
        return S.per_seed([
            {"best_eval_mean_return": b.get("mean_return"), "best_generation": b.get("generation")}
            for b in bests
        ])  # fmt: skip

    host = host_config(
        cfg, cfg.generations,
        checkpoint_every=cfg.checkpoint_every * cfg.chunk_size,
        eval_every=cfg.eval_every * cfg.chunk_size,
        health=ES_HEALTH,
    )  # fmt: skip
    return Built(
        trainer=es_trainer(loop),
        num_units=cfg.generations,
        seed=cfg.seed,
        num_seeds=k,
        batched=k > 1,
        host=host,
        evaluate=evaluate if run_dir is not None else None,
        finish=finish,
        experiment=hades,
        devices=plan,
    )


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


def _dataset_files(path: str) -> list[str]:
    """The dataset files ``eval`` reads: the one of a dataset file or one-seed run, else each
    seed's ``dataset_s<SEED>.npz`` of a ``--num-seeds`` run."""
    from ued.host import CONFIG_FILE, read_config

    if not (os.path.isdir(path) and os.path.exists(os.path.join(path, CONFIG_FILE))):
        return [_resolve_dataset(path)]
    cfg = read_config(path)
    k, seed = int(cfg.get("num_seeds", 1)), int(cfg.get("seed", 0))
    if k == 1:
        return [_resolve_dataset(path)]
    files = [os.path.join(path, f"{S.seed_name('dataset', seed + i, k)}.npz") for i in range(k)]
    for f in files:
        if not os.path.exists(f):
            raise CLIError(f"dataset: run directory {path} has no {os.path.basename(f)} "
                           "(train first)")  # fmt: skip
    return files


def evaluate(path: Path, opts: dict) -> dict:
    """``openued hades eval``: fresh policies trained on the dataset of a run directory (or a
    dataset ``.npz``), their mean return, and with ``transfer`` other architectures'. A run of
    several seeds (``--num-seeds``): each seed's best dataset, the per-seed mean returns and
    their mean with a 95% Student-t interval over seeds."""
    import jax

    from meta import evaluate_transfer, make_dataset_evaluator
    from ued.stats import seed_interval

    args = EvalOptions(**opts)
    files = _dataset_files(str(path))
    if len(files) > 1 and args.transfer:
        raise CLIError(
            f"--transfer: {path} trained {len(files)} seeds (--num-seeds {len(files)}); give "
            f"one seed's dataset instead, e.g. {files[0]}"
        )
    hades, data = load_dataset(files[0])
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
    if len(files) > 1:  # the datasets of one run share a configuration: one program
        returns = [r] + [np.asarray(ev(key, load_dataset(f)[1], args.policies)) for f in files[1:]]
        si = seed_interval([x.mean() for x in returns])
        del out["std_return"]
        out.update(mean_return=si["mean"], ci95=si["ci95"], num_seeds=si["n"],
                   per_seed_mean_return=si["per_seed"],
                   per_seed_std_return=[float(x.std()) for x in returns],
                   interval="95% Student-t over seeds")  # fmt: skip
    if args.transfer:
        out["transfer"] = evaluate_transfer(
            jax.random.fold_in(key, 1), hades, data, args.policies, args.episodes
        )
    return out


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


def figures(run_dir: Path, opts: dict) -> list[str]:
    """``openued hades plot``: ``fitness.png`` and ``dataset.png`` (``--out``, default the run
    directory)."""
    run_dir = str(run_dir)
    if not os.path.isdir(run_dir):
        raise CLIError(f"RUN_DIR: {run_dir} is not a directory")
    S.refuse_seeds(run_dir, "hades plot")
    return plot_run(run_dir, opts.get("out") or None)


KIND = register_kind(
    Kind(
        name="hades",
        title="HaDES targets (openued hades train ENV)",
        length="generations",
        unit="generation",
        presets=lambda: {t: f"distil a dataset for {t}" for t in presets()},
        train_options=lambda preset, argv: TRAIN_OPTIONS,
        make_config=make_config,
        from_dict=config_from_dict,
        to_dict=config_to_dict,
        validate=lambda cfg: TRAIN_OPTIONS.check(cfg),
        resumable=MAY_CHANGE,
        build=build,
        evaluate=evaluate,
        eval_options=EVAL_OPTIONS,
        figures=figures,
        plot_options=PLOT_OPTIONS,
        derived=_DERIVED,
        default_out=lambda cfg: os.path.join("runs", f"hades-{cfg.target}-s{cfg.seed}"),
        group="hades",
    )
)
