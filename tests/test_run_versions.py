"""Versioned runs: ``config.json`` and every checkpoint carry the run format; runs written by
the format-1 tree (``tests/fixtures/runs_v1``, see its README) still ``eval`` and ``plot``, and
``--resume`` refuses them in one line naming both versions; the runs committed under
``docs/`` keep loading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from experiments import cli
from experiments.kinds import stored_run
from ued.host import (
    FORMAT_VERSION,
    checkpoint_format,
    list_checkpoints,
    load_latest_checkpoint,
    save_checkpoint,
)

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "tests" / "fixtures" / "runs_v1"


@pytest.fixture
def v1(tmp_path):
    d = tmp_path / "v1"
    shutil.copytree(V1, d)
    return d


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("openued: error: "), err
    return err[0]


def test_format_1_runs_are_read_as_their_kinds(v1):
    kinds = {name: stored_run(v1 / name)[0].name for name in ("maze", "hades", "synth")}
    assert kinds == {"maze": "ued", "hades": "hades", "synth": "synth"}
    _, cfg = stored_run(v1 / "maze")
    assert (cfg.space, cfg.curriculum, cfg.buffer_capacity) == ("maze", "robust-plr", 8)
    _, cfg = stored_run(v1 / "synth")
    assert cfg.synth_kind == "scb"  # format 1 stored it as the run's "kind"
    for name in ("maze", "hades", "synth"):
        assert {checkpoint_format(p) for _, p in list_checkpoints(v1 / name)} == {1}


def test_a_format_1_maze_run_evaluates_as_it_did_and_plots(v1, capsys):
    assert cli.main(["eval", str(v1 / "maze")]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    then = json.loads((V1 / "maze_eval_v1.json").read_text())
    assert res["solve_rate"] == then["solve_rate"] and res["mean_return"] == then["mean_return"]
    assert cli.main(["plot", str(v1 / "maze")]) == 0
    names = {p.name for p in (v1 / "maze" / "plots").iterdir()}
    assert {"learning_curves.png", "curriculum.png", "top_levels.png"} <= names


def test_format_1_es_runs_evaluate_and_plot(v1, capsys):
    assert cli.main(["hades", "eval", str(v1 / "hades"), "--policies", "2", "--episodes",
                     "1"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["dataset_size"] == 2
    assert cli.main(["hades", "plot", str(v1 / "hades")]) == 0
    assert cli.main(["synth", "plot", str(v1 / "synth")]) == 0
    assert (v1 / "synth" / "meta_training.png").exists()


@pytest.mark.parametrize(
    "name,argv",
    [
        ("maze", ["train", "--resume", "{d}", "--num-updates", "6"]),
        ("hades", ["hades", "train", "--resume", "{d}", "--generations", "3"]),
        ("synth", ["synth", "train", "--resume", "{d}", "--generations", "3"]),
    ],
)
def test_resume_of_a_format_1_run_is_refused_naming_both_versions(v1, capsys, name, argv):
    d = v1 / name
    before = sorted((p.name, p.stat().st_mtime_ns) for p in d.rglob("*"))
    capsys.readouterr()
    assert cli.main([a.format(d=d) for a in argv]) == 2
    line = _one_error_line(capsys)
    assert f"format 1; this openued writes format {FORMAT_VERSION}" in line, line
    assert "eval and plot still read it" in line
    assert sorted((p.name, p.stat().st_mtime_ns) for p in d.rglob("*")) == before


def test_checkpoints_carry_the_run_format(tmp_path):
    save_checkpoint(tmp_path, 3, {"x": 1})
    (_, path), = list_checkpoints(tmp_path)
    assert checkpoint_format(path) == FORMAT_VERSION
    assert load_latest_checkpoint(tmp_path)[0] == 3


def test_committed_docs_runs_keep_loading():
    """The SAMPLR runs committed under docs/ (config and metrics, format 1) read as samplr
    runs, and their figures draw from the metrics."""
    from ued.host import metrics_to_arrays

    found = sorted((ROOT / "docs" / "samplr").glob("*.config.json"))
    assert found
    for cfg_path in found:
        from experiments.kinds import kind_of_config, kinds

        raw = json.loads(cfg_path.read_text())
        kind = kinds()[kind_of_config(raw)]
        cfg = kind.from_dict(kind.migrate(raw))
        assert kind.name == "samplr" and cfg.preset == cfg_path.name.split(".")[0]
        rows = [json.loads(x) for x in cfg_path.with_name(
            cfg_path.name.replace(".config.json", ".metrics.jsonl")).read_text().splitlines()]
        assert metrics_to_arrays(rows)["update"][-1] == cfg.num_updates  # thinned rows
