"""Experiment presets and their typed, validated overrides.

An experiment is one flat :class:`ExperimentConfig` (every field can be overridden from the
command line as ``--field-name VALUE``). Presets set the published maze settings (jaxued /
minimax, see ../shared/reference/ued-algorithms.md 1.7): 32 envs x 256 steps, lr 1e-4 linearly
annealed over ``lr_anneal_updates`` = 30000 student updates, gamma 0.995, lambda 0.98, 5 epochs,
1 minibatch, clip 0.2, entropy 1e-3, value coef 0.5, grad clip 0.5; buffer 4000, replay 0.8,
staleness 0.3, rank temperature 0.3, min fill 0.5, duplicate check; 25 walls; ACCEL 5 edits;
score MaxMC. SFL keeps the same PPO settings and uses ``curricula.SFLConfig``'s documented
CPU-scaled defaults (512 sampled levels per refresh, top 64 kept, refresh every 100 updates, 8
evaluation episodes per level, half of the envs from the learnable set), score learnability.
The archive preset uses ``curricula.ArchiveParams`` defaults over (walls, shortest path).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

CURRICULA = ("dr", "plr", "robust-plr", "accel", "sfl", "archive")
SCORES = ("maxmc", "pvl", "l1_value_loss", "neg_return", "learnability", "true_regret")


class ConfigError(ValueError):
    """A bad preset, field or value; the message names it and the allowed values."""


# integer fields become int32 arrays and shapes inside JAX programs; larger values cannot work
INT_MAX = 2**31 - 1


def _f(default, check, help_: str):
    return dataclasses.field(default=default, metadata={"check": check, "help": help_})


def _int(lo, hi=None):
    return ("int", lo, hi)


def _float(lo, hi=None, lo_open=False):
    return ("float", lo, hi, lo_open)


def _choice(*values):
    return ("choice", values)


_BOOL = ("bool",)
_STR = ("str",)
_STRS = ("strs",)


def _network_names():
    from ued.networks import NETWORK_PRESETS

    return tuple(NETWORK_PRESETS)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything one ``openued train`` run needs (flat, JSON-serialisable)."""

    preset: str = _f("custom", _STR, "preset the run started from")
    curriculum: str = _f("robust-plr", _choice(*CURRICULA), "curriculum algorithm")
    score: str = _f("maxmc", _choice(*SCORES), "level score function (ued.scores)")
    # sizes
    num_envs: int = _f(32, _int(1), "parallel environments (levels per update)")
    num_steps: int = _f(256, _int(1), "rollout steps per update")
    num_updates: int = _f(30_000, _int(0), "total train updates of the run")
    # PPO
    lr: float = _f(1e-4, _float(0, None, True), "learning rate (start of the linear decay)")
    lr_anneal_updates: int = _f(
        30_000, _int(0), "student updates over which lr decays linearly to 0 (0: constant)"
    )
    gamma: float = _f(0.995, _float(0.0, 1.0), "discount")
    gae_lambda: float = _f(0.98, _float(0.0, 1.0), "GAE lambda")
    num_epochs: int = _f(5, _int(1), "PPO epochs per batch")
    num_minibatches: int = _f(1, _int(1), "PPO minibatches per epoch (must divide num_envs)")
    clip_eps: float = _f(0.2, _float(0, None, True), "PPO clip range (policy and value)")
    ent_coef: float = _f(1e-3, _float(0.0), "entropy bonus coefficient")
    vf_coef: float = _f(0.5, _float(0.0), "value loss coefficient")
    max_grad_norm: float = _f(0.5, _float(0, None, True), "global gradient norm clip")
    optimizer: str = _f("adam", _choice("adam", "adam-rel"), "optimiser (adam-rel: Adam-Rel)")
    network: str = _f("maze", ("network",), "student network (ued.networks.NETWORK_PRESETS)")
    # maze
    maze_size: int = _f(13, _int(3, 128), "maze height = width (cells, without outer wall)")
    n_walls: int = _f(25, _int(0), "walls drawn by the generator")
    agent_view_size: int = _f(5, _int(1, 31), "egocentric view side (odd)")
    max_episode_steps: int = _f(250, _int(1), "episode time limit T")
    # level buffer (PLR / robust PLR / ACCEL)
    buffer_capacity: int = _f(4000, _int(1), "level buffer capacity")
    replay_prob: float = _f(0.8, _float(0.0, 1.0), "probability of a replay update")
    staleness_coef: float = _f(0.3, _float(0.0, 1.0), "staleness mixing coefficient")
    temperature: float = _f(0.3, _float(0, None, True), "rank prioritisation temperature")
    prioritization: str = _f("rank", _choice("rank", "topk"), "buffer prioritisation")
    topk_k: int = _f(4, _int(1), "k of top-k prioritisation")
    min_fill: float = _f(0.5, _float(0.0, 1.0), "buffer fill share before replay may happen")
    duplicate_check: bool = _f(True, _BOOL, "refresh identical levels instead of inserting")
    parallel: bool = _f(False, _BOOL, "parallel PLR/ACCEL (all branches in every update)")
    num_edits: int = _f(5, _int(1), "ACCEL edits per child")
    accel_from_empty: bool = _f(False, _BOOL, "ACCEL new levels start from empty mazes")
    # SFL
    sfl_num_sample: int = _f(512, _int(1), "SFL levels sampled per refresh")
    sfl_num_keep: int = _f(64, _int(1), "SFL levels kept by learnability")
    sfl_refresh_every: int = _f(100, _int(1), "SFL updates between refreshes")
    sfl_eval_episodes: int = _f(8, _int(8), "SFL evaluation copies per level")
    sfl_buffer_prob: float = _f(0.5, _float(0.0, 1.0), "SFL share of envs on kept levels")
    # MAP-Elites archive
    archive_bins: int = _f(10, _int(1), "archive bins per descriptor")
    archive_new_prob: float = _f(0.2, _float(0.0, 1.0), "archive: share of new levels")
    archive_replay_prob: float = _f(0.3, _float(0.0, 1.0), "archive: share of replayed elites")
    archive_num_edits: int = _f(1, _int(1), "archive edits per child")
    # run
    seed: int = _f(0, _int(0), "random seed (seed i of --num-seeds K uses seed + i)")
    num_seeds: int = _f(1, _int(1), "seeds trained together (vmapped in one program)")
    out: str = _f("", _STR, "run directory (default runs/<preset>-<time>)")
    chunk_size: int = _f(25, _int(1), "updates per compiled chunk (logging granularity)")
    checkpoint_every: int = _f(500, _int(1), "updates between checkpoints")
    keep_checkpoints: int = _f(3, _int(1), "checkpoints kept")
    eval_every: int = _f(250, _int(0), "updates between evaluations (0: only at the end)")
    eval_attempts: int = _f(10, _int(1), "evaluation episodes per level")
    eval_greedy: bool = _f(False, _BOOL, "greedy actions in evaluation")
    num_validation_levels: int = _f(100, _int(0), "fixed solvable validation levels")
    log: tuple[str, ...] = _f((), _STRS, "extra loggers: tensorboard, wandb")
    progress: bool = _f(True, _BOOL, "progress bar")
    plot: bool = _f(True, _BOOL, "write plots at the end of training")


FIELDS = {f.name: f for f in dataclasses.fields(ExperimentConfig)}
_PUBLISHED = {}

PRESETS: dict[str, dict[str, Any]] = {
    "maze-dr": dict(curriculum="dr", score="maxmc"),
    "maze-plr": dict(curriculum="plr", score="maxmc"),
    "maze-robust-plr": dict(curriculum="robust-plr", score="maxmc"),
    "maze-accel": dict(curriculum="accel", score="maxmc", num_edits=5),
    "maze-sfl": dict(curriculum="sfl", score="learnability"),
    "maze-archive": dict(curriculum="archive", score="maxmc"),
}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def allowed(name: str) -> str:
    """Human description of a field's allowed values."""
    check = FIELDS[name].metadata["check"]
    kind = check[0]
    if kind == "int":
        _, lo, hi = check
        return (
            f"an integer >= {lo} (at most {INT_MAX})"
            if hi is None
            else f"an integer in [{lo}, {hi}]"
        )
    if kind == "float":
        _, lo, hi, lo_open = check
        left = f"> {lo}" if lo_open else f">= {lo}"
        return (
            f"a number {left}"
            if hi is None
            else f"a number in {'(' if lo_open else '['}{lo}, {hi}]"
        )
    if kind == "choice":
        return "one of " + ", ".join(check[1])
    if kind == "network":
        return "one of " + ", ".join(_network_names())
    if kind == "bool":
        return "true or false"
    if kind == "strs":
        return "a comma-separated list"
    return "a string"


def parse_value(name: str, text: Any) -> Any:
    """Convert and check one override; :class:`ConfigError` names the field and allowed values."""
    if name not in FIELDS:
        raise unknown_field(name)
    check = FIELDS[name].metadata["check"]
    kind = check[0]
    bad = lambda: ConfigError(f"{flag(name)}: invalid value {text!r}; allowed: {allowed(name)}")
    if kind == "int":
        if isinstance(text, bool):
            raise bad()
        try:
            v = int(text) if not isinstance(text, float) or float(text).is_integer() else None
        except (TypeError, ValueError):
            v = None
        if v is None:
            raise bad()
        _, lo, hi = check
        if v < lo or v > (INT_MAX if hi is None else hi):
            raise bad()
        return v
    if kind == "float":
        try:
            v = float(text)
        except (TypeError, ValueError):
            raise bad() from None
        _, lo, hi, lo_open = check
        if not math.isfinite(v) or v < lo or (lo_open and v <= lo) or (hi is not None and v > hi):
            raise bad()
        return v
    if kind == "choice":
        if text not in check[1]:
            raise bad()
        return text
    if kind == "network":
        if text not in _network_names():
            raise bad()
        return text
    if kind == "bool":
        if isinstance(text, bool):
            return text
        t = str(text).strip().lower()
        if t in ("1", "true", "yes", "on"):
            return True
        if t in ("0", "false", "no", "off"):
            return False
        raise bad()
    if kind == "strs":
        if isinstance(text, list | tuple):
            return tuple(str(x) for x in text if str(x))
        return tuple(s for s in str(text).split(",") if s)
    return str(text)


def unknown_field(name: str) -> ConfigError:
    close = difflib.get_close_matches(name, list(FIELDS), n=3)
    hint = f" (did you mean {', '.join(flag(c) for c in close)}?)" if close else ""
    return ConfigError(
        f"unknown option {flag(name)}{hint}; allowed options: "
        + ", ".join(flag(f) for f in FIELDS if f != "preset")
    )


def unknown_preset(name: str) -> ConfigError:
    return ConfigError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Check every field and the cross-field constraints."""
    for name in FIELDS:
        if name != "preset":
            parse_value(name, getattr(cfg, name))
    if cfg.num_envs % cfg.num_minibatches:
        raise ConfigError(
            f"--num-minibatches {cfg.num_minibatches} must divide --num-envs {cfg.num_envs}"
        )
    if cfg.agent_view_size % 2 != 1:
        raise ConfigError(f"--agent-view-size: must be odd, got {cfg.agent_view_size}")
    if cfg.n_walls > cfg.maze_size**2 - 2:
        raise ConfigError(
            f"--n-walls: must be <= maze_size^2 - 2 = {cfg.maze_size**2 - 2}, got {cfg.n_walls}"
        )
    if cfg.sfl_num_keep > cfg.sfl_num_sample:
        raise ConfigError("--sfl-num-keep must be <= --sfl-num-sample")
    if cfg.archive_new_prob + cfg.archive_replay_prob > 1.0:
        raise ConfigError("--archive-new-prob + --archive-replay-prob must be <= 1")
    for b in cfg.log:
        if b not in ("tensorboard", "wandb"):
            raise ConfigError(f"--log: unknown logger {b!r}; allowed: tensorboard, wandb")
    return cfg


def make_config(preset: str, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """The preset's config with typed ``overrides`` (field name -> value or string)."""
    if preset not in PRESETS:
        raise unknown_preset(preset)
    values = dict(PRESETS[preset])
    for k, v in (overrides or {}).items():
        values[k] = parse_value(k, v)
    return validate(ExperimentConfig(preset=preset, **values))


def config_from_dict(d: dict[str, Any]) -> ExperimentConfig:
    """Rebuild a config from ``config.json`` (unknown keys are an error naming them)."""
    d = dict(d)
    values = {}
    for k, v in d.items():
        if k not in FIELDS:
            raise unknown_field(k)
        values[k] = v if k == "preset" else parse_value(k, v)
    return validate(ExperimentConfig(**values))


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["log"] = list(cfg.log)
    return d


# ----------------------------------------------------------------------------- building


class Experiment(NamedTuple):
    config: ExperimentConfig
    env: Any
    space: Any
    curriculum: Any
    student: Any
    trainer: Any
    maze_config: Any
    eval_sets: dict[str, tuple[tuple[str, ...], Any]]  # set -> (level names, batched levels)


def maze_config(cfg: ExperimentConfig):
    from envs.maze import MazeConfig

    return MazeConfig(
        height=cfg.maze_size,
        width=cfg.maze_size,
        n_walls=cfg.n_walls,
        agent_view_size=cfg.agent_view_size,
        max_steps=cfg.max_episode_steps,
    )


def build_curriculum(cfg: ExperimentConfig, space, mcfg):
    import curricula
    from envs.maze import make_maze_space

    buf = curricula.LevelSamplerConfig(
        capacity=cfg.buffer_capacity,
        prioritization=cfg.prioritization,
        duplicate_check=cfg.duplicate_check,
    )
    buf_params = curricula.LevelSamplerParams(
        replay_prob=cfg.replay_prob,
        staleness_coef=cfg.staleness_coef,
        temperature=cfg.temperature,
        min_fill=cfg.min_fill,
        topk_k=cfg.topk_k,
    )
    c = cfg.curriculum
    b = cfg.num_envs
    if c == "dr":
        return curricula.make_dr(space, b)
    if c in ("plr", "robust-plr"):
        pc = curricula.PLRConfig(buffer=buf, robust=c == "robust-plr", parallel=cfg.parallel)
        return curricula.make_plr(space, b, pc)._replace(default_params=buf_params)
    if c == "accel":
        empty = None
        if cfg.accel_from_empty:
            empty = make_maze_space(dataclasses.replace(mcfg, n_walls=0)).sample
        ac = curricula.ACCELConfig(
            buffer=buf,
            parallel=cfg.parallel,
            num_edits=cfg.num_edits,
            generate_from_empty=cfg.accel_from_empty,
            empty_level=empty,
        )
        return curricula.make_accel(space, b, ac)._replace(default_params=buf_params)
    if c == "sfl":
        sc = curricula.SFLConfig(
            num_sample=cfg.sfl_num_sample,
            num_keep=cfg.sfl_num_keep,
            refresh_every=cfg.sfl_refresh_every,
            eval_episodes=cfg.sfl_eval_episodes,
        )
        cur = curricula.make_sfl(space, b, sc)
        return cur._replace(default_params=curricula.SFLParams(buffer_prob=cfg.sfl_buffer_prob))
    if c == "archive":
        ac = curricula.maze_archive_config(
            mcfg.height,
            mcfg.width,
            bins=(cfg.archive_bins, cfg.archive_bins),
            num_edits=cfg.archive_num_edits,
        )
        cur = curricula.make_archive(space, b, ac)
        return cur._replace(
            default_params=curricula.ArchiveParams(
                new_prob=cfg.archive_new_prob, replay_prob=cfg.archive_replay_prob
            )
        )
    raise ConfigError(f"--curriculum: unknown {c!r}; allowed: {', '.join(CURRICULA)}")


def eval_sets(cfg: ExperimentConfig, mcfg) -> dict[str, tuple[tuple[str, ...], Any]]:
    """Default evaluation sets: the 8 prefabs (when they fit the maze size) and a fixed set of
    ``num_validation_levels`` solvable levels from the training generator (fixed key 0).
    Cached per (maze config, count): the same sets are the same objects within a process."""
    return _eval_sets(mcfg, cfg.num_validation_levels)


@functools.lru_cache(maxsize=16)
def _eval_sets(mcfg, n: int) -> dict[str, tuple[tuple[str, ...], Any]]:
    import jax

    from envs.maze import make_maze_space, prefab_levels, stack_levels

    out = {}
    if mcfg.height >= 13 and mcfg.width >= 13:
        pre = prefab_levels(mcfg)
        out["prefab"] = (tuple(pre), stack_levels(list(pre.values())))
    if n > 0:
        vspace = make_maze_space(dataclasses.replace(mcfg, only_solvable=True))
        levels = jax.jit(lambda k: vspace.sample_batch(k, n))(jax.random.key(0))
        out["validation"] = (tuple(f"validation-{i}" for i in range(n)), levels)
    return out


def build(cfg: ExperimentConfig, *, step_hook: Callable | None = None) -> Experiment:
    """Environment, level space, curriculum, student and trainer of an experiment."""
    from envs.maze import MazeEnv, make_maze_space
    from ued.networks import NETWORK_PRESETS, make_actor_critic
    from ued.ppo import PPOConfig, PPOParams
    from ued.train import TrainConfig, make_train

    validate(cfg)
    mcfg = maze_config(cfg)
    env = MazeEnv(mcfg)
    space = make_maze_space(mcfg)
    cur = build_curriculum(cfg, space, mcfg)
    student = make_actor_critic(NETWORK_PRESETS[cfg.network](), env.action_space().n)
    tc = TrainConfig(
        num_envs=cfg.num_envs,
        num_steps=cfg.num_steps,
        num_updates=cfg.num_updates,
        ppo=PPOConfig(
            num_epochs=cfg.num_epochs,
            num_minibatches=cfg.num_minibatches,
            max_grad_norm=cfg.max_grad_norm,
            optimizer=cfg.optimizer,
        ),
        # SFL's success-rate probe: one episode limit of steps per evaluation copy
        evaluate_steps=cfg.max_episode_steps,
    )
    pp = PPOParams(
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        clip_eps=cfg.clip_eps,
        vf_coef=cfg.vf_coef,
        ent_coef=cfg.ent_coef,
        lr=cfg.lr,
        lr_anneal_updates=cfg.lr_anneal_updates,
    )
    trainer = make_train(
        tc, env, space, cur, student, cfg.score, ppo_params=pp, step_hook=step_hook
    )
    return Experiment(cfg, env, space, cur, student, trainer, mcfg, eval_sets(cfg, mcfg))


__all__ = [
    "CURRICULA",
    "ConfigError",
    "Experiment",
    "ExperimentConfig",
    "FIELDS",
    "PRESETS",
    "allowed",
    "build",
    "config_from_dict",
    "config_to_dict",
    "eval_sets",
    "make_config",
    "parse_value",
    "validate",
]
