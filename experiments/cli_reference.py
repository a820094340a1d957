"""The CLI reference (``docs/cli.md``), generated from the option definitions.

    python -m experiments.cli_reference           # rewrite docs/cli.md
    python -m experiments.cli_reference --check   # exit 1 if docs/cli.md is out of date

Every section is the ``--help`` text of one command, produced by the same option tables the
parser uses, so the reference cannot drift from the code: the test suite runs the check.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "docs" / "cli.md"

# (heading, argv of the --help call)
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("openued", ("--help",)),
    ("openued train", ("train", "--help")),
    ("openued eval", ("eval", "--help")),
    ("openued plot", ("plot", "--help")),
    ("openued hades", ("hades", "--help")),
    ("openued hades train", ("hades", "train", "--help")),
    ("openued hades eval", ("hades", "eval", "--help")),
    ("openued hades plot", ("hades", "plot", "--help")),
    ("openued synth", ("synth", "--help")),
    ("openued synth train", ("synth", "train", "--help")),
    ("openued synth eval", ("synth", "eval", "--help")),
    ("openued synth plot", ("synth", "plot", "--help")),
)


def _help(argv: tuple[str, ...]) -> str:
    from experiments import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    if rc != 0:
        raise RuntimeError(f"openued {' '.join(argv)} exited {rc}: {err.getvalue().strip()}")
    return out.getvalue().rstrip() + "\n"


EVAL_JSON = """## eval.json

`openued eval RUN_DIR` (and `openued hades eval`, `openued synth eval`) prints one JSON object as
its last stdout line and writes it to `RUN_DIR/eval.json` (a read-only run: printed only, with
a warning). `null` stands for a value that does not exist (an interval from one seed, NaN).
Fields by run kind:

* `ued` runs, per evaluation set `SET` of the level space (Maze: `prefab`, the 8 standard
  mazes; `validation`, random held-out levels; or `levels` with `--levels FILE`):
  `SET_solve_rate`, `SET_return`, `SET_length` (a float for one seed, else one per seed);
  `SET`: `{mean, ci95: [low, high], ci_method, per_seed, num_seeds, num_levels, return,
  length, iqm: {value, ci95, method}}` (`ci95` is a Student-t interval over the per-seed
  means, clipped to [0, 1]; `iqm` the interquartile mean over seeds x levels with rliable's
  stratified bootstrap over seeds); `prefab/NAME` (per standard maze); `per_level`:
  `{SET: {level: [solve rate per seed]}}` (every named set); `solve_rate`, `mean_return`,
  `episode_length`: `{level: mean over seeds}`; `set_solve_rate`: `{SET: mean}`;
  `iqm_solve_rate`: `{iqm, low, high, num_seeds, num_levels, interval}` over the levels of all
  sets; `headline`: `{set, mean, ci95}` and `mean_solve_rate`: the headline set's mean
  (`prefab` when there is one, never all levels pooled); `set_balanced_solve_rate`: the mean of
  the set means; `per_seed_mean_solve_rate`; `num_attempts`, `update` (the checkpoint's),
  `run_dir`, `student` (PAIRED: the protagonist). With `--sample-levels N` (added keys; a
  space without held-out sets then gives only `cvar`, `update`, `run_dir`, `student`): `cvar`:
  the alpha-CVaR of the win rate (SFL's robustness protocol, `ued.robustness`): `{protocol,
  space` (the level space sampled; Maze: SFL's 60-wall solvable mazes at the run's size)`,
  num_levels, num_attempts, greedy, seed, num_seeds, alphas, by_alpha: [{alpha, num_worst`
  (ceil(alpha N))`, win_rate: {per_seed, mean, ci95, n}` (the worst levels as ranked by the
  rollouts of one key, scored by those of a second key)`, biased_win_rate: {per_seed, mean}`
  (the same levels scored by the rollouts that chose them)`}], mean_win_rate: {per_seed, mean,
  ci95, n}` (all N levels, second key: alpha = 1 equals it)`, selection_mean_win_rate,
  interval}` (`ci95`: Student-t over seeds, clipped to [0, 1]; `[null, null]` for one seed).
  A sweep run (`--sweep`) gives `sweep`: `{fields, configs: [{config_id, config` (the swept
  values)`, solve_rate: {per_seed, mean, ci95, n}}], ranked` (config ids, best mean first)`,
  metric, interval, num_levels}`, `num_attempts`, `update`, `run_dir`.
* `samplr` runs: `env`, `method`, `num_seeds`, the ground-truth return and per-cue-class rates
  with intervals over seeds (`ground_truth_return`, `exit_rate`, `gamble_rate`,
  `detour_rate`, `stats`; suffixes name the evaluation mode), `run_dir`.
* `hades` runs: `target`, `dataset_size`, `architecture`, `mean_return`, `std_return`,
  `num_policies` (fresh policies trained on the dataset); `transfer` with `--transfer`.
* `synth` runs: `env`, `kind`, `run_dir`, `inits`, `episodes`; `mean_return`: `{setting:
  mean return on the real env}`; `settings`: one object per learner setting (`learner`,
  `hidden`, `activation`, `hparams`, `num_steps`, `mean_return`, `std_over_inits`,
  `min_over_inits`, `train_seconds_synthetic`, `real`: the equal-time real-env baseline).
* `python` runs (written by `ued.host.run_trainer` from Python): the newest metrics row that
  holds an evaluation (its unit number, `eval/NAME` as the run logged it, and the row's
  other metrics), `run_dir`, `source`.
"""


def render() -> str:
    """The whole reference as Markdown."""
    parts = [
        "# CLI reference\n",
        "Generated by `python -m experiments.cli_reference` from the option definitions (the "
        "test suite fails when this file and the code disagree). Each preset's own defaults: "
        "`openued train PRESET --help`, `openued hades train ENV --help`, "
        "`openued synth train ENV --help`.\n",
    ]
    for heading, argv in SECTIONS:
        parts.append(f"## {heading}\n\n```text\n{_help(argv)}```\n")
    parts.append(EVAL_JSON)
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = PATH.read_text() if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is out of date: run python -m experiments.cli_reference", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text)
    print(PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
