"""The student's side of a ``ued`` run: its options (PPO, network, sizes, how long a proposal is
held), the PPO settings and the ``ued.TrainConfig`` they make. Host only."""

from __future__ import annotations

import dataclasses
from typing import Any

from experiments import options as O


def _network_names() -> tuple[str, ...]:
    from ued.networks import NETWORK_PRESETS

    return tuple(NETWORK_PRESETS)


_f = O.option


@dataclasses.dataclass(frozen=True)
class LearnerOptions:
    """The student's PPO (defaults: the published maze settings), its network and the sizes."""

    num_envs: int = _f(32, O.int_(1), "parallel environments (levels per update)")
    num_steps: int = _f(256, O.int_(1), "rollout steps per update")
    num_updates: int = _f(
        30_000, O.int_(0), "total train updates of the run", aliases={"--updates": None}
    )
    hold_updates: int = _f(
        1, O.int_(1), "PPO updates per proposal, each on --num-steps more steps of the same "
        "levels with episodes running on (long episodes: Craftax); scores see all the steps",
    )  # fmt: skip
    lr: float = _f(1e-4, O.float_(0, None, True), "learning rate (start of the linear decay)")
    lr_anneal_updates: int = _f(
        30_000, O.int_(0), "student updates over which lr decays linearly to 0 (0: constant; "
        "--hold-updates K makes K student updates per train update)",
    )  # fmt: skip
    gamma: float = _f(0.995, O.float_(0.0, 1.0), "discount")
    gae_lambda: float = _f(0.98, O.float_(0.0, 1.0), "GAE lambda")
    num_epochs: int = _f(5, O.int_(1), "PPO epochs per batch")
    num_minibatches: int = _f(1, O.int_(1), "PPO minibatches per epoch (must divide num_envs)")
    clip_eps: float = _f(0.2, O.float_(0, None, True), "PPO clip range (policy and value)")
    ent_coef: float = _f(1e-3, O.float_(0.0), "entropy bonus coefficient")
    vf_coef: float = _f(0.5, O.float_(0.0), "value loss coefficient")
    max_grad_norm: float = _f(0.5, O.float_(0, None, True), "global gradient norm clip")
    optimizer: str = _f("adam", O.choice("adam", "adam-rel"), "optimiser (adam-rel: Adam-Rel)")
    network: str = _f(
        "maze", O.choice(_network_names), "student network (ued.networks.NETWORK_PRESETS)"
    )


def ppo_settings(cfg: Any) -> tuple[Any, Any]:
    """``(ued.ppo.PPOConfig, ued.ppo.PPOParams)`` of a run's config."""
    from ued.ppo import PPOConfig, PPOParams

    config = PPOConfig(
        num_epochs=cfg.num_epochs,
        num_minibatches=cfg.num_minibatches,
        max_grad_norm=cfg.max_grad_norm,
        optimizer=cfg.optimizer,
    )
    params = PPOParams(
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        clip_eps=cfg.clip_eps,
        vf_coef=cfg.vf_coef,
        ent_coef=cfg.ent_coef,
        lr=cfg.lr,
        lr_anneal_updates=cfg.lr_anneal_updates,
    )
    return config, params


def train_config(cfg: Any, ppo: Any, episode_limit: int) -> Any:
    """The run's ``ued.TrainConfig``."""
    from ued.train import TrainConfig

    return TrainConfig(
        num_envs=cfg.num_envs,
        num_steps=cfg.num_steps,
        num_updates=cfg.num_updates,
        hold_updates=cfg.hold_updates,
        ppo=ppo,
        # SFL's success-rate probe: one episode limit of steps per evaluation copy
        evaluate_steps=episode_limit,
    )


def short_rollout_warning(cfg: Any, limit: int) -> str | None:
    """The warning of a run whose proposals are played for fewer steps than the episode limit
    (``--num-steps`` x ``--hold-updates``), else None."""
    span = cfg.num_steps * cfg.hold_updates
    if span >= limit:
        return None
    what = f"--num-steps {cfg.num_steps}"
    if cfg.hold_updates > 1:
        what += f" x --hold-updates {cfg.hold_updates} = {span} steps per proposal"
    return (
        f"{what} is shorter than the episode limit {limit}: episodes longer than {span} steps "
        "never finish inside a rollout, so the training solve rate (rollout/solve_rate, of "
        "finished episodes) reads high; rollout/finished_share says how many finish, and the "
        "evaluation is unaffected"
    )


__all__ = ["LearnerOptions", "ppo_settings", "short_rollout_warning", "train_config"]
