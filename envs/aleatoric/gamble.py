"""The gamble maze (``gamble-maze/7x7``): a safe exit, a gamble exit paid by a hidden coin, and
an optional noisy cue.

Dynamics are the Maze's (:mod:`envs.maze`: 0 turn left, 1 turn right, 2 forward; walls block;
moving into an exit ends the episode with ``payout * (1 - 0.9 t / T)``, ``T = 64``) on a 7x7
grid with at most 8 walls. The *safe* exit (``maze.goal_pos``) pays 0.5; the *gamble* exit pays
1 or 0 by a hidden coin with ground-truth P(pay) = 0.25. A designable flag ``has_cue`` (on for
half the generated levels) puts a cue tile on the agent's start cell, so it is in view at
t = 0; it shows the coin's side with accuracy 0.9. Ground truth (equal distances): no cue ->
safe (0.25 < 0.5); favourable cue -> gamble (P(pay | cue) = 0.75); unfavourable -> safe
(P(pay | cue) = 0.036).

The aleatoric draws ``coin`` and ``cue_reading`` live in the level (so DR/PLR replays repeat
them); ``cue_reading`` is drawn on every level but shown only if ``has_cue``. The observation is
``image`` float32[7, 7, 4] (wall, safe exit, gamble exit, agent), ``agent_dir`` int32 and
``cue`` float32[3] one-hot (no cue / says pay / says no pay). The cue reading stays in the
observation for the whole episode once seen: the env, not the policy, remembers it, so a
feed-forward policy can follow it. ``history_stats`` = (cue seen, cue says pay).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import ued
from envs.aleatoric.grid import MAX_WALLS, SIZE, GridMazeEnv, at, cell_mask
from envs.maze.bfs import cell_distances, optimal_steps, shortest_path_length
from envs.maze.level import (
    MazeLevel,
    dir_vec,
    is_valid_level,
    make_level,
    time_discount,
    wall_at,
)
from envs.maze.render import paint_cells, render_level
from envs.maze.space import index_to_xy, uniform_index
from ued.aleatoric import AleatoricSpec, noisy_cue_posterior

P_PAY = 0.25
CUE_ACCURACY = 0.9
SAFE_PAYOUT = 0.5
EXIT_NONE, EXIT_SAFE, EXIT_GAMBLE = 0, 1, 2

_CUE_PAY_RGB = (60, 120, 255)
_CUE_NOPAY_RGB = (255, 0, 255)
_GAMBLE_RGB = (255, 215, 0)


@struct.dataclass
class GambleLevel:
    """A gamble maze. ``maze.goal_pos`` is the safe exit.

    Attributes:
      maze: MazeLevel (wall_map bool[7, 7], agent pose, safe exit, size).
      gamble_pos: int32[2] (x, y) of the gamble exit.
      has_cue: bool[] designable: a cue tile on the agent's start cell.
      coin: bool[] aleatoric: the gamble exit pays.
      cue_reading: bool[] aleatoric: the cue says "pays" (shown only if ``has_cue``).
    """

    maze: MazeLevel
    gamble_pos: jax.Array
    has_cue: jax.Array
    coin: jax.Array
    cue_reading: jax.Array


@struct.dataclass
class GambleState:
    walls: jax.Array  # bool[7, 7]
    agent_pos: jax.Array  # int32[2]
    agent_dir: jax.Array  # int32[]
    safe_pos: jax.Array  # int32[2]
    gamble_pos: jax.Array  # int32[2]
    cue_seen: jax.Array  # bool[] the cue was shown (the level has one)
    cue_reading: jax.Array  # bool[] what it showed (meaningful where cue_seen)
    coin: jax.Array  # bool[] hidden: the gamble exit pays
    time: jax.Array  # int32[]


@struct.dataclass
class GambleObs:
    image: jax.Array  # float32[7, 7, 4]: wall, safe exit, gamble exit, agent
    agent_dir: jax.Array  # int32[]
    cue: jax.Array  # float32[3] one-hot: no cue, says pay, says no pay


class GambleMazeEnv(GridMazeEnv):
    """The gamble maze (see the module docstring). All methods pure and jittable."""

    env_name = "GambleMaze7x7"
    obs_type = GambleObs

    def extra_observation_space(self) -> dict:
        return {"cue": ued.Box(0.0, 1.0, (3,))}

    def reset_to_level(self, key, level: GambleLevel, params):
        del key
        s = GambleState(
            walls=level.maze.wall_map,
            agent_pos=level.maze.agent_pos,
            agent_dir=level.maze.agent_dir,
            safe_pos=level.maze.goal_pos,
            gamble_pos=level.gamble_pos,
            cue_seen=jnp.asarray(level.has_cue, bool),
            cue_reading=jnp.asarray(level.cue_reading, bool),
            coin=jnp.asarray(level.coin, bool),
            time=jnp.zeros((), jnp.int32),
        )
        return self.get_obs(s), s

    def step(self, key, state: GambleState, action, params):
        """Returns ``(obs, state, reward, terminated, truncated, info)``; ``info["exit"]`` is
        0 (none), 1 (safe) or 2 (gamble) on the step an exit is entered. Ignores ``key``."""
        del key
        action = jnp.asarray(action, jnp.int32)
        fwd = action == 2
        dx, dy = dir_vec(state.agent_dir)
        nx, ny = state.agent_pos[0] + dx, state.agent_pos[1] + dy
        safe = fwd & at(state.safe_pos, nx, ny)
        gamble = fwd & at(state.gamble_pos, nx, ny)
        move = fwd & ~wall_at(state.walls, nx, ny) & ~safe & ~gamble
        pos = jnp.where(move, jnp.stack([nx, ny]), state.agent_pos).astype(jnp.int32)
        turn = (action == 1).astype(jnp.int32) - (action == 0).astype(jnp.int32)
        time = state.time + 1
        scale = time_discount(time, params)
        payout = jnp.where(safe, SAFE_PAYOUT, jnp.where(gamble & state.coin, 1.0, 0.0))
        reward = (payout * scale).astype(jnp.float32)
        term = safe | gamble
        trunc = (time >= params.max_steps_in_episode) & ~term
        s = state.replace(agent_pos=pos, agent_dir=(state.agent_dir + turn) & 3, time=time)
        exit_ = jnp.where(safe, EXIT_SAFE, jnp.where(gamble, EXIT_GAMBLE, EXIT_NONE))
        info = {"solved": reward > 0, "exit": exit_.astype(jnp.int32)}
        return self.get_obs(s), s, reward, term, trunc, info

    def get_obs(self, s: GambleState) -> GambleObs:
        planes = jnp.stack([s.walls, cell_mask(s.safe_pos), cell_mask(s.gamble_pos)], axis=-1)
        image = self.image(planes, s.agent_pos, s.agent_dir)
        cue = jnp.stack(
            [~s.cue_seen, s.cue_seen & s.cue_reading, s.cue_seen & ~s.cue_reading]
        ).astype(jnp.float32)
        return GambleObs(image=image, agent_dir=s.agent_dir, cue=cue)


# ------------------------------------------------------------------------------ level space


def _prior(key, level: GambleLevel) -> GambleLevel:
    k_coin, k_cue = jax.random.split(key)
    coin = jax.random.bernoulli(k_coin, P_PAY)
    wrong = jax.random.bernoulli(k_cue, 1.0 - CUE_ACCURACY)
    return level.replace(coin=coin, cue_reading=coin ^ wrong)


def _exit_reachable(maze: MazeLevel, target, other) -> jax.Array:
    """``target`` reachable from the agent without passing through ``other`` (an exit)."""
    walls = maze.wall_map | cell_mask(other)
    return shortest_path_length(maze.replace(wall_map=walls, goal_pos=target)) >= 0


def _sample_raw(key) -> GambleLevel:
    n = SIZE * SIZE
    k_w, k_a, k_s, k_g, k_d, k_c, k_al = jax.random.split(key, 7)
    idx = jax.random.randint(k_w, (MAX_WALLS,), 0, n)
    walls = jnp.zeros((n,), bool).at[idx].set(True)
    cells = jnp.arange(n)
    agent, _ = uniform_index(k_a, ~walls)
    safe, _ = uniform_index(k_s, ~walls & (cells != agent))
    gamble, _ = uniform_index(k_g, ~walls & (cells != agent) & (cells != safe))
    maze = make_level(
        walls.reshape(SIZE, SIZE),
        index_to_xy(agent, SIZE),
        jax.random.randint(k_d, (), 0, 4),
        index_to_xy(safe, SIZE),
    )
    lvl = GambleLevel(
        maze=maze,
        gamble_pos=index_to_xy(gamble, SIZE),
        has_cue=jax.random.bernoulli(k_c, 0.5),
        coin=jnp.zeros((), bool),
        cue_reading=jnp.zeros((), bool),
    )
    return _prior(k_al, lvl)


def gamble_solvable(level: GambleLevel) -> jax.Array:
    """bool[]: both exits reachable from the start, each without entering the other."""
    m = level.maze
    return _exit_reachable(m, m.goal_pos, level.gamble_pos) & _exit_reachable(
        m, level.gamble_pos, m.goal_pos
    )


def exit_distances(level: GambleLevel) -> tuple[jax.Array, jax.Array]:
    """BFS cell distances (moves, turns not counted) from the start to the safe and to the
    gamble exit, each avoiding the other exit: ``(int32[], int32[])``, ``2**30`` when an exit
    cannot be reached that way. Jittable, vmappable."""
    m = level.maze
    d_safe = cell_distances(m.replace(wall_map=m.wall_map | cell_mask(level.gamble_pos)))
    d_gamble = cell_distances(m.replace(wall_map=m.wall_map | cell_mask(m.goal_pos)))
    return (
        d_safe[m.goal_pos[1], m.goal_pos[0]],
        d_gamble[level.gamble_pos[1], level.gamble_pos[0]],
    )


def make_gamble_sampler(min_exit_distance: int = 0):
    """The gamble-maze generator, optionally keeping only draws whose two exits are both at
    BFS distance >= ``min_exit_distance`` from the start (:func:`exit_distances`; 0 or 1: no
    constraint beyond solvability). ``key -> GambleLevel``, jittable; rejection bounded by 16
    tries (about 2/3 of raw draws have both exits >= 3 away), the last try kept if none
    qualifies (with its walls cleared if unsolvable)."""
    if not isinstance(min_exit_distance, int) or min_exit_distance < 0:
        raise ValueError(f"min_exit_distance must be an integer >= 0, got {min_exit_distance!r}")

    def ok(lvl):
        good = gamble_solvable(lvl)
        if min_exit_distance > 1:
            a, b = exit_distances(lvl)
            good = good & (a >= min_exit_distance) & (b >= min_exit_distance)
        return good

    def sample(key) -> GambleLevel:
        def cond(c):
            i, lvl = c
            return (i < 16) & ~ok(lvl)

        def body(c):
            i, _ = c
            return i + 1, _sample_raw(jax.random.fold_in(key, i))

        _, lvl = jax.lax.while_loop(cond, body, (jnp.int32(1), _sample_raw(key)))
        solvable = gamble_solvable(lvl)
        wm = jnp.where(solvable, lvl.maze.wall_map, jnp.zeros_like(lvl.maze.wall_map))
        return lvl.replace(maze=lvl.maze.replace(wall_map=wm))

    return sample


_SAMPLE_SOLVABLE = make_gamble_sampler(0)


def sample_gamble_level(key) -> GambleLevel:
    """A random solvable gamble maze (<= 8 walls; rejection, bounded by 16 tries; the last try
    has its walls cleared if still unsolvable). Jittable. ``make_gamble_sampler(0)``."""
    return _SAMPLE_SOLVABLE(key)


def gamble_is_valid(level: GambleLevel) -> jax.Array:
    """Maze-valid, gamble exit on a free cell distinct from agent and safe exit, <= 8 walls."""
    m = level.maze
    gx, gy = level.gamble_pos[0], level.gamble_pos[1]
    inb = (gx >= 0) & (gx < m.width) & (gy >= 0) & (gy < m.height)
    free = ~m.wall_map[jnp.clip(gy, 0, SIZE - 1), jnp.clip(gx, 0, SIZE - 1)]
    distinct = ~at(m.agent_pos, gx, gy) & ~at(m.goal_pos, gx, gy)
    return is_valid_level(m) & inb & free & distinct & (jnp.sum(m.wall_map) <= MAX_WALLS)


def mutate_gamble_level(key, level: GambleLevel) -> GambleLevel:
    """ONE designable edit: flip a wall (never on the agent or an exit; only removals at 8
    walls) or toggle the cue flag. Aleatoric draws unchanged. Jittable."""
    k_op, k_cell = jax.random.split(key)
    m = level.maze
    n = jnp.arange(SIZE * SIZE)
    flat = m.wall_map.reshape(-1)

    def idx(p):
        return p[1] * SIZE + p[0]

    others = (n != idx(m.agent_pos)) & (n != idx(m.goal_pos)) & (n != idx(level.gamble_pos))
    full = jnp.sum(flat) >= MAX_WALLS
    cand = others & jnp.where(full, flat, True)
    c, ok = uniform_index(k_cell, cand)
    flipped = jnp.where(ok & (n == c), ~flat, flat).reshape(SIZE, SIZE)
    toggle = jax.random.bernoulli(k_op, 0.25)
    return level.replace(
        maze=m.replace(wall_map=jnp.where(toggle, m.wall_map, flipped)),
        has_cue=jnp.where(toggle, ~level.has_cue, level.has_cue),
    )


def render_gamble_level(level: GambleLevel, tile: int = 8) -> jax.Array:
    """uint8[(7+2)*tile, (7+2)*tile, 3]: Maze colours, gamble exit gold, cue marker in the
    start cell's corner (blue: says pay, magenta: says no pay). Jittable."""
    img = render_level(level.maze, tile)
    img = paint_cells(img, cell_mask(level.gamble_pos), _GAMBLE_RGB, tile)
    rgb = jnp.where(
        level.cue_reading,
        jnp.asarray(_CUE_PAY_RGB, jnp.uint8),
        jnp.asarray(_CUE_NOPAY_RGB, jnp.uint8),
    )
    marked = paint_cells(img, cell_mask(level.maze.agent_pos), rgb, tile, max(2, tile // 4))
    return jnp.where(level.has_cue, marked, img)


def gamble_descriptor(level: GambleLevel) -> jax.Array:
    """float32[3]: walls, has_cue, coin (the last one aleatoric, for plots)."""
    return jnp.stack([jnp.sum(level.maze.wall_map), level.has_cue, level.coin]).astype(jnp.float32)


# ------------------------------------------------------------------------- aleatoric spec


def _history_stats(state: GambleState) -> jax.Array:
    return jnp.stack([state.cue_seen, state.cue_seen & state.cue_reading]).astype(jnp.float32)


def _predictive(level, stats) -> jax.Array:
    del level
    return noisy_cue_posterior(P_PAY, CUE_ACCURACY, stats[0] > 0.5, stats[1] > 0.5)


def _posterior_sample(key, level: GambleLevel, stats) -> GambleLevel:
    k_coin, k_cue = jax.random.split(key)
    seen = stats[0] > 0.5
    coin = jax.random.bernoulli(k_coin, _predictive(level, stats))
    # an unseen reading is drawn given the coin; a seen one is what the history says
    unseen = coin ^ jax.random.bernoulli(k_cue, 1.0 - CUE_ACCURACY)
    return level.replace(coin=coin, cue_reading=jnp.where(seen, stats[1] > 0.5, unseen))


def _condition_state(key, state: GambleState, p) -> GambleState:
    return state.replace(coin=jax.random.bernoulli(key, p))


def _episode_events(key, level: GambleLevel):
    lvl = _prior(key, level)
    stats = jnp.stack([lvl.has_cue, lvl.has_cue & lvl.cue_reading]).astype(jnp.float32)
    return stats[None], lvl.coin.astype(jnp.float32)[None], jnp.ones((1,), bool)


def make_gamble_space(
    env: GambleMazeEnv | None = None, min_exit_distance: int = 0
) -> ued.LevelSpace:
    """The ``gamble-maze/7x7`` level space with its :class:`ued.aleatoric.AleatoricSpec`;
    ``min_exit_distance > 1`` generates with :func:`make_gamble_sampler` (both exits at least
    that far from the start)."""
    env = GambleMazeEnv() if env is None else env
    ph = _sample_raw(jax.random.key(0))
    ph = jax.tree.map(lambda x: jnp.zeros_like(x), ph)
    ph = ph.replace(
        maze=ph.maze.replace(
            width=jnp.int32(SIZE), height=jnp.int32(SIZE), goal_pos=jnp.array([1, 0], jnp.int32)
        ),
        gamble_pos=jnp.array([2, 0], jnp.int32),
    )
    spec = AleatoricSpec(
        names=("coin", "cue_reading"),
        stat_names=("cue_seen", "cue_says_pay"),
        env=env,
        prior_sample=_prior,
        history_stats=_history_stats,
        predictive_prob=_predictive,
        posterior_sample=_posterior_sample,
        condition_state=_condition_state,
        episode_events=_episode_events,
        parameter=lambda lvl: lvl.coin.astype(jnp.float32),
        parameter_name="paying_share",
        prior_mean=P_PAY,
        history_classes=np.array([[0, 0], [1, 1], [1, 0]], np.float32),
        class_names=("no_cue", "favourable", "unfavourable"),
        stats_scale=(1.0, 1.0),
    )
    return ued.LevelSpace(
        name="gamble-maze/7x7",
        placeholder=ph,
        sample=sample_gamble_level
        if min_exit_distance <= 1
        else make_gamble_sampler(min_exit_distance),
        mutate=mutate_gamble_level,
        is_valid=gamble_is_valid,
        render=render_gamble_level,
        descriptor=gamble_descriptor,
        descriptor_names=("walls", "has_cue", "coin"),
        aleatoric=spec,
    )


# ----------------------------------------------------------------------------- evaluation


def gamble_eval_layouts(n: int = 32, seed: int = 10_007) -> GambleLevel:
    """``n`` held-out gamble layouts (batched) whose two exits are at equal distance from the
    start (fewest actions, turns included, each exit avoiding the other). Coin/cue fields are
    zero: evaluation enumerates them. Host (filters generator draws with a fixed seed that no
    training run uses)."""
    keys = jax.random.split(jax.random.key(seed), 4096)
    lv = jax.jit(jax.vmap(sample_gamble_level))(keys)

    def steps(level):
        m = level.maze
        to_safe = optimal_steps(m.replace(wall_map=m.wall_map | cell_mask(level.gamble_pos)))
        to_gamble = optimal_steps(
            m.replace(wall_map=m.wall_map | cell_mask(m.goal_pos), goal_pos=level.gamble_pos)
        )
        return to_safe, to_gamble

    a, b = jax.jit(jax.vmap(steps))(lv)
    ok = np.nonzero((np.asarray(a) == np.asarray(b)) & (np.asarray(a) > 0))[0]
    if len(ok) < n:
        raise ValueError(f"only {len(ok)} equal-distance layouts found, {n} requested")
    sel = jnp.asarray(ok[:n])
    out = jax.tree.map(lambda x: x[sel], lv)
    z = jnp.zeros((n,), bool)
    return out.replace(coin=z, cue_reading=z)


__all__ = [
    "CUE_ACCURACY",
    "EXIT_GAMBLE",
    "EXIT_NONE",
    "EXIT_SAFE",
    "P_PAY",
    "SAFE_PAYOUT",
    "GambleLevel",
    "GambleMazeEnv",
    "GambleObs",
    "GambleState",
    "gamble_descriptor",
    "exit_distances",
    "gamble_eval_layouts",
    "gamble_is_valid",
    "gamble_solvable",
    "make_gamble_sampler",
    "make_gamble_space",
    "mutate_gamble_level",
    "render_gamble_level",
    "sample_gamble_level",
]
