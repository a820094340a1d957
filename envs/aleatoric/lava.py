"""The lava maze (``lava-maze/7x7``): a short corridor lined with lava or a long safe detour,
under a hidden slip probability.

Dynamics are the Maze's (:mod:`envs.maze`: 0 turn left, 1 turn right, 2 forward; walls block;
reaching the goal ends the episode with ``1 - 0.9 t / T``, ``T = 64``) on a 7x7 grid. A level is
a fixed template, transformed by one of the 8 symmetries of the square, with a random start
direction and 0..3 extra walls in two side pockets (designable): the agent starts at one end of
a 6-step corridor lined with lava (row above: 5 lava cells; row below: 3 lava cells between two
walls) whose other end is the goal; the safe detour around a wall takes 16 forward moves and 3
turns (19 actions).

Each level has a hidden slip probability ``theta`` (ground-truth prior Beta(2, 8), stored in the
level): every forward move slips with probability ``theta`` and then goes one cell in one of the
other three directions (uniform), keeping the facing direction; moving onto lava ends the
episode with reward 0 (not solved); the goal is reached by any move into it. With these numbers
the best first move flips from corridor to detour at theta ~ 0.09
(:func:`envs.aleatoric.analysis.lava_route_values`; a denser lava lining would lower the flip
but put the detour itself next to lava), so under the prior (mean 0.2, P(theta < 0.09) = 0.23)
the detour is right.

``lava_below=False`` (:func:`make_lava_space`) leaves out the 3 lava cells below the corridor:
a slip down from the corridor is then safe, the corridor is worth more, and the flip moves up
to theta ~ 0.155 for a known theta and to a prior mean of ~ 0.211 for a Bayes-adaptive agent
under a Beta prior of concentration 10 (``docs/samplr.md``): under the ground-truth prior
(mean 0.2) the corridor is narrowly right (0.611 vs 0.606), under a belief shifted to robust
PLR's slippery levels (mean 0.256) the detour is (0.553 vs 0.537).

The observation is ``image`` float32[7, 7, 4] (wall, goal, lava, agent) and ``agent_dir``;
``history_stats`` = (forward moves, slips); the posterior of theta is
Beta(2 + slips, 8 + moves - slips) and the next slip's predictive probability
(2 + slips) / (10 + moves) (Beta-Binomial).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import ued
from envs.aleatoric.grid import MAX_STEPS, MAX_WALLS, SIZE, GridMazeEnv, at, cell_mask
from envs.maze.level import (
    MazeLevel,
    dir_vec,
    is_valid_level,
    make_level,
    stack_levels,
    time_discount,
    wall_at,
)
from envs.maze.render import paint_cells, render_level
from ued.aleatoric import AleatoricSpec, beta_bernoulli_predictive, beta_integer

THETA_A, THETA_B = 2, 8  # integer Beta parameters (exact fast sampler)
_N_EVENTS = 32  # forward moves per simulated episode for the learned belief
_LAVA_RGB = (255, 110, 0)


def _grid(cells) -> np.ndarray:
    g = np.zeros((SIZE, SIZE), bool)
    for x, y in cells:
        g[y, x] = True
    return g


# Template (x right, y down): agent (0, 1) facing right, goal (6, 1); lava above the corridor
# at x = 1..5 and below it at x = 2..4 between walls (1, 2) and (5, 2); a wall at x = 3,
# y = 3..5 makes the detour go down column 0, along row 6 and up column 6.
_T_LAVA_ABOVE = [(x, 0) for x in range(1, 6)]
_T_LAVA = _T_LAVA_ABOVE + [(x, 2) for x in range(2, 5)]
_T_WALLS = [(1, 2), (5, 2), (3, 3), (3, 4), (3, 5)]
_T_POCKETS = [(x, y) for y in (3, 4, 5) for x in (1, 2, 4, 5)]
TEMPLATE_AGENT, TEMPLATE_GOAL = (0, 1), (6, 1)
TEMPLATE_LAVA = _grid(_T_LAVA)  # bool[7, 7], [y, x]
TEMPLATE_WALLS = _grid(_T_WALLS)  # bool[7, 7] without pocket walls


def _sym_xy(s: int, x: int, y: int) -> tuple[int, int]:
    if s & 4:
        x, y = y, x
    if s & 1:
        x = SIZE - 1 - x
    if s & 2:
        y = SIZE - 1 - y
    return x, y


_SYM_LAVA = jnp.asarray(np.stack([_grid([_sym_xy(s, *c) for c in _T_LAVA]) for s in range(8)]))
_SYM_LAVA_ABOVE = jnp.asarray(
    np.stack([_grid([_sym_xy(s, *c) for c in _T_LAVA_ABOVE]) for s in range(8)])
)


def _lava_maps(lava_below: bool) -> jax.Array:
    return _SYM_LAVA if lava_below else _SYM_LAVA_ABOVE
_SYM_WALLS = jnp.asarray(np.stack([_grid([_sym_xy(s, *c) for c in _T_WALLS]) for s in range(8)]))
_SYM_POCKETS = jnp.asarray(  # (8, 12, 2)
    np.array([[_sym_xy(s, *c) for c in _T_POCKETS] for s in range(8)], np.int32)
)
_SYM_AGENT = jnp.asarray(np.array([_sym_xy(s, *TEMPLATE_AGENT) for s in range(8)], np.int32))
_SYM_GOAL = jnp.asarray(np.array([_sym_xy(s, *TEMPLATE_GOAL) for s in range(8)], np.int32))


@struct.dataclass
class LavaLevel:
    """A lava maze. ``maze.goal_pos`` is the goal.

    Attributes:
      maze: MazeLevel (wall_map bool[7, 7], agent pose, goal, size).
      lava: bool[7, 7] lava cells, indexed ``[y, x]``.
      theta: float32[] aleatoric: slip probability of every forward move.
    """

    maze: MazeLevel
    lava: jax.Array
    theta: jax.Array


@struct.dataclass
class LavaState:
    walls: jax.Array  # bool[7, 7]
    lava: jax.Array  # bool[7, 7]
    danger: jax.Array  # bool[7, 7] cells next to lava (the corridor)
    agent_pos: jax.Array  # int32[2]
    agent_dir: jax.Array  # int32[]
    goal_pos: jax.Array  # int32[2]
    theta: jax.Array  # float32[] hidden slip probability
    n_forward: jax.Array  # int32[] forward moves this episode
    n_slips: jax.Array  # int32[] slips this episode
    near_lava: jax.Array  # bool[] the agent stood next to lava this episode (took the corridor)
    time: jax.Array  # int32[]


@struct.dataclass
class LavaObs:
    image: jax.Array  # float32[7, 7, 4]: wall, goal, lava, agent
    agent_dir: jax.Array  # int32[]


def _dilate(m):
    p = jnp.pad(m, 1)
    return p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]


class LavaMazeEnv(GridMazeEnv):
    """The lava maze (see the module docstring). All methods pure and jittable."""

    env_name = "LavaMaze7x7"
    obs_type = LavaObs

    def reset_to_level(self, key, level: LavaLevel, params):
        del key
        s = LavaState(
            walls=level.maze.wall_map,
            lava=level.lava,
            danger=_dilate(level.lava) & ~level.lava,
            agent_pos=level.maze.agent_pos,
            agent_dir=level.maze.agent_dir,
            goal_pos=level.maze.goal_pos,
            theta=jnp.asarray(level.theta, jnp.float32),
            n_forward=jnp.zeros((), jnp.int32),
            n_slips=jnp.zeros((), jnp.int32),
            near_lava=jnp.zeros((), bool),
            time=jnp.zeros((), jnp.int32),
        )
        return self.get_obs(s), s

    def step(self, key, state: LavaState, action, params):
        """Returns ``(obs, state, reward, terminated, truncated, info)``; ``info`` has
        ``solved``, ``lava`` (died) and ``detour`` (goal reached, never next to lava)."""
        k_slip, k_dir = jax.random.split(key)
        action = jnp.asarray(action, jnp.int32)
        fwd = action == 2
        slip = fwd & jax.random.bernoulli(k_slip, state.theta)
        other = (state.agent_dir + 1 + jax.random.randint(k_dir, (), 0, 3)) & 3
        d = jnp.where(slip, other, state.agent_dir)
        dx, dy = dir_vec(d)
        nx, ny = state.agent_pos[0] + dx, state.agent_pos[1] + dy
        goal = fwd & at(state.goal_pos, nx, ny)
        blocked = wall_at(state.walls, nx, ny)
        lava = fwd & ~blocked & state.lava[jnp.clip(ny, 0, SIZE - 1), jnp.clip(nx, 0, SIZE - 1)]
        move = fwd & ~blocked & ~goal
        pos = jnp.where(move, jnp.stack([nx, ny]), state.agent_pos).astype(jnp.int32)
        turn = (action == 1).astype(jnp.int32) - (action == 0).astype(jnp.int32)
        time = state.time + 1
        reward = jnp.where(goal, time_discount(time, params), 0.0).astype(jnp.float32)
        term = goal | lava
        trunc = (time >= params.max_steps_in_episode) & ~term
        near = state.near_lava | state.danger[pos[1], pos[0]]
        s = state.replace(
            agent_pos=pos,
            agent_dir=(state.agent_dir + turn) & 3,
            n_forward=state.n_forward + fwd.astype(jnp.int32),
            n_slips=state.n_slips + slip.astype(jnp.int32),
            near_lava=near,
            time=time,
        )
        info = {"solved": goal, "lava": lava, "detour": goal & ~near}
        return self.get_obs(s), s, reward, term, trunc, info

    def get_obs(self, s: LavaState) -> LavaObs:
        planes = jnp.stack([s.walls, cell_mask(s.goal_pos), s.lava], axis=-1)
        image = self.image(planes, s.agent_pos, s.agent_dir)
        return LavaObs(image=image, agent_dir=s.agent_dir)


# ------------------------------------------------------------------------------ level space


def lava_layout(sym, agent_dir, pocket_walls) -> MazeLevel:
    """The template under symmetry ``sym`` (0..7) with start direction ``agent_dir`` and extra
    walls on the pocket cells where ``pocket_walls`` (bool[12]) is set. Jittable."""
    pockets = _SYM_POCKETS[sym]  # (12, 2)
    extra = jnp.zeros((SIZE, SIZE), bool).at[pockets[:, 1], pockets[:, 0]].max(pocket_walls)
    return make_level(_SYM_WALLS[sym] | extra, _SYM_AGENT[sym], agent_dir, _SYM_GOAL[sym])


def _prior(key, level: LavaLevel) -> LavaLevel:
    return level.replace(theta=beta_integer(key, THETA_A, THETA_B, max(THETA_A, THETA_B)))


def make_lava_sampler(lava_below: bool = True):
    """``sample(key) -> LavaLevel``: a random lava maze (symmetry, start direction, 0..3 pocket
    walls, theta ~ Beta(2, 8)); ``lava_below=False``: without the lava below the corridor."""
    maps = _lava_maps(lava_below)

    def sample(key) -> LavaLevel:
        k_s, k_d, k_p, k_k, k_t = jax.random.split(key, 5)
        sym = jax.random.randint(k_s, (), 0, 8)
        idx = jax.random.randint(k_p, (3,), 0, len(_T_POCKETS))
        keep = jax.random.bernoulli(k_k, 0.5, (3,))
        pocket = jnp.zeros((len(_T_POCKETS),), bool).at[idx].max(keep)
        maze = lava_layout(sym, jax.random.randint(k_d, (), 0, 4), pocket)
        return _prior(k_t, LavaLevel(maze=maze, lava=maps[sym], theta=jnp.float32(0)))

    return sample


sample_lava_level = make_lava_sampler(True)
sample_lava_level.__doc__ = "A random lava maze, default template (:func:`make_lava_sampler`)."


def lava_is_valid(level: LavaLevel) -> jax.Array:
    """Maze-valid, agent and goal not on lava, lava not on walls, theta in [0, 1], <= 8 walls."""
    m = level.maze
    on = lambda p: level.lava[p[1], p[0]]  # noqa: E731
    return (
        is_valid_level(m)
        & ~on(m.agent_pos)
        & ~on(m.goal_pos)
        & ~jnp.any(level.lava & m.wall_map)
        & (level.theta >= 0)
        & (level.theta <= 1)
        & (jnp.sum(m.wall_map) <= MAX_WALLS)
    )


def mutate_lava_level(key, level: LavaLevel) -> LavaLevel:
    """ONE designable edit: turn the start direction to another one. Jittable."""
    d = (level.maze.agent_dir + jax.random.randint(key, (), 1, 4)) & 3
    return level.replace(maze=level.maze.replace(agent_dir=d.astype(jnp.int32)))


def render_lava_level(level: LavaLevel, tile: int = 8) -> jax.Array:
    """uint8 picture: Maze colours with lava orange. Jittable."""
    return paint_cells(render_level(level.maze, tile), level.lava, _LAVA_RGB, tile)


def lava_descriptor(level: LavaLevel) -> jax.Array:
    """float32[2]: walls, theta (aleatoric, for plots)."""
    return jnp.stack([jnp.sum(level.maze.wall_map), level.theta]).astype(jnp.float32)


# ------------------------------------------------------------------------- aleatoric spec


def _history_stats(state: LavaState) -> jax.Array:
    return jnp.stack([state.n_forward, state.n_slips]).astype(jnp.float32)


def _predictive(level, stats) -> jax.Array:
    del level
    return beta_bernoulli_predictive(stats[0], stats[1], THETA_A, THETA_B)


def _posterior_sample(key, level: LavaLevel, stats) -> LavaLevel:
    n = jnp.round(stats[0]).astype(jnp.int32)
    k = jnp.round(stats[1]).astype(jnp.int32)
    theta = beta_integer(key, THETA_A + k, THETA_B + n - k, THETA_B + MAX_STEPS)
    return level.replace(theta=theta)


def _condition_state(key, state: LavaState, p) -> LavaState:
    # theta := the predictive probability: the next slip is then exactly Bernoulli(p)
    del key
    return state.replace(theta=jnp.asarray(p, jnp.float32))


def _episode_events(key, level: LavaLevel):
    k_t, k_s = jax.random.split(key)
    theta = _prior(k_t, level).theta
    slips = jax.random.bernoulli(k_s, theta, (_N_EVENTS,))
    k_before = jnp.cumsum(slips) - slips
    n = jnp.arange(_N_EVENTS)
    stats = jnp.stack([n, k_before], axis=-1).astype(jnp.float32)
    return stats, slips.astype(jnp.float32), jnp.ones((_N_EVENTS,), bool)


def make_lava_space(env: LavaMazeEnv | None = None, lava_below: bool = True) -> ued.LevelSpace:
    """The ``lava-maze/7x7`` level space with its :class:`ued.aleatoric.AleatoricSpec`;
    ``lava_below=False``: the template without the lava below the corridor
    (``lava-maze/7x7-open-below``, see the module docstring)."""
    env = LavaMazeEnv() if env is None else env
    ph = LavaLevel(
        maze=lava_layout(0, 0, jnp.zeros((len(_T_POCKETS),), bool)),
        lava=_lava_maps(lava_below)[0],
        theta=jnp.float32(0.2),
    )
    spec = AleatoricSpec(
        names=("theta",),
        stat_names=("forward_moves", "slips"),
        env=env,
        prior_sample=_prior,
        history_stats=_history_stats,
        predictive_prob=_predictive,
        posterior_sample=_posterior_sample,
        condition_state=_condition_state,
        episode_events=_episode_events,
        parameter=lambda lvl: lvl.theta.astype(jnp.float32),
        parameter_name="mean_theta",
        prior_mean=THETA_A / (THETA_A + THETA_B),
        history_classes=np.array(
            [[0, 0], [4, 0], [4, 2], [8, 1], [12, 0], [12, 4], [20, 3]], np.float32
        ),
        class_names=("n0k0", "n4k0", "n4k2", "n8k1", "n12k0", "n12k4", "n20k3"),
        stats_scale=(16.0, 8.0),
    )
    return ued.LevelSpace(
        name="lava-maze/7x7" if lava_below else "lava-maze/7x7-open-below",
        placeholder=ph,
        sample=make_lava_sampler(lava_below),
        mutate=mutate_lava_level,
        is_valid=lava_is_valid,
        render=render_lava_level,
        descriptor=lava_descriptor,
        descriptor_names=("walls", "theta"),
        aleatoric=spec,
    )


# ----------------------------------------------------------------------------- evaluation


def lava_eval_layouts(lava_below: bool = True) -> LavaLevel:
    """The 32 designable lava layouts without pocket walls (8 symmetries x 4 directions),
    batched, theta 0 (evaluation draws it); ``lava_below`` as in :func:`make_lava_space`. Host."""
    maps = _lava_maps(lava_below)
    levels = []
    for s in range(8):
        for d in range(4):
            m = lava_layout(s, d, jnp.zeros((len(_T_POCKETS),), bool))
            levels.append(LavaLevel(maze=m, lava=maps[s], theta=jnp.float32(0)))
    return stack_levels(levels)


__all__ = [
    "TEMPLATE_AGENT",
    "TEMPLATE_GOAL",
    "TEMPLATE_LAVA",
    "TEMPLATE_WALLS",
    "THETA_A",
    "THETA_B",
    "LavaLevel",
    "LavaMazeEnv",
    "LavaObs",
    "LavaState",
    "lava_descriptor",
    "lava_eval_layouts",
    "lava_is_valid",
    "lava_layout",
    "make_lava_sampler",
    "make_lava_space",
    "mutate_lava_level",
    "render_lava_level",
    "sample_lava_level",
]
