"""End-to-end ``openued synth train / eval / plot`` on a tiny configuration."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from experiments.synth_cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("synth") / "run")
    rc = main(
        ["train", "cartpole", "--out", out, "--generations", "2", "--population", "4",
         "--seed", "0", "--kind", "scb", "--learners", "ppo", "--inner-steps", "128",
         "--inner-envs", "4", "--agent-hidden", "8", "--eval-envs", "2", "--chunk", "1",
         "--quiet"]
    )  # fmt: skip
    assert rc == 0
    return out


def test_train_writes_run_dir(run_dir, capsys):
    for f in ("config.json", "metrics.jsonl", "checkpoint.npz", "env.npz", "env.json"):
        assert os.path.exists(os.path.join(run_dir, f)), f
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    assert recs[0]["generation"] == 0 and np.isfinite(recs[0]["mean_fitness"])  # gen-0 fitness
    assert recs[1]["mean_fitness"] == recs[0]["mean_fitness"]
    assert recs[1]["learner"] == "ppo" and recs[1]["horizon"] == 500
    assert [r["generation"] for r in recs[1:]] == [1, 2]
    assert all(np.isfinite(r["fitness_mean"]) for r in recs[1:])
    with np.load(os.path.join(run_dir, "env.npz"), allow_pickle=False) as z:
        # one array per leaf, named by its slash-separated path under the head
        assert any(f.startswith("reward/") for f in z.files)
        assert all(f.replace("_", "").replace("/", "").isalnum() for f in z.files), z.files
    with open(os.path.join(run_dir, "env.json")) as f:
        meta = json.load(f)
    assert meta["kind"] == "scb" and meta["num_params"] == 549 and meta["generation"] == 2
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["config"]["population"] == 4


def test_eval_last_line_is_json(run_dir, capsys):
    rc = main(
        ["eval", run_dir, "--learner", "ppo", "--hidden", "8", "--activation", "relu",
         "--lr", "0.01", "--steps", "128", "--inits", "2", "--episodes", "2", "--max-steps", "30",
         "--real-steps", "128"]
    )  # fmt: skip
    assert rc == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    res = json.loads(last)
    assert res["env"] == "cartpole" and res["kind"] == "scb"
    (label,) = res["mean_return"]
    assert label.startswith("ppo/h8/relu/lr=0.01")
    assert 0 < res["mean_return"][label] <= 30
    s = res["settings"][0]
    assert s["train_seconds_synthetic"] > 0
    assert s["real"]["train_seconds"] > 0 and s["real"]["num_steps"] >= 4


def test_plot_writes_figures(run_dir, capsys):
    assert main(["plot", run_dir]) == 0
    figs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["figures"]
    assert len(figs) == 3 and all(os.path.getsize(f) > 1000 for f in figs)


@pytest.mark.slow
def test_resume_continues_from_checkpoint(run_dir, capsys):
    rc = main(
        ["train", "cartpole", "--out", run_dir, "--generations", "3", "--population", "4",
         "--learners", "ppo", "--inner-steps", "128", "--inner-envs", "4", "--agent-hidden", "8",
         "--eval-envs", "2", "--chunk", "1", "--quiet"]
    )  # fmt: skip
    assert rc == 0
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        gens = [json.loads(line)["generation"] for line in f]
    assert gens == [0, 1, 2, 3]
