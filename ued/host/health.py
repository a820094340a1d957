"""What the host loop watches in a run's metrics, and what it says when a run stops. Host only.

:class:`HealthChecks` names the metrics to watch; :func:`check_health` reads one chunk's
metrics (the first unit that stops the run, and the warnings), :func:`warning_text` and
:func:`diverged_message` say it in words. Every host loop and every kind of run uses these.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from ued.host.checkpoints import CKPT_DIR, list_checkpoints


@dataclasses.dataclass(frozen=True)
class HealthChecks:
    """What the host loop watches in each chunk's metrics (a name set to ``None``: not checked).

    Attributes:
      nonfinite: metric that is nonzero on a unit whose loss was NaN/inf: the run stops.
      loss: the loss metric; NaN/inf on an active unit stops the run, a value above
        ``loss_limit`` is a warning (a silent blow-up).
      loss_limit: see ``loss``.
      entropy: the policy entropy metric; below ``entropy_floor`` on an active unit is a
        warning (the policy has collapsed to near-determinism).
      entropy_floor: see ``entropy``.
      active: metric that is nonzero on units that trained; the loss and entropy of other units
        are placeholders and are not checked (``None``: every unit is active).
      replay_starved: metric that is nonzero (the number of units without a replayed level) once
        a buffer curriculum cannot fill to ``min_fill`` (``curricula.make_plr``'s guard): a
        warning, checked on every unit (robust PLR never trains then). The warning quotes
        ``cur/buffer/size`` and ``cur/buffer/min_size`` where the metrics hold them.
      embed_clipped: metric holding the share of integer observations outside the student's
        embedding (``ued.make_train``'s ``obs/embed_clipped``); nonzero is a warning.
      diverged: what a stop reports (e.g. ``"non-finite loss"``).
      advice: what a stopped run should try instead.
    """

    nonfinite: str | None = "nonfinite_loss"
    loss: str | None = "ppo/loss"
    loss_limit: float = 1e6
    entropy: str | None = "ppo/entropy"
    entropy_floor: float = 1e-3
    active: str | None = "trained"
    replay_starved: str | None = "cur/replay_starved"
    embed_clipped: str | None = "obs/embed_clipped"
    diverged: str = "non-finite loss"
    advice: str = "a lower learning rate or another seed"



def _num(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _row_value(v: np.ndarray, i: int, batched: bool):
    if batched:
        return [_num(e) for e in np.asarray(v[:, i]).tolist()]
    return _num(np.asarray(v[i]).item())


def _column(m: dict, key: str | None, n: int, batched: bool) -> np.ndarray | None:
    if key is None or key not in m:
        return None
    return np.asarray(m[key], np.float64).reshape((-1, n) if batched else (1, n))


def check_health(m: dict, n: int, batched: bool, hc: HealthChecks):
    """``(first bad index or None, seed, [(index, name, seed, value, extra)])`` for ``n`` units
    of metric columns ``m`` (leaves ``(n,)``, or ``(K, n)`` when ``batched``); ``extra``: further
    numbers of that unit the warning's text quotes. Every host loop (training, ES) checks its
    metrics with this one function."""
    act = _column(m, hc.active, n, batched)
    bad = np.zeros((1, n), bool)
    nf = _column(m, hc.nonfinite, n, batched)
    if nf is not None:
        bad = bad | (nf != 0)
    loss = _column(m, hc.loss, n, batched)
    active = np.ones((1, n), bool) if act is None else act != 0
    if loss is not None:
        bad = bad | (active & ~np.isfinite(loss))
    bad_any = bad.any(0)
    first_bad = int(np.argmax(bad_any)) if bad_any.any() else None
    bad_seed = int(np.argmax(bad[:, first_bad])) if first_bad is not None else 0
    limit = n if first_bad is None else first_bad
    found = []
    ent = _column(m, hc.entropy, n, batched)
    every = np.ones((1, n), bool)
    nonzero = lambda x: np.isfinite(x) & (x != 0)
    checks = (
        (loss, "loss_blowup", lambda x: np.isfinite(x) & (x > hc.loss_limit), active),
        (ent, "entropy_collapse", lambda x: np.isfinite(x) & (x < hc.entropy_floor), active),
        # not gated by `active`: a starved robust PLR never trains
        (_column(m, hc.replay_starved, n, batched), "replay_starved", nonzero, every),
        (_column(m, hc.embed_clipped, n, batched), "embed_clipped", nonzero, every),
    )
    for col, name, test, gate in checks:
        if col is None:
            continue
        hit = (test(col) & gate)[:, :limit]
        if hit.any():
            idx = int(np.argmax(hit.any(0)))
            seed = int(np.argmax(hit[:, idx]))
            extra = {}
            if name == "replay_starved":
                for k in ("cur/buffer/size", "cur/buffer/min_size"):
                    c = _column(m, k, n, batched)
                    if c is not None:
                        extra[k] = float(c[min(seed, c.shape[0] - 1), idx])
            found.append((idx, name, seed, float(col[seed, idx]), extra))
    return first_bad, bad_seed, found


def warning_text(
    name: str, unit: str, u: int, seed: str, value: float, hc: HealthChecks, extra: dict
) -> str:
    if name == "replay_starved":
        size, need = extra.get("cur/buffer/size"), extra.get("cur/buffer/min_size")
        held = (
            f"its level buffer holds only {size:.0f} distinct levels and replay starts at "
            f"{need:.0f} (min_fill x capacity), so "
            if size is not None and need is not None
            else "its level buffer stays below min_fill, so "
        )
        return (
            f"{unit} {u}{seed}: the curriculum has not replayed a level in {value:.0f} "
            f"{unit}s: {held}the level space seems to have fewer distinct levels than "
            "min_fill x capacity. PLR never replays (it is domain randomisation) and robust "
            "PLR / ACCEL never train (ppo/loss stays 0): lower min_fill or the buffer capacity, "
            "or use a level space with more distinct levels"
        )
    if name == "embed_clipped":
        return (
            f"{unit} {u}{seed}: {value:.1%} of the integer scalar observations lie outside the "
            "student's embedding (NetworkConfig.num_embeddings) and are clipped to its ends, so "
            "distinct values look the same to the agent: declare the env's "
            "observation_space and build the student with make_actor_critic(..., "
            "observation_space=env.observation_space()), or raise num_embeddings"
        )
    if name == "loss_blowup":
        return (
            f"{unit} {u}{seed}: {hc.loss} {value:.3g} exceeds {hc.loss_limit:g}; the run may be "
            "blowing up (watch the metrics, or stop and start over with a smaller learning rate "
            "or step size)"
        )
    return (
        f"{unit} {u}{seed}: policy entropy {value:.2g} is below {hc.entropy_floor:g}; the "
        "policy has collapsed to (almost) deterministic actions and has stopped exploring"
    )


def diverged_message(
    run_dir: Path | None,
    unit: str,
    u_bad: int,
    seed: str = "",
    *,
    what: str = "non-finite loss",
    advice: str = "a lower learning rate or another seed",
) -> tuple[str, Path | None, int]:
    """``(message, newest checkpoint or None, its unit or -1)`` for a run that stopped at unit
    ``u_bad`` because of ``what``; the message names a checkpoint that exists (or says none
    does) and advises what a resume allows. Shared by every host loop."""
    ckpts = list_checkpoints(run_dir) if run_dir is not None else []
    head = f"training diverged: {what} at {unit} {u_bad}{seed}; the run stopped there"
    if ckpts:
        cu, cp = ckpts[-1]
        return (
            f"{head}. Newest checkpoint: {cp} ({unit} {cu}). Resuming repeats the same "
            f"computation, so it would diverge again at {unit} {u_bad}: resume with a run "
            f"length of at most {u_bad - 1} {unit}s to finish the run before that point, or "
            f"start a new run with {advice}",
            cp,
            cu,
        )
    where = f" in {Path(run_dir) / CKPT_DIR}" if run_dir is not None else ""
    return (
        f"{head}. No checkpoint exists{where}, so there is nothing to resume: start a new "
        f"run with {advice}",
        None,
        -1,
    )


__all__ = ["HealthChecks", "check_health", "diverged_message", "warning_text"]
