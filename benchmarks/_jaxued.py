"""Import of the jaxued peer baseline for the ``--compare jaxued`` benchmarks.

jaxued is a benchmark-only dependency (``pip install -e ".[bench]"``, which pins
``jaxued==0.0.1``). Its only release calls ``jax.tree_map``, an alias that current jax removed,
so the alias is restored before the import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import jax


def jaxued_module(name: str) -> ModuleType:
    """``importlib.import_module(name)`` for a jaxued module (e.g. ``"jaxued.level_sampler"``).

    A missing jaxued is a ``SystemExit`` naming the fix: the caller asked for the comparison,
    so it must not be skipped silently.
    """
    if not hasattr(jax, "tree_map"):
        jax.tree_map = jax.tree_util.tree_map
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise SystemExit(
            "--compare jaxued needs jaxued: pip install --no-deps jaxued==0.0.1 "
            f"(or the project's [bench] extra). Import failed with: {e}"
        ) from e
