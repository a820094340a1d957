"""XLand-MiniGrid as a level space (``envs.xland``): the generator and mutator keep rulesets
solvable (checked on the host by following the rule chain), the env behind the toolkit's
contract (fixed starts, goal -> terminated, time limit -> truncated, observations near an edited
tile), the conformance kit, loading rulesets from a local file, the missing-extra error, and
``openued train xland-*`` end to end."""

from __future__ import annotations

import bz2
import json
import pickle
import subprocess
import sys

import pytest

pytest.importorskip("xminigrid", reason="XLand tests need the extra: pip install 'openued[xland]'")

import chex  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import ued.testing  # noqa: E402
from envs.xland import (  # noqa: E402
    ACTION_FORWARD,
    ACTION_LEFT,
    ACTION_PICK_UP,
    ACTION_PUT_DOWN,
    BALL,
    DESCRIPTOR_NAMES,
    KEY,
    XLandConfig,
    XLandEnv,
    XLandParams,
    check_solvable,
    is_valid_level,
    level_descriptor,
    load_rulesets,
    make_xland_space,
    placeholder_level,
    render_level,
    save_rulesets,
)
from experiments import cli  # noqa: E402

# a small config: depth 2 exercises chains, distractor rules and objects
CFG = XLandConfig(depth=2, distractor_rules=2, distractor_objects=2)
SPACE = make_xland_space(CFG)
ENV = XLandEnv(CFG)
PARAMS = ENV.default_params
RESET = jax.jit(ENV.reset_to_level)
STEP = jax.jit(ENV.step)
N = 64
RED, GREEN = 1, 2


def _index(tree, i):
    return jax.tree.map(lambda x: x[i], tree)


@pytest.fixture(scope="module")
def pool():
    """64 sampled levels, each after one edit, and after 8 edits (one compiled program)."""

    def make(key):
        k_s, k_m = jax.random.split(key)
        levels = SPACE.sample_batch(k_s, N)
        keys = jax.random.split(k_m, N)
        one = jax.vmap(SPACE.mutate)(keys, levels)
        many = jax.vmap(lambda k, lv: SPACE.mutate_n(k, lv, 8))(keys, levels)
        return levels, one, many

    return jax.jit(make)(jax.random.key(3))


def _hold_level(goal, rules=(), tiles=((BALL, RED),), pos=((1, 1),), agent=(1, 2), agent_dir=3):
    """A hand level of CFG's shapes: the agent at (1, 2) facing left, toward (1, 1)."""
    lv = placeholder_level(CFG)
    r = np.zeros(lv.rules.shape, np.uint8)
    for i, row in enumerate(rules):
        r[i, : len(row)] = row
    t = np.zeros(lv.init_tiles.shape, np.uint8)
    p = np.zeros(lv.object_pos.shape, np.int32)
    if tiles:
        t[: len(tiles)] = tiles
        p[: len(pos)] = pos
    return lv.replace(
        goal=jnp.asarray(goal, jnp.uint8),
        rules=jnp.asarray(r),
        init_tiles=jnp.asarray(t),
        object_pos=jnp.asarray(p),
        agent_pos=jnp.asarray(agent, jnp.int32),
        agent_dir=jnp.asarray(agent_dir, jnp.int32),
        depth=jnp.asarray(len(rules), jnp.int32),
    )


# ----------------------------------------------------------------------------- the space


def test_level_space_conformance():
    assert SPACE.name == "xland/9x9-d2" and SPACE.descriptor_names == DESCRIPTOR_NAMES
    ued.testing.check_level_space(SPACE)


def test_sampled_and_mutated_rulesets_are_solvable(pool):
    valid = jax.jit(jax.vmap(is_valid_level))
    for batch in pool:
        assert bool(jnp.all(valid(batch)))
        batch = jax.tree.map(np.asarray, batch)  # one transfer, then host indexing
        for i in range(N):
            ok, why = check_solvable(_index(batch, i))
            assert ok, why
    # the host check can fail: a distractor rule eating a chain tile, an unmade goal tile
    lv = _index(pool[0], 0)
    first = np.asarray(lv.init_tiles[0])
    eater = np.array([2, *first, 1, 7, 0, 0], np.uint8)  # agent near the first object -> floor
    assert not check_solvable(lv.replace(rules=lv.rules.at[-1].set(eater)))[0]
    gone = lv.replace(init_tiles=lv.init_tiles.at[0].set(0))
    assert not check_solvable(gone)[0]


def test_generator_structure_and_descriptor(pool):
    levels, _, _ = pool
    d = np.asarray(jax.vmap(level_descriptor)(levels))
    assert (d[:, 0] == 2).all()  # chain depth
    assert ((d[:, 2] >= 0) & (d[:, 2] <= 2)).all() and len(set(d[:, 2])) > 1
    assert (d[:, 1] == 2 + d[:, 2]).all()  # chain rules + active distractor rules
    # objects: the chain's first, one side input per two-input rule, the goal's second tile,
    # the distractors' inputs, 2 distractor objects
    assert ((d[:, 3] >= 3) & (d[:, 3] <= CFG.num_objects)).all()
    dist = np.abs(np.asarray(levels.object_pos[:, 0] - levels.agent_pos)).sum(-1)
    np.testing.assert_array_equal(d[:, 5], dist)
    # every kind of goal the generator draws shows up
    assert set(np.asarray(levels.goal[:, 0]).tolist()) == {1, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14}


def test_every_edit_changes_the_level(pool):
    levels, one, _ = pool
    for i in range(N):
        a, b = _index(levels, i), _index(one, i)
        same = [np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b),
                                                     strict=True)]  # fmt: skip
        assert not all(same), i


def test_render_draws_walls_objects_and_the_agent():
    lv = _hold_level([1, KEY, GREEN, 0, 0], tiles=((KEY, GREEN),))
    img = np.asarray(jax.jit(render_level)(lv))
    assert img.shape == (72, 72, 3) and img.dtype == np.uint8
    assert (img[:8, :8] == 100).all()  # the wall (0, 0)
    cell = img[8:16, 8:16].reshape(-1, 3)  # the green key at (1, 1)
    assert ((cell == [0, 255, 0]).all(-1)).any()
    agent = img[8:16, 16:24].reshape(-1, 3)  # the agent at (1, 2)
    assert ((agent == [255, 0, 0]).all(-1)).any()


# ----------------------------------------------------------------------------- the env


def test_env_conformance_jit_vmap_scan_determinism():
    ued.testing.check_env(ENV, SPACE, n_envs=4, n_steps=8)


def test_goal_terminates_with_the_reward_and_solved():
    # depth 0: hold the red ball, which lies in front of the agent
    _, s = RESET(None, _hold_level([1, BALL, RED, 0, 0]), PARAMS)
    _, s, r, term, trunc, info = STEP(None, s, ACTION_PICK_UP, PARAMS)
    assert bool(term) and not bool(trunc) and bool(info["solved"])
    np.testing.assert_allclose(float(r), 1 - 0.9 * 1 / CFG.max_steps, rtol=1e-6)
    # depth 1: picking up the ball turns it into a green key (rule "agent holds"), the goal
    lv = _hold_level([1, KEY, GREEN, 0, 0], rules=[[1, BALL, RED, KEY, GREEN]])
    obs, s = RESET(None, lv, PARAMS)
    assert float(obs["pocket"].sum()) == 2.0 and float(obs["pocket"][0]) == 1.0  # empty
    _, s, r, term, *_ = STEP(None, s, ACTION_LEFT, PARAMS)  # turn away: nothing
    assert not bool(term) and float(r) == 0.0
    _, s, *_ = STEP(None, s, 1, PARAMS)  # turn back (right)
    obs, s, r, term, trunc, info = STEP(None, s, ACTION_PICK_UP, PARAMS)
    assert bool(term) and bool(info["solved"]) and not bool(trunc)
    np.testing.assert_allclose(float(r), 1 - 0.9 * 3 / CFG.max_steps, rtol=1e-6)
    assert np.asarray(s.agent.pocket).tolist() == [KEY, GREEN]
    assert float(obs["pocket"][KEY]) == 1.0 and float(obs["pocket"][13 + GREEN]) == 1.0
    # a goal the agent does not reach: the time limit truncates
    params = XLandParams(max_steps_in_episode=jnp.asarray(3, jnp.int32))
    _, s = RESET(None, _hold_level([1, KEY, GREEN, 0, 0]), params)
    for t in range(3):
        _, s, r, term, trunc, info = STEP(None, s, ACTION_FORWARD, params)
        assert not bool(term) and bool(trunc) == (t == 2) and float(r) == 0.0
        assert not bool(info["solved"])
    # put the ball down and pick it up again: still not the goal (a key is)
    _, s = RESET(None, _hold_level([1, KEY, GREEN, 0, 0]), PARAMS)
    for a in (ACTION_PICK_UP, ACTION_PUT_DOWN, ACTION_PICK_UP):
        _, s, _, term, *_ = STEP(None, s, a, PARAMS)
        assert not bool(term)


def test_same_level_same_start_under_any_key(pool):
    lv = _index(pool[0], 0)
    o1, s1 = RESET(jax.random.key(0), lv, PARAMS)
    o2, s2 = RESET(jax.random.key(123), lv, PARAMS)
    chex.assert_trees_all_equal((o1, s1), (o2, s2))
    # the level fixes the positions: the grid holds each object where the level says
    grid = np.asarray(s1.grid)
    for t, p in zip(np.asarray(lv.init_tiles), np.asarray(lv.object_pos), strict=True):
        if t[0]:
            assert grid[p[0], p[1]].tolist() == t.tolist()
    assert np.asarray(s1.agent.position).tolist() == np.asarray(lv.agent_pos).tolist()


def test_editing_one_tile_changes_the_observation_there():
    # the agent at (4, 4) facing up (direction 0): view row V-1 is its own row, column V//2
    # its own column; the cell (2, 5) is two ahead and one to the right: view [2, 3]
    lv = _hold_level([1, KEY, GREEN, 0, 0], tiles=(), pos=(), agent=(4, 4), agent_dir=0)
    obs, _ = RESET(None, lv, PARAMS)
    edited = lv.replace(
        init_tiles=lv.init_tiles.at[0].set(jnp.array([BALL, RED], jnp.uint8)),
        object_pos=lv.object_pos.at[0].set(jnp.array([2, 5], jnp.int32)),
    )
    obs2, _ = RESET(None, edited, PARAMS)
    diff = np.argwhere(np.any(np.asarray(obs["view"]) != np.asarray(obs2["view"]), axis=-1))
    assert diff.tolist() == [[2, 3]]
    assert np.asarray(obs2["view"][2, 3]).tolist() == [BALL, RED]
    walled = lv.replace(walls=lv.walls.at[3, 3].set(True))  # one ahead, one to the left
    obs3, _ = RESET(None, walled, PARAMS)
    diff = np.argwhere(np.any(np.asarray(obs["view"]) != np.asarray(obs3["view"]), axis=-1))
    assert diff.tolist() == [[3, 1]]
    np.testing.assert_array_equal(obs["goal"], obs2["goal"])


# ----------------------------------------------------------------------------- files, extra


def test_load_rulesets_from_npz_and_the_package_format(pool, tmp_path):
    levels = jax.tree.map(lambda x: x[:4], pool[0])
    save_rulesets(tmp_path / "r.npz", levels)
    got = load_rulesets(tmp_path / "r.npz", CFG)
    np.testing.assert_array_equal(got.goal, levels.goal)
    np.testing.assert_array_equal(got.rules, levels.rules)
    np.testing.assert_array_equal(got.init_tiles, levels.init_tiles)
    assert (np.asarray(got.depth) == -1).all() and bool(jnp.all(jax.vmap(is_valid_level)(got)))
    # the package's benchmark format: a bz2 pickle of the arrays, fewer rows than CFG's
    data = dict(
        goals=np.asarray(levels.goal),
        rules=np.asarray(levels.rules[:, :1]),
        init_tiles=np.asarray(levels.init_tiles[:, :3]),
        num_rules=np.ones(4),
    )
    with bz2.open(tmp_path / "bench", "wb") as f:
        pickle.dump(data, f)
    again = load_rulesets(tmp_path / "bench", CFG)
    assert again.rules.shape == levels.rules.shape  # padded to the space's shapes
    chex.assert_trees_all_equal(again, load_rulesets(tmp_path / "bench", CFG))  # fixed layout
    # a loaded level is only moved by mutate (its structure is unknown) and stays valid
    m = jax.jit(jax.vmap(SPACE.mutate))(jax.random.split(jax.random.key(0), 4), again)
    np.testing.assert_array_equal(m.rules, again.rules)
    assert bool(jnp.all(jax.vmap(is_valid_level)(m)))
    with pytest.raises(ValueError, match="missing arrays"):
        np.savez(tmp_path / "bad.npz", goals=np.zeros((1, 5), np.uint8))
        load_rulesets(tmp_path / "bad.npz", CFG)


def test_module_imports_and_registers_without_the_package():
    code = (
        "import sys; sys.modules['xminigrid'] = None\n"
        "import envs.xland as x\n"
        "from ued.registry import LEVEL_SPACES\n"
        "assert 'xland' in LEVEL_SPACES\n"
        "from ued.options import ConfigError\n"
        "try:\n"
        "    x.XLandEnv()\n"
        "except ConfigError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "XLand needs the xminigrid package: pip install 'openued[xland]'"


# ----------------------------------------------------------------------------- CLI

TINY = [
    "--num-envs", "4", "--num-steps", "16", "--xland-validation-levels", "4",
    "--network", "small-lstm", "--xland-max-steps", "16", "--eval-attempts", "2",
    "--eval-every", "0", "--num-epochs", "1", "--num-minibatches", "1", "--progress", "false",
    "--plot", "false", "--num-updates", "2", "--chunk-size", "2",
]  # fmt: skip


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--xland-view-size", "4"], "--xland-view-size: XLandConfig.view_size must be odd"),
        (["--xland-depth", "9"], "--xland-depth: invalid value '9'; allowed: an integer in [0, 8]"),
        (["--xland-size", "5", "--xland-distractor-objects", "9"], "--xland-size"),
    ],
)
def test_bad_options_are_refused_naming_the_field(argv, needle, capsys):
    assert cli.main(["train", "xland-dr", *argv]) == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize(
    "preset,extra",
    [
        ("xland-dr", []),
        pytest.param("xland-robust-plr", ["--buffer-capacity", "8"], marks=pytest.mark.slow),
    ],
)
def test_cli_train_then_eval(preset, extra, tmp_path, capsys):
    run_dir = tmp_path / preset
    assert cli.main(["train", preset, *TINY, *extra, "--out", str(run_dir)]) == 0
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == [1, 2]
    assert "level/chain_depth" in rows[-1] and "level/agent_to_first_object" in rows[-1]
    capsys.readouterr()
    assert cli.main(["eval", str(run_dir)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(res["solve_rate"]) == {f"validation-{i}" for i in range(4)}
    assert 0.0 <= res["mean_solve_rate"] <= 1.0


def test_presets_follow_the_sfl_papers_xland_settings():
    from experiments.kinds import ued as U

    cfg = U.make_config("xland-sfl")
    assert (cfg.curriculum, cfg.score, cfg.sfl_buffer_prob, cfg.network) == (
        "sfl", "learnability", 1.0, "xland")  # fmt: skip
    assert (cfg.lr, cfg.gamma, cfg.gae_lambda, cfg.ent_coef) == (1e-3, 0.99, 0.95, 0.01)
    assert (cfg.num_epochs, cfg.num_minibatches, cfg.xland_depth, cfg.xland_size) == (1, 16, 1, 9)
    assert U.make_config("xland-dr").curriculum == "dr"
    assert U.make_config("xland-robust-plr").curriculum == "robust-plr"
