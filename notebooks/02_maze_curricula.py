# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Maze curricula side by side
#
# The built-in maze presets, each trained for the same small budget with 3 seeds vmapped in
# one program, then evaluated on the 8 standard prefab mazes and on 100 random solvable
# validation mazes. The notebook builds a comparison table and figure: the interquartile mean
# with 95% stratified-bootstrap intervals over seeds, from rliable. It then draws the levels
# each curriculum kept over training.
#
# Every run is an ordinary run directory, as `openued train` writes one, so `openued plot`,
# `openued eval` and `--resume` work on them too; they go under `RUN_ROOT` (default `runs/`),
# the figures to `FIG_DIR` (default `runs/notebook-figures/`, not committed; `openued gallery
# --docs` is what refreshes the copies in `docs/`). `SMALL=1` gives a smoke-sized run (what CI
# runs). The full size takes about 20 minutes on 2 CPU cores, which is far below the
# literature's budgets (tens of millions of steps), so read the numbers as a demonstration of
# the workflow, not as a replication.

# %%
import os

SMALL = os.environ.get("SMALL", "0") == "1"
if SMALL:
    # a smoke run is compile-bound: the cheaper XLA backend roughly halves its compile time
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    )

import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from experiments import figures as F  # noqa: E402
from experiments import openued  # noqa: E402

PRESETS = ["maze-dr", "maze-robust-plr", "maze-accel"]
# 256 steps per rollout, as published: longer than the 250-step episode limit, so every
# update's training episodes include the ones that time out (with shorter rollouts only the
# quickly solved episodes finish inside one, and the training solve rate reads 1)
UPDATES = 6 if SMALL else 60
# (smoke size: episodes of at most 16 steps, the rollout's length, for the same reason)
SIZE = ["--num-envs", "4", "--num-steps", "16", "--max-episode-steps", "16", "--eval-attempts",
        "2", "--num-validation-levels", "8"] \
    if SMALL else ["--num-envs", "32", "--num-steps", "256", "--eval-attempts", "5"]
# the buffer may replay once half full (min fill 0.5): after 16 of the 60 updates at full
# size, after the first at smoke size, so that robust PLR replays and ACCEL mutates there too
BUFFER = ["--buffer-capacity", "8" if SMALL else "1000", "--min-fill", "0.5"]
ROOT = Path(os.environ.get("RUN_ROOT", "runs")) / ("notebook-02-small" if SMALL else "notebook-02")
FIG_DIR = Path(os.environ.get("FIG_DIR", "runs/notebook-figures"))
FIG_DIR.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Train
# Each call is `openued train PRESET ...` run in this process. A directory that already holds
# a finished run is kept, so re-running the notebook only trains what is missing.

# %%
runs = {}
for preset in PRESETS:
    out = ROOT / preset
    if out.exists() and not (out / "eval.json").exists():
        shutil.rmtree(out)  # an unfinished run from an interrupted notebook: start it again
    if not out.exists():
        argv = ["train", preset, *SIZE, "--num-updates", str(UPDATES), "--num-seeds", "3",
                "--eval-every", str(max(UPDATES // 4, 1)),
                *(BUFFER if preset != "maze-dr" else []), "--no-progress", "--out", str(out)]  # fmt: skip
        assert openued(*argv) == 0, preset
        assert openued("eval", out) == 0, preset  # writes RUN_DIR/eval.json
    runs[preset] = out

# %% [markdown]
# Each curriculum logs how many of an update's levels came from each of its branches
# (`branch/<name>` in `metrics.jsonl`: new, replay, mutate). Every branch of every curriculum
# took levels, in every seed:

# %%
import numpy as np  # noqa: E402

from ued.host import load_run  # noqa: E402

for preset, out in runs.items():
    m = load_run(out).metrics  # {key: (updates, seeds)}
    used = {k[len("branch/"):]: np.nansum(v, axis=0).astype(int).tolist()
            for k, v in m.items() if k.startswith("branch/")}  # fmt: skip
    print(f"{preset:>16}: levels per branch and seed {used}")
    assert all(min(n) > 0 for n in used.values()), (preset, used)

# %% [markdown]
# ## Evaluation
# `openued eval` writes `eval.json`. It gives per-set means with a 95% t-interval over seeds,
# per-seed means and a per-maze table. Its headline is the prefab mean, so the 100 validation
# mazes do not drown out the 8 prefabs.

# %%
for preset, out in runs.items():
    ev = json.loads((out / "eval.json").read_text())
    pre, val = ev.get("prefab", {}), ev.get("validation", {})
    print(f"{preset:>16}: prefab {pre.get('mean', float('nan')):.3f} {pre.get('ci95')}   "
          f"validation {val.get('mean', float('nan')):.3f} {val.get('ci95')}")  # fmt: skip

# %%
fig, table = F.compare_runs({p: str(d) for p, d in runs.items()},
                            title=f"Maze curricula: {UPDATES} updates, 3 seeds each")  # fmt: skip
F.save(fig, FIG_DIR / "02_compare.png")
print(F.comparison_markdown(table))
fig

# %% [markdown]
# ## The levels each curriculum kept
# The buffer's levels at every evaluation: the distribution of their shortest path and wall
# count over training. DR keeps no levels, so it has no panel.

# %%
for preset in ("maze-robust-plr", "maze-accel"):
    fig = F.plot_level_evolution(str(runs[preset]), label=preset)
    if fig is not None:
        F.save(fig, FIG_DIR / f"02_levels_{preset}.png")
fig
