"""Maze levels: ASCII I/O, BFS vs plain-Python references, the level space, prefabs, generators,
rendering."""

from __future__ import annotations

import collections

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ued
import ued.testing
from envs.maze import (
    PREFAB_NAMES,
    MazeConfig,
    MazeLevel,
    MazeParams,
    corridor,
    four_rooms,
    is_valid_level,
    level_from_str,
    level_to_str,
    load_levels,
    make_level,
    make_maze_space,
    optimal_return,
    optimal_steps,
    pad_level,
    perfect_maze,
    prefab_levels,
    render_level,
    save_level_grid,
    shortest_path_length,
)

CFG = MazeConfig()
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))


# ----------------------------------------------------------------------------- references


def ref_distances(walls: np.ndarray, agent) -> dict[tuple[int, int], int]:
    """Plain-Python BFS over free cells from ``agent``: {(x, y): moves}."""
    h, w = walls.shape
    start = (int(agent[0]), int(agent[1]))
    dist = {start: 0}
    q = collections.deque([start])
    while q:
        x, y = q.popleft()
        for dx, dy in DIRS:
            nx, ny = x + dx, y + dy
            if 0 <= nx < w and 0 <= ny < h and not walls[ny, nx] and (nx, ny) not in dist:
                dist[(nx, ny)] = dist[(x, y)] + 1
                q.append((nx, ny))
    return dist


def ref_shortest_path(walls: np.ndarray, agent, goal) -> int:
    """Plain-Python BFS over cells; -1 if unreachable."""
    return ref_distances(walls, agent).get((int(goal[0]), int(goal[1])), -1)


def ref_optimal_steps(walls: np.ndarray, agent, agent_dir: int, goal) -> int:
    """Plain-Python BFS over (x, y, dir) with the env's actions; -1 if never."""
    h, w = walls.shape
    start = (int(agent[0]), int(agent[1]), int(agent_dir))
    dist = {start: 0}
    q = collections.deque([start])
    while q:
        x, y, d = q.popleft()
        n = dist[(x, y, d)]
        dx, dy = DIRS[d]
        nx, ny = x + dx, y + dy
        if (nx, ny) == tuple(goal):
            return n + 1
        nxt = [(x, y, (d - 1) % 4), (x, y, (d + 1) % 4)]
        if 0 <= nx < w and 0 <= ny < h and not walls[ny, nx]:
            nxt.append((nx, ny, d))
        for s in nxt:
            if s not in dist:
                dist[s] = n + 1
                q.append(s)
    return -1


def random_level(seed: int, density: float | None = None) -> MazeLevel:
    """A random valid 13x13-padded level with a random true size (host)."""
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(2, 14, size=2))
    p = rng.uniform(0.0, 0.6) if density is None else density
    walls = rng.random((h, w)) < p
    cells = rng.choice(h * w, size=2, replace=False)
    (ay, ax), (gy, gx) = divmod(int(cells[0]), w), divmod(int(cells[1]), w)
    walls[ay, ax] = walls[gy, gx] = False
    padded = np.ones((13, 13), bool)
    padded[:h, :w] = walls
    return make_level(padded, (ax, ay), int(rng.integers(4)), (gx, gy), width=w, height=h)


@pytest.fixture(scope="module")
def jitted():
    return {
        "spl": jax.jit(shortest_path_length),
        "steps": jax.jit(optimal_steps),
        "ret": jax.jit(optimal_return),
        "valid": jax.jit(is_valid_level),
    }


# ----------------------------------------------------------------------------- ASCII


@st.composite
def ascii_levels(draw):
    h = draw(st.integers(1, 13))
    w = draw(st.integers(2 if h == 1 else 1, 13))
    cells = draw(st.lists(st.sampled_from("#."), min_size=h * w, max_size=h * w))
    a, g = draw(st.lists(st.integers(0, h * w - 1), min_size=2, max_size=2, unique=True).map(tuple))
    cells[a] = draw(st.sampled_from(">v<^"))
    cells[g] = "G"
    return "\n".join("".join(cells[r * w : (r + 1) * w]) for r in range(h))


@SETTINGS
@given(text=ascii_levels())
def test_ascii_round_trip(text):
    lvl = level_from_str(text, CFG)
    assert lvl.wall_map.shape == (13, 13) and lvl.wall_map.dtype == jnp.bool_
    assert level_to_str(lvl) == text
    assert bool(is_valid_level(lvl))
    again = level_from_str(level_to_str(lvl), CFG)
    chex.assert_trees_all_equal(again, lvl)
    # Unpadded parse keeps the text's size.
    assert level_from_str(text).wall_map.shape == (len(text.splitlines()), len(text.split()[0]))


def test_ascii_semantics():
    lvl = level_from_str("#.G\n^..\n", CFG)
    assert lvl.agent_pos.tolist() == [0, 1] and int(lvl.agent_dir) == 3
    assert lvl.goal_pos.tolist() == [2, 0]
    assert (int(lvl.width), int(lvl.height)) == (3, 2)
    assert bool(lvl.wall_map[0, 0]) and not bool(lvl.wall_map[0, 1])
    assert bool(jnp.all(lvl.wall_map[2:, :])) and bool(jnp.all(lvl.wall_map[:, 3:]))
    for ch, d in zip(">v<^", range(4), strict=True):
        assert int(level_from_str(f"{ch}G").agent_dir) == d
    assert lvl.agent_pos.dtype == jnp.int32 and lvl.agent_dir.dtype == jnp.int32


BAD_ASCII = [
    ("", r"row 1, column 1: empty"),
    ("\n  \n", r"row 1, column 1: empty"),
    ("..G\n...", r"row 2, column 3: no agent"),
    (">..\n...", r"row 2, column 3: no goal"),
    (">.G\n.<.", r"row 2, column 2: second agent '<' \(first at row 1, column 1\)"),
    (">GG", r"row 1, column 3: second goal"),
    (">..\n.G", r"row 2, column 3: ragged rows"),
    (">...\n.G..\n..", r"row 3, column 3: ragged rows"),
    (">.x\n..G", r"row 1, column 3: unknown character 'x'"),
    (">.G\n\n...", r"row 2, column 1: blank line"),
    ("\n".join([">" + "." * 12] + ["." * 13] * 12 + ["G" + "." * 12]), r"row 14, column 1: "),
    (">" + "." * 13 + "G", r"row 1, column 14: level is 1x15"),
]


@pytest.mark.parametrize(("text", "pattern"), BAD_ASCII)
def test_bad_ascii_raises(text, pattern):
    with pytest.raises(ValueError, match=pattern):
        level_from_str(text, CFG)


def test_load_levels(tmp_path):
    path = tmp_path / "levels.txt"
    path.write_text("; two levels\n\n>.G\n...\n\n; name: second\n; another comment\nv#\n.G\n\n")
    levels = load_levels(path, CFG)
    assert [level_to_str(lv) for lv in levels] == [">.G\n...", "v#\n.G"]
    assert all(lv.wall_map.shape == (13, 13) for lv in levels)
    bad = tmp_path / "bad.txt"
    bad.write_text(">.G\n\n>..\n..x\n")
    with pytest.raises(ValueError, match=r"level 1 \(starting at line 3\): row 2, column 3"):
        load_levels(bad)


# ----------------------------------------------------------------------------- BFS


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_bfs_match_python_references(jitted, seed):
    lvl = random_level(seed)
    walls = np.asarray(lvl.wall_map)
    agent, goal = lvl.agent_pos.tolist(), lvl.goal_pos.tolist()
    assert int(jitted["spl"](lvl)) == ref_shortest_path(walls, agent, goal)
    n = ref_optimal_steps(walls, agent, int(lvl.agent_dir), goal)
    assert int(jitted["steps"](lvl)) == n
    params = MazeParams(max_steps_in_episode=jnp.int32(40))
    expected = 0.0 if n < 0 or n > 40 else 1.0 - 0.9 * n / 40
    assert float(jitted["ret"](lvl, params)) == pytest.approx(expected, abs=1e-6)


def test_bfs_vmap_scan_and_hand_cases(jitted):
    lvl = level_from_str(">.#\n#.#\n#.G", CFG)
    # Moves: right, down, down, right -> 4; actions: fwd, right-turn, fwd, fwd, left-turn, fwd.
    assert int(jitted["spl"](lvl)) == 4
    assert int(jitted["steps"](lvl)) == 6
    assert float(jitted["ret"](lvl, MazeParams(jnp.int32(250)))) == pytest.approx(1 - 0.9 * 6 / 250)
    blocked = level_from_str(">#G", CFG)
    assert int(jitted["spl"](blocked)) == -1 and int(jitted["steps"](blocked)) == -1
    assert float(jitted["ret"](blocked, MazeParams(jnp.int32(250)))) == 0.0
    facing = level_from_str(">G", CFG)
    assert int(jitted["steps"](facing)) == 1
    batch = jax.tree.map(lambda *x: jnp.stack(x), *[random_level(s) for s in range(6)])
    v = jax.jit(jax.vmap(shortest_path_length))(batch)
    sc = jax.lax.scan(lambda c, lv: (c, shortest_path_length(lv)), 0, batch)[1]
    assert np.array_equal(np.asarray(v), np.asarray(sc))
    assert [int(x) for x in v] == [int(jitted["spl"](random_level(s))) for s in range(6)]


# ----------------------------------------------------------------------------- level space


@pytest.fixture(scope="module")
def space():
    return make_maze_space(CFG)


def test_level_space_conformance(space):
    assert space.name == "maze/13x13"
    assert space.descriptor_names == ("walls", "shortest_path")
    ued.testing.check_level_space(space)


def test_sample_semantics(space):
    batch = jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(3), 64)
    walls = np.asarray(batch.wall_map).reshape(64, -1).sum(1)
    assert walls.max() <= CFG.n_walls and walls.min() >= 1
    assert bool(jnp.all(jax.vmap(is_valid_level)(batch)))
    assert set(np.asarray(batch.agent_dir).tolist()) == {0, 1, 2, 3}
    # Same key, same level, bitwise.
    chex.assert_trees_all_equal(space.sample(jax.random.key(5)), space.sample(jax.random.key(5)))
    d = jax.vmap(space.descriptor)(batch)
    assert d.dtype == jnp.float32 and d.shape == (64, 2)
    assert np.array_equal(np.asarray(d[:, 0]), walls.astype(np.float32))
    assert np.array_equal(np.asarray(d[:, 1]), np.asarray(jax.vmap(shortest_path_length)(batch)))
    r = jax.vmap(space.optimal_return)(batch)
    assert r.dtype == jnp.float32 and bool(jnp.all((r >= 0) & (r < 1)))


def test_only_solvable_sampler():
    cfg = MazeConfig(n_walls=110, only_solvable=True)
    sp = make_maze_space(cfg)
    batch = jax.jit(sp.sample_batch, static_argnums=1)(jax.random.key(0), 64)
    assert bool(jnp.all(jax.vmap(shortest_path_length)(batch) >= 0))
    assert bool(jnp.all(jax.vmap(is_valid_level)(batch)))
    raw = jax.jit(make_maze_space(MazeConfig(n_walls=110)).sample_batch, static_argnums=1)(
        jax.random.key(0), 64
    )
    assert bool(jnp.any(jax.vmap(shortest_path_length)(raw) < 0))  # the test is not vacuous


def test_mutate_changes_level_and_stays_valid(space):
    base = jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(1), 128)
    keys = jax.random.split(jax.random.key(2), 128)
    child = jax.jit(jax.vmap(space.mutate))(keys, base)
    assert bool(jnp.all(jax.vmap(is_valid_level)(child)))
    leaves = zip(jax.tree.leaves(child), jax.tree.leaves(base), strict=True)
    diff = np.zeros(128, bool)
    for c, b in leaves:
        diff |= np.asarray(c != b).reshape(128, -1).any(1)
    assert diff.all(), "every random-level edit is possible, so every edit must change the level"
    # All three edit kinds happen; a flip never touches the agent's or goal's cell.
    moved_agent = np.asarray(jnp.any(child.agent_pos != base.agent_pos, 1))
    moved_goal = np.asarray(jnp.any(child.goal_pos != base.goal_pos, 1))
    flipped = np.asarray(jnp.any(child.wall_map != base.wall_map, (1, 2)))
    assert moved_agent.any() and moved_goal.any() and flipped.any()
    assert (moved_agent.astype(int) + moved_goal + flipped <= 1).all()  # ONE edit
    assert (np.asarray(jnp.sum(child.wall_map != base.wall_map, (1, 2))) <= 1).all()

    # Small level: edits stay inside the true size (padding remains walls).
    def chain(key, lv):
        def body(c, k):
            c = space.mutate(k, c)
            return c, is_valid_level(c)

        return jax.lax.scan(body, lv, jax.random.split(key, 30))

    last, valid = jax.jit(chain)(jax.random.key(9), level_from_str(">.\n.G", CFG))
    assert bool(jnp.all(valid)) and int(last.width) == 2


# ----------------------------------------------------------------------------- prefabs + generators


def test_prefabs_parse_and_are_solvable(jitted):
    prefabs = prefab_levels()
    assert tuple(prefabs) == PREFAB_NAMES
    for name, lvl in prefabs.items():
        assert lvl.wall_map.shape == (13, 13), name
        assert bool(jitted["valid"](lvl)), name
        walls = np.asarray(lvl.wall_map)
        n = ref_shortest_path(walls, lvl.agent_pos.tolist(), lvl.goal_pos.tolist())
        assert n > 0 and int(jitted["spl"](lvl)) == n, name
        assert float(jitted["ret"](lvl, MazeParams(jnp.int32(250)))) > 0, name
    assert prefabs["LabyrinthFlipped"] is not prefabs["Labyrinth"]
    with pytest.raises(AssertionError):
        chex.assert_trees_all_equal(prefabs["Labyrinth"], prefabs["LabyrinthFlipped"])


@pytest.mark.parametrize("size", [13, 25])
def test_perfect_maze_is_a_tree_and_solvable(size, jitted):
    gen = jax.jit(jax.vmap(perfect_maze, in_axes=(0, None)), static_argnums=1)
    both = gen(jax.random.split(jax.random.key(size), 2), size)
    lvl = jax.tree.map(lambda x: x[0], both)
    walls = np.asarray(lvl.wall_map)
    assert walls.shape == (size, size) and bool(jnp.all(jax.jit(jax.vmap(is_valid_level))(both)))
    free = ~walls
    n_free = int(free.sum())
    n_edges = int((free[:, 1:] & free[:, :-1]).sum() + (free[1:, :] & free[:-1, :]).sum())
    assert n_edges == n_free - 1, "a perfect maze's free cells form a tree"
    # Connected: every free cell is reachable (so the goal is).
    assert len(ref_distances(walls, lvl.agent_pos.tolist())) == n_free
    assert not np.array_equal(np.asarray(both.wall_map[1]), walls)


@pytest.mark.parametrize("gen", [four_rooms, corridor])
def test_room_and_corridor_generators(gen, jitted):
    batch = jax.jit(jax.vmap(gen, in_axes=(0, None)), static_argnums=1)(
        jax.random.split(jax.random.key(0), 4), 13
    )
    assert bool(jnp.all(jax.vmap(is_valid_level)(batch)))
    for i in range(4):
        lvl = jax.tree.map(lambda x, i=i: x[i], batch)
        walls = np.asarray(lvl.wall_map)
        assert ref_shortest_path(walls, lvl.agent_pos.tolist(), lvl.goal_pos.tolist()) > 0
    padded = pad_level(jax.jit(gen, static_argnums=1)(jax.random.key(0), 9), 13, 13)
    assert bool(jitted["valid"](padded)) and int(padded.width) == 9
    with pytest.raises(ValueError, match="odd"):
        gen(jax.random.key(0), 12)


def test_config_validation():
    for kwargs, field in [
        ({"height": 1}, "height"),
        ({"width": 500}, "width"),
        ({"n_walls": 168}, "n_walls"),
        ({"agent_view_size": 4}, "agent_view_size"),
        ({"n_actions": 5}, "n_actions"),
        ({"max_steps": 0}, "max_steps"),
    ]:
        with pytest.raises(ValueError, match=f"MazeConfig.{field}"):
            MazeConfig(**kwargs)
    with pytest.raises(TypeError, match="MazeConfig.full_obs"):
        MazeConfig(full_obs=1)


# ----------------------------------------------------------------------------- render


def test_render_level_and_png(tmp_path):
    lvl = level_from_str("v#\n.G", CFG)
    img = jax.jit(render_level, static_argnums=1)(lvl, 4)
    assert img.shape == (15 * 4, 15 * 4, 3) and img.dtype == jnp.uint8
    img = np.asarray(img)
    # Goal cell (x=1, y=1) -> tile (2, 2) green; wall (1, 0) -> tile (1, 2) grey; agent red.
    assert tuple(img[2 * 4 + 2, 2 * 4 + 2]) == (0, 255, 0)
    assert tuple(img[1 * 4 + 2, 2 * 4 + 2]) == (100, 100, 100)
    agent_tile = img[4:8, 4:8].reshape(-1, 3)
    assert any(tuple(p) == (255, 0, 0) for p in agent_tile)
    levels = [lvl, level_from_str("\n".join([">" + "." * 18] + ["." * 18 + "G"]))]
    out = save_level_grid(levels, tmp_path / "grid.png", titles=["a", "b"], ncols=2)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="titles"):
        save_level_grid(levels, tmp_path / "x.png", titles=["a"])
