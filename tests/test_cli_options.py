"""One option parser, one error style and one help layout for every ``openued`` command:
``openued --help``, each command's ``--help`` (every flag with its allowed values and default),
"did you mean" for unknown flags, bad values naming the flag and its range, and a SAMPLR preset
trained, evaluated, plotted and refused a resume change through ``openued train/eval/plot``.
Everything but the SAMPLR run fails or prints before anything is built."""

from __future__ import annotations

import json
import re

import pytest

from experiments import cli
from experiments import options as O
from experiments.kinds import hades as hades_kind
from experiments.kinds import synth as synth_kind

COMMANDS = [
    ["train"],
    ["train", "maze-accel"],
    ["train", "gamble-samplr"],
    ["eval"],
    ["plot"],
    ["hades", "train"],
    ["hades", "train", "cartpole"],
    ["hades", "eval"],
    ["hades", "plot"],
    ["synth", "train"],
    ["synth", "eval"],
    ["synth", "plot"],
]


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("openued: error: ") and "Traceback" not in err[0]
    return err[0]


def test_openued_help_lists_every_command(capsys):
    for argv, rc in (([], 2), (["--help"], 0), (["-h"], 0)):
        assert cli.main(argv) == rc
        out = capsys.readouterr()
        text = out.out + out.err
        for cmd in ("train", "eval", "plot", "hades", "synth"):
            line = next(x for x in text.splitlines() if x.strip().startswith(cmd + " "))
            assert len(line.split()) > 3, line  # a one-line description
        for preset in ("maze-robust-plr", "gamble-samplr", "lava-dr"):
            assert preset in text
    for sub in ("hades", "synth"):
        assert cli.main([sub, "--help"]) == 0
        text = capsys.readouterr().out
        assert all(c in text for c in ("train", "eval", "plot"))


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_help_lists_every_flag_with_allowed_values_and_default(argv, capsys):
    assert cli.main([*argv, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: openued ")
    flags = [x for x in text.splitlines() if x.startswith("  --")]
    assert flags, text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  --"):
            assert re.search(r"\[.+; default: .+\]$", lines[i + 1]), (line, lines[i + 1])


def test_train_help_lists_every_preset_and_the_preset_defaults(capsys):
    assert cli.main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    from experiments.kinds import kinds

    for preset in [p for k in kinds().values() if not k.group for p in k.presets()]:
        assert re.search(rf"^  {re.escape(preset)} +\S", text, re.M), preset
    assert "--fictitious" in text and "--maze-size" in text  # both kinds' options
    assert cli.main(["train", "gamble-samplr", "--help"]) == 0
    assert re.search(r"--num-steps INT\n .*default: 64\]", capsys.readouterr().out)
    assert cli.main(["hades", "train", "breakout", "--help"]) == 0
    assert re.search(r"--dataset-size INT\n .*default: 16\]", capsys.readouterr().out)


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["hades", "train", "cartpole", "--populaton", "8"],
         "unknown option --populaton (did you mean --population?)"),
        (["hades", "eval", "run", "--polices", "2"],
         "unknown option --polices (did you mean --policies?)"),
        (["synth", "train", "cartpole", "--generatons", "2"],
         "unknown option --generatons (did you mean --generations?)"),
        (["synth", "eval", "run", "--inits", "2", "--no-rael"],
         "unknown option --no-rael (did you mean --no-real?)"),
        (["train", "gamble-samplr", "--num-env", "4"],
         "unknown option --num-env (did you mean --num-envs,"),
        (["eval", "run", "--atempts", "2"], "unknown option --atempts (did you mean --attempts"),
        (["hades", "train", "cartpole", "--inner-lr", "0"],
         "--inner-lr: invalid value '0'; allowed: a number in (0, 10]"),
        (["hades", "train", "cartpole", "--activation", "soft"],
         "--activation: invalid value 'soft'; allowed: one of tanh"),
        (["hades", "eval", "run", "--policies", "0"],
         "--policies: invalid value '0'; allowed: an integer in [1, 4096]"),
        (["synth", "train", "cartpole", "--population", "1"],
         "--population: invalid value '1'; allowed: an integer in [2, 1048576]"),
        (["synth", "train", "cartpole", "--learners", "ppo", "sarsa"],
         "--learners: invalid value 'ppo,sarsa'; allowed: one or more of ppo, dqn, td3"),
        (["synth", "eval", "run", "--episodes", "many"],
         "--episodes: invalid value 'many'; allowed: an integer in [1, 4096]"),
        (["synth", "train", "cartpole", "--progress", "--log", "mlflow"],
         "--log: invalid value 'mlflow'; allowed: one or more of tensorboard, wandb"),
        (["train", "lava-samplr", "--fictitious", "some"],
         "--fictitious: invalid value 'some'; allowed: one of all, replay"),
        (["train", "lava-samplr", "--num-envs", "6", "--num-minibatches", "4"],
         "--num-minibatches 4 must divide --num-envs 6"),
        (["hades", "train", "cartpole", "--seed"], "--seed: expected a value"),
        (["train", "maze-plr", "--parallel", "maybe"],
         "--parallel: invalid value 'maybe'; allowed: true or false"),
        (["train", "maze-dr", "stray"], "unexpected argument 'stray'"),
        (["hades", "frobnicate"], "unknown command 'hades frobnicate'; allowed: train, eval, plot"),
    ],
)  # fmt: skip
def test_errors_name_the_flag_and_its_allowed_values(argv, needle, capsys, tmp_path):
    argv = [str(tmp_path / "run") if a == "run" else a for a in argv]
    assert cli.main(argv) == 2
    line = _one_error_line(capsys)
    assert needle in line, line
    assert not (tmp_path / "run").exists()


def test_one_parser_for_every_value_kind():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Opts:
        n: int = O.option(1, O.int_(0, 9), "n")
        x: float | None = O.option(None, O.optional(O.float_(0.0)), "x")
        on: bool = O.option(True, O.BOOL, "on", aliases={"--off": False})
        widths: tuple[int, ...] = O.option((4,), O.ints(1), "widths")
        out: str = O.option("", O.STR, "out", aliases={"-o": None})

    opts = O.Options(Opts, "prog", "summary", positionals=(("A", "a"),))
    pos, v = opts.parse(["a", "--n=3", "--x", "none", "--off", "--widths", "8", "8", "-o", "d"])
    assert pos == ["a"] and v == {"n": 3, "x": None, "on": False, "widths": (8, 8), "out": "d"}
    assert opts.parse(["--on", "false", "--widths", "1,2", "--widths", "3"])[1] == {
        "on": False,
        "widths": (1, 2, 3),
    }
    assert opts.parse(["--no-on", "--n", "0"])[1] == {"on": False, "n": 0}
    with pytest.raises(O.ConfigError, match="unexpected argument 'b'"):
        opts.parse(["a", "b"])
    with pytest.raises(
        O.ConfigError, match=r"--n: invalid value '-1'; allowed: an integer in \[0, 9\]"
    ):
        opts.parse(["--n", "-1"])
    with pytest.raises(O.ShowHelp, match="default: 4"):
        opts.parse(["--help"])


@pytest.fixture(scope="module")
def samplr_run(built_once, tmp_path_factory):
    def build(d):
        argv = ["train", "gamble-samplr", "--num-updates", "3", "--num-seeds", "2", "--num-envs",
                "4", "--num-steps", "8", "--num-minibatches", "1", "--buffer-capacity", "8",
                "--min-fill", "0", "--chunk-size", "3", "--no-progress", "--plot", "false",
                "--out", str(d)]  # fmt: skip
        assert cli.main(argv) == 0

    return built_once("test_cli_options-samplr", build, tmp_path_factory.mktemp("samplr") / "run")


def test_samplr_preset_through_openued_train_eval_plot(samplr_run, capsys):
    cfg = json.loads((samplr_run / "config.json").read_text())
    assert cfg["kind"] == "samplr" and cfg["preset"] == "gamble-samplr"
    assert cfg["num_updates"] == 3 and "experiment" not in cfg
    capsys.readouterr()
    assert cli.main(["eval", str(samplr_run), "--layouts", "4"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["env"] == "gamble-maze" and res["method"] == "samplr" and res["num_seeds"] == 2
    assert set(res["gamble_rate"]) == {"no_cue", "favourable", "unfavourable"}
    # maze-only options are refused on a SAMPLR run, naming the option and the run's kind
    assert cli.main(["eval", str(samplr_run), "--levels", "x.txt"]) == 2
    assert "--levels: applies to ued runs" in _one_error_line(capsys)
    assert cli.main(["plot", str(samplr_run)]) == 0
    assert (samplr_run / "plots" / "samplr_gamble-maze.png").stat().st_size > 1000


def test_samplr_resume_refuses_a_changed_option(samplr_run, capsys):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in samplr_run.rglob("*"))
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(samplr_run), "--num-envs", "8"]) == 2
    line = _one_error_line(capsys)
    assert "cannot change --num-envs when resuming" in line and "--num-updates" in line
    assert cli.main(["train", "--resume", str(samplr_run), "--num-updates", "2"]) == 2
    assert "already at update 3" in _one_error_line(capsys)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in samplr_run.rglob("*")) == before


def test_a_run_of_another_command_is_named(tmp_path, capsys):
    d = tmp_path / "hades-run"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"kind": "hades", "target": "cartpole"}))
    # eval and plot dispatch on the run's kind; train --resume names the group's command
    assert cli.main(["train", "--resume", str(d)]) == 2
    assert f"is a hades run; use: openued hades train --resume {d}" in _one_error_line(capsys)
    assert cli.main(["synth", "plot", str(d)]) == 2
    assert f"{d} is a hades run, not a synth run" in _one_error_line(capsys)


def test_es_modules_share_the_parser():
    assert isinstance(hades_kind.TRAIN_OPTIONS, O.Options)
    assert isinstance(synth_kind.TRAIN_OPTIONS, O.Options)
    assert not hasattr(hades_kind, "_FLAGS") and not hasattr(synth_kind, "_FLAGS")


def test_es_runs_get_the_run_layers_loggers_and_nan_stop(tmp_path, monkeypatch):
    """An ES trainer (unit ``generation``) on the one host loop sends every row to ``--log``
    backends and stops at a generation whose candidates all have a non-finite fitness, naming
    the newest checkpoint (a fake chunk function: nothing but the loop runs)."""
    import sys
    import types

    import jax.numpy as jnp
    from flax import struct

    from meta.es import ES_HEALTH
    from ued.host import HostConfig, TrainingDiverged, read_metrics, run_trainer

    @struct.dataclass
    class State:
        generation: jnp.ndarray

    def run(state, n):
        g = state.generation + 1 + jnp.arange(n)
        f = jnp.where(g >= 3, jnp.nan, 1.0).astype(jnp.float32)
        return State(state.generation + n), {"fitness_best": f, "fitness_mean": f}

    trainer = types.SimpleNamespace(
        init=lambda key: State(jnp.int32(0)), run=run, unit="generation", health=ES_HEALTH
    )
    logged = []

    class Writer:
        def __init__(self, logdir):
            pass

        def add_scalar(self, tag, value, step):
            logged.append((tag, step))

        def close(self):
            pass

    monkeypatch.setitem(sys.modules, "tensorboardX", types.SimpleNamespace(SummaryWriter=Writer))
    d = tmp_path / "es"
    host = HostConfig(5, chunk_size=1, checkpoint_every=1, progress=False,
                      log_backends=("tensorboard",), health=ES_HEALTH)  # fmt: skip
    with pytest.raises(TrainingDiverged, match="non-finite fitness_best at generation 3") as e:
        run_trainer(d, trainer, 5, config={"kind": "test"}, host=host, write=lambda m: None)
    assert e.value.checkpoint_unit == 2 and "ckpt_000000002" in str(e.value)
    assert [r["generation"] for r in read_metrics(d)] == [1, 2, 3]
    assert (d / "error.txt").exists()
    assert {s for tag, s in logged if tag == "fitness_mean"} == {1, 2}  # nan is not logged
