"""The run layer: host-side machinery every command shares (``openued train``, the ES
commands, notebooks). Host only; nothing here is jittable.

Run directory layout::

    RUN_DIR/config.json           resolved configuration (the JSON object the caller trains with)
    RUN_DIR/provenance.json       git commit, package versions, device, command line, start time
                                  (provenance_resume_<unit>.json for each resume)
    RUN_DIR/metrics.jsonl         one JSON object per unit (``update``, ``env_steps``, ...); with
                                  K seeds every per-seed value is a list of K numbers; warnings
                                  under ``"warnings"`` in the row of the unit they concern
    RUN_DIR/checkpoints/ckpt_000001234.msgpack   newest ``keep`` checkpoints (one at unit 0)
    RUN_DIR/levels/levels_000001234.msgpack      the curriculum's levels at each evaluation
    RUN_DIR/.lock                 pid of the process writing the run (while it runs)
    RUN_DIR/error.txt             why the run stopped, if it diverged
    RUN_DIR/plots/                written by ``openued plot``

Modules, one job each: ``files`` (atomic writes), ``checkpoints`` (checksummed data-only
state files), ``config`` (``config.json`` and the resume rule), ``provenance``, ``loggers``
(the warning channel and optional loggers), ``metrics`` (``metrics.jsonl``), ``lock``,
``snapshots`` (level snapshots), ``loop`` (the chunked host loop), ``run`` (``load_run``),
``trainer`` (``run_trainer``: a run directory for any ``ued.make_train`` trainer), ``devices``
(which axis a run shards over how many devices).
"""

from ued.host.checkpoints import (
    CKPT_DIR,
    MAGIC,
    bytes_to_state_dict,
    checkpoint_format,
    checkpoint_path,
    list_checkpoints,
    load_latest_checkpoint,
    read_state_dict,
    restore_state,
    save_checkpoint,
    state_to_bytes,
)
from ued.host.config import (
    CONFIG_FILE,
    FORMAT_VERSION,
    check_format,
    check_resume,
    read_config,
    run_format,
)
from ued.host.devices import (
    POPULATION_AXIS,
    SEED_AXIS,
    DevicePlan,
    axis_mesh,
    describe_sharding,
    device_count_of,
    plan_devices,
    resolve_devices,
)
from ued.host.errors import (
    CheckpointError,
    ConfigFileError,
    ResumeError,
    RunError,
    RunExists,
    RunFileError,
    RunInterrupted,
    RunLocked,
    TrainingDiverged,
)
from ued.host.files import (
    atomic_write_bytes,
    atomic_write_text,
    ensure_dir,
    jsonable,
    save_figure,
    write_json,
)
from ued.host.lock import LOCK_FILE, RunLock
from ued.host.loggers import Loggers, WarningChannel
from ued.host.loop import (
    HealthChecks,
    HostConfig,
    check_health,
    diverged_message,
    holds_run,
    plan_chunks,
    run_training,
    warning_text,
)
from ued.host.metrics import (
    METRICS_FILE,
    MetricsFile,
    metrics_to_arrays,
    read_metrics,
    row_warnings,
)
from ued.host.provenance import git_commit, provenance
from ued.host.run import Run, load_run
from ued.host.snapshots import (
    LEVELS_DIR,
    list_level_snapshots,
    make_level_snapshot,
    read_level_snapshot,
    write_level_snapshot,
)
from ued.host.trainer import (
    default_config,
    env_steps_per_unit,
    jit_trainer,
    run_trainer,
    seed_keys,
    trainer_unit,
)

__all__ = [
    "POPULATION_AXIS",
    "SEED_AXIS",
    "DevicePlan",
    "axis_mesh",
    "describe_sharding",
    "device_count_of",
    "plan_devices",
    "resolve_devices",
    "check_health",
    "diverged_message",
    "warning_text",
    "jit_trainer",
    "run_trainer",
    "seed_keys",
    "default_config",
    "env_steps_per_unit",
    "trainer_unit",
    "FORMAT_VERSION",
    "check_format",
    "run_format",
    "checkpoint_format",
    "CKPT_DIR",
    "CONFIG_FILE",
    "CheckpointError",
    "ConfigFileError",
    "HealthChecks",
    "HostConfig",
    "LEVELS_DIR",
    "LOCK_FILE",
    "Loggers",
    "MAGIC",
    "METRICS_FILE",
    "MetricsFile",
    "ResumeError",
    "Run",
    "RunError",
    "RunExists",
    "RunFileError",
    "RunLock",
    "RunInterrupted",
    "RunLocked",
    "TrainingDiverged",
    "WarningChannel",
    "atomic_write_bytes",
    "atomic_write_text",
    "bytes_to_state_dict",
    "check_resume",
    "checkpoint_path",
    "ensure_dir",
    "git_commit",
    "holds_run",
    "jsonable",
    "list_checkpoints",
    "list_level_snapshots",
    "load_latest_checkpoint",
    "load_run",
    "make_level_snapshot",
    "metrics_to_arrays",
    "plan_chunks",
    "provenance",
    "read_config",
    "read_level_snapshot",
    "read_metrics",
    "read_state_dict",
    "restore_state",
    "row_warnings",
    "run_training",
    "save_checkpoint",
    "save_figure",
    "state_to_bytes",
    "write_json",
    "write_level_snapshot",
]
