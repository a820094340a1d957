"""Craftax-Classic (Matthews et al., "Craftax: A Lightning-Fast Benchmark for Open-Ended
Reinforcement Learning", ICML 2024; the ``craftax`` package) as a level space and an
environment of the toolkit, registered as ``openued train craftax``.

**What a level is.** A level is the generated world: the 64x64 block map and the agent's start
cell (:class:`CraftaxLevel`). Craftax-Classic's world generator (``craftax_classic.world_gen.
generate_world``) returns a full ``EnvState``, but everything in it except the map and the
player's position is the same for every world (no mobs, empty inventory, full intrinsics,
facing up, time 0), so the level keeps only those two and :meth:`CraftaxEnv.reset_to_level`
rebuilds the rest. Chosen over the generator's full state because a level buffer holds
thousands of levels (the map as uint8 is 4 KiB, the full state ~33 KiB with int32 maps and a
PRNG key that a checkpoint would have to special-case), and over "map plus generator
parameters" (the fractal-noise angles) because a curriculum's edits are tile edits (jaxued's
Craftax mutators swap tiles), which noise parameters cannot express: a level built from
parameters would have to be regenerated after every edit, and the edit would be undone.

``sample`` is Craftax's own world generation (``generate_world`` with the package's default
``EnvParams``, ``always_diamond`` on). ``mutate`` is ONE edit, uniform over ten kinds: place
one of jaxued's nine "good" block types (grass, water, stone, tree, coal, iron, diamond, lava,
ripe plant; ``examples/craftax/mutators.py: make_mutator_craftax_swap``) on a cell of the 16x16
window around the agent, swapping it with a random cell of that type elsewhere so the block
counts stay the same (as jaxued's swap mutator; placed outright when the type is absent), or
move the agent to a walkable cell (grass, sand, path) of that window. Edits never touch the
agent's cell, never change the map's shape and never write a block outside Craftax-Classic's
17 types, so a valid level stays valid: every tile a real block (2..16, never ``INVALID`` or
``OUT_OF_BOUNDS``) and the agent on a walkable cell. jaxued centres its window on the map (the
spawn); we centre it on the agent, which is the same until the agent is moved.

**What solved means.** Craftax has no goal; an episode ends by death (``terminated``) or the
time limit (``truncated``, default 10000 steps, the package's ``max_timesteps``). The toolkit's
solve rate, learnability (SFL, p(1 - p)) and evaluation read ``info["solved"]`` on the step an
episode ends, so the env reports there whether the episode unlocked one chosen achievement,
``--craftax-solve-achievement`` (default ``collect_stone``). Default chosen because it is the
first achievement that needs a crafted tool (wood, a table, a wood pickaxe) and its reach
depends on the level (the generator pushes mountains away from the spawn by a noise-dependent
amount), so p(1 - p) separates levels within budgets a CPU can run, where ``collect_wood`` is
solved everywhere once learned and ``collect_iron`` / ``collect_diamond`` stay at p = 0 for a
long time (use them for long runs). The reward is Craftax's own (+1 per new achievement, 0.1
per health point gained or lost), so ``maxmc`` / PVL scores see every achievement.

**The env.** :class:`CraftaxEnv`: ``reset_to_level`` ignores its key (the same level always
starts the same way); ``step`` is Craftax's ``craftax_step`` with its ``done`` split into
``terminated`` (health at 0 or standing in lava: the package's ``is_game_over`` without the
time limit) and ``truncated`` (the time limit, ``params.max_timesteps``); it never resets
itself (``ued.wrappers`` do, like every env of the toolkit). Observation: Craftax's symbolic
one, float32[1345] in [0, 1] (a one-hot 7x9 local view of 17 blocks + 4 mob kinds, then
inventory, intrinsics, direction, light, sleeping), so the student is an MLP.

The ``craftax`` package is imported lazily, inside functions: this module (and so the space's
registration and ``openued train --help``) works without it; building the space without it is
a ``ued.options.ConfigError`` naming the extra, ``pip install 'openued[craftax]'``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import ued
from envs.maze.space import uniform_index
from ued.options import ConfigError, choice, int_, option
from ued.registry import LEVEL_SPACES, SpaceBuild, SpaceEntry

MAP_SIZE = 64  # Craftax-Classic's StaticEnvParams.map_size (square)
# Craftax-Classic's BlockType values (craftax_classic/constants.py), named here so the module
# imports without the package; tests/test_craftax.py checks them against the package's enum
BLOCK_NAMES = (
    "invalid", "out_of_bounds", "grass", "water", "stone", "tree", "wood", "path", "coal",
    "iron", "diamond", "crafting_table", "furnace", "sand", "lava", "plant", "ripe_plant",
)  # fmt: skip
B = {name: i for i, name in enumerate(BLOCK_NAMES)}
N_BLOCKS = len(BLOCK_NAMES)
FIRST_REAL_BLOCK = B["grass"]  # 0 invalid and 1 out-of-bounds never appear in a map
WALKABLE = (B["grass"], B["sand"], B["path"])  # where the agent may start (not solid, not lava)
# jaxued's swap mutator's block types (examples/craftax/mutators.py, make_mutator_craftax_swap)
SWAP_BLOCKS = tuple(
    B[n] for n in ("grass", "water", "stone", "tree", "coal", "iron", "diamond", "lava", "ripe_plant")
)
N_EDIT_KINDS = len(SWAP_BLOCKS) + 1  # the swaps, then "move the agent"
EDIT_WINDOW = 16  # jaxued's only_middle window side
# Craftax-Classic's Achievement enum, in value order (tests check it against the package)
ACHIEVEMENTS = (
    "collect_wood", "place_table", "eat_cow", "collect_sapling", "collect_drink",
    "make_wood_pickaxe", "make_wood_sword", "place_plant", "defeat_zombie", "collect_stone",
    "place_stone", "eat_plant", "defeat_skeleton", "make_stone_pickaxe", "make_stone_sword",
    "wake_up", "place_furnace", "collect_coal", "collect_iron", "collect_diamond",
    "make_iron_pickaxe", "make_iron_sword",
)  # fmt: skip
OBS_SIZE = 7 * 9 * (N_BLOCKS + 4) + 12 + 4 + 4 + 2  # 1345: view, inventory, intrinsics, dir, 2
N_ACTIONS = 17
DESCRIPTOR_NAMES = (
    "diamonds", "iron", "coal", "trees", "water", "lava", "stone", "diamond_distance",
)  # fmt: skip
NO_DIAMOND_DISTANCE = 2 * MAP_SIZE  # beyond any Manhattan distance in the map (at most 126)
_COUNTED = ("diamond", "iron", "coal", "tree", "water", "lava", "stone")
EXTRA = "craftax"
INSTALL_HINT = f"pip install 'openued[{EXTRA}]'"

# one colour per block type (render): roughly the textures' dominant colours
BLOCK_RGB = np.array(
    [
        (0, 0, 0), (0, 0, 0), (84, 160, 60), (50, 100, 220), (120, 120, 120), (20, 90, 30),
        (140, 100, 50), (170, 150, 120), (40, 40, 40), (200, 150, 110), (120, 230, 230),
        (160, 110, 60), (90, 60, 60), (230, 210, 140), (240, 90, 20), (110, 200, 80),
        (200, 60, 140),
    ],
    np.uint8,
)  # fmt: skip
AGENT_RGB = (255, 0, 255)


def require_craftax() -> None:
    """Raise ``ued.options.ConfigError`` (one line naming the extra) unless the ``craftax``
    package and what it imports (imageio) are importable. Host only."""
    try:
        import craftax.craftax_classic.constants  # noqa: F401 (reads textures with imageio)
    except ImportError as e:
        raise ConfigError(
            f"the craftax level space needs the Craftax package ({e.name or 'craftax'} is "
            f"missing): {INSTALL_HINT}"
        ) from None


# ----------------------------------------------------------------------------- the level


@struct.dataclass
class CraftaxLevel:
    """One Craftax-Classic world (module docstring).

    Attributes:
      map: uint8[64, 64], the block type of every cell (Craftax-Classic's ``BlockType`` values,
        2..16), indexed ``[row, col]`` like the package's ``EnvState.map``.
      agent_pos: int32[2], the agent's start cell ``(row, col)`` (the package's
        ``player_position``).
    """

    map: jax.Array
    agent_pos: jax.Array


@dataclasses.dataclass(frozen=True)
class CraftaxConfig:
    """Static settings of the Craftax space and env.

    Attributes:
      max_steps: the episode time limit (``truncated`` at this many steps; Craftax's
        ``EnvParams.max_timesteps``, 10000).
      solve_achievement: the achievement whose unlocking makes an episode *solved* (a name of
        :data:`ACHIEVEMENTS`).
    """

    max_steps: int = 10_000
    solve_achievement: str = "collect_stone"

    def __post_init__(self) -> None:
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int):
            raise TypeError(f"CraftaxConfig.max_steps must be an int, got {self.max_steps!r}")
        if not 1 <= self.max_steps <= 2**31 - 1:
            raise ValueError(
                f"CraftaxConfig.max_steps must be in [1, 2147483647], got {self.max_steps}"
            )
        if self.solve_achievement not in ACHIEVEMENTS:
            raise ValueError(
                f"CraftaxConfig.solve_achievement must be one of {ACHIEVEMENTS}, got "
                f"{self.solve_achievement!r}"
            )


def _generator_params(max_steps: int = 10_000):
    from craftax.craftax_classic.envs.craftax_state import EnvParams

    return EnvParams(max_timesteps=max_steps)


def _static_params():
    from craftax.craftax_classic.envs.craftax_state import StaticEnvParams

    return StaticEnvParams()


def sample_level(key: jax.Array) -> CraftaxLevel:
    """A world from Craftax-Classic's own generator (``generate_world``, default ``EnvParams``).
    Jittable (compiles slowly on CPU: ~10 s); needs the ``craftax`` package."""
    from craftax.craftax_classic.world_gen import generate_world

    state = generate_world(key, _generator_params(), _static_params())
    return CraftaxLevel(
        map=state.map.astype(jnp.uint8), agent_pos=state.player_position.astype(jnp.int32)
    )


def empty_level(key: jax.Array | None = None) -> CraftaxLevel:
    """An all-grass world with the agent at the centre (ACCEL's ``--accel-from-empty``).
    Ignores ``key``; jittable; no package needed."""
    return CraftaxLevel(
        map=jnp.full((MAP_SIZE, MAP_SIZE), B["grass"], jnp.uint8),
        agent_pos=jnp.full((2,), MAP_SIZE // 2, jnp.int32),
    )


def is_valid_level(level: CraftaxLevel) -> jax.Array:
    """bool[]: every tile a real block type (2..16), the agent inside the map on a walkable cell
    (grass, sand or path). Jittable."""
    m = level.map.astype(jnp.int32)
    r, c = level.agent_pos[0], level.agent_pos[1]
    inside = (r >= 0) & (r < MAP_SIZE) & (c >= 0) & (c < MAP_SIZE)
    tile = m[jnp.clip(r, 0, MAP_SIZE - 1), jnp.clip(c, 0, MAP_SIZE - 1)]
    walkable = functools.reduce(jnp.logical_or, [tile == b for b in WALKABLE])
    blocks_ok = jnp.all((m >= FIRST_REAL_BLOCK) & (m < N_BLOCKS))
    return blocks_ok & inside & walkable


def mutate_level(key: jax.Array, level: CraftaxLevel) -> CraftaxLevel:
    """ONE edit, uniform over ten kinds (module docstring): swap one of :data:`SWAP_BLOCKS`
    into a cell of the 16x16 window around the agent, or move the agent to a walkable cell of
    that window. Valid in, valid out; the agent's cell is never overwritten. Jittable."""
    k_op, k_cell, k_other = jax.random.split(key, 3)
    op = jax.random.randint(k_op, (), 0, N_EDIT_KINDS)
    flat = level.map.reshape(-1)
    n = jnp.arange(MAP_SIZE * MAP_SIZE)
    rows, cols = n // MAP_SIZE, n % MAP_SIZE
    r, c = level.agent_pos[0], level.agent_pos[1]
    half = EDIT_WINDOW // 2
    window = (rows >= r - half) & (rows < r + half) & (cols >= c - half) & (cols < c + half)
    agent_cell = n == r * MAP_SIZE + c
    cand = window & ~agent_cell

    # swap: block ``b`` into cell ``t``; a cell ``u`` of type ``b`` elsewhere takes t's block
    b = jnp.asarray(SWAP_BLOCKS, jnp.uint8)[jnp.minimum(op, len(SWAP_BLOCKS) - 1)]
    t, _ = uniform_index(k_cell, cand)  # the window always holds cells besides the agent's
    u, has_b = uniform_index(k_other, (flat == b) & (n != t) & ~agent_cell)
    swapped = jnp.where(has_b & (n == u), flat[t], flat)
    swapped = jnp.where(n == t, b, swapped)

    # move the agent to a walkable cell of the window (stays where none is)
    walk = functools.reduce(jnp.logical_or, [flat == w for w in WALKABLE])
    dest, ok = uniform_index(k_cell, cand & walk)
    dest_pos = jnp.stack([dest // MAP_SIZE, dest % MAP_SIZE]).astype(jnp.int32)

    is_move = op == len(SWAP_BLOCKS)
    new_map = jnp.where(is_move, flat, swapped).astype(jnp.uint8).reshape(MAP_SIZE, MAP_SIZE)
    new_pos = jnp.where(is_move & ok, dest_pos, level.agent_pos).astype(jnp.int32)
    return CraftaxLevel(map=new_map, agent_pos=new_pos)


def level_descriptor(level: CraftaxLevel) -> jax.Array:
    """float32[8], named by :data:`DESCRIPTOR_NAMES`: counts of diamond, iron, coal, tree,
    water, lava and stone cells, and the Manhattan distance from the agent to the nearest
    diamond (:data:`NO_DIAMOND_DISTANCE` when there is none). Jittable."""
    m = level.map
    counts = [jnp.sum(m == B[name]) for name in _COUNTED]
    rows = jnp.arange(MAP_SIZE)[:, None]
    cols = jnp.arange(MAP_SIZE)[None, :]
    dist = jnp.abs(rows - level.agent_pos[0]) + jnp.abs(cols - level.agent_pos[1])
    nearest = jnp.min(jnp.where(m == B["diamond"], dist, NO_DIAMOND_DISTANCE))
    return jnp.stack([*counts, nearest]).astype(jnp.float32)


def render_level(level: CraftaxLevel, tile: int = 2) -> jax.Array:
    """RGB picture, uint8[64 * tile, 64 * tile, 3]: one colour per block type
    (:data:`BLOCK_RGB`) and the agent's cell magenta. Jittable."""
    img = jnp.asarray(BLOCK_RGB)[level.map.astype(jnp.int32)]
    agent = (jnp.arange(MAP_SIZE)[:, None] == level.agent_pos[0]) & (
        jnp.arange(MAP_SIZE)[None, :] == level.agent_pos[1]
    )
    img = jnp.where(agent[..., None], jnp.asarray(AGENT_RGB, jnp.uint8), img)
    return jnp.repeat(jnp.repeat(img, tile, axis=0), tile, axis=1)


def make_craftax_space() -> ued.LevelSpace:
    """The level space ``craftax-classic``: Craftax's generator, one-edit mutator, validity,
    render and descriptor (module docstring). Every function is jittable and vmappable;
    ``sample`` needs the ``craftax`` package (the others do not). Not editable."""
    return ued.LevelSpace(
        name="craftax-classic",
        placeholder=empty_level(),
        # jitted so that an eager call (a host-side sample_batch) is one compiled program, not
        # the generator's hundreds of ops dispatched (and compiled) one by one; inlined in jit
        sample=jax.jit(sample_level),
        mutate=mutate_level,
        is_valid=is_valid_level,
        render=render_level,
        descriptor=level_descriptor,
        descriptor_names=DESCRIPTOR_NAMES,
    )


# ----------------------------------------------------------------------------- the env


def _like(x: jax.Array, ref: jax.Array) -> jax.Array:
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return jax.lax.convert_element_type(x, ref.dtype)


class CraftaxEnv(ued.Environment):
    """Craftax-Classic behind the toolkit's env contract (module docstring). The state is the
    package's ``EnvState``; ``params`` the package's ``EnvParams`` (``max_timesteps`` is the
    time limit, set from ``config.max_steps`` in :attr:`default_params`)."""

    def __init__(self, config: CraftaxConfig = CraftaxConfig()):
        if not isinstance(config, CraftaxConfig):
            raise TypeError(f"CraftaxEnv expects a CraftaxConfig, got {type(config).__name__}")
        require_craftax()
        self.config = config
        self._solve_index = ACHIEVEMENTS.index(config.solve_achievement)

    @property
    def name(self) -> str:
        return "CraftaxClassic"

    @property
    def default_params(self):
        return _generator_params(self.config.max_steps)

    def action_space(self, params=None) -> ued.Discrete:
        return ued.Discrete(N_ACTIONS)

    def observation_space(self, params=None) -> ued.Box:
        return ued.Box(0.0, 1.0, (OBS_SIZE,), jnp.float32)

    def initial_state(self, level: CraftaxLevel, params):
        """The package's ``EnvState`` at time 0 on ``level``: what ``generate_world`` returns
        for that map and position (no mobs, empty inventory, intrinsics 9, facing up), with
        ``state_rng`` a fixed raw key (only Craftax's pixel renderer reads it). Jittable."""
        from craftax.craftax_classic.envs.craftax_state import EnvState, Inventory, Mobs
        from craftax.craftax_classic.game_logic import calculate_light_level

        sp = _static_params()
        i32 = functools.partial(jnp.asarray, dtype=jnp.int32)

        def mobs(n, health):
            return Mobs(
                position=jnp.zeros((n, 2), jnp.int32),
                health=jnp.full((n,), health, jnp.int32),
                mask=jnp.zeros((n,), bool),
                attack_cooldown=jnp.zeros((n,), jnp.int32),
            )

        inv = Inventory(**{f.name: i32(0) for f in dataclasses.fields(Inventory)})
        return EnvState(
            map=level.map.astype(jnp.int32),
            mob_map=jnp.zeros((MAP_SIZE, MAP_SIZE), bool),
            player_position=level.agent_pos.astype(jnp.int32),
            player_direction=i32(3),  # Action.UP, as generate_world
            player_health=i32(9),
            player_food=i32(9),
            player_drink=i32(9),
            player_energy=i32(9),
            is_sleeping=jnp.zeros((), bool),
            player_recover=jnp.zeros((), jnp.float32),
            player_hunger=jnp.zeros((), jnp.float32),
            player_thirst=jnp.zeros((), jnp.float32),
            player_fatigue=jnp.zeros((), jnp.float32),
            inventory=inv,
            zombies=mobs(sp.max_zombies, 1),
            cows=mobs(sp.max_cows, params.cow_health),
            skeletons=mobs(sp.max_skeletons, 0),
            arrows=mobs(sp.max_arrows, 0),
            arrow_directions=jnp.ones((sp.max_arrows, 2), jnp.int32),
            growing_plants_positions=jnp.zeros((sp.max_growing_plants, 2), jnp.int32),
            growing_plants_age=jnp.zeros((sp.max_growing_plants,), jnp.int32),
            growing_plants_mask=jnp.zeros((sp.max_growing_plants,), bool),
            light_level=jnp.asarray(calculate_light_level(0, params), jnp.float32),
            achievements=jnp.zeros((len(ACHIEVEMENTS),), bool),
            state_rng=jax.random.key_data(jax.random.key(0)),
            timestep=i32(0),
        )

    def get_obs(self, state) -> jax.Array:
        """Craftax's symbolic observation, float32[1345]. Jittable."""
        from craftax.craftax_classic.renderer import render_craftax_symbolic

        return render_craftax_symbolic(state).astype(jnp.float32)

    def reset_to_level(self, key, level: CraftaxLevel, params):
        """``(obs float32[1345], EnvState)`` at the start of ``level``. Ignores ``key``: the
        same level always starts the same way. Jittable."""
        state = self.initial_state(level, params)
        return self.get_obs(state), state

    def step(self, key, state, action, params):
        """One Craftax step. Returns ``(obs float32[1345], state, reward float32[],
        terminated bool[] (death: health 0 or in lava), truncated bool[] (time limit, not
        dead), info)``; ``info["solved"]`` (bool[]): the episode has unlocked the solve
        achievement so far (read where the episode ends). Never resets. Jittable."""
        from craftax.craftax_classic.game_logic import craftax_step

        new, reward = craftax_step(key, state, jnp.asarray(action, jnp.int32), params,
                                   _static_params())  # fmt: skip
        # keep every leaf's dtype as at reset (craftax_step returns some weakly typed, and its
        # state_rng as a typed key, kept here as raw key data)
        new = jax.tree.map(_like, new, state)
        pos = new.player_position
        in_lava = new.map[pos[0], pos[1]] == B["lava"]
        terminated = (new.player_health <= 0) | in_lava
        truncated = (new.timestep >= params.max_timesteps) & ~terminated
        info = {"solved": new.achievements[self._solve_index]}
        return (
            self.get_obs(new),
            new,
            jnp.asarray(reward, jnp.float32),
            terminated,
            truncated,
            info,
        )


# ----------------------------------------------------------------------------- registration

# the validation worlds' key: a seed no training run derives its keys from
VALIDATION_SEED = 240_216_133


@dataclasses.dataclass(frozen=True)
class CraftaxOptions:
    """Craftax-Classic's own options of ``openued train craftax``."""

    craftax_max_steps: int = option(
        10_000, int_(1), "Craftax episode time limit (truncated after this many steps)"
    )
    craftax_solve_achievement: str = option(
        "collect_stone", choice(*ACHIEVEMENTS), "achievement that makes an episode solved"
    )
    craftax_validation_levels: int = option(
        64, int_(0), "held-out generated worlds (reserved key)"
    )


def craftax_config(options: Any) -> CraftaxConfig:
    """The :class:`CraftaxConfig` of a run's :class:`CraftaxOptions` values (attributes)."""
    return CraftaxConfig(
        max_steps=options.craftax_max_steps, solve_achievement=options.craftax_solve_achievement
    )


@functools.lru_cache(maxsize=4)
def validation_levels(n: int) -> CraftaxLevel:
    """``n`` worlds of Craftax's generator from the reserved key
    ``jax.random.key(VALIDATION_SEED)``, batched (leading axis ``n``). Host only; cached."""
    space = make_craftax_space()
    return jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(VALIDATION_SEED), n)


def build(options: Any, editor: dict | None = None) -> SpaceBuild:
    """Craftax-Classic of a run's options. ``editor`` is ignored: the space is not editable,
    which the trainer reports for curricula that need an editor. Raises ``ConfigError`` naming
    the extra when the ``craftax`` package is missing."""
    require_craftax()
    cfg = craftax_config(options)
    n = options.craftax_validation_levels
    eval_sets = {}
    if n > 0:
        eval_sets["validation"] = (
            tuple(f"validation-{i}" for i in range(n)),
            validation_levels(n),
        )
    cells = float(MAP_SIZE * MAP_SIZE)
    return SpaceBuild(
        space=make_craftax_space(),
        env=CraftaxEnv(cfg),
        eval_sets=eval_sets,
        episode_limit=cfg.max_steps,
        descriptor_bounds=((0.0,) * 8, (cells,) * 7 + (float(NO_DIAMOND_DISTANCE),)),
        empty_level=empty_level,
    )


# Run-option defaults from jaxued's Craftax PLR example (examples/craftax/craftax_plr.py
# argparse defaults): num_steps 64, lr 1e-4, gamma 0.995, GAE lambda 0.9, 5 epochs,
# 2 minibatches, clip 0.2, entropy 0.01, value coef 0.5, grad norm 1.0, and its network
# (actor and critic MLPs, 3 x 512 tanh: the "mlp-512" preset). Its levels are held for
# outer_rollout_steps 64 rollouts of 64 steps with episodes running on (episodes last up to
# 10,000 steps): hold_updates 64; its num_updates 256 counts level changes too, and its
# learning rate decays linearly over num_updates x outer_rollout_steps PPO updates
# (lr_anneal_updates counts student updates). Not followed: its 1024 envs (64 here, sized for
# a CPU; set --num-envs 1024 on an accelerator).
DEFAULTS: dict[str, Any] = dict(
    network="mlp-512",
    num_envs=64,
    num_steps=64,
    hold_updates=64,
    num_updates=256,
    lr_anneal_updates=256 * 64,
    lr=1e-4,
    gamma=0.995,
    gae_lambda=0.9,
    num_epochs=5,
    num_minibatches=2,
    clip_eps=0.2,
    ent_coef=0.01,
    vf_coef=0.5,
    max_grad_norm=1.0,
)

# jaxued's Craftax PLR example's level buffer: capacity 4000, replay probability 0.5,
# staleness 0.3, rank prioritisation at temperature 1.0, minimum fill 0.5 (robust PLR:
# exploratory gradient updates off, which the toolkit's robust-plr does); ACCEL: 30 edits
PRESETS: dict[str, dict[str, Any]] = {
    "craftax-dr": dict(curriculum="dr"),
    "craftax-robust-plr": dict(
        curriculum="robust-plr", buffer_capacity=4000, replay_prob=0.5, staleness_coef=0.3,
        temperature=1.0, min_fill=0.5,
    ),  # fmt: skip
    "craftax-accel": dict(
        curriculum="accel", num_edits=30, buffer_capacity=4000, replay_prob=0.5,
        staleness_coef=0.3, temperature=1.0, min_fill=0.5,
    ),  # fmt: skip
    "craftax-sfl": dict(curriculum="sfl", score="learnability"),
}

ENTRY = LEVEL_SPACES.register(
    SpaceEntry(
        name="craftax",
        description=f"Craftax-Classic worlds (64x64, symbolic obs; needs {INSTALL_HINT})",
        build=build,
        options=(CraftaxOptions,),
        defaults=DEFAULTS,
        curriculum="robust-plr",
        presets=PRESETS,
        order=120,  # after the built-in mazes and XLand, whichever module is imported first
    )
)

__all__ = [
    "ACHIEVEMENTS",
    "BLOCK_NAMES",
    "CraftaxConfig",
    "CraftaxEnv",
    "CraftaxLevel",
    "CraftaxOptions",
    "DEFAULTS",
    "DESCRIPTOR_NAMES",
    "ENTRY",
    "INSTALL_HINT",
    "PRESETS",
    "VALIDATION_SEED",
    "build",
    "craftax_config",
    "empty_level",
    "is_valid_level",
    "level_descriptor",
    "make_craftax_space",
    "mutate_level",
    "render_level",
    "require_craftax",
    "sample_level",
    "validation_levels",
]
