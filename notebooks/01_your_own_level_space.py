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
# # Your own level space: a 1-D platformer with gaps
#
# A *level* is any pytree of fixed-shape arrays. Here a level is a track of 16 cells, some of
# them gaps. The agent starts on cell 0 and must reach cell 15; each step it walks one cell or
# jumps two. Landing in a gap ends the episode with no reward. Two gaps in a row make a track
# unsolvable.
#
# The notebook defines the level space and its environment, checks both with the conformance
# kit, and trains a student on them with four curricula: domain randomisation, robust PLR,
# ACCEL and a MAP-Elites archive. Each curriculum trains 3 seeds in one vmapped program. It
# then compares the curricula on held-out tracks and draws what the buffer and the archive
# hold.
#
# Every run is an ordinary run directory (`ued.host.run_trainer`: config, `metrics.jsonl`,
# checkpoints) under `RUN_ROOT` (default `runs/`); the figures go to `FIG_DIR` (default
# `runs/notebook-figures/`, not committed; `openued gallery --docs` is what refreshes the
# copies in `docs/`). Set the environment variable `SMALL=1` for a CPU-sized smoke run (what
# CI runs).

# %%
import os

SMALL = os.environ.get("SMALL", "0") == "1"
if SMALL:
    # a smoke run is compile-bound: the cheaper XLA backend roughly halves its compile time
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    )

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402, F401  (turns on Jupyter's inline figures)
import numpy as np  # noqa: E402
from flax import struct  # noqa: E402

import curricula  # noqa: E402
import ued  # noqa: E402
from ued.host import HostConfig, run_trainer  # noqa: E402
from ued.testing import check_env, check_level_space  # noqa: E402

L = 16  # cells per track
T = 2 * L  # episode step limit
NUM_UPDATES = 12 if SMALL else 400
NUM_SEEDS = 3
ROOT = Path(os.environ.get("RUN_ROOT", "runs")) / ("notebook-01-small" if SMALL else "notebook-01")
FIG_DIR = os.environ.get("FIG_DIR", "runs/notebook-figures")
os.makedirs(FIG_DIR, exist_ok=True)

# %% [markdown]
# ## The level space
# `sample` is the domain-randomisation distribution: the gap density is itself random, so
# easy and hard tracks both appear. `mutate` is one edit (ACCEL repeats it). `descriptor`
# gives the archive its two axes. `optimal_return` lets the true-regret score and the
# plots know each track's best return.


# %%
@struct.dataclass
class Track:
    gaps: jax.Array  # bool[L]: True where the floor is missing; cells 0 and L-1 are floor


def sample(key):
    k_density, k_gaps = jax.random.split(key)
    density = jax.random.uniform(k_density, (), minval=0.0, maxval=0.6)
    gaps = jax.random.bernoulli(k_gaps, density, (L,))
    return Track(gaps.at[0].set(False).at[L - 1].set(False))


def mutate(key, track):
    i = jax.random.randint(key, (), 1, L - 1)  # never the start or the goal
    return Track(track.gaps.at[i].set(~track.gaps[i]))


def fewest_moves(track):
    """Fewest walk/jump moves from cell 0 to the goal (L when unsolvable): a scan of the DP
    d[i] = 1 + min(d[i-1], d[i-2]) over floor cells."""

    def body(carry, gap):
        d1, d2 = carry
        d = jnp.where(gap, L, jnp.minimum(jnp.minimum(d1, d2) + 1, L))
        return (d, d1), None

    (d, _), _ = jax.lax.scan(body, (jnp.int32(0), jnp.int32(L)), track.gaps[1:])
    return d


def optimal_return(track):
    d = fewest_moves(track)
    return jnp.where(d < L, 1.0 - 0.9 * d / T, 0.0).astype(jnp.float32)


def descriptor(track):
    g = track.gaps.astype(jnp.int32)
    # longest run of consecutive gaps
    run = jax.lax.scan(lambda r, x: ((r + 1) * x,) * 2, jnp.int32(0), g)[1].max()
    return jnp.stack([g.sum(), run]).astype(jnp.float32)


def render(track):
    sky, floor, goal = (np.array(c, np.uint8) for c in ([200, 225, 255], [120, 80, 40], [40, 170, 60]))
    row = jnp.where(track.gaps[:, None], sky, floor).at[L - 1].set(goal)
    return jnp.repeat(jnp.repeat(jnp.stack([jnp.broadcast_to(sky, (L, 3)), row]), 6, 0), 6, 1)


space = ued.LevelSpace(
    name="platformer/16",
    placeholder=sample(jax.random.key(0)),
    sample=sample,
    mutate=mutate,
    is_valid=lambda t: ~t.gaps[0] & ~t.gaps[L - 1],
    render=render,
    descriptor=descriptor,
    descriptor_names=("gaps", "longest gap run"),
    optimal_return=optimal_return,
)
check_level_space(space)  # jit / vmap / scan, dtypes after mutate, key dependence, ...

# %% [markdown]
# ## The environment
# An `ued.Environment` resets to a given level and steps; observations are the next four
# cells (1 = gap) and the agent's position.


# %%
@struct.dataclass
class PlatformerState:
    gaps: jax.Array  # bool[L]
    pos: jax.Array  # int32[]
    t: jax.Array  # int32[]


@struct.dataclass
class PlatformerParams:
    max_steps: int = T


class Platformer(ued.Environment):
    @property
    def default_params(self):
        return PlatformerParams()

    def action_space(self, params=None):
        return ued.Discrete(2)  # 0: walk one cell, 1: jump two

    def _obs(self, s):
        ahead = jnp.arange(1, 5) + s.pos
        view = jnp.where(ahead < L, s.gaps[jnp.minimum(ahead, L - 1)], False)
        return {"ahead": view.astype(jnp.float32), "pos": (s.pos / (L - 1))[None].astype(jnp.float32)}

    def reset_to_level(self, key, level, params):
        s = PlatformerState(level.gaps, jnp.int32(0), jnp.int32(0))
        return self._obs(s), s

    def step(self, key, state, action, params):
        pos = jnp.minimum(state.pos + 1 + action.astype(jnp.int32), L - 1)
        t = state.t + 1
        fell = state.gaps[pos]
        solved = pos == L - 1
        reward = jnp.where(solved, 1.0 - 0.9 * t / params.max_steps, 0.0).astype(jnp.float32)
        term = fell | solved
        trunc = ~term & (t >= params.max_steps)
        s = PlatformerState(state.gaps, pos, t)
        return self._obs(s), s, reward, term, trunc, {"solved": solved}


env = Platformer()
check_env(env, space)  # the env contract: jit, vmap, scan, dtypes, determinism, no retrace

# %% [markdown]
# ## Four curricula, one trainer, 3 seeds each
# Every curriculum is a value passed to the same `ued.make_train`. `train(key)` is pure, so
# the seeds train in one vmapped program; `run_trainer` runs it in chunks into a run
# directory.

# %%
B, STEPS = 32, 32
student = ued.make_actor_critic(ued.NetworkConfig(core="none", core_size=64, head_size=64), 2)
# the buffer replays once half full (min fill 0.5): after 8 updates of new tracks at full
# size, after the first one at smoke size, so that robust PLR replays and ACCEL mutates there too
buffer = curricula.LevelSamplerConfig(capacity=2 * B if SMALL else 512)
archive_config = curricula.ArchiveConfig(lower=(0.0, 0.0), upper=(15.0, 15.0), bins=(8, 8))
CURRICULA = {
    "DR": curricula.make_dr(space, B),
    "robust PLR": curricula.make_plr(space, B, robust=True, config=curricula.PLRConfig(buffer=buffer)),
    "ACCEL": curricula.make_accel(space, B, curricula.ACCELConfig(buffer=buffer, num_edits=2)),
    "MAP-Elites": curricula.make_archive(space, B, archive_config),
}
config = ued.TrainConfig(num_envs=B, num_steps=STEPS, num_updates=NUM_UPDATES)
keys = jax.random.split(jax.random.key(0), NUM_SEEDS)
runs = {}
for name, cur in CURRICULA.items():
    trainer = ued.make_train(config, env, space, cur, student, score="maxmc")
    out = ROOT / name.lower().replace(" ", "-")
    shutil.rmtree(out, ignore_errors=True)  # this notebook's run of an earlier execution
    state = run_trainer(out, trainer, NUM_UPDATES, num_seeds=NUM_SEEDS, keys=keys,
                        host=HostConfig(NUM_UPDATES, chunk_size=NUM_UPDATES, progress=False))
    metrics = ued.load_run(out).metrics  # {key: (updates, seeds)}
    runs[name] = (state, metrics)
    print(f"{name:>10}: final training solve rate per seed",
          np.round(np.asarray(metrics["rollout/solve_rate"][-1]), 2))

# %% [markdown]
# Each curriculum logs how many of an update's levels came from each of its branches
# (`branch/<name>`: new, replay, mutate, archive). Every branch of every curriculum took
# levels, in every seed:

# %%
for name, (_, metrics) in runs.items():
    used = {k[len("branch/"):]: np.nansum(v, axis=0).astype(int).tolist()
            for k, v in metrics.items() if k.startswith("branch/")}  # fmt: skip
    print(f"{name:>10}: levels per branch and seed {used}")
    assert all(min(n) > 0 for n in used.values()), (name, used)

# %% [markdown]
# ## Held-out evaluation
# 200 tracks with gap density 0.4 (harder than most training tracks), kept only when solvable,
# drawn with a key training never uses. Each student plays each track 4 times with its sampled
# policy.

# %%
gaps = jax.random.bernoulli(jax.random.key(123), 0.4, (2000, L))
held_out = Track(gaps.at[:, 0].set(False).at[:, L - 1].set(False))
solvable = np.flatnonzero(np.asarray(jax.vmap(fewest_moves)(held_out)) < L)[:200]
held_out = jax.tree.map(lambda x: x[solvable], held_out)
evaluate = jax.jit(ued.make_evaluator(env, student, num_attempts=4, max_steps=T))
solve = {}
for name, (state, _) in runs.items():
    per_seed = [evaluate(jax.random.key(s), jax.tree.map(lambda x: x[s], state.student.params),
                         held_out).solve_rate for s in range(NUM_SEEDS)]
    solve[name] = np.asarray(per_seed)  # (seeds, levels)
print(f"{len(solvable)} held-out tracks; mean solve rate per seed:")
for name, s in solve.items():
    print(f"  {name:>10}: {np.round(s.mean(1), 3)}")

# %% [markdown]
# The comparison: training curves (mean over seeds, 95% bootstrap band) and the held-out solve
# rate's interquartile mean over seeds with its 95% stratified-bootstrap interval (rliable).

# %%
from experiments.figures import compare_runs, comparison_markdown, save  # noqa: E402

columns = {}
for name, (_, metrics) in runs.items():
    col = dict(metrics)  # (updates, seeds) per key
    held = np.full((len(col["update"]), NUM_SEEDS), np.nan)
    held[-1] = solve[name].mean(1)  # the held-out evaluation, once, at the end
    col["eval/validation_solve_rate"] = held
    columns[name] = col
fig, table = compare_runs(
    columns, title=f"Platformer: four curricula, {NUM_SEEDS} seeds each ({NUM_UPDATES} updates)"
)
save(fig, f"{FIG_DIR}/01_compare.png", dpi=120)
print(comparison_markdown(table))
fig

# %% [markdown]
# ## What the curricula kept
# The robust PLR buffer's highest-scoring tracks, and the MAP-Elites archive over its two
# descriptors (number of gaps, longest gap run; a run of 2 or more is unsolvable).

# %%
from experiments.figures import plot_archive, plot_top_levels  # noqa: E402

seed0 = lambda tree: jax.tree.map(lambda x: x[0], tree)  # noqa: E731
plr_state = seed0(runs["robust PLR"][0].curriculum)
top = plot_top_levels(space, plr_state.buffer, k=12, path=f"{FIG_DIR}/01_plr_buffer.png")
archive = plot_archive(space, seed0(runs["MAP-Elites"][0].curriculum), archive_config,
                       path=f"{FIG_DIR}/01_archive.png")
display(top, archive)  # noqa: F821  (Jupyter's display: the figures are not pyplot's)
