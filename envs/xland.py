"""XLand-MiniGrid (Nikulin et al., "XLand-MiniGrid: Scalable Meta-Reinforcement Learning
Environments in JAX", 2023; the ``xminigrid`` package) as a level space and an environment.

A *level* (:class:`XLandLevel`) is a ruleset (a goal, production rules, initial objects, in the
package's encodings) plus the grid layout: the walls, where each initial object lies and where
the agent starts and faces. The level fully determines the start: unlike the package's own
``reset``, which draws object and agent positions at random, :meth:`XLandEnv.reset_to_level`
places everything where the level says, so the same level always starts the same way.

Generator (domain randomisation), after the package's ``scripts/ruleset_generator.py`` (which
follows Appendix A.2 of "Human-Timescale Adaptation in an Open-Ended Task Space", AdA 2023),
written in JAX with a fixed ``depth``:

* a goal, uniform over the 11 kinds the published generator draws (agent holds a tile; agent
  near a tile, in any or a given direction; tile near tile, in any or a given direction);
* a chain of ``depth`` production rules back to the initial objects (the "one branch" variant
  the published generator's comment names: each rule produces the tile the next step of the
  chain needs; a rule with two inputs (tile near tile) continues the chain through its first
  input and its second input becomes an initial object). Rules are uniform over the 11
  published kinds. Every chain tile is distinct;
* up to ``distractor_rules`` distractor rules (their number uniform in ``0..distractor_rules``,
  the published ``--sample_distractor_rules``), whose inputs are placed as initial objects, and
  ``distractor_objects`` distractor objects;
* objects and the agent on distinct uniform free cells of a ``size x size`` single room (the
  package's ``R1`` layout), the agent facing a uniform direction.

Defaults: depth 1, up to 2 distractor rules, 2 distractor objects, the package's ``small``
benchmark (``scripts/generate_benchmarks.sh``), on the package's ``XLand-MiniGrid-R1-9x9``
(view 5, time limit ``3 * 9 * 9 = 243``).

Solvable by construction. Three departures from the published generator make every generated
and mutated level solvable, and are why: (1) tiles are drawn from the six pickable kinds (ball,
square, pyramid, key, hex, star) in the published ten colours; the published left-hand sets also
hold the unpickable ``goal`` tile, which a directional rule can make unusable when it lies
against a wall. Every object can be carried, so any arrangement a rule or the goal asks for can
be built in the open room (objects never wall the agent in: it can pick up what blocks it and
set it down behind). (2) Distractor rules never take a chain tile as input (the published
generator allows it, for dead ends); such a rule would fire on the agent's approach (the
``agent near`` rules fire on every forward step next to the tile, which picking it up requires)
and destroy a tile the solution needs. Distractor products and distractor objects are never
chain tiles either (as published). (3) No pruning: the chain is exactly ``depth`` rules long.
So: the chain tiles are produced only by their own chain rule and consumed only by the next
chain rule or the goal; nothing else touches them, and every rule's inputs can be brought
together. A host-side check (:func:`check_solvable`) follows the rule chain on concrete levels.

Mutation (:func:`make_mutate`): ONE edit, uniform over five kinds, each keeping the level
solvable by the same argument: move an object or the agent to a free cell (any layout of the
open room is solvable); change the goal's kind among the kinds with the same number of tiles
(same tiles, still all pickable); change one chain rule's kind among the kinds with the same
number of inputs (same tiles); redraw one distractor rule (new kind, inputs and product, none a
chain tile; its input objects change with it); redraw one distractor object's tile (not a chain
tile). An edit that does not apply (no chain rule at depth 0, no active distractor rule, no
distractor object, a loaded level whose structure is unknown) moves an object instead.

Environment (:class:`XLandEnv`): ``reset_to_level`` builds the package's ``State`` from the
level; ``step`` is the package's ``XLandMiniGrid.step`` (its six actions: forward, turn right,
turn left, pick up, put down, toggle; its rules and goal checks; reward ``1 - 0.9 * t / T`` when
the goal is achieved). ``terminated`` = goal achieved; ``truncated`` = the time limit
``T = params.max_steps_in_episode`` reached without it; ``info["solved"]`` = goal achieved
(the toolkit's solve rate reads it, as for the Maze). The observation is a dict:
``view`` uint8[V, V, 2], the package's egocentric (tile, colour) view (``transparent_field_of_
view``); ``goal`` float32[79], the goal encoding one-hot (its kind over 15, each of its four
arguments over 16); ``pocket`` float32[25], what the agent carries, one-hot (tile over 13, colour
over 12). The package's view does not show the carried object (MiniGrid draws it on the agent's
cell), hence ``pocket``. The student is recurrent (network preset ``xland``: the toolkit's conv
encoder and an LSTM; the package's baselines use a GRU over a small conv encoder, see
``ued.networks``); the rules are not observed, as in the package's baselines.

``xminigrid`` is an optional extra: this module imports without it (so the space is always
registered) and imports it inside functions; building without it raises
``ued.options.ConfigError``: ``pip install 'openued[xland]'``.

Registration: the level space ``xland`` of ``openued train`` with options ``--xland-*`` and the
presets ``xland-dr``, ``xland-robust-plr``, ``xland-sfl`` (end of this module).
"""

from __future__ import annotations

import bz2
import dataclasses
import functools
import pickle
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import ued
from ued.options import ConfigError, int_, option
from ued.registry import LEVEL_SPACES, SpaceBuild, SpaceEntry

INSTALL_HINT = "XLand needs the xminigrid package: pip install 'openued[xland]'"

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


def _xminigrid():
    """The package's modules, imported on first use; ``ConfigError`` (one line) without it."""
    try:
        from xminigrid.core import observation
        from xminigrid.envs import xland
        from xminigrid.types import AgentState, EnvCarry, State, StepType, TimeStep
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return dict(
        observation=observation,
        xland=xland,
        AgentState=AgentState,
        EnvCarry=EnvCarry,
        State=State,
        StepType=StepType,
        TimeStep=TimeStep,
    )


def require_xminigrid() -> None:
    """Raise ``ued.options.ConfigError`` naming the extra when ``xminigrid`` is missing."""
    _xminigrid()


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
    """``sample(key) -> XLandLevel`` for ``config`` (module docstring). Jittable."""
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
    """``mutate(key, level) -> level``: ONE edit (module docstring), keeping a generated level
    solvable by construction. Jittable; the layout of rule and object rows is ``config``'s."""
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


def make_xland_space(config: XLandConfig = XLandConfig()) -> ued.LevelSpace:
    """The XLand level space ``xland/{size}x{size}-d{depth}`` (module docstring): ``sample``
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


def load_rulesets(path: str | Path, config: XLandConfig = XLandConfig()) -> XLandLevel:
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


# ----------------------------------------------------------------------------- the environment


@struct.dataclass
class XLandParams:
    """Dynamic XLand numbers (vmappable).

    Attributes:
      max_steps_in_episode: int32[], the time limit T (truncation and the reward's scale).
    """

    max_steps_in_episode: jax.Array = 243


def _one_hot_goal(goal: jax.Array) -> jax.Array:
    gid = jax.nn.one_hot(goal[0], NUM_GOAL_IDS, dtype=jnp.float32)
    args = jax.nn.one_hot(jnp.minimum(goal[1:], GOAL_OBS_ARG - 1), GOAL_OBS_ARG, dtype=jnp.float32)
    return jnp.concatenate([gid, args.reshape(-1)])


class XLandEnv(ued.Environment):
    """XLand-MiniGrid on the toolkit's env contract (module docstring). ``self`` holds only
    the static :class:`XLandConfig`; the env state is the package's ``xminigrid.types.State``.
    Building it without ``xminigrid`` raises ``ued.options.ConfigError``."""

    def __init__(self, config: XLandConfig = XLandConfig()):
        if not isinstance(config, XLandConfig):
            raise TypeError(f"XLandEnv expects an XLandConfig, got {type(config).__name__}")
        self.xm = _xminigrid()
        self.config = config
        self._env = self.xm["xland"].XLandMiniGrid()

    @property
    def name(self) -> str:
        return f"XLand{self.config.size}x{self.config.size}"

    @property
    def default_params(self) -> XLandParams:
        return XLandParams(max_steps_in_episode=jnp.asarray(self.config.max_steps, jnp.int32))

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(NUM_ACTIONS)

    def observation_space(self, params=None) -> dict:
        v = self.config.view_size
        return {
            "goal": ued.Box(0.0, 1.0, (GOAL_OBS_SIZE,), jnp.float32),
            "pocket": ued.Box(0.0, 1.0, (POCKET_OBS_SIZE,), jnp.float32),
            "view": ued.Box(0, NUM_TILES - 1, (v, v, 2), jnp.uint8),
        }

    def _xparams(self, params: XLandParams):
        # the package's step reads only the view size and the time limit; its params hold them
        # as static fields, which may carry a traced value inside one trace
        return self.xm["xland"].XLandEnvParams(
            height=self.config.size,
            width=self.config.size,
            view_size=self.config.view_size,
            max_steps=jnp.asarray(params.max_steps_in_episode, jnp.int32),
        )

    def _obs(self, state, view=None) -> dict:
        v = self.config.view_size
        if view is None:
            view = self.xm["observation"].transparent_field_of_view(state.grid, state.agent, v, v)
        pocket = state.agent.pocket.astype(jnp.int32)
        return {
            "goal": _one_hot_goal(state.goal_encoding),
            "pocket": jnp.concatenate(
                [
                    jax.nn.one_hot(pocket[0], NUM_TILES, dtype=jnp.float32),
                    jax.nn.one_hot(pocket[1], NUM_COLORS, dtype=jnp.float32),
                ]
            ),
            "view": view.astype(jnp.uint8),
        }

    def initial_state(self, level: XLandLevel):
        """The package's ``State`` at the start of ``level``: the room of its walls, each
        object where the level puts it, the agent at its position and direction with an empty
        pocket, the level's goal and rules. Jittable, no key."""
        h, w = level.walls.shape
        if (h, w) != (self.config.size, self.config.size):
            raise ValueError(
                f"XLandEnv: level walls are {h}x{w}, the env is {self.config.size}x"
                f"{self.config.size}"
            )
        wall = jnp.array([WALL, GREY], jnp.uint8)
        floor = jnp.array([FLOOR, BLACK], jnp.uint8)
        grid = jnp.where(level.walls[..., None], wall, floor)
        present = level.init_tiles[:, 0] != EMPTY
        y = jnp.where(present, level.object_pos[:, 0], h)  # out of range: dropped
        x = jnp.where(present, level.object_pos[:, 1], w)
        grid = grid.at[y, x].set(level.init_tiles.astype(jnp.uint8), mode="drop")
        agent = self.xm["AgentState"](
            position=jnp.asarray(level.agent_pos, jnp.int32),
            direction=jnp.asarray(level.agent_dir, jnp.int32),
            pocket=jnp.zeros(2, jnp.uint8),
        )
        return self.xm["State"](
            key=jnp.zeros(2, jnp.uint32),  # the package's auto-reset key: unused here
            step_num=jnp.zeros((), jnp.int32),
            grid=grid,
            agent=agent,
            goal_encoding=jnp.asarray(level.goal, jnp.uint8),
            rule_encoding=jnp.asarray(level.rules, jnp.uint8),
            carry=self.xm["EnvCarry"](),
        )

    def reset_to_level(self, key, level: XLandLevel, params) -> tuple[dict, Any]:
        """First observation and state of an episode on ``level``. Jittable; ignores ``key``
        (the level fixes everything)."""
        state = self.initial_state(level)
        return self._obs(state), state

    def step(self, key, state, action, params):
        """One step of the package's ``XLandMiniGrid.step``. Returns ``(obs, state, reward
        float32, terminated, truncated, info)``: terminated = goal achieved, truncated = the
        time limit reached without it, ``info["solved"]`` = terminated. Jittable; ignores
        ``key`` (the dynamics are deterministic)."""
        xm = self.xm
        ts = xm["TimeStep"](
            state=state,
            step_type=xm["StepType"].MID,
            reward=jnp.zeros((), jnp.float32),
            discount=jnp.ones((), jnp.float32),
            observation=jnp.zeros((), jnp.uint8),  # not read by the package's step
        )
        out = self._env.step(self._xparams(params), ts, jnp.asarray(action, jnp.int32))
        new = out.state
        new = new.replace(
            step_num=new.step_num.astype(jnp.int32),
            agent=new.agent.replace(
                position=new.agent.position.astype(jnp.int32),
                direction=new.agent.direction.astype(jnp.int32),
                pocket=new.agent.pocket.astype(jnp.uint8),
            ),
        )
        terminated = out.discount == 0.0
        t_max = jnp.asarray(params.max_steps_in_episode, jnp.int32)
        truncated = (new.step_num >= t_max) & ~terminated
        reward = jnp.asarray(out.reward, jnp.float32)
        obs = self._obs(new, out.observation)  # the package's view of the new state
        return obs, new, reward, terminated, truncated, {"solved": terminated}


# ----------------------------------------------------------------------------- registration


@dataclasses.dataclass(frozen=True)
class XLandOptions:
    """XLand's own options of ``openued train xland``."""

    xland_size: int = option(9, int_(MIN_SIZE, MAX_SIZE), "XLand room side, outer walls included")
    xland_depth: int = option(1, int_(0, 8), "XLand chain rules from the goal to the objects")
    xland_distractor_rules: int = option(
        2, int_(0, 16), "most XLand distractor rules (uniform 0..this)"
    )
    xland_distractor_objects: int = option(2, int_(0, 32), "XLand distractor objects")
    xland_view_size: int = option(5, int_(3, 15), "XLand egocentric view side (odd)")
    xland_max_steps: int = option(243, int_(1), "XLand episode time limit T")
    xland_validation_levels: int = option(
        64, int_(0), "held-out XLand rulesets drawn from the reserved key"
    )


def xland_config(options: Any) -> XLandConfig:
    """The :class:`XLandConfig` of a run's :class:`XLandOptions` values (attributes);
    ``ConfigError`` naming the option for combinations the config refuses."""
    try:
        return XLandConfig(
            size=options.xland_size,
            depth=options.xland_depth,
            distractor_rules=options.xland_distractor_rules,
            distractor_objects=options.xland_distractor_objects,
            view_size=options.xland_view_size,
            max_steps=options.xland_max_steps,
        )
    except ValueError as e:
        msg = str(e)
        for f in ("view_size", "size", "depth", "distractor_rules", "distractor_objects"):
            if f"XLandConfig.{f} " in msg:
                raise ConfigError(f"--xland-{f.replace('_', '-')}: {msg}") from None
        raise ConfigError(f"--xland-size / --xland-depth / --xland-distractor-*: {msg}") from None


def _validate(options: Any) -> None:
    xland_config(options)


@functools.lru_cache(maxsize=8)
def validation_levels(config: XLandConfig, n: int) -> XLandLevel:
    """``n`` generator levels from the reserved key ``VALIDATION_SEED`` (leading axis ``n``;
    solvable by construction). Host only; cached."""
    space = make_xland_space(config)
    return jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(VALIDATION_SEED), n)


def build(options: Any, editor: dict | None = None) -> SpaceBuild:
    """The XLand level space and env of a run's options. ``editor`` is ignored (the space is
    not editable). Raises ``ConfigError`` naming the extra without ``xminigrid``."""
    cfg = xland_config(options)
    env = XLandEnv(cfg)  # needs the package
    n = options.xland_validation_levels
    sets = {}
    if n > 0:
        sets["validation"] = (tuple(f"validation-{i}" for i in range(n)), validation_levels(cfg, n))

    def load(path: str) -> tuple[tuple[str, ...], Any]:
        levels = load_rulesets(path, cfg)
        return tuple(f"ruleset-{i}" for i in range(levels.goal.shape[0])), levels

    return SpaceBuild(
        space=make_xland_space(cfg),
        env=env,
        eval_sets=sets,
        episode_limit=cfg.max_steps,
        descriptor_bounds=(
            (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
            (
                float(cfg.depth),
                float(cfg.num_rules),
                float(cfg.distractor_rules),
                float(cfg.num_objects),
                2.0,
                2.0 * cfg.size,
            ),
        ),  # fmt: skip
        load_levels=load,
    )


# PPO settings after the SFL paper's XLand runs (Rutherford et al., NeurIPS 2024, code
# xland/training/train_meta_task_sfl.py TrainConfig): lr 1e-3, gamma 0.99, GAE lambda 0.95,
# entropy 0.01, value coef 0.5, clip 0.2, grad clip 0.5, 1 epoch, 16 minibatches; envs and
# rollout length scaled down from its 8192 envs. The student: the ``xland`` network preset.
DEFAULTS = dict(
    network="xland",
    num_envs=256,
    num_steps=256,
    lr=1e-3,
    gamma=0.99,
    gae_lambda=0.95,
    ent_coef=0.01,
    num_epochs=1,
    num_minibatches=16,
)

PRESETS: dict[str, dict[str, Any]] = {
    "xland-dr": dict(curriculum="dr"),
    "xland-robust-plr": dict(curriculum="robust-plr"),
    # SFL's XLand runs train every env on a level of the learnable buffer
    # (sfl_num_envs_to_sample = num_envs = 8192)
    "xland-sfl": dict(curriculum="sfl", score="learnability", sfl_buffer_prob=1.0),
}

ENTRY = LEVEL_SPACES.register(
    SpaceEntry(
        name="xland",
        description="XLand-MiniGrid rulesets (9x9 room, chain depth 1; pip install 'openued[xland]')",
        build=build,
        options=(XLandOptions,),
        defaults=DEFAULTS,
        curriculum="robust-plr",
        presets=PRESETS,
        validate=_validate,
    )
)

__all__ = [
    "DESCRIPTOR_NAMES",
    "ENTRY",
    "INSTALL_HINT",
    "PRESETS",
    "VALIDATION_SEED",
    "XLandConfig",
    "XLandEnv",
    "XLandLevel",
    "XLandOptions",
    "XLandParams",
    "build",
    "chain_tiles",
    "check_solvable",
    "is_valid_level",
    "level_descriptor",
    "load_rulesets",
    "make_mutate",
    "make_sampler",
    "make_xland_space",
    "placeholder_level",
    "render_level",
    "require_xminigrid",
    "room_walls",
    "save_rulesets",
    "validation_levels",
    "xland_config",
]
