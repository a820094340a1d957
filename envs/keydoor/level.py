"""The key-and-door maze level, its static config and ASCII I/O.

A key-and-door level is a Maze level (:class:`envs.maze.MazeLevel`: walls, agent pose, goal)
plus a key and a locked door, the "Key MiniGrid" of Mead et al., "Improving Regret
Approximation for Unsupervised Dynamic Environment Generation" (NeurIPS 2025, arXiv
2601.14957), which trains on such mazes at 13x13 to 21x21.

Representation (this toolkit's choice): the door is a *wall cell* of ``wall_map`` marked by
``door_pos``, so everything that reads the Maze's walls (its BFS, its view, its renderer) sees a
locked door as a wall; the environment clears that wall when the agent opens the door. The key
lies on a free cell. Agent, goal and key are on distinct free cells.

ASCII: the Maze's format (``#`` wall, ``.`` empty, ``G`` goal, agent ``>`` ``v`` ``<`` ``^``)
plus ``K`` the key and ``D`` the locked door, the characters of the paper's own level files.
"""

from __future__ import annotations

import dataclasses
from os import PathLike

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs.maze import level as maze_level
from envs.maze.level import AGENT_CHARS, MazeConfig, MazeLevel

KEY_CHAR, DOOR_CHAR = "K", "D"
LEVEL_CHARS = ("#", ".", "G", KEY_CHAR, DOOR_CHAR, *AGENT_CHARS)
# Sizes the paper trains on (13x13 to 21x21).
MIN_SIZE, MAX_SIZE = 13, 21


@struct.dataclass
class KeyDoorLevel(MazeLevel):
    """A Maze level with a key and a locked door; batches on a leading axis like the Maze's.

    Attributes (besides :class:`envs.maze.MazeLevel`'s ``wall_map``, ``agent_pos``,
    ``agent_dir``, ``goal_pos``, ``width``, ``height``):
      key_pos: int32[2], ``(x, y)`` of the key, a free cell.
      door_pos: int32[2], ``(x, y)`` of the locked door, a wall cell of ``wall_map``.
    """

    key_pos: jax.Array  # (2,) int32, (x, y)
    door_pos: jax.Array  # (2,) int32, (x, y)


def from_maze_level(level: MazeLevel, key_pos, door_pos) -> KeyDoorLevel:
    """A :class:`KeyDoorLevel` from a Maze level, a key cell and a door cell (the door cell
    becomes a wall). Host or traced; unbatched."""
    fields = {f.name: getattr(level, f.name) for f in dataclasses.fields(MazeLevel)}
    door_pos = jnp.asarray(door_pos, jnp.int32)
    fields["wall_map"] = fields["wall_map"].at[door_pos[1], door_pos[0]].set(True)
    return KeyDoorLevel(**fields, key_pos=jnp.asarray(key_pos, jnp.int32), door_pos=door_pos)


@dataclasses.dataclass(frozen=True)
class KeyDoorConfig:
    """Static key-and-door maze configuration, validated on construction.

    Attributes:
      height, width: padded level size in cells, excluding the implicit outer wall; 13..21
        (the paper's range).
      n_walls: walls drawn (with replacement) by the generator; 0..height*width-4 (agent, goal,
        key and door need four cells). Default 60, the paper's setting at 13x13
        (``key_minigrid/config/main_dr.yaml``: ``n_walls: 60``). Its counts at 17x17 and 21x21
        could not be found; 103 and 157 keep the 13x13 density (60 / 169 cells).
      agent_view_size: side of the egocentric view; odd, 1..31.
      max_steps: episode limit T; >= 1. Default 250, the paper's environment default
        (``EnvParams.max_steps_in_episode``).
      normalize_obs: observation image as float32 divided by 10 (else uint8).
    """

    height: int = 13
    width: int = 13
    n_walls: int = 60
    agent_view_size: int = 5
    max_steps: int = 250
    normalize_obs: bool = False

    def __post_init__(self) -> None:
        def _int(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise TypeError(f"KeyDoorConfig.{name} must be an int in [{lo}, {hi}], got {v!r}")
            if not lo <= v <= hi:
                raise ValueError(f"KeyDoorConfig.{name} must be in [{lo}, {hi}], got {v}")

        _int("height", MIN_SIZE, MAX_SIZE)
        _int("width", MIN_SIZE, MAX_SIZE)
        _int("n_walls", 0, self.height * self.width - 4)
        _int("agent_view_size", 1, 31)
        if self.agent_view_size % 2 != 1:
            raise ValueError(
                f"KeyDoorConfig.agent_view_size must be odd (agent centred), "
                f"got {self.agent_view_size}"
            )
        _int("max_steps", 1, 2**30)
        if not isinstance(self.normalize_obs, bool):
            raise TypeError(
                f"KeyDoorConfig.normalize_obs must be a bool, got {self.normalize_obs!r}"
            )

    def maze_config(self) -> MazeConfig:
        """The :class:`envs.maze.MazeConfig` of the walls, agent and goal (3 Maze actions; the
        key-and-door env adds its toggle)."""
        return MazeConfig(
            height=self.height,
            width=self.width,
            n_walls=self.n_walls,
            agent_view_size=self.agent_view_size,
            n_actions=3,
            max_steps=self.max_steps,
            normalize_obs=self.normalize_obs,
        )


DEFAULT_CONFIG = KeyDoorConfig()


def is_valid_level(level: KeyDoorLevel) -> jax.Array:
    """Structural validity of an unbatched level: bool[]. Jittable.

    The Maze's checks (:func:`envs.maze.is_valid_level`) plus: key and door inside the true
    size; the key on a free cell other than the agent's and the goal's; the door on a wall cell.
    """
    h, w = level.wall_map.shape

    def inside(p):
        return (p[0] >= 0) & (p[0] < level.width) & (p[1] >= 0) & (p[1] < level.height)

    def wall(p):
        return level.wall_map[jnp.clip(p[1], 0, h - 1), jnp.clip(p[0], 0, w - 1)]

    k, d = level.key_pos, level.door_pos
    key_apart = jnp.any(k != level.agent_pos) & jnp.any(k != level.goal_pos)
    key_ok = inside(k) & ~wall(k) & key_apart
    return maze_level.is_valid_level(level) & key_ok & inside(d) & wall(d)


# ----------------------------------------------------------------------------- ASCII I/O


def level_from_str(text: str, config: KeyDoorConfig | MazeConfig | None = None) -> KeyDoorLevel:
    """Parse a level in the Maze's ASCII format extended by ``K`` (key) and ``D`` (locked door),
    padded to the config's size (without ``config``: exactly the text's size). Host only.

    Exactly one ``K`` and one ``D``; the rest is the Maze's format (:func:`envs.maze.
    level_from_str`), whose errors (row and column, 1-based) pass through.

    Raises:
      ValueError: naming the row and column for an unknown character, a second or missing key
        or door, and every error of the Maze's parser.
    """
    if not isinstance(text, str):
        raise TypeError(f"level_from_str expects a str, got {type(text).__name__}")
    found: dict[str, tuple[int, int]] = {}
    rows = text.splitlines()
    # the Maze's parser skips leading blank lines; count rows the way it does
    first = next((i for i, r in enumerate(rows) if r.rstrip()), 0)
    for y, row in enumerate(rows[first:]):
        for x, c in enumerate(row.rstrip()):
            where = f"row {y + 1}, column {x + 1}"
            if c not in LEVEL_CHARS:
                allowed = ", ".join(repr(ch) for ch in LEVEL_CHARS)
                raise ValueError(f"{where}: unknown character {c!r} (expected one of {allowed})")
            if c in (KEY_CHAR, DOOR_CHAR):
                what = "key" if c == KEY_CHAR else "door"
                if c in found:
                    fx, fy = found[c]
                    raise ValueError(
                        f"{where}: second {what} {c!r} (first at row {fy + 1}, column {fx + 1})"
                    )
                found[c] = (x, y)
    # K is a free cell, D a wall cell; the Maze's parser reads the rest
    plain = text.replace(KEY_CHAR, ".").replace(DOOR_CHAR, "#")
    mcfg = config.maze_config() if isinstance(config, KeyDoorConfig) else config
    base = maze_level.level_from_str(plain, mcfg)
    for c, what in ((KEY_CHAR, "key"), (DOOR_CHAR, "door")):
        if c not in found:
            raise ValueError(
                f"row {int(base.height)}, column {int(base.width)}: no {what} {c!r} in level"
            )
    return from_maze_level(base, found[KEY_CHAR], found[DOOR_CHAR])


def level_to_str(level: KeyDoorLevel) -> str:
    """The ASCII form of one unbatched level (its true size only); inverse of
    :func:`level_from_str`. Host only."""
    rows = [list(r) for r in maze_level.level_to_str(level).split("\n")]
    kx, ky = (int(v) for v in np.asarray(level.key_pos))
    dx, dy = (int(v) for v in np.asarray(level.door_pos))
    rows[ky][kx] = KEY_CHAR
    rows[dy][dx] = DOOR_CHAR
    return "\n".join("".join(r) for r in rows)


def load_named_levels(
    path: str | PathLike, config: KeyDoorConfig | None = None
) -> list[tuple[str | None, KeyDoorLevel]]:
    """Read a file of key-and-door levels (the Maze's file layout: blocks separated by blank
    lines, ``;`` comments, ``; name: X``), padded to ``config``'s size. Host only.

    Returns ``(name or None, level)`` per block; a parse error names the file, the block and its
    first line."""
    return maze_level.load_named_levels(path, config, parse=level_from_str)


def load_levels(path: str | PathLike, config: KeyDoorConfig | None = None) -> list:
    """Like :func:`load_named_levels`, the levels only. Host only."""
    return [lvl for _, lvl in load_named_levels(path, config)]
