"""``openued synth``: meta-learn synthetic environments (SCB / synthetic MDP) and use them.

    openued synth train cartpole --out runs/scb --generations 200 --population 32
    openued synth eval runs/scb --learner dqn ppo --hidden 128 --activation relu --lr 0.01
    openued synth plot runs/scb

Run directory, kept by the run layer (``ued.host``): ``config.json``, ``metrics.jsonl`` (one
JSON object per generation plus a ``generation: 0`` record with the fitness of the initial
mean), checksummed checkpoints of the ES state in ``checkpoints/`` (a directory that holds a run
is resumed; only ``--generations`` and ``--chunk`` may change), ``env.npz`` + ``env.json`` (the
discovered environment = the ES mean, for other tools; data only, no pickle) and, after
``plot``, PNG figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from experiments.errors import run_reporting


def _learner_config(args) -> object:
    from meta.learners import LearnerConfig

    ranges = []
    for spec in args.range or ():
        name, lo, hi = spec.split(":") if ":" in spec else spec.split(",")
        ranges.append((name, float(lo), float(hi)))
    return LearnerConfig(
        num_steps=args.inner_steps,
        num_envs=args.inner_envs,
        hidden=args.agent_hidden,
        activation=args.agent_activation,
        ranges=tuple(ranges),
    )


# what a resumed run may change: the run length and options that only affect execution
MAY_CHANGE = ("generations", "chunk")
_FLAGS = {
    "config.target": "ENV",
    "config.learner.num_steps": "--inner-steps",
    "config.learner.num_envs": "--inner-envs",
    "config.learner.hidden": "--agent-hidden",
    "config.learner.activation": "--agent-activation",
    "config.learner.ranges": "--range",
    "config.population": "--population",
    "chunk": "--chunk",
}


def _flag(field: str) -> str:
    """The command-line flag of a dotted config field (``config.population`` -> ``--population``)."""
    if field in _FLAGS:
        return _FLAGS[field]
    return "--" + field.rpartition(".")[2].replace("_", "-")


def _train(args) -> int:
    from meta.es import check_es_resume
    from meta.synth import SynthMetaConfig, make_synth_meta, run_synth_es, save_synth_env
    from ued.host import holds_run

    for name, lo in (("generations", 1), ("chunk", 1), ("seed", 0)):
        v = getattr(args, name)
        if v < lo:
            raise ValueError(f"--{name}: must be an integer >= {lo}, got {v}")
    cfg = SynthMetaConfig(
        target=args.env,
        kind=args.kind,
        hidden=args.hidden,
        learners=tuple(args.learners) if args.learners else None,
        learner=_learner_config(args),
        eval_envs=args.eval_envs,
        horizon_init=args.horizon_init,
        horizon_end=args.horizon_end,
        horizon_begin=args.horizon_begin,
        horizon_transition=args.horizon_transition,
        strategy=args.strategy,
        population=args.population,
        std_init=args.std_init,
        es_lr=args.es_lr,
    )
    out = args.out or os.path.join("runs", f"synth-{args.env}-{cfg.resolved_kind}-s{args.seed}")
    meta = make_synth_meta(cfg)
    # defaults resolved: a resume that spells them out (or leaves them out) is the same run
    cfg = dataclasses.replace(cfg, kind=cfg.resolved_kind, learners=meta.learner_names)
    run_cfg = {
        "seed": args.seed,
        "generations": args.generations,
        "chunk": args.chunk,
        "config": cfg.to_json(),
    }
    resume = holds_run(out)
    if resume:
        check_es_resume(out, run_cfg, MAY_CHANGE, _flag)
    loop = meta.loop
    state = loop.init(jax.random.key(args.seed))
    t0 = time.time()
    state, records = run_synth_es(
        meta,
        state,
        args.generations,
        run_dir=out,
        config=run_cfg,
        resume=resume,
        chunk_size=args.chunk,
        progress=not args.quiet,
    )
    elapsed = time.time() - t0
    mean = loop.get_mean(state)
    extra = {
        "target": cfg.target,
        "kind": cfg.resolved_kind,
        "generation": int(state.generation),
        "learners": list(meta.learner_names),
        "train_wall_seconds": elapsed,
    }
    save_synth_env(os.path.join(out, "env"), meta.synth_config, mean, extra)
    last = records[-1] if records else {}
    print(json.dumps({"run_dir": out, **extra, **{k: v for k, v in last.items()}}))
    return 0


def _load_run(run_dir: str):
    from meta.synth import SynthMetaConfig, load_synth_env, make_real_env
    from ued.host import ConfigFileError, read_config

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


def _eval(args) -> int:
    from meta.learners import evaluate_gymnax, learners_for, make_learner
    from meta.synthetic import SynthGymnaxEnv

    run_cfg, cfg, scfg, params, _, real = _load_run(args.run_dir)
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
        if not args.no_real:
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
                return rl, ag, time.perf_counter() - t

            steps_real = args.real_steps or lcfg.num_steps
            real_l2, ragents, t_real = real_train(steps_real)
            ratio = t_syn / max(t_real, 1e-9)
            if args.real_steps is None and not 0.8 <= ratio <= 1.25:
                steps_real = max(lcfg.num_envs, int(steps_real * ratio))
                real_l2, ragents, t_real = real_train(steps_real)
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
    print(json.dumps(out))
    return 0


def _plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from meta.synthetic import initial_obs, reward_fn
    from ued.host import read_metrics, save_figure
    from ued.rollout import PolicyStep, RolloutCarry, rollout

    run_cfg, cfg, scfg, params, _, real = _load_run(args.run_dir)
    out_dir = args.out or args.run_dir
    written = []
    # 1. meta-training curves
    recs = read_metrics(args.run_dir)
    gens = [r for r in recs if "fitness_mean" in r]
    if not gens:
        raise ValueError(
            f"run_dir: {args.run_dir} has no generations in metrics.jsonl yet (train first)"
        )
    fig, ax = plt.subplots(figsize=(6, 4))
    if gens:
        g = [r["generation"] for r in gens]
        ax.plot(g, [r["fitness_mean"] for r in gens], label="population mean")
        ax.plot(g, [r["fitness_best"] for r in gens], label="population best", alpha=0.6)
    mean_recs = [r for r in recs if "mean_fitness" in r]
    if mean_recs:
        ax.plot(
            [r["generation"] for r in mean_recs],
            [r["mean_fitness"] for r in mean_recs],
            label="ES mean (sampled-around)",
        )
        g0 = [r for r in mean_recs if r["generation"] == 0]
        if g0:
            ax.axhline(g0[0]["mean_fitness"], ls="--", c="grey", label="generation-0 fitness")
            ax.plot([0], [g0[0]["mean_fitness"]], "ko")
    ax.set_xlabel("generation")
    ax.set_ylabel(f"return on real {cfg.target}")
    ax.legend(fontsize=7)
    ax.set_title(f"synthetic {scfg.kind} meta-training: {cfg.target}")
    p = os.path.join(out_dir, "meta_training.png")
    fig.tight_layout()
    save_figure(fig, p, dpi=100)
    plt.close(fig)
    written.append(p)

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
    fig, axes = plt.subplots(1, len(acts), figsize=(4 * len(acts), 3.5), squeeze=False)
    for ax, a in zip(axes[0], acts, strict=True):
        av = (
            jnp.asarray(a, jnp.int32)
            if scfg.discrete
            else jnp.full((scfg.num_actions,), a, jnp.float32)
        )
        r = np.asarray(jax.vmap(lambda o: reward_fn(scfg, params, o, av))(jnp.asarray(grid)))
        im = ax.contourf(gx, gy, r.reshape(60, 60), levels=20, cmap="RdBu_r")
        fig.colorbar(im, ax=ax)
        ax.set_title(f"reward, action {a}")
        ax.set_xlabel(f"state dim {i}")
        ax.set_ylabel(f"state dim {j}")
    p = os.path.join(out_dir, "reward_map.png")
    fig.tight_layout()
    save_figure(fig, p, dpi=100)
    plt.close(fig)
    written.append(p)

    # 3. initial states against the real env's visited states
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(
        real_states[:, i], real_states[:, j], s=3, alpha=0.3, label="real env (random policy)"
    )
    ax.scatter(
        init_states[:, i], init_states[:, j], s=3, alpha=0.5, label="synthetic initial states"
    )
    ax.set_xlabel(f"state dim {i}")
    ax.set_ylabel(f"state dim {j}")
    ax.legend(fontsize=7)
    p = os.path.join(out_dir, "initial_states.png")
    fig.tight_layout()
    save_figure(fig, p, dpi=100)
    plt.close(fig)
    written.append(p)
    print(json.dumps({"figures": written}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from meta.learners import ACTIVATIONS, LEARNERS
    from meta.synth import SYNTH_TARGETS

    parser = argparse.ArgumentParser(prog="openued synth", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="meta-learn a synthetic environment with ES")
    t.add_argument("env", choices=SYNTH_TARGETS)
    t.add_argument("--out", default=None, help="run directory")
    t.add_argument("--generations", type=int, default=200)
    t.add_argument("--population", type=int, default=32)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--kind", choices=("scb", "mdp"), default=None)
    t.add_argument("--hidden", type=int, default=32, help="hidden units of each synthetic head")
    t.add_argument("--learners", nargs="+", choices=LEARNERS, default=None,
                   help="inner learners rotated per generation (default: all that fit)")  # fmt: skip
    t.add_argument("--inner-steps", type=int, default=10_000)
    t.add_argument("--inner-envs", type=int, default=8)
    t.add_argument("--agent-hidden", type=int, default=64)
    t.add_argument("--agent-activation", choices=tuple(ACTIVATIONS), default="tanh")
    t.add_argument("--range", action="append", default=None,
                   help="hyperparameter range NAME:LOW:HIGH (repeatable)")  # fmt: skip
    t.add_argument("--eval-envs", type=int, default=16)
    t.add_argument("--horizon-init", type=int, default=None)
    t.add_argument("--horizon-end", type=int, default=None)
    t.add_argument("--horizon-begin", type=int, default=0)
    t.add_argument("--horizon-transition", type=int, default=0)
    t.add_argument("--strategy", default="SNES")
    t.add_argument("--std-init", type=float, default=0.05)
    t.add_argument("--es-lr", type=float, default=None)
    t.add_argument("--chunk", type=int, default=10, help="generations per compiled chunk")
    t.add_argument("--quiet", action="store_true")

    e = sub.add_parser("eval", help="train fresh agents on the discovered env (held-out settings)")
    e.add_argument("run_dir")
    e.add_argument("--learner", nargs="+", choices=LEARNERS, default=None)
    e.add_argument("--hidden", nargs="+", type=int, default=[64])
    e.add_argument("--activation", nargs="+", choices=tuple(ACTIVATIONS), default=["tanh"])
    for h in _HP_FLAGS:
        e.add_argument(f"--{h.replace('_', '-')}", dest=h, type=float, default=None,
                       help=f"fix {h} (default: sampled from the learner's ranges)")  # fmt: skip
    e.add_argument(
        "--steps", type=int, default=None, help="training steps (default: as meta-training)"
    )
    e.add_argument("--inits", type=int, default=8)
    e.add_argument("--episodes", type=int, default=16)
    e.add_argument("--max-steps", type=int, default=None)
    e.add_argument("--seed", type=int, default=123)
    e.add_argument("--no-real", action="store_true", help="skip the equal-time real-env baseline")
    e.add_argument("--real-steps", type=int, default=None,
                   help="steps of the real-env baseline (default: calibrated to equal time)")  # fmt: skip

    p = sub.add_parser("plot", help="meta-training curves, reward map, initial states")
    p.add_argument("run_dir")
    p.add_argument("--dims", nargs=2, type=int, default=None,
                   help="two state dimensions (default: 2 3, or 0 1 for 2-D states)")  # fmt: skip
    p.add_argument("--out", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openued synth``; returns the exit status (0 ok, 1 runtime failure,
    2 usage error). Every expected failure is one ``error: ...`` line, no traceback."""
    args = build_parser().parse_args(argv)
    return run_reporting({"train": _train, "eval": _eval, "plot": _plot}[args.cmd], args, ())


if __name__ == "__main__":
    raise SystemExit(main())
