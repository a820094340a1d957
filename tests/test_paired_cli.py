"""``openued train | eval | plot`` on the PAIRED presets (``maze-paired``, ``maze-minimax``,
``maze-population-paired``, ``--true-regret``), end to end in process on tiny sizes (7x7 mazes,
4 envs x 8 steps, small feed-forward student and teacher, 6 teacher steps): PAIRED's metrics
under their plain names in ``metrics.jsonl``, the protagonist evaluated, the PAIRED figures,
and a resumed PAIRED run writing the uninterrupted run's ``metrics.jsonl`` byte for byte.
Measured with an empty compile cache: 74 s of CPU time (91 s wall on the shared 2-core
machine at load 4-6); the resume test recompiles ``run`` (see the note in its docstring)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from curricula.paired_registration import PAIRED_METRICS
from experiments import cli
from experiments.kinds import ued as U
from experiments.kinds.ued_learner import ppo_settings

TINY = [
    "--num-envs", "4", "--num-steps", "8", "--maze-size", "7", "--n-walls", "5",
    "--network", "small-ff", "--max-episode-steps", "8", "--num-validation-levels", "4",
    "--eval-attempts", "2", "--num-epochs", "1", "--progress", "false", "--plot", "false",
    "--teacher-network", "small-ff", "--teacher-steps", "6", "--noise-dim", "4",
]  # fmt: skip
# chunks of 2 updates everywhere: each preset compiles one run(state, 2)
LONG = ["--num-updates", "4", "--chunk-size", "2", "--checkpoint-every", "2", "--eval-every", "2",
        "--keep-checkpoints", "5"]  # fmt: skip
SHORT = ["--num-updates", "2", "--chunk-size", "2", "--eval-every", "0"]
PLAIN = (
    "regret",
    "protagonist_return",
    "antagonist_return",
    "teacher_entropy",
    "level_path_length",
    "level_solvable",
    "level_walls",
)


def _rows(run_dir):
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _train(preset, run_dir, *extra):
    assert cli.main(["train", preset, *TINY, *extra, "--out", str(run_dir)]) == 0


@pytest.fixture(scope="module")
def paired_run(built_once, tmp_path_factory):
    dest = tmp_path_factory.mktemp("paired") / "run"
    return built_once("test_paired_cli-run", lambda d: _train("maze-paired", d, *LONG), dest)


def test_maze_paired_logs_plain_metric_names_and_snapshots_levels(paired_run):
    rows = _rows(paired_run)
    assert [r["update"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        for name in (*PLAIN, "teacher_reward", "teacher_loss", "antagonist_loss"):
            assert name in r, name
            assert f"cur/{name}" not in r  # one name per metric
        assert 0.0 <= r["level_solvable"] <= 1.0
        assert r["level_walls"] >= 0
        # estimated regret: the antagonist's max return - the protagonist's mean return
        assert r["regret"] == pytest.approx(r["antagonist_return"] - r["protagonist_return"])
        assert r["teacher_reward"] == r["regret"]
        if r["level_path_length"] is not None:  # null when no level of the batch is solvable
            assert r["level_path_length"] >= 1
    assert [r["update"] for r in rows if "eval/validation_solve_rate" in r] == [2, 4]
    cfg = json.loads((paired_run / "config.json").read_text())
    assert cfg["preset"] == "maze-paired" and cfg["curriculum"] == "paired"
    # the teacher's last levels at each evaluation
    snaps = sorted(p.name for p in (paired_run / "levels").iterdir())
    assert snaps == ["levels_000000002.msgpack", "levels_000000004.msgpack"]


def test_eval_evaluates_the_protagonist(paired_run, capsys):
    assert cli.main(["eval", str(paired_run)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["student"] == "protagonist"
    assert set(res["solve_rate"]) == {f"validation-{i}" for i in range(4)}
    assert res["update"] == 4 and 0.0 <= res["mean_solve_rate"] <= 1.0


def test_plot_writes_the_paired_figures(paired_run, capsys):
    assert cli.main(["plot", str(paired_run)]) == 0
    printed = capsys.readouterr().out.split()
    names = {p.name for p in (paired_run / "plots").iterdir()}
    assert {"learning_curves.png", "paired_curves.png", "teacher_levels.png"} <= names
    assert str(paired_run / "plots" / "teacher_levels.png") in printed


def test_paired_figures_from_data(paired_run):
    from experiments.figures import plot_paired_curves, plot_teacher_levels
    from ued.host import load_run

    run = load_run(paired_run)
    fig = plot_paired_curves(run.metrics, label="tiny")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert "Regret of the teacher's levels" in titles
    assert "Teacher's levels: shortest path (solvable only)" in titles
    for ax in fig.axes:
        if ax.get_visible():
            assert ax.get_xlabel() == "env steps" and ax.get_ylabel()
    grid = plot_teacher_levels(run.level_history(), max_rows=2, num_levels=3)
    rows = [ax.get_ylabel() for ax in grid.axes if ax.get_ylabel()]
    assert rows == ["update 2", "update 4"]
    assert plot_teacher_levels([]) is None
    # runs of make_train log the prefixed names: the curves read those too
    prefixed = {(f"cur/{k}" if k in PAIRED_METRICS else k): v for k, v in run.metrics.items()}
    fig = plot_paired_curves(prefixed, label="prefixed")
    ax = next(a for a in fig.axes if a.get_title() == "Teacher's levels: solvable")
    assert ax.get_lines()


def test_resume_writes_the_uninterrupted_metrics_bytes(paired_run, tmp_path):
    """Killed right after the checkpoint at update 2 and resumed to 4: the same bytes (the
    teacher, the antagonist and their optimisers are in the checkpoint). The resumed run
    compiles ``run`` again (~10 s): the restored ``TrainState.params`` leaves are strong-typed
    where the fresh state's are weak-typed, for every preset (a run-layer matter)."""
    b = tmp_path / "b"
    shutil.copytree(paired_run, b)
    for p in (b / "checkpoints").glob("*.msgpack"):
        if int(p.stem.split("_")[1]) > 2:
            p.unlink()
    shutil.rmtree(b / "plots", ignore_errors=True)
    assert cli.main(["train", "--resume", str(b), "--num-updates", "4"]) == 0
    assert (b / "metrics.jsonl").read_bytes() == (paired_run / "metrics.jsonl").read_bytes()


@pytest.mark.parametrize(
    "preset,extra,curriculum",
    [
        ("maze-minimax", [], "minimax"),
        ("maze-population-paired", [], "population-paired"),
        ("maze-paired", ["--true-regret"], "paired"),
    ],
    ids=["minimax", "population", "true_regret"],
)
def test_variants_train(tmp_path, preset, extra, curriculum):
    d = tmp_path / "run"
    _train(preset, d, *SHORT, *extra)
    rows = _rows(d)
    assert [r["update"] for r in rows] == [1, 2]
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["curriculum"] == curriculum
    for r in rows:
        for name in PLAIN:
            assert name in r, name
        assert r["teacher_entropy"] > 0
    if preset == "maze-minimax":  # no antagonist; the teacher gets -protagonist return
        assert all(r["antagonist_return"] is None for r in rows)
        assert all(r["teacher_reward"] == pytest.approx(-r["protagonist_return"]) for r in rows)
    elif preset == "maze-population-paired":
        assert cfg["num_students"] == 3
        assert all(r["antagonist_return"] is not None for r in rows)
    else:  # true regret: optimal return - the protagonist's mean return, no antagonist
        assert cfg["true_regret"] is True
        assert all(r["antagonist_return"] is None for r in rows)
        assert all(np.isfinite(r["regret"]) for r in rows)


def paired_config(cfg):
    """The PAIRED curriculum's static config a run of ``cfg`` builds."""
    from curricula.paired_registration import _paired_config

    variant = {"paired": "paired", "minimax": "minimax", "population-paired": "population"}
    return _paired_config(variant[cfg.curriculum], cfg, ppo_settings(cfg)[0])


def test_presets_have_published_settings():
    from curricula.paired import TEACHER_NETWORK

    for preset, variant in (
        ("maze-paired", "paired"),
        ("maze-minimax", "minimax"),
        ("maze-population-paired", "population"),
    ):
        cfg = U.make_config(preset)
        assert (cfg.lr, cfg.teacher_lr, cfg.gamma) == (1e-4, 1e-4, 0.995)
        assert (cfg.num_envs, cfg.num_steps, cfg.maze_size, cfg.n_walls) == (32, 256, 13, 25)
        assert (cfg.teacher_steps, cfg.noise_dim, cfg.teacher_max_walls) == (50, 50, None)
        pc = paired_config(cfg)
        assert pc.variant == variant and pc.teacher_network == TEACHER_NETWORK
        assert pc.noise_dim == 50 and pc.num_steps == 256
    assert paired_config(U.make_config("maze-paired")).students == 2
    assert paired_config(U.make_config("maze-minimax")).students == 1
    assert paired_config(U.make_config("maze-population-paired")).students == 3
    assert paired_config(U.make_config("maze-paired", {"true_regret": "true"})).students == 1
    # the registration says its student is the protagonist and where its levels come from
    from ued.registry import CURRICULA

    assert CURRICULA.get("minimax").student_name == "protagonist"
    assert CURRICULA.get("minimax").requires == ("editable",)
    assert CURRICULA.get("dr").student_name == "student"


def test_help_lists_the_paired_presets_and_options(capsys):
    assert cli.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("maze-paired", "maze-minimax", "maze-population-paired", "--true-regret",
                 "--num-students", "--teacher-lr", "--noise-dim", "--teacher-max-walls"):  # fmt: skip
        assert word in out, word
    assert cli.main(["train", "maze-population-paired", "--help"]) == 0
    assert "default: 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["maze-minimax", "--true-regret"], "--true-regret: does not apply to --curriculum minimax"),
        (["maze-paired", "--num-students", "3"], "--num-students: --curriculum paired"),
        (["maze-population-paired", "--num-students", "1"], "needs >= 2"),
        (["maze-paired", "--num-students", "0"], "--num-students: invalid value '0'"),
        (["maze-paired", "--teacher-lr", "0"], "--teacher-lr: invalid value '0'"),
        (["maze-paired", "--noise-dim", "-1"], "--noise-dim: invalid value '-1'"),
        (["maze-paired", "--teacher-network", "huge"], "--teacher-network: invalid value"),
        (["maze-paired", "--teacher-max-walls", "500"], "--teacher-max-walls: must be <="),
    ],
)
def test_bad_paired_options_give_clear_errors(argv, needle, capsys):
    assert cli.main(["train", *argv]) == 2
    assert needle in capsys.readouterr().err


def _check_rows(n=20, k=3):
    """Golden metrics for the learning check: seed s's path length rises by (s + 1) steps per
    100 updates, solvable share 0.6 + 0.1 s, protagonist solve rate 0.25 (NaN on one update)."""
    rows = []
    for u in range(1, n + 1):
        rows.append({
            "update": u, "env_steps": 8192 * u,
            "level_path_length": [5.0 + (s + 1) * u / 100 for s in range(k)],
            "level_solvable": [0.6 + 0.1 * s for s in range(k)],
            "cur/level/solve_rate": [None if u == n else 0.25] * k,
            "regret": [0.1] * k,
        })  # fmt: skip
    return rows


def test_paired_learning_check_golden():
    from experiments.report import paired_learning_check

    r = paired_learning_check(_check_rows())
    assert r["updates"] == 20 and r["seeds"] == 3 and r["warmup_updates"] == 10
    assert r["env_steps_per_student"] == 8192 * 20
    slope = r["path_length_slope_per_100_updates"]
    np.testing.assert_allclose(slope["per_seed"], [1.0, 2.0, 3.0], rtol=1e-9)
    # t interval over 3 seeds: 2 +- t(0.975, 2) * 1 / sqrt(3)
    np.testing.assert_allclose(slope["ci95"], [2 - 4.302653 / 3**0.5, 2 + 4.302653 / 3**0.5],
                               rtol=1e-5)  # fmt: skip
    assert slope["passes"] is False  # its interval reaches below 0
    np.testing.assert_allclose(r["solvable_after_warmup"]["per_seed"], [0.6, 0.7, 0.8])
    assert r["solvable_after_warmup"]["passes"] is True
    pro = r["protagonist_solve_rate_after_warmup"]
    assert pro["per_seed"] == [0.25] * 3 and pro["passes"] is True
    falling = [
        {**row, "level_path_length": [9.0 - row["update"] / 10] * 3} for row in _check_rows()
    ]
    assert paired_learning_check(falling)["path_length_slope_per_100_updates"]["passes"] is False
    with pytest.raises(ValueError, match="at least 4 updates"):
        paired_learning_check(_check_rows(3))
    # a minimax run logs no regret (no antagonist): null, not NaN, in the JSON
    nan_regret = [{**row, "regret": [None] * 3} for row in _check_rows()]
    assert paired_learning_check(nan_regret)["first_vs_last_tenth"]["regret"] == [None, None]


@pytest.mark.slow
def test_learning_check_maze_paired(tmp_path):
    """The PAIRED learning check: ``maze-paired`` at its published settings, 3 seeds vmapped,
    ``OPENUED_PAIRED_UPDATES`` updates (default 160: 1.3M env steps per student per seed, about
    an hour on 2 cores); ``OPENUED_PAIRED_PRESET`` picks another preset (``maze-minimax``, whose
    levels are expected to become unsolvable). The numbers are written to
    ``OPENUED_LEARNING_REPORT`` when set, and the three checks of
    :func:`experiments.report.paired_learning_check` must pass."""
    import os

    from experiments.report import paired_learning_check

    preset = os.environ.get("OPENUED_PAIRED_PRESET", "maze-paired")
    updates = os.environ.get("OPENUED_PAIRED_UPDATES", "160")
    out = tmp_path / preset
    argv = ["train", preset, "--num-seeds", "3", "--num-updates", updates, "--eval-every", "80",
            "--checkpoint-every", "40", "--progress", "false", "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    r = paired_learning_check(out)
    path = os.environ.get("OPENUED_LEARNING_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump({"preset": preset, **r}, f, indent=1)
    checks = ("path_length_slope_per_100_updates", "solvable_after_warmup",
              "protagonist_solve_rate_after_warmup")  # fmt: skip
    assert all(r[c]["passes"] for c in checks), {c: r[c] for c in checks}


def test_paired_curves_name_the_teachers_reward():
    from experiments.figures import plot_paired_curves

    rows = _check_rows()
    paired = [{**r, "teacher_reward": r["regret"]} for r in rows]
    fig = plot_paired_curves(paired, label="p")
    first = next(a for a in fig.axes if a.get_title().startswith("Regret"))
    # the teacher's reward is the regret: one series, not two on top of each other
    labels = [ln.get_label() for ln in first.lines if not ln.get_label().startswith("_")]
    assert labels == ["regret estimate = teacher's reward"]
    minimax = [{**r, "regret": [None] * 3, "teacher_reward": [-0.2] * 3} for r in rows]
    fig = plot_paired_curves(minimax, label="m")
    assert fig._suptitle.get_text().startswith("Minimax adversary")
    assert any(a.get_title().startswith("Teacher's reward") for a in fig.axes)
