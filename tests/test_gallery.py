"""``openued gallery``: the commands it issues are valid ones at both sizes; it reuses a run only
when it trained it with the same settings, and writes over no file and no run it did not make;
``--docs`` regenerates exactly the figures committed under ``docs/`` (its manifest), the SAMPLR
ones from committed inputs.

The gallery's runs take minutes even with ``--small``, so most tests replace the command runner
with one that validates each ``train`` command exactly as ``openued train`` parses it and makes
a stand-in run directory, without training (``tests/test_smoke_branches.py`` trains the small
runs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from experiments import cli, gallery
from experiments.kinds import kinds

REPO = Path(__file__).resolve().parent.parent


class FakeOpenued:
    """Stands in for ``gallery._openued``: validates ``train`` commands, makes a run directory
    for them and a figure for ``plot``; records every command."""

    def __init__(self):
        self.issued: list[list[str]] = []

    def __call__(self, *argv):
        argv = [str(a) for a in argv]
        self.issued.append(argv)
        cmd = argv[2:] if argv[0] in ("hades", "synth") else argv
        if "train" in argv[:2]:
            group = argv[0] if argv[0] in ("hades", "synth") else ""
            preset, rest = (argv[2], argv[2:]) if group else (argv[1], argv[1:])
            kind = next(k for k in kinds().values()
                        if k.group == group and (group or preset in k.presets()))  # fmt: skip
            _, overrides = kind.train_options(preset, rest).parse(rest)
            kind.make_config(preset, overrides)  # raises ConfigError on a bad value
        if "--out" in cmd:
            out = Path(cmd[cmd.index("--out") + 1])
            out.mkdir(parents=True, exist_ok=True)
            if cmd[0] == "train" or argv[1:2] == ["train"]:
                (out / "config.json").write_text("{}")
            else:
                (out / "figure.png").write_bytes(b"png")
                (out / "cvar.png").write_bytes(b"png")

    def trained(self) -> list[str]:
        return [a[1] if a[0] == "train" else a[2] for a in self.issued if "train" in a[:2]]


@pytest.fixture
def fake(monkeypatch):
    f = FakeOpenued()
    monkeypatch.setattr(gallery, "_openued", f)
    return f


@pytest.mark.parametrize("small", [True, False], ids=["small", "full"])
def test_gallery_train_commands_are_valid(fake, tmp_path, small):
    argv = [str(tmp_path / "gal"), *(["--small"] if small else [])]
    assert gallery.main(argv) == 0
    trained = [a[1] for a in fake.issued if a[0] == "train"]
    assert {"maze-dr", "maze-robust-plr", "maze-accel", "maze-paired", "gamble-samplr"} <= set(
        trained
    )
    assert any(a[:2] == ["hades", "train"] for a in fake.issued)
    assert any(a[:2] == ["synth", "train"] for a in fake.issued)
    index = (tmp_path / "gal" / "index.md").read_text()
    assert "maze-dr/figure.png" in index and "compare/figure.png" in index


def test_gallery_reuses_a_run_only_when_made_with_the_same_settings(fake, tmp_path, capsys):
    out = tmp_path / "gal"
    names = [s.name for s in gallery.gallery_runs(True)]
    assert gallery.main([str(out), "--small"]) == 0
    assert fake.trained() == [s.train[1] if s.train[0] == "train" else s.train[2]
                              for s in gallery.gallery_runs(True)]  # fmt: skip
    fake.issued.clear()
    assert gallery.main([str(out), "--small"]) == 0  # the same settings: nothing trained
    assert fake.trained() == []
    assert any(a[0] == "plot" or a[1] == "plot" for a in fake.issued)  # but drawn again
    fake.issued.clear()
    capsys.readouterr()
    assert gallery.main([str(out)]) == 0  # full size after --small: every run trained again
    assert len(fake.trained()) == len(names)
    err = capsys.readouterr().err
    assert "maze-dr: training it again (the run there was made with other settings)" in err
    record = json.loads((out / "gallery.json").read_text())
    assert record["runs"]["maze-dr"]["settings"]["train"] == list(gallery.gallery_runs(False)[0].train)
    fake.issued.clear()
    assert gallery.main([str(out), "--seeds", "2"]) == 0  # other seeds: the maze runs again
    assert fake.trained()[:3] == ["maze-dr", "maze-robust-plr", "maze-accel"]


def test_gallery_trains_again_a_run_it_left_unfinished(fake, tmp_path, monkeypatch):
    out = tmp_path / "gal"
    real = fake.__call__

    def fail_on_accel(*argv):
        if "maze-accel" in map(str, argv) and "train" in map(str, argv):
            raise RuntimeError("interrupted")
        real(*argv)

    monkeypatch.setattr(gallery, "_openued", fail_on_accel)
    with pytest.raises(RuntimeError):
        gallery.main([str(out), "--small"])
    monkeypatch.setattr(gallery, "_openued", fake)
    fake.issued.clear()
    assert gallery.main([str(out), "--small"]) == 0
    assert fake.trained()[0] == "maze-accel"  # DR and robust PLR were finished: reused


def test_gallery_refuses_a_run_it_did_not_make(fake, tmp_path, capsys):
    out = tmp_path / "gal"
    user_run = out / "runs" / "maze-dr"
    user_run.mkdir(parents=True)
    (user_run / "config.json").write_text('{"num_updates": 2}')  # a user's tiny run
    assert cli.main(["gallery", str(out), "--small"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"openued: error: {user_run}: a run directory")
    assert "did not make" in err[0]
    assert fake.issued == []  # refused before training anything
    assert (user_run / "config.json").read_text() == '{"num_updates": 2}'


@pytest.mark.parametrize("path", ["index.md", "maze-dr/learning_curves.png", "gallery.json"])
def test_gallery_never_overwrites_a_file_it_did_not_write(fake, tmp_path, capsys, path):
    out = tmp_path / "gal"
    mine = out / path
    mine.parent.mkdir(parents=True)
    mine.write_text("the user's own")
    assert cli.main(["gallery", str(out), "--small"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"openued: error: {mine}") and "gallery" in err[0]
    assert mine.read_text() == "the user's own" and fake.issued == []


def test_gallery_rewrites_its_own_files_and_drops_stale_ones(fake, tmp_path):
    out = tmp_path / "gal"
    assert gallery.main([str(out), "--small"]) == 0
    stale = out / "maze-dr" / "old.png"
    stale.write_bytes(b"png")
    record = json.loads((out / "gallery.json").read_text())
    record["files"].append("maze-dr/old.png")  # as if an earlier gallery had drawn it
    (out / "gallery.json").write_text(json.dumps(record))
    assert gallery.main([str(out), "--small"]) == 0
    assert not stale.exists()
    assert "old.png" not in (out / "index.md").read_text()


def test_gallery_help_and_bad_options(capsys):
    assert cli.main(["gallery", "--help"]) == 0
    assert "--docs" in capsys.readouterr().out
    assert cli.main(["gallery", "--only", "samplr", "x"]) == 2
    assert "--only applies to --docs" in capsys.readouterr().err


def _committed_figures() -> set[str]:
    try:
        out = subprocess.run(["git", "ls-files", "docs/*.png", "docs/**/*.png"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        files = set(out.split())
    except (OSError, subprocess.CalledProcessError):
        files = set()
    if not files:  # not a git checkout: the files in the tree
        files = {str(p.relative_to(REPO)) for p in (REPO / "docs").rglob("*.png")}
    return files


def test_docs_manifest_is_the_committed_figures():
    manifest = gallery.docs_manifest()
    assert {f.path for f in manifest} == _committed_figures()
    assert len({f.path for f in manifest}) == len(manifest)
    for f in manifest:
        assert f.part in ("samplr", "notebooks", "paired", "cvar") and f.minutes > 0
        if f.part == "notebooks":
            assert (REPO / f.source).exists(), f.source


def test_docs_samplr_figures_come_from_committed_inputs(tmp_path):
    docs = tmp_path / "docs"
    (docs / "samplr").mkdir(parents=True)
    for p in (REPO / "docs" / "samplr").glob("*.json*"):  # the committed metrics and configs
        shutil.copy(p, docs / "samplr" / p.name)
    written = gallery.docs(only="samplr", docs_dir=docs)
    want = {tmp_path / f.path for f in gallery.docs_manifest() if f.part == "samplr"}
    assert set(written) == want
    for p in written:
        img = mpimg.imread(p)
        assert img.ndim == 3 and float(img[..., :3].var()) > 1e-4, p
    # every committed input the figures read is in the repository
    for f in gallery.docs_manifest():
        if f.part == "samplr":
            for src in (REPO).glob(f.source):
                assert src.stat().st_size > 1000, src


def test_docs_paired_figures_retrain_the_learning_checks(monkeypatch, tmp_path):
    issued = []

    def fake(*argv):
        argv = [str(a) for a in argv]
        issued.append(argv)
        out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else None
        if argv[0] == "train":
            out.mkdir(parents=True)
        elif argv[0] == "plot":
            out.mkdir(parents=True, exist_ok=True)
            for name in ("paired_curves.png", "teacher_levels.png", "learning_curves.png"):
                (out / name).write_bytes(f"{name} of {argv[1]}".encode())

    monkeypatch.setattr(gallery, "_openued", fake)
    docs = tmp_path / "docs"
    (docs / "samplr").mkdir(parents=True)
    written = gallery.docs(tmp_path / "runs", only="paired", docs_dir=docs)
    want = {f.path for f in gallery.docs_manifest() if f.part == "paired"}
    assert {str(p.relative_to(tmp_path)) for p in written} == want
    assert (docs / "figures" / "paired" / "maze-minimax_curves.png").read_bytes() == (
        f"paired_curves.png of {tmp_path / 'runs' / 'maze-minimax'}".encode()
    )
    trains = [a for a in issued if a[0] == "train"]
    assert [a[1] for a in trains] == ["maze-paired", "maze-minimax"]
    for a in trains:  # the settings of docs/learning-checks.md
        assert a[a.index("--num-updates") + 1] == "160" and a[a.index("--num-seeds") + 1] == "3"
        assert a[a.index("--eval-every") + 1] == "80"
    issued.clear()
    gallery.docs(tmp_path / "runs", only="paired", docs_dir=docs)
    assert not [a for a in issued if a[0] == "train"]  # the same settings: reused


def test_docs_refuses_a_runs_dir_holding_runs_it_did_not_make(monkeypatch, tmp_path):
    monkeypatch.setattr(gallery, "_openued", lambda *a: pytest.fail(f"ran {a}"))
    (tmp_path / "runs" / "maze-paired").mkdir(parents=True)
    docs = tmp_path / "docs"
    (docs / "samplr").mkdir(parents=True)
    with pytest.raises(gallery.O.ConfigError, match="maze-paired: a run directory"):
        gallery.docs(tmp_path / "runs", only="paired", docs_dir=docs)


def test_docs_cvar_figure_retrains_the_robustness_check(fake, tmp_path):
    docs = tmp_path / "docs"
    (docs / "samplr").mkdir(parents=True)
    written = gallery.docs(tmp_path / "runs", only="cvar", docs_dir=docs)
    assert [str(p.relative_to(tmp_path)) for p in written] == ["docs/figures/cvar/cvar.png"]
    trains = [a for a in fake.issued if a[0] == "train"]  # validated by the fake
    assert [a[1] for a in trains] == list(gallery.CVAR_CHECKS.values())
    for a in trains:  # the settings of docs/learning-checks.md
        assert a[a.index("--n-walls") + 1] == "60" and a[a.index("--num-seeds") + 1] == "3"
        assert a[a.index("--num-updates") + 1] == "4"
    evals = [a for a in fake.issued if a[0] == "eval"]
    assert len(evals) == 4 and all(a[a.index("--sample-levels") + 1] == "150" for a in evals)
    plot = next(a for a in fake.issued if a[0] == "plot")
    assert "--compare" in plot and plot[plot.index("--labels") + 1:][:4] == list(gallery.CVAR_CHECKS)
