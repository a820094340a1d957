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
# # A variant of a built-in level space, in one cell
#
# The key-and-door maze (`envs.keydoor`, guide section 8) draws its walls, key and door at
# random, so the door rarely matters: most levels can be solved around it. Here a variant is
# written in one cell, *locked rooms*: a wall splits the maze in two, the locked door is its
# only opening, the agent and the key start on the left and the goal is on the right, so every
# solvable level needs the key. It reuses the built-in space's generator, env, BFS and
# renderer; only `sample` changes. Then two curricula (domain randomisation and robust PLR)
# train on it with 3 seeds each and are compared on held-out locked rooms.
#
# `SMALL=1` gives the smoke size CI runs (minutes; the numbers are then noise). The full size
# takes about 15 minutes on 2 CPU cores and is far below published budgets: read it as the
# workflow, not as a result. Runs go under `RUN_ROOT` (default `runs/`); figures are shown
# here and not written anywhere else.

# %%
import os

SMALL = os.environ.get("SMALL", "0") == "1"
if SMALL:
    # a smoke run is compile-bound: the cheaper XLA backend roughly halves its compile time
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    )

import dataclasses  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import curricula  # noqa: E402
import ued  # noqa: E402
from envs.keydoor import KeyDoorConfig, KeyDoorEnv, is_solvable, make_keydoor_space  # noqa: E402
from ued.host import HostConfig, run_trainer  # noqa: E402
from ued.testing import check_level_space  # noqa: E402

NUM_SEEDS = 3
NUM_UPDATES = 4 if SMALL else 40
# rollouts as long as an episode, so that every update finishes the episodes it starts
STEPS = 32 if SMALL else 128
B = 4 if SMALL else 32
CONFIG = KeyDoorConfig(height=13, width=13, n_walls=20, max_steps=STEPS)
ROOT = Path(os.environ.get("RUN_ROOT", "runs")) / ("notebook-04-small" if SMALL else "notebook-04")

# %% [markdown]
# ## The variant: locked rooms
# `sample` draws a level of the built-in generator (its random walls), then builds a wall down
# the middle column with the door in it at a random row, opens the cells on either side of the
# door, and places the agent and the key on free cells of the left half and the goal on a free
# cell of the right half. Everything else (mutator, validity, descriptor, optimal return by
# BFS over (cell, has key), renderer) is the built-in space's, and the conformance kit checks
# the whole.


# %%
base = make_keydoor_space(CONFIG)


def random_cell(key, allowed):
    """(x, y) int32[2] of a uniformly drawn cell where ``allowed`` (bool[H, W]) holds."""
    flat = jax.random.choice(key, allowed.size, p=allowed.ravel() / allowed.sum())
    return jnp.stack([flat % allowed.shape[1], flat // allowed.shape[1]]).astype(jnp.int32)


def sample_locked_room(key):
    k_base, k_door, k_agent, k_key, k_goal = jax.random.split(key, 5)
    level = base.sample(k_base)
    h, w = level.wall_map.shape
    mid, door_row = w // 2, jax.random.randint(k_door, (), 0, h)
    rows, cols = jnp.arange(h)[:, None], jnp.arange(w)[None, :]
    walls = level.wall_map | (cols == mid)
    walls = walls & ~((rows == door_row) & (jnp.abs(cols - mid) == 1))  # the door's two sides
    left, right = ~walls & (cols < mid), ~walls & (cols > mid)
    agent = random_cell(k_agent, left)
    not_agent = ~((cols == agent[0]) & (rows == agent[1]))
    return level.replace(
        wall_map=walls,
        agent_pos=agent,
        key_pos=random_cell(k_key, left & not_agent),
        goal_pos=random_cell(k_goal, right),
        door_pos=jnp.stack([mid, door_row]).astype(jnp.int32),
    )


space = dataclasses.replace(base, name="keydoor/locked-rooms", sample=sample_locked_room)
check_level_space(space)

levels = space.sample_batch(jax.random.key(0), 8)
fig, axes = plt.subplots(1, 8, figsize=(16, 2.4))
for i, ax in enumerate(axes):
    lvl = jax.tree.map(lambda x: x[i], levels)
    ax.imshow(np.asarray(space.render(lvl)))
    ax.set_title(f"solvable: {bool(is_solvable(lvl))}", fontsize=8)
    ax.axis("off")
fig.suptitle("Locked rooms: agent (red) and key (yellow) on the left, door in the middle wall, "
             "goal (green) on the right", fontsize=10)  # fmt: skip
plt.show()

# %% [markdown]
# ## Two curricula, one trainer, 3 seeds each
# The env is the built-in `KeyDoorEnv`; the curricula are values passed to the same
# `ued.make_train`. Robust PLR scores levels by positive value loss and replays the
# high-scoring ones.

# %%
env = KeyDoorEnv(CONFIG)
student = ued.make_actor_critic(ued.NetworkConfig.maze(), env.action_space().n)
buffer = curricula.LevelSamplerConfig(capacity=2 * B if SMALL else 256)  # replays once half full
CURRICULA = {
    "DR": curricula.make_dr(space, B),
    "robust PLR": curricula.make_plr(space, B, robust=True, config=curricula.PLRConfig(buffer=buffer)),
}
config = ued.TrainConfig(num_envs=B, num_steps=STEPS, num_updates=NUM_UPDATES)
keys = jax.random.split(jax.random.key(0), NUM_SEEDS)
runs = {}
for name, cur in CURRICULA.items():
    trainer = ued.make_train(config, env, space, cur, student, score="pvl")
    out = ROOT / name.lower().replace(" ", "-")
    shutil.rmtree(out, ignore_errors=True)  # this notebook's run of an earlier execution
    state = run_trainer(out, trainer, NUM_UPDATES, num_seeds=NUM_SEEDS, keys=keys,
                        host=HostConfig(NUM_UPDATES, chunk_size=NUM_UPDATES, progress=False))
    metrics = ued.load_run(out).metrics  # {key: (updates, seeds)}
    runs[name] = (state, metrics)
    used = {k[len("branch/"):]: np.nansum(v, axis=0).astype(int).tolist()
            for k, v in metrics.items() if k.startswith("branch/")}  # fmt: skip
    print(f"{name:>10}: levels per branch and seed {used}")
    assert all(min(n) > 0 for n in used.values()), (name, used)  # every branch took levels

# %% [markdown]
# ## Held-out locked rooms
# 64 solvable locked rooms from a key training never uses; each student plays each 4 times
# with its sampled policy.

# %%
pool = space.sample_batch(jax.random.key(10_000), 256)
keep = np.flatnonzero(np.asarray(jax.vmap(is_solvable)(pool)))[:64]
held_out = jax.tree.map(lambda x: x[keep], pool)
evaluate = jax.jit(ued.make_evaluator(env, student, num_attempts=4, max_steps=STEPS))
solve = {}
for name, (state, _) in runs.items():
    per_seed = [evaluate(jax.random.key(s), jax.tree.map(lambda x: x[s], state.student.params),
                         held_out).solve_rate for s in range(NUM_SEEDS)]
    solve[name] = np.asarray(per_seed)  # (seeds, levels)
    print(f"{name:>10}: held-out solve rate per seed {np.round(solve[name].mean(1), 3)}")

# %% [markdown]
# The comparison: training curves (mean over seeds with a 95% band) and the held-out solve
# rate's interquartile mean over seeds with its 95% stratified-bootstrap interval (rliable);
# the table gives each interval's n.

# %%
from experiments.figures import compare_runs, comparison_markdown  # noqa: E402

columns = {}
for name, (_, metrics) in runs.items():
    col = dict(metrics)
    held = np.full((len(col["update"]), NUM_SEEDS), np.nan)
    held[-1] = solve[name].mean(1)  # the held-out evaluation, once, at the end
    col["eval/validation_solve_rate"] = held
    columns[name] = col
fig, table = compare_runs(
    columns, title=f"Locked rooms: DR and robust PLR, {NUM_SEEDS} seeds each "
                   f"({NUM_UPDATES} updates of {B} envs x {STEPS} steps)",
)  # fmt: skip
print(comparison_markdown(table))
fig
