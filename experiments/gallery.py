"""``openued gallery OUT_DIR``: every figure in the docs, made from scratch.

It trains small runs of the maze curricula, PAIRED, a SAMPLR preset, HaDES and a synthetic
environment, draws each with ``openued plot``, compares the maze curricula with
``openued plot --compare``, and, with ``--notebooks``, executes the three notebooks with their
figures under ``OUT_DIR/notebooks``. ``OUT_DIR/index.md`` lists every figure. ``--small`` gives
smoke-sized runs (a few minutes; the figures then show noise, not learning).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

from experiments import options as O

# the README's demo sizes: a 7x7 maze a 2-core CPU learns in a few minutes
DEMO = ("--maze-size", "7", "--n-walls", "6", "--max-episode-steps", "64", "--num-steps", "64",
        "--lr", "3e-4", "--network", "small-lstm")  # fmt: skip
BUFFER = ("--buffer-capacity", "256")  # the curricula with a level buffer


@dataclasses.dataclass(frozen=True)
class GalleryOptions:
    small: bool = O.option(False, O.BOOL, "smoke-sized runs (minutes; figures show noise)")
    notebooks: bool = O.option(
        False, O.BOOL, "also execute the three notebooks (their figures: OUT_DIR/notebooks)"
    )
    seeds: int = O.option(3, O.int_(1, 16), "seeds per maze run (vmapped)")


GALLERY_OPTIONS = O.Options(
    GalleryOptions,
    "openued gallery",
    "Train small runs of every kind and draw every figure the docs show into OUT_DIR, with an "
    "index.md listing them.",
    positionals=(("OUT_DIR", "where the runs and figures go (created)"),),
)


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


def cmd_gallery(argv: list[str]) -> int:
    pos, given = GALLERY_OPTIONS.parse(argv)
    if len(pos) != 1:
        raise O.ConfigError(f"give one OUT_DIR (see {GALLERY_OPTIONS.prog} --help)")
    opts = {**{f.name: f.default for f in dataclasses.fields(GalleryOptions)}, **given}
    out = Path(pos[0])
    out.mkdir(parents=True, exist_ok=True)
    runs = out / "runs"
    small = opts["small"]
    updates = 6 if small else 300
    tiny = ("--num-envs", "4", "--num-steps", "16", "--num-validation-levels", "8",
            "--eval-attempts", "2") if small else ()  # fmt: skip
    maze_runs = []
    for preset in ("maze-dr", "maze-robust-plr", "maze-accel"):
        d = runs / preset
        if not (d / "eval.json").exists():
            buf = BUFFER if preset != "maze-dr" else ()
            _openued("train", preset, *DEMO, *buf, *tiny, "--num-updates", updates, "--eval-every",
                     max(updates // 6, 1), "--eval-at-start", "--num-seeds", opts["seeds"],
                     "--no-progress", "--no-plot", "--out", d)  # fmt: skip
            _openued("eval", d)
        _openued("plot", d, "--out", out / preset, *(("--gif",) if preset == "maze-accel" else ()))
        maze_runs.append(d)
    _openued("plot", *maze_runs, "--compare", "--out", out / "compare",
             "--labels", "DR", "robust PLR", "ACCEL")  # fmt: skip
    # PAIRED on the demo's 7x7 mazes: a teacher of 20 edits with the small feed-forward net
    # (the published teacher, conv 128 + LSTM 256 over 50 edits, is sized for 13x13 and hours)
    d = runs / "maze-paired"
    if not (d / "metrics.jsonl").exists():
        _openued("train", "maze-paired", *DEMO, *tiny, "--num-updates", 4 if small else 150,
                 "--eval-every", 2 if small else 50, "--teacher-steps", 20, "--teacher-network",
                 "small-ff", "--num-seeds", opts["seeds"], "--no-progress", "--no-plot",
                 "--out", d)  # fmt: skip
    _openued("plot", d, "--out", out / "maze-paired")
    d = runs / "gamble-samplr"
    if not d.exists():
        _openued("train", "gamble-samplr", "--num-updates", 4 if small else 200,
                 *(("--num-envs", "4", "--num-steps", "16") if small else ()),
                 "--no-progress", "--out", d)  # fmt: skip
    _openued("plot", d, "--out", out / "gamble-samplr")
    d = runs / "hades-cartpole"
    if not (d / "dataset.npz").exists():
        _openued("hades", "train", "cartpole", "--no-progress", "--no-plot", "--out", d,
                 *(("--generations", 2, "--population", 8, "--eval-policies", 2,
                    "--eval-episodes", 1) if small else ()))  # fmt: skip
    _openued("hades", "plot", d, "--out", out / "hades-cartpole")
    d = runs / "synth-cartpole"
    if not (d / "metrics.jsonl").exists():
        _openued("synth", "train", "cartpole", "--no-progress", "--out", d,
                 *(("--generations", 2, "--population", 4, "--inner-steps", 64)
                   if small else ("--generations", 60)))  # fmt: skip
    _openued("synth", "plot", d, "--out", out / "synth-cartpole")
    if opts["notebooks"]:
        env = {**os.environ, "FIG_DIR": str(out / "notebooks"), "RUN_ROOT": str(runs)}
        if small:
            env["SMALL"] = "1"
        nb = Path(__file__).resolve().parent.parent / "notebooks" / "run.py"
        subprocess.run([sys.executable, str(nb), "--out", str(out / "notebooks" / "executed")],
                       env=env, check=True)  # fmt: skip
    figures = sorted(p for p in out.rglob("*") if p.suffix in (".png", ".gif")
                     and runs not in p.parents and "executed" not in p.parts)  # fmt: skip
    lines = ["# openued gallery", ""]
    for p in figures:
        rel = p.relative_to(out)
        lines += [f"## {rel}", "", f"![{rel}]({rel})", ""]
    (out / "index.md").write_text("\n".join(lines))
    for p in figures:
        print(p)
    print(f"{len(figures)} figures; index: {out / 'index.md'}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openued gallery``; one ``openued: error: ...`` line on failure."""
    from experiments.errors import run_command

    return run_command(cmd_gallery, list(sys.argv[1:] if argv is None else argv))
