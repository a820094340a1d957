"""Compare the compiled XLA programs of two source trees: is a measured speed difference code?

``ab_compare.py`` times the same benchmark in two trees; when a row moves, this says whether the
timed program itself changed. It compiles, in each tree (a subprocess with ``PYTHONPATH`` set to
it, as ``ab_compare.py`` does), the program a benchmark row times and compares the optimised HLO
after dropping what does not run (metadata, source locations, instruction numbering):

* ``env``: ``benchmarks/env_throughput.py``'s jit(scan(vmap(AutoReplay(Maze).step))) at
  ``--num-envs`` (the ``env`` rows);
* ``update``: ``jax.jit(trainer.update)`` of ``--curriculum`` at 32 envs x 256 steps, the
  ``train`` rows' program (one program for all update kinds: the kinds are branches in it).

Prints whether the instruction texts are identical and, if not, the instructions (opcode, shape)
whose counts differ. Usage (from the repository root)::

    python benchmarks/ab_hlo_diff.py --old /tmp/old --new . --what env update

Host-side only (starts subprocesses).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import os
import sys
import jax, jax.numpy as jnp
what, n, cur, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if what == "env":
    sys.path.insert(0, "benchmarks")
    import env_throughput as et
    import ued
    from envs.maze import MazeConfig, MazeEnv, make_maze_space
    space = make_maze_space(MazeConfig())
    levels = jax.jit(space.sample_batch, static_argnums=1)(jax.random.key(42), n)
    actions = jax.random.randint(jax.random.key(7), (128, n), 0, 7, jnp.int32)
    env = ued.AutoReplay(MazeEnv(MazeConfig(n_actions=7)))
    keys = jax.random.split(jax.random.key(0), n)
    reset = jax.jit(jax.vmap(env.reset_to_level, in_axes=(0, 0, None)))
    _, state = reset(keys, levels, env.default_params)
    fn = et._make_rollout(env, lambda k, m: jax.random.split(k, m))
    text = fn.lower(state, jax.random.key(1), actions).compile().as_text()
else:
    # by the tree's files, not by an ImportError: the editable install of the other tree is on
    # sys.path too, and could complete a package the tree lacks
    tree = os.environ["PYTHONPATH"].split(os.pathsep)[0]
    if os.path.isdir(os.path.join(tree, "experiments", "kinds")):
        from experiments.kinds import ued as P
        build = P.build_experiment
    else:  # trees from before the run kinds
        from experiments import presets as P
        build = P.build
    cfg = P.make_config(
        "maze-" + cur,
        dict(num_envs=32, num_steps=256, network="maze", seed=0, num_validation_levels=0,
             **({} if cur == "dr" else {"min_fill": 0.0})),
    )
    tr = build(cfg).trainer
    state = jax.jit(tr.init)(jax.random.key(0))
    text = jax.jit(tr.update).lower(state).compile().as_text()
open(out, "w").write(text)
"""

_INSTR = re.compile(r"^\s*(?:ROOT )?%\S+ = (.+?) ([\w-]+)\(")


def _normalise(text: str) -> list[str]:
    """Instruction lines without metadata, source-location tables or instruction numbers."""
    lines = []
    for line in text.splitlines():
        if not (line.startswith("ENTRY") or (line.startswith(("%", "  ")) and "=" in line)):
            continue
        line = re.sub(r",? ?metadata=\{[^}]*\}", "", line)
        line = re.sub(r"%([\w-]+?)\.\d+", r"%\1", line)  # instruction / computation numbering
        line = re.sub(r"%param_\d+", "%param", line)
        lines.append(line)
    return lines


def _ops(lines: list[str]) -> collections.Counter:
    c: collections.Counter = collections.Counter()
    for line in lines:
        m = _INSTR.match(line)
        if m:
            c[(m.group(2), re.sub(r"\{[^}]*\}", "", m.group(1)))] += 1
    return c


def compiled_hlo(tree: Path, what: str, num_envs: int, curriculum: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".hlo", delete=False) as f:
        out = f.name
    try:
        res = subprocess.run(
            [sys.executable, "-c", _CHILD, what, str(num_envs), curriculum, out],
            cwd=tree,
            env=dict(os.environ, PYTHONPATH=str(tree)),
            capture_output=True,
            text=True,
        )
        if res.returncode:
            raise RuntimeError(f"{tree}: compiling {what} failed:\n{res.stderr[-2000:]}")
        return Path(out).read_text()
    finally:
        os.unlink(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, default=Path("."))
    ap.add_argument("--what", nargs="+", choices=["env", "update"], default=["env", "update"])
    ap.add_argument("--num-envs", type=int, default=256, help="envs of the env program")
    ap.add_argument("--curriculum", default="accel", help="dr, robust-plr or accel (update)")
    args = ap.parse_args(argv)
    for what in args.what:
        lo, ln = (
            _normalise(compiled_hlo(t.resolve(), what, args.num_envs, args.curriculum))
            for t in (args.old, args.new)
        )
        co, cn = _ops(lo), _ops(ln)
        diff = sorted((cn[k] - co[k], k) for k in co.keys() | cn.keys() if co[k] != cn[k])
        print(
            f"{what}: {sum(co.values())} vs {sum(cn.values())} instructions; normalised text "
            f"{'IDENTICAL' if lo == ln else 'differs'}; {len(diff)} (opcode, shape) counts differ"
        )
        for d, (op, shape) in diff[:40]:
            print(f"  {d:+5d}  {op:20s} {shape[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
