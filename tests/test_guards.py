"""Guards against silent misconfiguration: each of these used to run without a word.

(a) robust PLR on a level space with fewer distinct levels than ``min_fill x capacity`` never
    replays, so it never trains: a warning, printed once and recorded in ``metrics.jsonl``;
(b) integer observations wider than the student's embedding: ``check_env`` checks observations
    against the declared observation space, the network sizes its embedding from it, and
    ``make_train`` rejects a student whose embedding is too small;
(c) ``score="true_regret"`` on a space without ``optimal_return``: an error at build time;
(d) a curriculum built for another ``num_envs`` than the ``TrainConfig``: an error naming both.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

import curricula
import ued
import ued.host as H
from tests._corridor import CorridorEnv, CorridorLevel
from ued.testing import check_env

SMALL = ued.NetworkConfig(encoder="flat", core="none", head_size=8)


def _space(goals: int, optimal_return: bool = True) -> ued.LevelSpace:
    """Corridor levels whose goal is one of ``1 .. goals``."""
    return ued.LevelSpace(
        name=f"corridor/{goals}",
        placeholder=CorridorLevel(jnp.ones((), jnp.int32)),
        sample=lambda k: CorridorLevel(jax.random.randint(k, (), 1, goals + 1, dtype=jnp.int32)),
        optimal_return=(lambda lvl: 1.0 - 0.075 * lvl.goal.astype(jnp.float32))
        if optimal_return
        else None,
    )


# ------------------------------------------------------------------ (a) replay starvation


def test_robust_plr_that_can_never_replay_warns_once_and_records_it(tmp_path):
    space = _space(3)  # 3 distinct levels < min_fill 0.5 x capacity 8
    cur = curricula.make_plr(
        space, 2, curricula.PLRConfig(buffer=curricula.LevelSamplerConfig(capacity=8)), robust=True
    )
    cfg = ued.TrainConfig(num_envs=2, num_steps=8, num_updates=10)
    trainer = ued.make_train(cfg, CorridorEnv(), space, cur, ued.make_actor_critic(SMALL, 3), "pvl")
    assert "cur/replay_starved" in trainer.metric_names
    said = []
    H.run_training(
        tmp_path / "run",
        lambda: jax.jit(trainer.init)(jax.random.key(0)),
        jax.jit(trainer.run, static_argnums=1),
        H.HostConfig(num_updates=10, chunk_size=5, progress=False),
        config={"name": "starved"},
        write=said.append,
    )
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # the failure it guards: no replay, no training, at every update
    assert all(r["replay_fraction"] == 0 and r["trained"] == 0 for r in rows)
    # the pure metric: zero until the patience (2 * ceil(4 / 2) = 4 updates) has run out
    starved = [r["cur/replay_starved"] for r in rows]
    assert starved[:3] == [0, 0, 0] and starved[3:] == list(range(4, 11)), starved
    warned = [m for m in said if m.startswith("warning:")]
    assert len(warned) == 1 and "replay" in warned[0]
    assert "3 distinct levels" in warned[0] and "replay starts at 4" in warned[0]
    marked = [r["update"] for r in rows if "replay_starved" in r.get("warnings", {})]
    assert marked == [4]


def _starved(cur, n=30):
    """``replay_starved`` after each of ``n`` propose/observe steps with random scores."""
    params = curricula.LevelSamplerParams(replay_prob=1.0)

    def body(s, k):
        k1, k2 = jax.random.split(k)
        s, prop = cur.propose(k1, s, params)
        b = prop.branch.shape[0]
        z = jnp.zeros(b)
        stats = ued.LevelStats(jax.random.uniform(k2, (b,)), z, z, z, jnp.ones(b, jnp.int32))
        s = cur.observe(k2, s, prop, stats, params)
        return s, cur.diagnostics(s, prop, stats)["replay_starved"]

    run = jax.jit(lambda key: jax.lax.scan(body, cur.init(key), jax.random.split(key, n))[1])
    return np.asarray(run(jax.random.key(0)))


def test_replay_guard_patience_is_configurable_and_quiet_when_replaying():
    with pytest.raises(ValueError, match="no_replay_patience"):
        curricula.PLRConfig(no_replay_patience=0)
    buf = curricula.LevelSamplerConfig(capacity=8)
    cfg = curricula.PLRConfig(buffer=buf, robust=True, no_replay_patience=2)
    s = _starved(curricula.make_plr(_space(3), 2, cfg), 5)
    assert s.tolist() == [0, 2, 3, 4, 5]
    # 7 distinct levels >= min_fill x capacity: the buffer fills and replays, never a warning
    assert np.all(
        _starved(curricula.make_plr(_space(7), 2, curricula.PLRConfig(buffer=buf, robust=True)))
        == 0
    )


# ------------------------------------------------------------------ (b) integer observations

N16 = 16


@struct.dataclass
class PosState:
    pos: jax.Array
    goal: jax.Array
    t: jax.Array


class IntCorridor(ued.Environment):
    """A 16-cell corridor whose observation is the agent's and the goal's cell as int32
    scalars; ``declared``: the observation space it declares (``None``: none)."""

    def __init__(self, declared: int | None = N16):
        self.declared = declared

    @property
    def default_params(self):
        return None

    def action_space(self, params=None):
        return ued.Discrete(3)

    def observation_space(self, params=None):
        if self.declared is None:
            raise NotImplementedError
        return {"goal": ued.Discrete(self.declared), "pos": ued.Discrete(self.declared)}

    def _obs(self, s):
        return {"goal": s.goal, "pos": s.pos}

    def reset_to_level(self, key, level, params):
        z = jnp.zeros((), jnp.int32)
        s = PosState(z, level.goal.astype(jnp.int32), z)
        return self._obs(s), s

    def step(self, key, state, action, params):
        pos = jnp.clip(state.pos + jnp.array([-1, 1, 0], jnp.int32)[action], 0, N16 - 1)
        t = state.t + 1
        term = pos == state.goal
        trunc = ~term & (t >= 20)
        s = PosState(pos, state.goal, t)
        return self._obs(s), s, term.astype(jnp.float32), term, trunc, {"solved": term}


def test_integer_observations_against_the_declared_space():
    space = _space(N16 - 1)  # goals 1..15
    env = IntCorridor(N16)
    check_env(env, space, n_envs=4, n_steps=8)  # Discrete(16) holds 0..15
    # declared as Discrete(4) but emitting up to 15: check_env names the leaf and both ranges
    with pytest.raises(AssertionError, match="observation range") as e:
        check_env(IntCorridor(4), space, n_envs=4, n_steps=8)
    msg = str(e.value)
    assert "['goal']" in msg and "Discrete(n=4)" in msg and "[0, 3]" in msg, msg
    # undeclared: a warning about the default embedding of 4 entries
    with pytest.warns(UserWarning, match="num_embeddings=4"):
        check_env(IntCorridor(None), space, n_envs=4, n_steps=8)

    # the network: the default embedding (4 entries) is rejected naming both numbers ...
    cur = curricula.make_dr(space, 2)
    cfg = ued.TrainConfig(num_envs=2, num_steps=8, num_updates=1)
    with pytest.raises(ValueError, match=r"\[0, 15\] \(16 values.*in 4 entries"):
        ued.make_train(cfg, env, space, cur, ued.make_actor_critic(SMALL, 3), "pvl")
    # ... and sized by the declared space it works: one embedding entry per cell
    net = ued.make_actor_critic(SMALL, 3, observation_space=env.observation_space())
    assert net.embeddings == ((0, 16), (0, 16))
    trainer = ued.make_train(cfg, env, space, cur, net, "pvl")
    state, m = jax.jit(trainer.train)(jax.random.key(0))
    emb = state.student.params["encoder"]["params"]
    assert emb["Embed_0"]["embedding"].shape == (16, SMALL.embed_dim)
    assert float(m["obs/embed_clipped"][0]) == 0.0
    # an undeclared space: the clipping shows in the metrics (the host loop warns on it)
    t2 = ued.make_train(cfg, IntCorridor(None), space, cur, ued.make_actor_critic(SMALL, 3), "pvl")
    assert "obs/embed_clipped" in t2.metric_names


# ------------------------------------------------------------------ (c) true_regret


def test_true_regret_without_optimal_return_is_a_build_error():
    space = _space(7, optimal_return=False)
    cur = curricula.make_dr(space, 2)
    cfg = ued.TrainConfig(num_envs=2, num_steps=8, num_updates=1)
    net = ued.make_actor_critic(SMALL, 3)
    with pytest.raises(ValueError, match="'true_regret'.*optimal_return"):
        ued.make_train(cfg, CorridorEnv(), space, cur, net, "true_regret")
    with pytest.raises(ValueError, match="unknown score 'nope'"):
        ued.make_train(cfg, CorridorEnv(), space, cur, net, "nope")


# ------------------------------------------------------------------ (d) num_envs


def test_curriculum_built_for_another_num_envs_is_a_build_error():
    space = _space(7)
    cur = curricula.make_plr(space, 4, robust=True)
    cfg = ued.TrainConfig(num_envs=2, num_steps=8, num_updates=1)
    with pytest.raises(ValueError, match=r"proposes 4 levels.*num_envs=4.*TrainConfig.num_envs=2"):
        ued.make_train(cfg, CorridorEnv(), space, cur, ued.make_actor_critic(SMALL, 3), "pvl")
