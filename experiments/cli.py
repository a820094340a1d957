"""The ``openued`` command line (console script ``openued = experiments.cli:main``): dispatch
only.

    openued train PRESET [--option VALUE ...]          train (level spaces and SAMPLR presets)
    openued train --resume RUN_DIR [--num-updates N]   continue a run (any kind)
    openued eval RUN_DIR [--option VALUE ...]          evaluate; last line is one JSON object
    openued plot RUN_DIR [--option VALUE ...]          learning curves, diagnostics, levels
    openued hades train|eval|plot ...                  behaviour distillation (HaDES)
    openued synth train|eval|plot ...                  synthetic environments
    openued gallery [--small]                          small runs of every kind, every figure

The commands are :mod:`experiments.commands`, written once over the experiment kinds
(:mod:`experiments.kinds`); a run's ``config.json`` declares its kind and ``eval``, ``plot`` and
``--resume`` dispatch on it. Options are parsed from typed dataclass fields
(:mod:`experiments.options`). Errors are one line ``openued: error: ...`` on stderr
(:mod:`experiments.errors`): exit status 2 for the caller's mistakes, 1 for failures of the run
itself.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from experiments import commands as C
from experiments.errors import error, group_overview, run_command


def _gallery(argv: list[str]) -> int:
    from experiments.gallery import cmd_gallery

    return cmd_gallery(argv)


def _group(name: str, summary: str) -> Callable[[list[str]], int]:
    """``openued GROUP train|eval|plot``: the commands restricted to the group's kind."""
    cmds = {
        "train": (f"train from a {name} preset, or --resume a {name} run",
                  functools.partial(C.cmd_train, group=name)),
        "eval": ("evaluate a run (or a file it wrote); last line: one JSON object",
                 functools.partial(C.cmd_eval, group=name)),
        "plot": ("figures of a run", functools.partial(C.cmd_plot, group=name)),
    }  # fmt: skip

    def run(argv: list[str]) -> int:
        from experiments.kinds import kinds

        def overview() -> str:
            kind = next(k for k in kinds().values() if k.group == name)
            return group_overview(name, summary, cmds, kind.presets())

        if not argv or argv[0] in ("-h", "--help"):
            print(overview(), file=sys.stdout if argv else sys.stderr)
            return 0 if argv else 2
        if argv[0] not in cmds:
            error(f"unknown command '{name} {argv[0]}'; allowed: {', '.join(cmds)}")
            return 2
        return run_command(cmds[argv[0]][1], argv[1:], (ValueError, ImportError), C.resume_hint)

    return run


# command -> (one-line description, function of the remaining arguments -> exit status)
COMMANDS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "train": ("train from a preset, or --resume a run of any kind", C.cmd_train),
    "eval": ("evaluate a run's newest checkpoint; the last stdout line is one JSON object",
             C.cmd_eval),
    "plot": ("plots of a run into RUN_DIR/plots (or --compare several runs)", C.cmd_plot),
    "hades": ("behaviour distillation with ES: hades train | eval | plot",
              _group("hades", "Behaviour distillation (HaDES): ES over small datasets of "
                     "state-action pairs.")),
    "synth": ("synthetic environments meta-learned with ES: synth train | eval | plot",
              _group("synth", "Synthetic environments (SCB / synthetic MDP) meta-learned "
                     "with ES.")),
    "gallery": ("train small runs of every kind and draw every figure the docs show", _gallery),
}  # fmt: skip
_GROUPS = ("hades", "synth", "gallery")


def overview() -> str:
    """``openued --help``: every command with one line, and the train presets."""
    from experiments.kinds import kinds

    lines = ["usage: openued COMMAND [ARGS ...]   ('openued COMMAND --help' for its options)", ""]
    lines.append("commands:")
    lines += [f"  {c:<8s}{d}" for c, (d, _) in COMMANDS.items()]
    presets = [p for k in kinds().values() if not k.group for p in k.presets()]
    lines += ["", "train presets: " + ", ".join(presets)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 runtime failure, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(overview(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(overview())
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        error(f"unknown command {cmd!r}; allowed: {', '.join(COMMANDS)}")
        return 2
    fn = COMMANDS[cmd][1]
    if cmd in _GROUPS:
        rc = fn(rest)
        return 0 if rc is None else int(rc)
    return run_command(fn, rest, resume_hint=C.resume_hint)


if __name__ == "__main__":
    sys.exit(main())
