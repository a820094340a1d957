"""Aleatoric mazes for SAMPLR: ``gamble-maze`` and ``lava-maze`` (7x7 interior, <= 8 walls,
T = 64), each a level space whose ``aleatoric`` field is a :class:`ued.aleatoric.AleatoricSpec`.

Both follow the Maze's dynamics and conventions (:mod:`envs.maze`) and are fully observed, so a
feed-forward policy can act well.

* :mod:`envs.aleatoric.grid`: the shared 7x7 grid (sizes, Maze settings, cell masks) and the
  environment base class both mazes derive from;
* :mod:`envs.aleatoric.gamble`: the gamble maze (a safe exit, a coin-paid exit, a noisy cue);
* :mod:`envs.aleatoric.lava`: the lava maze (a lava-lined corridor or a detour, hidden slips);
* :mod:`envs.aleatoric.analysis`: a scripted shortest-path policy and the lava maze's route
  values by value iteration (known theta, or Bayes-adaptive under a Beta prior);
* :mod:`envs.aleatoric.evaluation`: ground-truth evaluation of trained students (held-out
  equal-distance layouts, exit / gamble / detour rates, exact ground-truth return, intervals
  over seeds).

``egocentric=True`` gives the policy the same grid seen from the agent (13x13, agent centred,
facing up) instead of the fixed frame; feed-forward students learn to navigate far faster with
it (docs/samplr.md).

Public API::

    make_aleatoric_maze(name, egocentric=False, min_exit_distance=0, lava_below=True)
        -> (env, space)
    GambleLevel, GambleMazeEnv, make_gamble_space(), make_gamble_sampler(d),
        exit_distances(level), gamble_eval_layouts(n)
    LavaLevel, LavaMazeEnv, make_lava_space(env, lava_below), make_lava_sampler(lava_below),
        lava_eval_layouts(lava_below), lava_layout(...)
    scripted_action(...), lava_route_values(theta), route_values(...), lava_template(h),
        route_flip(...)
"""

from __future__ import annotations

import ued
from envs.aleatoric.analysis import (
    lava_route_values,
    lava_template,
    route_flip,
    route_values,
    scripted_action,
)
from envs.aleatoric.gamble import (
    CUE_ACCURACY,
    EXIT_GAMBLE,
    EXIT_NONE,
    EXIT_SAFE,
    P_PAY,
    SAFE_PAYOUT,
    GambleLevel,
    GambleMazeEnv,
    GambleObs,
    GambleState,
    exit_distances,
    gamble_descriptor,
    gamble_eval_layouts,
    gamble_is_valid,
    gamble_solvable,
    make_gamble_sampler,
    make_gamble_space,
    mutate_gamble_level,
    render_gamble_level,
    sample_gamble_level,
)
from envs.aleatoric.grid import MAX_STEPS, MAX_WALLS, SIZE
from envs.aleatoric.lava import (
    THETA_A,
    THETA_B,
    LavaLevel,
    LavaMazeEnv,
    LavaObs,
    LavaState,
    lava_descriptor,
    lava_eval_layouts,
    lava_is_valid,
    lava_layout,
    make_lava_sampler,
    make_lava_space,
    mutate_lava_level,
    render_lava_level,
    sample_lava_level,
)

ALEATORIC_MAZES = ("gamble-maze", "lava-maze")


def make_aleatoric_maze(
    name: str, egocentric: bool = False, min_exit_distance: int = 0, lava_below: bool = True
) -> tuple[ued.Environment, ued.LevelSpace]:
    """``(env, space)`` for ``name`` in :data:`ALEATORIC_MAZES`; ``ValueError`` otherwise.

    ``egocentric``: the image is seen from the agent (``GridMazeEnv``); ``min_exit_distance``
    (gamble maze only): generate levels with both exits at least that far from the start
    (:func:`make_gamble_sampler`); ``lava_below`` (lava maze only): ``False`` leaves out the lava
    below the corridor (:func:`make_lava_space`)."""
    if name == "gamble-maze":
        if not lava_below:
            raise ValueError("lava_below applies to the lava maze only")
        env = GambleMazeEnv(egocentric)
        return env, make_gamble_space(env, min_exit_distance)
    if name == "lava-maze":
        env = LavaMazeEnv(egocentric)
        if min_exit_distance:
            raise ValueError("min_exit_distance applies to the gamble maze only")
        return env, make_lava_space(env, lava_below)
    raise ValueError(f"unknown aleatoric maze {name!r}; allowed: {', '.join(ALEATORIC_MAZES)}")


__all__ = [
    "ALEATORIC_MAZES",
    "CUE_ACCURACY",
    "EXIT_GAMBLE",
    "EXIT_NONE",
    "EXIT_SAFE",
    "MAX_STEPS",
    "MAX_WALLS",
    "P_PAY",
    "SAFE_PAYOUT",
    "SIZE",
    "THETA_A",
    "THETA_B",
    "GambleLevel",
    "GambleMazeEnv",
    "GambleObs",
    "GambleState",
    "LavaLevel",
    "LavaMazeEnv",
    "LavaObs",
    "LavaState",
    "exit_distances",
    "gamble_descriptor",
    "gamble_eval_layouts",
    "gamble_is_valid",
    "gamble_solvable",
    "lava_descriptor",
    "lava_eval_layouts",
    "lava_is_valid",
    "lava_layout",
    "lava_route_values",
    "lava_template",
    "make_aleatoric_maze",
    "make_gamble_sampler",
    "make_gamble_space",
    "make_lava_sampler",
    "make_lava_space",
    "mutate_gamble_level",
    "mutate_lava_level",
    "render_gamble_level",
    "render_lava_level",
    "route_flip",
    "route_values",
    "sample_gamble_level",
    "sample_lava_level",
    "scripted_action",
]
