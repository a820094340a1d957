"""The Maze env: observation layout vs a NumPy reference (and jaxued when installed), dynamics,
reward, termination/truncation, the 7-action option, determinism, and the conformance kit."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ued
import ued.testing
from envs.maze import (
    MazeConfig,
    MazeEnv,
    MazeParams,
    level_from_str,
    make_level,
    make_maze_space,
    optimal_steps,
    render_state,
)

CFG = MazeConfig()
DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))
# An asymmetric 13x13-padded 6x5 level, so any flip or rotation error in the view shows.
HAND = """\
.#..#.
...##.
#.>..G
..#...
.#...#"""


def ref_view(walls, agent, agent_dir, goal, view=5):
    """Plain-NumPy observation in the literature's layout: image[x, y] in the agent's frame, agent
    at [view // 2, view - 1] looking toward y = 0, x = 0 on its left; out of grid = wall."""
    h, w = walls.shape
    fx, fy = DIRS[agent_dir]
    rx, ry = DIRS[(agent_dir + 1) % 4]
    img = np.zeros((view, view, 3), np.uint8)
    for i in range(view):
        for j in range(view):
            f, lat = view - 1 - j, i - view // 2
            x = agent[0] + f * fx + lat * rx
            y = agent[1] + f * fy + lat * ry
            if (x, y) == tuple(goal):
                img[i, j] = (8, 1, 0)
            elif not (0 <= x < w and 0 <= y < h) or walls[y, x]:
                img[i, j] = (2, 5, 0)
            else:
                img[i, j] = (1, 0, 0)
    return img


def ref_step(walls, agent, agent_dir, goal, action):
    """Plain-Python dynamics: (agent, dir, reached_goal)."""
    h, w = walls.shape
    if action == 0:
        return agent, (agent_dir - 1) % 4, False
    if action == 1:
        return agent, (agent_dir + 1) % 4, False
    if action != 2:
        return agent, agent_dir, False
    dx, dy = DIRS[agent_dir]
    nx, ny = agent[0] + dx, agent[1] + dy
    if (nx, ny) == tuple(goal):
        return agent, agent_dir, True
    if 0 <= nx < w and 0 <= ny < h and not walls[ny, nx]:
        return (nx, ny), agent_dir, False
    return agent, agent_dir, False


@pytest.fixture(scope="module")
def env7():
    env = MazeEnv(MazeConfig(n_actions=7))
    params = env.default_params
    return env, params, jax.jit(env.reset_to_level), jax.jit(env.step)


def _level_with_dir(text, d):
    lvl = level_from_str(text, CFG)
    return lvl.replace(agent_dir=jnp.int32(d))


def test_observation_layout_vs_numpy_reference(env7):
    env, params, reset, step = env7
    assert env.packed  # the default config uses the bit-packed fast path
    rng = np.random.default_rng(0)
    for d in range(4):
        lvl = _level_with_dir(HAND, d)
        walls = np.asarray(lvl.wall_map)
        agent, goal = tuple(lvl.agent_pos.tolist()), tuple(lvl.goal_pos.tolist())
        obs, state = reset(jax.random.key(0), lvl, params)
        assert obs.image.dtype == jnp.uint8 and obs.image.shape == (5, 5, 3)
        assert obs.agent_dir.dtype == jnp.int32 and int(obs.agent_dir) == d
        np.testing.assert_array_equal(np.asarray(obs.image), ref_view(walls, agent, d, goal))
        ad = d
        for t in range(60):  # random walk: the view keeps matching the reference
            a = int(rng.integers(0, 7))
            obs, state, r, term, trunc, info = step(jax.random.key(t), state, a, params)
            agent, ad, reached = ref_step(walls, agent, ad, goal, a)
            assert tuple(state.agent_pos.tolist()) == agent and int(state.agent_dir) == ad
            assert bool(term) == reached and bool(info["solved"]) == reached
            np.testing.assert_array_equal(np.asarray(obs.image), ref_view(walls, agent, ad, goal))
            if reached:
                break


def test_observation_layout_by_hand():
    # Agent at (2, 2) facing up (^): the cell straight ahead (2, 1) is at [2, 3]; the cell to its
    # left (1, 2) is at [1, 4]; to its right (3, 2) at [3, 4]; (3, 1) is a wall at [3, 3].
    env = MazeEnv(CFG)
    obs, _ = env.reset_to_level(None, _level_with_dir(HAND, 3), env.default_params)
    obj = np.asarray(obs.image[..., 0])
    assert obj[2, 3] == 1 and obj[1, 4] == 1 and obj[3, 4] == 1 and obj[3, 3] == 2
    assert obj[2, 4] == 1  # the agent's own cell shows what is under it (see_agent=False)
    assert obj[2, 0] == 2 and obj[0, 0] == 2  # beyond the top edge: walls
    # Facing right (>): the goal (5, 2) is 3 cells ahead -> [2, 1], green.
    obs, _ = env.reset_to_level(None, _level_with_dir(HAND, 0), env.default_params)
    assert tuple(np.asarray(obs.image[2, 1])) == (8, 1, 0)


def test_observation_matches_jaxued(env7):
    pytest.importorskip("jaxued")
    if not hasattr(jax, "tree_map"):
        jax.tree_map = jax.tree_util.tree_map  # jaxued 0.0.1 still calls it
    from jaxued.environments.maze import Level, Maze

    env, params, reset, step = env7
    jenv = Maze()
    jp = jenv.default_params
    jstep = jax.jit(jenv.step_env)
    space = make_maze_space(CFG)
    rng = np.random.default_rng(1)
    for k in range(3):
        lvl = space.sample(jax.random.key(k))
        jl = Level(
            lvl.wall_map,
            lvl.goal_pos.astype(jnp.uint32),
            lvl.agent_pos.astype(jnp.uint32),
            lvl.agent_dir.astype(jnp.uint8),
            lvl.width,
            lvl.height,
        )
        jo, js = jenv.reset_to_level(jax.random.PRNGKey(0), jl, jp)
        o, s = reset(jax.random.key(0), lvl, params)
        for _ in range(40):
            np.testing.assert_array_equal(np.asarray(o.image), np.asarray(jo.image))
            a = int(rng.integers(0, 7))
            jo, js, jr, jd, _ = jstep(jax.random.PRNGKey(0), js, a, jp)
            o, s, r, te, tr, _ = step(jax.random.key(0), s, a, params)
            assert float(r) == pytest.approx(float(jr)) and bool(te | tr) == bool(jd)


def test_gather_path_and_full_obs_and_normalize():
    lvl = _level_with_dir(HAND, 1)
    packed = MazeEnv(CFG)
    # A view too wide to pack takes the gather path; it must agree with the packed path.
    wide = MazeEnv(MazeConfig(height=13, width=13, agent_view_size=11))
    assert not wide.packed
    o_p, _ = packed.reset_to_level(None, lvl, packed.default_params)
    o_w, _ = wide.reset_to_level(None, lvl, wide.default_params)
    walls, agent, goal = np.asarray(lvl.wall_map), tuple(lvl.agent_pos.tolist()), (5, 2)
    np.testing.assert_array_equal(np.asarray(o_w.image), ref_view(walls, agent, 1, goal, 11))
    np.testing.assert_array_equal(np.asarray(o_p.image), ref_view(walls, agent, 1, goal, 5))
    full = MazeEnv(MazeConfig(full_obs=True, normalize_obs=True))
    o_f, s_f = full.reset_to_level(None, lvl, full.default_params)
    assert o_f.image.shape == (13, 13, 3) and o_f.image.dtype == jnp.float32
    img = np.asarray(o_f.image) * 10
    assert np.allclose(img[2, 2], (10, 0, 1))  # agent drawn at [y, x] with its direction
    assert np.allclose(img[2, 5], (8, 1, 0)) and np.allclose(img[0, 1], (2, 5, 0))
    assert np.allclose(img[12, 12], (2, 5, 0))  # padding reads as wall
    assert np.array_equal(np.asarray(full.state_wall_map(s_f)), walls)
    norm = MazeEnv(MazeConfig(normalize_obs=True))
    o_n, _ = norm.reset_to_level(None, lvl, norm.default_params)
    np.testing.assert_allclose(np.asarray(o_n.image), np.asarray(o_p.image) / 10.0)


def test_reward_termination_truncation():
    env = MazeEnv(CFG)
    step = jax.jit(env.step)
    params = MazeParams(max_steps_in_episode=jnp.int32(10))
    lvl = level_from_str(">..G", CFG)
    assert int(optimal_steps(lvl)) == 3
    _, s = env.reset_to_level(None, lvl, params)
    for t in range(3):
        _, s, r, term, trunc, info = step(None, s, 2, params)
        if t < 2:
            assert float(r) == 0.0 and not bool(term) and not bool(trunc)
    assert bool(term) and bool(info["solved"]) and not bool(trunc)
    assert float(r) == pytest.approx(1 - 0.9 * 3 / 10)
    assert s.agent_pos.tolist() == [2, 0]  # the agent never enters the goal cell
    # Truncation at T when the goal is never reached; forward into a wall does nothing.
    _, s = env.reset_to_level(None, level_from_str("^.G", CFG), params)
    for t in range(10):
        _, s, r, term, trunc, _ = step(None, s, 2, params)
        assert s.agent_pos.tolist() == [0, 0] and float(r) == 0.0 and not bool(term)
        assert bool(trunc) == (t == 9)
    assert int(s.time) == 10


def test_seven_actions_do_nothing_beyond_two(env7):
    env, params, reset, step = env7
    assert env.action_space() == ued.Discrete(7)
    assert MazeEnv(CFG).action_space() == ued.Discrete(3)
    _, s0 = reset(None, _level_with_dir(HAND, 0), params)
    o0 = env.get_obs(s0)
    for a in range(3, 7):
        o, s, r, term, trunc, _ = step(None, s0, a, params)
        assert s.agent_pos.tolist() == s0.agent_pos.tolist() and int(s.agent_dir) == 0
        np.testing.assert_array_equal(np.asarray(o.image), np.asarray(o0.image))
        assert int(s.time) == 1 and float(r) == 0.0 and not bool(term)


def test_larger_maze_env_runs_and_render_state():
    for size in (19, 25):  # 19 is packed, 25 + 2 * 4 > 32 takes the gather path
        cfg = MazeConfig(height=size, width=size)
        env = MazeEnv(cfg)
        assert env.packed == (size == 19)
        rng = np.random.default_rng(size)
        walls = rng.random((size, size)) < 0.3
        walls[0, 0] = walls[size - 1, size - 2] = False
        lvl = make_level(walls, (0, 0), 1, (size - 2, size - 1))
        o, s = env.reset_to_level(None, lvl, env.default_params)
        ref = ref_view(
            np.asarray(lvl.wall_map),
            tuple(lvl.agent_pos.tolist()),
            int(lvl.agent_dir),
            tuple(lvl.goal_pos.tolist()),
        )
        np.testing.assert_array_equal(np.asarray(o.image), ref)
        img = jax.jit(render_state, static_argnums=(1, 2))(s, 2, cfg)
        assert img.shape == ((size + 2) * 2, (size + 2) * 2, 3) and img.dtype == jnp.uint8


def test_env_conformance_and_determinism():
    space = make_maze_space(CFG)
    env = MazeEnv(CFG)
    ued.testing.check_env(env, space)
    ued.testing.check_env(MazeEnv(MazeConfig(n_actions=7, full_obs=True)), space, n_steps=8)

    # Same key -> bitwise-equal rollouts through AutoReplay under jit(scan(vmap)).
    wrapped = ued.AutoReplay(env)
    params = env.default_params

    @jax.jit
    def run(key):
        levels = space.sample_batch(key, 4)
        _, s = jax.vmap(wrapped.reset_to_level, (None, 0, None))(key, levels, params)

        def body(s, k):
            a = jax.random.randint(k, (4,), 0, 3)
            o, s, r, te, tr, _ = jax.vmap(wrapped.step, (None, 0, 0, None))(k, s, a, params)
            return s, (o.image, r, te, tr)

        return jax.lax.scan(body, s, jax.random.split(key, 300))[1]

    a, b = run(jax.random.key(0)), run(jax.random.key(0))
    chex.assert_trees_all_equal(a, b)
    c = run(jax.random.key(1))
    assert not np.array_equal(a[0], c[0])
    assert bool(jnp.any(a[3]))  # episodes truncate at T = 250 and auto-replay continues


def test_level_size_must_match_config():
    env = MazeEnv(CFG)
    with pytest.raises(ValueError, match="pad_level"):
        env.reset_to_level(None, level_from_str(">.G"), env.default_params)


def test_benchmark_script_smoke(capsys):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "env_throughput.py"
    spec = importlib.util.spec_from_file_location("env_throughput", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    args = ["--num-envs", "8", "--num-steps", "4", "--repeats", "1", "--json"]
    assert mod.main(args) == 0
    recs = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert [(r["impl"], r["num_envs"]) for r in recs] == [("openued", 8)]
    assert recs[0]["steps_per_s"] > 0 and recs[0]["compile_s"] > 0
