"""One resume rule and exact resume for every kind of run: a training process killed with
SIGKILL mid-run, then ``--resume``, leaves the same ``metrics.jsonl`` bytes and final
checkpoint as an uninterrupted run (ued, samplr, hades, synth); Ctrl-C (SIGINT) stops a run at
the next chunk boundary with a checkpoint there and one line naming the command that continues
it. The interrupted process is a real subprocess; the uninterrupted and resumed runs run in
this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
         "--learners", "ppo", "--agent-activation", "tanh", "--inner-steps", "64",
         "--inner-envs", "2", "--agent-hidden", "4",
         "--eval-envs", "2", "--chunk-size", "1", "--checkpoint-every", "2", "--no-progress"],
        ["synth", "train", "--resume"],
    ),
}  # fmt: skip


def _env() -> dict:
    # the subprocess shares this process's compile cache and compiler flags (tests/conftest.py
    # puts both in the environment), so it loads the programs the uninterrupted run compiled
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _rows(d: Path) -> int:
    p = d / "metrics.jsonl"
    return len(p.read_bytes().splitlines()) if p.exists() else 0


def _kill_mid_run(
    argv: list[str], d: Path, after_rows: int, sig: int = signal.SIGKILL
) -> tuple[int, int, str]:
    """Start ``openued ARGV --out d`` and send it ``sig`` once ``after_rows`` metrics rows and a
    checkpoint past the first exist; returns ``(rows it had written, exit status, stderr)``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *argv, "--out", str(d)], env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _rows(d) >= after_rows and len(list_checkpoints(d)) >= 2:
                proc.send_signal(sig)
                break
            time.sleep(0.01)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    return _rows(d), proc.returncode, err


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run of each kind (made once)."""
    base = tmp_path_factory.mktemp("straight")
    out = {}

    def get(kind):
        if kind not in out:
            out[kind] = base / kind
            assert cli.main([*RUNS[kind][0], "--out", str(out[kind])]) == 0
        return out[kind]

    return get


@pytest.mark.parametrize("kind", list(RUNS))
def test_sigkill_then_resume_equals_an_uninterrupted_run(kind, straight, tmp_path, capsys):
    argv, resume = RUNS[kind]
    straight, killed = straight(kind), tmp_path / "killed"
    total = _rows(straight)
    done, rc, err = _kill_mid_run(argv, killed, after_rows=3)
    assert rc == -signal.SIGKILL, err[-2000:]
    assert done < total, f"the {kind} run finished before it could be killed"
    capsys.readouterr()
    assert cli.main([*resume, str(killed)]) == 0
    assert "resuming" in capsys.readouterr().err
    assert (killed / "metrics.jsonl").read_bytes() == (straight / "metrics.jsonl").read_bytes()
    (ua, pa), (ub, pb) = list_checkpoints(killed)[-1], list_checkpoints(straight)[-1]
    assert ua == ub and pa.read_bytes() == pb.read_bytes()


@pytest.mark.parametrize("kind", ["ued", "hades", "synth"])
def test_ctrl_c_checkpoints_at_the_next_chunk_and_names_the_resume(kind, straight, tmp_path):
    argv, resume = RUNS[kind]
    straight, stopped = straight(kind), tmp_path / "stopped"
    done, rc, err = _kill_mid_run(argv, stopped, after_rows=3, sig=signal.SIGINT)
    lines = [x for x in err.strip().splitlines() if not x.startswith("warning:")]
    assert rc == 130 and len(lines) == 1 and "Traceback" not in err, err[-2000:]
    assert lines[0].startswith("openued: error: interrupted at ")
    assert f"continue with: openued {' '.join(resume)} {stopped}" in lines[0]
    # a checkpoint at the stop, wherever the periodic ones fall, and every row up to it
    assert list_checkpoints(stopped)[-1][0] == done > 0
    assert cli.main([*resume, str(stopped)]) == 0
    assert (stopped / "metrics.jsonl").read_bytes() == (straight / "metrics.jsonl").read_bytes()
