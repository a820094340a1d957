"""Host-side machinery every command shares: run directories, checkpoints, the chunked host
loop, and :func:`load_run` for notebooks. Host only (nothing here is jittable).

Run directory layout::

    RUN_DIR/config.json        resolved configuration (whatever dict the caller passes)
    RUN_DIR/provenance.json    git commit, package versions, device, command line, start time
    RUN_DIR/metrics.jsonl      one JSON object per update (``update``, ``env_steps``, ...);
                               with K seeds every per-seed value is a list of K numbers
    RUN_DIR/checkpoints/ckpt_000001234.msgpack   last ``keep`` checkpoints
    RUN_DIR/plots/             written by ``openued plot``

Checkpoints are data only: ``MAGIC | sha256(payload) | payload`` where the payload is
``flax.serialization.msgpack_serialize`` of the train state's state dict (typed PRNG keys stored
as their raw ``uint32`` data). Loading never executes code. They are written atomically (temp
file in the same directory, ``fsync``, ``os.replace``, ``fsync`` of the directory), so a crash
mid-write leaves the previous checkpoint intact; a truncated or corrupted file fails its checksum
with a :class:`CheckpointError` naming it, and resuming falls back to the previous good one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

MAGIC = b"OPENUED\x01"
_HASH_LEN = 32
CKPT_DIR = "checkpoints"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, corrupted or does not fit the run."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf; the run stopped and its last good checkpoint was kept."""


# ------------------------------------------------------------------------------- state <-> bytes


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _unkey(tree: Any) -> Any:
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


def state_to_bytes(state: Any) -> bytes:
    """Serialise a pytree of arrays (typed keys allowed) to checksummed data-only bytes."""
    host = jax.tree.map(np.asarray, jax.device_get(_unkey(state)))
    payload = serialization.msgpack_serialize(serialization.to_state_dict(host))
    return MAGIC + hashlib.sha256(payload).digest() + payload


def _payload(data: bytes, path: Any) -> bytes:
    if len(data) < len(MAGIC) + _HASH_LEN or data[: len(MAGIC)] != MAGIC:
        raise CheckpointError(f"{path}: not an openued checkpoint (bad header or truncated)")
    digest = data[len(MAGIC) : len(MAGIC) + _HASH_LEN]
    payload = data[len(MAGIC) + _HASH_LEN :]
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{path}: checksum mismatch (truncated or corrupted file)")
    return payload


def read_state_dict(path: str | os.PathLike) -> dict:
    """The raw nested dict of NumPy arrays stored in a checkpoint (no template needed)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e})") from e
    try:
        return serialization.msgpack_restore(_payload(data, path))
    except CheckpointError:
        raise
    except Exception as e:  # malformed msgpack despite a valid checksum
        raise CheckpointError(f"{path}: cannot decode ({e})") from e


def restore_state(template: Any, state_dict: dict, path: Any = "<state>") -> Any:
    """Fill ``template``'s structure with ``state_dict``; shapes and dtypes must match."""
    tmpl = _unkey(template)
    try:
        restored = serialization.from_state_dict(tmpl, state_dict)
    except Exception as e:
        raise CheckpointError(f"{path}: does not match this run's state structure ({e})") from e
    flat_t = jax.tree.leaves(tmpl)
    flat_r = jax.tree.leaves(restored)
    if len(flat_t) != len(flat_r):
        raise CheckpointError(f"{path}: {len(flat_r)} arrays, this run's state has {len(flat_t)}")
    for a, b in zip(flat_t, flat_r, strict=True):
        if np.shape(a) != np.shape(b) or np.asarray(b).dtype != np.asarray(a).dtype:
            raise CheckpointError(
                f"{path}: array of shape {np.shape(b)} {np.asarray(b).dtype} where the run "
                f"expects {np.shape(a)} {np.asarray(a).dtype}"
            )
    return jax.tree.map(
        lambda t, r: jax.random.wrap_key_data(jnp.asarray(r)) if _is_key(t) else jnp.asarray(r),
        template,
        restored,
    )


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp + fsync + os.replace + fsync of the dir)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def checkpoint_path(run_dir: str | os.PathLike, update: int) -> Path:
    return Path(run_dir) / CKPT_DIR / f"ckpt_{int(update):09d}.msgpack"


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(update, path)`` of the run's checkpoints, oldest first."""
    d = Path(run_dir) / CKPT_DIR
    out = []
    if d.is_dir():
        for p in d.glob("ckpt_*.msgpack"):
            try:
                out.append((int(p.stem.split("_")[1]), p))
            except (IndexError, ValueError):
                continue
    return sorted(out)


def save_checkpoint(run_dir: str | os.PathLike, update: int, state: Any, keep: int = 3) -> Path:
    """Atomically write the state at ``update`` and delete all but the newest ``keep``."""
    path = checkpoint_path(run_dir, update)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, state_to_bytes(state))
    if keep > 0:
        for _, old in list_checkpoints(run_dir)[:-keep]:
            old.unlink(missing_ok=True)
    return path


def load_latest_checkpoint(
    run_dir: str | os.PathLike, template: Any = None, warn: Callable[[str], None] | None = None
) -> tuple[int, Any, Path]:
    """Newest checkpoint that passes its checksum (and fits ``template`` when given).

    Returns ``(update, state or raw state dict, path)``; corrupted files are reported through
    ``warn`` (default: stderr) and skipped. Raises :class:`CheckpointError` if none is usable.
    """
    warn = warn or (lambda m: print(m, file=sys.stderr))
    ckpts = list_checkpoints(run_dir)
    if not ckpts:
        raise CheckpointError(f"{Path(run_dir) / CKPT_DIR}: no checkpoints")
    errors = []
    for update, path in reversed(ckpts):
        try:
            sd = read_state_dict(path)
            state = sd if template is None else restore_state(template, sd, path)
            return update, state, path
        except CheckpointError as e:
            errors.append(str(e))
            warn(f"warning: skipping checkpoint: {e}; trying the previous one")
    raise CheckpointError("no usable checkpoint: " + "; ".join(errors))


# ------------------------------------------------------------------------------- run directory


def _git_commit(start: Path) -> str | None:
    """The commit of the repository holding ``start``, read from ``.git`` (no subprocess)."""
    for d in [start, *start.parents]:
        g = d / ".git"
        if g.is_file():  # worktree / submodule: "gitdir: PATH"
            txt = g.read_text().strip()
            if txt.startswith("gitdir:"):
                g = (d / txt.split(":", 1)[1].strip()).resolve()
        if not g.is_dir():
            continue
        try:
            head = (g / "HEAD").read_text().strip()
            if not head.startswith("ref:"):
                return head
            ref = head.split(":", 1)[1].strip()
            for base in (g, Path(str(g).split("/worktrees/")[0])):
                f = base / ref
                if f.is_file():
                    return f.read_text().strip()
                packed = base / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text().splitlines():
                        if line.endswith(" " + ref):
                            return line.split()[0]
        except OSError:
            return None
        return None
    return None


def provenance() -> dict:
    """Git commit, package versions, device and Python/platform of this process."""
    pkgs = {}
    for name in ("openued", "jax", "jaxlib", "flax", "optax", "chex", "numpy", "evosax", "gymnax"):
        try:
            pkgs[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pkgs[name] = None
    devs = jax.devices()
    return {
        "git_commit": _git_commit(Path(__file__).resolve().parent),
        "packages": pkgs,
        "device": {
            "platform": devs[0].platform,
            "kind": getattr(devs[0], "device_kind", str(devs[0])),
            "count": len(devs),
        },
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "argv": list(sys.argv),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray | np.generic):
        return _jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None  # strict JSON has no NaN/inf
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _jsonable(dataclasses.asdict(x))
    return x


def write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(_jsonable(obj), indent=2) + "\n").encode())


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """Parsed lines of ``metrics.jsonl`` (a torn last line from a crash is ignored)."""
    p = Path(run_dir) / "metrics.jsonl"
    if not p.exists():
        return []
    out = []
    for line in p.read_text().splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return out


def truncate_metrics(run_dir: str | os.PathLike, last_update: int) -> None:
    """Keep only the metrics lines with ``update <= last_update`` (used on resume)."""
    lines = [m for m in read_metrics(run_dir) if m.get("update", 0) <= last_update]
    data = "".join(json.dumps(m) + "\n" for m in lines)
    atomic_write_bytes(Path(run_dir) / "metrics.jsonl", data.encode())


# ------------------------------------------------------------------------------- logging backends


class _Loggers:
    def __init__(self, run_dir: Path, backends: tuple[str, ...], config: dict):
        self.tb = None
        self.wandb = None
        for b in backends:
            if b == "tensorboard":
                try:
                    from tensorboardX import SummaryWriter
                except ImportError:
                    try:
                        from torch.utils.tensorboard import SummaryWriter
                    except ImportError:
                        raise RuntimeError(
                            "--log tensorboard needs tensorboardX (pip install tensorboardX) "
                            "or torch"
                        ) from None
                self.tb = SummaryWriter(str(run_dir / "tensorboard"))
            elif b == "wandb":
                try:
                    import wandb
                except ImportError:
                    raise RuntimeError("--log wandb needs wandb (pip install wandb)") from None
                self.wandb = wandb.init(config=config, dir=str(run_dir), name=run_dir.name)
            elif b:
                raise ValueError(f"unknown log backend {b!r}; allowed: tensorboard, wandb")

    def log(self, row: dict) -> None:
        step = row["update"]
        scalars = {}
        for k, v in row.items():
            if isinstance(v, list):
                v = [x for x in v if x is not None]
                v = float(np.mean(v)) if v else None
            if isinstance(v, int | float) and v is not None and k != "update":
                scalars[k] = float(v)
        if self.tb is not None:
            for k, v in scalars.items():
                self.tb.add_scalar(k, v, step)
        if self.wandb is not None:
            self.wandb.log(scalars, step=step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


# ------------------------------------------------------------------------------- host loop


@dataclasses.dataclass(frozen=True)
class HostConfig:
    """How the host loop runs a trainer.

    Attributes:
      num_updates: total updates of the run (a resumed run continues up to this many).
      chunk_size: most updates per compiled ``run`` call (progress/log granularity); the loop
        uses the largest chunk <= this that divides the updates left, so one program is compiled.
      checkpoint_every: updates between checkpoints (also one at the end, always).
      keep_checkpoints: newest checkpoints kept (>= 1).
      eval_every: updates between calls of the ``evaluate`` callback (0: only at the end).
      progress: show a tqdm progress bar (env steps/s, ETA) on stderr.
      log_backends: extra loggers, ``"tensorboard"`` and/or ``"wandb"`` (must be installed).
    """

    num_updates: int
    chunk_size: int = 50
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    eval_every: int = 0
    progress: bool = True
    log_backends: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f, lo in (
            ("num_updates", 0),
            ("chunk_size", 1),
            ("checkpoint_every", 1),
            ("keep_checkpoints", 1),
            ("eval_every", 0),
        ):
            v = getattr(self, f)
            if not isinstance(v, int) or v < lo:
                raise ValueError(f"HostConfig.{f} must be an integer >= {lo}, got {v!r}")


def _row_values(v: np.ndarray, i: int, batched: bool):
    x = v[:, i] if batched else v[i]
    if batched:
        return [(_num(e)) for e in np.asarray(x).tolist()]
    return _num(np.asarray(x).item())


def _num(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run_training(
    run_dir: str | os.PathLike,
    init_fn: Callable[[], Any],
    run_fn: Callable[[Any, int], tuple[Any, dict]],
    host: HostConfig,
    *,
    env_steps_per_update: int,
    num_seeds: int,
    config: dict,
    resume: bool = False,
    evaluate: Callable[[Any], dict] | None = None,
    write: Callable[[str], None] | None = None,
    batched: bool | None = None,
) -> Any:
    """Run (or resume) a training run in chunks, writing the run directory. Host only.

    Args:
      run_dir: the run directory (created if needed).
      init_fn: ``() -> state`` fresh state (already jitted by the caller); also the template
        when resuming.
      run_fn: ``(state, n) -> (state, metrics)``; metrics leaves ``(n,)`` or, with
        ``num_seeds > 1`` (vmapped state), ``(num_seeds, n)``.
      host: :class:`HostConfig`.
      env_steps_per_update: ``num_envs * num_steps`` (for ``env_steps`` and the rate).
      num_seeds: 1 (unbatched state) or K (leading seed axis).
      config: the resolved configuration, written to ``config.json`` (not rewritten on resume).
      resume: continue from the newest good checkpoint of ``run_dir``.
      evaluate: optional ``state -> {name: value or per-seed list}`` merged (prefixed
        ``eval/``) into the metrics line of the update it runs at.
      write: where human-readable messages go (default: stderr).
      batched: whether the state has a leading seed axis; default ``num_seeds > 1`` (pass
        ``True`` for a vmapped state with a single seed).

    Returns the final state. Raises :class:`TrainingDiverged` on a non-finite loss (the
    metrics up to that update are written; the last good checkpoint is kept).
    """
    write = write or (lambda m: print(m, file=sys.stderr))
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    batched = num_seeds > 1 if batched is None else bool(batched)
    template = init_fn()
    if resume:
        start, state, path = load_latest_checkpoint(run_dir, template, warn=write)
        write(f"resuming {run_dir} from {path.name} (update {start})")
        truncate_metrics(run_dir, start)
    else:
        state, start = template, 0
        write_json(run_dir / "config.json", config)
        (run_dir / "metrics.jsonl").write_text("")
    write_json(
        run_dir / ("provenance.json" if not resume else f"provenance_resume_{start}.json"),
        provenance(),
    )
    loggers = _Loggers(run_dir, tuple(host.log_backends), config)
    total = host.num_updates
    if start > total:
        raise ValueError(f"the run is already at update {start} > --num-updates {total}")
    bar = None
    if host.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=start, unit="upd", dynamic_ncols=True, file=sys.stderr)
    update = start
    last_ckpt = start if resume else -1
    last_eval = start
    metrics_f = open(run_dir / "metrics.jsonl", "a")
    t_prev = time.perf_counter()
    try:
        if update == total:  # nothing left to run: still end with a checkpoint and a line
            if not resume:
                row = {"update": update, "env_steps": update * env_steps_per_update}
                if evaluate is not None:
                    row.update({f"eval/{k}": v for k, v in _jsonable(evaluate(state)).items()})
                metrics_f.write(json.dumps(_jsonable(row)) + "\n")
                metrics_f.flush()
                save_checkpoint(run_dir, update, state, host.keep_checkpoints)
            return state
        # equal chunks that divide the remaining updates: one compiled program for the run
        remaining = total - update
        chunk = max(d for d in range(1, min(host.chunk_size, remaining) + 1) if remaining % d == 0)
        while update < total:
            n = chunk
            new_state, m = run_fn(state, n)
            m = jax.device_get(m)
            m = {k: np.asarray(v) for k, v in m.items()}
            bad = np.asarray(m.get("nonfinite_loss", np.zeros(1))).reshape(
                (num_seeds, n) if batched else (n,)
            )
            bad_idx = np.nonzero(bad.any(0) if batched else bad)[0]
            n_ok = int(bad_idx[0]) + 1 if bad_idx.size else n
            rows = []
            for i in range(n_ok):
                u = update + i + 1
                row = {"update": u, "env_steps": u * env_steps_per_update}
                for k, v in m.items():
                    if k != "update":
                        row[k] = _row_values(v, i, batched)
                rows.append(row)
            if bad_idx.size:
                for row in rows:
                    metrics_f.write(json.dumps(_jsonable(row)) + "\n")
                metrics_f.flush()
                u_bad = update + n_ok
                msg = (
                    f"training diverged: non-finite PPO loss at update {u_bad}; stopping. "
                    f"The last good checkpoint is kept in {run_dir / CKPT_DIR} "
                    f"(resume from it with a lower learning rate or different seed)."
                )
                (run_dir / "error.txt").write_text(msg + "\n")
                raise TrainingDiverged(msg)
            state = new_state
            update += n
            now = time.perf_counter()
            # the first chunk includes compilation: report the rate from the second one on
            sps = n * env_steps_per_update * num_seeds / max(now - t_prev, 1e-9)
            rate = f"{sps:,.0f} env steps/s" if update - n > start else "compiled"
            t_prev = now
            if evaluate is not None and (
                update == total or (host.eval_every and update - last_eval >= host.eval_every)
            ):
                ev = evaluate(state)
                rows[-1].update({f"eval/{k}": v for k, v in ev.items()})
                last_eval = update
            for row in rows:
                metrics_f.write(json.dumps(_jsonable(row)) + "\n")
                loggers.log(_jsonable(row))
            metrics_f.flush()
            if update == total or update - max(last_ckpt, 0) >= host.checkpoint_every:
                save_checkpoint(run_dir, update, state, host.keep_checkpoints)
                last_ckpt = update
            if bar is not None:
                bar.update(n)
                bar.set_postfix_str(rate)
        return state
    finally:
        metrics_f.close()
        loggers.close()
        if bar is not None:
            bar.close()


# ------------------------------------------------------------------------------- notebooks


@dataclasses.dataclass
class Run:
    """A run directory loaded for analysis (see :func:`load_run`)."""

    run_dir: Path
    config: dict
    provenance: dict
    metrics: dict[str, np.ndarray]  # key -> (num_lines,) or (num_lines, K); NaN where missing
    update: int  # update of the loaded checkpoint (-1: none)
    checkpoint: Path | None
    state: Any  # raw nested dict of the checkpoint (or the restored state with a template)
    params: Any  # the student's network parameters (nested dict of arrays)
    buffer_levels: Any  # the curriculum's stored levels (nested dict of arrays) or None
    buffer_scores: np.ndarray | None  # their scores, where the curriculum keeps scores


def metrics_to_arrays(rows: list[dict]) -> dict[str, np.ndarray]:
    """Column arrays from metric rows; missing/None entries become NaN."""
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    out = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        width = max((len(v) for v in vals if isinstance(v, list)), default=0)
        if width:
            arr = np.full((len(vals), width), np.nan)
            for i, v in enumerate(vals):
                if isinstance(v, list):
                    arr[i] = [np.nan if e is None else e for e in v]
                elif v is not None:
                    arr[i] = v
        else:
            arr = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
        out[k] = arr
    return out


def _find_levels(cur: Any) -> tuple[Any, Any]:
    if not isinstance(cur, dict):
        return None, None
    if "buffer" in cur and isinstance(cur["buffer"], dict) and "levels" in cur["buffer"]:
        b = cur["buffer"]
        return b["levels"], b.get("scores")
    if "levels" in cur:
        return cur["levels"], cur.get("scores", cur.get("learnability"))
    for v in cur.values():
        lv, sc = _find_levels(v)
        if lv is not None:
            return lv, sc
    return None, None


def load_run(run_dir: str | os.PathLike, template: Any = None) -> Run:
    """Load a run directory: config, metrics as arrays, latest parameters, buffer levels.

    Without ``template`` the checkpoint comes back as nested dicts of NumPy arrays (no code
    runs and nothing needs rebuilding); with a ``TrainState`` template it is restored into it.
    With K seeds every array has a leading seed axis.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise FileNotFoundError(f"{run_dir}: not a run directory (no config.json)")
    config = json.loads((run_dir / "config.json").read_text())
    prov_p = run_dir / "provenance.json"
    prov = json.loads(prov_p.read_text()) if prov_p.exists() else {}
    metrics = metrics_to_arrays(read_metrics(run_dir))
    try:
        update, sd, path = load_latest_checkpoint(run_dir, None, warn=lambda m: None)
    except CheckpointError:
        update, sd, path = -1, None, None
    state = sd
    params = levels = scores = None
    if sd is not None:
        params = sd.get("student", {}).get("params")
        levels, scores = _find_levels(sd.get("curriculum"))
        if template is not None:
            state = restore_state(template, sd, path)
    return Run(
        run_dir=run_dir,
        config=config,
        provenance=prov,
        metrics=metrics,
        update=update,
        checkpoint=path,
        state=state,
        params=params,
        buffer_levels=levels,
        buffer_scores=None if scores is None else np.asarray(scores),
    )


__all__ = [
    "CheckpointError",
    "HostConfig",
    "Run",
    "TrainingDiverged",
    "atomic_write_bytes",
    "list_checkpoints",
    "load_latest_checkpoint",
    "load_run",
    "metrics_to_arrays",
    "provenance",
    "read_metrics",
    "read_state_dict",
    "restore_state",
    "run_training",
    "save_checkpoint",
    "state_to_bytes",
]
