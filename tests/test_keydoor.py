"""The key-and-door maze: hand-computed optimal returns, BFS against a plain-Python search over
the env's own actions, the env's key pickup / toggle / observation, ASCII I/O, the level space
under the conformance kit, and ``openued train keydoor-*`` end to end."""

from __future__ import annotations

import collections
import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ued.testing
from envs.keydoor import (
    ACTION_TOGGLE,
    PREFAB_NAMES,
    KeyDoorConfig,
    KeyDoorEnv,
    door_on_every_path,
    is_solvable,
    is_valid_level,
    level_descriptor,
    level_from_str,
    level_to_str,
    make_keydoor_space,
    mutate_level,
    optimal_return,
    optimal_steps,
    path_lengths,
    prefab_levels,
)
from envs.maze import MazeParams
from experiments import cli

CFG = KeyDoorConfig()
LEFT, RIGHT, FWD, TOGGLE = 0, 1, 2, ACTION_TOGGLE
DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))

# Solvable; the door is the only way to the goal.
LOCKED = """
>.K
##D
G..
"""
# Unsolvable: the key is walled off from the agent.
KEY_WALLED_OFF = """
>..#K
...##
##D##
G....
"""
# Unsolvable: the door is the only way to the key's side, and the key is behind it.
KEY_BEHIND_DOOR = """
>.#..
..D.K
..#.G
"""
# Solvable both ways; the key and the door make a shortcut.
SHORTCUT = """
>K.D.G
.####.
......
"""


ENV = KeyDoorEnv(CFG)
PARAMS = ENV.default_params
RESET = jax.jit(ENV.reset_to_level)
STEP = jax.jit(ENV.step)


def parse(text):
    return level_from_str(text, CFG)


# ----------------------------------------------------------------------------- reference


def ref_optimal_steps(level) -> tuple[int, list[int]]:
    """Plain-Python BFS over (x, y, dir, has_key, door_open) with the env's four actions:
    ``(fewest actions to enter the goal, one such action sequence)``, ``(-1, [])`` if never."""
    walls = np.asarray(level.wall_map)
    h, w = walls.shape
    key = tuple(int(v) for v in np.asarray(level.key_pos))
    door = tuple(int(v) for v in np.asarray(level.door_pos))
    goal = tuple(int(v) for v in np.asarray(level.goal_pos))
    ax, ay = (int(v) for v in np.asarray(level.agent_pos))
    start = (ax, ay, int(level.agent_dir), False, False)
    prev = {start: None}
    q = collections.deque([start])
    while q:
        s = q.popleft()
        x, y, d, has_key, opened = s
        for a in (LEFT, RIGHT, FWD, TOGGLE):
            nx, ny = x + DIRS[d][0], y + DIRS[d][1]
            if a == FWD and (nx, ny) == goal:
                acts = [a]
                while prev[s] is not None:
                    s, a_prev = prev[s]
                    acts.append(a_prev)
                return len(acts), acts[::-1]
            nd, nk, no = d, has_key, opened
            if a in (LEFT, RIGHT):
                nd = (d + (1 if a == RIGHT else -1)) % 4
                nx, ny = x, y
            elif a == FWD:
                inside = 0 <= nx < w and 0 <= ny < h
                blocked = not inside or (walls[ny, nx] and not ((nx, ny) == door and opened))
                if blocked:
                    continue
                nk = has_key or (nx, ny) == key
            else:
                if not ((nx, ny) == door and has_key and not opened):
                    continue
                nx, ny, no = x, y, True
            t = (nx, ny, nd, nk, no)
            if t not in prev:
                prev[t] = (s, a)
                q.append(t)
    return -1, []


# ----------------------------------------------------------------------------- facts

HAND = (LOCKED, KEY_WALLED_OFF, KEY_BEHIND_DOOR, SHORTCUT)


def _facts(level):
    return dict(
        steps=optimal_steps(level),
        ret=optimal_return(level),
        ret20=optimal_return(level, MazeParams(20)),
        ret8=optimal_return(level, MazeParams(8)),
        solvable=is_solvable(level),
        valid=is_valid_level(level),
        every=door_on_every_path(level),
        desc=level_descriptor(level),
        **path_lengths(level),
    )


N_GEN = 12
I_GEN = len(HAND) + 4  # generated levels follow the hand-written ones and the prefabs


@pytest.fixture(scope="module")
def pool():
    """The hand-written levels, the prefabs, 12 generated levels, the same after 6 edits and
    after one edit, and every fact about them from one compiled, vmapped call."""
    space = make_keydoor_space(CFG)
    levels = jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(11), N_GEN)
    keys = jax.random.split(jax.random.key(12), N_GEN)
    mutated = jax.jit(jax.vmap(lambda k, lv: space.mutate_n(k, lv, 6)))(keys, levels)
    child = jax.jit(jax.vmap(mutate_level))(keys, levels)
    items = [parse(t) for t in HAND] + list(prefab_levels(CFG).values())
    items += [
        jax.tree.map(lambda x, i=i: x[i], b) for b in (levels, mutated, child) for i in range(N_GEN)
    ]
    batch = jax.tree.map(lambda *x: jnp.stack(x), *items)
    facts = jax.jit(jax.vmap(_facts))(batch)
    facts = [{k: np.asarray(v)[i] for k, v in facts.items()} for i in range(len(items))]
    return items, facts


def test_hand_written_levels_solvability_and_returns(pool):
    locked, walled, behind, shortcut = pool[1][: len(HAND)]
    # forward to (1,0), forward onto the key (2,0), turn right (face the door), toggle,
    # forward into the doorway (2,1), forward to (2,2), turn right (face left), forward to
    # (1,2), forward into the goal (0,2): 2 + 1 + 1 + 2 + 1 + 2 = 9 actions.
    assert locked["steps"] == 9
    # 1 - 0.9 * 9 / 250 = 1 - 0.0324 = 0.9676
    np.testing.assert_allclose(locked["ret"], 0.9676, rtol=1e-6)
    # with T = 20: 1 - 0.9 * 9 / 20 = 1 - 0.405 = 0.595; with T = 8 < 9 actions: 0
    np.testing.assert_allclose(locked["ret20"], 0.595, rtol=1e-6)
    assert locked["ret8"] == 0.0
    # cell moves: agent -> key 2, key -> goal through the open door 4 (down 2, left 2)
    paths = ("shortest_path", "agent_to_key", "key_to_goal", "closed_path", "open_path")
    assert [locked[k] for k in paths] == [6, 2, 4, -1, 6]
    assert locked["every"] and locked["solvable"]

    for f in (walled, behind):
        assert f["valid"] and not f["solvable"]
        assert f["steps"] == -1 and f["ret"] == 0.0 and f["shortest_path"] == -1
        # neither key can be reached with the door locked
        assert f["agent_to_key"] == -1
    # behind the door the goal is 6 moves away once it is open: right, down, through the door
    # (2,1) to (3,1), down to (3,2), right into the goal (4,2)
    assert behind["open_path"] == 6

    # key (1 forward), forward to (2,0), toggle the door (3,0), 3 forwards to the goal: 6;
    # the detour below: right, 2 forwards, left, 5 forwards, left, 2 forwards = 12
    assert shortcut["steps"] == 6
    # 1 - 0.9 * 6 / 250 = 1 - 0.0216 = 0.9784
    np.testing.assert_allclose(shortcut["ret"], 0.9784, rtol=1e-6)
    # closed: down 2, right 5, up 2 = 9 moves; via the key: 1 + 4
    assert [shortcut[k] for k in paths] == [5, 1, 4, 9, 5]
    assert not shortcut["every"]
    # descriptor: walls inside the true size (4 in row 1 + the door), 5, 4, door not required
    np.testing.assert_array_equal(shortcut["desc"], [5.0, 5.0, 4.0, 0.0])


def test_bfs_matches_plain_python_search_and_the_env_replays_it(pool):
    for lv, f in zip(*pool, strict=True):
        want, actions = ref_optimal_steps(lv)
        assert f["steps"] == want, level_to_str(lv)
        assert f["solvable"] == (want >= 0) and f["valid"]
        if want < 0:
            continue
        _, state = RESET(None, lv, PARAMS)
        for t, a in enumerate(actions):
            _, state, r, term, trunc, info = STEP(None, state, a, PARAMS)
            assert bool(term) == (t == len(actions) - 1) and not bool(trunc)
        # the env pays the optimal return for the searched sequence
        np.testing.assert_allclose(float(r), f["ret"], rtol=1e-6)
        assert bool(info["solved"])


def test_descriptor_is_the_named_path_facts(pool):
    for f in pool[1]:
        want = [f["shortest_path"], f["key_to_goal"], float(f["every"])]
        np.testing.assert_array_equal(f["desc"][1:], want)
        assert f["every"] == (f["closed_path"] < 0 <= f["open_path"])


def test_prefabs_are_solvable_and_mostly_need_the_door(pool):
    assert tuple(prefab_levels(CFG)) == PREFAB_NAMES
    facts = dict(zip(PREFAB_NAMES, pool[1][len(HAND) : len(HAND) + 4], strict=True))
    for name, f in facts.items():
        assert f["solvable"], name
        assert f["every"] == (name != "Shortcut"), name


# ----------------------------------------------------------------------------- env


def test_env_key_pickup_toggle_and_observation():
    obs, s = RESET(None, parse(LOCKED), PARAMS)
    v = CFG.agent_view_size
    # facing right from (0,0): the key (2,0) is 2 cells ahead -> view [v//2, v-1-2]
    assert obs.image[v // 2, v - 3].tolist() == [5, 4, 0]
    assert obs.image[v // 2, v - 1].tolist() == [1, 0, 0]  # own cell, nothing carried
    # toggling without the key does nothing; the locked door blocks like a wall
    for a in (FWD, FWD):
        obs, s, *_ = STEP(None, s, a, PARAMS)
    assert bool(s.has_key) and s.agent_pos.tolist() == [2, 0]
    assert obs.image[v // 2, v - 1].tolist() == [5, 4, 0]  # carried key on the agent's cell
    obs, s, *_ = STEP(None, s, RIGHT, PARAMS)  # face the door (2,1): one ahead
    assert obs.image[v // 2, v - 2].tolist() == [4, 4, 2]  # locked
    obs, s, *_ = STEP(None, s, FWD, PARAMS)
    assert s.agent_pos.tolist() == [2, 0]  # blocked
    obs, s, *_ = STEP(None, s, TOGGLE, PARAMS)
    assert bool(s.door_open) and obs.image[v // 2, v - 2].tolist() == [4, 4, 0]  # open
    obs, s, *_ = STEP(None, s, FWD, PARAMS)
    assert s.agent_pos.tolist() == [2, 1]
    # the same level without the key: a toggle leaves the door locked
    _, s2 = RESET(None, parse(">..\n##D\nG.K"), PARAMS)
    for a in (FWD, FWD, RIGHT, TOGGLE, FWD):  # face the door from (2,0), toggle, walk
        _, s2, *_ = STEP(None, s2, a, PARAMS)
    assert not bool(s2.door_open) and s2.agent_pos.tolist() == [2, 0]
    assert ENV.action_space().n == 4


def test_editing_one_tile_changes_the_observation_there():
    lv = parse(SHORTCUT)
    obs, _ = RESET(None, lv, PARAMS)
    # (2,1) relative to the agent at (0,0) facing right: 2 ahead, 1 to the right -> [3, 2]
    edited = lv.replace(wall_map=lv.wall_map.at[1, 2].set(False))
    obs2, _ = RESET(None, edited, PARAMS)
    diff = np.argwhere(np.any(np.asarray(obs.image) != np.asarray(obs2.image), axis=-1))
    assert diff.tolist() == [[3, 2]]
    assert obs.image[3, 2, 0] == 2 and obs2.image[3, 2, 0] == 1  # wall -> empty
    # moving the key from (1,0) to (2,2) changes the two view cells that show those tiles
    moved = lv.replace(key_pos=jnp.array([2, 2], jnp.int32))
    obs3, _ = RESET(None, moved, PARAMS)
    diff = np.argwhere(np.any(np.asarray(obs.image) != np.asarray(obs3.image), axis=-1))
    assert sorted(diff.tolist()) == [[2, 3], [4, 2]]


def test_env_conformance_jit_vmap_scan_determinism():
    space = make_keydoor_space(CFG)
    ued.testing.check_env(KeyDoorEnv(CFG), space, n_envs=4, n_steps=12)


# ----------------------------------------------------------------------------- space


def test_level_space_conformance_and_determinism():
    space = make_keydoor_space(CFG)
    assert space.name == "keydoor/13x13"
    assert space.descriptor_names == ("walls", "shortest_path", "key_to_goal", "door_on_every_path")
    ued.testing.check_level_space(space)
    chex.assert_trees_all_equal(space.sample(jax.random.key(5)), space.sample(jax.random.key(5)))


def test_generator_and_mutator_semantics(pool):
    items, facts = pool
    gen = range(I_GEN, I_GEN + N_GEN)
    child = range(I_GEN + 2 * N_GEN, I_GEN + 3 * N_GEN)
    for i in gen:
        walls = int(np.asarray(items[i].wall_map).sum())
        assert walls <= CFG.n_walls + 1  # the drawn walls (with replacement) and the door
        assert facts[i]["valid"] and facts[i]["desc"][0] == walls
    # every edit changes the level and keeps it valid (so do the 6-edit chains)
    for i, j in zip(gen, child, strict=True):
        same = [
            np.array_equal(a, b)
            for a, b in zip(jax.tree.leaves(items[i]), jax.tree.leaves(items[j]), strict=True)
        ]
        assert not all(same) and facts[j]["valid"] and facts[i + N_GEN]["valid"]


def test_config_refuses_sizes_outside_13_to_21():
    with pytest.raises(ValueError, match=r"KeyDoorConfig.height must be in \[13, 21\], got 12"):
        KeyDoorConfig(height=12)
    with pytest.raises(ValueError, match=r"KeyDoorConfig.width must be in \[13, 21\], got 23"):
        KeyDoorConfig(width=23)
    KeyDoorConfig(height=21, width=17)


def test_ascii_round_trip_and_errors(pool):
    for lv in pool[0][I_GEN : I_GEN + 3 * N_GEN]:
        text = level_to_str(lv)
        assert "K" in text and "D" in text
        chex.assert_trees_all_equal(level_from_str(text, CFG), lv)
    assert level_to_str(parse(SHORTCUT)) == SHORTCUT.strip()
    for text, needle in (
        (">K.\nKDG", "row 2, column 1: second key 'K' (first at row 1, column 2)"),
        (">K.\n..G", "no door 'D'"),
        (">D.\n..G", "no key 'K'"),
        (">KD\nx.G", "row 2, column 1: unknown character 'x'"),
    ):
        with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            level_from_str(text)


# ----------------------------------------------------------------------------- CLI

TINY = [
    "--num-envs", "4", "--num-steps", "16", "--keydoor-validation-levels", "4",
    "--network", "small-ff", "--keydoor-max-steps", "16", "--eval-attempts", "2",
    "--eval-every", "0", "--num-epochs", "1", "--progress", "false", "--plot", "false",
    "--num-updates", "2", "--chunk-size", "2",
]  # fmt: skip


@pytest.mark.parametrize(
    "preset,extra",
    [
        ("keydoor-dr", []),
        # a second trainer compile (~25 s on the shared 2-core CPU): run with -m slow
        pytest.param("keydoor-robust-plr", ["--buffer-capacity", "8"], marks=pytest.mark.slow),
    ],
)
def test_cli_train_then_eval(preset, extra, tmp_path, capsys):
    run_dir = tmp_path / preset
    assert cli.main(["train", preset, *TINY, *extra, "--out", str(run_dir)]) == 0
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == [1, 2]
    assert "level/key_to_goal" in rows[-1] and "level/door_on_every_path" in rows[-1]
    capsys.readouterr()
    assert cli.main(["eval", str(run_dir)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(res["solve_rate"]) == set(PREFAB_NAMES) | {f"validation-{i}" for i in range(4)}
    assert 0.0 <= res["mean_solve_rate"] <= 1.0
