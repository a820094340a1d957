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
# # Behaviour distillation and synthetic environments on CartPole
#
# **HaDES** runs evolution strategies over a tiny dataset of state–action pairs. Its fitness is
# the return on the real CartPole of a fresh policy trained on the dataset by supervised
# learning. The result is a handful of states that teach a policy to balance the pole. It is
# then checked for *transfer*: policies of other architectures, never seen by the search, are
# trained on the same dataset.
#
# A **synthetic environment** is meta-learned the same way: ES over the parameters of a small
# learned environment, so that RL agents trained inside it do well on the real CartPole.
#
# Both are ordinary run directories (`openued hades train`, `openued synth train`), with
# checkpoints, exact resume and `metrics.jsonl`, under `RUN_ROOT` (default `runs/`); the figures
# go to `FIG_DIR` (default `runs/notebook-figures/`, not committed; `openued gallery --docs` is
# what refreshes the copies in `docs/`). `SMALL=1` gives a smoke-sized run (what CI runs). The
# full size takes under 20 minutes on 2 CPU cores.

# %%
import os

SMALL = os.environ.get("SMALL", "0") == "1"
if SMALL:
    # a smoke run is compile-bound: the cheaper XLA backend roughly halves its compile time
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    )

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

import experiments  # noqa: E402
from experiments import figures as F  # noqa: E402
from meta import visited_states  # noqa: E402
from ued.host import read_metrics  # noqa: E402

ROOT = Path(os.environ.get("RUN_ROOT", "runs")) / ("notebook-03-small" if SMALL else "notebook-03")
FIG_DIR = Path(os.environ.get("FIG_DIR", "runs/notebook-figures"))
FIG_DIR.mkdir(parents=True, exist_ok=True)


def openued(*argv):
    """Run one ``openued`` command in this process; returns its last stdout line as JSON."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = experiments.openued(*argv)
    assert rc == 0, (argv, rc)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None


# %% [markdown]
# ## HaDES: distil CartPole into 8 states
# The CartPole preset's settings (population, dataset size, inner training) are the
# defaults; `SMALL` only shortens it.

# %%
hades_dir = ROOT / "hades-cartpole"
small_hades = ["--generations", 2, "--population", 8, "--eval-policies", 2, "--eval-episodes", 1,
               "--eval-envs", 2, "--eval-steps", 50] if SMALL else []  # fmt: skip
if hades_dir.exists() and not (hades_dir / "dataset.npz").exists():
    shutil.rmtree(hades_dir)
if not hades_dir.exists():
    openued("hades", "train", "cartpole", *small_hades, "--no-progress", "--no-plot",
            "--out", hades_dir)  # fmt: skip
rows = read_metrics(hades_dir)
F.save(F.plot_hades_fitness(rows, title="HaDES on CartPole: meta-training"),
       FIG_DIR / "03_hades_fitness.png")  # fmt: skip

# %% [markdown]
# The distilled dataset, drawn on its first two principal components and coloured by the
# action it labels, beside the states a policy trained on it visits on the real CartPole.

# %%
hades, data = experiments.load_dataset(str(hades_dir / "dataset.npz"))
visited = visited_states(jax.random.key(0), hades, data)
fig = F.plot_hades_dataset(np.asarray(data.states), np.asarray(data.targets), discrete=True,
                           visited=visited, target="cartpole")  # fmt: skip
F.save(fig, FIG_DIR / "03_hades_dataset.png")
fig

# %% [markdown]
# ## Transfer to architectures the search never saw
# `openued hades eval --transfer` trains fresh policies of several architectures on the
# dataset and reports their returns on the real CartPole (500 is the maximum).

# %%
ev = openued("hades", "eval", hades_dir, "--transfer",
             *(["--policies", 2, "--episodes", 1] if SMALL else []))  # fmt: skip
print(json.dumps(ev, indent=1)[:1500])

# %% [markdown]
# ## A synthetic CartPole
# ES over a synthetic contextual bandit: one learned step per episode, rewarding the actions
# that balance the real pole. The figures show the meta-training curve, which inner learner
# and student activation ran each generation (they rotate, so the environment is selected for
# students of every activation listed), and the learned reward over two named state dimensions.

# %%
synth_dir = ROOT / "synth-cartpole"
small_synth = ["--generations", 2, "--population", 4, "--inner-steps", 64, "--eval-envs", 2] \
    if SMALL else ["--generations", 60]
if synth_dir.exists() and not (synth_dir / "metrics.jsonl").exists():
    shutil.rmtree(synth_dir)
if not synth_dir.exists():
    openued("synth", "train", "cartpole", *small_synth, "--no-progress", "--out", synth_dir)
openued("synth", "plot", synth_dir, "--out", FIG_DIR / "03_synth")
sorted(p.name for p in (FIG_DIR / "03_synth").iterdir())
