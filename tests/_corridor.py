"""A tiny 1-D corridor environment, level space and curricula for the trainer's tests.

Level: the goal cell in a corridor of ``N`` cells; the agent starts at cell 0. Actions: 0 left,
1 right, 2 stay. Reward ``1 - 0.9 * (t + 1) / T`` on reaching the goal (terminated), truncated
at ``T`` steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from ued import (
    BRANCH_NEW,
    BRANCH_REPLAY,
    Curriculum,
    Discrete,
    Environment,
    LevelSpace,
    LevelStats,
    ScoreInputs,
    new_proposal,
)

N = 8


@struct.dataclass
class CorridorLevel:
    goal: jax.Array  # int32[]


@struct.dataclass
class CorridorParams:
    max_steps: int = 12


@struct.dataclass
class CorridorState:
    pos: jax.Array
    goal: jax.Array
    t: jax.Array


class CorridorEnv(Environment):
    @property
    def default_params(self):
        return CorridorParams()

    def action_space(self, params=None):
        return Discrete(3)

    def _obs(self, s):
        return {
            "pos": jax.nn.one_hot(s.pos, N),
            "goal": jax.nn.one_hot(s.goal, N),
        }

    def reset_to_level(self, key, level, params):
        s = CorridorState(
            jnp.zeros((), jnp.int32), level.goal.astype(jnp.int32), jnp.zeros((), jnp.int32)
        )
        return self._obs(s), s

    def step(self, key, state, action, params):
        move = jnp.array([-1, 1, 0], jnp.int32)[action]
        pos = jnp.clip(state.pos + move, 0, N - 1)
        t = state.t + 1
        term = pos == state.goal
        trunc = jnp.logical_and(~term, t >= params.max_steps)
        reward = jnp.where(term, 1.0 - 0.9 * t / params.max_steps, 0.0).astype(jnp.float32)
        s = CorridorState(pos, state.goal, t)
        return self._obs(s), s, reward, term, trunc, {"solved": term}


def corridor_space() -> LevelSpace:
    return LevelSpace(
        name="corridor",
        placeholder=CorridorLevel(jnp.ones((), jnp.int32)),
        sample=lambda k: CorridorLevel(jax.random.randint(k, (), 1, N, dtype=jnp.int32)),
        descriptor=lambda lvl: jnp.stack([lvl.goal.astype(jnp.float32)]),
        descriptor_names=("shortest_path_length",),
        optimal_return=lambda lvl: 1.0 - 0.9 * lvl.goal.astype(jnp.float32) / 12.0,
    )


@struct.dataclass
class AltState:
    levels: CorridorLevel
    count: jax.Array
    max_return: jax.Array


def make_alternating(space: LevelSpace, num_envs: int) -> Curriculum:
    """New levels (no training) on even updates, replay them (training) on odd updates."""

    def init(key):
        return AltState(
            space.sample_batch(key, num_envs),
            jnp.zeros((), jnp.int32),
            jnp.full((num_envs,), -jnp.inf),
        )

    def propose(key, cs, params, evaluate):
        replay = cs.count % 2 == 1
        fresh = space.sample_batch(key, num_envs)
        levels = jax.tree.map(lambda a, b: jnp.where(replay, a, b), cs.levels, fresh)
        prop = new_proposal(levels, BRANCH_NEW, False)
        prop = prop.replace(
            branch=jnp.where(replay, BRANCH_REPLAY, BRANCH_NEW) * jnp.ones((num_envs,), jnp.int32),
            train=jnp.broadcast_to(replay, (num_envs,)),
            slots=jnp.where(replay, jnp.arange(num_envs), -1).astype(jnp.int32),
        )
        prop = prop.replace(
            extras=prop.extras.replace(max_return=jnp.where(replay, cs.max_return, -jnp.inf))
        )
        return cs.replace(levels=levels), prop

    def observe(key, cs, prop, stats, params):
        return cs.replace(count=cs.count + 1, max_return=stats.max_return)

    def diagnostics(cs, prop, stats):
        return {"count": cs.count.astype(jnp.float32)}

    return Curriculum("alternating", init, propose, observe, None, diagnostics)


def make_probe(space: LevelSpace, num_envs: int) -> Curriculum:
    """Always trains on fresh levels, and calls ``evaluate`` on 3 extra levels each update."""

    def init(key):
        return jnp.zeros((), jnp.float32)

    def propose(key, cs, params, evaluate):
        k1, k2 = jax.random.split(key)
        st = evaluate(k2, space.sample_batch(k1, 3))
        return jnp.nanmean(st.solve_rate), new_proposal(
            space.sample_batch(k1, num_envs), BRANCH_NEW, True
        )

    def observe(key, cs, prop, stats, params):
        return cs

    return Curriculum(
        "probe",
        init,
        propose,
        observe,
        None,
        lambda c, p, s: {"probe_solve": c},
        needs_evaluate=True,
    )


def pvl_score(inputs: ScoreInputs, max_return):
    """Positive value loss averaged over all steps, plus episode stats (test stand-in)."""
    done = jnp.logical_or(inputs.terminated, inputs.truncated)
    n = jnp.sum(done, axis=0)
    has = n > 0
    denom = jnp.maximum(n, 1)
    ret = jnp.where(done, inputs.episode_return, -jnp.inf)
    return LevelStats(
        score=jnp.mean(jnp.maximum(inputs.advantage, 0.0), axis=0),
        max_return=jnp.maximum(max_return, jnp.max(ret, axis=0)),
        mean_return=jnp.where(
            has, jnp.sum(jnp.where(done, inputs.episode_return, 0), 0) / denom, jnp.nan
        ),
        solve_rate=jnp.where(has, jnp.sum(inputs.solved, 0) / denom, jnp.nan),
        num_episodes=n.astype(jnp.int32),
    )
