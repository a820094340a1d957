"""``openued hades`` end to end on tiny presets: train, resume, eval (+transfer), plot, errors."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import cli
from experiments.kinds.hades import presets
from ued.host import list_checkpoints, read_metrics, read_state_dict


def main(argv):
    return cli.main(["hades", *argv])


TINY = [
    "--generations",
    "2",
    "--population",
    "4",
    "--dataset-size",
    "2",
    "--inner-steps",
    "2",
    "--hidden",
    "4",
    "--eval-envs",
    "1",
    "--eval-steps",
    "4",
    "--chunk-size",
    "1",
    "--eval-policies",
    "2",
    "--eval-episodes",
    "1",
    "--no-progress",
    "--no-plot",
    "--num-inits",
    "1",
]


# the tiny runs are dominated by XLA compile time; these tests check plumbing, not speed
@pytest.fixture(autouse=True, scope="module")
def _fast_compile():
    import jax

    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", old)


GYMNAX = [t for t in presets() if t not in ("hopper", "walker2d", "halfcheetah")]


def _last_json(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


@pytest.mark.parametrize("target", GYMNAX)
def test_tiny_train_every_target(target, tmp_path, capsys):
    out = tmp_path / target
    # no evaluation of the mean (saves a compilation); cartpole_run below covers evaluation
    assert (
        main(["train", target, "--out", str(out), "--seed", "1", *TINY, "--eval-policies", "0"])
        == 0
    )
    summary = _last_json(capsys)
    assert summary["generation"] == 2
    for f in ("config.json", "metrics.jsonl", "dataset.npz", "dataset.json"):
        assert (out / f).exists(), f
    assert [u for u, _ in list_checkpoints(out)] == [0, 1, 2]
    recs = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in recs] == [1, 2]
    assert "eval/mean_return" not in recs[-1]
    assert json.loads((out / "dataset.json").read_text())["generation"] == 2
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["es"]["population_size"] == 4 and cfg["hades"]["dataset_size"] == 2


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cp"
    assert main(["train", "cartpole", "--out", str(out), *TINY]) == 0
    recs = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert "eval/mean_return" in recs[-1]
    return out


def test_resume_extends_run(cartpole_run, tmp_path, capsys):
    # a directory that holds a run is continued only with --resume, naming both ways out
    capsys.readouterr()
    assert main(["train", "cartpole", "--out", str(cartpole_run), *TINY, "--generations", "3"]) == 2
    line = _one_error_line(capsys)
    assert f"{cartpole_run} already holds a run" in line and "--resume" in line and "--out" in line
    # resuming a finished 2-generation run to 3 generations equals a straight 3-generation run
    assert main(["train", "--resume", str(cartpole_run), "--generations", "3"]) == 0
    straight = tmp_path / "straight"
    assert main(["train", "cartpole", "--out", str(straight), *TINY, "--generations", "3"]) == 0
    (ua, pa), (ub, pb) = list_checkpoints(cartpole_run)[-1], list_checkpoints(straight)[-1]
    assert ua == ub == 3
    np.testing.assert_equal(read_state_dict(pa), read_state_dict(pb))
    assert read_metrics(cartpole_run) == read_metrics(straight)
    # another configuration in the same directory is refused, naming the flag; nothing written
    before = sorted((p.name, p.stat().st_mtime_ns) for p in cartpole_run.rglob("*"))
    capsys.readouterr()
    assert main(["train", "--resume", str(cartpole_run), "--population", "6"]) == 2
    assert "cannot change --population when resuming" in _one_error_line(capsys)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in cartpole_run.rglob("*")) == before


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("openued: error: "), err
    return err[0]


def _no_temp_files(d) -> bool:
    return not [p for p in Path(d).rglob("*") if ".tmp" in p.name]


@pytest.fixture
def run_copy(cartpole_run, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(cartpole_run, d)
    return d


def test_crash_between_checkpoint_and_metrics(run_copy, capsys):
    # the newest checkpoint never reached the disk: its rows are trimmed and rerun, once
    newest = list_checkpoints(run_copy)[-1]
    newest[1].unlink()
    gens = [r["generation"] for r in read_metrics(run_copy)]
    capsys.readouterr()
    assert main(["train", "--resume", str(run_copy), "--generations", str(newest[0])]) == 0
    assert [r["generation"] for r in read_metrics(run_copy)] == gens
    assert _no_temp_files(run_copy)


def test_lost_checkpoints_and_bad_config(run_copy, capsys):
    for _, p in list_checkpoints(run_copy):
        p.write_bytes(p.read_bytes()[:-5])  # truncated
    capsys.readouterr()
    assert main(["train", "--resume", str(run_copy), "--generations", "5"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err) and err[-1].startswith("openued: error: ")
    assert "no usable checkpoint" in err[-1] and "start it over" in err[-1]
    cfg = json.loads((run_copy / "config.json").read_text())
    (run_copy / "config.json").write_text(json.dumps({**cfg, "bogus": 1}))
    assert main(["train", "--resume", str(run_copy), "--generations", "5"]) == 2
    line = _one_error_line(capsys)
    assert "config.json" in line and "unknown option --bogus" in line, line
    (run_copy / "config.json").write_text("{oops")
    assert main(["train", "--resume", str(run_copy)]) == 2
    line = _one_error_line(capsys)
    assert "config.json" in line and "not valid JSON" in line
    assert _no_temp_files(run_copy)


def test_damaged_dataset_and_empty_run(run_copy, capsys):
    data = (run_copy / "dataset.npz").read_bytes()
    i = data.find(b"states.npy") + 120
    (run_copy / "dataset.npz").write_bytes(data[:i] + bytes([data[i] ^ 4]) + data[i + 1 :])
    for cmd in (["eval", str(run_copy)], ["plot", str(run_copy)]):
        capsys.readouterr()
        assert main(cmd) == 2
        line = _one_error_line(capsys)
        assert "dataset.npz" in line and ("damaged" in line or "not a readable" in line), line
    (run_copy / "dataset.npz").write_bytes(data[: len(data) // 3])
    assert main(["eval", str(run_copy)]) == 2
    assert "dataset.npz" in _one_error_line(capsys)
    (run_copy / "metrics.jsonl").write_text("")
    assert main(["plot", str(run_copy)]) == 2
    assert "metrics.jsonl holds no rows yet" in _one_error_line(capsys)


def test_eval_and_transfer(cartpole_run, capsys):
    capsys.readouterr()
    assert (
        main(["eval", str(cartpole_run), "--policies", "2", "--episodes", "1", "--transfer"]) == 0
    )
    res = _last_json(capsys)
    assert res["num_policies"] == 2
    assert np.isfinite(res["mean_return"]) and res["std_return"] >= 0
    assert set(res["transfer"]) == {"1x16-tanh", "2x4-tanh", "1x4-relu", "1x4-tanh-lr0.005"}
    # a dataset file directly
    assert (
        main(["eval", str(cartpole_run / "dataset.npz"), "--policies", "1", "--episodes", "1"]) == 0
    )
    assert _last_json(capsys)["num_policies"] == 1


def test_plot(cartpole_run, capsys):
    assert main(["plot", str(cartpole_run)]) == 0
    plots = capsys.readouterr().out.strip().splitlines()
    assert all(os.path.getsize(p) > 1000 for p in plots) and len(plots) == 2


@pytest.mark.parametrize(
    "flag,value,allowed",
    [
        ("--generations", "0", "an integer in [1, 10000000]"),
        ("--population", "1", "an integer in [2, 1048576]"),
        ("--dataset-size", "-3", "an integer in [1, 4096]"),
        ("--seed", "-1", "an integer >= 0"),
        ("--strategy", "foo", "one of Open_ES, SNES, CMA_ES, Sep_CMA_ES, PGPE"),
        ("--hidden", "64,0", "one or more integers in [1, 4096]"),
    ],
)
def test_bad_values_name_flag_and_range(flag, value, allowed, tmp_path, capsys):
    assert main(["train", "cartpole", "--out", str(tmp_path / "x"), flag, value]) == 2
    line = _one_error_line(capsys)
    assert f"{flag}: invalid value {value!r}; allowed: {allowed}" in line, line
    assert not (tmp_path / "x").exists()


def test_malformed_dataset_errors(cartpole_run, tmp_path, capsys):
    good = dict(np.load(cartpole_run / "dataset.npz"))
    bad_shape = dict(good, states=np.zeros((2, 5), np.float32))
    np.savez(tmp_path / "shape.npz", **bad_shape)
    missing = {k: v for k, v in good.items() if k != "targets"}
    np.savez(tmp_path / "missing.npz", **missing)
    (tmp_path / "junk.npz").write_text("not an npz")
    for name, msg in [
        ("shape", "states has shape"),
        ("missing", "missing array(s) targets"),
        ("junk", "not a .npz archive"),
    ]:
        capsys.readouterr()
        assert main(["eval", str(tmp_path / f"{name}.npz")]) == 2
        assert msg in capsys.readouterr().err


def test_module_entry_point_help():
    out = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "hades", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert out.returncode == 0
    for flag in ("--out", "--generations", "--population", "--dataset-size", "--seed"):
        assert flag in out.stdout


def test_num_seeds(tmp_path, capsys):
    """``--num-seeds 2``: two seeds in one program; rows of per-seed lists, a dataset per seed,
    exact resume, ``eval`` over seeds with a Student-t interval, ``plot`` refused in one line."""
    argv = ["train", "cartpole", *TINY, "--num-seeds", "2"]
    full = tmp_path / "full"
    assert main([*argv, "--out", str(full)]) == 0
    assert _last_json(capsys)["best_generation"] == [2, 2]
    recs = [json.loads(x) for x in (full / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in recs] == [1, 2]
    for r in recs:
        assert all(len(r[k]) == 2 for k in ("fitness_mean", "best_fitness", "eval/mean_return"))
    assert json.loads((full / "config.json").read_text())["num_seeds"] == 2
    for s in (0, 1):
        assert (full / f"dataset_s{s}.npz").exists() and (full / f"dataset_s{s}.json").exists()
    # the seeds differ (their tiny fitness saturates at the 4-step horizon; their datasets do not)
    assert (full / "dataset_s0.npz").read_bytes() != (full / "dataset_s1.npz").read_bytes()
    # deterministic, and a resumed run writes the same rows
    part = tmp_path / "part"
    assert TINY[:2] == ["--generations", "2"]
    assert main(["train", "cartpole", *TINY[2:], "--generations", "1", "--num-seeds", "2",
                 "--out", str(part)]) == 0  # fmt: skip
    assert main(["train", "--resume", str(part), "--generations", "2"]) == 0
    assert (part / "metrics.jsonl").read_bytes() == (full / "metrics.jsonl").read_bytes()
    capsys.readouterr()
    assert main(["eval", str(full), "--policies", "2", "--episodes", "1"]) == 0
    res = _last_json(capsys)
    assert res["num_seeds"] == 2 and len(res["per_seed_mean_return"]) == 2
    assert res["mean_return"] == pytest.approx(sum(res["per_seed_mean_return"]) / 2)
    assert len(res["ci95"]) == 2 and "Student-t" in res["interval"]
    assert main(["plot", str(full)]) == 2
    assert "--num-seeds 2" in _one_error_line(capsys)
