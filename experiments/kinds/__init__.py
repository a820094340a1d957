"""Experiment kinds: one contract for every kind of run, one implementation per kind. Host only.

A :class:`Kind` says what ``openued train``, ``eval``, ``plot`` and ``--resume`` do for one kind
of run: its presets and options, how a configuration becomes a trainer (``build``), how a run
is evaluated and drawn. Every kind trains through the one driver ``ued.host.run_trainer``
(the one host loop: chunks, checkpoints, exact resume, lock, health checks, snapshots,
loggers, progress, provenance), so every kind of run gets all of it. The kinds:

* ``ued`` (:mod:`experiments.kinds.ued`): a student trained by any registered curriculum
  (PAIRED included) on any registered level space (``ued.registry``);
* ``samplr`` (:mod:`experiments.kinds.samplr`): the aleatoric mazes with DR, robust PLR or
  SAMPLR, evaluated on the ground truth;
* ``hades`` (:mod:`experiments.kinds.hades`): behaviour distillation with ES;
* ``synth`` (:mod:`experiments.kinds.synth`): synthetic environments meta-learned with ES;
* ``python`` (:mod:`experiments.kinds.python`): a run written from Python by
  ``ued.host.run_trainer`` (evaluated and drawn from what it recorded).

A run's ``config.json`` names its kind (``"kind"``) and its run format
(``"format_version"``); :func:`stored_run` reads it (runs of the format-1 layout included) and
every command dispatches on it alone.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from experiments import options as O

KIND_MODULES = ("ued", "samplr", "hades", "synth", "python")


class Built(NamedTuple):
    """What a kind's ``build(config)`` gives the one driver (``ued.host.run_trainer``).

    Attributes:
      trainer: any trainer (``init``, chunked ``run``, ``unit``).
      num_units: the run length (updates or generations).
      seed, num_seeds, batched: the seeds (``batched``: a leading seed axis even for one).
      host: the ``ued.host.HostConfig`` (chunks, checkpoints, evaluations, health checks).
      evaluate: ``state -> {name: value}`` at each evaluation (logged under ``eval/``).
      snapshot: ``state -> dict of arrays`` (level snapshots at each evaluation).
      annotate: ``row -> dict`` of host-side fields of every metrics row.
      finish: ``finish(state, run_dir) -> dict`` after training (artifacts; summary fields).
      programs: already jitted ``(init, run)`` (shared by the runs of one process).
      experiment: the kind's own objects (env, space, student, ...), for eval and plot.
      warnings: what a careful user should know before training starts (printed then).
      devices: the ``ued.host.DevicePlan`` the programs were built for (printed at start;
        ``None``: one device, nothing to say).
      keys: what ``init`` is vmapped over (default: ``ued.host.seed_keys`` of the seeds; a
        sweep's lanes: ``ued.sweep.Lanes``).
      split_rows: ``rows -> rows`` before ``metrics.jsonl`` (a sweep: one row per
        configuration).
    """

    trainer: Any
    num_units: int
    seed: int
    num_seeds: int
    batched: bool
    host: Any
    evaluate: Callable[[Any], dict] | None = None
    snapshot: Callable[[Any], dict] | None = None
    annotate: Callable[[dict], dict] | None = None
    finish: Callable[[Any, Path], dict] | None = None
    programs: tuple[Callable, Callable] | None = None
    experiment: Any = None
    warnings: tuple[str, ...] = ()
    devices: Any = None
    keys: Any = None
    split_rows: Callable[[list[dict]], list[dict]] | None = None


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of run (see the module docstring).

    Attributes:
      name: the ``"kind"`` of its ``config.json``.
      title: a heading for ``--help``.
      length: the option that is the run length (``num_updates`` or ``generations``).
      unit: one step of the run (``update`` or ``generation``).
      presets: ``() -> {preset: one-line description}``.
      train_options: ``(preset or None, argv) -> experiments.options.Options`` of ``train``.
      make_config: ``(preset, {field: value}) -> config`` (a frozen dataclass, validated).
      from_dict / to_dict: ``config.json`` (current format) to a config and back.
      validate: ``config -> config`` (raises ``ConfigError``).
      resumable: the fields a resumed run may change (its length and execution options).
      build: ``(config, run directory or None) -> Built`` (the directory: where a run keeps
        what its hooks write, e.g. the best dataset so far).
      evaluate: ``(path, {option: value}) -> JSON object`` (``eval``; ``path`` the run
        directory, or a file the kind reads).
      eval_options / plot_options: the options of ``eval`` and ``plot``.
      figures: ``(run_dir, {option: value}) -> [paths written]`` (``plot``).
      migrate: ``stored config.json -> current-format dict`` (runs of older formats).
      default_out: ``config -> run directory`` when ``--out`` is not given.
      group: the command group its commands also live under (``openued hades ...``), or "".
      resume_options: ``config -> Options`` a resume of that run parses (default: its
        ``train_options``).
      help_lines: ``() -> [lines]`` of the options in ``openued train --help`` (default: the
        options of its first preset).
      derived: keys of ``to_dict`` that are computed from the options (stored for other tools
        to read), left out when a resume compares configurations.
    """

    name: str
    title: str
    length: str
    unit: str
    presets: Callable[[], dict[str, str]]
    train_options: Callable[[str | None, Sequence[str]], O.Options]
    make_config: Callable[[str, dict], Any]
    from_dict: Callable[[dict], Any]
    to_dict: Callable[[Any], dict]
    validate: Callable[[Any], Any]
    resumable: frozenset[str]
    build: Callable[[Any, Path | None], Built]
    evaluate: Callable[[Path, dict], dict]
    eval_options: O.Options
    figures: Callable[[Path, dict], list]
    plot_options: O.Options
    migrate: Callable[[dict], dict] = lambda d: d
    default_out: Callable[[Any], str] = lambda cfg: ""
    group: str = ""
    resume_options: Callable[[Any], O.Options] | None = None
    help_lines: Callable[[], list[str]] | None = None
    derived: tuple[str, ...] = ()

    def options_to_resume(self, cfg: Any) -> O.Options:
        """The options ``--resume`` parses for the run of ``cfg``."""
        if self.resume_options is not None:
            return self.resume_options(cfg)
        return self.train_options(getattr(cfg, "preset", None), [])


_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Add ``kind`` (its module calls this on import)."""
    _KINDS[kind.name] = kind
    return kind


def kinds() -> dict[str, Kind]:
    """Every kind, by name (their modules imported), in the order of ``KIND_MODULES`` whatever
    order they were first imported in (help texts and the CLI reference list them so)."""
    for m in KIND_MODULES:
        importlib.import_module(f"experiments.kinds.{m}")
    order = {m: i for i, m in enumerate(KIND_MODULES)}
    return dict(sorted(_KINDS.items(), key=lambda kv: order.get(kv[0], len(order))))


def kind_named(name: str) -> Kind:
    """The kind ``name``; ``KeyError`` listing the kinds."""
    ks = kinds()
    if name not in ks:
        raise KeyError(f"unknown kind {name!r}; allowed: {', '.join(ks)}")
    return ks[name]


def kind_of_config(raw: dict) -> str | None:
    """The kind a stored ``config.json`` object declares, reading the format-1 layouts too
    (maze runs: ``"maze"``; SAMPLR runs before ``kind``: ``"experiment"``; synthetic-env runs
    stored their env kind ``scb``/``mdp`` there; runs written from Python: none, but a
    ``"trainer"`` section). ``None``: it declares none."""
    name = raw.get("kind")
    if name == "maze":
        return "ued"
    if name in ("scb", "mdp") and isinstance(raw.get("config"), dict):
        return "synth"
    if name is None and raw.get("experiment") == "samplr":
        return "samplr"
    if name is None and isinstance(raw.get("trainer"), dict):
        return "python"
    return name if isinstance(name, str) else None


def stored_run(run_dir: str | Path) -> tuple[Kind, Any]:
    """The run's kind (declared by its ``config.json``) and configuration. Every problem with
    the file (missing, not JSON, no or an unknown kind, a bad value) is one
    ``ued.host.ConfigFileError`` naming it."""
    from ued.host import CONFIG_FILE, ConfigFileError, read_config

    run_dir = Path(run_dir)
    raw = read_config(run_dir)
    name = kind_of_config(raw)
    where = run_dir / CONFIG_FILE
    if name is None:
        raise ConfigFileError(
            f"{where}: declares no kind of run (no \"kind\"); allowed: {', '.join(kinds())}"
        )
    ks = kinds()
    if name not in ks:
        raise ConfigFileError(f"{where}: unknown kind {name!r}; allowed: {', '.join(ks)}")
    kind = ks[name]
    try:
        return kind, kind.from_dict(kind.migrate(dict(raw)))
    except (O.ConfigError, KeyError, TypeError, ValueError) as e:
        raise ConfigFileError(f"{where}: {e} (a {name} run's config)") from None


def _stderr(message: str) -> None:
    import sys

    print(message, file=sys.stderr)


def train_run(
    kind: Kind, cfg: Any, run_dir: Path, resume: bool, write: Callable[[str], None] | None = None
) -> tuple[Any, Built, dict]:
    """Train (or, with ``resume``, continue) ``cfg`` into ``run_dir`` through
    ``ued.host.run_trainer``; returns ``(final state, built, summary fields of finish)``."""
    from ued.host import SEED_AXIS, describe_sharding, run_trainer

    built = kind.build(cfg, run_dir)
    for w in built.warnings:
        (write or _stderr)(f"warning: {w}")
    if built.devices is not None and built.devices.devices > 1:
        (write or _stderr)(describe_sharding(built.devices))
    state = run_trainer(
        run_dir,
        built.trainer,
        built.num_units,
        seed=built.seed,
        num_seeds=built.num_seeds,
        keys=built.keys,
        batched=built.batched,
        split_rows=built.split_rows,
        config=kind.to_dict(cfg),
        evaluate=built.evaluate,
        snapshot=built.snapshot,
        annotate=built.annotate,
        resume=resume,
        may_change=kind.resumable if resume else None,
        host=built.host,
        write=write,
        programs=built.programs,
        # an ES run's plan shards its population inside the trainer; the seeds stay whole
        devices=built.devices.devices
        if built.devices is not None and built.devices.axis == SEED_AXIS
        else 1,
    )
    extra = built.finish(state, run_dir) if built.finish is not None else {}
    return state, built, extra or {}


class Restored(NamedTuple):
    """A run restored from its newest good checkpoint."""

    kind: Kind
    config: Any
    built: Built
    state: Any
    unit: int


def restore(run_dir: str | Path) -> Restored:
    """The run's kind, config, built trainer and newest good checkpoint (templated by the
    trainer's ``init``: shapes only, nothing runs)."""
    import jax

    from ued.host import CheckpointError, list_checkpoints, load_latest_checkpoint, seed_keys

    run_dir = Path(run_dir)
    kind, cfg = stored_run(run_dir)
    built = kind.build(cfg, run_dir)
    init = built.trainer.init
    if built.batched:
        init = jax.vmap(init)
    keys = built.keys
    if keys is None:
        keys = seed_keys(built.seed, built.num_seeds, built.batched)
    template = jax.eval_shape(init, keys)
    if not list_checkpoints(run_dir):
        raise CheckpointError(
            f"{run_dir}: no checkpoint to read (the run stopped before its first one); train it "
            "again with the same command"
        )
    upgrade = getattr(built.trainer, "upgrade_state", None)
    unit, state, _ = load_latest_checkpoint(run_dir, template, upgrade=upgrade)
    return Restored(kind, cfg, built, state, unit)


def host_config(cfg: Any, num_units: int, **overrides: Any):
    """The ``ued.host.HostConfig`` of a config's run options (``chunk_size``,
    ``checkpoint_every``, ``keep_checkpoints``, ``eval_every``, ``eval_at_start``,
    ``progress``, ``log``: those it has), with ``overrides``."""
    from ued.host import HostConfig

    fields = {
        "chunk_size": "chunk_size",
        "checkpoint_every": "checkpoint_every",
        "keep_checkpoints": "keep_checkpoints",
        "eval_every": "eval_every",
        "eval_at_start": "eval_at_start",
        "progress": "progress",
        "log_backends": "log",
    }
    values = {k: getattr(cfg, v) for k, v in fields.items() if hasattr(cfg, v)}
    if "log_backends" in values:
        values["log_backends"] = tuple(values["log_backends"])
    values.update(overrides)
    return HostConfig(num_updates=num_units, **values)


def config_dict(cfg: Any, drop: Sequence[str] = ("out",)) -> dict:
    """``dataclasses.asdict(cfg)`` as stored: tuples become lists, ``drop`` left out (the run
    directory is where the file is)."""
    d = dataclasses.asdict(cfg)
    for k in drop:
        d.pop(k, None)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def from_stored(options: O.Options, cls: type, d: dict, stored: Sequence[str]) -> Any:
    """``cls`` from a stored dict: unknown keys name themselves, values are checked, fields
    absent from the dict take their defaults, ``stored`` keys are taken as they are."""
    names = {f.name for f in dataclasses.fields(cls)}
    d = {k: v for k, v in d.items() if k != "format_version"}
    unknown = sorted(set(d) - names)
    if unknown:
        raise options.unknown(unknown[0])
    return options.from_dict(cls, d, stored=stored)


__all__ = [
    "Built",
    "KIND_MODULES",
    "Kind",
    "Restored",
    "config_dict",
    "from_stored",
    "host_config",
    "kind_named",
    "kind_of_config",
    "kinds",
    "register_kind",
    "restore",
    "stored_run",
    "train_run",
]
