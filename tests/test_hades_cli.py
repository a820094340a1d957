"""``openued hades`` end to end on tiny presets: train, resume, eval (+transfer), plot, errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments.hades_cli import PRESETS, main

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


GYMNAX = [t for t in PRESETS if t not in ("hopper", "walker2d", "halfcheetah")]


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
    for f in ("config.json", "metrics.jsonl", "checkpoint.npz", "dataset.npz", "dataset.json"):
        assert (out / f).exists(), f
    recs = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in recs] == [1, 2]
    assert "eval_mean_return" not in recs[-1]
    assert json.loads((out / "dataset.json").read_text())["generation"] == 2
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["es"]["population_size"] == 4 and cfg["hades"]["dataset_size"] == 2


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cp"
    assert main(["train", "cartpole", "--out", str(out), *TINY]) == 0
    recs = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert "eval_mean_return" in recs[-1]
    return out


def test_resume_extends_run(cartpole_run, tmp_path, capsys):
    # resuming a finished 2-generation run to 3 generations equals a straight 3-generation run
    capsys.readouterr()
    assert main(["train", "cartpole", "--out", str(cartpole_run), *TINY, "--generations", "3"]) == 0
    straight = tmp_path / "straight"
    assert main(["train", "cartpole", "--out", str(straight), *TINY, "--generations", "3"]) == 0
    a = np.load(cartpole_run / "checkpoint.npz")
    b = np.load(straight / "checkpoint.npz")
    assert a.files == b.files
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])
    # another configuration in the same directory is refused
    capsys.readouterr()
    assert main(["train", "cartpole", "--out", str(cartpole_run), *TINY, "--population", "6"]) == 2
    assert "another configuration" in capsys.readouterr().err


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
    plots = _last_json(capsys)["plots"]
    assert all(os.path.getsize(p) > 1000 for p in plots) and len(plots) == 2


@pytest.mark.parametrize(
    "flag,value,field",
    [
        ("--generations", "0", "generations"),
        ("--population", "1", "population_size"),
        ("--dataset-size", "-3", "dataset_size"),
        ("--seed", "-1", "seed"),
        ("--strategy", "foo", "strategy"),
    ],
)
def test_bad_values_name_field(flag, value, field, tmp_path, capsys):
    assert main(["train", "cartpole", "--out", str(tmp_path / "x"), flag, value]) == 2
    err = capsys.readouterr().err
    assert field in err and "error" in err


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
        ("junk", "not a readable .npz"),
    ]:
        capsys.readouterr()
        assert main(["eval", str(tmp_path / f"{name}.npz")]) == 2
        assert msg in capsys.readouterr().err


def test_module_entry_point_help():
    out = subprocess.run(
        [sys.executable, "-m", "experiments.hades_cli", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert out.returncode == 0
    for flag in ("--out", "--generations", "--population", "--dataset-size", "--seed"):
        assert flag in out.stdout
