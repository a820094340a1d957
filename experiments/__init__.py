"""openued's experiment layer: the kinds of runs, the ``openued`` command line and the figures.

Public API (notebooks and scripts use these; the modules behind them may move):

* :func:`openued` runs one ``openued`` command in this process (``openued("train",
  "maze-demo", "--out", "runs/x")``) and returns its exit status;
* :func:`stored_run`, :func:`restore`, :func:`train_run`, :func:`kinds`: a run directory's
  kind and config, its newest checkpoint, training a config of a kind
  (:mod:`experiments.kinds`);
* :func:`load_dataset`: a distilled dataset written by ``openued hades train``;
* :mod:`experiments.figures`: every figure, as functions of data.

Importing this package is light; each name loads its module on first use.
"""

from __future__ import annotations

from typing import Any


def openued(*argv: Any) -> int:
    """Run ``openued ARGV...`` in this process; the exit status (0 ok, 1 the run failed,
    2 the caller's mistake, one ``openued: error:`` line on stderr)."""
    from experiments.cli import main

    return main([str(a) for a in argv])


def __getattr__(name: str) -> Any:
    if name in ("kinds", "stored_run", "restore", "train_run"):
        import experiments.kinds as K

        return getattr(K, name)
    if name == "load_dataset":
        from experiments.kinds.hades import load_dataset

        return load_dataset
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")


__all__ = ["kinds", "load_dataset", "openued", "restore", "stored_run", "train_run"]
