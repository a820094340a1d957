"""The ``samplr`` kind: the aleatoric mazes with DR, robust PLR or SAMPLR. Host only.

Presets (``docs/samplr.md`` gives the reasons). All: 32 envs x 64 steps, 5 seeds vmapped in
one program, egocentric observation (``make_aleatoric_maze(name, egocentric=True)``), PPO lr
3e-4 constant, gamma 0.99, lambda 0.95, 4 epochs, 2 minibatches, entropy 0.01; buffer 1000,
replay 0.8, staleness 0.3, min fill 0.5; robust PLR and SAMPLR score with MaxMC.

* ``gamble-dr``, ``gamble-robust-plr``, ``gamble-samplr``: generator with both exits at least 4
  moves from the start (``--min-exit-distance 4``), student flatten / Dense 64 / LSTM 64 /
  heads 32 (``--core lstm --core-size 64``), rank temperature 1.0, 2000 updates (4.1M env
  steps per seed), a checkpoint every 250 updates.
* ``lava-dr``, ``lava-robust-plr``, ``lava-samplr``: the template without lava below the
  corridor (``--lava-below false``), feed-forward student (flatten, Dense 64, heads 32), rank
  temperature 0.3, 1500 updates (3.07M env steps per seed).

The presets are ``openued train`` presets (``openued train gamble-samplr --num-updates N``;
every :class:`SamplrConfig` field is an option); ``openued eval RUN_DIR`` (the ground-truth
evaluation, :func:`experiments.kinds.samplr_report.samplr_eval`) and ``openued plot RUN_DIR``
work on their runs (their ``config.json`` declares ``"kind": "samplr"``). The curricula are the
registered ones (``ued.registry.CURRICULA``: ``dr``, ``robust-plr``, ``samplr``). Figures of
several runs and the results table: :mod:`experiments.kinds.samplr_report`.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from curricula.buffer import BufferOptions
from experiments import options as O
from experiments.kinds import Built, Kind, config_dict, from_stored, host_config, register_kind
from experiments.kinds.samplr_report import (  # noqa: F401 (the kind's report, re-exported)
    TABLE_BEGIN,
    TABLE_END,
    acceptance_checks,
    plot_runs,
    results_table,
    samplr_eval,
    write_table,
)

ENVS = ("gamble-maze", "lava-maze")
METHODS = ("dr", "robust-plr", "samplr")


_f = O.option
# the level buffer's options that the presets leave at their registered defaults
_BUFFER = O.option_fields(BufferOptions)


@dataclasses.dataclass(frozen=True)
class SamplrConfig:
    """One SAMPLR-experiment run (flat, JSON-serialisable). Validated on construction: every
    field as its ``openued train`` option (:class:`experiments.options.ConfigError`, a
    ``ValueError``, naming the flag and the allowed values)."""

    kind: str = _f("samplr", O.choice("samplr"), "what the run trains", cli=False)
    preset: str = _f("custom", O.STR, "preset the run started from", cli=False)
    env: str = _f("gamble-maze", O.choice(*ENVS), "aleatoric maze (envs.aleatoric)")
    egocentric: bool = _f(False, O.BOOL, "policy sees the grid from the agent (recentred, rotated)")
    min_exit_distance: int = _f(
        0, O.int_(0), "gamble maze: generator keeps levels with both exits at least this far"
    )
    lava_below: bool = _f(
        True, O.BOOL, "lava maze: lava also below the corridor (false: only above it)"
    )
    curriculum: str = _f("samplr", O.choice(*METHODS), "curriculum algorithm")
    score: str = _f("maxmc", O.choice("maxmc", "pvl"), "level score function (ued.scores)")
    num_envs: int = _f(32, O.int_(1), "parallel environments (levels per update)")
    num_steps: int = _f(64, O.int_(1), "rollout steps per update")
    num_updates: int = _f(
        1500, O.int_(0), "total train updates of the run", aliases={"--updates": None}
    )
    num_seeds: int = _f(5, O.int_(1), "seeds trained together (vmapped in one program)")
    seed: int = _f(0, O.int_(0), "random seed (seed i of --num-seeds K uses seed + i)")
    lr: float = _f(3e-4, O.float_(0, None, True), "learning rate (constant)")
    gamma: float = _f(0.99, O.float_(0.0, 1.0), "discount")
    gae_lambda: float = _f(0.95, O.float_(0.0, 1.0), "GAE lambda")
    num_epochs: int = _f(4, O.int_(1), "PPO epochs per batch")
    num_minibatches: int = _f(2, O.int_(1), "PPO minibatches per epoch (must divide num_envs)")
    ent_coef: float = _f(0.01, O.float_(0.0), "entropy bonus coefficient")
    core: str = _f(
        "none", O.choice("none", "lstm"), "student core (flatten, Dense 64, core, heads 32)"
    )
    core_size: int = _f(64, O.int_(1), "hidden size of the student's recurrent core (core lstm)")
    buffer_capacity: int = _f(1000, O.int_(1), "level buffer capacity")
    replay_prob: float = _f(0.8, O.float_(0.0, 1.0), "probability of a replay update")
    staleness_coef: float = _f(0.3, O.float_(0.0, 1.0), "staleness mixing coefficient")
    temperature: float = _f(0.3, O.float_(0, None, True), "rank prioritisation temperature")
    min_fill: float = _f(0.5, O.float_(0.0, 1.0), "buffer fill share before replay may happen")
    prioritization: str = dataclasses.field(
        default="rank", metadata=_BUFFER["prioritization"].metadata
    )
    topk_k: int = dataclasses.field(default=4, metadata=_BUFFER["topk_k"].metadata)
    duplicate_check: bool = dataclasses.field(
        default=True, metadata=_BUFFER["duplicate_check"].metadata
    )
    parallel: bool = _f(False, O.BOOL, "parallel robust PLR (all branches in every update)")
    fictitious: str = _f(
        "all", O.choice("all", "replay"), "SAMPLR: fictitious transitions on all or replay updates"
    )
    devices: int | None = _f(
        None, O.optional(O.int_(1), "auto"),
        "local devices to shard the seed axis over (default: the most that divide --num-seeds)",
    )  # fmt: skip
    chunk_size: int = _f(50, O.int_(1), "updates per compiled chunk (logging granularity)")
    checkpoint_every: int = _f(0, O.int_(0), "updates between checkpoints (0: only at the end)")
    keep_checkpoints: int = _f(1, O.int_(1), "checkpoints kept")
    out: str = _f("", O.STR, "run directory (default runs/<preset>-<time>)", aliases={"-o": None})
    log: tuple[str, ...] = _f((), O.strs("tensorboard", "wandb"), "extra loggers")
    progress: bool = _f(True, O.BOOL, "progress bar")
    plot: bool = _f(True, O.BOOL, "write plots (RUN_DIR/plots) at the end of training")

    def __post_init__(self) -> None:
        if isinstance(self.log, list):
            object.__setattr__(self, "log", tuple(self.log))
        OPTIONS.check(self)
        if self.kind != "samplr":
            raise O.ConfigError(f"kind: a SAMPLR experiment has kind 'samplr', got {self.kind!r}")
        if self.num_envs % self.num_minibatches:
            raise O.ConfigError(
                f"--num-minibatches {self.num_minibatches} must divide --num-envs {self.num_envs}"
            )
        if self.min_exit_distance and self.env != "gamble-maze":
            raise O.ConfigError("--min-exit-distance applies to the gamble maze only")
        if not self.lava_below and self.env != "lava-maze":
            raise O.ConfigError("--lava-below false applies to the lava maze only")


# what a resumed run may change: its length and options that only affect execution
RESUMABLE = frozenset(
    {"num_updates", "chunk_size", "checkpoint_every", "keep_checkpoints", "progress", "log", "plot",
     "devices"}
)  # fmt: skip


def _preset(env: str, method: str) -> dict[str, Any]:
    p: dict[str, Any] = dict(env=env, curriculum=method, score="maxmc", egocentric=True)
    if env == "lava-maze":
        # the template whose best route flips between the prior mean (0.2) and a belief shifted
        # to slippery levels (docs/samplr.md, "Lava maze: can it show the bias?")
        p.update(lava_below=False)
    if env == "gamble-maze":
        # the pilots' design (docs/samplr.md, "Making the effect measurable")
        p.update(
            min_exit_distance=4,
            core="lstm",
            core_size=64,
            temperature=1.0,
            num_updates=2000,
            checkpoint_every=250,
        )
    return p


PRESETS: dict[str, dict[str, Any]] = {
    f"{e.split('-')[0]}-{m}": _preset(e, m) for e in ENVS for m in METHODS
}
OPTIONS = O.Options(
    SamplrConfig,
    "openued train",
    "Train on an aleatoric maze with DR, robust PLR or SAMPLR (presets: "
    + ", ".join(PRESETS)
    + ").",
    positionals=(("PRESET", "one of: " + ", ".join(PRESETS)),),
)


def make_config(preset: str, **overrides) -> SamplrConfig:
    """The preset's :class:`SamplrConfig` with keyword overrides (values or strings)."""
    if preset not in PRESETS:
        raise O.ConfigError(f"unknown SAMPLR preset {preset!r}; allowed: {', '.join(PRESETS)}")
    values = {k: OPTIONS.parse_value(k, v) for k, v in overrides.items()}
    return SamplrConfig(preset=preset, **{**PRESETS[preset], **values})


def config_from_dict(d: dict[str, Any]) -> SamplrConfig:
    """A run's stored config (``config.json``); an unknown key is an error naming it."""
    d = {k: v for k, v in d.items() if k != "experiment"}  # runs written before ``kind``
    d.setdefault("kind", "samplr")
    return from_stored(OPTIONS, SamplrConfig, d, stored=("preset", "kind"))


def config_to_dict(cfg: SamplrConfig) -> dict[str, Any]:
    return config_dict(cfg)


@dataclasses.dataclass(frozen=True)
class SamplrExperiment:
    config: SamplrConfig
    env: Any
    space: Any
    curriculum: Any
    student: Any
    trainer: Any


def build_experiment(cfg: SamplrConfig) -> SamplrExperiment:
    """Env, level space, curriculum (the registered one; SAMPLR's carries its step hook, DR's
    and robust PLR's get the aleatoric diagnostics), student (flatten, Dense 64, ``cfg.core``,
    heads 32) and trainer."""
    import curricula  # noqa: F401 (registers the curricula)
    from curricula.samplr import with_aleatoric_diagnostics
    from envs.aleatoric import make_aleatoric_maze
    from ued.networks import NetworkConfig, make_actor_critic
    from ued.ppo import PPOConfig, PPOParams
    from ued.registry import CURRICULA, CurriculumContext
    from ued.train import TrainConfig, make_train

    env, space = make_aleatoric_maze(
        cfg.env,
        egocentric=cfg.egocentric,
        min_exit_distance=cfg.min_exit_distance,
        lava_below=cfg.lava_below,
    )
    student = make_actor_critic(
        NetworkConfig(
            encoder="flat", torso=(64,), core=cfg.core, core_size=cfg.core_size, head_size=32
        ),
        env.action_space().n,
    )
    ppo = PPOConfig(num_epochs=cfg.num_epochs, num_minibatches=cfg.num_minibatches)
    pp = PPOParams(
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        ent_coef=cfg.ent_coef,
        lr=cfg.lr,
        lr_anneal_updates=0,
    )
    ctx = CurriculumContext(space, env, cfg.num_envs, cfg, student, ppo, pp)
    cur = CURRICULA.get(cfg.curriculum).make(ctx)
    if cfg.curriculum != "samplr":
        cur = with_aleatoric_diagnostics(cur, space)
    tc = TrainConfig(num_envs=cfg.num_envs, num_steps=cfg.num_steps, num_updates=cfg.num_updates,
                     ppo=ppo)  # fmt: skip
    trainer = make_train(tc, env, space, cur, student, cfg.score, ppo_params=pp)
    return SamplrExperiment(cfg, env, space, cur, student, trainer)


def build(cfg: SamplrConfig, run_dir: Any = None) -> Built:
    """The run of ``cfg`` for the one driver: every seed in one vmapped program (a leading seed
    axis even for one seed, as the evaluation expects)."""
    from ued.host import plan_devices

    exp = build_experiment(cfg)
    host = host_config(
        cfg, cfg.num_updates, checkpoint_every=cfg.checkpoint_every or O.INT_MAX
    )  # 0: only the checkpoint at the end
    return Built(
        trainer=exp.trainer,
        num_units=cfg.num_updates,
        seed=cfg.seed,
        num_seeds=cfg.num_seeds,
        batched=True,
        host=host,
        experiment=exp,
        devices=plan_devices(cfg.devices, cfg.num_seeds),
    )


def train(cfg: SamplrConfig, write=None, run_dir: str | Path | None = None) -> Path:
    """Train ``cfg`` into a new run directory (``run_dir``, else ``cfg.out``, else
    ``runs/<preset>-<time>``) through the one driver; returns its path. Host."""
    from experiments.kinds import train_run

    out = Path(run_dir or cfg.out or KIND.default_out(cfg))
    train_run(KIND, cfg, out, False, write=write)
    return out


# ----------------------------------------------------------------------------- the kind


def _train_options(preset: str | None, argv) -> O.Options:
    return OPTIONS


def _evaluate(run_dir: Path, opts: dict) -> dict:
    opts = {**O.defaults_of(EvalOptions), **opts}
    out = samplr_eval(run_dir, num_layouts=opts["layouts"])
    out["run_dir"] = str(run_dir)
    return out


def _figures(run_dir: Path, opts: dict) -> list:
    return plot_runs([run_dir], opts.get("out") or Path(run_dir) / "plots")


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    layouts: int = O.option(64, O.int_(1), "held-out gamble-maze layouts")


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    out: str = O.option("", O.STR, "output directory", default_text="RUN_DIR/plots")


KIND = register_kind(
    Kind(
        name="samplr",
        title="SAMPLR presets (aleatoric mazes; evaluated on the ground truth)",
        length="num_updates",
        unit="update",
        presets=lambda: {
            p: f"{v['env']} (aleatoric), "
            + {"dr": "domain randomisation", "robust-plr": "robust PLR",
               "samplr": "SAMPLR (fictitious transitions from the prior)"}[v["curriculum"]]
            for p, v in PRESETS.items()
        },  # fmt: skip
        train_options=_train_options,
        make_config=lambda preset, overrides: make_config(preset, **overrides),
        from_dict=config_from_dict,
        to_dict=config_to_dict,
        validate=lambda cfg: SamplrConfig(**dataclasses.asdict(cfg)),
        resumable=RESUMABLE,
        build=build,
        evaluate=_evaluate,
        eval_options=O.Options(
            EvalOptions,
            "openued eval",
            "Ground-truth evaluation of a SAMPLR run; the last stdout line is one JSON object.",
            positionals=(("RUN_DIR", "a run directory written by openued train"),),
        ),
        figures=_figures,
        plot_options=O.Options(
            PlotOptions,
            "openued plot",
            "The aleatoric parameter of the buffer's levels against the prior, and the return.",
            positionals=(("RUN_DIR", "a run directory written by openued train"),),
        ),
        default_out=lambda cfg: f"runs/{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}",
    )
)


