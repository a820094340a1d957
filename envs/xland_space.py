"""The XLand-MiniGrid level space: validity, descriptors, the host-side solvability check,
rendering, the space itself and ruleset files (:mod:`envs.xland` tells the whole story). Needs
no ``xminigrid``."""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ued
from envs.xland_level import (
    BALL,
    DEFAULT_CONFIG,
    DESCRIPTOR_NAMES,
    EMPTY,
    GOAL_IDS,
    GOAL_LEN,
    HEX,
    KEY,
    LOAD_SEED,
    NUM_GOAL_IDS,
    NUM_TILES,
    PYRAMID,
    RULE_LEN,
    SQUARE,
    STAR,
    XLandConfig,
    XLandLevel,
    _place,
    make_mutate,
    make_sampler,
    room_walls,
)


def is_valid_level(level: XLandLevel) -> jax.Array:
    """bool[]: the agent and every object on distinct free cells inside the grid, a goal, and
    known goal and rule ids. Jittable."""
    h, w = level.walls.shape
    present = level.init_tiles[:, 0] != EMPTY

    def ok(p):
        inside = (p[..., 0] >= 0) & (p[..., 0] < h) & (p[..., 1] >= 0) & (p[..., 1] < w)
        y, x = jnp.clip(p[..., 0], 0, h - 1), jnp.clip(p[..., 1], 0, w - 1)
        return inside & ~level.walls[y, x]

    pos = jnp.concatenate([level.object_pos, level.agent_pos[None]])
    on = jnp.concatenate([present, jnp.ones(1, bool)])
    cell = pos[:, 0] * w + pos[:, 1]
    same = (cell[:, None] == cell[None, :]) & on[:, None] & on[None, :]
    distinct = jnp.sum(same) == jnp.sum(on)
    return (
        jnp.all(ok(pos) | ~on)
        & distinct
        & (level.goal[0] > 0)
        & (level.goal[0] < NUM_GOAL_IDS)
        & jnp.all(level.rules[:, 0] < 12)
        & (level.agent_dir >= 0)
        & (level.agent_dir < 4)
    )


def level_descriptor(level: XLandLevel) -> jax.Array:
    """float32[6], named by :data:`DESCRIPTOR_NAMES`: chain depth (-1: unknown), active rules,
    active distractor rules (rules past the chain), initial objects, the goal's tiles (1 or 2),
    and the Manhattan distance from the agent to the chain's first object (row 0 of the
    objects: the first thing the solution needs). Jittable."""
    active = level.rules[:, 0] > 0
    rows = jnp.arange(level.rules.shape[0])
    gid = level.goal[0]
    two = (gid == 4) | ((gid >= 7) & (gid <= 10))
    dist = jnp.sum(jnp.abs(level.object_pos[0] - level.agent_pos))
    return jnp.stack(
        [
            level.depth.astype(jnp.float32),
            jnp.sum(active).astype(jnp.float32),
            jnp.sum(active & (rows >= jnp.maximum(level.depth, 0))).astype(jnp.float32),
            jnp.sum(level.init_tiles[:, 0] != EMPTY).astype(jnp.float32),
            jnp.where(two, 2.0, 1.0),
            dist.astype(jnp.float32),
        ]
    ).astype(jnp.float32)


def check_solvable(level: Any) -> tuple[bool, str]:
    """Host-side check that ``level`` (one level, numpy-convertible) is solvable by following its
    rule chain: every tile the goal needs is an initial object or the product of a rule whose
    inputs are (recursively) obtainable, with no cycle; every needed tile is pickable; no rule
    other than its producer or its consumer touches a needed tile (so no rule can destroy it);
    objects and the agent lie on distinct free cells. Returns ``(ok, reason)``. Host only."""
    lv = jax.tree.map(np.asarray, level)
    pickable = {BALL, SQUARE, PYRAMID, KEY, HEX, STAR}
    objects = [tuple(int(v) for v in t) for t in lv.init_tiles if t[0] != EMPTY]
    rules = []
    for r in lv.rules:
        rid = int(r[0])
        if rid == 0:
            continue
        two = 3 <= rid <= 7
        ins = [tuple(int(v) for v in r[1:3])] + ([tuple(int(v) for v in r[3:5])] if two else [])
        prod = tuple(int(v) for v in (r[5:7] if two else r[3:5]))
        rules.append((ins, prod))
    gid = int(lv.goal[0])
    if gid not in GOAL_IDS:
        return False, f"goal id {gid} is not one the generator draws"
    goal_two = gid in (4, 7, 8, 9, 10)
    goal_tiles = [tuple(int(v) for v in lv.goal[1:3])]
    if goal_two:
        goal_tiles.append(tuple(int(v) for v in lv.goal[3:5]))

    needed: list[tuple[int, int]] = []

    def obtain(tile, stack) -> str:
        if tile in stack:
            return f"tile {tile} is needed to make itself"
        needed.append(tile)
        if tile[0] not in pickable:
            return f"needed tile {tile} cannot be picked up"
        if tile in objects:
            return ""
        makers = [r for r in rules if r[1] == tile]
        if len(makers) != 1:
            return f"needed tile {tile} is neither an object nor the product of exactly one rule"
        for t in makers[0][0]:
            why = obtain(t, stack | {tile})
            if why:
                return why
        return ""

    for t in goal_tiles:
        why = obtain(t, frozenset())
        if why:
            return False, why
    for t in needed:
        touching = [r for r in rules if t in r[0]]
        if len(touching) > 1:
            return False, f"needed tile {t} is an input of {len(touching)} rules"
        if t in objects and any(r[1] == t for r in rules):
            return False, f"needed tile {t} is both an object and a rule's product"
    h, w = lv.walls.shape
    cells = [tuple(int(v) for v in lv.agent_pos)]
    cells += [tuple(int(v) for v in p) for p, t in zip(lv.object_pos, lv.init_tiles, strict=True)
              if t[0] != EMPTY]  # fmt: skip
    if len(set(cells)) != len(cells):
        return False, "two things share a cell"
    if any(not (0 <= y < h and 0 <= x < w) or lv.walls[y, x] for y, x in cells):
        return False, "something lies on a wall or outside the grid"
    interior = lv.walls[1:-1, 1:-1]
    if interior.any():
        return False, "the check assumes the open single room"
    return True, ""


# ----------------------------------------------------------------------------- rendering

_RGB = np.array(
    [
        (255, 255, 255),
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (112, 39, 195),
        (255, 255, 0),
        (100, 100, 100),
        (0, 0, 0),
        (255, 140, 0),
        (255, 255, 255),
        (160, 82, 45),
        (225, 20, 147),
    ],
    np.uint8,
)  # fmt: skip  (the package's colour map, xminigrid.rendering.rgb_render.COLORS_MAP)


def render_level(level: XLandLevel, tile: int = 8) -> jax.Array:
    """RGB picture uint8[H*tile, W*tile, 3] of the level's start: walls grey, floor black with
    grid lines, each object in its colour (a disc for balls, a square for squares, a triangle for
    pyramids, a bar for keys, a diamond for hexes, a cross for stars), the agent a red triangle
    pointing where it faces. Jittable (a simple renderer of its own; the package's is host-side
    numpy)."""
    h, w = level.walls.shape
    t = tile
    u = (jnp.arange(t) + 0.5) / t  # pixel centres within a cell, 0..1
    vv, uu = u[:, None], u[None, :]  # row, column
    shapes = {
        BALL: (uu - 0.5) ** 2 + (vv - 0.5) ** 2 < 0.31**2,
        SQUARE: (jnp.abs(uu - 0.5) < 0.25) & (jnp.abs(vv - 0.5) < 0.25),
        PYRAMID: (vv > 0.2) & (vv < 0.8) & (jnp.abs(uu - 0.5) < (vv - 0.2) * 0.6),
        KEY: (jnp.abs(uu - 0.5) < 0.12) & (jnp.abs(vv - 0.5) < 0.35),
        HEX: jnp.abs(uu - 0.5) + jnp.abs(vv - 0.5) < 0.35,
        STAR: ((jnp.abs(uu - 0.5) < 0.1) | (jnp.abs(vv - 0.5) < 0.1))
        & (jnp.abs(uu - 0.5) < 0.4)
        & (jnp.abs(vv - 0.5) < 0.4),
    }
    mask_table = jnp.zeros((NUM_TILES, t, t), bool)
    for k, m in shapes.items():
        mask_table = mask_table.at[k].set(m)
    # per cell: which tile and colour lies there
    cell_tile = jnp.zeros((h, w), jnp.int32)
    cell_color = jnp.zeros((h, w), jnp.int32)
    present = level.init_tiles[:, 0] != EMPTY
    y = jnp.where(present, level.object_pos[:, 0], h)  # out of range: dropped
    x = jnp.where(present, level.object_pos[:, 1], w)
    cell_tile = cell_tile.at[y, x].set(level.init_tiles[:, 0].astype(jnp.int32), mode="drop")
    cell_color = cell_color.at[y, x].set(level.init_tiles[:, 1].astype(jnp.int32), mode="drop")
    masks = mask_table[cell_tile]  # (H, W, t, t)
    rgb = jnp.asarray(_RGB)[cell_color]  # (H, W, 3)
    line = (vv < 1.0 / t) | (uu < 1.0 / t)  # grid lines on each cell's top and left edges
    img = jnp.where(line[None, None, :, :, None], jnp.uint8(60), jnp.uint8(0))
    img = jnp.broadcast_to(img, (h, w, t, t, 3))
    img = jnp.where(masks[..., None], rgb[:, :, None, None, :], img)
    img = jnp.where(level.walls[:, :, None, None, None], jnp.uint8(100), img)
    # the agent: a triangle pointing up, rotated to its direction (0 up, 1 right, 2 down, 3 left)
    tri = (vv > 0.15) & (vv < 0.85) & (jnp.abs(uu - 0.5) < (vv - 0.15) * 0.55)
    tri = jnp.stack([tri, jnp.rot90(tri, -1), jnp.rot90(tri, 2), jnp.rot90(tri, 1)])
    ay, ax = level.agent_pos[0], level.agent_pos[1]
    at_agent = (jnp.arange(h)[:, None] == ay) & (jnp.arange(w)[None, :] == ax)
    agent_mask = at_agent[:, :, None, None] & tri[level.agent_dir][None, None]
    img = jnp.where(agent_mask[..., None], jnp.array([255, 0, 0], jnp.uint8), img)
    return img.transpose(0, 2, 1, 3, 4).reshape(h * t, w * t, 3).astype(jnp.uint8)


# ----------------------------------------------------------------------------- the space


def placeholder_level(config: XLandConfig) -> XLandLevel:
    """A valid level of ``config``'s shapes: a one-tile goal (hold a red ball), no rules, the
    ball at (1, 1) and the agent at (1, 2) facing left, toward it."""
    k = config.num_objects
    tiles = np.zeros((k, 2), np.uint8)
    tiles[0] = (BALL, 1)
    pos = np.zeros((k, 2), np.int32)
    pos[0] = (1, 1)
    return XLandLevel(
        goal=jnp.array([1, BALL, 1, 0, 0], jnp.uint8),
        rules=jnp.zeros((config.num_rules, RULE_LEN), jnp.uint8),
        init_tiles=jnp.asarray(tiles),
        object_pos=jnp.asarray(pos),
        agent_pos=jnp.array([1, 2], jnp.int32),
        agent_dir=jnp.asarray(3, jnp.int32),
        walls=jnp.asarray(room_walls(config.size)),
        depth=jnp.asarray(0, jnp.int32),
    )


def make_xland_space(config: XLandConfig = DEFAULT_CONFIG) -> ued.LevelSpace:
    """The XLand level space ``xland/{size}x{size}-d{depth}`` (:mod:`envs.xland`): ``sample``
    the JAX ruleset generator, ``mutate`` one solvability-keeping edit, ``render`` a jittable
    picture, ``descriptor`` :data:`DESCRIPTOR_NAMES`. Needs no ``xminigrid`` (only the env
    does)."""
    if not isinstance(config, XLandConfig):
        raise TypeError(f"make_xland_space expects an XLandConfig, got {type(config).__name__}")
    return ued.LevelSpace(
        name=f"xland/{config.size}x{config.size}-d{config.depth}",
        placeholder=placeholder_level(config),
        sample=make_sampler(config),
        mutate=make_mutate(config),
        is_valid=is_valid_level,
        render=render_level,
        descriptor=level_descriptor,
        descriptor_names=DESCRIPTOR_NAMES,
    )


# ----------------------------------------------------------------------------- loading


def load_rulesets(path: str | Path, config: XLandConfig = DEFAULT_CONFIG) -> XLandLevel:
    """Read rulesets from a local file and lay them out as levels (leading axis N). Host only;
    never downloads.

    Formats: the package's benchmark files (a bz2-compressed pickle of a dict with ``goals``
    uint8[N, 5], ``rules`` uint8[N, R, 7], ``init_tiles`` uint8[N, K, 2], as written by its
    ``save_bz2_pickle``; fetch one yourself, e.g. ``xminigrid.load_benchmark`` stores them under
    ``~/.xland_minigrid``), or an ``.npz`` with the same three arrays. Objects and the agent are
    placed on distinct free cells of ``config``'s room, drawn from the reserved key
    ``LOAD_SEED`` (so a file always gives the same levels). Rows are padded with empty rules and
    objects up to ``config``'s shapes. ``depth`` is -1 (structure unknown: mutation only moves
    things). Raises ``ValueError`` naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        if path.suffix == ".npz":
            with np.load(path) as f:
                data = {k: np.asarray(f[k]) for k in f.files}
        else:
            with bz2.open(path, "rb") as f:
                data = pickle.load(f)  # noqa: S301  (a local file the user names)
    except Exception as e:
        raise ValueError(f"{path}: not an .npz or a bz2 pickle of rulesets ({e})") from None
    missing = [k for k in ("goals", "rules", "init_tiles") if k not in data]
    if missing:
        raise ValueError(f"{path}: missing arrays {missing} (need goals, rules, init_tiles)")
    goals = np.asarray(data["goals"], np.uint8)
    rules = np.asarray(data["rules"], np.uint8)
    tiles = np.asarray(data["init_tiles"], np.uint8)
    n = goals.shape[0]
    if goals.shape[1:] != (GOAL_LEN,) or rules.ndim != 3 or rules.shape[2] != RULE_LEN:
        raise ValueError(
            f"{path}: goals must be [N, 5] and rules [N, R, 7], got {goals.shape}, {rules.shape}"
        )
    if tiles.ndim != 3 or tiles.shape[2] != 2 or rules.shape[0] != n or tiles.shape[0] != n:
        raise ValueError(f"{path}: init_tiles must be [N, K, 2] with N = {n}, got {tiles.shape}")
    r = max(rules.shape[1], config.num_rules)
    k = max(tiles.shape[1], config.num_objects)
    free = (config.size - 2) ** 2
    if k + 1 > free:
        raise ValueError(
            f"{path}: {k} objects and the agent do not fit the {config.size}x{config.size} room"
        )
    rules = np.pad(rules, ((0, 0), (0, r - rules.shape[1]), (0, 0)))
    tiles = np.pad(tiles, ((0, 0), (0, k - tiles.shape[1]), (0, 0)))
    walls = jnp.asarray(room_walls(config.size))

    def lay(key, goal, rule, tile):
        cells = _place(key, ~walls, k + 1)
        present = tile[:, 0] != EMPTY
        return XLandLevel(
            goal=goal,
            rules=rule,
            init_tiles=tile,
            object_pos=jnp.where(present[:, None], cells[:k], 0).astype(jnp.int32),
            agent_pos=cells[k],
            agent_dir=jax.random.randint(jax.random.fold_in(key, 1), (), 0, 4, dtype=jnp.int32),
            walls=walls,
            depth=jnp.asarray(-1, jnp.int32),
        )

    keys = jax.random.split(jax.random.key(LOAD_SEED), n)
    return jax.jit(jax.vmap(lay))(keys, jnp.asarray(goals), jnp.asarray(rules), jnp.asarray(tiles))


def save_rulesets(path: str | Path, levels: XLandLevel) -> None:
    """Write the rulesets of ``levels`` (leading axis N) as an ``.npz`` that
    :func:`load_rulesets` reads (positions are not stored). Host only."""
    np.savez(
        Path(path),
        goals=np.asarray(levels.goal),
        rules=np.asarray(levels.rules),
        init_tiles=np.asarray(levels.init_tiles),
    )
