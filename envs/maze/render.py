"""Maze pictures: jittable RGB rendering of a level or a state, and a host PNG grid helper."""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

WALL_RGB = (100, 100, 100)
EMPTY_RGB = (0, 0, 0)
GOAL_RGB = (0, 255, 0)
AGENT_RGB = (255, 0, 0)
GRID_RGB = (40, 40, 40)


def _triangles(tile: int) -> np.ndarray:
    """bool[4, tile, tile] agent triangles pointing right, down, left, up (image [row, col])."""
    c = (np.arange(tile) + 0.5) / tile
    v, u = np.meshgrid(c, c, indexing="ij")  # v: row (down), u: column (right)
    right = (u >= 0.12) & (np.abs(v - 0.5) <= 0.31 * (0.88 - u) / 0.76)
    return np.stack([right, np.rot90(right, -1), np.rot90(right, 2), np.rot90(right, 1)])


def paint_cells(img, mask, rgb, tile: int, extent: int | None = None) -> jax.Array:
    """Fill the cells of ``mask`` in a picture laid out like :func:`render_level`'s. Jittable.

    Args:
      img: uint8[(H+2)*tile, (W+2)*tile, 3], outer wall included.
      mask: bool[H, W] cells to fill, indexed ``[y, x]`` without the outer wall.
      rgb: uint8[3] colour.
      tile: pixels per cell.
      extent: fill only the top-left ``extent x extent`` pixels inside each cell's grid lines (a
        marker); None fills the whole cell inside its grid lines.

    Returns the picture, same shape and dtype.
    """
    h, w = mask.shape
    big = jnp.repeat(jnp.repeat(jnp.pad(mask, 1), tile, 0), tile, 1)
    py = np.arange((h + 2) * tile)[:, None] % tile
    px = np.arange((w + 2) * tile)[None, :] % tile
    last = tile - 1 if extent is None else extent
    inner = (py >= 1) & (py <= last) & (px >= 1) & (px <= last)
    return jnp.where((big & inner)[..., None], jnp.asarray(rgb, jnp.uint8), img)


def _render(wall_map, agent_pos, agent_dir, goal_pos, tile: int) -> jax.Array:
    h, w = wall_map.shape
    hh, ww = (h + 2) * tile, (w + 2) * tile
    # Cell grid with the implicit outer wall drawn.
    walls = jnp.pad(wall_map, 1, constant_values=True)
    ys = jnp.arange(h + 2)[:, None]
    xs = jnp.arange(w + 2)[None, :]
    goal = (xs == goal_pos[0] + 1) & (ys == goal_pos[1] + 1)
    rgb = jnp.where(walls[..., None], jnp.array(WALL_RGB), jnp.array(EMPTY_RGB))
    rgb = jnp.where(goal[..., None], jnp.array(GOAL_RGB), rgb).astype(jnp.uint8)
    img = jnp.repeat(jnp.repeat(rgb, tile, axis=0), tile, axis=1)  # (hh, ww, 3)
    py = np.arange(hh)[:, None]
    px = np.arange(ww)[None, :]
    grid = (py % tile == 0) | (px % tile == 0)
    img = jnp.where(grid[..., None], jnp.array(GRID_RGB, jnp.uint8), img)
    tri = jnp.asarray(_triangles(tile))[jnp.clip(agent_dir, 0, 3)]  # (tile, tile)
    tri_full = jnp.tile(tri, (h + 2, w + 2))
    in_agent = (py // tile == agent_pos[1] + 1) & (px // tile == agent_pos[0] + 1)
    return jnp.where((in_agent & tri_full)[..., None], jnp.array(AGENT_RGB, jnp.uint8), img)


def render_level(level, tile: int = 8) -> jax.Array:
    """RGB picture of a level, outer wall included: uint8[(H+2)*tile, (W+2)*tile, 3]. Jittable.

    Walls grey, free cells black, goal green, agent a red triangle pointing its direction.
    """
    return _render(level.wall_map, level.agent_pos, level.agent_dir, level.goal_pos, tile)


def render_state(state, tile: int = 8, config=None) -> jax.Array:
    """RGB picture of a ``MazeState`` (current agent pose). Same layout as :func:`render_level`.

    ``config`` is the env's ``MazeConfig`` (default ``MazeConfig()``): the state's walls are
    stored in the env's internal layout, which depends on it. Jittable.
    """
    from envs.maze.env import MazeEnv
    from envs.maze.level import MazeConfig

    env = MazeEnv(MazeConfig() if config is None else config)
    wall_map = env.state_wall_map(state)
    return _render(wall_map, state.agent_pos, state.agent_dir, state.goal_pos, tile)


def _unbatch(levels) -> list:
    if isinstance(levels, Sequence):
        return list(levels)
    if levels.wall_map.ndim == 2:
        return [levels]
    n = levels.wall_map.shape[0]
    return [jax.tree.map(lambda x, i=i: x[i], levels) for i in range(n)]


def save_level_grid(
    levels,
    path: str | os.PathLike,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    tile: int = 8,
    dpi: int = 100,
    suptitle: str | None = None,
) -> str:
    """Draw levels (a list, or one batched level) as a titled grid and save a PNG, with
    ``suptitle`` over the grid. Host only.

    Returns the path written. Levels may differ in size.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = _unbatch(levels)
    if not items:
        raise ValueError("save_level_grid: no levels to draw")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"save_level_grid: {len(titles)} titles for {len(items)} levels")
    if ncols < 1:
        raise ValueError(f"save_level_grid: ncols must be >= 1, got {ncols}")
    render = jax.jit(render_level, static_argnums=1)
    ncols = min(ncols, len(items))
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.4 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(items):
            ax.imshow(np.asarray(render(items[i], tile)), interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return str(path)
