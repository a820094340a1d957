"""The ``python`` kind: a run written from Python by ``ued.host.run_trainer`` (a notebook, a
script, a trainer of one's own). Host only.

The command line has no recipe to rebuild such a trainer, so ``openued eval`` reports what the
run recorded (its last evaluation row, per seed) and ``openued plot`` draws its learning curves
from ``metrics.jsonl``; continuing it or evaluating it anew needs the trainer: from Python,
``ued.host.run_trainer(run_dir, trainer, n, resume=True)`` and ``ued.make_evaluator``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from experiments import options as O
from experiments.kinds import Kind, register_kind

_HOW = (
    "a run written from Python by ued.host.run_trainer; the command line cannot rebuild its "
    "trainer: continue it from Python with ued.host.run_trainer(RUN_DIR, trainer, N, "
    "resume=True), and evaluate it anew with ued.make_evaluator (or pass evaluate= to "
    "run_trainer to record evaluations)"
)


@dataclasses.dataclass(frozen=True)
class PythonRunConfig:
    """What a run written from Python declares (``ued.host.trainer.default_config``)."""

    kind: str = "python"
    unit: str = "update"
    seed: int = 0
    num_seeds: int = 1
    num_updates: int = 0
    rest: tuple = ()  # every other key, as stored


def from_dict(d: dict) -> PythonRunConfig:
    known = {f.name for f in dataclasses.fields(PythonRunConfig)} - {"rest"}
    d = {k: v for k, v in d.items() if k != "format_version"}
    rest = tuple(sorted((k, repr(v)) for k, v in d.items() if k not in known))
    return PythonRunConfig(**{k: v for k, v in d.items() if k in known}, rest=rest)


def _refuse(*_: Any) -> Any:
    raise O.ConfigError(f"this is {_HOW}")


def evaluate(run_dir: Path, opts: dict) -> dict:
    """The run's last recorded evaluation (``eval/*`` of its newest row that has them)."""
    from ued.host import read_metrics

    rows = read_metrics(run_dir)
    if not rows:
        raise O.ConfigError(f"{run_dir}: metrics.jsonl holds no rows yet")
    evals = [r for r in rows if any(k.startswith("eval/") for k in r)]
    if not evals:
        raise O.ConfigError(f"{run_dir} recorded no evaluation: it is {_HOW}")
    last = evals[-1]
    return {
        "run_dir": str(run_dir),
        "source": "recorded (the run's last evaluation row)",
        **{k: v for k, v in last.items() if k != "warnings"},
    }


def figures(run_dir: Path, opts: dict) -> list[Path]:
    """``learning_curves.png`` from the run's metrics (``--out``, default ``RUN_DIR/plots``)."""
    from experiments import figures as F
    from ued.host import ensure_dir, load_run

    run = load_run(run_dir)
    if not len(next(iter(run.metrics.values()), ())):
        raise O.ConfigError(f"{run_dir}: metrics.jsonl holds no rows yet; nothing to plot")
    out = ensure_dir(Path(opts.get("out") or Path(run_dir) / "plots"))
    m = run.metrics
    # the standard panels, and one for whatever the run evaluated (its own eval/ names)
    evals = [(k, k[len("eval/") :].replace("_", " ")) for k in m if k.startswith("eval/")]
    panels = [p for p in F.LEARNING_PANELS if not p[0].startswith("Evaluation")]
    if evals:
        panels.insert(2, ("Evaluation (recorded by the run)", "value", evals, False))
    fig = F.plot_learning_curves(m, label=Path(run_dir).name, panels=panels)
    return [F.save(fig, out / "learning_curves.png")]


@dataclasses.dataclass(frozen=True)
class _PlotOptions:
    out: str = O.option("", O.STR, "output directory", default_text="RUN_DIR/plots")


@dataclasses.dataclass(frozen=True)
class _NoOptions:
    pass


KIND = register_kind(
    Kind(
        name="python",
        title="runs written from Python (ued.host.run_trainer)",
        length="num_updates",
        unit="update",
        presets=dict,
        train_options=_refuse,
        make_config=_refuse,
        from_dict=from_dict,
        to_dict=dataclasses.asdict,
        validate=lambda cfg: cfg,
        resumable=frozenset(),
        build=_refuse,
        evaluate=evaluate,
        eval_options=O.Options(
            _NoOptions, "openued eval", "The run's last recorded evaluation (one JSON object).",
            positionals=(("RUN_DIR", "a run directory"),),
        ),  # fmt: skip
        figures=figures,
        plot_options=O.Options(
            _PlotOptions, "openued plot", "Learning curves of the run's metrics.",
            positionals=(("RUN_DIR", "a run directory"),),
        ),  # fmt: skip
    )
)
