"""Loading a run directory for analysis (notebooks, ``openued plot``). Host only.

:func:`load_run` reads the config, provenance, metrics (as column arrays), the newest good
checkpoint and the curriculum's levels: from the checkpoint through ``curriculum.levels`` when
a curriculum is given, from the newest level snapshot otherwise. Nothing is guessed from the
names inside a state.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from ued.curriculum import Curriculum
from ued.host.checkpoints import _unkey, load_latest_checkpoint, restore_state
from ued.host.config import read_config
from ued.host.errors import CheckpointError
from ued.host.loggers import WarningChannel
from ued.host.metrics import metrics_to_arrays, read_metrics, row_warnings
from ued.host.snapshots import list_level_snapshots, read_level_snapshot


@dataclasses.dataclass
class Run:
    """A run directory loaded for analysis (see :func:`load_run`).

    With K seeds every array below has a leading seed axis.
    """

    run_dir: Path
    config: dict
    provenance: dict
    metrics: dict[str, np.ndarray]  # key -> (num_rows,) or (num_rows, K); NaN where missing
    update: int  # unit of the loaded checkpoint (-1: none)
    checkpoint: Path | None
    state: Any  # raw nested dict of the checkpoint (or the restored state with a template)
    params: Any  # the student's network parameters (nested dict of arrays) or None
    buffer_levels: Any  # the curriculum's levels (N, ...): a level pytree with a curriculum,
    #                     the snapshot's nested dict otherwise; None when there are none
    buffer_scores: np.ndarray | None  # float32[N] their scores (nan where none)
    buffer_valid: np.ndarray | None  # bool[N] slots that hold a level
    levels_source: str  # "curriculum", "snapshot <unit>" or "" (no levels)
    warnings: list[tuple[int, str, str]]  # (unit, name, message) recorded in the metrics
    snapshots: list[tuple[int, Path]]  # level snapshots (unit, path), oldest first

    def level_snapshot(self, unit: int) -> dict:
        """The level snapshot taken at ``unit`` (see ``ued.host.snapshots``)."""
        for u, p in self.snapshots:
            if u == unit:
                return read_level_snapshot(p)
        raise KeyError(f"{self.run_dir}: no level snapshot at unit {unit}")

    def level_history(self) -> list[tuple[int, dict]]:
        """Every readable level snapshot, ``(unit, snapshot)`` oldest first (for figures of
        how the levels evolve); unreadable ones are skipped with a warning."""
        out, warn = [], WarningChannel()
        for u, p in self.snapshots:
            try:
                out.append((u, read_level_snapshot(p)))
            except CheckpointError as e:
                warn(f"skipping level snapshot {e}")
        return out


def _curriculum_levels(curriculum: Curriculum, cstate: Any) -> tuple[Any, Any, Any]:
    """``curriculum.levels`` on a (possibly seed-batched) curriculum state, as NumPy."""
    ref = jax.tree.leaves(_unkey(jax.eval_shape(curriculum.init, jax.random.key(0))))
    got = jax.tree.leaves(_unkey(cstate))
    batched = bool(ref) and np.ndim(got[0]) == len(ref[0].shape) + 1
    fn = jax.vmap(curriculum.levels) if batched else curriculum.levels
    lv = jax.device_get(fn(cstate))
    return lv.levels, np.asarray(lv.scores), np.asarray(lv.valid, bool)


def _restore_cstate(curriculum: Curriculum, raw: Any, path: Any) -> Any:
    """The curriculum's state from its raw checkpoint dict, templated by ``curriculum.init``
    (vmapped when the stored arrays carry a seed axis)."""
    key = jax.random.key(0)
    try:
        return restore_state(jax.eval_shape(curriculum.init, key), raw, path)
    except CheckpointError:
        leaves = jax.tree.leaves(raw)
        if not leaves or np.ndim(leaves[0]) == 0:
            raise
        k = int(np.shape(leaves[0])[0])
        abstract = jax.eval_shape(jax.vmap(curriculum.init), jax.random.split(key, k))
        return restore_state(abstract, raw, path)


def load_run(
    run_dir: str | os.PathLike,
    template: Any = None,
    curriculum: Curriculum | None = None,
    *,
    warn: Callable[[str], None] | None = None,
    unit: str = "update",
) -> Run:
    """Load a run directory: config, metrics as arrays, newest parameters, the levels.

    Without ``template`` the checkpoint comes back as nested dicts of NumPy arrays (no code
    runs and nothing needs rebuilding); with a state template (arrays or
    ``jax.ShapeDtypeStruct``\\ s) it is restored into it. The levels come from
    ``curriculum.levels`` applied to the checkpoint's ``curriculum`` entry when ``curriculum``
    is given (and has ``levels``), else from the newest level snapshot. Unreadable metrics
    lines, checkpoints and provenance are skipped with a warning through ``warn`` (default:
    printed once on stderr). Host only.
    """
    warn = warn or WarningChannel()
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    prov: dict = {}
    prov_p = run_dir / "provenance.json"
    if prov_p.exists():
        try:
            prov = json.loads(prov_p.read_text())
        except (OSError, ValueError):
            warn(f"{prov_p}: unreadable, ignored")
    rows = read_metrics(run_dir, warn=warn)
    try:
        update, sd, path = load_latest_checkpoint(run_dir, None, warn=warn)
    except CheckpointError:
        update, sd, path = -1, None, None
    state, params = sd, None
    if isinstance(sd, dict):
        student = sd.get("student")
        params = student.get("params") if isinstance(student, dict) else None
        if template is not None:
            state = restore_state(template, sd, path)
    levels = scores = valid = None
    source = ""
    snaps = list_level_snapshots(run_dir)
    if curriculum is not None and curriculum.levels is not None and isinstance(sd, dict):
        if "curriculum" not in sd:
            raise CheckpointError(f"{path}: the state has no 'curriculum' entry")
        if template is not None and hasattr(state, "curriculum"):
            cstate = state.curriculum
        else:
            cstate = _restore_cstate(curriculum, sd["curriculum"], path)
        levels, scores, valid = _curriculum_levels(curriculum, cstate)
        source = "curriculum"
    else:
        for u, p in reversed(snaps):
            try:
                snap = read_level_snapshot(p)
            except CheckpointError as e:
                warn(f"skipping level snapshot {e}")
                continue
            levels, source = snap.get("levels"), f"snapshot {u}"
            scores = None if snap.get("scores") is None else np.asarray(snap["scores"])
            valid = None if snap.get("valid") is None else np.asarray(snap["valid"], bool)
            break
    return Run(
        run_dir=run_dir,
        config=config,
        provenance=prov,
        metrics=metrics_to_arrays(rows),
        update=update,
        checkpoint=path,
        state=state,
        params=params,
        buffer_levels=levels,
        buffer_scores=scores,
        buffer_valid=valid,
        levels_source=source,
        warnings=row_warnings(rows, unit),
        snapshots=snaps,
    )


__all__ = ["Run", "load_run"]
