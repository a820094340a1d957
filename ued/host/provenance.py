"""Provenance of a run: git commit, package versions, device, Python, command line. Host only."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path

import jax

PACKAGES = ("openued", "jax", "jaxlib", "flax", "optax", "chex", "numpy", "evosax", "gymnax")


def git_commit(start: str | os.PathLike | None = None) -> str | None:
    """The commit checked out in the repository holding ``start`` (default: this package),
    read from ``.git`` without a subprocess; ``None`` outside a repository."""
    start = Path(__file__).resolve().parent if start is None else Path(start).resolve()
    for d in [start, *start.parents]:
        g = d / ".git"
        if g.is_file():  # worktree / submodule: "gitdir: PATH"
            txt = g.read_text().strip()
            if txt.startswith("gitdir:"):
                g = (d / txt.split(":", 1)[1].strip()).resolve()
        if not g.is_dir():
            continue
        try:
            head = (g / "HEAD").read_text().strip()
            if not head.startswith("ref:"):
                return head
            ref = head.split(":", 1)[1].strip()
            for base in (g, Path(str(g).split("/worktrees/")[0])):
                f = base / ref
                if f.is_file():
                    return f.read_text().strip()
                packed = base / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text().splitlines():
                        if line.endswith(" " + ref):
                            return line.split()[0]
        except OSError:
            return None
        return None
    return None


def provenance() -> dict:
    """Git commit, package versions, device and Python/platform of this process."""
    pkgs = {}
    for name in PACKAGES:
        try:
            pkgs[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pkgs[name] = None
    devs = jax.devices()
    return {
        "git_commit": git_commit(),
        "packages": pkgs,
        "device": {
            "platform": devs[0].platform,
            "kind": getattr(devs[0], "device_kind", str(devs[0])),
            "count": len(devs),
        },
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "argv": list(sys.argv),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


__all__ = ["git_commit", "provenance"]
