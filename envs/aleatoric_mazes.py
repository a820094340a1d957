"""Aleatoric mazes for SAMPLR: ``gamble-maze`` and ``lava-maze`` (7x7 interior, <= 8 walls, T = 64).

Both are built on the Maze machinery (``envs.maze``: the ``MazeLevel`` layout, its validity
check, BFS distances and the renderer) with the Maze's dynamics (0 turn left, 1 turn right,
2 forward; walls block; moving into an exit ends the episode with ``payout * (1 - 0.9 t / T)``).
Both are fully observed (a feed-forward policy must be able to act well; see below).

**gamble-maze.** Two exits: the *safe* exit (``maze.goal_pos``) pays 0.5; the *gamble* exit pays
1 or 0 by a hidden coin with ground-truth P(pay) = 0.25. A designable flag ``has_cue`` (on for
half the generated levels) puts a cue tile on the agent's start cell, so it is in view at t = 0;
it shows the coin's side with accuracy 0.9. Ground truth (equal distances): no cue -> safe
(0.25 < 0.5); favourable cue -> gamble (P(pay | cue) = 0.75); unfavourable -> safe
(P(pay | cue) = 0.036). The aleatoric draws ``coin`` and ``cue_reading`` live in the level (so
DR/PLR replays repeat them); ``cue_reading`` is drawn on every level but shown only if
``has_cue``. Observation: ``image`` float32[7, 7, 4] (wall, safe exit, gamble exit, agent),
``agent_dir`` int32 and ``cue`` float32[3] one-hot (no cue / says pay / says no pay). The cue
reading stays in the observation for the whole episode once seen: the env, not the policy,
remembers it, so a feed-forward policy can follow it. ``history_stats`` = (cue seen, cue says
pay).

**lava-maze.** A fixed template, transformed by one of the 8 symmetries of the square, with a
random start direction and 0..3 extra walls in two side pockets (designable): the agent starts
at one end of a 6-step corridor lined with lava (row above: 5 lava cells; row below: 3 lava
cells between two walls) whose other end is the goal; the safe detour around a wall
takes 16 forward moves and 3 turns (19 actions; "about 20"). Each level has a hidden slip
probability ``theta`` (ground-truth prior Beta(2, 8), stored in the level): every forward move
slips with probability ``theta`` and then goes one cell in one of the other three directions
(uniform), keeping the facing direction; moving onto lava ends the episode with reward 0 (not
solved); the goal is reached by any move into it. With these numbers the best first move flips
from corridor to detour at theta ~ 0.09 (value iteration, :func:`lava_route_values`; the issue
asked for "around 0.07", a denser lava lining would put the detour itself next to lava), so
under the prior (mean 0.2, P(theta < 0.09) = 0.23) the detour is right. The observation is ``image`` float32[7, 7, 4] (wall, goal,
lava, agent) and ``agent_dir``; ``history_stats`` = (forward moves, slips); the posterior of
theta is Beta(2 + slips, 8 + moves - slips) and the next slip's predictive probability
(2 + slips) / (10 + moves) (Beta-Binomial).

Public API: ``GambleLevel``, ``LavaLevel``, ``GambleMazeEnv``, ``LavaMazeEnv``,
``make_gamble_space()``, ``make_lava_space()``, ``make_aleatoric_maze(name) -> (env, space)``
for ``name`` in :data:`ALEATORIC_MAZES`, ``gamble_eval_layouts``, ``lava_eval_layouts``,
``scripted_action``, ``lava_route_values``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import ued
from envs.maze import (
    MazeLevel,
    MazeParams,
    cell_distances,
    is_valid_level,
    make_level,
    optimal_steps,
    render_level,
)
from ued.aleatoric import (
    AleatoricSpec,
    beta_bernoulli_predictive,
    beta_integer,
    noisy_cue_posterior,
)

SIZE = 7
MAX_WALLS = 8
MAX_STEPS = 64
P_PAY = 0.25
CUE_ACCURACY = 0.9
SAFE_PAYOUT = 0.5
THETA_A, THETA_B = 2, 8  # integer Beta parameters (exact fast sampler)
ALEATORIC_MAZES = ("gamble-maze", "lava-maze")
EXIT_NONE, EXIT_SAFE, EXIT_GAMBLE = 0, 1, 2
_N_EVENTS = 32  # forward moves per simulated lava episode for the learned belief


def _dir_vec(d):
    dx = (d == 0).astype(jnp.int32) - (d == 2).astype(jnp.int32)
    dy = (d == 1).astype(jnp.int32) - (d == 3).astype(jnp.int32)
    return dx, dy


def _at(pos, x, y):
    return (pos[0] == x) & (pos[1] == y)


def _cell_mask(pos, h=SIZE, w=SIZE):
    ys = jnp.arange(h)[:, None]
    xs = jnp.arange(w)[None, :]
    return (xs == pos[0]) & (ys == pos[1])


def _blocked(walls, x, y):
    h, w = walls.shape
    inb = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return ~inb | walls[jnp.clip(y, 0, h - 1), jnp.clip(x, 0, w - 1)]


def _params() -> MazeParams:
    return MazeParams(max_steps_in_episode=jnp.asarray(MAX_STEPS, jnp.int32))


def _payout_scale(time, params):
    t_max = jnp.asarray(params.max_steps_in_episode, jnp.float32)
    return 1.0 - 0.9 * time.astype(jnp.float32) / t_max


def _choice(key, mask):
    logits = jnp.where(mask, 0.0, -jnp.inf)
    ok = jnp.any(mask)
    return jax.random.categorical(key, jnp.where(ok, logits, 0.0)).astype(jnp.int32), ok


def _xy(idx, w=SIZE):
    return jnp.stack([idx % w, idx // w]).astype(jnp.int32)


# ================================================================================ gamble maze


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


class GambleMazeEnv(ued.Environment):
    """The gamble maze (see the module docstring). All methods pure and jittable."""

    @property
    def default_params(self) -> MazeParams:
        return _params()

    @property
    def name(self) -> str:
        return "GambleMaze7x7"

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(3)

    def observation_space(self, params=None):
        return GambleObs(
            image=ued.Box(0.0, 1.0, (SIZE, SIZE, 4)),
            agent_dir=ued.Box(0, 3, (), jnp.int32),
            cue=ued.Box(0.0, 1.0, (3,)),
        )

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
        dx, dy = _dir_vec(state.agent_dir)
        nx, ny = state.agent_pos[0] + dx, state.agent_pos[1] + dy
        safe = fwd & _at(state.safe_pos, nx, ny)
        gamble = fwd & _at(state.gamble_pos, nx, ny)
        move = fwd & ~_blocked(state.walls, nx, ny) & ~safe & ~gamble
        pos = jnp.where(move, jnp.stack([nx, ny]), state.agent_pos).astype(jnp.int32)
        turn = (action == 1).astype(jnp.int32) - (action == 0).astype(jnp.int32)
        time = state.time + 1
        scale = _payout_scale(time, params)
        payout = jnp.where(safe, SAFE_PAYOUT, jnp.where(gamble & state.coin, 1.0, 0.0))
        reward = (payout * scale).astype(jnp.float32)
        term = safe | gamble
        trunc = (time >= params.max_steps_in_episode) & ~term
        s = state.replace(agent_pos=pos, agent_dir=(state.agent_dir + turn) & 3, time=time)
        exit_ = jnp.where(safe, EXIT_SAFE, jnp.where(gamble, EXIT_GAMBLE, EXIT_NONE))
        info = {"solved": reward > 0, "exit": exit_.astype(jnp.int32)}
        return self.get_obs(s), s, reward, term, trunc, info

    def get_obs(self, s: GambleState) -> GambleObs:
        image = jnp.stack(
            [s.walls, _cell_mask(s.safe_pos), _cell_mask(s.gamble_pos), _cell_mask(s.agent_pos)],
            axis=-1,
        ).astype(jnp.float32)
        cue = jnp.stack(
            [~s.cue_seen, s.cue_seen & s.cue_reading, s.cue_seen & ~s.cue_reading]
        ).astype(jnp.float32)
        return GambleObs(image=image, agent_dir=s.agent_dir, cue=cue)


def _gamble_prior(key, level: GambleLevel) -> GambleLevel:
    k_coin, k_cue = jax.random.split(key)
    coin = jax.random.bernoulli(k_coin, P_PAY)
    wrong = jax.random.bernoulli(k_cue, 1.0 - CUE_ACCURACY)
    return level.replace(coin=coin, cue_reading=coin ^ wrong)


def _exit_reachable(maze: MazeLevel, target, other) -> jax.Array:
    """``target`` reachable from the agent without passing through ``other`` (an exit)."""
    walls = maze.wall_map | _cell_mask(other)
    d = cell_distances(maze.replace(wall_map=walls))
    return d[target[1], target[0]] < 2**30


def _gamble_raw(key) -> GambleLevel:
    n = SIZE * SIZE
    k_w, k_a, k_s, k_g, k_d, k_c, k_al = jax.random.split(key, 7)
    idx = jax.random.randint(k_w, (MAX_WALLS,), 0, n)
    walls = jnp.zeros((n,), bool).at[idx].set(True)
    cells = jnp.arange(n)
    agent, _ = _choice(k_a, ~walls)
    safe, _ = _choice(k_s, ~walls & (cells != agent))
    gamble, _ = _choice(k_g, ~walls & (cells != agent) & (cells != safe))
    maze = make_level(
        walls.reshape(SIZE, SIZE), _xy(agent), jax.random.randint(k_d, (), 0, 4), _xy(safe)
    )
    lvl = GambleLevel(
        maze=maze,
        gamble_pos=_xy(gamble),
        has_cue=jax.random.bernoulli(k_c, 0.5),
        coin=jnp.zeros((), bool),
        cue_reading=jnp.zeros((), bool),
    )
    return _gamble_prior(k_al, lvl)


def gamble_solvable(level: GambleLevel) -> jax.Array:
    """bool[]: both exits reachable from the start, each without entering the other."""
    m = level.maze
    return _exit_reachable(m, m.goal_pos, level.gamble_pos) & _exit_reachable(
        m, level.gamble_pos, m.goal_pos
    )


def sample_gamble_level(key) -> GambleLevel:
    """A random solvable gamble maze (<= 8 walls; rejection, bounded by 16 tries; the last try
    has its walls cleared if still unsolvable). Jittable."""

    def cond(c):
        i, lvl = c
        return (i < 16) & ~gamble_solvable(lvl)

    def body(c):
        i, _ = c
        return i + 1, _gamble_raw(jax.random.fold_in(key, i))

    _, lvl = jax.lax.while_loop(cond, body, (jnp.int32(1), _gamble_raw(key)))
    ok = gamble_solvable(lvl)
    wm = jnp.where(ok, lvl.maze.wall_map, jnp.zeros_like(lvl.maze.wall_map))
    return lvl.replace(maze=lvl.maze.replace(wall_map=wm))


def gamble_is_valid(level: GambleLevel) -> jax.Array:
    """Maze-valid, gamble exit on a free cell distinct from agent and safe exit, <= 8 walls."""
    m = level.maze
    gx, gy = level.gamble_pos[0], level.gamble_pos[1]
    inb = (gx >= 0) & (gx < m.width) & (gy >= 0) & (gy < m.height)
    free = ~m.wall_map[jnp.clip(gy, 0, SIZE - 1), jnp.clip(gx, 0, SIZE - 1)]
    distinct = ~_at(m.agent_pos, gx, gy) & ~_at(m.goal_pos, gx, gy)
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
    c, ok = _choice(k_cell, cand)
    flipped = jnp.where(ok & (n == c), ~flat, flat).reshape(SIZE, SIZE)
    toggle = jax.random.bernoulli(k_op, 0.25)
    return level.replace(
        maze=m.replace(wall_map=jnp.where(toggle, m.wall_map, flipped)),
        has_cue=jnp.where(toggle, ~level.has_cue, level.has_cue),
    )


_CUE_PAY_RGB = jnp.array((60, 120, 255), jnp.uint8)
_CUE_NOPAY_RGB = jnp.array((255, 0, 255), jnp.uint8)
_GAMBLE_RGB = jnp.array((255, 215, 0), jnp.uint8)
_LAVA_RGB = jnp.array((255, 110, 0), jnp.uint8)


def _paint(img, mask, rgb, tile, inset=1):
    """Fill the cells of ``mask`` (bool[H, W], interior coordinates) in a rendered picture."""
    h, w = mask.shape
    full = jnp.pad(mask, 1)
    big = jnp.repeat(jnp.repeat(full, tile, 0), tile, 1)
    py = np.arange((h + 2) * tile)[:, None] % tile
    px = np.arange((w + 2) * tile)[None, :] % tile
    inner = (py >= inset) & (px >= inset)
    return jnp.where((big & inner)[..., None], rgb, img)


def _corner(img, pos, rgb, tile):
    """A small square in the top-left corner of cell ``pos`` (the cue marker)."""
    hh, ww = img.shape[:2]
    py = np.arange(hh)[:, None]
    px = np.arange(ww)[None, :]
    cell = (py // tile == pos[1] + 1) & (px // tile == pos[0] + 1)
    mark = (
        (py % tile >= 1)
        & (py % tile <= max(2, tile // 4))
        & (px % tile >= 1)
        & (px % tile <= max(2, tile // 4))
    )
    return jnp.where((cell & mark)[..., None], rgb, img)


def render_gamble_level(level: GambleLevel, tile: int = 8) -> jax.Array:
    """uint8[(7+2)*tile, (7+2)*tile, 3]: Maze colours, gamble exit gold, cue marker in the
    start cell's corner (blue: says pay, magenta: says no pay). Jittable."""
    img = render_level(level.maze, tile)
    img = _paint(img, _cell_mask(level.gamble_pos), _GAMBLE_RGB, tile)
    rgb = jnp.where(level.cue_reading, _CUE_PAY_RGB, _CUE_NOPAY_RGB)
    marked = _corner(img, level.maze.agent_pos, rgb, tile)
    return jnp.where(level.has_cue, marked, img)


def gamble_descriptor(level: GambleLevel) -> jax.Array:
    """float32[3]: walls, has_cue, coin (the last one aleatoric, for plots)."""
    return jnp.stack([jnp.sum(level.maze.wall_map), level.has_cue, level.coin]).astype(jnp.float32)


def _gamble_stats(state: GambleState) -> jax.Array:
    return jnp.stack([state.cue_seen, state.cue_seen & state.cue_reading]).astype(jnp.float32)


def _gamble_pred(level, stats) -> jax.Array:
    del level
    return noisy_cue_posterior(P_PAY, CUE_ACCURACY, stats[0] > 0.5, stats[1] > 0.5)


def _gamble_posterior(key, level: GambleLevel, stats) -> GambleLevel:
    k_coin, k_cue = jax.random.split(key)
    seen = stats[0] > 0.5
    coin = jax.random.bernoulli(k_coin, _gamble_pred(level, stats))
    # an unseen reading is drawn given the coin; a seen one is what the history says
    unseen = coin ^ jax.random.bernoulli(k_cue, 1.0 - CUE_ACCURACY)
    return level.replace(coin=coin, cue_reading=jnp.where(seen, stats[1] > 0.5, unseen))


def _gamble_condition(key, state: GambleState, p) -> GambleState:
    return state.replace(coin=jax.random.bernoulli(key, p))


def _gamble_events(key, level: GambleLevel):
    lvl = _gamble_prior(key, level)
    stats = jnp.stack([lvl.has_cue, lvl.has_cue & lvl.cue_reading]).astype(jnp.float32)
    return stats[None], lvl.coin.astype(jnp.float32)[None], jnp.ones((1,), bool)


def make_gamble_space(env: GambleMazeEnv | None = None) -> ued.LevelSpace:
    """The ``gamble-maze/7x7`` level space with its :class:`AleatoricSpec`."""
    env = GambleMazeEnv() if env is None else env
    ph = _gamble_raw(jax.random.key(0))
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
        prior_sample=_gamble_prior,
        history_stats=_gamble_stats,
        predictive_prob=_gamble_pred,
        posterior_sample=_gamble_posterior,
        condition_state=_gamble_condition,
        episode_events=_gamble_events,
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
        sample=sample_gamble_level,
        mutate=mutate_gamble_level,
        is_valid=gamble_is_valid,
        render=render_gamble_level,
        descriptor=gamble_descriptor,
        descriptor_names=("walls", "has_cue", "coin"),
        aleatoric=spec,
    )


# ================================================================================ lava maze

# Template (x right, y down): agent (0, 1) facing right, goal (6, 1); lava above the corridor
# at x = 1..5 and below it at x = 2..4 between walls (1, 2) and (5, 2); a wall at x = 3,
# y = 3..5 makes the detour go down column 0, along row 6 and up column 6.
_T_LAVA = [(x, 0) for x in range(1, 6)] + [(x, 2) for x in range(2, 5)]
_T_WALLS = [(1, 2), (5, 2), (3, 3), (3, 4), (3, 5)]
_T_POCKETS = [(x, y) for y in (3, 4, 5) for x in (1, 2, 4, 5)]
_T_AGENT, _T_GOAL = (0, 1), (6, 1)


def _grid(cells):
    g = np.zeros((SIZE, SIZE), bool)
    for x, y in cells:
        g[y, x] = True
    return g


_SYM_LAVA = []
_SYM_WALLS = []
_SYM_POCKETS = []
_SYM_AGENT = []
_SYM_GOAL = []


def _sym_xy(s: int, x: int, y: int) -> tuple[int, int]:
    if s & 4:
        x, y = y, x
    if s & 1:
        x = SIZE - 1 - x
    if s & 2:
        y = SIZE - 1 - y
    return x, y


for _s in range(8):
    _SYM_LAVA.append(_grid([_sym_xy(_s, *c) for c in _T_LAVA]))
    _SYM_WALLS.append(_grid([_sym_xy(_s, *c) for c in _T_WALLS]))
    _SYM_POCKETS.append([_sym_xy(_s, *c) for c in _T_POCKETS])
    _SYM_AGENT.append(_sym_xy(_s, *_T_AGENT))
    _SYM_GOAL.append(_sym_xy(_s, *_T_GOAL))
_SYM_LAVA = jnp.asarray(np.stack(_SYM_LAVA))  # (8, 7, 7)
_SYM_WALLS = jnp.asarray(np.stack(_SYM_WALLS))
_SYM_POCKETS = jnp.asarray(np.array(_SYM_POCKETS, np.int32))  # (8, 12, 2)
_SYM_AGENT = jnp.asarray(np.array(_SYM_AGENT, np.int32))  # (8, 2)
_SYM_GOAL = jnp.asarray(np.array(_SYM_GOAL, np.int32))


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


class LavaMazeEnv(ued.Environment):
    """The lava maze (see the module docstring). All methods pure and jittable."""

    @property
    def default_params(self) -> MazeParams:
        return _params()

    @property
    def name(self) -> str:
        return "LavaMaze7x7"

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(3)

    def observation_space(self, params=None):
        return LavaObs(
            image=ued.Box(0.0, 1.0, (SIZE, SIZE, 4)), agent_dir=ued.Box(0, 3, (), jnp.int32)
        )

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
        dx, dy = _dir_vec(d)
        nx, ny = state.agent_pos[0] + dx, state.agent_pos[1] + dy
        goal = fwd & _at(state.goal_pos, nx, ny)
        blocked = _blocked(state.walls, nx, ny)
        lava = fwd & ~blocked & state.lava[jnp.clip(ny, 0, SIZE - 1), jnp.clip(nx, 0, SIZE - 1)]
        move = fwd & ~blocked & ~goal
        pos = jnp.where(move, jnp.stack([nx, ny]), state.agent_pos).astype(jnp.int32)
        turn = (action == 1).astype(jnp.int32) - (action == 0).astype(jnp.int32)
        time = state.time + 1
        reward = jnp.where(goal, _payout_scale(time, params), 0.0).astype(jnp.float32)
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
        image = jnp.stack(
            [s.walls, _cell_mask(s.goal_pos), s.lava, _cell_mask(s.agent_pos)], axis=-1
        ).astype(jnp.float32)
        return LavaObs(image=image, agent_dir=s.agent_dir)


def lava_layout(sym, agent_dir, pocket_walls) -> MazeLevel:
    """The template under symmetry ``sym`` (0..7) with start direction ``agent_dir`` and extra
    walls on the pocket cells where ``pocket_walls`` (bool[12]) is set. Jittable."""
    pockets = _SYM_POCKETS[sym]  # (12, 2)
    extra = jnp.zeros((SIZE, SIZE), bool).at[pockets[:, 1], pockets[:, 0]].max(pocket_walls)
    return make_level(_SYM_WALLS[sym] | extra, _SYM_AGENT[sym], agent_dir, _SYM_GOAL[sym])


def _lava_prior(key, level: LavaLevel) -> LavaLevel:
    return level.replace(theta=beta_integer(key, THETA_A, THETA_B, max(THETA_A, THETA_B)))


def sample_lava_level(key) -> LavaLevel:
    """A random lava maze: symmetry, start direction, 0..3 pocket walls, theta ~ Beta(2, 8)."""
    k_s, k_d, k_p, k_k, k_t = jax.random.split(key, 5)
    sym = jax.random.randint(k_s, (), 0, 8)
    idx = jax.random.randint(k_p, (3,), 0, len(_T_POCKETS))
    keep = jax.random.bernoulli(k_k, 0.5, (3,))
    pocket = jnp.zeros((len(_T_POCKETS),), bool).at[idx].max(keep)
    maze = lava_layout(sym, jax.random.randint(k_d, (), 0, 4), pocket)
    return _lava_prior(k_t, LavaLevel(maze=maze, lava=_SYM_LAVA[sym], theta=jnp.float32(0)))


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
    return _paint(render_level(level.maze, tile), level.lava, _LAVA_RGB, tile)


def lava_descriptor(level: LavaLevel) -> jax.Array:
    """float32[2]: walls, theta (aleatoric, for plots)."""
    return jnp.stack([jnp.sum(level.maze.wall_map), level.theta]).astype(jnp.float32)


def _lava_stats(state: LavaState) -> jax.Array:
    return jnp.stack([state.n_forward, state.n_slips]).astype(jnp.float32)


def _lava_pred(level, stats) -> jax.Array:
    del level
    return beta_bernoulli_predictive(stats[0], stats[1], THETA_A, THETA_B)


def _lava_posterior(key, level: LavaLevel, stats) -> LavaLevel:
    n = jnp.round(stats[0]).astype(jnp.int32)
    k = jnp.round(stats[1]).astype(jnp.int32)
    theta = beta_integer(key, THETA_A + k, THETA_B + n - k, THETA_B + MAX_STEPS)
    return level.replace(theta=theta)


def _lava_condition(key, state: LavaState, p) -> LavaState:
    # theta := the predictive probability: the next slip is then exactly Bernoulli(p)
    del key
    return state.replace(theta=jnp.asarray(p, jnp.float32))


def _lava_events(key, level: LavaLevel):
    k_t, k_s = jax.random.split(key)
    theta = _lava_prior(k_t, level).theta
    slips = jax.random.bernoulli(k_s, theta, (_N_EVENTS,))
    k_before = jnp.cumsum(slips) - slips
    n = jnp.arange(_N_EVENTS)
    stats = jnp.stack([n, k_before], axis=-1).astype(jnp.float32)
    return stats, slips.astype(jnp.float32), jnp.ones((_N_EVENTS,), bool)


def make_lava_space(env: LavaMazeEnv | None = None) -> ued.LevelSpace:
    """The ``lava-maze/7x7`` level space with its :class:`AleatoricSpec`."""
    env = LavaMazeEnv() if env is None else env
    ph = LavaLevel(
        maze=lava_layout(0, 0, jnp.zeros((len(_T_POCKETS),), bool)),
        lava=_SYM_LAVA[0],
        theta=jnp.float32(0.2),
    )
    spec = AleatoricSpec(
        names=("theta",),
        stat_names=("forward_moves", "slips"),
        env=env,
        prior_sample=_lava_prior,
        history_stats=_lava_stats,
        predictive_prob=_lava_pred,
        posterior_sample=_lava_posterior,
        condition_state=_lava_condition,
        episode_events=_lava_events,
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
        name="lava-maze/7x7",
        placeholder=ph,
        sample=sample_lava_level,
        mutate=mutate_lava_level,
        is_valid=lava_is_valid,
        render=render_lava_level,
        descriptor=lava_descriptor,
        descriptor_names=("walls", "theta"),
        aleatoric=spec,
    )


# ================================================================================ helpers


def make_aleatoric_maze(name: str) -> tuple[ued.Environment, ued.LevelSpace]:
    """``(env, space)`` for ``name`` in :data:`ALEATORIC_MAZES`."""
    if name == "gamble-maze":
        env = GambleMazeEnv()
        return env, make_gamble_space(env)
    if name == "lava-maze":
        env = LavaMazeEnv()
        return env, make_lava_space(env)
    raise ValueError(f"unknown aleatoric maze {name!r}; allowed: {', '.join(ALEATORIC_MAZES)}")


def scripted_action(walls, agent_pos, agent_dir, target, avoid=None) -> jax.Array:
    """A shortest-path action towards cell ``target`` (int32[]: 0 left, 1 right, 2 forward).

    Distances come from a BFS (``envs.maze.cell_distances``) from ``target`` over free cells
    (``avoid``: extra blocked cells, bool[H, W]); the agent steps forward when the cell ahead is
    closer, else turns towards a closer neighbour (right first). Jittable.
    """
    blocked = walls if avoid is None else walls | avoid
    blocked = blocked & ~_cell_mask(target)
    lvl = make_level(blocked, target, 0, agent_pos)
    d = cell_distances(lvl)
    here = d[agent_pos[1], agent_pos[0]]

    def dist_dir(k):
        dx, dy = _dir_vec(k)
        x, y = agent_pos[0] + dx, agent_pos[1] + dy
        ok = ~_blocked(blocked, x, y)
        return jnp.where(ok, d[jnp.clip(y, 0, SIZE - 1), jnp.clip(x, 0, SIZE - 1)], 2**30)

    ahead = dist_dir(agent_dir)
    right = dist_dir((agent_dir + 1) & 3)
    return jnp.where(ahead < here, 2, jnp.where(right < here, 1, 0)).astype(jnp.int32)


def gamble_eval_layouts(n: int = 32, seed: int = 10_007) -> GambleLevel:
    """``n`` held-out gamble layouts (batched) whose two exits are at equal distance from the
    start (fewest actions, turns included, each exit avoiding the other). Coin/cue fields are
    zero: evaluation enumerates them. Host (filters generator draws with a fixed seed that no
    training run uses)."""
    keys = jax.random.split(jax.random.key(seed), 4096)
    lv = jax.jit(jax.vmap(sample_gamble_level))(keys)

    def steps(level):
        m = level.maze
        to_safe = optimal_steps(m.replace(wall_map=m.wall_map | _cell_mask(level.gamble_pos)))
        to_gamble = optimal_steps(
            m.replace(wall_map=m.wall_map | _cell_mask(m.goal_pos), goal_pos=level.gamble_pos)
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


def lava_eval_layouts() -> LavaLevel:
    """The 32 designable lava layouts without pocket walls (8 symmetries x 4 directions),
    batched, theta 0 (evaluation draws it). Host."""
    levels = []
    for s in range(8):
        for d in range(4):
            m = lava_layout(s, d, jnp.zeros((len(_T_POCKETS),), bool))
            levels.append(LavaLevel(maze=m, lava=_SYM_LAVA[s], theta=jnp.float32(0)))
    return jax.tree.map(lambda *xs: jnp.stack(xs), *levels)


def lava_route_values(theta: float) -> dict[str, float]:
    """Start-state action values of the template (start (0, 1) facing right) for a known
    ``theta``, by finite-horizon value iteration over (time, pose) with optimal continuation:
    ``{"corridor": Q(forward), "detour": Q(turn right)}`` (forward enters the lava-lined
    corridor; turning right faces the detour). Host, NumPy."""
    lava = _grid(_T_LAVA)
    walls = _grid(_T_WALLS)
    gx, gy = _T_GOAL
    vecs = ((1, 0), (0, 1), (-1, 0), (0, -1))

    def q_forward(v_next, d, x, y, r_goal):
        q = 0.0
        for k, pk in [(d, 1.0 - theta)] + [((d + j) % 4, theta / 3) for j in (1, 2, 3)]:
            xx, yy = x + vecs[k][0], y + vecs[k][1]
            if (xx, yy) == (gx, gy):
                q += pk * r_goal
            elif not (0 <= xx < SIZE and 0 <= yy < SIZE) or walls[yy, xx]:
                q += pk * v_next[d, y, x]
            elif not lava[yy, xx]:
                q += pk * v_next[d, yy, xx]
        return q

    v_next = np.zeros((4, SIZE, SIZE))  # value at time t + 1
    for t in range(MAX_STEPS - 1, -1, -1):
        v = np.zeros((4, SIZE, SIZE))
        r_goal = 1.0 - 0.9 * (t + 1) / MAX_STEPS
        for d in range(4):
            for y in range(SIZE):
                for x in range(SIZE):
                    if walls[y, x] or lava[y, x] or (x, y) == (gx, gy):
                        continue
                    turn = max(v_next[(d + 3) % 4, y, x], v_next[(d + 1) % 4, y, x])
                    v[d, y, x] = max(turn, q_forward(v_next, d, x, y, r_goal))
        if t == 0:
            ax, ay = _T_AGENT
            return {
                "corridor": float(q_forward(v_next, 0, ax, ay, r_goal)),
                "detour": float(v_next[1, ay, ax]),
            }
        v_next = v
    raise AssertionError("unreachable")


__all__ = [
    "ALEATORIC_MAZES",
    "EXIT_GAMBLE",
    "EXIT_NONE",
    "EXIT_SAFE",
    "GambleLevel",
    "GambleMazeEnv",
    "GambleObs",
    "GambleState",
    "LavaLevel",
    "LavaMazeEnv",
    "LavaObs",
    "LavaState",
    "gamble_eval_layouts",
    "gamble_is_valid",
    "gamble_solvable",
    "lava_eval_layouts",
    "lava_is_valid",
    "lava_layout",
    "lava_route_values",
    "make_aleatoric_maze",
    "make_gamble_space",
    "make_lava_space",
    "sample_gamble_level",
    "sample_lava_level",
    "scripted_action",
]
