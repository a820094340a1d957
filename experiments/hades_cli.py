"""``openued hades {train, eval, plot}``: behaviour distillation from the command line.

``train ENV``: a preset per target (see ``PRESETS``); every preset accepts ``--out``,
``--generations``, ``--population``, ``--dataset-size`` and ``--seed`` (and more overrides,
``--help``). The run directory is kept by the run layer (``ued.host``): ``config.json``,
``metrics.jsonl``, checksummed checkpoints in ``checkpoints/`` (a directory that holds a run is
resumed; only the run length and execution-only options may change), the best dataset so far
(``dataset.npz`` + ``dataset.json`` for other tools; chosen by evaluating the ES *mean* with
fresh policies) and plots. ``eval RUN_DIR_OR_DATASET`` prints one JSON object as its last line. ``plot RUN_DIR``
writes ``fitness.png`` and ``dataset.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import sys
import time

import numpy as np

from experiments.errors import run_reporting

PRESETS: dict[str, dict] = {
    # target: HaDES settings, ES settings, run settings
    "cartpole": dict(
        hades=dict(dataset_size=4, num_inits=2, eval_envs=4),
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


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Host-loop settings of ``train``."""

    generations: int = 30
    chunk_size: int = 10
    eval_every: int = 1  # evaluate the ES mean every this many chunks (and at the end)
    eval_policies: int = 16  # 0: no evaluation, keep the latest ES mean as the dataset
    eval_episodes: int = 8
    checkpoint_every: int = 1  # chunks
    seed: int = 0
    # candidates evaluated per vmapped chunk; 0: meta.auto_eval_batch_size (same results)
    eval_batch_size: int = 0

    def __post_init__(self):
        checks = {
            "eval_batch_size": (0, 1 << 20),
            "generations": (1, 10_000_000),
            "chunk_size": (1, 100_000),
            "eval_every": (1, 100_000),
            "eval_policies": (0, 4096),
            "eval_episodes": (1, 4096),
            "checkpoint_every": (1, 100_000),
            "seed": (0, 2**31 - 1),
        }
        for name, (lo, hi) in checks.items():
            v = getattr(self, name)
            if not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{name}: must be an int in [{lo}, {hi}], got {v!r}")


class CLIError(Exception):
    """A user error: printed as ``error: ...`` with exit status 2."""


# what a resumed run may change: the run length and options that only affect execution
MAY_CHANGE = ("run.generations", "run.checkpoint_every", "run.eval_batch_size")
_FLAGS = {
    "hades.policy.steps": "--inner-steps",
    "hades.policy.lr": "--inner-lr",
    "hades.policy.activation": "--activation",
    "hades.policy.hidden": "--hidden",
    "hades.learn_labels": "--learn-labels/--states-only",
    "es.population_size": "--population",
    "es.lr": "--es-lr",
    "run.chunk_size": "--chunk-size",
}


def _flag(field: str) -> str:
    """The command-line flag of a dotted config field (``run.generations`` -> ``--generations``)."""
    if field in _FLAGS:
        return _FLAGS[field]
    section, _, name = field.rpartition(".")
    if section in ("hades", "es", "run"):
        return "--" + name.replace("_", "-")
    return field


# ----------------------------------------------------------------------------- configs


def build_configs(target: str, args: argparse.Namespace):
    """Preset for ``target`` with the command-line overrides applied. Returns
    ``(HadesConfig, ESConfig, RunConfig)``; raises ``ValueError`` naming a bad field."""
    from meta import ESConfig, HadesConfig, PolicyConfig

    if target not in PRESETS:
        raise ValueError(f"target: unknown target {target!r}; allowed: {', '.join(PRESETS)}")
    p = PRESETS[target]
    hades = dict(p["hades"])
    policy = dict(p["policy"])
    es = dict(p["es"])
    run = dict(p["run"])
    over = [
        (hades, "dataset_size", args.dataset_size),
        (hades, "num_inits", args.num_inits),
        (hades, "eval_envs", args.eval_envs),
        (hades, "eval_steps", args.eval_steps),
        (policy, "steps", args.inner_steps),
        (policy, "lr", args.inner_lr),
        (policy, "activation", args.activation),
        (es, "strategy", args.strategy),
        (es, "population_size", args.population),
        (es, "std_init", args.std_init),
        (es, "lr", args.es_lr),
        (run, "generations", args.generations),
        (run, "chunk_size", args.chunk_size),
        (run, "eval_every", args.eval_every),
        (run, "eval_policies", args.eval_policies),
        (run, "eval_episodes", args.eval_episodes),
        (run, "eval_batch_size", args.eval_batch_size),
        (run, "seed", args.seed),
    ]
    for d, k, v in over:
        if v is not None:
            d[k] = v
    if args.hidden is not None:
        try:
            policy["hidden"] = tuple(int(h) for h in args.hidden.split(","))
        except ValueError:
            raise ValueError(f"hidden: comma-separated ints, got {args.hidden!r}") from None
    if args.fixed_init:
        hades["fixed_init"] = True
    if args.states_only:
        hades["learn_labels"] = False
    if args.learn_labels:
        hades["learn_labels"] = True
    return (
        HadesConfig(target=target, policy=PolicyConfig(**policy), **hades),
        ESConfig(**es),
        RunConfig(**run),
    )


def _config_dict(hcfg, ecfg, rcfg) -> dict:
    d = {"hades": dataclasses.asdict(hcfg), "es": dataclasses.asdict(ecfg)}
    d["hades"]["policy"]["hidden"] = list(hcfg.policy.hidden)
    d["run"] = dataclasses.asdict(rcfg)
    return d


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


def cmd_train(args) -> int:
    import jax

    from meta import (
        auto_eval_batch_size,
        check_es_resume,
        make_dataset_evaluator,
        make_es_from_config,
        make_es_loop,
        make_hades,
        run_es,
    )
    from ued.host import holds_run

    hcfg, ecfg, rcfg = build_configs(args.env, args)
    out = args.out or os.path.join("runs", f"hades-{args.env}-s{rcfg.seed}")
    cfg = _config_dict(hcfg, ecfg, rcfg)
    resume = holds_run(out)
    if resume:
        check_es_resume(out, cfg, MAY_CHANGE, _flag)

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
        progress=not args.no_progress,
    )
    wall = time.time() - t0
    if not args.no_plot:
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


def cmd_eval(args) -> int:
    import jax

    from meta import evaluate_transfer, make_dataset_evaluator

    if not 1 <= args.policies <= 4096:
        raise CLIError(f"policies: must be in [1, 4096], got {args.policies}")
    if not 1 <= args.episodes <= 4096:
        raise CLIError(f"episodes: must be in [1, 4096], got {args.episodes}")
    hades, data = load_dataset(_resolve_dataset(args.path))
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


def plot_run(run_dir: str) -> list[str]:
    """Write ``fitness.png`` and ``dataset.png`` into ``run_dir``; returns their paths."""
    import jax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from meta import visited_states
    from ued.host import read_metrics, save_figure

    mpath = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(mpath):
        raise CLIError(f"run_dir: {run_dir} has no metrics.jsonl (train first)")
    recs = [r for r in read_metrics(run_dir) if "fitness_mean" in r]
    if not recs:
        raise CLIError(f"run_dir: {run_dir} has no generations in metrics.jsonl yet (train first)")
    written = []
    fig, ax = plt.subplots(figsize=(6, 4))
    g = [r.get("generation") for r in recs]
    ax.plot(g, [r.get("fitness_mean") for r in recs], label="population mean")
    ax.plot(g, [r.get("fitness_best") for r in recs], label="generation best", alpha=0.6)
    ev = [(r.get("generation"), r["eval_mean_return"]) for r in recs if "eval_mean_return" in r]
    if ev:
        ax.plot(*zip(*ev, strict=True), "o-", label="ES mean, fresh policies")
    ax.set_xlabel("generation")
    ax.set_ylabel("return")
    ax.legend()
    ax.set_title(os.path.basename(os.path.normpath(run_dir)))
    fig.tight_layout()
    p = os.path.join(run_dir, "fitness.png")
    save_figure(fig, p, dpi=100)
    plt.close(fig)
    written.append(p)

    dpath = os.path.join(run_dir, "dataset.npz")
    if os.path.exists(dpath):
        hades, data = load_dataset(dpath)
        t = hades.target
        states = np.asarray(data.states)
        targets = np.asarray(data.targets)
        labels = targets.argmax(-1) if t.discrete else targets[:, 0]
        if t.image:
            n = states.shape[0]
            cols = min(n, 8)
            rows = math.ceil(n / cols)
            fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
            for i, a in enumerate(axes.flat):
                a.axis("off")
                if i < n:
                    s = states[i]
                    # channel-coloured image: each channel gets a hue, intensity = value
                    hues = plt.cm.tab10(np.arange(s.shape[-1]) % 10)[:, :3]
                    img = np.clip(np.einsum("hwc,cd->hwd", np.clip(s, 0, None), hues), 0, 1)
                    a.imshow(img, interpolation="nearest")
                    a.set_title(f"a={int(labels[i])}", fontsize=8)
        else:
            visited = visited_states(jax.random.key(0), hades, data)
            flat_s = states.reshape(len(states), -1)
            flat_v = visited.reshape(len(visited), -1)
            both = np.concatenate([flat_s, flat_v]) if len(flat_v) else flat_s
            mu = both.mean(0)
            _, _, vt = np.linalg.svd(both - mu, full_matrices=False)
            proj = vt[:2].T if vt.shape[0] >= 2 else np.eye(both.shape[1], 2)
            ps, pv = (flat_s - mu) @ proj, (flat_v - mu) @ proj
            fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True, sharey=True)
            sc = axes[0].scatter(ps[:, 0], ps[:, 1], c=labels, cmap="coolwarm", s=80)
            axes[0].set_title(f"distilled dataset (N={len(states)}), colour = action")
            fig.colorbar(sc, ax=axes[0])
            axes[1].scatter(pv[:, 0], pv[:, 1], s=4, alpha=0.4, c="gray", label="visited")
            axes[1].scatter(ps[:, 0], ps[:, 1], c=labels, cmap="coolwarm", s=80, marker="*")
            axes[1].set_title("states visited by a policy trained on it")
            for a in axes:
                a.set_xlabel("PC 1")
                a.set_ylabel("PC 2")
        fig.tight_layout()
        p = os.path.join(run_dir, "dataset.png")
        save_figure(fig, p, dpi=100)
        plt.close(fig)
        written.append(p)
    return written


def cmd_plot(args) -> int:
    if not os.path.isdir(args.run_dir):
        raise CLIError(f"run_dir: {args.run_dir} is not a directory")
    print(json.dumps({"plots": plot_run(args.run_dir)}))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="openued hades", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="distil a dataset for ENV with its preset")
    t.add_argument("env", help=f"one of: {', '.join(PRESETS)}")
    t.add_argument("--out", help="run directory (default runs/hades-ENV-sSEED)")
    t.add_argument("--generations", type=int)
    t.add_argument("--population", type=int)
    t.add_argument("--dataset-size", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--strategy", help="Open_ES, SNES, CMA_ES, Sep_CMA_ES, PGPE")
    t.add_argument("--std-init", type=float)
    t.add_argument("--es-lr", type=float)
    t.add_argument("--inner-steps", type=int)
    t.add_argument("--inner-lr", type=float)
    t.add_argument("--hidden", help="comma-separated hidden widths, e.g. 64,64")
    t.add_argument("--activation")
    t.add_argument("--num-inits", type=int, help="k policy inits per candidate (HaDES-R)")
    t.add_argument("--fixed-init", action="store_true", help="HaDES-F (one fixed init)")
    t.add_argument("--states-only", action="store_true", help="fixed one-hot labels")
    t.add_argument("--learn-labels", action="store_true")
    t.add_argument("--eval-envs", type=int)
    t.add_argument("--eval-steps", type=int, help="rollout length (0: episode limit)")
    t.add_argument("--chunk-size", type=int)
    t.add_argument("--eval-every", type=int, help="chunks between evaluations of the mean")
    t.add_argument("--eval-policies", type=int)
    t.add_argument("--eval-episodes", type=int)
    t.add_argument(
        "--eval-batch-size",
        type=int,
        help="ES candidates per vmapped chunk (0: auto, 256 on CPU for large populations)",
    )
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("--no-plot", action="store_true")
    e = sub.add_parser("eval", help="train fresh policies on a distilled dataset")
    e.add_argument("path", help="run directory or dataset .npz")
    e.add_argument("--policies", type=int, default=16)
    e.add_argument("--episodes", type=int, default=8)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--transfer", action="store_true")
    pl = sub.add_parser("plot", help="fitness curves and a picture of the dataset")
    pl.add_argument("run_dir")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openued hades``; returns the exit status (0 ok, 1 runtime failure,
    2 usage error). Every expected failure is one ``error: ...`` line, no traceback."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_reporting(
        {"train": cmd_train, "eval": cmd_eval, "plot": cmd_plot}[args.command], args, (CLIError,)
    )


if __name__ == "__main__":
    sys.exit(main())
