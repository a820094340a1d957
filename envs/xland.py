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

Layout: :mod:`envs.xland_level` holds the level, the generator and the mutator,
:mod:`envs.xland_space` validity, descriptors, the solvability check, rendering, the space and
ruleset files; this module the env, the registration and the public names.

Registration: the level space ``xland`` of ``openued train`` with options ``--xland-*`` and the
presets ``xland-dr``, ``xland-robust-plr``, ``xland-sfl`` (end of this module).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

import ued
from envs.xland_level import (
    ACTION_FORWARD,
    ACTION_LEFT,
    ACTION_PICK_UP,
    ACTION_PUT_DOWN,
    ACTION_RIGHT,
    ACTION_TOGGLE,
    BALL,
    BLACK,
    DEFAULT_CONFIG,
    DESCRIPTOR_NAMES,
    EMPTY,
    FLOOR,
    GOAL_OBS_ARG,
    GOAL_OBS_SIZE,
    GREY,
    HEX,
    KEY,
    MAX_SIZE,
    MIN_SIZE,
    NUM_ACTIONS,
    NUM_COLORS,
    NUM_GOAL_IDS,
    NUM_TILES,
    POCKET_OBS_SIZE,
    PYRAMID,
    SQUARE,
    STAR,
    VALIDATION_SEED,
    WALL,
    XLandConfig,
    XLandLevel,
    chain_tiles,
    make_mutate,
    make_sampler,
    room_walls,
)
from envs.xland_space import (
    check_solvable,
    is_valid_level,
    level_descriptor,
    load_rulesets,
    make_xland_space,
    placeholder_level,
    render_level,
    save_rulesets,
)
from ued.options import ConfigError, int_, option
from ued.registry import LEVEL_SPACES, SpaceBuild, SpaceEntry

INSTALL_HINT = "XLand needs the xminigrid package: pip install 'openued[xland]'"


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
    """XLand-MiniGrid on the toolkit's env contract (see the module docstring). ``self`` holds only
    the static :class:`XLandConfig`; the env state is the package's ``xminigrid.types.State``.
    Building it without ``xminigrid`` raises ``ued.options.ConfigError``."""

    def __init__(self, config: XLandConfig = DEFAULT_CONFIG):
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
# No held proposals (hold_updates 1): an episode (243 steps) fits in one 256-step rollout. SFL's
# code keeps a ruleset for 4096 steps of 32-step updates because it trains meta-RL (the
# recurrent state runs on across a trial's episodes), which this env's student does not.
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
        description="XLand-MiniGrid rulesets (9x9 room, chain depth 1; extra: openued[xland])",
        build=build,
        options=(XLandOptions,),
        defaults=DEFAULTS,
        curriculum="robust-plr",
        presets=PRESETS,
        validate=_validate,
        order=110,  # after the built-in mazes, whichever module is imported first
    )
)

__all__ = [
    "DEFAULT_CONFIG",
    "ACTION_FORWARD",
    "ACTION_LEFT",
    "ACTION_PICK_UP",
    "ACTION_PUT_DOWN",
    "ACTION_RIGHT",
    "ACTION_TOGGLE",
    "BALL",
    "DESCRIPTOR_NAMES",
    "HEX",
    "KEY",
    "PYRAMID",
    "SQUARE",
    "STAR",
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
