"""The chunked host loop: run any state pytree for N units (updates, ES generations) in
compiled chunks, writing the run directory between chunks. Host only.

``run_training`` owns the run directory while it runs (``ued.host.lock``), writes
``config.json``, provenance, one metrics row per unit, checkpoints (one before the first chunk,
then every ``checkpoint_every`` units and at the end), and at every evaluation the
``evaluate`` results (into that unit's row) and a level snapshot. Evaluations fall on absolute
unit numbers (multiples of ``eval_every``, and the last unit), so a resumed run writes the same
rows as one that was never interrupted. Between chunks it watches the metrics
(:class:`HealthChecks`): a non-finite loss stops the run (:class:`TrainingDiverged`); a loss
blow-up, a collapsed policy entropy, a curriculum that never replays (its level buffer cannot
reach ``min_fill``) and integer observations clipped by the student's embedding are warnings
recorded in the metrics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import jax
import numpy as np

from ued.host.checkpoints import CKPT_DIR, list_checkpoints, load_latest_checkpoint, save_checkpoint
from ued.host.config import (
    CONFIG_FILE,
    FORMAT_KEY,
    FORMAT_VERSION,
    check_format,
    check_resume,
    read_config,
)
from ued.host.errors import (
    ResumeError,
    RunExists,
    RunFileError,
    RunInterrupted,
    TrainingDiverged,
)
from ued.host.files import atomic_write_text, ensure_dir, jsonable, write_json
from ued.host.health import (  # noqa: F401 (re-exported: the host loop's checks)
    HealthChecks,
    _row_value,
    check_health,
    diverged_message,
    warning_text,
)
from ued.host.lock import RunLock
from ued.host.loggers import Loggers, WarningChannel
from ued.host.metrics import METRICS_FILE, WARNINGS_KEY, MetricsFile, read_metrics, row_warnings
from ued.host.provenance import provenance
from ued.host.snapshots import LEVELS_DIR, remove_level_snapshots_after, write_level_snapshot


@dataclasses.dataclass(frozen=True)
class HostConfig:
    """How the host loop runs a trainer.

    Attributes:
      num_updates: total units of the run (updates, or ES generations); a resumed run continues
        up to this many.
      chunk_size: most units per compiled ``run`` call (progress/log granularity). Chunks end
        on every evaluation; the loop picks one chunk length for the whole run where it can, so
        one program is compiled (see :func:`plan_chunks`).
      checkpoint_every: a checkpoint at the first chunk end past each multiple of this (also
        one before the first chunk and one at the end, always).
      keep_checkpoints: newest checkpoints kept (>= 1).
      eval_every: evaluations (and level snapshots) at multiples of this unit (0: only at the
        end); always at the last unit.
      eval_at_start: also evaluate the initial state of a fresh run, in a row of unit 0 (the
        untrained baseline the curves start from); needs ``evaluate``.
      progress: show a tqdm progress bar (env steps/s, ETA) on stderr.
      log_backends: extra loggers, ``"tensorboard"`` and/or ``"wandb"`` (must be installed).
      health: :class:`HealthChecks`.
    """

    num_updates: int
    chunk_size: int = 50
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    eval_every: int = 0
    eval_at_start: bool = False
    progress: bool = True
    log_backends: tuple[str, ...] = ()
    health: HealthChecks = HealthChecks()

    def __post_init__(self) -> None:
        for f, lo in (
            ("num_updates", 0),
            ("chunk_size", 1),
            ("checkpoint_every", 1),
            ("keep_checkpoints", 1),
            ("eval_every", 0),
        ):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"HostConfig.{f} must be an integer >= {lo}, got {v!r}")
        if not isinstance(self.health, HealthChecks):
            raise ValueError("HostConfig.health must be a HealthChecks")


def plan_chunks(start: int, total: int, chunk_size: int, stops: Collection[int] = ()) -> list[int]:
    """Chunk lengths that run units ``start+1 .. total`` and end on every unit in ``stops``.

    One length for the whole run (the largest divisor of every stretch between stops that is
    <= ``chunk_size``) unless that needs more than twice the calls of stretches cut into
    ``chunk_size`` pieces plus a remainder; one length means one compiled program.
    """
    if total <= start:
        return []
    points = sorted({s for s in stops if start < s < total} | {total})
    segs = [b - a for a, b in zip([start, *points[:-1]], points, strict=True)]
    g = 0
    for s in segs:
        g = math.gcd(g, s)
    c = max(d for d in range(1, min(chunk_size, g) + 1) if g % d == 0)
    uniform = [c] * ((total - start) // c)
    mixed = []
    for s in segs:
        mixed += [chunk_size] * (s // chunk_size) + ([s % chunk_size] if s % chunk_size else [])
    return uniform if len(uniform) <= 2 * len(mixed) else mixed


def holds_run(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` already holds a run (a checkpoint, or metrics rows)."""
    run_dir = Path(run_dir)
    m = run_dir / METRICS_FILE
    return bool(list_checkpoints(run_dir)) or (m.is_file() and m.stat().st_size > 0)


def run_training(
    run_dir: str | Path,
    init_fn: Callable[[], Any],
    run_fn: Callable[[Any, int], tuple[Any, dict]],
    host: HostConfig,
    *,
    config: dict,
    env_steps_per_update: int = 0,
    num_seeds: int = 1,
    resume: bool = False,
    may_change: Collection[str] | None = None,
    evaluate: Callable[[Any], dict] | None = None,
    snapshot: Callable[[Any], dict] | None = None,
    write: Callable[[str], None] | None = None,
    batched: bool | None = None,
    unit: str = "update",
    annotate: Callable[[dict], dict | None] | None = None,
    split_rows: Callable[[list[dict]], list[dict]] | None = None,
    upgrade: Callable[[dict], dict] | None = None,
) -> Any:
    """Run (or resume) a run in chunks, writing the run directory. Host only.

    Args:
      run_dir: the run directory (created if needed; locked while this runs).
      init_fn: ``() -> state`` fresh state (already jitted by the caller); also the template
        when resuming.
      run_fn: ``(state, n) -> (state, metrics)``; metrics leaves ``(n,)`` or, batched,
        ``(num_seeds, n)``.
      host: :class:`HostConfig`.
      config: the resolved configuration (a JSON object), written to ``config.json`` with the
        run format (``"format_version"``, :data:`ued.host.config.FORMAT_VERSION`) first.
      env_steps_per_update: env steps per unit, for the ``env_steps`` column and the rate
        (0: no such column).
      num_seeds: 1 (unbatched state) or K (leading seed axis).
      resume: continue from the newest good checkpoint of ``run_dir``.
      may_change: on resume, the config fields that may differ from the stored ``config.json``
        (:func:`~ued.host.config.check_resume`); the new config is then stored. ``None``: the
        stored config is kept and not compared.
      evaluate: ``state -> {name: value or per-seed list}`` merged (prefixed ``eval/``) into the
        row of each evaluation unit.
      snapshot: ``state -> dict of arrays`` written to ``RUN_DIR/levels/`` at each evaluation
        unit (see ``ued.host.snapshots.make_level_snapshot``).
      write: where human-readable messages go (default: stderr).
      batched: whether the state has a leading seed axis; default ``num_seeds > 1``.
      unit: the name of one step of the run (``"update"``, ``"generation"``): the row key.
      split_rows: ``rows -> rows`` applied to the rows of each chunk before they are written to
        ``metrics.jsonl`` (a sweep writes one row per configuration: ``ued.sweep``); the
        loggers get the rows as computed.
      annotate: ``annotate(row) -> dict`` of host-side fields merged into every metrics row
        (e.g. which inner learner an ES generation used).
      upgrade: ``state dict -> state dict`` of a checkpoint of an older state layout, on resume
        (``load_latest_checkpoint``'s).

    Returns the final state. Raises (all :class:`~ued.host.errors.RunError`):
    ``TrainingDiverged`` on a non-finite loss (rows up to that unit are written; the message
    names the newest checkpoint), ``ResumeError`` for a refused resume, ``RunExists``,
    ``RunLocked``, ``ConfigFileError``, ``CheckpointError``, ``RunFileError`` (naming the file
    that could not be written). Refusals happen before anything is written; a run of another
    run format is not resumed (:func:`ued.host.config.check_format`).
    """
    config = {FORMAT_KEY: FORMAT_VERSION, **{k: v for k, v in config.items() if k != FORMAT_KEY}}
    write = write or (lambda m: print(m, file=sys.stderr))
    channel = WarningChannel(write)
    run_dir = Path(run_dir)
    batched = num_seeds > 1 if batched is None else bool(batched)
    if resume:
        # a clear error for a missing or broken run directory, or one of another format
        check_format(read_config(run_dir), run_dir)
    elif holds_run(run_dir):
        raise RunExists(f"{run_dir} already holds a run; resume it or choose another directory")
    created = not run_dir.exists()
    ensure_dir(run_dir)
    total = host.num_updates
    metrics = MetricsFile(run_dir) if split_rows is None else _SplitRows(run_dir, split_rows)
    loggers = None
    bar = None
    # a lock taken over from a dead process is news for the terminal, not part of the run
    with RunLock(run_dir, warn=lambda m: write(f"warning: {m}")):
        try:
            if resume:
                stored = read_config(run_dir)
                if may_change is not None:
                    check_resume(stored, config, may_change)
                start, state, path = load_latest_checkpoint(
                    run_dir, init_fn(), warn=channel, upgrade=upgrade
                )
                if start > total:
                    raise ResumeError(
                        f"{run_dir} is at {unit} {start} ({path.name}); a resumed run cannot end "
                        f"before that: give a run length of at least {start} {unit}s"
                    )
                # loggers first: a missing backend fails before anything is written
                loggers = Loggers(run_dir, tuple(host.log_backends), config, unit)
                write(f"resuming {run_dir} from {path.name} ({unit} {start})")
                if may_change is not None:
                    write_json(run_dir / CONFIG_FILE, config)
                _tidy_for_resume(run_dir, metrics, unit, start, total, host, write)
                kept = read_metrics(run_dir, warn=channel)
                # warnings already recorded before the checkpoint are not repeated
                channel.mark_seen(name for _, name, _ in row_warnings(kept, unit))
                write_json(run_dir / f"provenance_resume_{start}.json", provenance())
            else:
                loggers = Loggers(run_dir, tuple(host.log_backends), config, unit)
                state, start = _start_fresh(run_dir, config, metrics, init_fn, host, created)
            if host.progress:
                from tqdm.auto import tqdm

                bar = tqdm(
                    total=total, initial=start, unit=unit, dynamic_ncols=True, file=sys.stderr
                )
            return _loop(
                run_dir, state, start, run_fn, host, metrics, loggers, bar, channel,
                env_steps_per_update=env_steps_per_update, num_seeds=num_seeds,
                batched=batched, evaluate=evaluate, snapshot=snapshot, unit=unit,
                write=write, resume=resume, annotate=annotate,
            )  # fmt: skip
        finally:
            metrics.close()
            if loggers is not None:
                loggers.close()
            if bar is not None:
                bar.close()


class _Interrupt:
    """SIGINT (Ctrl-C) while a run trains: the first one asks the loop to stop at the next
    chunk boundary (``requested``), where every row and a checkpoint are written; a second one
    interrupts at once. Only the main thread can install it; elsewhere Ctrl-C behaves as
    usual."""

    def __init__(self) -> None:
        self.requested = False

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if self.requested:  # asked twice: stop now
                signal.signal(signal.SIGINT, previous)
                raise KeyboardInterrupt
            self.requested = True

        signal.signal(signal.SIGINT, handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def _start_fresh(run_dir: Path, config: dict, metrics, init_fn, host, created: bool):
    """Write a fresh run's files and its checkpoint at unit 0; returns ``(state, 0)``. A
    failure before that checkpoint (a full disk, out of memory while compiling ``init``)
    removes what it wrote, so the directory takes the same command again."""
    written = [run_dir / CONFIG_FILE, metrics.path, run_dir / "provenance.json"]
    try:
        # the files first: a directory that cannot be written fails before compiling
        write_json(run_dir / CONFIG_FILE, config)
        metrics.create()
        write_json(run_dir / "provenance.json", provenance())
        state = init_fn()
        save_checkpoint(run_dir, 0, state, host.keep_checkpoints)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        for d in (run_dir / CKPT_DIR,):
            if d.is_dir():
                for f in d.iterdir():
                    f.unlink(missing_ok=True)
                d.rmdir()
        if created:
            with contextlib.suppress(OSError):  # the lock file leaves it on release
                (run_dir / ".lock").unlink(missing_ok=True)
                run_dir.rmdir()
        raise
    return state, 0


def _tidy_for_resume(run_dir: Path, metrics, unit: str, start: int, total: int, host, write):
    """Before a resumed run continues from ``start``: temporary files of dead writers go, rows
    and snapshots past ``start`` go, rows before it that cannot be read are reported, and when
    a finished run is extended past its old end, the evaluation made there because it was the
    end (not on the ``eval_every`` grid) goes, so the run's rows are those of one that was
    never stopped."""
    stale = [p for d in (run_dir, run_dir / CKPT_DIR, run_dir / LEVELS_DIR) if d.is_dir()
             for p in d.iterdir() if p.name.startswith(".") and ".tmp-" in p.name]  # fmt: skip
    for p in stale:
        p.unlink(missing_ok=True)
    if stale:
        write(f"removed {len(stale)} temporary file(s) a stopped process left in {run_dir}")
    torn = metrics.truncate_after(unit, start, report=True)
    remove_level_snapshots_after(run_dir, start)
    if torn:
        write(f"warning: {metrics.path}: removed an unreadable last line ({torn}); the row it "
              "held is rewritten if it lies past the checkpoint")  # fmt: skip
    have = {r.get(unit) for r in read_metrics(run_dir, warn=lambda m: None)}
    missing = [u for u in range(1, start + 1) if u not in have]
    if missing:
        shown = ", ".join(str(u) for u in missing[:5]) + (" ..." if len(missing) > 5 else "")
        write(f"warning: {metrics.path} lacks the rows of {unit}s {shown} before the checkpoint "
              f"at {start} (unreadable or removed lines); they cannot be recovered")  # fmt: skip
    every = host.eval_every
    if start < total and not (every and start % every == 0):
        if metrics.drop_keys(unit, start, prefix="eval/"):
            write(f"the evaluation made at {unit} {start}, the run's old end, is dropped: the "
                  f"run continues as if it had never stopped there")  # fmt: skip
        remove_level_snapshots_after(run_dir, start - 1)


class _SplitRows(MetricsFile):
    """``metrics.jsonl`` written through a row splitter (one row per sweep configuration)."""

    def __init__(self, run_dir, split: Callable[[list[dict]], list[dict]]):
        super().__init__(run_dir)
        self._split = split

    def append(self, rows) -> None:
        super().append(self._split(list(rows)))


def _is_eval(u: int, total: int, every: int) -> bool:
    return u == total or (every > 0 and u % every == 0)


def _base_row(unit: str, u: int, env_steps_per_update: int) -> dict:
    row: dict[str, Any] = {unit: u}
    if env_steps_per_update:
        row["env_steps"] = u * env_steps_per_update
    return row


def _loop(
    run_dir, state, start, run_fn, host, metrics, loggers, bar, channel, *,
    env_steps_per_update, num_seeds, batched, evaluate, snapshot, unit, write, resume,
    annotate=None,
):  # fmt: skip
    total = host.num_updates
    every = host.eval_every

    def at_eval(row: dict, u: int, state) -> None:
        if evaluate is not None:
            row.update({f"eval/{k}": v for k, v in evaluate(state).items()})
        if snapshot is not None:
            write_level_snapshot(run_dir, u, snapshot(state))

    def attach(row: dict, warnings: dict) -> None:
        if warnings:
            row.setdefault(WARNINGS_KEY, {}).update(warnings)

    if start == total:  # nothing left to run: a fresh empty run still gets its one row
        if not resume:
            row = _base_row(unit, start, env_steps_per_update)
            at_eval(row, start, state)
            attach(row, channel.take())
            metrics.append([row])
        return state
    if host.eval_at_start and start == 0 and evaluate is not None:
        row = _base_row(unit, 0, env_steps_per_update)
        at_eval(row, 0, state)
        attach(row, channel.take())
        metrics.append([row])
        loggers.log(jsonable(row))
    stops = range(0, total + 1, every) if every and (evaluate or snapshot) else ()
    last_ckpt = start
    t_prev = time.perf_counter()
    u = start
    interrupt = _Interrupt()
    with interrupt.installed():
        return _chunks(
            run_dir, state, start, run_fn, host, metrics, loggers, bar, channel, interrupt,
            env_steps_per_update=env_steps_per_update, num_seeds=num_seeds, batched=batched,
            unit=unit, write=write, annotate=annotate, at_eval=at_eval, attach=attach,
            stops=stops, u=u, last_ckpt=last_ckpt, t_prev=t_prev,
        )  # fmt: skip


def _chunks(
    run_dir, state, start, run_fn, host, metrics, loggers, bar, channel, interrupt, *,
    env_steps_per_update, num_seeds, batched, unit, write, annotate, at_eval, attach, stops,
    u, last_ckpt, t_prev,
):  # fmt: skip
    total = host.num_updates
    every = host.eval_every
    for n in plan_chunks(start, total, host.chunk_size, stops):
        if interrupt.requested:
            if last_ckpt != u:
                save_checkpoint(run_dir, u, state, host.keep_checkpoints)
            path = list_checkpoints(run_dir)[-1][1]
            raise RunInterrupted(
                f"interrupted at {unit} {u} of {total}: every row up to it and a checkpoint "
                f"({path}) are written",
                unit=u,
                checkpoint=path,
            )
        new_state, m = run_fn(state, n)
        m = {k: np.asarray(v) for k, v in jax.device_get(m).items()}
        first_bad, bad_seed, found = check_health(m, n, batched, host.health)
        n_ok = n if first_bad is None else first_bad + 1
        rows = []
        for i in range(n_ok):
            row = _base_row(unit, u + i + 1, env_steps_per_update)
            for k, v in m.items():
                if k != unit:
                    row[k] = _row_value(v, i, batched)
            if annotate is not None:
                row.update(annotate(row) or {})
            rows.append(row)
        notes: dict[int, dict] = {0: channel.take()}
        for idx, name, seed, value, extra in found:
            seed_txt = f" (seed {seed})" if batched else ""
            text = warning_text(name, unit, u + idx + 1, seed_txt, value, host.health, extra)
            if channel.warn(name, text):
                notes.setdefault(idx, {}).update(channel.take())
        if first_bad is not None:
            for i, w in notes.items():
                attach(rows[i], w)
            metrics.append(rows)
            for row in rows:
                loggers.log(jsonable(row))
            u_bad = u + n_ok
            msg, cp, cu = diverged_message(
                run_dir, unit, u_bad, f" (seed {bad_seed})" if batched else "",
                what=host.health.diverged, advice=host.health.advice,
            )  # fmt: skip
            try:
                atomic_write_text(run_dir / "error.txt", msg + "\n")
            except RunFileError:
                pass  # the divergence is the error to report
            raise TrainingDiverged(msg, unit=u_bad, checkpoint=cp, checkpoint_unit=cu)
        state = new_state
        u += n
        now = time.perf_counter()
        # the first chunk includes compilation: report the rate from the second one on
        sps = n * max(env_steps_per_update, 1) * num_seeds / max(now - t_prev, 1e-9)
        rate = f"{sps:,.0f} {'env steps' if env_steps_per_update else unit + 's'}/s"
        rate = rate if u - n > start else "compiled"
        t_prev = now
        if _is_eval(u, total, every):
            at_eval(rows[-1], u, state)
        for i, w in notes.items():
            attach(rows[i], w)
        metrics.append(rows)
        for row in rows:
            loggers.log(jsonable(row))
        if u == total or u // host.checkpoint_every > last_ckpt // host.checkpoint_every:
            save_checkpoint(run_dir, u, state, host.keep_checkpoints)
            last_ckpt = u
        if bar is not None:
            bar.update(n)
            bar.set_postfix_str(rate)
    return state


__all__ = ["HealthChecks", "HostConfig", "holds_run", "plan_chunks", "run_training"]
