"""Smoke sizes exercise what they show: every branch a curriculum logs (``branch/<name>`` in a
run's ``metrics.jsonl``: levels per update from that branch; each curriculum logs only its own)
takes levels in at least one update, in every seed, in each small run ``openued gallery
--small`` makes and in each curriculum run the notebooks make at ``SMALL=1``. Otherwise a smoke
run's figures would show a robust PLR that never replays and an ACCEL that never mutates.

Training them all takes minutes on 2 cores, so the default suite trains one: the smallest
version of the gallery's ACCEL run (its own command with a feed-forward student, 8-step
rollouts and no evaluation: the curriculum's choices of new, replayed and mutated levels are
the gallery run's, update by update; ``test_gallery_small_end_to_end`` checks that), whose
branches are every buffer branch; and it checks from the gallery's small settings that every
buffer curriculum may replay after its first update. The ``slow`` tests (``pytest -m slow
tests/test_smoke_branches.py``) read the metrics of every real small gallery run and of the
notebooks' runs at ``SMALL=1``; the notebooks also assert it in a cell, which CI runs at
``SMALL=1`` (``.ci/run``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import gallery
from experiments.cli import main as openued

REPO = Path(__file__).resolve().parent.parent


def unused_branches(run_dir: Path) -> dict[str, list[int]]:
    """``{branch: seeds (0-based) in which it took no level}`` from ``run_dir/metrics.jsonl``;
    empty when every branch took levels in every seed. A run that logs no branch fails."""
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    keys = sorted({k for r in rows for k in r if k.startswith("branch/")})
    assert keys, f"{run_dir}: no branch/<name> column in metrics.jsonl"
    out = {}
    for k in keys:
        counts = np.array([np.atleast_1d(np.asarray(r[k], float)) for r in rows if k in r])
        per_seed = np.nansum(counts, axis=0)  # (seeds,)
        idle = [int(i) for i in np.flatnonzero(per_seed <= 0)]
        if idle:
            out[k[len("branch/"):]] = idle
    return out


def test_unused_branches_reads_every_seed(tmp_path):
    rows = [{"update": 1, "branch/new": [4, 4], "branch/replay": [0, 0]},
            {"update": 2, "branch/new": [0, 4], "branch/replay": [4, 0]}]  # fmt: skip
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert unused_branches(tmp_path) == {"replay": [1]}
    rows[1]["branch/replay"] = [4, 4]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert unused_branches(tmp_path) == {}


CURRICULUM_RUNS = [s for s in gallery.gallery_runs(small=True) if s.train[0] == "train"]
SPECS = {s.name: s for s in CURRICULUM_RUNS}


def smallest(spec: gallery.GalleryRun) -> list[str]:
    """``spec``'s train command with the cheapest student that keeps its curriculum's choices:
    a feed-forward net, 8-step rollouts, no evaluation (maze runs; SAMPLR runs keep theirs)."""
    argv, out, i = list(spec.train), [], 0
    maze = spec.train[1].startswith("maze")
    shrink = {"--network": "small-ff", "--num-steps": "8", "--num-validation-levels": "0"}
    while i < len(argv):
        a = argv[i]
        if maze and a in ("--eval-every", "--eval-at-start"):
            i += 1 if a == "--eval-at-start" else 2
            continue
        if maze and a in shrink:
            out += [a, shrink[a]]
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def branch_columns(run_dir: Path) -> dict[str, dict[int, list]]:
    """``{branch/<name>: {update: per-seed levels}}`` of the training updates of a run."""
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    return {k: {r["update"]: r[k] for r in rows if r.get(k) is not None}
            for k in sorted({k for r in rows for k in r if k.startswith("branch/")})}  # fmt: skip


def test_gallery_small_sizes_let_every_buffer_curriculum_replay():
    from experiments.kinds import kinds

    for spec in CURRICULUM_RUNS:
        preset, rest = spec.train[1], list(spec.train[1:])
        kind = next(k for k in kinds().values() if preset in k.presets() and not k.group)
        _, overrides = kind.train_options(preset, rest).parse(rest)
        cfg = kind.make_config(preset, overrides)
        if not hasattr(cfg, "buffer_capacity") or preset in ("maze-dr", "maze-paired"):
            continue
        # the buffer holds min_fill x capacity levels after the first update, and there are
        # updates left for replays (and ACCEL's mutations of them)
        assert np.ceil(cfg.min_fill * cfg.buffer_capacity) <= cfg.num_envs, spec.name
        assert cfg.replay_prob > 0 and cfg.num_updates >= 6, spec.name


def test_gallery_small_accel_takes_every_branch(tmp_path):
    out = tmp_path / "maze-accel"
    assert openued([*smallest(SPECS["maze-accel"]), "--out", str(out)]) == 0
    assert set(branch_columns(out)) == {"branch/new", "branch/replay", "branch/mutate"}
    assert unused_branches(out) == {}


def _run_notebooks(tmp_path: Path, which: list[str]) -> tuple[Path, Path]:
    runs, figs = tmp_path / "runs", tmp_path / "figs"
    env = {**os.environ, "SMALL": "1", "RUN_ROOT": str(runs), "FIG_DIR": str(figs)}
    subprocess.run([sys.executable, str(REPO / "notebooks" / "run.py"), *which, "--out",
                    str(tmp_path / "executed")], env=env, check=True, cwd=REPO)  # fmt: skip
    return runs, figs


@pytest.mark.slow
def test_notebook_curriculum_runs_take_every_branch(tmp_path):
    """Notebooks 01 and 02 at SMALL=1 (about 2-5 minutes on 2 cores)."""
    runs, figs = _run_notebooks(tmp_path, ["01", "02"])
    dirs = [p.parent for p in runs.rglob("metrics.jsonl")]
    assert {d.name for d in dirs} == {"dr", "robust-plr", "accel", "map-elites", "maze-dr",
                                      "maze-robust-plr", "maze-accel"}  # fmt: skip
    for d in dirs:
        assert unused_branches(d) == {}, d
    # they drew the figures the docs show (under FIG_DIR, never under docs/)
    want = {f for f in gallery.NOTEBOOK_FIGURES if f[:2] in ("01", "02")}
    assert {str(p.relative_to(figs)) for p in figs.rglob("*.png")} == want


@pytest.mark.slow
def test_notebook_figures_are_the_docs_manifest(tmp_path):
    """All three notebooks at SMALL=1 (about 3-6 minutes on 2 cores): the files they draw are
    the ones ``openued gallery --docs`` copies into docs/figures/notebooks/."""
    _, figs = _run_notebooks(tmp_path, [])
    assert {str(p.relative_to(figs)) for p in figs.rglob("*.png")} == set(gallery.NOTEBOOK_FIGURES)


@pytest.mark.slow
def test_gallery_small_end_to_end(tmp_path):
    """``openued gallery OUT --small`` for real (about 5-8 minutes on 2 cores): every branch of
    every curriculum run takes levels; the smallest versions the default suite trains make the
    same choices, update by update; every figure is in the index; a second call trains
    nothing."""
    out = tmp_path / "gal"
    assert openued(["gallery", str(out), "--small"]) == 0
    for spec in CURRICULUM_RUNS:
        real = out / "runs" / spec.name
        assert unused_branches(real) == {}, spec.name
        small = tmp_path / "smallest" / spec.name
        assert openued([*smallest(spec), "--out", str(small)]) == 0
        assert branch_columns(small) == branch_columns(real), spec.name
    index = (out / "index.md").read_text()
    pictures = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                      if p.suffix in (".png", ".gif") and "runs" not in p.parts)  # fmt: skip
    assert pictures and all(f"![{p}]({p})" in index for p in pictures)
    # robust PLR and ACCEL differ now that they replay and mutate
    import matplotlib.image as mpimg

    a = mpimg.imread(out / "maze-robust-plr" / "curriculum.png")
    b = mpimg.imread(out / "maze-accel" / "curriculum.png")
    assert a.shape != b.shape or not np.array_equal(a, b)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("metrics.jsonl")}
    assert openued(["gallery", str(out), "--small"]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # reused, not trained again
