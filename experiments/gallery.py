"""``openued gallery``: every figure, made from scratch by today's code.

    openued gallery OUT_DIR [--small] [--notebooks] [--seeds K]
    openued gallery --docs [RUNS_DIR] [--only samplr|notebooks|paired|cvar]

``OUT_DIR``: it trains small runs of the maze curricula, PAIRED, a SAMPLR preset, HaDES and a
synthetic environment (:func:`gallery_runs`), draws each with ``openued plot``, compares the
maze curricula with ``openued plot --compare`` and, with ``--notebooks``, executes the three
notebooks with their figures under ``OUT_DIR/notebooks``; ``OUT_DIR/index.md`` lists the
figures. ``--small`` gives smoke-sized runs (minutes; the figures then show noise, not
learning), sized so that every branch of every curriculum takes updates. The gallery records
in ``OUT_DIR/gallery.json`` the settings it trained each run with and the files it wrote: a
later call reuses a run only when its settings are the same (else it trains it again), and it
refuses, in one line, to write over a file or run directory it did not make.

``--docs``: every figure committed under ``docs/`` (:func:`docs_manifest` lists them without
running anything), written there. The SAMPLR figures come from the committed metrics of their
runs (``docs/samplr/PRESET.metrics.jsonl`` and ``.config.json``) in seconds; the notebooks'
figures from the three notebooks at full size (about 45 minutes on a 2-core CPU); the PAIRED
figures from the learning-check runs of ``docs/learning-checks.md``, retrained at their
published settings (``maze-paired`` and ``maze-minimax``, 3 seeds, 160 updates: about 55 and
50 minutes on a 2-core CPU); the CVaR figure from the four 13x13, 60-wall runs of the
robustness check (SFL, DR, robust PLR, NCC; 3 seeds, 4 updates, each evaluated on 150
sampled levels: about 60 minutes on a 2-core CPU). Their runs go under ``RUNS_DIR`` (default ``runs/docs`` in the
repository), with the same record as ``OUT_DIR``'s, so a second call reuses them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from experiments import options as O

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
RECORD = "gallery.json"

# the README's demo sizes: a 7x7 maze a 2-core CPU learns in a few minutes
DEMO = {"--maze-size": "7", "--n-walls": "6", "--max-episode-steps": "64", "--num-steps": "64",
        "--lr": "3e-4", "--network": "small-lstm"}  # fmt: skip
# smoke size: rollouts as long as an episode (a shorter one finishes only the quickly solved
# episodes, and the training solve rate reads 1), few levels and evaluation levels
TINY = {"--num-envs": "4", "--num-steps": "32", "--max-episode-steps": "32",
        "--num-validation-levels": "8", "--eval-attempts": "2"}  # fmt: skip


def _flags(*groups: dict) -> tuple[str, ...]:
    """``--flag value`` pairs of the option dicts (``None``: a flag without value), later
    ones overriding earlier ones."""
    merged: dict = {}
    for g in groups:
        merged.update(g)
    return tuple(x for k, v in merged.items() for x in ((k,) if v is None else (k, v)))


def buffer_sizes(small: bool, num_envs: int) -> dict[str, str]:
    """Options of a curriculum's level buffer that let it replay (and ACCEL mutate) early in
    a run: the buffer may replay once it holds ``min_fill x capacity`` levels, here one update
    of ``num_envs`` new levels (smoke size) or four (full size). Published capacities (4000
    for the maze, 1000 for SAMPLR) would keep a smoke run on new levels only."""
    capacity = 2 * num_envs if small else 8 * num_envs
    return {"--buffer-capacity": str(capacity), "--min-fill": "0.5"}


@dataclasses.dataclass(frozen=True)
class GalleryRun:
    """One run of the gallery: ``train`` is its ``openued`` command without ``--out`` (with
    the group first: ``hades train ...``), ``evaluate`` whether ``openued eval`` follows,
    ``plot`` extra options of its ``openued plot``."""

    name: str
    train: tuple[str, ...]
    evaluate: bool = False
    plot: tuple[str, ...] = ()
    eval_args: tuple[str, ...] = ()

    @property
    def group(self) -> tuple[str, ...]:
        return self.train[:1] if self.train[0] in ("hades", "synth") else ()

    def settings(self) -> dict:
        """What the run was made with; a run is reused only when these are the same."""
        out = {"train": list(self.train), "evaluate": self.evaluate}
        if self.eval_args:
            out["eval_args"] = list(self.eval_args)
        return out


def gallery_runs(small: bool, seeds: int = 3) -> list[GalleryRun]:
    """The gallery's runs at one size, in the order it makes them (no side effects)."""
    updates = 8 if small else 300
    size = {**DEMO, **(TINY if small else {})}
    envs = 4 if small else 32
    seeded = {"--num-seeds": str(seeds), "--no-progress": None, "--no-plot": None}
    runs = []
    for preset in ("maze-dr", "maze-robust-plr", "maze-accel"):
        buf = buffer_sizes(small, envs) if preset != "maze-dr" else {}
        sched = {"--num-updates": str(updates), "--eval-every": "2" if small else "50",
                 "--eval-at-start": None}  # fmt: skip
        argv = ("train", preset, *_flags(size, buf, sched, seeded))
        runs.append(GalleryRun(preset, argv, True, ("--gif",) if preset == "maze-accel" else ()))
    # PAIRED on the demo's 7x7 mazes: a teacher of 20 edits with the small feed-forward net
    # (the published teacher, conv 128 + LSTM 256 over 50 edits, is sized for 13x13 and hours)
    paired = {"--num-updates": "4" if small else "150", "--eval-every": "2" if small else "50",
              "--teacher-steps": "20", "--teacher-network": "small-ff"}  # fmt: skip
    runs.append(GalleryRun("maze-paired", ("train", "maze-paired",
                                           *_flags(size, paired, seeded))))  # fmt: skip
    samplr = {"--num-updates": "6" if small else "200", "--no-progress": None, "--no-plot": None}
    if small:
        samplr.update({"--num-envs": "4", "--num-steps": "16", **buffer_sizes(True, 4)})
    runs.append(GalleryRun("gamble-samplr", ("train", "gamble-samplr", *_flags(samplr))))
    runs.append(GalleryRun("hades-cartpole", (
        "hades", "train", "cartpole", "--no-progress", "--no-plot",
        *(("--generations", "2", "--population", "8", "--eval-policies", "2",
           "--eval-episodes", "1") if small else ()))))  # fmt: skip
    runs.append(GalleryRun("synth-cartpole", (
        "synth", "train", "cartpole", "--no-progress",
        *(("--generations", "2", "--population", "4", "--inner-steps", "64")
          if small else ("--generations", "60")))))  # fmt: skip
    return runs


# ----------------------------------------------------------------------------- the record


def _load_record(path: Path) -> dict:
    """The gallery's record in ``path`` (empty when absent); a file of that name the gallery
    did not write is refused."""
    if not path.exists():
        return {"made_by": "openued gallery", "runs": {}, "files": []}
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        rec = None
    if not isinstance(rec, dict) or rec.get("made_by") != "openued gallery":
        raise O.ConfigError(f"{path} was not written by openued gallery; move it away or "
                            "choose another directory")  # fmt: skip
    return rec


def _save_record(path: Path, rec: dict) -> None:
    from ued.host import write_json

    write_json(path, rec)


def _foreign(path: Path, record: Path, what: str = "file") -> O.ConfigError:
    return O.ConfigError(
        f"{path}: a {what} openued gallery did not make (not in {record}); it writes no file "
        "and reuses no run it did not make itself: move it away or choose another directory"
    )


def _owned_files(root: Path, rec: dict) -> set[str]:
    return {str(root / f) for f in rec.get("files", [])}


def _check_foreign(root: Path, rec: dict, dirs: list[str], run_root: Path, runs: list[str],
                   extra_files: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Refuse, before anything is trained, when a figure directory holds a file, or the run
    directory a run, the gallery did not make."""
    owned = _owned_files(root, rec)
    record = root / RECORD
    for d in dirs:
        if (root / d).exists():
            for p in sorted((root / d).rglob("*")):
                if p.is_file() and str(p) not in owned:
                    raise _foreign(p, record)
    for f in extra_files:
        if (root / f).exists() and str(root / f) not in owned:
            raise _foreign(root / f, record)
    for name in runs:
        if (run_root / name).exists() and name not in rec.get("runs", {}):
            raise _foreign(run_root / name, record, "run directory")


def _openued(*argv) -> None:
    """One ``openued`` command (train, eval, plot; ``hades``/``synth`` ones) in this process."""
    import functools

    from experiments import commands as C
    from experiments.errors import run_command

    argv = [str(a) for a in argv]
    fns = {"train": C.cmd_train, "eval": C.cmd_eval, "plot": C.cmd_plot}
    if argv[0] in ("hades", "synth"):
        fn, rest = functools.partial(fns[argv[1]], group=argv[0]), argv[2:]
    else:
        fn, rest = fns[argv[0]], argv[1:]
    with contextlib.redirect_stdout(io.StringIO()):
        rc = run_command(fn, rest)
    if rc != 0:
        raise RuntimeError(f"openued {' '.join(map(str, argv))} exited with {rc}")


def _ensure_run(spec: GalleryRun, run_root: Path, rec: dict, record: Path) -> Path:
    """Train ``spec`` into ``run_root/name`` unless the record says a finished run with the
    same settings is there; a run of the gallery's made with other settings (or left
    unfinished) is removed and trained again."""
    d = run_root / spec.name
    old = rec["runs"].get(spec.name)
    if d.exists() and old is not None:
        if old.get("settings") == spec.settings() and old.get("complete"):
            return d
        why = "left unfinished" if old.get("settings") == spec.settings() else \
            "made with other settings"  # fmt: skip
        print(f"gallery: {spec.name}: training it again (the run there was {why})",
              file=sys.stderr)  # fmt: skip
        shutil.rmtree(d)
    rec["runs"][spec.name] = {"settings": spec.settings(), "complete": False}
    _save_record(record, rec)
    _openued(*spec.train, "--out", d)
    if spec.evaluate:
        _openued("eval", d, *spec.eval_args)
    rec["runs"][spec.name]["complete"] = True
    _save_record(record, rec)
    return d


def _clear_owned(root: Path, rec: dict, sub: str) -> None:
    """Remove the files the gallery wrote under ``root/sub`` before (they are redrawn; one it
    no longer draws must not linger in the index)."""
    for f in list(rec.get("files", [])):
        if f == sub or f.startswith(sub + "/"):
            (root / f).unlink(missing_ok=True)
            rec["files"].remove(f)


def _files_under(root: Path, sub: str) -> list[str]:
    base = root / sub
    return sorted(str(p.relative_to(root)) for p in base.rglob("*") if p.is_file()) \
        if base.exists() else []  # fmt: skip


def _notebook_settings(small: bool) -> dict:
    """What the notebooks' runs depend on: their size and their sources."""
    h = hashlib.sha256()
    for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py")):
        h.update(p.read_bytes())
    return {"small": small, "sources": h.hexdigest()}


def _run_notebooks(run_root: Path, fig_dir: Path, executed: Path, small: bool) -> None:
    env = {**os.environ, "FIG_DIR": str(fig_dir), "RUN_ROOT": str(run_root)}
    env.pop("SMALL", None)
    if small:
        env["SMALL"] = "1"
    nb = REPO / "notebooks" / "run.py"
    subprocess.run([sys.executable, str(nb), "--out", str(executed)], env=env, check=True)


def _notebooks(run_root: Path, rec: dict, record: Path, small: bool, fig_dir: Path) -> None:
    """Execute the notebooks with their runs under ``run_root/notebooks`` (kept while the
    notebooks and the size are the same) and their figures in ``fig_dir``."""
    settings = _notebook_settings(small)
    nb_runs = run_root / "notebooks"
    old = rec["runs"].get("notebooks")
    if nb_runs.exists() and (old is None or old.get("settings") != settings
                             or not old.get("complete")):  # fmt: skip
        if old is None:
            raise _foreign(nb_runs, record, "run directory")
        shutil.rmtree(nb_runs)
    rec["runs"]["notebooks"] = {"settings": settings, "complete": False}
    _save_record(record, rec)
    _run_notebooks(nb_runs, fig_dir, nb_runs / "executed", small)
    rec["runs"]["notebooks"]["complete"] = True
    _save_record(record, rec)


# ----------------------------------------------------------------------------- OUT_DIR


@dataclasses.dataclass(frozen=True)
class GalleryOptions:
    small: bool = O.option(False, O.BOOL, "smoke-sized runs (minutes; figures show noise)")
    notebooks: bool = O.option(
        False, O.BOOL, "also execute the three notebooks (their figures: OUT_DIR/notebooks)"
    )
    seeds: int = O.option(3, O.int_(1, 16), "seeds per maze run (vmapped)")
    docs: bool = O.option(
        False, O.BOOL,
        "regenerate every figure committed under docs/ (RUNS_DIR: where its runs go, default "
        "runs/docs; the notebooks and PAIRED reruns take hours on a CPU, see --only)",
    )  # fmt: skip
    only: str = O.option(
        "", O.choice("", "samplr", "notebooks", "paired", "cvar"),
        "with --docs: only these figures (samplr: seconds, from committed metrics; "
        "notebooks: ~45 min; paired: ~105 min; cvar: ~60 min on a 2-core CPU)",
        default_text="all",
    )  # fmt: skip


GALLERY_OPTIONS = O.Options(
    GalleryOptions,
    "openued gallery",
    "Train runs of every kind and draw every figure into OUT_DIR, with an index.md listing "
    "them; or, with --docs, regenerate the figures committed under docs/.",
    positionals=(("OUT_DIR", "where the runs and figures go (created); with --docs: RUNS_DIR"),),
)


def gallery(out: Path, small: bool, seeds: int = 3, notebooks: bool = False) -> list[Path]:
    """Make every run of :func:`gallery_runs` in ``out/runs`` (reusing the ones made before
    with the same settings), draw them into ``out/<run>/``, the maze comparison into
    ``out/compare/`` and, with ``notebooks``, the notebooks' figures into ``out/notebooks/``;
    write ``out/index.md``. Returns the figure paths. Refuses (``ConfigError``) before training
    anything when a file or run directory it would write is not its own."""
    from ued.host import atomic_write_text, ensure_dir

    out = ensure_dir(out)
    record = out / RECORD
    rec = _load_record(record)
    runs_dir = out / "runs"
    specs = gallery_runs(small, seeds)
    dirs = [s.name for s in specs] + ["compare"] + (["notebooks"] if notebooks else [])
    _check_foreign(out, rec, dirs, runs_dir, [s.name for s in specs] +
                   (["notebooks"] if notebooks else []), ("index.md",))  # fmt: skip
    figures: list[str] = []
    maze = []
    for spec in specs:
        d = _ensure_run(spec, runs_dir, rec, record)
        _clear_owned(out, rec, spec.name)
        _openued(*spec.group, "plot", d, "--out", out / spec.name, *spec.plot)
        figures += _files_under(out, spec.name)
        if spec.name.startswith("maze-") and spec.name != "maze-paired":
            maze.append(d)
        rec["files"] = sorted(set(rec["files"]) | set(figures))
        _save_record(record, rec)
    _clear_owned(out, rec, "compare")
    _openued("plot", *maze, "--compare", "--out", out / "compare",
             "--labels", "DR", "robust PLR", "ACCEL")  # fmt: skip
    figures += _files_under(out, "compare")
    if notebooks:
        _clear_owned(out, rec, "notebooks")
        _notebooks(runs_dir, rec, record, small, out / "notebooks")
        figures += _files_under(out, "notebooks")
    pictures = [f for f in figures if f.endswith((".png", ".gif"))]
    lines = ["# openued gallery", "", f"Made by `openued gallery{' --small' if small else ''}`"
             f" ({seeds} seeds per maze run); runs in `runs/`.", ""]  # fmt: skip
    for f in pictures:
        lines += [f"## {f}", "", f"![{f}]({f})", ""]
    atomic_write_text(out / "index.md", "\n".join(lines))
    rec["files"] = sorted(set(rec["files"]) | set(figures) | {"index.md"})
    _save_record(record, rec)
    return [out / f for f in pictures]


# ----------------------------------------------------------------------------- --docs


SAMPLR_PRESETS = ("gamble-dr", "gamble-robust-plr", "gamble-samplr",
                  "lava-dr", "lava-robust-plr", "lava-samplr")  # fmt: skip
NOTEBOOK_FIGURES = (
    "01_compare.png", "01_plr_buffer.png", "01_archive.png", "02_compare.png",
    "02_levels_maze-robust-plr.png", "02_levels_maze-accel.png", "03_hades_fitness.png",
    "03_hades_dataset.png", "03_synth/meta_training.png", "03_synth/reward_map.png",
    "03_synth/initial_states.png",
)  # fmt: skip
# the PAIRED learning checks of docs/learning-checks.md: preset -> minutes on a 2-core CPU
PAIRED_CHECKS = {"maze-paired": 55, "maze-minimax": 50}
PAIRED_FIGURES = {"paired_curves.png": "curves", "teacher_levels.png": "teacher_levels"}
# the robustness check of docs/learning-checks.md: label -> preset, in the figure's order
CVAR_CHECKS = {"SFL": "maze-sfl", "DR": "maze-dr", "robust PLR": "maze-robust-plr",
               "NCC": "maze-ncc"}  # fmt: skip
CVAR_ALPHAS = ("0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1")
CVAR_MINUTES = 60


@dataclasses.dataclass(frozen=True)
class DocFigure:
    """A figure committed under ``docs/``: ``path`` (relative to the repository), ``part`` of
    ``--docs --only`` that makes it, ``source`` (what it is drawn from) and about how many
    minutes its part takes on a 2-core CPU."""

    path: str
    part: str
    source: str
    minutes: float


def docs_manifest() -> list[DocFigure]:
    """Every figure ``openued gallery --docs`` writes under ``docs/``; runs nothing."""
    out = []
    for p in SAMPLR_PRESETS:
        out.append(DocFigure(f"docs/samplr/{p}.png", "samplr",
                             f"docs/samplr/{p}.metrics.jsonl", 0.1))  # fmt: skip
    for env in ("gamble", "lava"):
        out.append(DocFigure(f"docs/samplr/{env}-compare.png", "samplr",
                             f"docs/samplr/{env}-*.metrics.jsonl", 0.1))  # fmt: skip
    for f in NOTEBOOK_FIGURES:
        nb = next((REPO / "notebooks").glob(f"{f[:2]}_*.py")).name
        out.append(DocFigure(f"docs/figures/notebooks/{f}", "notebooks", f"notebooks/{nb}", 45))
    for preset, minutes in PAIRED_CHECKS.items():
        for short in PAIRED_FIGURES.values():
            out.append(DocFigure(f"docs/figures/paired/{preset}_{short}.png", "paired",
                                 f"openued train {preset} (learning check)", minutes))  # fmt: skip
    out.append(DocFigure("docs/figures/cvar/cvar.png", "cvar",
                         "openued eval --sample-levels of the robustness check", CVAR_MINUTES))
    return out


def paired_check_run(preset: str) -> GalleryRun:
    """The PAIRED learning check of ``docs/learning-checks.md`` (published settings, 3 seeds
    vmapped, 160 updates = 1.31M env steps per student per seed)."""
    return GalleryRun(preset, ("train", preset, "--num-seeds", "3", "--num-updates", "160",
                               "--eval-every", "80", "--no-progress", "--no-plot"))  # fmt: skip


def cvar_check_run(preset: str) -> GalleryRun:
    """A run of the robustness check of ``docs/learning-checks.md`` (13x13 mazes with 60
    walls, 3 seeds vmapped, 4 updates; evaluated on 150 sampled levels at seven alphas)."""
    return GalleryRun(f"cvar-{preset}", (
        "train", preset, "--n-walls", "60", "--num-seeds", "3", "--num-updates", "4",
        "--eval-every", "2", "--no-progress", "--no-plot"), True, (),
        ("--sample-levels", "150", "--cvar", *CVAR_ALPHAS))  # fmt: skip


def samplr_docs(docs: Path) -> list[Path]:
    """The SAMPLR figures of ``docs/samplr/`` from the committed metrics and configs of the
    5-seed runs: one per preset and one per maze comparing its three methods. Seconds."""
    from experiments import figures as F

    note = "drawn from the {} committed metrics (every 20th update: docs/samplr/{}.metrics.jsonl)"
    by_env: dict[str, list] = {}
    written = []
    for preset in SAMPLR_PRESETS:
        cfg = json.loads((docs / "samplr" / f"{preset}.config.json").read_text())
        lines = (docs / "samplr" / f"{preset}.metrics.jsonl").read_text().splitlines()
        rows = [json.loads(x) for x in lines if x.strip()]
        data = F.samplr_run_data(rows, cfg["curriculum"])
        by_env.setdefault(cfg["env"], []).append(data)
        fig = F.plot_samplr_runs(cfg["env"], [data], note=note.format("run's", preset))
        written.append(F.save(fig, docs / "samplr" / f"{preset}.png", dpi=100))
    for env, runs in by_env.items():
        short = env.split("-")[0]
        fig = F.plot_samplr_runs(env, runs, note=note.format("runs'", f"{short}-*"))
        written.append(F.save(fig, docs / "samplr" / f"{short}-compare.png", dpi=100))
    return written


def _copy(src: Path, dst: Path) -> Path:
    from ued.host import atomic_write_bytes, ensure_dir

    ensure_dir(dst.parent)
    return atomic_write_bytes(dst, src.read_bytes())


def docs(runs_dir: Path | None = None, only: str = "", docs_dir: Path = DOCS) -> list[Path]:
    """``openued gallery --docs``: write every figure of :func:`docs_manifest` (or those of
    part ``only``) under ``docs_dir``, training the runs they need in ``runs_dir`` (default
    ``runs/docs`` in the repository; reused when made before with the same settings). Checks
    that what it made is the manifest, no file more or less."""
    from ued.host import ensure_dir

    if not (docs_dir / "samplr").is_dir():
        raise O.ConfigError(f"--docs: {docs_dir} is not the docs/ of a source checkout")
    parts = [only] if only else ["samplr", "notebooks", "paired", "cvar"]
    written: list[Path] = []
    if "samplr" in parts:
        written += samplr_docs(docs_dir)
    if parts != ["samplr"]:
        runs_dir = ensure_dir(runs_dir or REPO / "runs" / "docs")
        record = runs_dir / RECORD
        rec = _load_record(record)
        names = (["notebooks"] if "notebooks" in parts else []) + \
            (list(PAIRED_CHECKS) if "paired" in parts else []) + \
            ([cvar_check_run(p).name for p in CVAR_CHECKS.values()] if "cvar" in parts
             else [])  # fmt: skip
        _check_foreign(runs_dir, rec, [], runs_dir, names)
    if "notebooks" in parts:
        staging = runs_dir / "notebooks" / "figures"  # inside the gallery's own directory
        shutil.rmtree(staging, ignore_errors=True)
        _notebooks(runs_dir, rec, record, False, staging)
        made = {str(p.relative_to(staging)) for p in staging.rglob("*.png")}
        if made != set(NOTEBOOK_FIGURES):
            raise RuntimeError(f"the notebooks drew {sorted(made)}, not the manifest's "
                               f"{sorted(NOTEBOOK_FIGURES)}: update NOTEBOOK_FIGURES")  # fmt: skip
        for f in NOTEBOOK_FIGURES:
            written.append(_copy(staging / f, docs_dir / "figures" / "notebooks" / f))
    if "paired" in parts:
        for preset in PAIRED_CHECKS:
            d = _ensure_run(paired_check_run(preset), runs_dir, rec, record)
            plots = d / "plots"  # inside the gallery's own run directory
            _openued("plot", d, "--out", plots)
            for name, short in PAIRED_FIGURES.items():
                written.append(_copy(plots / name,
                                     docs_dir / "figures" / "paired" / f"{preset}_{short}.png"))
    if "cvar" in parts:
        dirs = [_ensure_run(cvar_check_run(p), runs_dir, rec, record) for p in CVAR_CHECKS.values()]
        plots = dirs[0] / "compare"  # inside a run directory of the gallery's own
        _openued("plot", *dirs, "--compare", "--labels", *CVAR_CHECKS, "--out", plots)
        written.append(_copy(plots / "cvar.png", docs_dir / "figures" / "cvar" / "cvar.png"))
    want = {docs_dir.parent / f.path for f in docs_manifest() if f.part in parts}
    if {Path(p) for p in written} != want:
        raise RuntimeError(f"--docs wrote {sorted(map(str, written))}, the manifest lists "
                           f"{sorted(map(str, want))}")  # fmt: skip
    return written


# ----------------------------------------------------------------------------- the command


def _run(argv: list[str]) -> int:
    pos, given = GALLERY_OPTIONS.parse(argv)
    opts = {**O.defaults_of(GalleryOptions), **given}
    if opts["docs"]:
        if len(pos) > 1:
            raise O.ConfigError("--docs takes at most one RUNS_DIR")
        if opts["small"] or opts["notebooks"]:
            raise O.ConfigError("--docs makes the docs' own figures at their own sizes; "
                                "--small and --notebooks do not apply")  # fmt: skip
        paths = docs(Path(pos[0]) if pos else None, opts["only"])
        for p in paths:
            print(p)
        print(f"{len(paths)} figures written under {DOCS}", file=sys.stderr)
        return 0
    if opts["only"]:
        raise O.ConfigError("--only applies to --docs")
    if len(pos) != 1:
        raise O.ConfigError(f"give one OUT_DIR (see {GALLERY_OPTIONS.prog} --help)")
    out = Path(pos[0])
    paths = gallery(out, opts["small"], opts["seeds"], opts["notebooks"])
    for p in paths:
        print(p)
    print(f"{len(paths)} figures; index: {out / 'index.md'}", file=sys.stderr)
    return 0


def cmd_gallery(argv: list[str]) -> int:
    """``openued gallery ...``; one ``openued: error: ...`` line on failure, 0 for ``--help``."""
    from experiments.errors import run_command

    return run_command(_run, list(argv))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openued gallery`` and ``python -m experiments.gallery``."""
    return cmd_gallery(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
