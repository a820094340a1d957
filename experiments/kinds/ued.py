"""The ``ued`` kind: a student trained by any registered curriculum on any registered level
space (``ued.registry``). Host only.

``openued train SPACE --curriculum NAME [--option VALUE ...]``: ``SPACE`` is a registered level
space (``maze``, or one a plugin registers) or one of its presets (aliases such as
``maze-accel`` = ``maze --curriculum accel``; an alias refuses a conflicting ``--curriculum``).
The run's options are composed from what applies to it, and only that:

* :class:`LearnerOptions`: the student's PPO, its network and the sizes of the run;
* :class:`ScoreOptions`: the level score (curricula that take one);
* the level space's own options (its registration's ``options``, e.g. ``MazeOptions``);
* the curriculum's own options (its registration's ``options``, e.g. the level buffer's);
* :class:`RunOptions`: seeds, run directory, chunks, checkpoints, evaluations, loggers.

An option of another curriculum or space is refused, naming where it applies. The defaults are
the space's (``SpaceEntry.defaults``), then the alias preset's values. The run's
``config.json`` is the flat object of these fields plus ``kind``, ``preset``, ``space`` and
``curriculum``; ``openued eval``/``plot`` and ``--resume`` rebuild the run from it.

Evaluation and figures: :mod:`experiments.kinds.ued_report`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from experiments import options as O
from experiments.kinds import Built, Kind, config_dict, from_stored, host_config, register_kind
from experiments.kinds import ued_report as R
from experiments.kinds.ued_learner import (
    LearnerOptions,
    ppo_settings,
    short_rollout_warning,
    train_config,
)
from experiments.kinds.ued_report import eval_summary, make_eval_fn


def _registries():
    """The registries with the built-in curricula and level spaces registered (their packages
    register on import; plugins load on first use)."""
    import curricula  # noqa: F401
    import envs.craftax  # noqa: F401
    import envs.keydoor  # noqa: F401
    import envs.maze  # noqa: F401
    import envs.xland  # noqa: F401
    from ued.registry import CURRICULA, LEVEL_SPACES

    return CURRICULA, LEVEL_SPACES


def _curriculum_names() -> tuple[str, ...]:
    return _registries()[0].names()


def _score_names() -> tuple[str, ...]:
    from ued.scores import SCORES

    return tuple(SCORES)


_f = O.option


@dataclasses.dataclass(frozen=True)
class _Identity:
    kind: str = _f("ued", O.choice("ued"), "what the run trains", cli=False)
    preset: str = _f("custom", O.STR, "preset the run started from", cli=False)
    space: str = _f("maze", O.STR, "the level space (a registered name)", cli=False)
    curriculum: str = _f("robust-plr", O.choice(_curriculum_names), "curriculum algorithm")


@dataclasses.dataclass(frozen=True)
class ScoreOptions:
    score: str = _f("maxmc", O.choice(_score_names), "level score function (ued.scores)")


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Seeds, the run directory and how the host loop runs (chunks, checkpoints, evaluations)."""

    seed: int = _f(0, O.int_(0), "random seed (seed i of --num-seeds K uses seed + i)")
    num_seeds: int = _f(1, O.int_(1), "seeds trained together (vmapped in one program)")
    devices: int | None = _f(None, O.optional(O.int_(1), "auto"), "local devices to shard the "
                             "seed axis over (default: the most that divide --num-seeds)")  # fmt: skip
    sweep: tuple[str, ...] = _f((), O.STRS, "a grid over dynamic fields in one program: --sweep "
                                "FIELD=v1,v2,... (repeat for a grid, crossed with --num-seeds)")  # fmt: skip
    out: str = _f("", O.STR, "run directory (default runs/<preset>-<time>)", aliases={"-o": None})
    chunk_size: int = _f(25, O.int_(1), "updates per compiled chunk (logging granularity)")
    checkpoint_every: int = _f(500, O.int_(1), "updates between checkpoints")
    keep_checkpoints: int = _f(3, O.int_(1), "checkpoints kept")
    eval_every: int = _f(250, O.int_(0), "updates between evaluations (0: only at the end)")
    eval_at_start: bool = _f(
        False, O.BOOL, "also evaluate the untrained student (a metrics row at update 0)"
    )
    eval_attempts: int = _f(10, O.int_(1), "evaluation episodes per level")
    eval_greedy: bool = _f(False, O.BOOL, "greedy actions in evaluation")
    log: tuple[str, ...] = _f((), O.strs("tensorboard", "wandb"), "extra loggers")
    progress: bool = _f(True, O.BOOL, "progress bar")
    plot: bool = _f(True, O.BOOL, "write plots at the end of training")


# what a resumed run may change: its length and options that only affect execution (chunking,
# checkpointing, progress, loggers, plotting); anything else, evaluation settings included,
# changes what the run computes or records
RESUMABLE = frozenset(
    {"num_updates", "chunk_size", "checkpoint_every", "keep_checkpoints", "progress", "log",
     "plot", "eval_at_start", "devices"}
)  # fmt: skip
# fields that do not change the compiled program (runs of one process share it)
_RUN_ONLY = frozenset(
    {"num_updates", "seed", "out", "chunk_size", "checkpoint_every", "keep_checkpoints",
     "eval_every", "eval_at_start", "progress", "log", "plot", "preset"}
)  # fmt: skip


# ----------------------------------------------------------------------------- configs


def _classes(space: str, curriculum: str) -> tuple[type, ...]:
    cur_reg, space_reg = _registries()
    s, c = space_reg.get(space), cur_reg.get(curriculum)
    score = (ScoreOptions,) if c.scores != () else ()
    seen: list[type] = []
    for cls in (_Identity, LearnerOptions, *score, *s.options, *c.options, RunOptions):
        if cls not in seen:
            seen.append(cls)
    return tuple(seen)


@functools.cache
def config_class(space: str, curriculum: str) -> type:
    """The frozen config dataclass of runs of ``curriculum`` on ``space``: the fields of every
    option class that applies (module docstring), with the space's and the curriculum's
    defaults."""
    cur_reg, space_reg = _registries()
    s, c = space_reg.get(space), cur_reg.get(curriculum)
    defaults = {"space": space, "curriculum": curriculum, **s.defaults}
    if c.score is not None and c.scores != ():
        defaults["score"] = c.score
    fields = []
    for cls in _classes(space, curriculum):
        for f in dataclasses.fields(cls):
            default = defaults.get(f.name, O.defaults_of(cls).get(f.name))
            fields.append(
                (f.name, f.type, dataclasses.field(default=default, metadata=f.metadata))
            )
    return dataclasses.make_dataclass("UEDConfig", fields, frozen=True)


def options_for(space: str, curriculum: str, preset: str) -> O.Options:
    """The ``openued train`` options of ``curriculum`` on ``space``."""
    return O.Options(
        config_class(space, curriculum),
        "openued train",
        f"Train a student with a UED curriculum on {space!r} (preset {preset}).",
        positionals=(("PRESET", "a level space or one of its presets"),),
    )


def resolve_preset(name: str) -> tuple[Any, dict]:
    """``(SpaceEntry, the preset's values)`` of a level-space name or one of its presets."""
    _, space_reg = _registries()
    if name in space_reg:
        return space_reg.get(name), {}
    for entry in space_reg:
        if name in entry.presets:
            return entry, dict(entry.presets[name])
    raise O.ConfigError(f"unknown preset {name!r}; allowed: {', '.join(presets())}")


def presets() -> dict[str, str]:
    """Every level space and preset with one line each (for ``--help``)."""
    cur_reg, space_reg = _registries()
    out = {}
    for entry in space_reg:
        out[entry.name] = f"{entry.description} (--curriculum, default {entry.curriculum})"
        for p, values in entry.presets.items():
            c = values.get("curriculum", entry.curriculum)
            desc = cur_reg.get(c).description if c in cur_reg else c
            out[p] = entry.describe_presets.get(p, f"{entry.name}, {desc}")
    return out


def help_lines() -> list[str]:
    """The options of every ``ued`` run, then those of each level space and each curriculum
    (``openued train --help``)."""
    cur_reg, space_reg = _registries()
    opts = lambda *cls: O.Options(cls, "openued train", "").option_lines()  # noqa: E731
    lines = ["", "options of every run of a level space:"]
    lines += opts(_Identity, LearnerOptions, ScoreOptions, RunOptions)
    for s in space_reg:
        if s.options:
            lines += ["", f"options of {s.name} runs:", *opts(*s.options)]
    users: dict[type, list[str]] = {}
    for c in cur_reg:
        for cls in c.options:
            users.setdefault(cls, []).append(c.name)
    for cls, names in users.items():
        lines += ["", f"options of --curriculum {', '.join(names)}:", *opts(cls)]
    return lines


def _peek(argv: Sequence[str], flag: str) -> str | None:
    for i, a in enumerate(argv):
        if a == flag:
            return argv[i + 1] if i + 1 < len(argv) else ""
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _curriculum_of(preset: str, argv: Sequence[str]) -> tuple[Any, dict, str]:
    entry, values = resolve_preset(preset)
    given = _peek(argv, "--curriculum")
    fixed = values.get("curriculum")
    if given is not None and fixed is not None and given != fixed:
        raise O.ConfigError(
            f"--curriculum {given}: preset {preset} is {entry.name} with --curriculum {fixed}; "
            f"use: openued train {entry.name} --curriculum {given}"
        )
    cur = given or fixed or entry.curriculum
    cur_reg, _ = _registries()
    if cur not in cur_reg:
        raise O.ConfigError(
            f"--curriculum: invalid value {cur!r}; allowed: {', '.join(cur_reg.names())}"
        )
    return entry, values, cur


def _where_applies(name: str) -> list[str]:
    """Where an option that does not apply here does apply (curricula, level spaces)."""
    cur_reg, space_reg = _registries()

    def has(classes) -> bool:
        return any(name in O.option_fields(k) for k in classes)

    out = [
        f"--curriculum {c.name}"
        for c in cur_reg
        if has(c.options) or (c.scores != () and has((ScoreOptions,)))
    ]
    return out + [f"{s.name} runs" for s in space_reg if has(s.options)]


def train_options(preset: str | None, argv: Sequence[str]) -> O.Options:
    """The options of ``openued train PRESET ...`` (with the ``--curriculum`` in ``argv``); an
    option of another curriculum or space is refused, naming where it applies."""
    if preset is None:
        raise O.ConfigError("give a preset")
    entry, _, cur = _curriculum_of(preset, argv)
    opts = options_for(entry.name, cur, preset)
    for tok in argv:
        if not tok.startswith("--") or tok in ("--help", "--resume") or tok.startswith("--resume="):
            continue
        spelled = tok.split("=", 1)[0]
        name = spelled[2:].replace("-", "_").removeprefix("no_")
        if spelled in opts._spellings or name in opts.fields:
            continue
        where = _where_applies(name)
        if where:
            raise O.ConfigError(
                f"{spelled}: does not apply to --curriculum {cur} on {entry.name}; it is an "
                f"option of {', '.join(where)}"
            )
    return opts


def validate(cfg: Any) -> Any:
    """Check every field and the cross-field constraints (``ConfigError``)."""
    cur_reg, space_reg = _registries()
    options_for(cfg.space, cfg.curriculum, cfg.preset).check(cfg)
    if cfg.num_envs % cfg.num_minibatches:
        raise O.ConfigError(
            f"--num-minibatches {cfg.num_minibatches} must divide --num-envs {cfg.num_envs}"
        )
    s, c = space_reg.get(cfg.space), cur_reg.get(cfg.curriculum)
    if c.scores and cfg.score not in c.scores:
        raise O.ConfigError(
            f"--score: --curriculum {c.name} takes {', '.join(c.scores)}, got {cfg.score!r}"
        )
    for check in (s.validate, c.validate):
        if check is not None:
            check(cfg)
    if "editable" in c.requires and c.editor is not None and s.check_editor is not None:
        s.check_editor(cfg, c.editor(cfg))
    return cfg


def make_config(preset: str, overrides: dict | None = None) -> Any:
    """The preset's config with typed ``overrides`` (field name -> value or string); the
    ``curriculum`` among them picks the curriculum."""
    overrides = dict(overrides or {})
    argv = ["--curriculum", overrides["curriculum"]] if "curriculum" in overrides else []
    entry, values, cur = _curriculum_of(preset, argv)
    opts = options_for(entry.name, cur, preset)
    for k, v in overrides.items():
        values[k] = opts.parse_value(k, v) if k in opts.fields else v
    values.pop("curriculum", None)
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(opts.classes[0])})
    if unknown:
        raise opts.unknown(unknown[0])
    cls = config_class(entry.name, cur)
    return validate(cls(preset=preset, space=entry.name, curriculum=cur, **values))


def from_dict(d: dict) -> Any:
    """A run's config from its ``config.json`` (current format)."""
    space, cur = d.get("space", "maze"), d.get("curriculum", "robust-plr")
    # a run stored before --hold-updates held each proposal for one update, whatever the
    # space's default is now (Craftax's: 64)
    d = {"hold_updates": 1, **d}
    opts = options_for(space, cur, d.get("preset", "custom"))
    return validate(from_stored(opts, config_class(space, cur), d, ("preset", "space", "kind")))


def to_dict(cfg: Any) -> dict:
    return config_dict(cfg)


def migrate(d: dict) -> dict:
    """A format-1 maze run's ``config.json`` (``"kind": "maze"``, every curriculum's fields)
    as the current format: ``kind`` ``ued`` on ``space`` ``maze``, the fields that apply to
    its curriculum."""
    if d.get("kind") != "maze":
        return d
    cls = config_class("maze", d.get("curriculum", "robust-plr"))
    names = {f.name for f in dataclasses.fields(cls)}
    out = {k: v for k, v in d.items() if k in names and k != "out"}
    out.update(kind="ued", space="maze")
    return out


def default_out(cfg: Any) -> str:
    return f"runs/{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}"


# ----------------------------------------------------------------------------- building


class Experiment(NamedTuple):
    """A run's objects (env, level space, curriculum, student, trainer, evaluation levels)."""

    config: Any
    env: Any
    space: Any
    curriculum: Any
    student: Any
    trainer: Any
    space_build: Any  # ued.registry.SpaceBuild
    curriculum_entry: Any  # ued.registry.CurriculumEntry

    @property
    def eval_sets(self) -> dict:
        return dict(self.space_build.eval_sets)


def plain_metrics(trainer: Any, names: Sequence[str]) -> Any:
    """``trainer`` whose ``update``, ``run`` and ``train`` log the curriculum diagnostics in
    ``names`` under their own names (``regret``, not ``cur/regret``); nothing else changes."""
    names = frozenset(names)

    def rename(m: dict) -> dict:
        return {(k[4:] if k.startswith("cur/") and k[4:] in names else k): v for k, v in m.items()}

    def update(state):
        s, m = trainer.update(state)
        return s, rename(m)

    def run(state, n_updates):
        s, m = trainer.run(state, n_updates)
        return s, rename(m)

    def train(key):
        s, m = trainer.train(key)
        return s, rename(m)

    metric_names = tuple(rename(dict.fromkeys(trainer.metric_names)))
    return trainer._replace(update=update, run=run, train=train, metric_names=metric_names)


def build_experiment(cfg: Any) -> Experiment:
    """Environment, level space, curriculum, student and trainer of a run's config."""
    from ued.networks import NETWORK_PRESETS, make_actor_critic
    from ued.registry import CurriculumContext
    from ued.train import make_train

    cur_reg, space_reg = _registries()
    s, c = space_reg.get(cfg.space), cur_reg.get(cfg.curriculum)
    editor = c.editor(cfg) if "editable" in c.requires and c.editor is not None else None
    sb = s.build(cfg, editor)
    space, env = sb.space, sb.env
    if "editable" in c.requires and not space.editable:
        raise O.ConfigError(
            f"--curriculum {c.name}: builds levels edit by edit and needs an editable level "
            f"space; {s.name!r} is not (ued.LevelSpace's editable fields)"
        )
    if "aleatoric" in c.requires and space.aleatoric is None:
        raise O.ConfigError(
            f"--curriculum {c.name}: needs a level space with aleatoric parameters; "
            f"{s.name!r} has none"
        )
    student = sb.student
    if student is None:
        student = make_actor_critic(NETWORK_PRESETS[cfg.network](), env.action_space().n)
    ppo, ppo_params = ppo_settings(cfg)
    ctx = CurriculumContext(space, env, cfg.num_envs, cfg, student, ppo, ppo_params, sb)
    cur = c.make(ctx)
    if tuple(cur.branches) != tuple(c.branches):
        raise ValueError(
            f"curriculum {c.name!r}: its registration names the branches {c.branches} but the "
            f"curriculum it makes logs {cur.branches}"
        )
    tc = train_config(cfg, ppo, sb.episode_limit)
    score = getattr(cfg, "score", c.score or "maxmc")
    trainer = make_train(tc, env, space, cur, student, score, ppo_params=ppo_params)
    if c.plain_metrics:
        trainer = plain_metrics(trainer, c.plain_metrics)
    return Experiment(cfg, env, space, cur, student, trainer, sb, c)


def _program_key(cfg: Any) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in to_dict(cfg).items() if k not in _RUN_ONLY))


_PROGRAMS: dict = {}


def experiment(cfg: Any) -> tuple[Experiment, tuple | None, Any]:
    """``(experiment, jitted (init, run), level snapshot fn)`` of ``cfg``, cached per process
    by the fields that shape the program (repeated and resumed runs compile once)."""
    from experiments.kinds.ued_sweep import num_lanes
    from ued.host import jit_trainer, make_level_snapshot, plan_devices
    from ued.sweep import sweep_trainer

    key = _program_key(cfg)
    hit = _PROGRAMS.get(key)
    if hit is not None:
        exp, programs, snap = hit
        return exp._replace(config=cfg), programs, snap
    lanes = num_lanes(cfg)
    mesh = plan_devices(cfg.devices, lanes).mesh()  # refused before anything is built
    exp = build_experiment(cfg)
    trainer = sweep_trainer(exp.trainer) if cfg.sweep else exp.trainer
    batched = lanes > 1 or bool(cfg.sweep)
    programs = jit_trainer(trainer, lanes, batched=batched, mesh=mesh)
    snap = make_level_snapshot(exp.curriculum, exp.space, batched=batched)
    _PROGRAMS[key] = (exp, programs, snap)
    return exp, programs, snap


def build(cfg: Any, run_dir: Any = None) -> Built:
    """The run of ``cfg`` for the one driver: the trainer, its evaluation at each evaluation
    unit (solve rates on the space's held-out levels) and level snapshots."""
    import jax

    from experiments.kinds.ued_sweep import num_lanes, sweep_lanes
    from ued.host import plan_devices
    from ued.sweep import sweep_trainer

    exp, programs, snapshot = experiment(cfg)
    lanes = num_lanes(cfg)
    keys, split = sweep_lanes(cfg, exp.trainer, validate) if cfg.sweep else (None, None)
    ev = make_eval_fn(exp, lanes)
    evaluate = None
    if ev is not None:

        def evaluate(state):
            key = jax.random.fold_in(jax.random.key(cfg.seed), 7919)
            return eval_summary(ev(key, state.student.params))

    short = short_rollout_warning(cfg, int(exp.space_build.episode_limit))
    warnings = [] if short is None else [short]
    return Built(
        trainer=sweep_trainer(exp.trainer) if cfg.sweep else exp.trainer,
        num_units=cfg.num_updates,
        seed=cfg.seed,
        num_seeds=lanes,
        batched=lanes > 1 or bool(cfg.sweep),
        host=host_config(cfg, cfg.num_updates),
        evaluate=evaluate,
        snapshot=snapshot,
        programs=programs,
        experiment=exp,
        warnings=tuple(warnings),
        devices=plan_devices(cfg.devices, lanes),
        keys=keys,
        split_rows=split,
    )


KIND = register_kind(
    Kind(
        name="ued",
        title="level spaces and their presets (a student trained by a UED curriculum)",
        length="num_updates",
        unit="update",
        presets=presets,
        train_options=train_options,
        make_config=make_config,
        from_dict=from_dict,
        to_dict=to_dict,
        validate=validate,
        resumable=RESUMABLE,
        build=build,
        evaluate=R.evaluate,
        eval_options=R.EVAL_OPTIONS,
        figures=R.figures,
        plot_options=R.PLOT_OPTIONS,
        migrate=migrate,
        default_out=default_out,
        resume_options=lambda cfg: options_for(cfg.space, cfg.curriculum, cfg.preset),
        help_lines=help_lines,
    )
)

__all__ = [
    "Experiment",
    "KIND",
    "LearnerOptions",
    "RESUMABLE",
    "RunOptions",
    "ScoreOptions",
    "build",
    "build_experiment",
    "config_class",
    "experiment",
    "from_dict",
    "make_config",
    "migrate",
    "plain_metrics",
    "presets",
    "resolve_preset",
    "to_dict",
    "train_options",
    "validate",
]
