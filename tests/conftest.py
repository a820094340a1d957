"""Shared test settings.

JAX compiles dominate the suite's time, and many tests build the same program from fresh
closures (every in-process CLI run, every trainer fixture). JAX's persistent compilation cache
keys executables by their HLO, so identical programs compile once per machine and are shared by
the xdist workers. Cached executables are the same machine code, so determinism checks still
compare like with like.
"""

from __future__ import annotations

import os
import tempfile

import jax

_CACHE = os.environ.get(
    "OPENUED_TEST_JAX_CACHE", os.path.join(tempfile.gettempdir(), "openued-test-jax-cache")
)
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
