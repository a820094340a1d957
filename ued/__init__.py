"""openued core: level spaces, the env contract and wrappers, curricula contract, student, train.

``ued`` imports none of its siblings (``envs``, ``curricula``, ``meta``, ``experiments``).
"""

from ued.curriculum import (
    BRANCH_ARCHIVE,
    BRANCH_MUTATE,
    BRANCH_NAMES,
    BRANCH_NEW,
    BRANCH_REPLAY,
    BRANCH_SFL,
    Curriculum,
    LevelExtras,
    LevelStats,
    Proposal,
    ScoreInputs,
    new_proposal,
)
from ued.env import Box, Discrete, Environment, obs_spec, tree_select
from ued.level_space import LevelSpace
from ued.wrappers import AutoReplay, AutoResetFresh, AutoResetState, EpisodeStats

__all__ = [
    "AutoReplay",
    "AutoResetFresh",
    "AutoResetState",
    "BRANCH_ARCHIVE",
    "BRANCH_MUTATE",
    "BRANCH_NAMES",
    "BRANCH_NEW",
    "BRANCH_REPLAY",
    "BRANCH_SFL",
    "Box",
    "Curriculum",
    "Discrete",
    "Environment",
    "EpisodeStats",
    "LevelExtras",
    "LevelSpace",
    "LevelStats",
    "Proposal",
    "ScoreInputs",
    "new_proposal",
    "obs_spec",
    "tree_select",
]
