"""SAMPLR experiment: presets, training, ground-truth evaluation, plots and the docs table.

Presets (all: 32 envs x 64 steps x 1500 updates = 3.07M env steps per seed, 5 seeds vmapped in
one program, a feed-forward policy (flatten, Dense 64, heads 32), PPO lr 3e-4 constant,
gamma 0.99, lambda 0.95, 4 epochs, 2 minibatches, entropy 0.01; buffer 1000, replay 0.8,
staleness 0.3, rank temperature 0.3, min fill 0.5; robust PLR and SAMPLR score with MaxMC):

    gamble-dr, gamble-robust-plr, gamble-samplr, lava-dr, lava-robust-plr, lava-samplr

Commands (``python -m experiments.samplr ...``; ``openued train/eval/plot`` dispatch here)::

    train PRESET [--num-updates N] [--num-seeds K] [--out DIR] [--no-progress]
    eval RUN_DIR                      # last stdout line: one JSON object (see samplr_eval)
    plot RUN_DIR [RUN_DIR ...] --out DIR
    table RUN_DIR [RUN_DIR ...] [--out docs/samplr.md]

Evaluation (:func:`samplr_eval`), per seed, then mean and a 95% t-interval over seeds:

* ``paying_share`` (gamble) / ``mean_theta`` (lava): the aleatoric parameter in trained-on
  episodes, averaged over the run's trained updates (``cur/aleatoric/trained``).
* gamble: ``gamble_rate`` {``no_cue``, ``favourable``, ``unfavourable``}: share of held-out
  layouts (both exits at equal distance, :func:`envs.aleatoric.gamble_eval_layouts`)
  where the greedy policy leaves by the gamble exit; ``ground_truth_return``: EXACT expected
  return of the greedy policy under the ground truth, enumerating cue flag (1/2 each) x coin x
  cue reading with their prior probabilities (each case is deterministic given the greedy
  policy).
* lava: ``detour_rate`` (share of episodes reaching the goal without ever standing next to
  lava) and ``ground_truth_return`` (Monte Carlo: 32 layouts x 64 episodes with theta from the
  prior, greedy policy; its standard error is reported as ``ground_truth_return_se``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ued.validation import require_ints

ENVS = ("gamble-maze", "lava-maze")
METHODS = ("dr", "robust-plr", "samplr")


@dataclasses.dataclass(frozen=True)
class SamplrConfig:
    """One SAMPLR-experiment run (flat, JSON-serialisable). Validated on construction."""

    preset: str = "custom"
    env: str = "gamble-maze"
    curriculum: str = "samplr"
    score: str = "maxmc"
    num_envs: int = 32
    num_steps: int = 64
    num_updates: int = 1500
    num_seeds: int = 5
    seed: int = 0
    lr: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_epochs: int = 4
    num_minibatches: int = 2
    ent_coef: float = 0.01
    buffer_capacity: int = 1000
    replay_prob: float = 0.8
    staleness_coef: float = 0.3
    temperature: float = 0.3
    min_fill: float = 0.5
    fictitious: str = "all"
    chunk_size: int = 50
    out: str = ""
    progress: bool = True

    def __post_init__(self) -> None:
        if self.env not in ENVS:
            raise ValueError(f"SamplrConfig.env must be one of {ENVS}, got {self.env!r}")
        if self.curriculum not in METHODS:
            raise ValueError(
                f"SamplrConfig.curriculum must be one of {METHODS}, got {self.curriculum!r}"
            )
        require_ints(
            self,
            (
                "num_envs",
                "num_steps",
                "num_seeds",
                "num_epochs",
                "num_minibatches",
                "buffer_capacity",
                "chunk_size",
            ),
        )
        if not isinstance(self.num_updates, int) or self.num_updates < 0:
            raise ValueError(
                f"SamplrConfig.num_updates must be an integer >= 0, got {self.num_updates!r}"
            )
        if self.num_envs % self.num_minibatches:
            raise ValueError("SamplrConfig.num_minibatches must divide num_envs")
        for f in ("replay_prob", "staleness_coef", "min_fill", "gamma", "gae_lambda"):
            v = getattr(self, f)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"SamplrConfig.{f} must be in [0, 1], got {v!r}")


def _preset(env: str, method: str) -> dict[str, Any]:
    return dict(env=env, curriculum=method, score="maxmc")


PRESETS: dict[str, dict[str, Any]] = {
    f"{e.split('-')[0]}-{m}": _preset(e, m) for e in ENVS for m in METHODS
}


def make_config(preset: str, **overrides) -> SamplrConfig:
    """The preset's :class:`SamplrConfig` with keyword overrides."""
    if preset not in PRESETS:
        raise ValueError(f"unknown SAMPLR preset {preset!r}; allowed: {', '.join(PRESETS)}")
    return SamplrConfig(preset=preset, **{**PRESETS[preset], **overrides})


@dataclasses.dataclass(frozen=True)
class SamplrExperiment:
    config: SamplrConfig
    env: Any
    space: Any
    curriculum: Any
    student: Any
    trainer: Any


def build(cfg: SamplrConfig) -> SamplrExperiment:
    """Env, level space, curriculum (SAMPLR's carries its step hook), feed-forward student and
    trainer."""
    import curricula
    from curricula.samplr import SAMPLRConfig, make_samplr, with_aleatoric_diagnostics
    from envs.aleatoric import make_aleatoric_maze
    from ued.networks import NetworkConfig, make_actor_critic
    from ued.ppo import PPOConfig, PPOParams
    from ued.train import TrainConfig, make_train

    env, space = make_aleatoric_maze(cfg.env)
    b = cfg.num_envs
    buf = curricula.LevelSamplerConfig(capacity=cfg.buffer_capacity)
    bp = curricula.LevelSamplerParams(
        replay_prob=cfg.replay_prob,
        staleness_coef=cfg.staleness_coef,
        temperature=cfg.temperature,
        min_fill=cfg.min_fill,
    )
    if cfg.curriculum == "dr":
        cur = with_aleatoric_diagnostics(curricula.make_dr(space, b), space)
    elif cfg.curriculum == "robust-plr":
        cur = curricula.make_plr(space, b, curricula.PLRConfig(buffer=buf, robust=True))
        cur = with_aleatoric_diagnostics(cur._replace(default_params=bp), space)
    else:
        sc = SAMPLRConfig(buffer=buf, fictitious=cfg.fictitious)
        cur = make_samplr(space, b, sc)._replace(default_params=bp)
    student = make_actor_critic(
        NetworkConfig(encoder="flat", torso=(64,), core="none", head_size=32),
        env.action_space().n,
    )
    tc = TrainConfig(
        num_envs=b,
        num_steps=cfg.num_steps,
        num_updates=cfg.num_updates,
        ppo=PPOConfig(
            num_epochs=cfg.num_epochs,
            num_minibatches=cfg.num_minibatches,
        ),
    )
    pp = PPOParams(
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        ent_coef=cfg.ent_coef,
        lr=cfg.lr,
        lr_anneal_updates=0,
    )
    trainer = make_train(tc, env, space, cur, student, cfg.score, ppo_params=pp)
    return SamplrExperiment(cfg, env, space, cur, student, trainer)


def _seed_keys(seed: int, k: int):
    import jax
    import jax.numpy as jnp

    return jax.vmap(jax.random.key)(jnp.arange(seed, seed + k))


def init_and_run_fns(exp: SamplrExperiment):
    """``(init() -> state, run(state, n) -> (state, metrics))``, jitted and vmapped over seeds."""
    import jax

    cfg = exp.config
    keys = _seed_keys(cfg.seed, cfg.num_seeds)
    init_j = jax.jit(jax.vmap(exp.trainer.init))

    @functools.lru_cache(maxsize=4)
    def compiled(n: int):
        return jax.jit(jax.vmap(lambda s: exp.trainer.run(s, n)))

    return (lambda: init_j(keys)), (lambda s, n: compiled(n)(s))


def train(cfg: SamplrConfig, write=None) -> Path:
    """Train ``cfg`` into a run directory (``ued.host`` format); returns its path. Host."""
    from ued.host import HostConfig, run_training

    exp = build(cfg)
    out = Path(cfg.out or f"runs/{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}")
    init_fn, run_fn = init_and_run_fns(exp)
    host = HostConfig(
        num_updates=cfg.num_updates,
        chunk_size=min(cfg.chunk_size, max(cfg.num_updates, 1)),
        checkpoint_every=max(cfg.num_updates, 1),
        keep_checkpoints=1,
        progress=cfg.progress,
    )
    d = dataclasses.asdict(cfg)
    d["experiment"] = "samplr"
    run_training(
        out,
        init_fn,
        run_fn,
        host,
        env_steps_per_update=cfg.num_envs * cfg.num_steps,
        num_seeds=cfg.num_seeds,
        config=d,
        write=write,
        batched=True,  # init_and_run_fns always vmaps over seeds, even for one
    )
    return out


# ------------------------------------------------------------------------------ evaluation


def interval(values) -> dict[str, Any]:
    """Per-seed values, mean and a 95% t-interval over seeds (the value itself for one seed)."""
    from scipy import stats

    v = np.asarray(values, np.float64)
    per = [None if not math.isfinite(x) else float(x) for x in v]  # JSON has no NaN
    f = v[np.isfinite(v)]
    if f.size == 0:
        return {"per_seed": per, "mean": None, "ci95": [None, None]}
    m = float(np.mean(f))
    if f.size < 2:
        return {"per_seed": per, "mean": m, "ci95": [m, m]}
    half = float(stats.t.ppf(0.975, f.size - 1) * np.std(f, ddof=1) / math.sqrt(f.size))
    return {"per_seed": per, "mean": m, "ci95": [m - half, m + half]}


def _greedy_episodes(
    env, student, params, levels, num_steps: int, key, greedy: bool = True, info_keys=()
):
    """First episodes on ``levels`` (batched) under the greedy (mode) policy, or the stochastic
    policy itself with ``greedy=False``: dict of per-level arrays, ``"return"`` of the first
    episode (0 if unfinished after ``num_steps``) and, for each of ``info_keys``, ``info[key]``
    on the step that ended it (``exit``, ``detour``: reported there; 0 if unfinished). The
    toolkit's rollout (``ued.rollout``), so a recurrent student keeps its state through the
    episode. Jittable."""
    import jax.numpy as jnp

    from ued.rollout import first_episode, rollout_levels
    from ued.wrappers import AutoReplay, EpisodeStats

    ep = env.default_params
    wrapped = EpisodeStats(AutoReplay(env))
    res = rollout_levels(
        key,
        wrapped,
        levels,
        params,
        ep,
        net=student,
        num_steps=num_steps,
        greedy=greedy,
        record_trajectory=False,
        count_episodes=True,
        record_info=(*info_keys, "returned_episode"),
    )
    done = res.info["returned_episode"]
    end = first_episode(done) & done  # bool[T, n] the step the first episode ended
    out = {
        k: jnp.max(jnp.where(end, res.info[k], jnp.zeros_like(res.info[k])), axis=0)
        for k in info_keys
    }
    cnt = res.counters
    out["return"] = jnp.where(cnt.num_episodes > 0, cnt.first_return, 0.0)
    return out


def _seed_params(params, i: int):
    import jax

    return jax.tree.map(lambda x: x[i], params)


def gamble_eval(
    env, student, params, num_layouts: int = 32, sampled_episodes: int = 16
) -> dict[str, float]:
    """Exact ground-truth evaluation of one gamble-maze policy, greedy and sampled (see the
    module docstring). Keys: ``no_cue``, ``favourable``, ``unfavourable`` (gamble rates),
    ``exit_rate`` (no-cue episodes leaving by either exit), ``ground_truth_return``; the same
    with the suffix ``_sampled`` for the stochastic policy."""
    import jax
    import jax.numpy as jnp

    from envs.aleatoric import (
        CUE_ACCURACY,
        EXIT_GAMBLE,
        MAX_STEPS,
        P_PAY,
        gamble_eval_layouts,
    )

    lay = gamble_eval_layouts(num_layouts)
    # cases: (has_cue, coin, reading, probability given has_cue)
    cases = []
    for coin in (0, 1):
        pc = P_PAY if coin else 1 - P_PAY
        cases.append((0, coin, 0, pc))
        for reading in (0, 1):
            pr = CUE_ACCURACY if reading == coin else 1 - CUE_ACCURACY
            cases.append((1, coin, reading, pc * pr))
    levels = []
    for has_cue, coin, reading, _ in cases:
        nn = num_layouts
        levels.append(
            lay.replace(
                has_cue=jnp.full(nn, bool(has_cue)),
                coin=jnp.full(nn, bool(coin)),
                cue_reading=jnp.full(nn, bool(reading)),
            )
        )
    batch = jax.tree.map(lambda *xs: jnp.concatenate(xs), *levels)
    idx = {(h, c, r): i for i, (h, c, r, _) in enumerate(cases)}
    out = {}
    # greedy: one deterministic episode per case and layout; sampled: the stochastic policy
    # itself, `sampled_episodes` episodes per case and layout (a deterministic feed-forward
    # policy can loop forever in a partially observed maze, so the greedy exit rate understates
    # what the trained policy does)
    for mode, reps in (("", 1), ("_sampled", sampled_episodes)):
        lv = jax.tree.map(lambda x: jnp.repeat(x, reps, 0), batch)
        res = jax.jit(
            lambda p, lv: _greedy_episodes(
                env,
                student,
                p,
                lv,
                MAX_STEPS,
                jax.random.key(0),
                greedy=(reps == 1),
                info_keys=("exit",),
            )
        )(params, lv)
        shape = (len(cases), num_layouts * reps)
        ret = np.asarray(res["return"]).reshape(shape)
        gam = np.asarray(res["exit"] == EXIT_GAMBLE).reshape(shape)
        exited = np.asarray(res["exit"] > 0).reshape(shape)
        gt = np.zeros(shape[1])
        for c, (_, _, _, p) in enumerate(cases):
            gt += 0.5 * p * ret[c]
        out[f"no_cue{mode}"] = float(gam[idx[(0, 0, 0)]].mean())
        # the policy sees the reading, not the coin: the coin-0 case gives its choice
        out[f"favourable{mode}"] = float(gam[idx[(1, 0, 1)]].mean())
        out[f"unfavourable{mode}"] = float(gam[idx[(1, 0, 0)]].mean())
        out[f"exit_rate{mode}"] = float(exited[idx[(0, 0, 0)]].mean())
        out[f"ground_truth_return{mode}"] = float(gt.mean())
    return out


def lava_eval(env, space, student, params, episodes_per_layout: int = 64, seed: int = 0):
    """Monte-Carlo ground-truth evaluation of one lava-maze policy, greedy and sampled (keys
    ``detour_rate``, ``ground_truth_return``, ``ground_truth_return_se``; the same with the
    suffix ``_sampled`` for the stochastic policy)."""
    import jax
    import jax.numpy as jnp

    from envs.aleatoric import MAX_STEPS, lava_eval_layouts

    lay = lava_eval_layouts()
    n_l = jax.tree.leaves(lay)[0].shape[0]
    batch = jax.tree.map(lambda x: jnp.repeat(x, episodes_per_layout, 0), lay)
    spec = space.aleatoric
    n = n_l * episodes_per_layout

    @functools.partial(jax.jit, static_argnums=3)
    def run(p, lv, key, greedy):
        k1, k2 = jax.random.split(key)
        lv = jax.vmap(spec.prior_sample)(jax.random.split(k1, n), lv)
        return _greedy_episodes(env, student, p, lv, MAX_STEPS, k2, greedy, ("detour",))

    out = {}
    for mode, greedy in (("", True), ("_sampled", False)):
        res = run(params, batch, jax.random.key(seed), greedy)
        ret = np.asarray(res["return"])
        out[f"detour_rate{mode}"] = float(np.asarray(res["detour"]).mean())
        out[f"ground_truth_return{mode}"] = float(ret.mean())
        out[f"ground_truth_return{mode}_se"] = float(ret.std(ddof=1) / math.sqrt(ret.size))
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


def samplr_eval(run: str | Path | tuple, num_layouts: int = 32) -> dict[str, Any]:
    """Ground-truth evaluation of a SAMPLR-experiment run.

    ``run``: a run directory, or ``(SamplrExperiment, vmapped TrainState, metrics dict)``.
    Returns ``{"env", "method", "num_seeds", "paying_share" | "mean_theta", "gamble_rate" |
    "detour_rate", "ground_truth_return"}``; each value ``{"per_seed", "mean", "ci95"}``
    (``gamble_rate`` holds one per cue class). Host.
    """
    import jax

    from ued.host import load_run

    if isinstance(run, tuple):
        exp, state, metrics = run
        params = state.student.params
    else:
        r = load_run(run)
        c = {k: v for k, v in r.config.items() if k != "experiment"}
        exp = build(SamplrConfig(**c))
        params = jax.tree.map(np.asarray, r.params)
        metrics = r.metrics
    cfg = exp.config
    k = cfg.num_seeds
    out: dict[str, Any] = {"env": cfg.env, "method": cfg.curriculum, "num_seeds": k}
    par = _trained_param(metrics, k)
    pname = "paying_share" if cfg.env == "gamble-maze" else "mean_theta"
    out[pname] = interval(par)
    per = []
    for i in range(k):
        p = _seed_params(params, i)  # runs always carry a leading seed axis
        if cfg.env == "gamble-maze":
            per.append(gamble_eval(exp.env, exp.student, p, num_layouts))
        else:
            per.append(lava_eval(exp.env, exp.space, exp.student, p, seed=i))
    for mode in ("", "_sampled"):
        if cfg.env == "gamble-maze":
            out[f"gamble_rate{mode}"] = {
                c: interval([d[c + mode] for d in per])
                for c in ("no_cue", "favourable", "unfavourable")
            }
            out[f"exit_rate{mode}"] = interval([d[f"exit_rate{mode}"] for d in per])
        else:
            out[f"detour_rate{mode}"] = interval([d[f"detour_rate{mode}"] for d in per])
            out[f"ground_truth_return{mode}_se"] = [
                d[f"ground_truth_return{mode}_se"] for d in per
            ]
        out[f"ground_truth_return{mode}"] = interval(
            [d[f"ground_truth_return{mode}"] for d in per]
        )
    return out


# ------------------------------------------------------------------------------ plots, table


def plot_runs(run_dirs, out_dir: str | Path) -> list[str]:
    """Aleatoric parameter in the PLR/SAMPLR buffer vs the prior, and return curves. Host."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ued.host import load_latest_checkpoint, load_run

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [load_run(d) for d in run_dirs]
    written = []
    by_env: dict[str, list] = {}
    for r in runs:
        by_env.setdefault(r.config["env"], []).append(r)
    for env, rs in by_env.items():
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
        for r in rs:
            m = r.metrics
            x = m.get("env_steps", m.get("update"))
            y = np.asarray(m.get("rollout/return"), np.float64)
            y = y.reshape(y.shape[0], -1)
            ax[0].plot(x, np.nanmean(y, 1), label=r.config["curriculum"])
            _, sd, _ = load_latest_checkpoint(r.run_dir, None, warn=lambda s: None)
            buf = sd.get("curriculum", {}).get("buffer") if isinstance(sd, dict) else None
            if buf is not None:
                field = "coin" if env == "gamble-maze" else "theta"
                vals = np.asarray(buf["levels"][field], np.float64)
                filled = np.asarray(buf["filled"], bool)
                v = vals[filled]
                bins = [-0.25, 0.25, 0.75, 1.25] if field == "coin" else np.linspace(0, 1, 26)
                ax[1].hist(
                    v,
                    bins=bins,
                    density=True,
                    histtype="step",
                    label=f"{r.config['curriculum']} buffer",
                )
        if env == "gamble-maze":
            ax[1].bar([0, 1], [0.75 / 0.5, 0.25 / 0.5], width=0.5, alpha=0.3, label="prior")
            ax[1].set_xlabel("coin (1 = pays)")
        else:
            from scipy import stats

            t = np.linspace(0, 1, 200)
            ax[1].plot(t, stats.beta.pdf(t, 2, 8), "k--", label="prior Beta(2, 8)")
            ax[1].set_xlabel("theta (slip probability)")
        ax[0].set_xlabel("env steps")
        ax[0].set_ylabel("mean training return")
        ax[0].legend(fontsize=8)
        ax[1].legend(fontsize=8)
        ax[0].set_title(f"{env}: return curves")
        ax[1].set_title("aleatoric parameter in the buffer vs prior")
        fig.tight_layout()
        p = out_dir / f"samplr_{env}.png"
        fig.savefig(p, dpi=100)
        plt.close(fig)
        written.append(str(p))
    return written


def _fmt(d: dict) -> str:
    if d["mean"] is None:
        return "n/a"
    lo, hi = d["ci95"]
    return f"{d['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


def results_table(results: list[dict]) -> str:
    """Markdown tables (one per env) from :func:`samplr_eval` results: one row per method and
    policy mode (``greedy``: argmax actions; ``sampled``: the trained stochastic policy)."""
    lines = []
    g = [r for r in results if r["env"] == "gamble-maze"]
    lv = [r for r in results if r["env"] == "lava-maze"]
    if g:
        lines += [
            "### gamble-maze",
            "",
            "| method | policy | seeds | paying share (trained-on) | gamble rate: no cue "
            "| favourable | unfavourable | exit rate (no cue) | ground-truth return (exact) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in g:
            for mode, name in (("", "greedy"), ("_sampled", "sampled")):
                if f"gamble_rate{mode}" not in r:
                    continue
                gr = r[f"gamble_rate{mode}"]
                lines.append(
                    f"| {r['method']} | {name} | {r['num_seeds']} | {_fmt(r['paying_share'])} | "
                    f"{_fmt(gr['no_cue'])} | {_fmt(gr['favourable'])} | "
                    f"{_fmt(gr['unfavourable'])} | {_fmt(r[f'exit_rate{mode}'])} | "
                    f"{_fmt(r[f'ground_truth_return{mode}'])} |"
                )
        lines.append("")
    if lv:
        lines += [
            "### lava-maze",
            "",
            "| method | policy | seeds | mean theta (trained-on) | detour rate "
            "| ground-truth return (MC) |",
            "|---|---|---|---|---|---|",
        ]
        for r in lv:
            for mode, name in (("", "greedy"), ("_sampled", "sampled")):
                if f"detour_rate{mode}" not in r:
                    continue
                lines.append(
                    f"| {r['method']} | {name} | {r['num_seeds']} | {_fmt(r['mean_theta'])} | "
                    f"{_fmt(r[f'detour_rate{mode}'])} | "
                    f"{_fmt(r[f'ground_truth_return{mode}'])} |"
                )
        lines.append("")
    return "\n".join(lines)


def write_table(run_dirs, path: str | Path = "docs/samplr.md", header: str = "") -> str:
    """Evaluate ``run_dirs`` and write the results table to ``path``. Host."""
    res = [samplr_eval(d) for d in run_dirs]
    text = "# SAMPLR results\n\n" + (header + "\n\n" if header else "")
    text += (
        "Values: mean over seeds [95% t-interval]; produced by `python -m experiments."
        "samplr table " + " ".join(str(d) for d in run_dirs) + "`.\n\n"
    )
    text += results_table(res)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.samplr")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("preset", choices=list(PRESETS))
    t.add_argument("--num-updates", type=int)
    t.add_argument("--num-seeds", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--out", "-o")
    t.add_argument("--no-progress", action="store_true")
    e = sub.add_parser("eval")
    e.add_argument("run_dir")
    pl = sub.add_parser("plot")
    pl.add_argument("run_dirs", nargs="+")
    pl.add_argument("--out", default="plots")
    tb = sub.add_parser("table")
    tb.add_argument("run_dirs", nargs="+")
    tb.add_argument("--out", default="docs/samplr.md")
    a = p.parse_args(argv)
    if a.cmd == "train":
        ov = {
            k: v
            for k, v in (
                ("num_updates", a.num_updates),
                ("num_seeds", a.num_seeds),
                ("seed", a.seed),
                ("out", a.out),
            )
            if v is not None
        }
        if a.no_progress:
            ov["progress"] = False
        out = train(make_config(a.preset, **ov))
        print(json.dumps({"run_dir": str(out)}))
    elif a.cmd == "eval":
        print(json.dumps(samplr_eval(a.run_dir)))
    elif a.cmd == "plot":
        print(json.dumps({"plots": plot_runs(a.run_dirs, a.out)}))
    else:
        print(write_table(a.run_dirs, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
