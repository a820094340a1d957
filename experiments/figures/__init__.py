"""Figures a researcher can put in a paper, drawn from data. Host only; nothing is jittable.

Every figure function takes data (metric columns as from ``ued.host.metrics_to_arrays``,
metric rows as from ``ued.host.read_metrics``, a run directory, level snapshots, arrays) and
returns a ``matplotlib.figure.Figure`` built without pyplot (no global state, nothing to
close); :func:`save` writes it atomically. The same functions back ``openued plot`` and can be
called from a notebook.

Conventions of every figure: a title, axis labels with units, no offset notation on the axes,
curves of more than 12 points smoothed (a trailing, causal exponential moving average, which
lags the data; the caption says so) with the unsmoothed curve faint behind, and, when the
metrics carry a seed axis ``(rows, K)``, the mean over seeds with a band of its 95%
percentile-bootstrap interval (:func:`seed_band`; the caption gives n; one seed: no band).
Series with one point are drawn as markers, never as a line. Legends sit outside the data
(:func:`legend_outside`); a panel without data is left out and named in the caption; constant
data is said so in the panel's title; a zoomed axis shows the reference that gives it scale
(a dashed line: an entropy's uniform maximum, a prior's mean). A method or run keeps one colour
in every panel of a figure.

One module per subject:

* ``names``: human names of metrics, level descriptors, state dimensions and actions;
* ``style``: reading metrics, smoothing, seed bands, axes style, notes, :func:`draw_series`
  and :func:`save`;
* ``curves``: :func:`plot_learning_curves`, :func:`plot_per_level_solve_rate`;
* ``curriculum``: :func:`plot_curriculum` (diagnostics in named panels),
  :func:`plot_score_histogram` and :func:`plot_archive` (what a curriculum stores);
* ``levels``: :func:`plot_level_grid`, :func:`plot_top_levels`, :func:`plot_level_evolution`,
  :func:`gif_frames`;
* ``compare``: :func:`compare_runs`, :func:`comparison_table`, :func:`comparison_markdown`,
  :func:`write_comparison`;
* ``hades``: :func:`plot_hades_fitness`, :func:`plot_hades_dataset`;
* ``synth``: :func:`plot_synth_meta_training`, :func:`plot_synth_reward_map`,
  :func:`plot_synth_initial_states`;
* ``paired``: :func:`plot_paired_curves`, :func:`plot_teacher_levels`;
* ``robustness``: :func:`plot_cvar`, :func:`cvar_markdown`, :func:`load_cvar` (the alpha-CVaR
  of the win rate that ``openued eval --sample-levels`` writes);
* ``samplr``: :func:`plot_samplr_runs`, :func:`samplr_run_data` (one colour per method,
  :data:`METHOD_COLORS`).

Reading run directories and deciding which figures a run gets is not done here but by each
experiment kind (``experiments.kinds``: ``figures`` of its ``Kind``).
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from experiments.figures.compare import (
    compare_runs,
    comparison_markdown,
    comparison_table,
    final_scores,
    write_comparison,
)
from experiments.figures.curriculum import (
    CURRICULUM_PANELS,
    DUPLICATE_KEYS,
    block_mean,
    curriculum_panels,
    plot_archive,
    plot_curriculum,
    plot_score_histogram,
)
from experiments.figures.curves import (
    LEARNING_PANELS,
    final_level_scores,
    plot_learning_curves,
    plot_per_level_solve_rate,
)
from experiments.figures.hades import plot_hades_dataset, plot_hades_fitness
from experiments.figures.levels import (
    gif_frames,
    level_fields,
    maze_renderer,
    plot_level_evolution,
    plot_level_grid,
    plot_top_levels,
    top_indices,
)
from experiments.figures.names import (
    BRANCH_NAMES,
    BRANCHES,
    DESCRIPTOR_NAMES,
    METRIC_NAMES,
    action_names,
    clean_name,
    descriptor_label,
    metric_label,
    state_names,
)
from experiments.figures.paired import (
    PAIRED_PANELS,
    paired_columns,
    plot_paired_curves,
    plot_teacher_levels,
)
from experiments.figures.robustness import cvar_markdown, load_cvar, plot_cvar
from experiments.figures.samplr import METHOD_COLORS, plot_samplr_runs, samplr_run_data

# the underscored helpers stay reachable as ``F._note`` and so on, as before the package split
from experiments.figures.style import (  # noqa: F401
    _caption,
    _label_of,
    _note,
    _seeds,
    _wrap,
    auto_smoothing,
    draw_series,
    ema,
    grid_shape,
    legend_outside,
    load_metrics,
    num_seeds,
    reference_line,
    save,
    seed_band,
    style_axes,
    title_note,
)
from experiments.figures.synth import (
    plot_synth_initial_states,
    plot_synth_meta_training,
    plot_synth_reward_map,
)
from ued.evaluation import iqm_interval

FigureFn = Callable[..., Figure]

__all__ = [
    "BRANCHES",
    "BRANCH_NAMES",
    "CURRICULUM_PANELS",
    "DESCRIPTOR_NAMES",
    "DUPLICATE_KEYS",
    "LEARNING_PANELS",
    "METHOD_COLORS",
    "METRIC_NAMES",
    "PAIRED_PANELS",
    "action_names",
    "auto_smoothing",
    "block_mean",
    "clean_name",
    "compare_runs",
    "comparison_markdown",
    "comparison_table",
    "curriculum_panels",
    "cvar_markdown",
    "descriptor_label",
    "draw_series",
    "ema",
    "final_level_scores",
    "final_scores",
    "gif_frames",
    "grid_shape",
    "iqm_interval",
    "legend_outside",
    "level_fields",
    "load_cvar",
    "load_metrics",
    "maze_renderer",
    "metric_label",
    "num_seeds",
    "paired_columns",
    "plot_archive",
    "plot_curriculum",
    "plot_cvar",
    "plot_hades_dataset",
    "plot_hades_fitness",
    "plot_learning_curves",
    "plot_level_evolution",
    "plot_level_grid",
    "plot_paired_curves",
    "plot_per_level_solve_rate",
    "plot_samplr_runs",
    "samplr_run_data",
    "plot_score_histogram",
    "plot_synth_initial_states",
    "plot_synth_meta_training",
    "plot_synth_reward_map",
    "plot_teacher_levels",
    "plot_top_levels",
    "reference_line",
    "save",
    "seed_band",
    "state_names",
    "style_axes",
    "title_note",
    "top_indices",
    "write_comparison",
]
