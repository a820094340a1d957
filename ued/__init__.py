"""openued core: level spaces, the env contract and wrappers, curricula contract, student, train.

``ued`` imports none of its siblings (``envs``, ``curricula``, ``meta``, ``experiments``).
"""

from ued.curriculum import (
    BRANCH_MUTATE,
    BRANCH_NEW,
    BRANCH_REPLAY,
    DEFAULT_BRANCHES,
    Curriculum,
    CurriculumLevels,
    LevelExtras,
    LevelStats,
    Proposal,
    ScoreInputs,
    new_proposal,
)
from ued.editor import EditorEnv, make_editor_env
from ued.env import Box, Discrete, Environment, obs_spec, tree_select

# The student, trainer and host machinery (imported after the contract they build on).
from ued.evaluation import make_evaluator  # noqa: E402
from ued.host import load_run  # noqa: E402
from ued.level_space import LevelSpace
from ued.networks import NetworkConfig, make_actor_critic  # noqa: E402
from ued.ppo import PPOConfig, PPOParams  # noqa: E402
from ued.stats import iqm, iqm_ci  # noqa: E402
from ued.train import TrainConfig, TrainParams, TrainState, make_train  # noqa: E402
from ued.wrappers import AutoReplay, AutoResetFresh, AutoResetState, EpisodeStats, Wrapper

__all__ = [
    "AutoReplay",
    "AutoResetFresh",
    "AutoResetState",
    "BRANCH_MUTATE",
    "BRANCH_NEW",
    "BRANCH_REPLAY",
    "DEFAULT_BRANCHES",
    "Box",
    "Curriculum",
    "CurriculumLevels",
    "Discrete",
    "EditorEnv",
    "Environment",
    "EpisodeStats",
    "LevelExtras",
    "LevelSpace",
    "LevelStats",
    "Proposal",
    "ScoreInputs",
    "NetworkConfig",
    "PPOConfig",
    "PPOParams",
    "TrainConfig",
    "TrainParams",
    "TrainState",
    "iqm",
    "iqm_ci",
    "load_run",
    "make_actor_critic",
    "make_editor_env",
    "make_evaluator",
    "make_train",
    "new_proposal",
    "obs_spec",
    "tree_select",
    "Wrapper",
]
