"""The ``synth`` kind: meta-learn synthetic environments (SCB / synthetic MDP) with ES and use
them, ``openued synth {train, eval, plot}``. Host only.

    openued synth train cartpole --out runs/scb --generations 200 --population 32
    openued synth eval runs/scb --learner dqn ppo --hidden 128 --activation relu --lr 0.01
    openued synth plot runs/scb

Options are the fields of :class:`TrainOptions`, ``EvalOptions`` and :class:`PlotOptions`,
parsed by the one option parser (``experiments.options``; ``--help`` lists them).

Run directory, kept by the one host loop (``ued.host.run_trainer``, unit ``generation``):
``config.json`` (``"kind": "synth"``, the target, the resolved options, the synthetic env's
kind as ``synth_kind`` (``--kind``) and the resolved ``SynthMetaConfig`` under ``"config"``),
``metrics.jsonl`` (one JSON object per generation: the population's fitness, ``mean_fitness``
of the mean it was sampled around, the horizon and the inner learner of that generation),
checksummed checkpoints of the ES state (a directory that holds a run is continued only with
``openued synth train --resume RUN_DIR``; only the run length and execution options may
change: ``MAY_CHANGE``), ``env.npz`` + ``env.json`` (the discovered environment = the ES mean,
for other tools; data only, no pickle; written at the end) and, after ``plot``, PNG figures.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments import options as O
from experiments.kinds import Built, Kind, host_config, register_kind
from experiments.kinds import es_seeds as S


def _targets():
    from meta.synth import synth_targets

    return synth_targets()


def _learners():
    from meta.learners import LEARNERS

    return LEARNERS


def _activations():
    from meta.learners import ACTIVATIONS

    return tuple(ACTIVATIONS)


def _strategies():
    from meta.es import STRATEGIES

    return STRATEGIES


_f = O.option


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """``openued synth train ENV`` options; ``to``: the ``SynthMetaConfig`` field (dotted:
    of its ``learner``) the value goes to. The others are run settings."""

    out: str = _f(
        "", O.STR, "run directory (a new one; continue a run with --resume RUN_DIR)",
        aliases={"-o": None}, default_text="runs/synth-ENV-KIND-sSEED",
    )  # fmt: skip
    generations: int = _f(200, O.int_(1), "ES generations of the run")
    population: int = _f(32, O.int_(2, 1 << 20), "ES population size", to="population")
    seed: int = _f(0, O.int_(0), "random seed")
    num_seeds: int = S.num_seeds_option()
    synth_kind: str | None = _f(
        None, O.optional(O.choice("scb", "mdp")), "synthetic env: contextual bandit or MDP",
        to="kind", default_text="the target's", aliases={"--kind": None},
    )  # fmt: skip
    hidden: int = _f(32, O.int_(1, 4096), "hidden units of each synthetic head", to="hidden")
    learners: tuple[str, ...] | None = _f(
        None, O.optional(O.strs(_learners)), "inner learners, rotated per generation",
        to="learners", default_text="all that fit the action space",
    )  # fmt: skip
    inner_steps: int = _f(10_000, O.int_(1), "env steps of each inner training run",
                          to="learner.num_steps")  # fmt: skip
    inner_envs: int = _f(8, O.int_(1), "parallel envs of the inner learner", to="learner.num_envs")
    agent_hidden: int = _f(64, O.int_(1, 4096), "inner agent MLP width", to="learner.hidden")
    agent_activation: str = _f(
        "tanh", O.choice(_activations), "inner agent activation (alone: the only one)",
        to="learner.activation",
    )  # fmt: skip
    # students of one activation select an environment that other activations may not learn
    # from (relu students trained on a tanh-selected CartPole scored 137-211 on some seeds)
    agent_activations: tuple[str, ...] | None = _f(
        ("tanh", "relu"), O.optional(O.strs(_activations)),
        "agent activations rotated with the learners, one learner x activation per generation "
        "(none, or --agent-activation given alone: that one activation)", to="activations",
    )  # fmt: skip
    range: tuple[str, ...] = _f(
        (), O.STRS, "inner hyperparameter ranges NAME:LOW:HIGH (LOW = HIGH fixes it)",
        to="learner.ranges",
    )  # fmt: skip
    eval_envs: int = _f(16, O.int_(1, 4096), "real-env episodes per fitness", to="eval_envs")
    horizon_init: int | None = _f(
        None, O.optional(O.int_(1)), "evaluation horizon at the start", to="horizon_init",
        default_text="the target's",
    )  # fmt: skip
    horizon_end: int | None = _f(
        None, O.optional(O.int_(1)), "evaluation horizon at the end", to="horizon_end",
        default_text="the target's",
    )  # fmt: skip
    horizon_begin: int = _f(0, O.int_(0), "generation the horizon starts to change",
                            to="horizon_begin")  # fmt: skip
    horizon_transition: int = _f(0, O.int_(0), "generations of the horizon change",
                                 to="horizon_transition")  # fmt: skip
    strategy: str = _f("SNES", O.choice(_strategies), "ES strategy (evosax)", to="strategy")
    std_init: float = _f(0.05, O.float_(0, None, True), "initial ES search std", to="std_init")
    es_lr: float | None = _f(
        None, O.optional(O.float_(0, None, True)), "ES learning rate of the mean", to="es_lr",
        default_text="the strategy's",
    )  # fmt: skip
    chunk_size: int = _f(10, O.int_(1), "generations per compiled chunk")
    devices: int | None = S.devices_option()
    checkpoint_every: int = _f(1, O.int_(1), "chunks between checkpoints")
    keep_checkpoints: int = _f(3, O.int_(1), "checkpoints kept")
    log: tuple[str, ...] = _f((), O.strs("tensorboard", "wandb"), "extra loggers")
    progress: bool = _f(True, O.BOOL, "progress bar", aliases={"--quiet": False})


@dataclasses.dataclass(frozen=True)
class SynthRunConfig(TrainOptions):
    """A synthetic-environment run: its :class:`TrainOptions` (defaults resolved) and target."""

    kind: str = _f("synth", O.choice("synth"), "what the run trains", cli=False)
    target: str = _f("cartpole", O.choice(_targets), "the target env", cli=False)


TRAIN_OPTIONS = O.Options(
    TrainOptions,
    "openued synth train",
    "Meta-learn a synthetic environment for ENV with ES.",
    positionals=(("ENV", "one of: " + ", ".join(_targets())),),
)
# what a resumed run may change: the run length and options that only affect execution
MAY_CHANGE = frozenset(
    {"generations", "chunk_size", "checkpoint_every", "keep_checkpoints", "log", "progress",
     "devices"}
)  # fmt: skip
_DERIVED = ("config",)  # the resolved SynthMetaConfig, stored for eval/plot


def _ranges(specs) -> tuple:
    out = []
    for spec in specs:
        parts = spec.split(":")
        try:
            name, lo, hi = parts
            out.append((name, float(lo), float(hi)))
        except ValueError:
            raise O.ConfigError(
                f"--range: invalid value {spec!r}; allowed: NAME:LOW:HIGH, e.g. lr:0.001:0.01"
            ) from None
    return tuple(out)


def synth_config(target: str, opts: TrainOptions):
    """The ``SynthMetaConfig`` of ``target`` and the options."""
    from meta.learners import LearnerConfig
    from meta.synth import SynthMetaConfig

    if target not in _targets():
        raise O.ConfigError(f"ENV: unknown target {target!r}; allowed: {', '.join(_targets())}")
    parts = O.routed(opts)
    top, learner = parts[""], parts["learner"]
    learner["ranges"] = _ranges(learner["ranges"])
    return SynthMetaConfig(target=target, learner=LearnerConfig(**learner), **top)


def make_config(target: str, given: dict) -> SynthRunConfig:
    """The run config of ``target``: the options with the defaults that depend on the target
    resolved (its synthetic kind and inner learners), so a resume that spells them out or
    leaves them out is the same run."""
    from meta.synth import make_synth_meta

    if target not in _targets():
        raise O.ConfigError(f"ENV: unknown target {target!r}; allowed: {', '.join(_targets())}")
    if "agent_activation" in given and "agent_activations" not in given:
        given = {**given, "agent_activations": None}
    opts = TRAIN_OPTIONS.check(TrainOptions(**given))
    cfg = synth_config(target, opts)
    kind = cfg.resolved_kind
    learners = cfg.learners
    if learners is None:
        learners = make_synth_meta(dataclasses.replace(cfg, kind=kind)).learner_names
    opts = dataclasses.replace(opts, synth_kind=kind, learners=tuple(learners))
    return SynthRunConfig(**dataclasses.asdict(opts), target=target)


def config_to_dict(cfg: SynthRunConfig) -> dict:
    """``config.json``: kind, target, the resolved options, and the ``SynthMetaConfig``."""
    d = {"kind": "synth", "target": cfg.target}
    skip = ("out", "kind", "target")
    d.update({k: v for k, v in dataclasses.asdict(cfg).items() if k not in skip})
    d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
    d["config"] = synth_config(cfg.target, cfg).to_json()
    return S.stored_config(d)


def migrate(d: dict) -> dict:
    """A format-1 synthetic-env run's ``config.json`` (its env kind stored as ``kind``)."""
    if d.get("kind") in ("scb", "mdp"):
        d = {**d, "synth_kind": d["kind"], "kind": "synth"}
    return d


def config_from_dict(d: dict) -> SynthRunConfig:
    """A run's config from its ``config.json`` (the derived ``config`` is recomputed)."""
    d = {k: v for k, v in d.items() if k not in _DERIVED + ("format_version", "kind")}
    # runs made before activations rotated trained one activation: they resume as they were
    d.setdefault("agent_activations", None)
    target = d.pop("target", None)
    if target not in _targets():
        raise O.ConfigError(f"target: unknown {target!r}; allowed: {', '.join(_targets())}")
    opts = TRAIN_OPTIONS.from_dict(TrainOptions, d)
    return SynthRunConfig(**dataclasses.asdict(opts), target=target)


def build(cfg: SynthRunConfig, run_dir: Path | None = None) -> Built:
    """The run for the one driver: the ES loop as a trainer (unit ``generation``); every row
    names its horizon and inner learner; the discovered env (the ES mean) is written to
    ``RUN_DIR/env.npz`` at the end (with ``--num-seeds K > 1``: each seed's to
    ``RUN_DIR/env_s<SEED>.npz``)."""
    from meta.es import ES_HEALTH
    from meta.synth import make_synth_meta, save_synth_env

    plan, mesh = S.es_devices(cfg, cfg.population)
    meta = make_synth_meta(synth_config(cfg.target, cfg), mesh=mesh)
    k = cfg.num_seeds

    def finish(state, run_dir) -> dict:
        extra = {
            "target": cfg.target,
            "kind": meta.synth_config.kind,
            "generation": int(S.seed_states(state, k)[0].generation),
            "learners": list(meta.learner_names),
        }
        for i, st in enumerate(S.seed_states(state, k)):
            stem = S.seed_name("env", cfg.seed + i, k)
            save_synth_env(os.path.join(run_dir, stem), meta.synth_config,
                           meta.loop.get_mean(st), extra)  # fmt: skip
        return extra

    host = host_config(
        cfg, cfg.generations, checkpoint_every=cfg.checkpoint_every * cfg.chunk_size,
        health=ES_HEALTH,
    )  # fmt: skip
    return Built(
        trainer=meta.trainer,
        num_units=cfg.generations,
        seed=cfg.seed,
        num_seeds=k,
        batched=k > 1,
        host=host,
        annotate=meta.annotate,
        finish=finish,
        devices=plan,
        experiment=meta,
    )


def _load_run(run_dir: str, command: str):
    from meta.synth import SynthMetaConfig, load_synth_env, make_real_env
    from ued.host import ConfigFileError, read_config

    S.refuse_seeds(run_dir, command)
    run_cfg = read_config(run_dir)
    try:
        cfg = SynthMetaConfig.from_json(run_cfg["config"])
    except KeyError as e:
        raise ConfigFileError(
            f"{os.path.join(run_dir, 'config.json')}: missing key {e} (not a synth run's config)"
        ) from None
    except (TypeError, ValueError, AttributeError) as e:
        raise ConfigFileError(
            f"{os.path.join(run_dir, 'config.json')}: not a synth run's config ({e})"
        ) from None
    scfg, params, env_meta = load_synth_env(os.path.join(run_dir, "env"))
    return run_cfg, cfg, scfg, params, env_meta, make_real_env(cfg.target)


_HP_FLAGS = ("lr", "gamma", "gae_lambda", "clip_eps", "ent_coef", "vf_coef", "tau",
             "explore_fraction", "eps_end", "explore_noise")  # fmt: skip


_HP = "fix {} (default: sampled from the learner's ranges)"
EvalOptions = dataclasses.make_dataclass(
    "EvalOptions",
    [
        ("run_dir", str, _f("", O.STR, "the run", cli=False)),
        ("learner", "tuple[str, ...] | None", _f(
            None, O.optional(O.strs(_learners)), "learners to train on the discovered env",
            default_text="all that fit the action space")),
        ("hidden", "tuple[int, ...]", _f((64,), O.ints(1, 4096), "agent MLP widths to try")),
        ("activation", "tuple[str, ...]", _f(("tanh",), O.strs(_activations),
                                             "agent activations to try")),
        *[(h, "float | None", _f(None, O.optional(O.float_(0.0)), _HP.format(h),
                                 default_text="sampled")) for h in _HP_FLAGS],
        ("steps", "int | None", _f(None, O.optional(O.int_(1)), "training steps",
                                   default_text="as meta-training")),
        ("inits", int, _f(8, O.int_(1, 4096), "agents (inits) per setting")),
        ("episodes", int, _f(16, O.int_(1, 4096), "real-env evaluation episodes per agent")),
        ("max_steps", "int | None", _f(None, O.optional(O.int_(1)), "evaluation episode limit",
                                       default_text="the real env's")),
        ("seed", int, _f(123, O.int_(0), "evaluation key")),
        ("real", bool, _f(True, O.BOOL, "equal-time baseline trained on the real env")),
        ("real_steps", "int | None", _f(
            None, O.optional(O.int_(1)), "steps of the real-env baseline",
            default_text="calibrated to equal wall-clock time")),
    ],
    frozen=True,
)  # fmt: skip
EVAL_OPTIONS = O.Options(
    EvalOptions,
    "openued synth eval",
    "Train fresh agents on the discovered env (held-out settings) and evaluate them on the real "
    "env; the last stdout line is one JSON object.",
    positionals=(("RUN_DIR", "a run directory written by openued synth train"),),
)


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    run_dir: str = _f("", O.STR, "the run", cli=False)
    dims: tuple[int, ...] | None = _f(
        None, O.optional(O.ints(0)), "two state dimensions to plot over",
        default_text="2 3, or 0 1 for 2-D states",
    )  # fmt: skip
    out: str = _f("", O.STR, "output directory", default_text="RUN_DIR")


PLOT_OPTIONS = O.Options(
    PlotOptions,
    "openued synth plot",
    "Meta-training curves, reward map and initial states of a run.",
    positionals=(("RUN_DIR", "a run directory written by openued synth train"),),
)


def evaluate(path: Path, opts: dict) -> dict:
    """``openued synth eval``: fresh agents trained on the discovered env (held-out settings)
    and evaluated on the real env, beside an equal-time real-env baseline."""
    from meta.learners import evaluate_gymnax, learners_for, make_learner
    from meta.synthetic import SynthGymnaxEnv

    args = EvalOptions(run_dir=str(path), **opts)
    run_cfg, cfg, scfg, params, _, real = _load_run(args.run_dir, "synth eval")
    senv = SynthGymnaxEnv(scfg)
    names = args.learner or list(learners_for(real.discrete))
    fixed = [
        (h, getattr(args, h), getattr(args, h)) for h in _HP_FLAGS if getattr(args, h) is not None
    ]
    max_steps = args.max_steps or real.max_steps
    results = []
    mean_returns = {}
    for name, hidden, act in itertools.product(names, args.hidden, args.activation):
        lcfg = dataclasses.replace(
            cfg.learner,
            num_steps=args.steps or cfg.learner.num_steps,
            hidden=hidden,
            activation=act,
            ranges=tuple(fixed),
        )
        lrn = make_learner(name, senv, lcfg, params)
        keys = jax.random.split(jax.random.key(args.seed), args.inits)

        def run_one(k, env_params, lrn=lrn):
            k_hp, k_tr, k_ev = jax.random.split(k, 3)
            agent = lrn.train(k_tr, env_params, lrn.sample_hparams(k_hp))
            return agent

        train_syn = jax.jit(jax.vmap(run_one, (0, None)))
        evaluate = jax.jit(
            jax.vmap(
                lambda k, a, lrn=lrn: evaluate_gymnax(
                    k, real.env, real.params, lrn.act, a, args.episodes, max_steps, False
                )
            )
        )
        jax.block_until_ready(train_syn(keys, params))  # compile
        t = time.perf_counter()
        agents = jax.block_until_ready(train_syn(keys, params))
        t_syn = time.perf_counter() - t
        rets = np.asarray(
            evaluate(jax.random.split(jax.random.key(args.seed + 7), args.inits), agents)
        )
        label = f"{name}/h{hidden}/{act}" + "".join(f"/{h}={v:g}" for h, v, _ in fixed)
        rec = {
            "setting": label,
            "learner": name,
            "hidden": hidden,
            "activation": act,
            "hparams": {h: v for h, v, _ in fixed},
            "num_steps": lcfg.num_steps,
            "mean_return": float(rets.mean()),
            "std_over_inits": float(rets.std()),
            "min_over_inits": float(rets.min()),
            "train_seconds_synthetic": t_syn,
        }
        if args.real:
            # Train on the real env for (about) the same wall-clock time: time the same number
            # of steps on the real env, scale the step count, retrain and evaluate.
            # Real-env baseline for (about) the same wall-clock time: time the same number of
            # steps on the real env; if that took more than 25% more or less time, rescale the
            # step count and retrain (one more compile). ``--real-steps`` fixes it instead.
            def real_train(steps):
                rl = make_learner(
                    name, real.env, dataclasses.replace(lcfg, num_steps=steps), real.params
                )

                def one(k, p, rl=rl):
                    k_hp, k_tr = jax.random.split(k)
                    return rl.train(k_tr, p, rl.sample_hparams(k_hp))

                tr = jax.jit(jax.vmap(one, (0, None)))
                jax.block_until_ready(tr(keys, real.params))
                t = time.perf_counter()
                ag = jax.block_until_ready(tr(keys, real.params))
                return ag, time.perf_counter() - t

            steps_real = args.real_steps or lcfg.num_steps
            ragents, t_real = real_train(steps_real)
            ratio = t_syn / max(t_real, 1e-9)
            if args.real_steps is None and not 0.8 <= ratio <= 1.25:
                steps_real = max(lcfg.num_envs, int(steps_real * ratio))
                ragents, t_real = real_train(steps_real)
            # same architecture and action space: the synthetic learner's (compiled) evaluation
            # program scores the real-trained agents too
            rr = np.asarray(
                evaluate(jax.random.split(jax.random.key(args.seed + 7), args.inits), ragents)
            )
            rec["real"] = {
                "num_steps": steps_real,
                "train_seconds": t_real,
                "mean_return": float(rr.mean()),
            }
        results.append(rec)
        mean_returns[label] = rec["mean_return"]
        print(json.dumps(rec), file=sys.stderr)
    out = {
        "env": cfg.target,
        "kind": scfg.kind,
        "run_dir": args.run_dir,
        "inits": args.inits,
        "episodes": args.episodes,
        "mean_return": mean_returns,
        "settings": results,
    }
    return out


def figures(path: Path, opts: dict) -> list[str]:
    """``openued synth plot``: meta-training curves, the reward map over two state dimensions
    and the initial states (``--out``, default the run directory)."""
    from experiments import figures as F
    from meta.synthetic import initial_obs, reward_fn
    from ued.host import ensure_dir, read_metrics
    from ued.rollout import PolicyStep, RolloutCarry, rollout

    args = PlotOptions(run_dir=str(path), **opts)
    if args.dims is not None and len(args.dims) != 2:
        raise O.ConfigError(f"--dims: give two state dimensions, got {len(args.dims)}")
    run_cfg, cfg, scfg, params, _, real = _load_run(args.run_dir, "synth plot")
    out_dir = args.out or args.run_dir
    written = []
    # 1. meta-training curves
    recs = read_metrics(args.run_dir)
    gens = [r for r in recs if "fitness_mean" in r]
    if not gens:
        raise ValueError(
            f"run_dir: {args.run_dir} has no generations in metrics.jsonl yet (train first)"
        )
    ensure_dir(out_dir)
    fig = F.plot_synth_meta_training(recs, target=cfg.target, kind=scfg.kind)
    written.append(str(F.save(fig, os.path.join(out_dir, "meta_training.png"))))

    # initial states of the synthetic env and states the real env visits (random policy)
    z = jax.random.normal(jax.random.key(0), (512, scfg.obs_dim))
    init_states = np.asarray(jax.vmap(lambda zz: initial_obs(scfg, params, zz))(z))

    space = real.env.action_space(real.params)

    def random_policy(key, params, carry, obs, reset):
        return PolicyStep(carry, jax.vmap(space.sample)(jax.random.split(key, obs.shape[0])))

    def visited(key):
        # 8 episodes' worth of environments, 200 steps each: the observations they see
        k_reset, k_roll = jax.random.split(key)
        obs, s = jax.vmap(real.env.reset, (0, None))(jax.random.split(k_reset, 8), real.params)
        rc = RolloutCarry.start(s, obs, ())
        res = rollout(
            k_roll,
            rc,
            None,
            real.params,
            policy=random_policy,
            step_fn=real.env.step,
            num_steps=200,
            episode_stats=False,
        )
        return res.traj.obs

    real_states = np.asarray(jax.jit(visited)(jax.random.key(1))).reshape(-1, scfg.obs_dim)
    i, j = args.dims or ((2, 3) if scfg.obs_dim >= 4 else (0, 1))
    if not (0 <= i < scfg.obs_dim and 0 <= j < scfg.obs_dim):
        raise ValueError(f"--dims must be in [0, {scfg.obs_dim})")

    # 2. reward over two chosen state dimensions, per action
    acts = (
        list(range(scfg.num_actions)) if scfg.discrete else [scfg.action_low, 0.0, scfg.action_high]
    )
    lo = np.minimum(init_states.min(0), real_states.min(0))
    hi = np.maximum(init_states.max(0), real_states.max(0))
    xs = np.linspace(lo[i], hi[i], 60)
    ys = np.linspace(lo[j], hi[j], 60)
    base = init_states.mean(0)
    grid = np.tile(base, (60 * 60, 1))
    gx, gy = np.meshgrid(xs, ys)
    grid[:, i] = gx.ravel()
    grid[:, j] = gy.ravel()
    labels = F.action_names(cfg.target, scfg.num_actions) if scfg.discrete else None
    rewards = {}
    for k, a in enumerate(acts):
        av = (
            jnp.asarray(a, jnp.int32)
            if scfg.discrete
            else jnp.full((scfg.num_actions,), a, jnp.float32)
        )
        r = np.asarray(jax.vmap(lambda o: reward_fn(scfg, params, o, av))(jnp.asarray(grid)))
        rewards[labels[k] if labels else f"{a:g} (all dims)"] = r.reshape(60, 60)
    fig = F.plot_synth_reward_map(
        xs, ys, rewards, dims=(i, j), target=cfg.target, obs_dim=scfg.obs_dim
    )
    written.append(str(F.save(fig, os.path.join(out_dir, "reward_map.png"))))

    # 3. initial states against the real env's visited states
    fig = F.plot_synth_initial_states(real_states, init_states, dims=(i, j), target=cfg.target)
    written.append(str(F.save(fig, os.path.join(out_dir, "initial_states.png"))))
    return written


KIND = register_kind(
    Kind(
        name="synth",
        title="synthetic-environment targets (openued synth train ENV)",
        length="generations",
        unit="generation",
        presets=lambda: {t: f"a synthetic environment for {t}" for t in _targets()},
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
        migrate=migrate,
        default_out=lambda cfg: os.path.join(
            "runs", f"synth-{cfg.target}-{cfg.synth_kind}-s{cfg.seed}"
        ),
        group="synth",
    )
)
