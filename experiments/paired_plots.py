"""Figures of a PAIRED run directory (``maze-paired``, ``maze-minimax``,
``maze-population-paired``). Host only.

:func:`write_paired_plots` reads a run and writes ``paired_curves.png`` and
``teacher_levels.png`` with the figure functions of :mod:`experiments.figures.paired`
(:func:`~experiments.figures.plot_paired_curves`,
:func:`~experiments.figures.plot_teacher_levels`), which take data and can be called from a
notebook; ``experiments.plots.make_plots`` calls it for PAIRED runs. The learning check of a
PAIRED run is :func:`experiments.report.paired_learning_check`
(``python -m experiments.paired_plots RUN_DIR [OUT.json]`` prints it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments import figures as F
from experiments.figures.paired import PAIRED_PANELS, plot_paired_curves, plot_teacher_levels
from experiments.report import paired_learning_check


def write_paired_plots(run: Any, out_dir: str | Path, label: str | None = None) -> list[Path]:
    """Write ``paired_curves.png`` and (with level snapshots) ``teacher_levels.png`` of a
    ``ued.host.Run`` (``load_run``) into ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    label = label or Path(run.run_dir).name
    written = [F.save(plot_paired_curves(run.metrics, label=label), out / "paired_curves.png")]
    fig = plot_teacher_levels(run.level_history(), label=label)
    if fig is not None:
        written.append(F.save(fig, out / "teacher_levels.png"))
    return written


__all__ = [
    "PAIRED_PANELS",
    "paired_learning_check",
    "plot_paired_curves",
    "plot_teacher_levels",
    "write_paired_plots",
]


if __name__ == "__main__":  # python -m experiments.paired_plots RUN_DIR [OUT.json]
    import json
    import sys

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m experiments.paired_plots RUN_DIR [OUT.json]")
    text = json.dumps(paired_learning_check(sys.argv[1]), indent=1)
    if len(sys.argv) == 3:
        Path(sys.argv[2]).write_text(text + "\n")
    print(text)
