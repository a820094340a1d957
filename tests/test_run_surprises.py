"""What a careless or hostile user does to a run, and what a careful user expects back: one
line, the right exit status and nothing lost. (Malformed configs, read-only runs, a disk that
fills before the first checkpoint, files that are not ``.npz`` archives, empty and truncated
metrics, stale temporary files, a run extended past its old end, a level space whose mutate
breaks its own levels.)"""

from __future__ import annotations

import errno
import json
import shutil

import jax
import jax.numpy as jnp
import pytest
from flax import struct

import ued
from experiments import cli
from ued.host import RunFileError, checkpoint_path, list_checkpoints, load_latest_checkpoint

TINY = [
    "--num-envs", "2", "--num-steps", "4", "--maze-size", "5", "--n-walls", "2",
    "--network", "small-ff", "--max-episode-steps", "4", "--num-validation-levels", "2",
    "--eval-attempts", "1", "--num-epochs", "1", "--progress", "false", "--plot", "false",
    "--chunk-size", "1",
]  # fmt: skip


def _one_line(capsys) -> str:
    err = [x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith("warn")]
    assert len(err) == 1, err
    assert err[0].startswith("openued: error: ") and "Traceback" not in err[0]
    return err[0]


def _train(d, updates, *extra):
    assert cli.main(["train", "maze-dr", *TINY, "--num-updates", str(updates), *extra,
                     "--out", str(d)]) == 0  # fmt: skip


@pytest.fixture(scope="module")
def run6(built_once, tmp_path_factory):
    def build(d):
        _train(d, 6, "--eval-every", "2", "--checkpoint-every", "3")

    return built_once("test_run_surprises-run6", build, tmp_path_factory.mktemp("r") / "run6")


@pytest.fixture
def run(run6, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(run6, d)
    return d


@pytest.mark.parametrize(
    "config,needle",
    [
        ({}, "declares no kind of run"),
        ({"kind": "samplr"}, "unknown option"),  # a maze run's fields under another kind
        ({"kind": "hades", "target": "pong"}, "target: unknown 'pong'"),
    ],
)
def test_a_config_of_no_or_the_wrong_kind_is_refused_by_every_command(run, capsys, config, needle):
    stored = json.loads((run / "config.json").read_text())
    if config.get("kind") == "samplr":
        config = {**stored, **config}
    (run / "config.json").write_text(json.dumps(config))
    for argv in (["eval", str(run)], ["plot", str(run)], ["train", "--resume", str(run)]):
        assert cli.main(argv) == 2, argv
        line = _one_line(capsys)
        assert "config.json" in line and needle in line, line


def test_eval_of_a_read_only_run_prints_and_warns(run, capsys, monkeypatch):
    def refuse(path, text):
        raise RunFileError(path, "write", OSError(errno.EROFS, "Read-only file system"))

    import ued.host

    monkeypatch.setattr(ued.host, "atomic_write_text", refuse)
    capsys.readouterr()
    assert cli.main(["eval", str(run)]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out.strip().splitlines()[-1])["set_solve_rate"]
    assert "not stored" in out.err and "eval.json" in out.err and "read-only" in out.err


def test_a_disk_full_before_the_first_checkpoint_leaves_no_half_made_run(tmp_path, capsys,
                                                                          monkeypatch):  # fmt: skip
    import ued.host.loop as loop_mod

    real = loop_mod.save_checkpoint

    def full(run_dir, unit, state, keep):
        raise RunFileError(checkpoint_path(run_dir, unit), "write",
                           OSError(errno.ENOSPC, "No space left on device"))  # fmt: skip

    d = tmp_path / "run"
    monkeypatch.setattr(loop_mod, "save_checkpoint", full)
    assert cli.main(["train", "maze-dr", *TINY, "--num-updates", "2", "--out", str(d)]) == 1
    assert "no space left on device" in _one_line(capsys)
    assert not d.exists()  # nothing half-made: the same command works once there is space
    monkeypatch.setattr(loop_mod, "save_checkpoint", real)
    assert cli.main(["train", "maze-dr", *TINY, "--num-updates", "2", "--out", str(d)]) == 0


@pytest.mark.parametrize("content", [b"\x8f\x00garbage" * 40, b"not an archive\n"])
def test_a_file_that_is_not_an_npz_gets_our_own_line(tmp_path, capsys, content):
    p = tmp_path / "data.npz"
    p.write_bytes(content)
    assert cli.main(["hades", "eval", str(p)]) == 2
    line = _one_line(capsys)
    assert "not a .npz archive" in line and "pickl" not in line.lower(), line


def test_plot_and_eval_of_runs_that_hold_nothing_yet(run, tmp_path, capsys):
    (run / "metrics.jsonl").write_text("")
    assert cli.main(["plot", str(run)]) == 2
    assert "metrics.jsonl holds no rows yet" in _one_line(capsys)
    other = tmp_path / "other"
    shutil.copytree(run, other)
    assert cli.main(["plot", str(run), str(other), "--compare", "--out", str(tmp_path / "c")]) == 2
    assert f"no metrics rows yet in {run}" in _one_line(capsys)
    shutil.rmtree(run / "checkpoints")
    assert cli.main(["eval", str(run)]) == 1
    line = _one_line(capsys)
    assert "no checkpoint to read" in line and "resum" not in line, line


def test_a_truncated_row_before_the_checkpoint_is_reported(run, capsys):
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    (run / "metrics.jsonl").write_text("".join(lines[:5]) + lines[5][:20])  # row 6 torn
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run), "--num-updates", "6"]) == 0
    err = capsys.readouterr().err
    assert "removed an unreadable last line" in err
    assert "lacks the rows of updates 6 before the checkpoint at 6" in err


def test_checkpoint_units_come_from_their_content(run):
    (u, p) = list_checkpoints(run)[-1]
    p.rename(p.with_name("ckpt_000000099.msgpack"))
    assert load_latest_checkpoint(run)[0] == u == 6


def test_stale_temporary_files_go_on_resume(run, capsys):
    stale = [run / ".metrics.jsonl.tmp-999999-3", run / "checkpoints" / ".ckpt_7.tmp-999999-1"]
    for p in stale:
        p.write_bytes(b"half")
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run), "--num-updates", "6"]) == 0
    assert "removed 2 temporary file(s)" in capsys.readouterr().err
    assert not any(p.exists() for p in stale)


def test_extending_a_finished_run_off_the_evaluation_grid(tmp_path):
    """3 updates with an evaluation every 2 (and one at the end, 3), then --resume to 8: the
    evaluation made at 3 because it was the end goes, and the rows are those of a run of 8."""
    a, b = tmp_path / "a", tmp_path / "b"
    _train(a, 3, "--eval-every", "2")
    assert cli.main(["train", "--resume", str(a), "--num-updates", "8"]) == 0
    _train(b, 8, "--eval-every", "2")
    assert (a / "metrics.jsonl").read_bytes() == (b / "metrics.jsonl").read_bytes()
    rows = [json.loads(x) for x in (a / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows if "eval/validation_solve_rate" in r] == [2, 4, 6, 8]


@struct.dataclass
class _Cell:
    x: jax.Array  # int32[]


def test_accel_and_the_archive_check_mutate_at_build_time():
    import curricula

    space = ued.LevelSpace(
        name="bad-mutate", placeholder=_Cell(jnp.int32(0)),
        sample=lambda k: _Cell(jax.random.randint(k, (), 0, 9, jnp.int32)),
        mutate=lambda k, lv: _Cell(lv.x + 0.5),  # an int level becomes a float one
        descriptor=lambda lv: lv.x.astype(jnp.float32)[None],
    )  # fmt: skip
    with pytest.raises(ValueError, match="make_accel: .*fails ued.testing.check_mutate.*float32"):
        curricula.make_accel(space, 2)
    with pytest.raises(ValueError, match="make_archive: .*check_mutate"):
        curricula.make_archive(space, 2, curricula.ArchiveConfig(lower=(0.0,), upper=(9.0,),
                                                                 bins=(3,)))  # fmt: skip
