"""Names a reader understands for metric keys, level descriptors, and the state dimensions and
actions of the ES targets: panel titles, legends, axis labels and tables of every figure use
them. Host only; plain data and string functions."""

from __future__ import annotations

# metric key -> name a reader understands (panel titles, legends, tables)
METRIC_NAMES: dict[str, str] = {
    "env_steps": "env steps",
    "update": "update",
    "generation": "generation",
    "rollout/return": "training episodes: return",
    "rollout/solve_rate": "training episodes: solve rate",
    "rollout/episode_length": "training episodes: length",
    "rollout/num_episodes": "training episodes: count per update",
    "eval/prefab_solve_rate": "evaluation: prefab mazes",
    "eval/validation_solve_rate": "evaluation: validation levels",
    "eval/prefab_return": "evaluation: prefab return",
    "eval/validation_return": "evaluation: validation return",
    "eval/prefab_length": "evaluation: prefab episode length",
    "eval/validation_length": "evaluation: validation episode length",
    "ppo/loss": "PPO: total loss",
    "ppo/pg_loss": "PPO: policy-gradient loss",
    "ppo/value_loss": "PPO: value loss",
    "ppo/entropy": "policy entropy",
    "ppo/approx_kl": "PPO: approximate KL",
    "ppo/clip_frac": "PPO: clipped fraction",
    "ppo/grad_norm": "PPO: gradient norm",
    "ppo/lr": "learning rate",
    "score/mean": "proposed levels: mean score",
    "score/max": "proposed levels: max score",
    "score/replay": "level score (replayed levels)",
    "regret/true_all": "true regret (all levels)",
    "rollout/finished_share": "share of training episodes finished inside a rollout",
    "regret/true_replay": "true regret (replayed levels)",
    "train_fraction": "share of levels trained on",
    "replay_fraction": "share of levels replayed",
    "cur/buffer/fill": "buffer: share of slots filled",
    "cur/buffer/mean_score": "buffer: mean score",
    "cur/buffer/max_score": "buffer: max score",
    "cur/buffer/min_score": "buffer: min score",
    "cur/buffer/size": "buffer: stored levels",
    "cur/buffer/min_size": "buffer: levels needed to replay",
    "cur/level/solve_rate": "proposed levels: solve rate",
    "level/walls": "levels trained on: wall count",
    "level/shortest_path": "levels trained on: shortest path",
    "cur/level/walls": "proposed levels: wall count",
    "cur/level/shortest_path": "proposed levels: shortest path",
}

# descriptor name -> (human name, unit) for level descriptors
DESCRIPTOR_NAMES: dict[str, tuple[str, str]] = {
    "walls": ("wall count", "walls"),
    "shortest_path": ("shortest path to the goal", "steps"),
    "d0": ("descriptor 0", ""),
    "d1": ("descriptor 1", ""),
}

BRANCHES = ("new", "replay", "mutate", "sfl", "archive")
BRANCH_NAMES = {
    "new": "new (generated)",
    "replay": "replay (from buffer)",
    "mutate": "mutate (edited)",
    "sfl": "SFL (learnable)",
    "archive": "archive (elites)",
}

def _target(target: str | None):
    """The registered ES target ``target`` (``meta.targets.TargetSpec``), or ``None``."""
    import meta.targets  # noqa: F401 (registers the built-in targets)
    from ued.registry import TARGETS

    return TARGETS.get(target) if target and target in TARGETS else None


def clean_name(key: str) -> str:
    """A metric key made readable: ``cur/aleatoric/trained`` -> ``aleatoric: trained``."""
    k = key[4:] if key.startswith("cur/") else key
    parts = [p.replace("_", " ") for p in k.split("/") if p]
    return ": ".join(parts) if parts else key


def metric_label(key: str) -> str:
    """The human name of a metric key (:data:`METRIC_NAMES`, else :func:`clean_name`)."""
    if key in METRIC_NAMES:
        return METRIC_NAMES[key]
    if key.startswith("eval/prefab/"):
        return f"prefab maze {key[len('eval/prefab/') :]}"
    return clean_name(key)


def descriptor_label(name: str) -> tuple[str, str]:
    """``(human name, unit)`` of a level descriptor name."""
    return DESCRIPTOR_NAMES.get(name, (name.replace("_", " "), ""))


def state_names(target: str | None, dim: int) -> list[str]:
    """Names of ``dim`` observation dimensions of ``target`` (its registered
    ``TargetSpec.state_names``), else ``state[i]``."""
    spec = _target(target)
    names = spec.state_names if spec is not None else ()
    if len(names) == dim:
        return list(names)
    return [f"state[{i}]" for i in range(dim)]


def action_names(target: str | None, n: int) -> list[str]:
    """Names of ``n`` discrete actions of ``target`` (its registered
    ``TargetSpec.action_names``), else ``action i``."""
    spec = _target(target)
    names = spec.action_names if spec is not None else ()
    if len(names) >= n:
        return [f"{i}: {names[i]}" for i in range(n)]
    return [f"action {i}" for i in range(n)]


__all__ = [
    "BRANCHES",
    "BRANCH_NAMES",
    "DESCRIPTOR_NAMES",
    "METRIC_NAMES",
    "action_names",
    "clean_name",
    "descriptor_label",
    "metric_label",
    "state_names",
]
