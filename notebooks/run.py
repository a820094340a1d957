"""Execute the notebooks from their jupytext sources and report how long each took.

    python notebooks/run.py                 # every notebooks/NN_*.py at full size
    SMALL=1 python notebooks/run.py 01 03   # the CPU-sized smoke runs of two of them

Each source is converted in memory to a notebook and run by a Jupyter kernel (nbclient), as a
reader would run it; the executed ``.ipynb`` goes to ``--out`` (default ``notebooks/_executed``,
not committed). Exits 1 on the first failing cell, printing the cell and the error.

The notebooks write their runs under ``RUN_ROOT`` (default ``runs/``, one directory per
notebook and size) and their figures under ``FIG_DIR`` (default ``runs/notebook-figures/``):
running them never writes a committed file. The figures in ``docs/figures/notebooks/`` are
refreshed by ``openued gallery --docs`` (which runs them at full size into a directory of its
own and copies the figures the docs show).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="*", help="notebook number prefixes (default: all)")
    ap.add_argument("--out", default=str(HERE / "_executed"), help="where executed notebooks go")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = ap.parse_args(argv)
    sources = sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))
    if args.which:
        sources = [p for p in sources if any(p.name.startswith(w) for w in args.which)]
    if not sources:
        print("notebooks/run.py: error: no notebook matches", args.which, file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for src in sources:
        nb = jupytext.read(src)
        t0 = time.perf_counter()
        client = NotebookClient(
            nb, timeout=args.timeout, kernel_name="python3",
            resources={"metadata": {"path": str(HERE.parent)}},  # run from the repository root
        )  # fmt: skip
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"{src.name}: FAILED after {time.perf_counter() - t0:.0f} s\n{e}", file=sys.stderr)
            return 1
        dt = time.perf_counter() - t0
        total += dt
        nbformat.write(nb, out / (src.stem + ".ipynb"))
        print(f"{src.name}: ok in {dt:.0f} s", flush=True)
    print(f"{len(sources)} notebook(s) in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
