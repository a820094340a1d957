"""openued curricula: the level buffer and curricula as values (DR, PLR, robust PLR, ACCEL,
their parallel modes, SFL, NCC's learned replay distribution, a MAP-Elites level archive,
SAMPLR, PAIRED and its minimax / population variants).

Every factory returns a ``ued.Curriculum`` (``init / propose / observe / diagnostics``)::

    cur = curricula.make_plr(space, num_envs=32, robust=True)
    cstate = cur.init(key)
    cstate, proposal = cur.propose(key, cstate, cur.default_params, evaluate)

and every one goes to ``ued.make_train`` the same way; SAMPLR's fictitious transitions travel
inside its curriculum (``Curriculum.make_step_hook``), so ``make_samplr(space, B)`` needs no
companion object.

Pictures of what a curriculum stores (its top levels, buffer scores, MAP-Elites archive) are
figures of ``experiments.figures`` (``plot_top_levels``, ``plot_score_histogram``,
``plot_archive``).
"""

from curricula.archive import (
    ArchiveConfig,
    ArchiveParams,
    ArchiveState,
    cell_index,
    make_archive,
    maze_archive_config,
)
from curricula.buffer import (
    LevelBufferState,
    LevelSampler,
    LevelSamplerConfig,
    LevelSamplerParams,
    buffer_summary,
    make_level_sampler,
)
from curricula.ncc import (
    NCCConfig,
    NCCParams,
    NCCState,
    make_ncc,
    project_truncated_simplex,
)
from curricula.paired import (
    PAIREDConfig,
    PAIREDMetrics,
    PAIREDParams,
    PAIREDState,
    estimated_regret,
    make_paired,
    population_regret,
)
from curricula.paired_registration import PAIRED_METRICS
from curricula.plr import (
    ACCELConfig,
    DRParams,
    DRState,
    PLRConfig,
    PLRState,
    make_accel,
    make_dr,
    make_plr,
)
from curricula.samplr import SAMPLRConfig, make_samplr, make_samplr_step_hook
from curricula.sfl import SFLConfig, SFLParams, SFLState, make_sfl

__all__ = [
    "NCCConfig",
    "NCCParams",
    "NCCState",
    "project_truncated_simplex",
    "PAIRED_METRICS",
    "PAIREDConfig",
    "PAIREDMetrics",
    "PAIREDParams",
    "PAIREDState",
    "estimated_regret",
    "make_paired",
    "population_regret",
    "SAMPLRConfig",
    "make_samplr",
    "make_samplr_step_hook",
    "ACCELConfig",
    "ArchiveConfig",
    "ArchiveParams",
    "ArchiveState",
    "DRParams",
    "DRState",
    "LevelBufferState",
    "LevelSampler",
    "LevelSamplerConfig",
    "LevelSamplerParams",
    "PLRConfig",
    "PLRState",
    "SFLConfig",
    "SFLParams",
    "SFLState",
    "buffer_summary",
    "cell_index",
    "make_accel",
    "make_archive",
    "make_dr",
    "make_level_sampler",
    "make_ncc",
    "make_plr",
    "make_sfl",
    "maze_archive_config",
]

