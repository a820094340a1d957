"""The ``openued`` commands, written once over the experiment kinds. Host only.

``train`` (a preset of any kind, or ``--resume RUN_DIR`` of a run of any kind), ``eval`` and
``plot`` (dispatched on the run's declared kind) serve ``openued train|eval|plot`` and the
command groups ``openued hades ...`` / ``openued synth ...`` (the same commands restricted to
one kind). One resume rule for every kind: a directory that holds a run is continued only with
``--resume RUN_DIR``; without it the command stops with one line naming the directory and both
ways out.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from experiments import options as O
from experiments.kinds import Kind, kinds, stored_run, train_run


def _peek_resume(argv: list[str]) -> tuple[str | None, list[str]]:
    """``(the --resume value or None, argv without it)``."""
    for i, a in enumerate(argv):
        if a == "--resume":
            value = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("-") else ""
            return value, argv[:i] + argv[i + 1 + (1 if value else 0) :]
        if a.startswith("--resume="):
            return a.split("=", 1)[1], argv[:i] + argv[i + 1 :]
    return None, argv


def _train_kinds(group: str) -> list[Kind]:
    return [k for k in kinds().values() if k.group == group and k.name != "python"]


def _prog(group: str) -> str:
    return f"openued {group} train" if group else "openued train"


def train_help(group: str = "") -> str:
    """``openued [GROUP] train --help``: every preset, then the options of each kind."""
    prog = _prog(group)
    lines = [
        f"usage: {prog} PRESET [--option VALUE ...]",
        f"       {prog} --resume RUN_DIR [--LENGTH N] [execution options]",
        "",
        "Train from a preset into a new run directory, or continue a run. "
        f"'{prog} PRESET --help' shows the options with that preset's defaults.",
    ]
    for kind in _train_kinds(group):
        lines += ["", f"{kind.title}:"]
        lines += [f"  {p:<24s}{d}" for p, d in kind.presets().items()]
    for kind in _train_kinds(group):
        if kind.help_lines is not None:
            lines += kind.help_lines()
        else:
            first = next(iter(kind.presets()), None)
            lines += ["", f"options of the {kind.name} presets:"]
            lines += kind.train_options(first, []).option_lines()
        lines.append(
            "  a resumed run may change only: "
            + ", ".join(O.flag(n) for n in sorted(kind.resumable))
        )
    return "\n".join(lines)


def _kind_of_preset(preset: str, group: str) -> Kind:
    found = [k for k in _train_kinds(group) if preset in k.presets()]
    if not found:
        allowed = [p for k in _train_kinds(group) for p in k.presets()]
        what = "ENV" if group else "preset"
        raise O.ConfigError(f"unknown {what} {preset!r}; allowed: {', '.join(allowed)}")
    return found[0]


def _check_resume_position(run_dir: Path, cfg: Any, kind: Kind) -> None:
    """Refuse a run of another format, or a run length below the run's position, before
    anything is built or written."""
    from ued.host import (
        CheckpointError,
        ResumeError,
        check_format,
        load_latest_checkpoint,
        read_config,
    )

    check_format(read_config(run_dir), run_dir)
    try:
        start, _, path = load_latest_checkpoint(run_dir, None, warn=lambda m: None)
    except CheckpointError as e:
        cmd = start_over_command(kind, cfg)
        raise CheckpointError(f"{e}{f': {cmd}' if cmd else ''}") from None
    length = getattr(cfg, kind.length)
    if length < start:
        raise ResumeError(
            f"{O.flag(kind.length)} {length}: {run_dir} is already at {kind.unit} {start} "
            f"({path.name}); give {O.flag(kind.length)} {start} or more"
        )


def start_over_command(kind: Kind, cfg: Any) -> str | None:
    """The ``openued train`` command that starts ``cfg`` over (into NEW_DIR), if it has a
    preset: the options that differ from the preset's."""
    preset = getattr(cfg, "preset", None) or getattr(cfg, "target", None)
    if preset not in kind.presets():
        return None
    base = kind.to_dict(kind.make_config(preset, {}))
    opts = kind.options_to_resume(cfg)
    parts = [_prog(kind.group), preset]
    for name, value in kind.to_dict(cfg).items():
        if name not in opts.fields or name == "out" or base.get(name) == value:
            continue
        if isinstance(value, list):
            text = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        parts += [O.flag(name), text]
    return " ".join(parts + ["--out", "NEW_DIR"])


def cmd_train(argv: list[str], group: str = "") -> int:
    """``openued [GROUP] train PRESET ...`` or ``... train --resume RUN_DIR ...``."""
    from ued.host import check_resume, holds_run

    resume, argv = _peek_resume(list(argv))
    preset = argv[0] if argv and not argv[0].startswith("-") else None
    wants_help = "-h" in argv or "--help" in argv
    if resume is not None:
        if preset:
            raise O.ConfigError(
                "--resume RUN_DIR takes no preset (the run directory holds the config); give "
                "only the run length and execution options"
            )
        if wants_help:
            raise O.ShowHelp(train_help(group))
        if not resume:
            raise O.ConfigError("--resume: expected a run directory")
        run_dir = Path(resume)
        kind, old = stored_run(run_dir)
        if kind.group != group:
            use = f"openued {kind.group + ' ' if kind.group else ''}train --resume {run_dir}"
            raise O.ConfigError(f"{run_dir} is a {kind.name} run; use: {use}")
        opts = kind.options_to_resume(old)
        pos, overrides = opts.parse(argv)
        if pos:
            raise O.ConfigError(f"unexpected argument {pos[0]!r}: --resume RUN_DIR takes no preset")
        cfg = kind.validate(dataclasses.replace(old, **overrides))
        stored = {k: v for k, v in kind.to_dict(old).items() if k not in kind.derived}
        new = {k: v for k, v in kind.to_dict(cfg).items() if k not in kind.derived}
        check_resume(stored, new, kind.resumable, describe=opts.describe)
        _check_resume_position(run_dir, cfg, kind)
    else:
        if preset is None:
            if wants_help:
                raise O.ShowHelp(train_help(group))
            allowed = [p for k in _train_kinds(group) for p in k.presets()]
            raise O.ConfigError(
                f"give a {'ENV' if group else 'preset'} ({', '.join(allowed)}) or --resume RUN_DIR"
            )
        kind = _kind_of_preset(preset, group)
        opts = kind.train_options(preset, argv)
        if wants_help:
            defaults = kind.to_dict(kind.make_config(preset, {}))
            raise O.ShowHelp(opts.help(defaults, title=f"options (defaults of {preset})"))
        _, overrides = opts.parse(argv)  # positionals: the preset only
        cfg = kind.make_config(preset, overrides)
        if not getattr(cfg, "out", ""):
            cfg = dataclasses.replace(cfg, out=kind.default_out(cfg))
        run_dir = Path(cfg.out)
        if holds_run(run_dir):
            raise O.ConfigError(
                f"--out: {run_dir} already holds a run; continue it with "
                f"{_prog(group)} --resume {run_dir}, or choose another --out"
            )
    t0 = time.perf_counter()
    state, built, extra = train_run(kind, cfg, run_dir, resume is not None)
    wall = time.perf_counter() - t0
    unit = getattr(built.trainer, "unit", "update")
    seeds = f" x {built.num_seeds} seed(s)" if built.num_seeds > 1 or unit == "update" else ""
    if built.split_rows is not None:  # a sweep: its lanes are configurations x seeds
        k = getattr(cfg, "num_seeds", 1)
        seeds = f" x {built.num_seeds // k} configurations x {k} seed(s)"
    print(f"trained {built.num_units} {unit}s{seeds} in {wall:.1f} s -> {run_dir}", file=sys.stderr)
    if getattr(cfg, "plot", False):
        try:
            written = kind.figures(run_dir, {})
            print(f"plots: {', '.join(str(p) for p in written)}", file=sys.stderr)
        except O.ConfigError as e:  # the kind draws no figure of such a run: not a failure
            print(f"note: no plots: {str(e).splitlines()[0]}", file=sys.stderr)
        except Exception as e:  # plots are a convenience: never lose a finished run to them
            print(f"warning: plotting failed: {str(e).splitlines()[0]}", file=sys.stderr)
    if extra:
        summary = {"run_dir": str(run_dir), unit: built.num_units, **extra,
                   "wall_s": round(wall, 2)}  # fmt: skip
        print(json.dumps(summary, default=str))
    return 0


def _run_path(argv: list[str], group: str) -> tuple[Path | None, Kind | None]:
    """The run directory among the positional words of ``argv`` and its kind (a group's kind
    also reads paths that are no run directory, e.g. a dataset file)."""
    from ued.host import CONFIG_FILE

    words = [a for a in argv if not a.startswith("-")]
    for w in words:
        if (Path(w) / CONFIG_FILE).is_file():
            kind, _ = stored_run(w)
            if group and kind.group != group:
                raise O.ConfigError(f"{w} is a {kind.name} run, not a {group} run")
            return Path(w), kind
    if group:
        return None, next(k for k in kinds().values() if k.group == group)
    return None, None


def _check_applies(argv: list[str], kind: Kind, which: str, run: Path | None) -> None:
    """Refuse a flag that the run's kind does not take but another kind does, naming both."""
    opts = getattr(kind, which)
    for tok in argv:
        if not tok.startswith("--") or tok in ("--help",):
            continue
        spelled = tok.split("=", 1)[0]
        if spelled in opts._spellings:
            continue
        others = [k.name for k in kinds().values()
                  if k is not kind and spelled in getattr(k, which)._spellings]  # fmt: skip
        if others:
            where = f"{run} is a {kind.name} run" if run else f"this is a {kind.name} command"
            raise O.ConfigError(f"{spelled}: applies to {', '.join(others)} runs; {where}")


def _per_kind(which: str) -> str:
    lines = []
    for k in kinds().values():
        opts = getattr(k, which)
        if opts.fields:
            lines += ["", f"options of {k.name} runs:", *opts.option_lines()]
    return "\n" + "\n".join(lines)


def _any_options(which: str) -> O.Options:
    """Every kind's options of one command together (to name a mistyped flag before the run
    directory is known)."""
    fields: dict[str, Any] = {}
    for k in kinds().values():
        for cls in getattr(k, which).classes:
            for name, f in O.option_fields(cls).items():
                fields.setdefault(name, (name, Any, dataclasses.field(default=None, metadata=f.metadata)))
    cls = dataclasses.make_dataclass("AnyOptions", list(fields.values()), frozen=True)
    return O.Options(cls, f"openued {which.split('_')[0]}", "", positionals=(("RUN_DIR", ""),))


def _run_and_options(argv: list[str], group: str, which: str) -> tuple[Kind, Path, dict]:
    """``(kind, the one path, its options)`` of ``eval``/``plot`` arguments (``which``: the
    kind's ``eval_options`` or ``plot_options``); a mistyped flag, a flag of another kind, a
    missing or extra path are one error each."""
    from ued.host import read_config

    run_dir, kind = _run_path(argv, group)
    command = which.split("_")[0]
    if kind is None:
        words, _ = _any_options(which).parse(argv)  # a mistyped flag first
        if words:
            read_config(words[0])  # one line saying why it is no run directory
        raise O.ConfigError(f"give one RUN_DIR (see openued {command} --help)")
    _check_applies(argv, kind, which, run_dir)
    pos, given = getattr(kind, which).parse(argv)
    if len(pos) != 1:
        more = ", or several with --compare" if command == "plot" else ""
        raise O.ConfigError(f"give one RUN_DIR{more} (see openued {command} --help)")
    return kind, Path(pos[0]), given


def _has_rows(run_dir: Path) -> bool:
    from ued.host import read_metrics

    return bool(read_metrics(run_dir, warn=lambda m: None))


def emit(run_dir: Path | None, out: dict) -> None:
    """Print ``out`` as the last stdout line (one JSON object) and store the same line as
    ``RUN_DIR/eval.json`` when ``run_dir`` is a run directory; a directory that cannot be
    written (read-only, full) keeps the printed results and gets a warning on stderr."""
    from ued.host import RunFileError, atomic_write_text, jsonable

    line = json.dumps(jsonable(out), allow_nan=False, default=lambda x: None)
    if run_dir is not None:
        try:
            atomic_write_text(run_dir / "eval.json", line + "\n")
        except RunFileError as e:
            print(f"warning: the results are printed below but not stored: {e}", file=sys.stderr)
    print(line, flush=True)


def cmd_eval(argv: list[str], group: str = "") -> int:
    """``openued [GROUP] eval RUN_DIR [options]``: the kind's evaluation; one JSON object."""
    from ued.host import CONFIG_FILE

    if "-h" in argv or "--help" in argv:
        run_dir, kind = _run_path([a for a in argv if a not in ("-h", "--help")], group)
        if kind is None:
            raise O.ShowHelp(
                "usage: openued eval RUN_DIR [--option VALUE ...]\n\nEvaluate a run's newest "
                "checkpoint; the last stdout line is one JSON object (also RUN_DIR/eval.json). "
                "The options depend on the run's kind:" + _per_kind("eval_options")
            )
        raise O.ShowHelp(kind.eval_options.help())
    kind, path, given = _run_and_options(argv, group, "eval_options")
    out = kind.evaluate(path, given)
    emit(path if (path / CONFIG_FILE).is_file() else None, out)
    return 0


@dataclasses.dataclass(frozen=True)
class CompareOptions:
    compare: bool = O.option(
        False,
        O.BOOL,
        "overlay two or more runs (or curricula): compare.png, plus compare.md and compare.json "
        "with each run's final evaluation IQM and its 95% stratified-bootstrap interval, and "
        "the alpha-CVaR table and cvar.png where runs' eval.json has them (--sample-levels)",
    )
    out: str = O.option("", O.STR, "output directory (required)")
    labels: tuple[str, ...] = O.option(
        (), O.STRS, "one legend label per run", default_text="the directory names"
    )


COMPARE_OPTIONS = O.Options(
    CompareOptions,
    "openued plot --compare",
    "One figure and table comparing several runs.",
    positionals=(("RUN_DIR...", "two or more run directories"),),
)


def cmd_plot(argv: list[str], group: str = "") -> int:
    """``openued [GROUP] plot RUN_DIR [options]`` (the kind's figures), or ``plot RUN_DIR ...
    --compare --out DIR``."""
    if "--compare" in argv:
        return _plot_compare(argv)
    if "-h" in argv or "--help" in argv:
        _, kind = _run_path([a for a in argv if a not in ("-h", "--help")], group)
        if kind is None:
            raise O.ShowHelp(
                "usage: openued plot RUN_DIR [--option VALUE ...]\n"
                "       openued plot RUN_DIR RUN_DIR ... --compare --out DIR [--labels ...]\n\n"
                "Plots of a run (its options depend on the run's kind), or one figure and table "
                "comparing several runs." + _per_kind("plot_options")
                + "\n\noptions with --compare:\n" + "\n".join(COMPARE_OPTIONS.option_lines())
            )
        raise O.ShowHelp(kind.plot_options.help())
    kind, run_dir, given = _run_and_options(argv, group, "plot_options")
    if (run_dir / "config.json").is_file() and not _has_rows(run_dir):
        raise O.ConfigError(f"{run_dir}: metrics.jsonl holds no rows yet; nothing to plot")
    for path in kind.figures(run_dir, given):
        print(path)
    return 0


def compare_plots(run_dirs: list, out_dir, labels: list[str] | None = None) -> list[Path]:
    """``compare.png`` (learning curves of every run overlaid, final IQM with 95%
    stratified-bootstrap intervals), ``compare.md`` and ``compare.json`` in ``out_dir``, and
    where runs have the alpha-CVaR of ``openued eval --sample-levels`` in their ``eval.json``,
    its table (in ``compare.md``) and ``cvar.png``; labels default to ``preset (dir name)``,
    made unique. Returns the paths written."""
    from experiments import figures as F
    from experiments.kinds.ued_report import run_label
    from ued.host import load_run

    runs = [load_run(d) for d in run_dirs]
    if labels is None:
        labels, seen = [], {}
        for r in runs:
            lab = run_label(r)
            seen[lab] = seen.get(lab, 0) + 1
            labels.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    metrics = {lab: r.metrics for lab, r in zip(labels, runs, strict=True)}
    # each run's eval.json: its alpha-CVaR numbers when openued eval --sample-levels wrote them
    cvar = dict(zip(labels, run_dirs, strict=True))
    return F.write_comparison(metrics, out_dir, cvar=cvar)


def _plot_compare(argv: list[str]) -> int:
    pos, opts = COMPARE_OPTIONS.parse(argv)
    opts = {**O.defaults_of(CompareOptions), **opts}
    run_dirs = [Path(p) for p in pos]
    if len(run_dirs) < 2:
        raise O.ConfigError("--compare: give two or more run directories")
    if not opts["out"]:
        raise O.ConfigError("--compare: give --out DIR for the comparison figure and table")
    labels = list(opts["labels"]) or None
    if labels is not None and len(labels) != len(run_dirs):
        raise O.ConfigError(f"--labels: {len(labels)} labels for {len(run_dirs)} run directories")
    for d in run_dirs:
        stored_run(d)  # a clear error for a directory that holds no run
    empty = [str(d) for d in run_dirs if not _has_rows(d)]
    if empty:
        raise O.ConfigError(f"--compare: no metrics rows yet in {', '.join(empty)}")
    for path in compare_plots([str(d) for d in run_dirs], opts["out"], labels=labels):
        print(path)
    return 0


def resume_hint(run_dir: Path, unit: int | None) -> str:
    """The command that continues a run (``unit`` None), or that keeps a diverged run up to its
    last good ``unit``."""
    try:
        kind, _ = stored_run(run_dir)
    except Exception:
        return ""
    prog = _prog(kind.group)
    if unit is None:
        return f"{prog} --resume {run_dir}"
    return f"to keep it up to there: {prog} --resume {run_dir} {O.flag(kind.length)} {unit}"


__all__ = [
    "COMPARE_OPTIONS",
    "compare_plots",
    "cmd_eval",
    "cmd_plot",
    "cmd_train",
    "emit",
    "resume_hint",
    "train_help",
]
