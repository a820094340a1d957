"""One resume rule and exact resume for every kind of run: a training process killed with
SIGKILL mid-run, then ``--resume``, leaves the same ``metrics.jsonl`` bytes and final
checkpoint as an uninterrupted run (ued, samplr, hades, synth). The killed process is a real
subprocess; the uninterrupted and resumed runs run in this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import pytest

from experiments import cli
from ued.host import list_checkpoints

ROOT = Path(__file__).resolve().parents[1]

# kind -> (train argv after the preset, resume argv after --resume DIR); chunks of one or two
# units and a checkpoint every two, so a kill lands between checkpoints
RUNS = {
    "ued": (
        ["train", "maze-dr", "--num-envs", "2", "--num-steps", "4", "--maze-size", "5",
         "--n-walls", "2", "--network", "small-ff", "--max-episode-steps", "4",
         "--num-validation-levels", "2", "--eval-attempts", "1", "--eval-every", "8",
         "--num-epochs", "1", "--num-updates", "40", "--chunk-size", "2",
         "--checkpoint-every", "4", "--no-progress", "--no-plot"],
        ["train", "--resume"],
    ),
    "samplr": (
        ["train", "gamble-dr", "--num-envs", "2", "--num-steps", "4", "--num-minibatches", "1",
         "--num-seeds", "1", "--num-updates", "40", "--chunk-size", "2",
         "--checkpoint-every", "4", "--keep-checkpoints", "2", "--no-progress", "--no-plot"],
        ["train", "--resume"],
    ),
    "hades": (
        ["hades", "train", "cartpole", "--generations", "12", "--population", "4",
         "--dataset-size", "2", "--inner-steps", "2", "--hidden", "4", "--eval-envs", "1",
         "--eval-steps", "4", "--chunk-size", "1", "--eval-policies", "0", "--num-inits", "1",
         "--checkpoint-every", "2", "--no-progress", "--no-plot"],
        ["hades", "train", "--resume"],
    ),
    "synth": (
        ["synth", "train", "cartpole", "--generations", "8", "--population", "4",
         "--learners", "ppo", "--inner-steps", "64", "--inner-envs", "2", "--agent-hidden", "4",
         "--eval-envs", "2", "--chunk-size", "1", "--checkpoint-every", "2", "--no-progress"],
        ["synth", "train", "--resume"],
    ),
}  # fmt: skip


def _env() -> dict:
    # the subprocess shares this process's compile cache and compiler flags (same programs)
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir or "",
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def _rows(d: Path) -> int:
    p = d / "metrics.jsonl"
    return len(p.read_bytes().splitlines()) if p.exists() else 0


def _kill_mid_run(argv: list[str], d: Path, after_rows: int) -> int:
    """Start ``openued ARGV --out d`` and SIGKILL it once ``after_rows`` metrics rows and a
    checkpoint past the first exist; returns the rows it had written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *argv, "--out", str(d)], env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _rows(d) >= after_rows and len(list_checkpoints(d)) >= 2:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode in (-signal.SIGKILL, 0), err[-2000:]
    return _rows(d)


@pytest.mark.parametrize("kind", list(RUNS))
def test_sigkill_then_resume_equals_an_uninterrupted_run(kind, tmp_path, capsys):
    argv, resume = RUNS[kind]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert cli.main([*argv, "--out", str(straight)]) == 0
    total = _rows(straight)
    done = _kill_mid_run(argv, killed, after_rows=3)
    assert done < total, f"the {kind} run finished before it could be killed"
    capsys.readouterr()
    assert cli.main([*resume, str(killed)]) == 0
    assert "resuming" in capsys.readouterr().err
    assert (killed / "metrics.jsonl").read_bytes() == (straight / "metrics.jsonl").read_bytes()
    (ua, pa), (ub, pb) = list_checkpoints(killed)[-1], list_checkpoints(straight)[-1]
    assert ua == ub and pa.read_bytes() == pb.read_bytes()
