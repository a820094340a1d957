"""Shared test settings.

JAX compiles dominate the suite's time, and many tests build the same program from fresh
closures (every in-process CLI run, every trainer fixture). JAX's persistent compilation cache
keys executables by their HLO, so identical programs compile once per machine and are shared by
the xdist workers. Cached executables are the same machine code, so determinism checks still
compare like with like.

The tests' programs are tiny, so XLA:CPU's LLVM backend optimisation costs far more than it saves:
the suite compiles at ``--xla_backend_optimization_level=0`` with LLVM's expensive passes off
(HLO-level optimisation is unchanged, so the programs compute the same functions). Measured on
the 2-core CI machine with an empty compile cache: 9 min 24 s with the default flags, 6 min 22 s
with these. Set ``XLA_FLAGS`` yourself to override; benchmarks and the CLI never read this file.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
import shutil
import tempfile

_FAST_COMPILE = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")
if "XLA_FLAGS" not in os.environ:
    # set before jax is imported; subprocesses the tests start inherit it
    os.environ["XLA_FLAGS"] = " ".join(_FAST_COMPILE)

import jax  # noqa: E402
import pytest  # noqa: E402

_CACHE = os.environ.get(
    "OPENUED_TEST_JAX_CACHE", os.path.join(tempfile.gettempdir(), "openued-test-jax-cache")
)
_CACHE_SETTINGS = {
    "jax_compilation_cache_dir": _CACHE,
    "jax_persistent_cache_min_compile_time_secs": 0.5,
    "jax_persistent_cache_min_entry_size_bytes": 0,
}
for _name, _value in _CACHE_SETTINGS.items():
    jax.config.update(_name, _value)
    # the CLI subprocesses the tests start (kill/resume, plugins, README) read the same settings
    # from the environment, so a program one of them compiled is loaded, not compiled, by the next
    os.environ.setdefault(_name.upper(), str(_value))



@pytest.fixture(scope="session")
def built_once(tmp_path_factory):
    """``built_once(name, build, dest) -> Path``: a directory made once per test session and
    copied to ``dest`` for the caller.

    Trained runs are the suite's costliest fixtures. A module-scoped fixture is built once per
    xdist worker that runs one of its tests, so two workers often trained the same run. Here the
    first caller builds ``name`` with ``build(path)`` under a file lock in a directory every
    worker of the session shares, and later callers (in any worker) wait for it and copy it.
    Each caller gets its own copy, so tests that write into a run (``eval.json``, plots) never
    meet another worker's writes.
    """
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's base is <session dir>/popen-gwN: share the session directory
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "built-once"
    root.mkdir(exist_ok=True)

    def get(name: str, build, dest):
        done = root / name
        with open(root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                tmp = root / f"{name}.partial"
                shutil.rmtree(tmp, ignore_errors=True)
                build(tmp)
                tmp.rename(done)  # only a finished build is ever seen under its name
        dest = pathlib.Path(dest)
        shutil.copytree(done, dest)
        return dest

    return get
