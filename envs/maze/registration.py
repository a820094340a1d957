"""The Maze as ``openued train`` knows it: its options, how a run builds it, its held-out
evaluation levels and its presets (registered in ``ued.registry.LEVEL_SPACES``). Host only.

``openued train maze --curriculum NAME`` trains any registered curriculum on it; the presets
``maze-dr``, ``maze-plr``, ... are aliases of ``maze`` with their curriculum, and ``maze-demo``
is robust PLR on 7x7 mazes sized to learn visibly in a few CPU minutes. The defaults of the run
options are the published maze settings (jaxued / minimax, see
../shared/reference/ued-algorithms.md 1.7): 32 envs x 256 steps, lr 1e-4 linearly annealed over
30000 student updates, gamma 0.995, lambda 0.98, 5 epochs, 1 minibatch, clip 0.2, entropy 1e-3,
value coef 0.5, grad clip 0.5, 25 walls; the curricula's own defaults are in their options.

Held-out evaluation levels: the 8 standard mazes (when the maze is at least 13x13) and
``--num-validation-levels`` solvable levels of the training generator drawn with key 0.

``openued eval --sample-levels N`` (the alpha-CVaR of SFL, ``ued.robustness``) draws from
:func:`cvar_space`: SFL's evaluation mazes. The SFL code samples them with jaxued's
``make_level_generator(13, 13, 60)``, which draws 60 wall cells with replacement (so up to 60
distinct walls), then the agent and the goal uniformly on distinct free cells and a uniform
direction, and keeps only solvable levels (``sfl/deploy/eval_minigrid_0_generate_levels.py``).
Our generator draws ``n_walls`` cells with replacement in the same way, so SFL's 60 is
``n_walls = 60`` at 13x13; the run's own maze size is kept, and for other sizes the wall count
keeps SFL's density, ``round(60 * H * W / 169)`` (:func:`sfl_eval_walls`: 17 at 7x7, 128 at
19x19), at most ``H * W - 2``. Solvable: ``only_solvable`` (rejection, with a carved path after
8 unsolvable draws, rare at this density, where SFL rejects without a bound).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax

from envs.maze.env import MazeEnv
from envs.maze.level import MazeConfig, load_levels, stack_levels
from envs.maze.prefabs import prefab_levels
from envs.maze.space import make_maze_space
from ued.options import ConfigError, int_, option
from ued.registry import LEVEL_SPACES, SpaceBuild, SpaceEntry


@dataclasses.dataclass(frozen=True)
class MazeOptions:
    """The Maze's own options of ``openued train maze``."""

    maze_size: int = option(13, int_(3, 128), "maze height = width (cells, without outer wall)")
    n_walls: int = option(25, int_(0), "walls drawn by the generator")
    agent_view_size: int = option(5, int_(1, 31), "egocentric view side (odd)")
    max_episode_steps: int = option(250, int_(1), "episode time limit T")
    num_validation_levels: int = option(100, int_(0), "fixed solvable validation levels")


def maze_config(options: Any) -> MazeConfig:
    """The :class:`MazeConfig` of a run's :class:`MazeOptions` values (attributes)."""
    return MazeConfig(
        height=options.maze_size,
        width=options.maze_size,
        n_walls=options.n_walls,
        agent_view_size=options.agent_view_size,
        max_steps=options.max_episode_steps,
    )


@functools.lru_cache(maxsize=16)
def eval_sets(mcfg: MazeConfig, n: int) -> dict[str, tuple[tuple[str, ...], Any]]:
    """The held-out evaluation sets of a maze run: ``prefab`` (the 8 standard mazes, when they
    fit) and ``validation`` (``n`` solvable levels of the generator, key 0). Cached: the same
    sets are the same objects within a process."""
    out = {}
    if mcfg.height >= 13 and mcfg.width >= 13:
        pre = prefab_levels(mcfg)
        out["prefab"] = (tuple(pre), stack_levels(list(pre.values())))
    if n > 0:
        vspace = make_maze_space(dataclasses.replace(mcfg, only_solvable=True))
        levels = jax.jit(lambda k: vspace.sample_batch(k, n))(jax.random.key(0))
        out["validation"] = (tuple(f"validation-{i}" for i in range(n)), levels)
    return out


SFL_EVAL_WALLS, SFL_EVAL_CELLS = 60, 13 * 13  # jaxued make_level_generator(13, 13, 60) in SFL


def sfl_eval_walls(height: int, width: int) -> int:
    """Walls drawn for SFL's robustness evaluation on a ``height x width`` maze: 60 at 13x13,
    else the same density, ``round(60 * height * width / 169)``, at most ``height * width - 2``."""
    cells = height * width
    return min(round(SFL_EVAL_WALLS * cells / SFL_EVAL_CELLS), cells - 2)


def cvar_space(mcfg: MazeConfig):
    """The level space ``openued eval --sample-levels`` draws from on a maze run of ``mcfg``
    (module docstring): its size, :func:`sfl_eval_walls` walls, solvable levels only."""
    n = sfl_eval_walls(mcfg.height, mcfg.width)
    space = make_maze_space(dataclasses.replace(mcfg, n_walls=n, only_solvable=True))
    return dataclasses.replace(space, name=f"{space.name}-{n}walls-solvable")


def _validate(o: Any) -> None:
    if o.agent_view_size % 2 != 1:
        raise ConfigError(f"--agent-view-size: must be odd, got {o.agent_view_size}")
    if o.n_walls > o.maze_size**2 - 2:
        raise ConfigError(
            f"--n-walls: must be <= maze_size^2 - 2 = {o.maze_size**2 - 2}, got {o.n_walls}"
        )


def check_editor(options: Any, editor: dict) -> None:
    """A teacher's wall budget must fit the grid (two cells hold the agent and the goal)."""
    cells = options.maze_size**2
    max_walls = editor.get("max_walls")
    if max_walls is not None and max_walls > cells - 2:
        raise ConfigError(
            f"--teacher-max-walls: must be <= maze_size^2 - 2 = {cells - 2}, got {max_walls}"
        )


def build(options: Any, editor: dict | None = None) -> SpaceBuild:
    """The Maze of a run's options; ``editor``: the teacher's ``num_edits`` and wall budget
    ``max_walls`` (PAIRED)."""
    mcfg = maze_config(options)
    cells = mcfg.height * mcfg.width
    if editor is None:
        space = make_maze_space(mcfg)
    else:
        check_editor(options, editor)
        space = make_maze_space(
            mcfg, num_edits=editor["num_edits"], max_walls=editor.get("max_walls")
        )
    empty = make_maze_space(dataclasses.replace(mcfg, n_walls=0)).sample

    def load(path: str) -> tuple[tuple[str, ...], Any]:
        levels = load_levels(path, mcfg)
        if not levels:
            raise ValueError("no levels in the file")
        return tuple(f"level-{i}" for i in range(len(levels))), stack_levels(levels)

    return SpaceBuild(
        space=space,
        env=MazeEnv(mcfg),
        eval_sets=eval_sets(mcfg, options.num_validation_levels),
        episode_limit=mcfg.max_steps,
        descriptor_bounds=((0.0, 0.0), (float(cells), float(cells))),
        empty_level=empty,
        load_levels=load,
        cvar_space=cvar_space(mcfg),
    )


PRESETS: dict[str, dict[str, Any]] = {
    "maze-dr": dict(curriculum="dr"),
    "maze-plr": dict(curriculum="plr"),
    "maze-robust-plr": dict(curriculum="robust-plr"),
    "maze-accel": dict(curriculum="accel", num_edits=5),
    "maze-sfl": dict(curriculum="sfl", score="learnability"),
    "maze-ncc": dict(curriculum="ncc", score="learnability"),
    "maze-archive": dict(curriculum="archive"),
    "maze-paired": dict(curriculum="paired"),
    "maze-minimax": dict(curriculum="minimax"),
    "maze-population-paired": dict(curriculum="population-paired", num_students=3),
    # the README's first command: robust PLR on 7x7 mazes, sized so a 2-core CPU shows the
    # validation solve rate rising within a few minutes (an evaluation at update 0 is the
    # untrained baseline)
    "maze-demo": dict(
        curriculum="robust-plr", maze_size=7, n_walls=6, max_episode_steps=64, num_steps=64,
        num_updates=300, lr=3e-4, lr_anneal_updates=0, network="small-lstm",
        buffer_capacity=256, eval_every=25, eval_at_start=True, num_validation_levels=200,
    ),  # fmt: skip
}

ENTRY = LEVEL_SPACES.register(
    SpaceEntry(
        name="maze",
        description="the Maze of the UED literature (13x13, 25 walls, egocentric view)",
        build=build,
        options=(MazeOptions,),
        defaults={"network": "maze"},
        curriculum="robust-plr",
        presets=PRESETS,
        validate=_validate,
        check_editor=check_editor,
        describe_presets={
            "maze-demo": "7x7 maze, robust PLR, sized to learn visibly in a few CPU minutes"
        },
    )
)

__all__ = [
    "ENTRY",
    "MazeOptions",
    "PRESETS",
    "build",
    "cvar_space",
    "eval_sets",
    "maze_config",
    "sfl_eval_walls",
]
