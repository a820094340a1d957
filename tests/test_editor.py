"""Editable level spaces and the editor environment (PAIRED's teacher MDP).

The Maze's edits are checked against a small NumPy reference of the published (jaxued
``MazeEditor``) semantics, with hypothesis drawing the action sequences.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ued
from envs.maze import MazeConfig, edit_observation, empty_level, level_to_str, make_maze_space
from envs.maze.editor import MAZE_PAIRED_CONFIG, MAZE_PAIRED_NOISE_DIM, MAZE_PAIRED_NUM_EDITS
from ued.editor import EditorEnv, EditorObs, make_editor_env
from ued.testing import check_editable, check_env

H = W = 5
N_EDITS = 12
CFG = MazeConfig(height=H, width=W, n_walls=4, max_steps=16)


@pytest.fixture(scope="module")
def space():
    return make_maze_space(CFG, num_edits=N_EDITS)


@pytest.fixture(scope="module")
def build(space):
    """jit: actions int32[N_EDITS] -> the level built from edit_empty."""

    def run(actions):
        def body(lvl, x):
            return space.apply_edit(lvl, x[0], x[1]), None

        return jax.lax.scan(body, space.edit_empty, (actions, jnp.arange(N_EDITS)))[0]

    return jax.jit(run)


def reference_build(actions, max_walls=None):
    """NumPy reference of the Maze edits (envs/maze/editor.py's docstring), from empty_level."""
    walls = np.zeros((H, W), bool)
    agent, goal, d = (0, 0), (W - 1, H - 1), 0
    n = H * W

    def next_cell(start, avoid):
        for k in range(1, n + 1):
            c = (start + k) % n
            if c != avoid:
                return c
        raise AssertionError

    for t, a in enumerate(actions):
        a = min(max(int(a), 0), n - 1)
        x, y = a % W, a // W
        if t == 0:
            if agent == (x, y):
                c = next_cell(a, a)
                agent = (c % W, c // W)
            goal = (x, y)
            walls[y, x] = False
            walls[agent[1], agent[0]] = False
        elif t == 1:
            d = a % 4
        elif t == 2:
            if (x, y) == goal:
                c = next_cell(a, goal[1] * W + goal[0])
                x, y = c % W, c // W
            agent = (x, y)
            walls[y, x] = False
        elif (x, y) not in (agent, goal):
            if walls[y, x] or max_walls is None or walls.sum() < max_walls:
                walls[y, x] = not walls[y, x]
    return walls, agent, d, goal


def test_maze_space_is_editable(space):
    assert space.editable
    assert space.num_edit_actions == H * W and space.num_edits == N_EDITS
    check_editable(space)
    assert bool(space.is_valid(space.edit_empty))


def test_published_settings():
    sp = make_maze_space(MAZE_PAIRED_CONFIG)
    assert (MAZE_PAIRED_CONFIG.height, MAZE_PAIRED_CONFIG.width) == (13, 13)
    assert MAZE_PAIRED_CONFIG.n_walls == 25
    assert sp.num_edits == MAZE_PAIRED_NUM_EDITS == 50
    assert MAZE_PAIRED_NOISE_DIM == 50
    assert sp.num_edit_actions == 169
    assert edit_observation(sp.edit_empty).shape == (15, 15, 3)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, H * W - 1), min_size=N_EDITS, max_size=N_EDITS))
def test_random_edit_sequences_match_reference_and_stay_valid(space, build, actions):
    lvl = build(jnp.asarray(actions, jnp.int32))
    assert bool(space.is_valid(lvl)), level_to_str(lvl)
    walls, agent, d, goal = reference_build(actions)
    np.testing.assert_array_equal(np.asarray(lvl.wall_map), walls)
    assert tuple(np.asarray(lvl.agent_pos).tolist()) == agent
    assert tuple(np.asarray(lvl.goal_pos).tolist()) == goal
    assert int(lvl.agent_dir) == d


def test_edit_semantics_by_hand(space, build):
    # goal on 24 (4, 4); direction 7 % 4 = 3 (up); agent on the goal -> next cell (wraps to 0);
    # walls: 6, 6 again (toggled off), 7, the agent's cell 0 and the goal's 24 (no-ops), 8
    acts = [24, 7, 24, 6, 6, 7, 0, 24, 8, 8, 8, 12]
    lvl = build(jnp.asarray(acts, jnp.int32))
    assert np.asarray(lvl.goal_pos).tolist() == [4, 4]
    assert np.asarray(lvl.agent_pos).tolist() == [0, 0]
    assert int(lvl.agent_dir) == 3
    expect = np.zeros((H, W), bool)
    expect[1, 2] = expect[1, 3] = expect[2, 2] = True  # 7, 8 (toggled 3x), 12
    np.testing.assert_array_equal(np.asarray(lvl.wall_map), expect)
    # placing the goal on a wall clears it; the goal on the agent moves the agent aside
    e = jax.jit(space.apply_edit)
    w = space.edit_empty.replace(wall_map=space.edit_empty.wall_map.at[1, 1].set(True))
    g = e(w, jnp.int32(6), jnp.int32(0))
    assert not bool(g.wall_map[1, 1]) and np.asarray(g.goal_pos).tolist() == [1, 1]
    g = e(space.edit_empty, jnp.int32(0), jnp.int32(0))
    assert np.asarray(g.goal_pos).tolist() == [0, 0]
    assert np.asarray(g.agent_pos).tolist() == [1, 0] and bool(space.is_valid(g))
    # out-of-range actions are clipped into the grid
    g = e(space.edit_empty, jnp.int32(10_000), jnp.int32(5))
    assert bool(g.wall_map[H - 1, W - 1]) is False  # the goal's cell: a no-op


def test_wall_budget():
    sp = make_maze_space(CFG, num_edits=N_EDITS, max_walls=2)
    lvl = sp.edit_empty
    acts = [24, 0, 0, 6, 7, 8, 9, 7, 9]
    edit = jax.jit(sp.apply_edit)
    for t, a in enumerate(acts):
        lvl = edit(lvl, jnp.int32(a), jnp.int32(t))
    walls, *_ = reference_build(acts, max_walls=2)
    np.testing.assert_array_equal(np.asarray(lvl.wall_map), walls)
    assert int(lvl.wall_map.sum()) == 2  # 6, 7 placed; 8, 9 refused; 7 removed; 9 placed
    with pytest.raises(ValueError, match="max_walls"):
        make_maze_space(CFG, max_walls=-1)
    with pytest.raises(ValueError, match="num_edits"):
        make_maze_space(CFG, num_edits=2)


def test_editor_env_contract(space):
    env = make_editor_env(space, noise_dim=3)
    check_env(env, space, n_envs=2, n_steps=N_EDITS + 3)


def test_editor_episode_builds_the_level(space, build):
    env = make_editor_env(space, noise_dim=3)
    assert env.action_space().n == H * W
    acts = jnp.asarray([3, 2, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18], jnp.int32)

    @jax.jit
    def run(key):
        obs, s = env.reset_to_level(key, space.edit_empty, env.default_params)

        def body(s, x):
            k, a = x
            o, s, r, te, tr, _ = env.step(k, s, a, env.default_params)
            return s, (o, r, te, tr)

        s, out = jax.lax.scan(body, s, (jax.random.split(key, N_EDITS), acts))
        return obs, s, out

    obs0, s, (obs, r, te, tr) = run(jax.random.key(0))
    assert isinstance(obs0, EditorObs)
    assert int(obs0.time) == 0 and obs0.noise.shape == (3,) and obs0.image.shape == (7, 7, 3)
    np.testing.assert_array_equal(np.asarray(obs.time), np.arange(1, N_EDITS + 1))
    np.testing.assert_array_equal(np.asarray(te), np.arange(1, N_EDITS + 1) == N_EDITS)
    assert not np.asarray(tr).any() and not np.asarray(r).any()
    assert not np.array_equal(np.asarray(obs.noise[0]), np.asarray(obs.noise[1]))
    built = env.built_level(s)
    want = build(acts)
    for a, b in zip(jax.tree.leaves(built), jax.tree.leaves(want), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(obs.image[-1]), np.asarray(edit_observation(want)))
    # steps after the end change nothing
    _, s2, _, te2, _, _ = env.step(jax.random.key(1), s, jnp.int32(5), env.default_params)
    assert bool(te2) and int(s2.time) == N_EDITS
    assert np.array_equal(np.asarray(s2.level.wall_map), np.asarray(s.level.wall_map))


def test_edit_observation_draws_grid():
    lvl = empty_level(CFG)
    img = np.asarray(edit_observation(lvl))
    assert img.dtype == np.uint8 and img.shape == (H + 2, W + 2, 3)
    assert (img[0, :, 0] == 2).all() and (img[:, -1, 0] == 2).all()  # the wall border
    assert img[1, 1].tolist() == [10, 0, 0]  # the agent at (0, 0) facing right
    assert img[H, W, 0] == 8  # the goal at (W - 1, H - 1)


# a non-maze editable space: a row of 6 bits, each edit flips one (the editor works for any)
@struct.dataclass
class Bits:
    bits: jax.Array  # bool[6]


def _bits_space(**edit):
    z = Bits(jnp.zeros(6, bool))
    kw = dict(
        name="bits",
        placeholder=z,
        sample=lambda k: Bits(jax.random.bernoulli(k, 0.5, (6,))),
        is_valid=lambda lv: jnp.asarray(True),
    )
    kw.update(edit)
    return ued.LevelSpace(**kw)


def test_any_editable_space():
    flip = lambda lv, a, t: Bits(lv.bits.at[a].set(~lv.bits[a]))
    sp = _bits_space(
        edit_empty=Bits(jnp.zeros(6, bool)),
        num_edit_actions=6,
        apply_edit=flip,
        num_edits=4,
        edit_observation=lambda lv: lv.bits.astype(jnp.float32),
    )
    check_editable(sp, n=8)
    env = EditorEnv(sp, noise_dim=2)
    check_env(env, sp, n_envs=2, n_steps=6)


def test_missing_edit_fields_errors():
    plain = _bits_space()
    assert not plain.editable
    with pytest.raises(AssertionError, match=r"\[editable\]"):
        check_editable(plain)
    with pytest.raises(ValueError, match="'edit_empty'"):
        make_editor_env(plain)
    with pytest.raises(TypeError, match="all or none.*missing"):
        _bits_space(num_edits=3)
    with pytest.raises(TypeError, match="num_edits must be an int"):
        _bits_space(
            edit_empty=Bits(jnp.zeros(6, bool)),
            num_edit_actions=6,
            apply_edit=lambda lv, a, t: lv,
            num_edits=0,
            edit_observation=lambda lv: lv.bits,
        )
    with pytest.raises(TypeError, match="edit_empty must have the placeholder's"):
        _bits_space(
            edit_empty=Bits(jnp.zeros(5, bool)),
            num_edit_actions=6,
            apply_edit=lambda lv, a, t: lv,
            num_edits=3,
            edit_observation=lambda lv: lv.bits,
        )


def test_check_editable_catches_invalid_end_levels():
    # an "edit" that produces invalid levels (is_valid wants at most 2 bits set)
    sp = ued.LevelSpace(
        name="bits2",
        placeholder=Bits(jnp.zeros(6, bool)),
        sample=lambda k: Bits(jax.random.bernoulli(k, 0.2, (6,)) & (jnp.arange(6) < 2)),
        is_valid=lambda lv: lv.bits.sum() <= 2,
        edit_empty=Bits(jnp.zeros(6, bool)),
        num_edit_actions=6,
        apply_edit=lambda lv, a, t: Bits(lv.bits.at[a].set(True)),
        num_edits=5,
        edit_observation=lambda lv: lv.bits,
    )
    with pytest.raises(AssertionError, match=r"\[validity after edits\]"):
        check_editable(sp, n=8)
