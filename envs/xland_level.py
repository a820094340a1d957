"""The XLand-MiniGrid level (:class:`XLandLevel`), its JAX ruleset generator and its
solvability-keeping mutator; the full story (what a level is, why every generated and mutated
level is solvable) is :mod:`envs.xland`'s docstring. Needs no ``xminigrid``."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

# ----------------------------------------------------------------------------- package facts
# (xminigrid.core.constants / goals / rules, v0.9.3; repeated here so the module imports
# without the package)
EMPTY, FLOOR, WALL = 0, 1, 2
BALL, SQUARE, PYRAMID, GOAL_TILE, KEY, HEX, STAR = 3, 4, 5, 6, 7, 11, 12
BLACK, GREY = 7, 6
NUM_TILES, NUM_COLORS = 13, 12
NUM_GOAL_IDS = 15
GOAL_LEN, RULE_LEN = 5, 7
NUM_ACTIONS = 6
ACTION_FORWARD, ACTION_RIGHT, ACTION_LEFT, ACTION_PICK_UP, ACTION_PUT_DOWN, ACTION_TOGGLE = range(6)
# the published generator's tiles: pickable kinds x its ten colours
# (red, green, blue, purple, yellow, grey, white, brown, pink, orange)
TILE_KINDS = (BALL, SQUARE, PYRAMID, KEY, HEX, STAR)
TILE_COLORS = (1, 2, 3, 4, 5, 6, 9, 10, 11, 8)
NUM_TILE_CHOICES = len(TILE_KINDS) * len(TILE_COLORS)  # 60
# the 11 goal / rule kinds of the published generator, in its order: agent hold; agent near
# (any, up, down, left, right); tile near (any, up, down, left, right). Index >= 6: two tiles.
GOAL_IDS = (1, 3, 11, 13, 14, 12, 4, 7, 9, 10, 8)
RULE_IDS = (1, 2, 8, 10, 11, 9, 3, 4, 6, 7, 5)
NUM_KINDS = 11
TWO_TILES_FROM = 6
# the goal's one-hot observation: its id over 15, each of its 4 arguments over 16
GOAL_OBS_ARG = 16
GOAL_OBS_SIZE = NUM_GOAL_IDS + 4 * GOAL_OBS_ARG
POCKET_OBS_SIZE = NUM_TILES + NUM_COLORS

DESCRIPTOR_NAMES = (
    "chain_depth",
    "num_rules",
    "num_distractor_rules",
    "num_objects",
    "goal_tiles",
    "agent_to_first_object",
)
# the held-out validation rulesets' key and the key placing a loaded benchmark's objects: seeds
# no training run derives its keys from
VALIDATION_SEED = 231_212_044
LOAD_SEED = 231_212_045
MIN_SIZE, MAX_SIZE = 5, 16


# ----------------------------------------------------------------------------- config and level


@dataclasses.dataclass(frozen=True)
class XLandConfig:
    """Static description of the XLand level space and env.

    Attributes:
      size: room height = width in cells, outer walls included (the package's 9x9).
      depth: chain rules between the goal and the initial objects (0: the goal's tiles lie on
        the floor).
      distractor_rules: most distractor rules (their number is uniform in 0..this).
      distractor_objects: distractor objects.
      view_size: the agent's egocentric view side (odd; the package's XLand default 5).
      max_steps: the time limit T (the package's ``3 * size * size``: 243 at 9x9).
    """

    size: int = 9
    depth: int = 1
    distractor_rules: int = 2
    distractor_objects: int = 2
    view_size: int = 5
    max_steps: int = 243

    def __post_init__(self) -> None:
        for f, lo, hi in (
            ("size", MIN_SIZE, MAX_SIZE),
            ("depth", 0, 8),
            ("distractor_rules", 0, 16),
            ("distractor_objects", 0, 32),
            ("view_size", 3, 15),
            ("max_steps", 1, None),
        ):
            v = getattr(self, f)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | np.integer)
                or v < lo
                or (hi is not None and v > hi)
            ):
                rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
                raise ValueError(f"XLandConfig.{f} must be an integer in {rng}, got {v!r}")
        if self.view_size % 2 != 1:
            raise ValueError(f"XLandConfig.view_size must be odd, got {self.view_size}")
        free = (self.size - 2) ** 2
        if self.num_objects + 1 > free:
            raise ValueError(
                f"XLandConfig: {self.num_objects} objects and the agent need "
                f"{self.num_objects + 1} free cells, the {self.size}x{self.size} room has {free}: "
                "fewer distractors, a smaller depth or a larger size"
            )
        # 2 tiles per chain step at most, plus the goal's 2: distinct tiles must exist
        if 2 * self.depth + 2 > NUM_TILE_CHOICES:
            raise ValueError(f"XLandConfig.depth {self.depth} needs more distinct tiles than 60")

    @property
    def num_rules(self) -> int:
        """R: rule rows (chain rules first, then distractor rules; at least one)."""
        return max(1, self.depth + self.distractor_rules)

    @property
    def num_objects(self) -> int:
        """K: object rows: the chain's first object, the goal's second tile, one side input
        per chain rule, two inputs per distractor rule, the distractor objects."""
        return 2 + self.depth + 2 * self.distractor_rules + self.distractor_objects


DEFAULT_CONFIG = XLandConfig()


@struct.dataclass
class XLandLevel:
    """One XLand level: a ruleset in the package's encodings plus the grid layout.

    Attributes:
      goal: uint8[5], the package's goal encoding.
      rules: uint8[R, 7], the package's rule encodings (all-zero rows: no rule).
      init_tiles: uint8[K, 2], (tile, colour) of each initial object ((0, 0): no object).
      object_pos: int32[K, 2], (row, column) of each object (ignored for empty rows).
      agent_pos: int32[2], (row, column); agent_dir: int32[], the package's direction (0 up,
        1 right, 2 down, 3 left).
      walls: bool[H, W].
      depth: int32[], chain rules (rows ``0..depth-1`` of ``rules``), -1 for a loaded level
        whose structure is unknown (mutation then only moves things).
    """

    goal: jax.Array
    rules: jax.Array
    init_tiles: jax.Array
    object_pos: jax.Array
    agent_pos: jax.Array
    agent_dir: jax.Array
    walls: jax.Array
    depth: jax.Array


def room_walls(size: int) -> np.ndarray:
    """bool[size, size]: the package's single room (``R1``), walls on the border."""
    w = np.zeros((size, size), bool)
    w[0, :] = w[-1, :] = w[:, 0] = w[:, -1] = True
    return w


def _tile(index: jax.Array) -> jax.Array:
    """uint8[2] (tile, colour) of a tile choice ``0..59``; 60 is the floor (a product that
    makes its input disappear)."""
    kinds = jnp.array(TILE_KINDS + (FLOOR,), jnp.uint8)
    colors = jnp.array(TILE_COLORS, jnp.uint8)
    kind = kinds[jnp.minimum(index // len(TILE_COLORS), len(TILE_KINDS))]
    color = jnp.where(index >= NUM_TILE_CHOICES, BLACK, colors[index % len(TILE_COLORS)])
    return jnp.stack([kind, color.astype(jnp.uint8)])


_TILE_TO_CHOICE = np.full((NUM_TILES, NUM_COLORS), -1, np.int32)
for _i, _k in enumerate(TILE_KINDS):
    for _j, _c in enumerate(TILE_COLORS):
        _TILE_TO_CHOICE[_k, _c] = _i * len(TILE_COLORS) + _j


def _choice_of(tile: jax.Array) -> jax.Array:
    """int32[] tile choice of a (tile, colour) pair, -1 when it is not one of the 60."""
    t = jnp.clip(tile[..., 0].astype(jnp.int32), 0, NUM_TILES - 1)
    c = jnp.clip(tile[..., 1].astype(jnp.int32), 0, NUM_COLORS - 1)
    return jnp.asarray(_TILE_TO_CHOICE)[t, c]


def _pick(key: jax.Array, allowed: jax.Array) -> jax.Array:
    """A uniform index where ``allowed`` (bool[N]) is True (int32[]; the first if none)."""
    g = jax.random.gumbel(key, allowed.shape)
    return jnp.argmax(jnp.where(allowed, g, -jnp.inf)).astype(jnp.int32)


def _encode_goal(kind: jax.Array, a: jax.Array, b: jax.Array) -> jax.Array:
    two = kind >= TWO_TILES_FROM
    gid = jnp.array(GOAL_IDS, jnp.uint8)[kind]
    return jnp.concatenate([gid[None], a, jnp.where(two, b, 0).astype(jnp.uint8)])


def _encode_rule(kind: jax.Array, a: jax.Array, b: jax.Array, prod: jax.Array) -> jax.Array:
    two = kind >= TWO_TILES_FROM
    rid = jnp.array(RULE_IDS, jnp.uint8)[kind]
    second = jnp.where(two, b, prod)
    third = jnp.where(two, prod, jnp.zeros(2, jnp.uint8))
    return jnp.concatenate([rid[None], a, second, third]).astype(jnp.uint8)


def _rule_inputs(rule: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(first input uint8[2], second input uint8[2] or zeros, product uint8[2]) of one rule."""
    rid = rule[0]
    two = (rid >= 3) & (rid <= 7)
    a = rule[1:3]
    b = jnp.where(two, rule[3:5], 0).astype(jnp.uint8)
    prod = jnp.where(two, rule[5:7], rule[3:5]).astype(jnp.uint8)
    return a, b, prod


def _place(key: jax.Array, free: jax.Array, n: int) -> jax.Array:
    """int32[n, 2]: ``n`` distinct uniform cells (row, column) where ``free`` (bool[H, W])."""
    h, w = free.shape
    g = jax.random.gumbel(key, (h * w,))
    idx = jax.lax.top_k(jnp.where(free.reshape(-1), g, -jnp.inf), n)[1]
    return jnp.stack([idx // w, idx % w], axis=-1).astype(jnp.int32)


def make_sampler(config: XLandConfig):
    """``sample(key) -> XLandLevel`` for ``config`` (:mod:`envs.xland`'s docstring). Jittable."""
    d, nr, no = config.depth, config.distractor_rules, config.distractor_objects
    r_rows, k_rows = config.num_rules, config.num_objects
    walls = jnp.asarray(room_walls(config.size))

    def sample(key: jax.Array) -> XLandLevel:
        # all randomness drawn at once (a few large draws compile much faster than many small)
        k_g, k_kind, k_n, k_place, k_dir = jax.random.split(key, 5)
        gumbel = iter(jax.random.gumbel(k_g, (3 + 2 * d + 3 * nr + no, NUM_TILE_CHOICES + 1)))
        kinds = iter(jax.random.randint(k_kind, (1 + d + nr,), 0, NUM_KINDS))
        choice = jnp.arange(NUM_TILE_CHOICES)
        used = jnp.zeros(NUM_TILE_CHOICES, bool)

        def pick(allowed, floor=False):
            allowed = jnp.concatenate([allowed, jnp.full(1, floor)])
            return jnp.argmax(jnp.where(allowed, next(gumbel), -jnp.inf)).astype(jnp.int32)

        g_kind = next(kinds)
        g_two = g_kind >= TWO_TILES_FROM
        a = pick(~used)
        used = used | (choice == a)
        b = pick(~used)
        used = used | (g_two & (choice == b))
        goal = _encode_goal(g_kind, _tile(a), _tile(b))
        rules, objects = [], []
        objects.append(jnp.where(g_two, _tile(b), 0).astype(jnp.uint8))  # goal's 2nd tile
        need = a
        sides = []
        for _ in range(d):
            kind = next(kinds)
            two = kind >= TWO_TILES_FROM
            x = pick(~used)
            used = used | (choice == x)
            y = pick(~used)
            used = used | (two & (choice == y))
            rules.append(_encode_rule(kind, _tile(x), _tile(y), _tile(need)))
            sides.append(jnp.where(two, _tile(y), 0).astype(jnp.uint8))
            need = x
        objects = [_tile(need)] + objects + sides  # the chain's first object is row 0
        n_active = jax.random.randint(k_n, (), 0, nr + 1)
        for i in range(nr):
            on = i < n_active
            kind = next(kinds)
            two = kind >= TWO_TILES_FROM
            prod = pick(~used, floor=True)
            x, y = pick(~used), pick(~used)
            rule = _encode_rule(kind, _tile(x), _tile(y), _tile(prod))
            rules.append(jnp.where(on, rule, 0).astype(jnp.uint8))
            objects.append(jnp.where(on, _tile(x), 0).astype(jnp.uint8))
            objects.append(jnp.where(on & two, _tile(y), 0).astype(jnp.uint8))
        for _ in range(no):
            objects.append(_tile(pick(~used)))
        rules = rules or [jnp.zeros(RULE_LEN, jnp.uint8)]
        init_tiles = jnp.stack(objects)
        cells = _place(k_place, ~walls, k_rows + 1)
        present = init_tiles[:, 0] != EMPTY
        assert len(rules) == r_rows and init_tiles.shape[0] == k_rows
        return XLandLevel(
            goal=goal,
            rules=jnp.stack(rules),
            init_tiles=init_tiles,
            object_pos=jnp.where(present[:, None], cells[:k_rows], 0).astype(jnp.int32),
            agent_pos=cells[k_rows],
            agent_dir=jax.random.randint(k_dir, (), 0, 4, dtype=jnp.int32),
            walls=walls,
            depth=jnp.asarray(d, jnp.int32),
        )

    return sample


# ----------------------------------------------------------------------------- analysis


def _occupied(level: XLandLevel) -> jax.Array:
    """bool[H, W]: cells holding an object or the agent."""
    h, w = level.walls.shape
    ys, xs = jnp.arange(h)[:, None, None], jnp.arange(w)[None, :, None]
    present = level.init_tiles[:, 0] != EMPTY
    at = (ys == level.object_pos[:, 0]) & (xs == level.object_pos[:, 1]) & present
    agent = (ys[..., 0] == level.agent_pos[0]) & (xs[..., 0] == level.agent_pos[1])
    return jnp.any(at, axis=-1) | agent


def chain_tiles(level: XLandLevel) -> jax.Array:
    """bool[60]: the tile choices the solution needs (the goal's tiles and every tile of the
    chain rules). Jittable."""
    used = jnp.zeros(NUM_TILE_CHOICES + 1, bool)

    def mark(used, tile, on):
        c = _choice_of(tile)
        return used.at[jnp.where(on & (c >= 0), c, NUM_TILE_CHOICES)].set(True)

    gid = level.goal[0]
    used = mark(used, level.goal[1:3], gid > 0)
    used = mark(used, level.goal[3:5], (gid == 4) | ((gid >= 7) & (gid <= 10)))
    for r in range(level.rules.shape[0]):
        chain = r < level.depth
        a, b, prod = _rule_inputs(level.rules[r])
        for t in (a, b, prod):
            used = mark(used, t, chain & (t[0] != EMPTY))
    return used[:NUM_TILE_CHOICES]


# ----------------------------------------------------------------------------- mutation

EDIT_MOVE, EDIT_GOAL, EDIT_CHAIN_RULE, EDIT_DISTRACTOR_RULE, EDIT_DISTRACTOR_OBJECT = range(5)
N_EDIT_KINDS = 5


def _kind_of(ids: tuple[int, ...], value: jax.Array) -> jax.Array:
    """int32[] generator kind (index into ``ids``) of a goal or rule id; -1 if none."""
    table = np.full(256, -1, np.int32)
    for k, v in enumerate(ids):
        table[v] = k
    return jnp.asarray(table)[value.astype(jnp.int32)]


def _other_kind(key: jax.Array, kind: jax.Array) -> jax.Array:
    """A uniform kind with the same number of tiles as ``kind`` (0..10), different from it."""
    two = kind >= TWO_TILES_FROM
    lo = jnp.where(two, TWO_TILES_FROM, 0)
    n = jnp.where(two, NUM_KINDS - TWO_TILES_FROM, TWO_TILES_FROM)
    off = jax.random.randint(key, (), 1, n)  # 1..n-1 steps around the group
    return (lo + (kind - lo + off) % n).astype(jnp.int32)


def make_mutate(config: XLandConfig):
    """``mutate(key, level) -> level``: ONE edit (see :mod:`envs.xland`), keeping a generated
    level solvable by construction. Jittable; the layout of rule and object rows is
    ``config``'s (a level of another layout, e.g. a loaded one, is only moved)."""
    d, nr, no = config.depth, config.distractor_rules, config.distractor_objects
    k_rows = config.num_objects
    first_dr_obj = 2 + d

    def mutate(key: jax.Array, level: XLandLevel) -> XLandLevel:
        ks = jax.random.split(key, 12)
        known = level.depth == d
        op = jax.random.randint(ks[0], (), 0, N_EDIT_KINDS)
        used = chain_tiles(level)
        rows = jnp.arange(level.rules.shape[0])
        g_kind = _kind_of(GOAL_IDS, level.goal[0])
        active_dr = (rows >= d) & (level.rules[:, 0] > 0)
        can = jnp.stack(
            [
                jnp.asarray(True),
                known & (g_kind >= 0),
                known & (d > 0),
                known & jnp.any(active_dr),
                known & (no > 0),
            ]
        )
        op = jnp.where(can[op], op, EDIT_MOVE)

        # the goal: another kind with as many tiles
        new_goal = level.goal.at[0].set(
            jnp.array(GOAL_IDS, jnp.uint8)[_other_kind(ks[1], jnp.maximum(g_kind, 0))]
        )
        goal = jnp.where(op == EDIT_GOAL, new_goal, level.goal)

        rules = level.rules
        if d > 0:  # one chain rule: another kind with as many inputs
            r = jax.random.randint(ks[2], (), 0, d)
            r_kind = jnp.maximum(_kind_of(RULE_IDS, rules[r, 0]), 0)
            new_id = jnp.array(RULE_IDS, jnp.uint8)[_other_kind(ks[3], r_kind)]
            rules = jnp.where(op == EDIT_CHAIN_RULE, rules.at[r, 0].set(new_id), rules)
        tiles = level.init_tiles
        if nr > 0:  # one active distractor rule, redrawn with its input objects
            i = _pick(ks[4], active_dr)
            kind = jax.random.randint(ks[5], (), 0, NUM_KINDS)
            two = kind >= TWO_TILES_FROM
            prod = _pick(ks[6], jnp.concatenate([~used, jnp.ones(1, bool)]))
            x, y = _pick(ks[7], ~used), _pick(ks[8], ~used)
            rule = _encode_rule(kind, _tile(x), _tile(y), _tile(prod))
            hit = op == EDIT_DISTRACTOR_RULE
            rules = jnp.where(hit, rules.at[i].set(rule), rules)
            j = first_dr_obj + 2 * jnp.clip(i - d, 0, nr - 1)
            t2 = jnp.where(two, _tile(y), 0).astype(jnp.uint8)
            edited = tiles.at[j].set(_tile(x)).at[j + 1].set(t2)
            tiles = jnp.where(hit, edited, tiles)
        if no > 0:  # one distractor object's tile
            j = jax.random.randint(ks[9], (), k_rows - no, k_rows)
            edited = tiles.at[j].set(_tile(_pick(ks[10], ~used)))
            tiles = jnp.where(op == EDIT_DISTRACTOR_OBJECT, edited, tiles)

        # objects that appear (a redrawn rule's second input) need a free cell; objects that
        # disappear free theirs. Then ONE move when the edit is a move.
        free = ~level.walls & ~_occupied(level)
        appear = (tiles[:, 0] != EMPTY) & (level.init_tiles[:, 0] == EMPTY)
        pos = level.object_pos
        spots = _place(ks[11], free, 2)
        first = jnp.argmax(appear)
        pos = jnp.where(jnp.any(appear), pos.at[first].set(spots[0]), pos)
        pos = jnp.where((tiles[:, 0] == EMPTY)[:, None], 0, pos).astype(jnp.int32)
        present = tiles[:, 0] != EMPTY
        who = _pick(jax.random.fold_in(ks[11], 1), jnp.concatenate([present, jnp.ones(1, bool)]))
        move = op == EDIT_MOVE
        agent_pos = jnp.where(move & (who == k_rows), spots[1], level.agent_pos)
        moved = pos.at[jnp.minimum(who, k_rows - 1)].set(spots[1])
        pos = jnp.where(move & (who < k_rows), moved, pos)
        agent_dir = jnp.where(
            move & (who == k_rows),
            jax.random.randint(jax.random.fold_in(ks[11], 2), (), 0, 4),
            level.agent_dir,
        )
        return level.replace(
            goal=goal.astype(jnp.uint8),
            rules=rules.astype(jnp.uint8),
            init_tiles=tiles.astype(jnp.uint8),
            object_pos=pos.astype(jnp.int32),
            agent_pos=agent_pos.astype(jnp.int32),
            agent_dir=agent_dir.astype(jnp.int32),
        )

    return mutate
