"""Runs in a subprocess with 4 forced host devices (``tests/test_devices.py``): trains tiny
runs sharded and unsharded through ``openued`` and prints one JSON object of comparisons.

Argument: the scratch directory. Environment: ``XLA_FLAGS`` forcing 4 host devices (set by the
caller, before JAX starts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import numpy as np

from experiments import cli
from experiments.kinds import restore
from ued.host import device_count_of

MAZE = ["--maze-size", "5", "--n-walls", "3", "--num-envs", "4", "--num-steps", "8",
        "--chunk-size", "1", "--eval-every", "0", "--num-validation-levels", "0",
        "--progress", "false", "--plot", "false", "--network", "small-ff", "--num-seeds", "4",
        "--checkpoint-every", "1"]  # fmt: skip
HADES = ["--population", "4", "--dataset-size", "2", "--inner-steps", "2", "--hidden", "4",
         "--eval-envs", "1", "--eval-steps", "4", "--chunk-size", "1", "--eval-policies", "0",
         "--progress", "false", "--plot", "false"]  # fmt: skip
_VOLATILE = ("time", "sps", "per_s", "wall")
# float agreement of a sharded and an unsharded program: XLA:CPU compiles the per-device program
# for its own batch shape, and reductions and dot products over a different batch may round
# differently (a few ulps that compound over updates); integers (levels, buffer slots, branch
# counts) must agree exactly
RTOL, ATOL = 1e-4, 1e-6


def rows(run: Path) -> list[dict]:
    """The metrics rows without wall-clock fields."""
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        out.append({k: v for k, v in row.items() if not any(t in k for t in _VOLATILE)})
    return out


def compare_rows(a: list[dict], b: list[dict]) -> dict:
    """Exact equality, the largest relative difference of numbers, and the keys whose
    non-float values differ (branch counts, updates, ...)."""
    worst, exact_diff, close = 0.0, set(), True
    for x, y in zip(a, b, strict=True):
        for k in set(x) | set(y):
            u, v = np.asarray(x.get(k), dtype=object), np.asarray(y.get(k), dtype=object)
            try:
                fu, fv = np.asarray(x.get(k), float), np.asarray(y.get(k), float)
            except (TypeError, ValueError):
                if not (u.shape == v.shape and (u == v).all()):
                    exact_diff.add(k)
                continue
            if k.startswith(("branch/", "cur/branch/", "update", "env_steps", "trained")):
                if not np.array_equal(fu, fv):
                    exact_diff.add(k)
            close &= bool(np.allclose(fu, fv, rtol=RTOL, atol=ATOL, equal_nan=True))
            ok = np.isfinite(fu) & np.isfinite(fv)
            if ok.any():
                worst = max(worst, float(np.abs(fu - fv)[ok].max()))
    return {"equal": a == b, "allclose": close, "max_abs": worst,
            "exact_keys_differ": sorted(exact_diff)}  # fmt: skip


def compare_states(a, b) -> dict:
    """Integer leaves (levels, buffer slots, counters) exactly; float leaves by relative
    difference; bitwise over all."""
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    ints_equal, close, bitwise = True, True, True
    for x, y in zip(la, lb, strict=True):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        x, y = np.asarray(x), np.asarray(y)
        bitwise &= x.tobytes() == y.tobytes()
        if np.issubdtype(x.dtype, np.floating):
            close &= bool(np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True))
        else:
            ints_equal &= bool(np.array_equal(x, y))
    return {"bitwise": bool(bitwise), "ints_equal": bool(ints_equal), "allclose": close}


def train(argv: list[str]) -> None:
    rc = cli.main(argv)
    if rc != 0:
        raise SystemExit(f"openued {' '.join(argv)} exited {rc}")


def main(root: Path) -> dict:
    out: dict = {"devices": jax.local_device_count()}
    d4, d1 = root / "d4", root / "d1"
    train(["train", "maze-plr", *MAZE, "--num-updates", "3", "--devices", "4", "--out", str(d4)])
    train(["train", "maze-plr", *MAZE, "--num-updates", "3", "--devices", "1", "--out", str(d1)])
    out["seeds_rows"] = compare_rows(rows(d4), rows(d1))
    r4, r1 = restore(d4), restore(d1)
    out["seeds_state"] = compare_states(r4.state, r1.state)

    # the programs a 4-device run trains with place every leaf on the 4 devices
    from experiments.kinds.ued import experiment
    from ued.host import seed_keys

    _, (init, run), _ = experiment(r4.config)
    state = init(seed_keys(0, 4))
    state, metrics = run(state, 1)
    out["spans_state"] = device_count_of(state)
    out["spans_metrics"] = device_count_of(metrics)
    out["one_device_run_spans"] = device_count_of(experiment(r1.config)[1][0](seed_keys(0, 4)))

    # save on 4 devices, resume on 1 (and on 4)
    for n in ("1", "4"):
        part = root / f"resume{n}"
        train(["train", "maze-plr", *MAZE, "--num-updates", "2", "--devices", "4",
               "--out", str(part)])  # fmt: skip
        train(["train", "--resume", str(part), "--num-updates", "3", "--devices", n])
        out[f"resume_on_{n}_rows"] = compare_rows(rows(part), rows(d4))
        out[f"resume_on_{n}_state"] = compare_states(restore(part).state, r4.state)

    # the ES population sharded over 4 devices against one device
    h4, h1 = root / "h4", root / "h1"
    train(["hades", "train", "cartpole", *HADES, "--generations", "3", "--devices", "4",
           "--out", str(h4)])  # fmt: skip
    train(["hades", "train", "cartpole", *HADES, "--generations", "3", "--devices", "1",
           "--out", str(h1)])  # fmt: skip
    out["population_rows"] = compare_rows(rows(h4), rows(h1))
    out["population_state"] = compare_states(restore(h4).state, restore(h1).state)
    return out


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(Path(sys.argv[1]))))
