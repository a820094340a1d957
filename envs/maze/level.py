"""The Maze level, its static config and dynamic params, and ASCII I/O.

A level is a wall map plus agent pose and goal, in the layout of the UED literature's Maze
(jaxued / minimax): positions are ``(x, y)`` with ``x`` the column and ``y`` the row; directions
are 0 right, 1 down, 2 left, 3 up. Levels smaller than the config's ``height x width`` are padded
with walls; the implicit outer border (never stored) also reads as walls.
"""

from __future__ import annotations

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

# Direction index -> (dx, dy); y grows downwards (row index).
DIR_TO_VEC = np.array([(1, 0), (0, 1), (-1, 0), (0, -1)], dtype=np.int32)
AGENT_CHARS = (">", "v", "<", "^")


def dir_vec(d: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(dx, dy)`` of direction ``d`` (int32[...] each), the traced form of :data:`DIR_TO_VEC`.

    Arithmetic rather than a table gather: cheaper under vmap. Jittable.
    """
    dx = (d == 0).astype(jnp.int32) - (d == 2).astype(jnp.int32)
    dy = (d == 1).astype(jnp.int32) - (d == 3).astype(jnp.int32)
    return dx, dy


def wall_at(wall_map: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """bool[...]: a wall, or outside the grid, at ``(x, y)`` of a bool[H, W] wall map. Jittable.

    The implicit outer border reads as walls, so callers never bounds-check a move.
    """
    h, w = wall_map.shape
    inb = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    flat = wall_map.reshape(-1)
    return flat[jnp.clip(y, 0, h - 1) * w + jnp.clip(x, 0, w - 1)] | ~inb


@struct.dataclass
class MazeLevel:
    """One maze. All fields are arrays so levels batch on a leading axis.

    Attributes:
      wall_map: bool[H, W], True = wall, indexed ``[y, x]``. Cells outside the true
        ``width x height`` are walls.
      agent_pos: int32[2], ``(x, y)``.
      agent_dir: int32[], 0 right, 1 down, 2 left, 3 up.
      goal_pos: int32[2], ``(x, y)``.
      width: int32[], true width (<= W).
      height: int32[], true height (<= H).
    """

    wall_map: jax.Array  # (H, W) bool
    agent_pos: jax.Array  # (2,) int32, (x, y)
    agent_dir: jax.Array  # () int32
    goal_pos: jax.Array  # (2,) int32, (x, y)
    width: jax.Array  # () int32
    height: jax.Array  # () int32


@dataclasses.dataclass(frozen=True)
class MazeConfig:
    """Static Maze configuration (shapes and flags), validated on construction.

    Attributes:
      height, width: padded level size in cells, excluding the implicit outer wall; 2..128.
      n_walls: walls drawn (with replacement) by the generator; 0..height*width-2.
      agent_view_size: side of the egocentric view; odd, 1..31.
      n_actions: 3 (left, right, forward) or 7 (MiniGrid's; 3..6 do nothing).
      max_steps: default episode limit T (``MazeParams.max_steps_in_episode``); >= 1.
      full_obs: observe the whole ``height x width`` grid instead of the egocentric view.
      normalize_obs: observation image as float32 divided by 10 (else uint8).
      only_solvable: the generator only emits solvable levels.
    """

    height: int = 13
    width: int = 13
    n_walls: int = 25
    agent_view_size: int = 5
    n_actions: int = 3
    max_steps: int = 250
    full_obs: bool = False
    normalize_obs: bool = False
    only_solvable: bool = False

    def __post_init__(self) -> None:
        def _int(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise TypeError(f"MazeConfig.{name} must be an int in [{lo}, {hi}], got {v!r}")
            if not lo <= v <= hi:
                raise ValueError(f"MazeConfig.{name} must be in [{lo}, {hi}], got {v}")

        _int("height", 2, 128)
        _int("width", 2, 128)
        _int("n_walls", 0, self.height * self.width - 2)
        _int("agent_view_size", 1, 31)
        if self.agent_view_size % 2 != 1:
            raise ValueError(
                f"MazeConfig.agent_view_size must be odd (agent centred), got {self.agent_view_size}"
            )
        if self.n_actions not in (3, 7):
            raise ValueError(f"MazeConfig.n_actions must be 3 or 7, got {self.n_actions!r}")
        _int("max_steps", 1, 2**30)
        for name in ("full_obs", "normalize_obs", "only_solvable"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"MazeConfig.{name} must be a bool, got {getattr(self, name)!r}")


DEFAULT_CONFIG = MazeConfig()


@struct.dataclass
class MazeParams:
    """Dynamic Maze numbers (vmappable).

    Attributes:
      max_steps_in_episode: int32[], the episode limit T (truncation and reward scale).
    """

    max_steps_in_episode: jax.Array = 250


def default_params(config: MazeConfig = DEFAULT_CONFIG) -> MazeParams:
    """``MazeParams`` with ``max_steps_in_episode = config.max_steps``."""
    return MazeParams(max_steps_in_episode=jnp.asarray(config.max_steps, jnp.int32))


def time_discount(time: jax.Array, params: MazeParams) -> jax.Array:
    """``1 - 0.9 * time / T``, the factor of a reward collected on step ``time``: float32[].

    ``T = params.max_steps_in_episode``. Jittable.
    """
    t_max = jnp.asarray(params.max_steps_in_episode, jnp.int32).astype(jnp.float32)
    return 1.0 - 0.9 * jnp.asarray(time).astype(jnp.float32) / t_max


def make_level(wall_map, agent_pos, agent_dir, goal_pos, width=None, height=None) -> MazeLevel:
    """Build a ``MazeLevel`` from array-likes, casting dtypes. Host or traced."""
    wall_map = jnp.asarray(wall_map, bool)
    h, w = wall_map.shape[-2:]
    return MazeLevel(
        wall_map=wall_map,
        agent_pos=jnp.asarray(agent_pos, jnp.int32),
        agent_dir=jnp.asarray(agent_dir, jnp.int32),
        goal_pos=jnp.asarray(goal_pos, jnp.int32),
        width=jnp.asarray(w if width is None else width, jnp.int32),
        height=jnp.asarray(h if height is None else height, jnp.int32),
    )


def pad_level(level: MazeLevel, height: int, width: int) -> MazeLevel:
    """Pad an unbatched level's wall map with walls to ``(height, width)``. Jittable (static size).

    ``level.width`` / ``level.height`` keep the true size.
    """
    h, w = level.wall_map.shape
    if h > height or w > width:
        raise ValueError(f"level is {h}x{w}, larger than the target {height}x{width}")
    wm = jnp.ones((height, width), bool).at[:h, :w].set(level.wall_map)
    return level.replace(wall_map=wm)


def is_valid_level(level: MazeLevel) -> jax.Array:
    """Structural validity of an unbatched level: bool[]. Jittable.

    Agent and goal inside the true size, on free cells and distinct; direction in 0..3; true size
    in 1..(H, W); every cell outside the true size is a wall.
    """
    h, w = level.wall_map.shape
    ax, ay = level.agent_pos[0], level.agent_pos[1]
    gx, gy = level.goal_pos[0], level.goal_pos[1]
    size_ok = (level.width >= 1) & (level.width <= w) & (level.height >= 1) & (level.height <= h)
    a_in = (ax >= 0) & (ax < level.width) & (ay >= 0) & (ay < level.height)
    g_in = (gx >= 0) & (gx < level.width) & (gy >= 0) & (gy < level.height)
    a_free = ~level.wall_map[jnp.clip(ay, 0, h - 1), jnp.clip(ax, 0, w - 1)]
    g_free = ~level.wall_map[jnp.clip(gy, 0, h - 1), jnp.clip(gx, 0, w - 1)]
    distinct = (ax != gx) | (ay != gy)
    dir_ok = (level.agent_dir >= 0) & (level.agent_dir < 4)
    ys = jnp.arange(h)[:, None]
    xs = jnp.arange(w)[None, :]
    outside = (ys >= level.height) | (xs >= level.width)
    pad_ok = jnp.all(jnp.where(outside, level.wall_map, True))
    return size_ok & a_in & g_in & a_free & g_free & distinct & dir_ok & pad_ok


# ----------------------------------------------------------------------------- ASCII I/O


def level_from_str(text: str, config: MazeConfig | None = None) -> MazeLevel:
    """Parse the literature's ASCII format into a level padded to the config's size. Host only.

    ``#`` wall, ``.`` empty, ``G`` goal, agent ``>`` ``v`` ``<`` ``^`` (facing right, down, left,
    up); one row per line; no outer wall. Leading/trailing blank lines and trailing spaces are
    ignored. Without ``config`` the wall map has exactly the text's size.

    Raises:
      ValueError: naming the row and column (1-based) and the problem, for empty text, unknown
        characters, ragged rows, two agents or goals, no agent or goal, or a level larger than
        the config's size.
    """
    if not isinstance(text, str):
        raise TypeError(f"level_from_str expects a str, got {type(text).__name__}")
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError("row 1, column 1: empty level (no rows)")
    ncols = len(lines[0])
    nrows = len(lines)
    walls = np.zeros((nrows, ncols), bool)
    agent = goal = None
    for y, row in enumerate(lines):
        if not row:
            raise ValueError(f"row {y + 1}, column 1: blank line inside a level")
        if len(row) != ncols:
            raise ValueError(
                f"row {y + 1}, column {min(len(row), ncols) + 1}: ragged rows (row has "
                f"{len(row)} columns, row 1 has {ncols})"
            )
        for x, c in enumerate(row):
            where = f"row {y + 1}, column {x + 1}"
            if c == "#":
                walls[y, x] = True
            elif c == ".":
                pass
            elif c == "G":
                if goal is not None:
                    raise ValueError(
                        f"{where}: second goal 'G' (first at row {goal[1] + 1}, "
                        f"column {goal[0] + 1})"
                    )
                goal = (x, y)
            elif c in AGENT_CHARS:
                if agent is not None:
                    raise ValueError(
                        f"{where}: second agent {c!r} (first at row {agent[1] + 1}, "
                        f"column {agent[0] + 1})"
                    )
                agent = (x, y, AGENT_CHARS.index(c))
            else:
                raise ValueError(
                    f"{where}: unknown character {c!r} (expected one of '#', '.', 'G', "
                    "'>', 'v', '<', '^')"
                )
    if agent is None:
        raise ValueError(f"row {nrows}, column {ncols}: no agent ('>', 'v', '<' or '^') in level")
    if goal is None:
        raise ValueError(f"row {nrows}, column {ncols}: no goal 'G' in level")
    if config is not None:
        if nrows > config.height or ncols > config.width:
            r, c = (config.height + 1, 1) if nrows > config.height else (1, config.width + 1)
            raise ValueError(
                f"row {r}, column {c}: level is {nrows}x{ncols} (rows x columns), larger than "
                f"the maximum {config.height}x{config.width}"
            )
        padded = np.ones((config.height, config.width), bool)
        padded[:nrows, :ncols] = walls
        walls = padded
    return make_level(walls, agent[:2], agent[2], goal, width=ncols, height=nrows)


def level_to_str(level: MazeLevel) -> str:
    """The ASCII form of one unbatched level (its true ``width x height`` only). Host only."""
    walls = np.asarray(level.wall_map)
    w, h = int(level.width), int(level.height)
    rows = [["#" if walls[y, x] else "." for x in range(w)] for y in range(h)]
    ax, ay = (int(v) for v in np.asarray(level.agent_pos))
    gx, gy = (int(v) for v in np.asarray(level.goal_pos))
    rows[ay][ax] = AGENT_CHARS[int(level.agent_dir)]
    rows[gy][gx] = "G"
    return "\n".join("".join(r) for r in rows)


def _split_level_texts(text: str) -> list[tuple[str | None, str, int]]:
    """Blocks of level text separated by blank lines; ``;`` lines are comments.

    Returns ``(name, text, first_line_number)``; ``name`` comes from a ``; name: X`` comment.
    """
    out: list[tuple[str | None, str, int]] = []
    cur: list[str] = []
    name: str | None = None
    start = 0
    for i, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line.lstrip().startswith(";"):
            body = line.lstrip()[1:].strip()
            if body.lower().startswith("name:"):
                name = body[5:].strip()
            continue
        if not line:
            if cur:
                out.append((name, "\n".join(cur), start))
                cur, name = [], None
            continue
        if not cur:
            start = i
        cur.append(line)
    if cur:
        out.append((name, "\n".join(cur), start))
    return out


def load_levels(path: str | os.PathLike, config: MazeConfig | None = None) -> list[MazeLevel]:
    """Read a file of ASCII levels separated by blank lines (``;`` lines are comments). Host only.

    Returns one level per block, padded to ``config``'s size when given. A parse error is
    re-raised as ``ValueError`` prefixed with the file, the level's index and its first line.
    """
    return [lvl for _, lvl in load_named_levels(path, config)]


def load_named_levels(
    path: str | os.PathLike, config: MazeConfig | None = None, parse=None
) -> list[tuple[str | None, MazeLevel]]:
    """Like :func:`load_levels`, also returning each block's ``; name: X`` comment (or None).

    ``parse(text, config) -> level`` reads one block (default :func:`level_from_str`; a Maze
    variant with more characters passes its own)."""
    parse = level_from_str if parse is None else parse
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = []
    for i, (name, block, line_no) in enumerate(_split_level_texts(text)):
        try:
            out.append((name, parse(block, config)))
        except ValueError as e:
            raise ValueError(f"{path}: level {i} (starting at line {line_no}): {e}") from e
    return out


def stack_levels(levels) -> MazeLevel:
    """Stack same-shape levels on a new leading axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *levels)
