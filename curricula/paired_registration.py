"""PAIRED, the minimax adversary and population PAIRED as ``openued train`` knows them: their
options (the published maze settings of jaxued ``maze_paired.py`` / minimax ``maze/paired`` by
default), their metric names and their registrations in ``ued.registry.CURRICULA``
(``--curriculum paired``, ``minimax``, ``population-paired``). Host only."""

from __future__ import annotations

import dataclasses
from typing import Any

from curricula.paired import TEACHER_NETWORK, PAIREDConfig, PAIREDParams, make_paired
from ued.curriculum import Curriculum
from ued.options import BOOL, ConfigError, choice, float_, int_, option, optional
from ued.ppo import PPOConfig
from ued.registry import CURRICULA, CurriculumContext, CurriculumEntry

# PAIRED's own diagnostics (``PAIREDMetrics`` and the level descriptors of ``diagnostics``),
# logged by ``openued train`` under their plain names instead of ``cur/<name>``
PAIRED_METRICS = (
    "regret",
    "teacher_reward",
    "protagonist_return",
    "antagonist_return",
    "teacher_entropy",
    "teacher_loss",
    "antagonist_loss",
    "level_path_length",
    "level_solvable",
    "level_walls",
)


def _teacher_networks() -> tuple[str, ...]:
    from ued.networks import NETWORK_PRESETS

    return ("paired", *(n for n in NETWORK_PRESETS if n not in ("maze", "maze-gru")))


@dataclasses.dataclass(frozen=True)
class PAIREDOptions:
    """Options of PAIRED, the minimax adversary and population PAIRED (the published maze
    settings of jaxued ``maze_paired.py`` / minimax ``maze/paired`` by default)."""

    num_students: int | None = option(
        None, optional(int_(1, 64)),
        "students including the protagonist (paired: 2; population-paired: >= 2; minimax: "
        "extra students only report the estimated regret)",
        default_text="2 for paired, 1 for minimax and --true-regret, 3 for population",
    )  # fmt: skip
    clip_regret: bool = option(False, BOOL, "clip the estimated regret at 0 (minimax)")
    teacher_lr: float = option(
        1e-4, float_(0, None, True), "the teacher's learning rate (decays like --lr)"
    )
    noise_dim: int = option(50, int_(0, 4096), "dimension of the teacher's noise input")
    teacher_steps: int = option(
        50, int_(3, 10_000), "teacher steps per level (goal, direction, agent, walls)"
    )
    teacher_max_walls: int | None = option(
        None, optional(int_(0)),
        "the teacher's wall budget (a toggle adding a wall beyond it does nothing)",
    )  # fmt: skip
    teacher_network: str = option(
        "paired", choice(_teacher_networks),
        "the teacher's network (paired: curricula.paired.TEACHER_NETWORK)",
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TrueRegretOptions:
    """PAIRED with the true regret (levels whose space knows their optimal return)."""

    true_regret: bool = option(
        False, BOOL,
        "reward the teacher with the true regret (optimal return - the protagonist's mean "
        "return) instead of the antagonist's estimate",
    )  # fmt: skip


def _paired_config(variant: str, o: Any, ppo: PPOConfig) -> PAIREDConfig:
    from ued.networks import NETWORK_PRESETS

    tnet = TEACHER_NETWORK if o.teacher_network == "paired" else NETWORK_PRESETS[o.teacher_network]()
    try:
        return PAIREDConfig(
            variant=variant,
            num_students=o.num_students,
            true_regret=bool(getattr(o, "true_regret", False)),
            clip_regret=o.clip_regret,
            noise_dim=o.noise_dim,
            num_steps=o.num_steps,
            student_ppo=ppo,
            teacher_ppo=ppo,
            teacher_network=tnet,
        )
    except ValueError as e:
        raise ConfigError(f"--num-students: {e}") from None


def _paired_entry(name: str, variant: str, description: str, order: int) -> CurriculumEntry:
    def make(ctx: CurriculumContext) -> Curriculum:
        o = ctx.options
        params = PAIREDParams(
            student=ctx.ppo_params,
            teacher=ctx.ppo_params.replace(lr=o.teacher_lr),
            env=ctx.env.default_params,
        )
        cfg = _paired_config(variant, o, ctx.ppo)
        return make_paired(ctx.env, ctx.space, ctx.num_envs, ctx.student, cfg, params=params)

    def validate(o: Any) -> None:
        if getattr(o, "hold_updates", 1) != 1:
            raise ConfigError(
                f"--hold-updates: --curriculum {name} plays each level for one rollout of "
                f"--num-steps (its antagonists too) and takes only 1, got {o.hold_updates}"
            )
        n = o.num_students
        if variant == "paired" and not o.true_regret and n not in (None, 2):
            raise ConfigError(
                f"--num-students: --curriculum paired (estimated regret) needs 2 (the "
                f"protagonist and one antagonist), got {n}; use --curriculum population-paired "
                "for more"
            )
        if variant == "population" and n is not None and n < 2:
            raise ConfigError(f"--num-students: --curriculum {name} needs >= 2, got {n}")
        _paired_config(variant, o, PPOConfig())

    return CurriculumEntry(
        name,
        description,
        make,
        options=(PAIREDOptions,) + ((TrueRegretOptions,) if variant == "paired" else ()),
        branches=("new",),
        scores=(),  # its levels' value to the teacher is its own reward, not a level score
        requires=("editable",),
        editor=lambda o: {"num_edits": o.teacher_steps, "max_walls": o.teacher_max_walls},
        plain_metrics=PAIRED_METRICS,
        validate=validate,
        student_name="protagonist",
        order=order,
    )


CURRICULA.register(_paired_entry(
    "paired", "paired", "PAIRED (teacher, protagonist and antagonist; estimated regret)", 6
))  # fmt: skip
CURRICULA.register(_paired_entry(
    "minimax", "minimax", "minimax adversary (teacher rewarded by the protagonist's -return)", 7
))  # fmt: skip
CURRICULA.register(_paired_entry(
    "population-paired", "population", "population PAIRED (3 students by default)", 8
))  # fmt: skip


__all__ = ["PAIRED_METRICS", "PAIREDOptions", "TrueRegretOptions"]
