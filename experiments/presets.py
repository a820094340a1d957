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

PAIRED presets (``maze-paired``, ``maze-minimax``, ``maze-population-paired``; jaxued
``maze_paired.py`` / minimax ``maze/paired``, see ``curricula.paired``): the same student PPO
(lr 1e-4, gamma 0.995, 32 envs x 256 steps; the protagonist is ``make_train``'s student and the
antagonists get the same network and PPO settings), a teacher trained by PPO with the same
settings and its own ``--teacher-lr`` 1e-4, 50 teacher steps (goal, direction, agent, then 47
wall toggles), noise dimension 50 and ``curricula.paired.TEACHER_NETWORK`` (``--teacher-network
paired``: conv 128 3x3, time embedding 10, LSTM 256, heads 32). The student's env is the 13x13
maze; its generator's 25 blocks (``--n-walls``) only draw the validation levels: the teacher's
wall budget ``--teacher-max-walls`` is none by default (jaxued: up to 47 walls from its 47
toggles; minimax bounds its adversary by its ``n_walls``, which ``--teacher-max-walls 25`` gives).
Students: 2 for ``maze-paired`` (protagonist + antagonist; 1 with ``--true-regret``), 1 for
``maze-minimax``, 3 for ``maze-population-paired`` (``--num-students``). These runs log PAIRED's
metrics under their plain names (``regret``, ``teacher_reward``, ``protagonist_return``,
``antagonist_return``, ``teacher_entropy``, ``teacher_loss``, ``antagonist_loss``,
``level_path_length``, ``level_solvable``, ``level_walls``: see :data:`PAIRED_METRICS`) instead
of the ``cur/`` names ``make_train`` gives a curriculum's diagnostics.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from experiments import options as O
from experiments.options import INT_MAX, ConfigError

CURRICULA = (
    "dr", "plr", "robust-plr", "accel", "sfl", "archive", "paired", "minimax", "population-paired"
)  # fmt: skip
# --curriculum -> curricula.PAIREDConfig.variant
PAIRED_VARIANTS = {"paired": "paired", "minimax": "minimax", "population-paired": "population"}
# PAIRED's own diagnostics (curricula.paired), logged by ``openued train`` without the ``cur/``
# prefix. level_path_length: mean BFS shortest path (steps) over the teacher's solvable levels of
# the update (nan when none is solvable); level_solvable: share of them that are solvable;
# level_walls: mean wall count.
PAIRED_METRICS = (
    "regret",
    "teacher_reward",
    "protagonist_return",
    "antagonist_return",
    "teacher_entropy",
    "teacher_loss",
    "antagonist_loss",
    "level_path_length",
    "level_solvable",
    "level_walls",
)
SCORES = ("maxmc", "pvl", "l1_value_loss", "neg_return", "learnability", "true_regret")


def _f(default, check, help_: str, **kw):
    return O.option(default, check, help_, **kw)


_int = O.int_
_float = O.float_
_choice = O.choice
_BOOL = O.BOOL
_STR = O.STR
_STRS = O.STRS


def _network_names():
    from ued.networks import NETWORK_PRESETS

    return tuple(NETWORK_PRESETS)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything one ``openued train`` run needs (flat, JSON-serialisable)."""

    kind: str = _f("maze", _choice("maze"), "what the run trains (its command module)", cli=False)
    preset: str = _f("custom", _STR, "preset the run started from", cli=False)
    curriculum: str = _f("robust-plr", _choice(*CURRICULA), "curriculum algorithm")
    score: str = _f("maxmc", _choice(*SCORES), "level score function (ued.scores)")
    # sizes
    num_envs: int = _f(32, _int(1), "parallel environments (levels per update)")
    num_steps: int = _f(256, _int(1), "rollout steps per update")
    num_updates: int = _f(
        30_000, _int(0), "total train updates of the run", aliases={"--updates": None}
    )
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
    network: str = _f(
        "maze", _choice(_network_names), "student network (ued.networks.NETWORK_PRESETS)"
    )
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
    # PAIRED, the minimax adversary and population PAIRED (curricula.paired)
    num_students: int | None = _f(
        None,
        O.optional(_int(1, 64)),
        "PAIRED: students including the protagonist (paired: 2; population-paired: >= 2; "
        "minimax: extra students only report the estimated regret)",
        default_text="2 for paired, 1 for minimax and --true-regret, 3 for population",
    )
    true_regret: bool = _f(
        False,
        _BOOL,
        "PAIRED (--curriculum paired): reward the teacher with the true regret (optimal return "
        "- the protagonist's mean return) instead of the antagonist's estimate",
    )
    clip_regret: bool = _f(False, _BOOL, "PAIRED: clip the estimated regret at 0 (minimax)")
    teacher_lr: float = _f(
        1e-4, _float(0, None, True), "PAIRED: the teacher's learning rate (decays like --lr)"
    )
    noise_dim: int = _f(50, _int(0, 4096), "PAIRED: dimension of the teacher's noise input")
    teacher_steps: int = _f(
        50, _int(3, 10_000), "PAIRED: teacher steps per level (goal, direction, agent, walls)"
    )
    teacher_max_walls: int | None = _f(
        None,
        O.optional(_int(0)),
        "PAIRED: the teacher's wall budget (a toggle adding a wall beyond it does nothing)",
    )
    teacher_network: str = _f(
        "paired",
        _choice("paired", "small-ff"),
        "PAIRED: the teacher's network (paired: curricula.paired.TEACHER_NETWORK)",
    )
    # run
    seed: int = _f(0, _int(0), "random seed (seed i of --num-seeds K uses seed + i)")
    num_seeds: int = _f(1, _int(1), "seeds trained together (vmapped in one program)")
    out: str = _f("", _STR, "run directory (default runs/<preset>-<time>)", aliases={"-o": None})
    chunk_size: int = _f(25, _int(1), "updates per compiled chunk (logging granularity)")
    checkpoint_every: int = _f(500, _int(1), "updates between checkpoints")
    keep_checkpoints: int = _f(3, _int(1), "checkpoints kept")
    eval_every: int = _f(250, _int(0), "updates between evaluations (0: only at the end)")
    eval_at_start: bool = _f(
        False, _BOOL, "also evaluate the untrained student (a metrics row at update 0)"
    )
    eval_attempts: int = _f(10, _int(1), "evaluation episodes per level")
    eval_greedy: bool = _f(False, _BOOL, "greedy actions in evaluation")
    num_validation_levels: int = _f(100, _int(0), "fixed solvable validation levels")
    log: tuple[str, ...] = _f((), _STRS, "extra loggers: tensorboard, wandb")
    progress: bool = _f(True, _BOOL, "progress bar")
    plot: bool = _f(True, _BOOL, "write plots at the end of training")


FIELDS = {f.name: f for f in dataclasses.fields(ExperimentConfig)}

PRESETS: dict[str, dict[str, Any]] = {
    "maze-dr": dict(curriculum="dr", score="maxmc"),
    "maze-plr": dict(curriculum="plr", score="maxmc"),
    "maze-robust-plr": dict(curriculum="robust-plr", score="maxmc"),
    "maze-accel": dict(curriculum="accel", score="maxmc", num_edits=5),
    "maze-sfl": dict(curriculum="sfl", score="learnability"),
    "maze-archive": dict(curriculum="archive", score="maxmc"),
    "maze-paired": dict(curriculum="paired", score="maxmc"),
    "maze-minimax": dict(curriculum="minimax", score="maxmc"),
    "maze-population-paired": dict(curriculum="population-paired", score="maxmc", num_students=3),
    # the README's first command: robust PLR on 7x7 mazes, sized so a 2-core CPU shows the
    # validation solve rate rising within a few minutes (an evaluation at update 0 is the
    # untrained baseline)
    "maze-demo": dict(
        curriculum="robust-plr", score="maxmc", maze_size=7, n_walls=6, max_episode_steps=64,
        num_steps=64, num_updates=300, lr=3e-4, lr_anneal_updates=0, network="small-lstm",
        buffer_capacity=256, eval_every=25, eval_at_start=True, num_validation_levels=200,
    ),  # fmt: skip
}


def is_paired(cfg) -> bool:
    """Whether a run (an :class:`ExperimentConfig` or its ``config.json`` dict) trains with a
    PAIRED curriculum: its student is then the protagonist."""
    c = cfg.get("curriculum") if isinstance(cfg, dict) else getattr(cfg, "curriculum", None)
    return c in PAIRED_VARIANTS


OPTIONS = O.Options(
    ExperimentConfig,
    "openued train",
    "Train a maze student with a UED curriculum (presets: " + ", ".join(PRESETS) + ").",
    positionals=(("PRESET", "one of: " + ", ".join(PRESETS)),),
)
flag = O.flag


def allowed(name: str) -> str:
    """Human description of a field's allowed values."""
    return OPTIONS.allowed(name)


def parse_value(name: str, text: Any) -> Any:
    """Convert and check one override; :class:`ConfigError` names the field and allowed values."""
    return OPTIONS.parse_value(name, text)


def unknown_field(name: str) -> ConfigError:
    return OPTIONS.unknown(name)


def unknown_preset(name: str) -> ConfigError:
    return ConfigError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Check every field and the cross-field constraints."""
    OPTIONS.check(cfg)
    if cfg.kind != "maze":
        raise ConfigError(f"kind: a maze experiment has kind 'maze', got {cfg.kind!r}")
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
    if cfg.curriculum in PAIRED_VARIANTS:
        _validate_paired(cfg)
    for b in cfg.log:
        if b not in ("tensorboard", "wandb"):
            raise ConfigError(f"--log: unknown logger {b!r}; allowed: tensorboard, wandb")
    return cfg


def _validate_paired(cfg: ExperimentConfig) -> None:
    c, n = cfg.curriculum, cfg.num_students
    if cfg.true_regret and c != "paired":
        raise ConfigError(f"--true-regret: applies to --curriculum paired, not {c}")
    if c == "paired" and not cfg.true_regret and n not in (None, 2):
        raise ConfigError(
            f"--num-students: --curriculum paired (estimated regret) needs 2 (the protagonist and "
            f"one antagonist), got {n}; use maze-population-paired for more"
        )
    if c == "population-paired" and n is not None and n < 2:
        raise ConfigError(f"--num-students: --curriculum population-paired needs >= 2, got {n}")
    cells = cfg.maze_size**2
    if cfg.teacher_max_walls is not None and cfg.teacher_max_walls > cells - 2:
        raise ConfigError(
            f"--teacher-max-walls: must be <= maze_size^2 - 2 = {cells - 2}, "
            f"got {cfg.teacher_max_walls}"
        )


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
    return validate(OPTIONS.from_dict(ExperimentConfig, dict(d), stored=("preset",)))


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


def paired_config(cfg: ExperimentConfig):
    """The :class:`curricula.PAIREDConfig` of a PAIRED experiment (the students and the teacher
    share the experiment's static PPO settings)."""
    import curricula
    from curricula.paired import TEACHER_NETWORK
    from ued.networks import NETWORK_PRESETS

    ppo = _ppo_config(cfg)
    if cfg.teacher_network == "paired":
        tnet = TEACHER_NETWORK
    else:
        tnet = NETWORK_PRESETS[cfg.teacher_network]()
    return curricula.PAIREDConfig(
        variant=PAIRED_VARIANTS[cfg.curriculum],
        num_students=cfg.num_students,
        true_regret=cfg.true_regret,
        clip_regret=cfg.clip_regret,
        noise_dim=cfg.noise_dim,
        num_steps=cfg.num_steps,
        student_ppo=ppo,
        teacher_ppo=ppo,
        teacher_network=tnet,
    )


def _ppo_config(cfg: ExperimentConfig):
    from ued.ppo import PPOConfig

    return PPOConfig(
        num_epochs=cfg.num_epochs,
        num_minibatches=cfg.num_minibatches,
        max_grad_norm=cfg.max_grad_norm,
        optimizer=cfg.optimizer,
    )


def _ppo_params(cfg: ExperimentConfig):
    from ued.ppo import PPOParams

    return PPOParams(
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        clip_eps=cfg.clip_eps,
        vf_coef=cfg.vf_coef,
        ent_coef=cfg.ent_coef,
        lr=cfg.lr,
        lr_anneal_updates=cfg.lr_anneal_updates,
    )


def build_curriculum(cfg: ExperimentConfig, space, mcfg, *, env=None, student=None):
    """The experiment's curriculum over ``space``. PAIRED curricula also need the students'
    ``env`` and the ``student`` network (the antagonists get the same one)."""
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
    if c in PAIRED_VARIANTS:
        if env is None or student is None:
            raise ValueError(f"build_curriculum: --curriculum {c} needs env= and student=")
        pp = _ppo_params(cfg)
        params = curricula.PAIREDParams(
            student=pp, teacher=pp.replace(lr=cfg.teacher_lr), env=env.default_params
        )
        return curricula.make_paired(env, space, b, student, paired_config(cfg), params=params)
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
    from ued.train import TrainConfig, make_train

    validate(cfg)
    mcfg = maze_config(cfg)
    env = MazeEnv(mcfg)
    paired = cfg.curriculum in PAIRED_VARIANTS
    if paired:  # the teacher's editor: its steps and wall budget
        space = make_maze_space(mcfg, num_edits=cfg.teacher_steps, max_walls=cfg.teacher_max_walls)
    else:
        space = make_maze_space(mcfg)
    student = make_actor_critic(NETWORK_PRESETS[cfg.network](), env.action_space().n)
    cur = build_curriculum(cfg, space, mcfg, env=env, student=student)
    tc = TrainConfig(
        num_envs=cfg.num_envs,
        num_steps=cfg.num_steps,
        num_updates=cfg.num_updates,
        ppo=_ppo_config(cfg),
        # SFL's success-rate probe: one episode limit of steps per evaluation copy
        evaluate_steps=cfg.max_episode_steps,
    )
    trainer = make_train(
        tc, env, space, cur, student, cfg.score, ppo_params=_ppo_params(cfg), step_hook=step_hook
    )
    if paired:
        trainer = plain_paired_metrics(trainer)
    return Experiment(cfg, env, space, cur, student, trainer, mcfg, eval_sets(cfg, mcfg))


def _rename_paired(metrics: dict) -> dict:
    return {
        (k[4:] if k.startswith("cur/") and k[4:] in PAIRED_METRICS else k): v
        for k, v in metrics.items()
    }


def plain_paired_metrics(trainer):
    """``trainer`` (a ``ued.Trainer`` with a PAIRED curriculum) whose ``update``, ``run`` and
    ``train`` give PAIRED's own diagnostics (:data:`PAIRED_METRICS`) under their plain names
    (``regret``, not ``cur/regret``); everything else is unchanged (same keys, same numbers)."""

    def update(state):
        s, m = trainer.update(state)
        return s, _rename_paired(m)

    def run(state, n_updates):
        s, m = trainer.run(state, n_updates)
        return s, _rename_paired(m)

    def train(key):
        s, m = trainer.train(key)
        return s, _rename_paired(m)

    names = tuple(_rename_paired(dict.fromkeys(trainer.metric_names)))
    return trainer._replace(update=update, run=run, train=train, metric_names=names)


__all__ = [
    "CURRICULA",
    "PAIRED_METRICS",
    "PAIRED_VARIANTS",
    "ConfigError",
    "Experiment",
    "INT_MAX",
    "OPTIONS",
    "ExperimentConfig",
    "FIELDS",
    "PRESETS",
    "allowed",
    "build",
    "config_from_dict",
    "config_to_dict",
    "eval_sets",
    "is_paired",
    "make_config",
    "paired_config",
    "plain_paired_metrics",
    "parse_value",
    "validate",
]
