"""``openued`` failure paths, in process: every one is a single line on stderr naming the file or
option at fault, exit status 2 for the caller's mistakes and 1 for failures of the run, no
traceback and nothing half-written. Most fail before anything is built; the two that reach the
run layer use the tiniest maze-dr configuration."""

from __future__ import annotations

import errno
import hashlib
import json
import os

import pytest

from experiments import cli
from experiments.kinds import ued as U
from ued.host import RunLock, save_checkpoint
from ued.host import files as host_files

TINY = [
    "--num-envs", "2", "--num-steps", "4", "--maze-size", "5", "--n-walls", "2",
    "--network", "small-ff", "--max-episode-steps", "4", "--num-validation-levels", "2",
    "--eval-attempts", "1", "--eval-every", "0", "--num-epochs", "1",
    "--progress", "false", "--plot", "false", "--num-updates", "2", "--chunk-size", "2",
]  # fmt: skip


def _tree(d):
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("openued: error: ") and "Traceback" not in err[0]
    return err[0]


def _fake_run(tmp_path, updates_done=6, config=None):
    """A run directory as training leaves it (config, metrics, a checkpoint), built without
    training: enough for the commands that refuse before building anything."""
    d = tmp_path / "run"
    d.mkdir()
    cfg = config or {
        "format_version": 2,
        **U.to_dict(U.make_config("maze-dr", dict(num_updates=updates_done))),
    }
    (d / "config.json").write_text(json.dumps(cfg))
    rows = "".join(json.dumps({"update": u}) + "\n" for u in range(1, updates_done + 1))
    (d / "metrics.jsonl").write_text(rows)
    save_checkpoint(d, updates_done, {"x": 0})
    return d


@pytest.mark.parametrize(
    "content,needle",
    [
        ("", "empty file"),
        ("{not json", "not valid JSON (line 1, column 2"),
        ('{"num_envz": 4}', "declares no kind of run"),
        ('{"kind": "ued", "num_envz": 4}', "unknown option --num-envz (did you mean --num-envs"),
        ('{"kind": "ued", "num_envs": "many"}', "--num-envs: invalid value 'many'"),
        ('{"kind": "ued", "num_envs": 99999999999999999999}', "--num-envs: invalid value"),
    ],
)
def test_bad_config_json_is_one_line_naming_the_file(tmp_path, capsys, content, needle):
    d = tmp_path / "run"
    d.mkdir()
    (d / "config.json").write_text(content)
    before = _tree(d)
    for argv in (["train", "--resume", str(d)], ["eval", str(d)], ["plot", str(d)]):
        assert cli.main(argv) == 2, argv
        line = _one_line(capsys)
        assert f"{d / 'config.json'}: " in line and needle in line, line
    assert _tree(d) == before


def test_over_large_integer_is_a_clean_error(capsys):
    assert cli.main(["train", "maze-dr", "--num-envs", "99999999999999999999"]) == 2
    assert "--num-envs: invalid value '99999999999999999999'" in _one_line(capsys)


def test_resume_below_the_runs_position_is_refused_before_writing(tmp_path, capsys):
    d = _fake_run(tmp_path)
    before = _tree(d)
    assert cli.main(["train", "--resume", str(d), "--num-updates", "3"]) == 2
    line = _one_line(capsys)
    assert "--num-updates 3" in line and "already at update 6" in line
    assert cli.main(["train", "--resume", str(d), "--eval-every", "7"]) == 2
    assert "cannot change --eval-every when resuming" in _one_line(capsys)
    assert _tree(d) == before


def test_lost_checkpoints_say_how_to_start_over(tmp_path, capsys):
    d = _fake_run(tmp_path)
    (d / "checkpoints" / "ckpt_000000006.msgpack").write_bytes(os.urandom(64))
    assert cli.main(["train", "--resume", str(d), "--num-updates", "8"]) == 1
    line = _one_line(capsys)
    assert "no usable checkpoint" in line and "pickl" not in line.lower()
    assert "openued train maze-dr --num-updates 8 --out NEW_DIR" in line  # starts over


@pytest.mark.parametrize(
    "code,match,rc,needle",
    [
        (errno.EACCES, "config.json", 2, "permission denied"),
        (errno.ENOSPC, "ckpt_000000000.msgpack", 1, "no space left on device"),
    ],
)
def test_unwritable_directory_or_full_disk(tmp_path, capsys, monkeypatch, code, match, rc, needle):
    real = host_files._write_new_file

    def write(tmp, data):
        if match in tmp.name:
            tmp.write_bytes(data[:1])
            raise OSError(code, os.strerror(code))
        real(tmp, data)

    monkeypatch.setattr(host_files, "_write_new_file", write)
    d = tmp_path / "run"
    assert cli.main(["train", "maze-dr", *TINY, "--out", str(d)]) == rc
    line = _one_line(capsys)
    assert str(d) in line and match in line and needle in line, line
    assert not [p for p in d.rglob("*") if "tmp" in p.name], list(d.rglob("*"))
    assert not (d / ".lock").exists()


def test_a_locked_run_directory_is_refused(tmp_path, capsys):
    d = tmp_path / "run"
    d.mkdir()
    with RunLock(d):
        assert cli.main(["train", "maze-dr", *TINY, "--out", str(d)]) == 2
        line = _one_line(capsys)
    assert f"in use by process {os.getpid()}" in line and str(d / ".lock") in line
    assert sorted(p.name for p in d.iterdir()) == []
