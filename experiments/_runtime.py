"""Process-level runtime settings shared by the command-line entry points (host only)."""

from __future__ import annotations

import os

_EIGEN_FLAG = "--xla_cpu_multi_thread_eigen=false"


def configure_xla_cpu() -> None:
    """Turn off XLA:CPU's multi-threaded Eigen pool unless the user set it in ``XLA_FLAGS``.

    Long vmapped programs on CPU (HaDES on MinAtar, TD3 inner loops) were seen to wedge with
    every XLA worker parked on a futex while the host waits for the result; turning the Eigen
    intra-op pool off avoids it (an XLA:CPU issue, also reported by other projects). It costs a
    little matmul speed on CPU and changes nothing on GPU. Must run before JAX initialises its
    backend; a no-op if the user already chose a value.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_EIGEN_FLAG}".strip()
