"""``openued`` end to end, in process, on tiny configurations of every preset (7x7 mazes,
4 envs x 16 steps, the small feed-forward net), asserting from the branch counts in
``metrics.jsonl`` that every branch of each curriculum ran; plus eval, plot, resume and the
errors for bad overrides."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from experiments import cli
from experiments.kinds import ued as U
from ued.host import load_run

TINY = [
    "--num-envs", "4", "--num-steps", "16", "--maze-size", "7", "--n-walls", "5",
    "--network", "small-ff", "--max-episode-steps", "16", "--num-validation-levels", "4",
    "--eval-attempts", "2", "--eval-every", "0", "--num-epochs", "1",
    "--progress", "false", "--plot", "false", "--checkpoint-every", "3",
]  # fmt: skip
BUF = ["--buffer-capacity", "8"]  # the level buffer's options apply to PLR, robust PLR, ACCEL

# preset -> (extra overrides, updates, branches that must have run). Updates are multiples of
# the chunk size 3 so every run (and the resume test) reuses one compiled ``run(state, 3)``.
CASES = {
    "maze-dr": ([], 3, {"new"}),
    "maze-plr": (BUF, 6, {"new", "replay"}),
    "maze-robust-plr": (BUF, 6, {"new", "replay"}),
    "maze-accel": (BUF, 6, {"new", "replay", "mutate"}),
    "maze-sfl": (
        ["--sfl-num-sample", "8", "--sfl-num-keep", "4", "--sfl-refresh-every", "2"],
        3,
        {"new", "sfl"},
    ),
    "maze-archive": (["--archive-bins", "4"], 6, {"new", "replay", "archive"}),
}


def _rows(run_dir):
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _train(preset, run_dir, updates, extra=()):
    argv = [
        "train",
        preset,
        *TINY,
        "--num-updates",
        str(updates),
        "--chunk-size",
        str(updates),
        "--out",
        str(run_dir),
        *extra,
    ]
    assert cli.main(argv) == 0


class _Runs:
    """``runs[preset]``: the tiny run of ``preset`` (``CASES``), trained once per session (in
    whichever worker asks first) and copied for this module's tests in this worker."""

    def __init__(self, built_once, base):
        self.built_once, self.base, self.dirs = built_once, base, {}

    def __getitem__(self, preset):
        if preset not in self.dirs:
            extra, updates, _ = CASES[preset]
            self.dirs[preset] = self.built_once(
                f"test_cli-{preset}",
                lambda d: _train(preset, d, updates, extra),
                self.base / preset,
            )
        return self.dirs[preset]


@pytest.fixture(scope="module")
def runs(built_once, tmp_path_factory):
    return _Runs(built_once, tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("preset", list(CASES))
def test_every_preset_runs_every_branch(runs, preset):
    extra, updates, branches = CASES[preset]
    run_dir = runs[preset]
    rows = _rows(run_dir)
    assert [r["update"] for r in rows] == list(range(1, updates + 1))
    assert rows[-1]["env_steps"] == updates * 4 * 16
    # the curriculum logs its own branches, and each took at least one update
    logged = {k.split("/", 1)[1] for k in rows[-1] if k.startswith("branch/")}
    assert logged == branches, (preset, logged)
    ran = {b for b in logged if sum(r[f"branch/{b}"] for r in rows) > 0}
    assert ran == branches, (preset, ran)
    for key in (
        "replay_fraction",
        "score/mean",
        "level/shortest_path",
        "regret/true_replay",
        "score/replay",
        "rollout/finished_share",
        "ppo/loss",
    ):
        assert key in rows[-1], key
    if "replay" in branches:
        assert any(r["regret/true_replay"] is not None for r in rows)
    assert any(k.startswith("cur/") for k in rows[-1])
    assert "eval/validation_solve_rate" in rows[-1]  # final evaluation
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["preset"] == preset and cfg["num_updates"] == updates
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert {"git_commit", "packages", "device"} <= set(prov)
    assert (run_dir / "checkpoints" / f"ckpt_{updates:09d}.msgpack").exists()
    # the curriculum's levels at the (final) evaluation; DR holds none
    snap = run_dir / "levels" / f"levels_{updates:09d}.msgpack"
    assert snap.exists() == (preset != "maze-dr"), preset
    if preset == "maze-robust-plr":  # robust: only replayed levels train
        assert all(r["trained"] == int(r["branch/replay"] > 0) for r in rows)


def test_eval_prints_json_last_line(runs, capsys, tmp_path):
    run_dir = runs["maze-robust-plr"]
    assert cli.main(["eval", str(run_dir)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    res = json.loads(last)
    assert set(res["solve_rate"]) == {f"validation-{i}" for i in range(4)}
    assert 0.0 <= res["mean_solve_rate"] <= 1.0
    # the validation set is an object with its mean, interval and per-seed means, and the
    # stored eval.json is the printed line
    v = res["validation"]
    assert {"mean", "ci95", "per_seed"} <= set(v) and len(v["per_seed"]) == v["num_seeds"]
    assert v["mean"] == pytest.approx(np.mean(list(res["solve_rate"].values())))
    assert (run_dir / "eval.json").read_text().strip() == last
    lv = tmp_path / "levels.txt"
    lv.write_text(">.G\n...\n\n; a comment\n#.#\n>.G\n")
    assert cli.main(["eval", str(run_dir), "--levels", str(lv), "--attempts", "2"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(res["solve_rate"]) == ["level-0", "level-1"]
    bad = tmp_path / "bad.txt"
    bad.write_text(">.X\n")
    assert cli.main(["eval", str(run_dir), "--levels", str(bad)]) == 2


def test_plot_writes_files(runs):
    run_dir = runs["maze-accel"]
    assert cli.main(["plot", str(run_dir), "--gif"]) == 0
    names = {p.name for p in (run_dir / "plots").iterdir()}
    assert {"learning_curves.png", "curriculum.png", "top_levels.png", "agent.gif"} <= names
    assert "level_history.png" in names  # from the level snapshots


def test_plot_compare_writes_figure_and_rliable_table(runs, tmp_path, capsys):
    from experiments.figures import final_scores, iqm_interval

    a, b = runs["maze-accel"], runs["maze-robust-plr"]
    out = tmp_path / "cmp"
    assert cli.main(["plot", str(a), str(b), "--compare", "--out", str(out),
                     "--labels", "ACCEL", "PLR"]) == 0  # fmt: skip
    assert {p.name for p in out.iterdir()} == {"compare.png", "compare.md", "compare.json"}
    table = json.loads((out / "compare.json").read_text())
    assert [r["label"] for r in table["runs"]] == ["ACCEL", "PLR"]
    # the aggregate is rliable's IQM of the runs' final validation scores; one seed each, so
    # no interval is claimed (a bootstrap over one seed would only resample its levels)
    scores, _ = final_scores(str(a), "validation")
    iqm, lo, hi = iqm_interval({"ACCEL": scores})["ACCEL"]
    row = table["runs"][0]["validation"]
    assert row["iqm"] == pytest.approx(iqm) and row["seeds"] == 1
    assert row["ci95"] == [None, None]
    assert "(n=1 seed: no interval)" in (out / "compare.md").read_text()
    capsys.readouterr()
    assert cli.main(["plot", str(a), "--compare", "--out", str(out)]) == 2
    assert "two or more" in capsys.readouterr().err
    assert cli.main(["plot", str(a), str(b)]) == 2


def test_resume_continues_to_n_updates(runs, tmp_path):
    # an uninterrupted 6-update run vs 3 + resume to 6: same metrics (same key stream)
    d = tmp_path / "resumed"
    argv = [
        "train",
        "maze-robust-plr",
        *TINY,
        *BUF,
        "--num-updates",
        "3",
        "--chunk-size",
        "6",
        "--out",
        str(d),
    ]
    assert cli.main(argv) == 0
    assert cli.main(["train", "--resume", str(d), "--num-updates", "6"]) == 0
    a, b = _rows(d), _rows(runs["maze-robust-plr"])
    assert [r["update"] for r in a] == list(range(1, 7))
    for key in ("ppo/loss", "score/mean", "branch/replay", "rollout/num_episodes"):
        np.testing.assert_allclose(
            [np.nan if r[key] is None else r[key] for r in a],
            [np.nan if r[key] is None else r[key] for r in b],
            rtol=1e-5,
            err_msg=key,
        )
    assert json.loads((d / "config.json").read_text())["num_updates"] == 6
    # a corrupted newest checkpoint: resume falls back to the previous good one
    ckpts = sorted((d / "checkpoints").glob("ckpt_*.msgpack"))
    ckpts[-1].write_bytes(ckpts[-1].read_bytes()[:100])
    assert cli.main(["train", "--resume", str(d), "--num-updates", "6"]) == 0
    assert [r["update"] for r in _rows(d)] == list(range(1, 7))


def test_resume_after_an_interruption_writes_the_same_metrics_bytes(runs, tmp_path):
    """Evaluations fall on absolute updates: killed after the checkpoint at update 3 (not a
    multiple of --eval-every 6) and resumed, the run writes exactly the uninterrupted bytes.
    (Chunks of 3 and the maze-dr sizes of ``runs``: the compiled program is reused.)"""
    import shutil

    a, b = tmp_path / "a", tmp_path / "b"
    _train("maze-dr", a, 12, ["--eval-every", "6", "--chunk-size", "3", "--keep-checkpoints", "5"])
    shutil.copytree(a, b)
    for p in (b / "checkpoints").glob("*.msgpack"):
        if int(p.stem.split("_")[1]) > 3:
            p.unlink()  # as if the process died right after writing the checkpoint at 3
    assert cli.main(["train", "--resume", str(b), "--num-updates", "12"]) == 0
    assert (b / "metrics.jsonl").read_bytes() == (a / "metrics.jsonl").read_bytes()
    assert [r["update"] for r in _rows(a) if "eval/validation_solve_rate" in r] == [6, 12]


def test_num_seeds_vmapped_and_load_run(tmp_path, capsys):
    d = tmp_path / "seeds"
    _train("maze-dr", d, 3, ["--num-seeds", "2"])
    rows = _rows(d)
    assert isinstance(rows[-1]["ppo/loss"], list) and len(rows[-1]["ppo/loss"]) == 2
    run = load_run(d)
    assert run.metrics["ppo/loss"].shape == (3, 2)
    assert run.config["num_seeds"] == 2
    leaves = [np.asarray(x) for x in jax.tree.leaves(run.params)]
    assert leaves and all(x.shape[0] == 2 for x in leaves)  # a leading seed axis everywhere
    assert cli.main(["eval", str(d)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(res["per_seed_mean_solve_rate"]) == 2
    assert res["iqm_solve_rate"]["num_seeds"] == 2


def test_tensorboard_and_wandb_receive_the_metrics(tmp_path, monkeypatch):
    """``--log tensorboard,wandb`` sends every scalar of every logged update to both (fake
    modules stand in for the real packages, which are optional)."""
    import sys
    import types

    calls = {"tb": [], "tb_dir": None, "tb_closed": False, "wb": [], "wb_init": None}

    class Writer:
        def __init__(self, logdir):
            calls["tb_dir"] = logdir

        def add_scalar(self, tag, value, step):
            calls["tb"].append((tag, value, step))

        def close(self):
            calls["tb_closed"] = True

    class Run:
        def log(self, scalars, step):
            calls["wb"].append((dict(scalars), step))

        def finish(self):
            calls["wb_finished"] = True

    def init(**kw):
        calls["wb_init"] = kw
        return Run()

    monkeypatch.setitem(sys.modules, "tensorboardX", types.SimpleNamespace(SummaryWriter=Writer))
    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
    d = tmp_path / "logged"
    _train("maze-dr", d, 3, ["--log", "tensorboard,wandb"])
    rows = _rows(d)
    assert calls["tb_dir"] == str(d / "tensorboard") and calls["tb_closed"]
    assert calls["wb_init"]["config"]["log"] == ["tensorboard", "wandb"]
    assert calls.get("wb_finished")
    assert [s for _, s in calls["wb"]] == [r["update"] for r in rows]
    tb = {(tag, step): v for tag, v, step in calls["tb"]}
    for r in rows:
        assert tb[("ppo/loss", r["update"])] == pytest.approx(r["ppo/loss"])
        assert tb[("env_steps", r["update"])] == r["env_steps"]
    # an optional backend that is not installed is a clear error, not a silent no-op
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(RuntimeError, match="needs wandb"):
        _train("maze-dr", tmp_path / "nowandb", 3, ["--log", "wandb"])
    assert not list((tmp_path / "nowandb").iterdir())  # refused before writing anything


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "maze-dr", "--num-envs", "0"], "--num-envs: invalid value '0'; allowed: an integer >= 1"),
        (["train", "maze-dr", "--gamma", "2"], "--gamma: invalid value '2'; allowed: a number in [0.0, 1.0]"),
        (["train", "maze-nope"], "unknown preset 'maze-nope'; allowed: maze, maze-dr"),
        (["train", "maze-dr", "--gama", "0.9"], "unknown option --gama (did you mean --gamma?)"),
        (["train", "maze-dr", "--optimizer", "sgd"], "--optimizer: invalid value 'sgd'; allowed: one of adam, adam-rel"),
        (["train", "maze-dr", "--network", "big"], "--network: invalid value 'big'; allowed: one of maze"),
        (["train", "maze-dr", "--num-envs", "6", "--num-minibatches", "4"], "must divide --num-envs"),
        (["train", "maze-plr", "--duplicate-check", "maybe"], "--duplicate-check: invalid value"),
        (["train", "maze-dr", "--duplicate-check", "true"], "--duplicate-check: does not apply to --curriculum dr"),
        (["train", "maze-dr", "--num-students", "3"], "--num-students: does not apply to --curriculum dr"),
        (["train", "maze-paired", "--score", "learnability"], "--score: does not apply to --curriculum paired"),
        (["train", "maze-paired", "--curriculum", "dr"], "preset maze-paired is maze with --curriculum paired"),
        (["train"], "give a preset"),
        (["train", "maze-dr", "--resume", "x"], "takes no preset"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ],
)  # fmt: skip
def test_bad_overrides_give_clear_errors(argv, needle, capsys):
    assert cli.main(argv) == 2
    assert needle in capsys.readouterr().err


def test_resume_rejects_identity_changes(runs, capsys):
    rc = cli.main(["train", "--resume", str(runs["maze-dr"]), "--num-envs", "8"])
    assert rc == 2
    assert "cannot change --num-envs when resuming" in capsys.readouterr().err


def test_presets_have_published_defaults():
    cfg = U.make_config("maze-robust-plr")
    assert (cfg.num_envs, cfg.num_steps, cfg.lr, cfg.lr_anneal_updates) == (32, 256, 1e-4, 30000)
    assert (cfg.gamma, cfg.gae_lambda, cfg.num_epochs, cfg.num_minibatches) == (0.995, 0.98, 5, 1)
    assert (cfg.clip_eps, cfg.ent_coef, cfg.buffer_capacity, cfg.replay_prob) == (
        0.2, 1e-3, 4000, 0.8)  # fmt: skip
    assert (cfg.staleness_coef, cfg.temperature, cfg.n_walls) == (0.3, 0.3, 25)
    assert U.make_config("maze-accel").num_edits == 5
    assert U.make_config("maze-sfl").score == "learnability"
    assert U.make_config("maze-ncc").score == "learnability"
    assert set(U.presets()) == {
        "maze",
        "maze-dr",
        "maze-plr",
        "maze-robust-plr",
        "maze-accel",
        "maze-sfl",
        "maze-ncc",
        "maze-archive",
        "maze-paired",
        "maze-minimax",
        "maze-population-paired",
        "maze-demo",
        "keydoor",
        "keydoor-dr",
        "keydoor-plr",
        "keydoor-robust-plr",
        "keydoor-accel",
        "keydoor-sfl",
        "xland",
        "xland-dr",
        "xland-robust-plr",
        "xland-sfl",
        "craftax",
        "craftax-dr",
        "craftax-robust-plr",
        "craftax-accel",
        "craftax-sfl",
    }
    assert U.from_dict(U.to_dict(cfg)) == cfg


