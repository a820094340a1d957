"""End-to-end ``openued synth train / eval / plot`` on a tiny configuration."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from experiments import cli
from ued.host import list_checkpoints, read_metrics, read_state_dict


def main(argv):
    return cli.main(["synth", *argv])


TINY = ["--population", "4", "--learners", "ppo", "--inner-steps", "128", "--inner-envs", "4",
        "--agent-hidden", "8", "--eval-envs", "2", "--chunk-size", "1", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(built_once, tmp_path_factory):
    def build(out):
        rc = main(["train", "cartpole", "--out", str(out), "--generations", "2", "--seed", "0",
                   "--kind", "scb", *TINY])  # fmt: skip
        assert rc == 0

    return str(built_once("test_synth_cli-run", build, tmp_path_factory.mktemp("synth") / "run"))


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("openued: error: "), err
    assert "Traceback" not in err[0]
    return err[0]


def _no_temp_files(d) -> bool:
    return not [p for p in Path(d).rglob("*") if ".tmp" in p.name]


@pytest.fixture
def run_copy(run_dir, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(run_dir, d)
    return d


def test_train_writes_run_dir(run_dir, capsys):
    for f in ("config.json", "metrics.jsonl", "env.npz", "env.json"):
        assert os.path.exists(os.path.join(run_dir, f)), f
    assert [u for u, _ in list_checkpoints(run_dir)] == [0, 1, 2]
    assert _no_temp_files(run_dir)
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    # generation g's row: the fitness of the mean it sampled around (the mean after g - 1)
    assert np.isfinite(recs[0]["mean_fitness"])
    assert recs[0]["horizon"] == 500
    # by default the students' activation rotates with the learners: tanh, then relu
    assert [r["learner"] for r in recs] == ["ppo/tanh", "ppo/relu"]
    assert [r["generation"] for r in recs] == [1, 2]
    assert all(np.isfinite(r["fitness_mean"]) for r in recs)
    cfg = json.loads(open(os.path.join(run_dir, "config.json")).read())
    assert cfg["kind"] == "synth" and cfg["synth_kind"] == "scb"
    assert cfg["agent_activations"] == cfg["config"]["activations"] == ["tanh", "relu"]
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
    figs = capsys.readouterr().out.strip().splitlines()
    assert len(figs) == 3 and all(os.path.getsize(f) > 1000 for f in figs)


def test_resume_equals_uninterrupted_run(run_dir, tmp_path, capsys):
    # crash between generation 2's metrics rows and its checkpoint: the rows are trimmed,
    # the run resumes from generation 1 and ends bitwise where a straight 3-generation run does
    d = tmp_path / "crashed"
    shutil.copytree(run_dir, d)
    os.remove(d / "checkpoints" / "ckpt_000000002.msgpack")
    config_before = json.loads((d / "config.json").read_text())
    capsys.readouterr()
    assert main(["train", "cartpole", "--out", str(d), "--generations", "3", *TINY]) == 2
    assert "already holds a run" in _one_error_line(capsys)
    assert main(["train", "--resume", str(d), "--generations", "3"]) == 0
    assert "resuming" in capsys.readouterr().err
    straight = tmp_path / "straight"
    assert main(["train", "cartpole", "--out", str(straight), "--generations", "3", *TINY]) == 0
    assert [r["generation"] for r in read_metrics(d)] == [1, 2, 3]
    assert read_metrics(d) == read_metrics(straight)
    (ua, pa), (ub, pb) = list_checkpoints(d)[-1], list_checkpoints(straight)[-1]
    assert ua == ub == 3
    a, b = read_state_dict(pa), read_state_dict(pb)
    np.testing.assert_equal(a, b)
    with np.load(d / "env.npz") as za, np.load(straight / "env.npz") as zb:
        for k in za.files:
            np.testing.assert_array_equal(za[k], zb[k])
    # on resume only the run length changed
    assert json.loads((d / "config.json").read_text()) == {**config_before, "generations": 3}
    assert _no_temp_files(d)


def test_resume_refuses_a_config_change(run_copy, capsys):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run_copy.rglob("*"))
    rc = main(["train", "--resume", str(run_copy), "--generations", "3", "--population", "6"])
    assert rc == 2
    line = _one_error_line(capsys)
    assert "cannot change --population when resuming" in line and "--generations" in line
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run_copy.rglob("*")) == before


def test_lost_checkpoints_say_how_to_start_over(run_copy, capsys):
    for _, p in list_checkpoints(run_copy):
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x10  # one flipped bit
        p.write_bytes(bytes(data))
    assert main(["train", "--resume", str(run_copy), "--generations", "3"]) == 1
    # each skipped checkpoint is a warning line; the failure is the one error line
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert [x for x in err if "error: " in x] == [err[-1]]
    last = err[-1]
    assert last.startswith("openued: error: ") and "no usable checkpoint" in last
    assert "start it over in a new run directory" in last
    assert _no_temp_files(run_copy)


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "cartpole", "--generations", "-3"],
         "--generations: invalid value '-3'; allowed: an integer >= 1"),
        (["train", "cartpole", "--chunk-size", "0"],
         "--chunk-size: invalid value '0'; allowed: an integer >= 1"),
        (["train", "cartpole", "--chunk", "1"],
         "unknown option --chunk (did you mean --chunk-size?)"),
        (["train", "cartpole", "--range", "lr-0.1"],
         "--range: invalid value 'lr-0.1'; allowed: NAME:LOW:HIGH"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line(argv, needle, tmp_path, capsys):
    assert main([*argv[:2], "--out", str(tmp_path / "x"), *argv[2:]]) == 2
    assert needle in _one_error_line(capsys)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "content,needle",
    [
        ("{not json", "not valid JSON"),
        ('{"seed": 0}', "declares no kind of run"),
        ('{"kind": "synth", "config": {"learner": {}, "bogus": 1}}', "target: unknown None"),
    ],
)
def test_bad_config_json(run_copy, capsys, content, needle):
    (run_copy / "config.json").write_text(content)
    assert main(["plot", str(run_copy)]) == 2
    line = _one_error_line(capsys)
    assert needle in line and "config.json" in line


def test_damaged_env_npz(run_copy, capsys):
    data = bytearray((run_copy / "env.npz").read_bytes())
    for name, damaged in (
        ("truncated", bytes(data[: len(data) // 2])),
        ("flipped", bytes(data[:300]) + bytes([data[300] ^ 1]) + bytes(data[301:])),
    ):
        (run_copy / "env.npz").write_bytes(damaged)
        for cmd in (["plot", str(run_copy)], ["eval", str(run_copy), "--no-real"]):
            assert main(cmd) == 2, (name, cmd)
            line = _one_error_line(capsys)
            assert "env.npz" in line and "damaged" in line, line


def test_plot_on_an_empty_run(run_copy, capsys):
    (run_copy / "metrics.jsonl").write_text("")
    assert main(["plot", str(run_copy)]) == 2
    assert "metrics.jsonl holds no rows yet" in _one_error_line(capsys)
    empty = run_copy.parent / "empty"
    empty.mkdir()
    assert main(["plot", str(empty)]) == 2
    assert "not a run directory" in _one_error_line(capsys)


def test_agent_activations_resolve_and_are_checked():
    from experiments.kinds.synth import config_from_dict, config_to_dict, make_config
    from meta.synth import SynthMetaConfig

    # --agent-activation alone means that one activation, as before the rotation existed
    assert make_config("cartpole", {"agent_activation": "relu"}).agent_activations is None
    both = make_config("cartpole", {"agent_activation": "elu", "agent_activations": ("elu",)})
    assert both.agent_activations == ("elu",)
    # a stored run made before the rotation (no agent_activations) resumes as it was made
    d = config_to_dict(make_config("cartpole", {}))
    del d["agent_activations"]
    assert config_from_dict(d).agent_activations is None
    for bad in [("tanh", "bogus"), (), ("relu", "relu")]:
        with pytest.raises(ValueError, match="SynthMetaConfig.activations"):
            SynthMetaConfig(activations=bad)


def test_num_seeds(tmp_path, capsys):
    """``--num-seeds 2``: rows of per-seed lists (the seeds differ), an env per seed; ``eval``
    and ``plot`` refuse such a run in one line naming --num-seeds."""
    out = tmp_path / "two"
    # one generation of one learner variant: one small program
    assert main(["train", "cartpole", "--out", str(out), "--generations", "1", "--kind", "scb",
                 "--num-seeds", "2", "--agent-activation", "tanh", *TINY]) == 0  # fmt: skip
    (rec,) = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert rec["generation"] == 1 and isinstance(rec["learner"], str)
    assert len(rec["fitness_mean"]) == 2 and len(rec["mean_fitness"]) == 2
    # the seeds differ
    assert (out / "env_s0.npz").read_bytes() != (out / "env_s1.npz").read_bytes()
    capsys.readouterr()
    for cmd in ("eval", "plot"):
        assert main([cmd, str(out)]) == 2
        assert "--num-seeds 2" in _one_error_line(capsys)
