"""Compare the benchmarks of two source trees of the toolkit, alternating, on one machine.

Machines are noisy, so speed is judged by ratios measured side by side: each round runs every
benchmark of ``benchmarks/run_all.sh`` (at reduced repeat counts) once in the ``--old`` tree and
once in the ``--new`` tree, alternating which goes first, and the table reports, per measured
row, the median over rounds of the per-round ratio ``new / old`` of its throughput field. With
``--peer``, ``../shared/bench/jaxued_plr_step.py`` (an independent rebuild of jaxued's maze
robust-PLR step) runs in every round too, and the trainer's replay / new-level rates of both
trees are divided by the peer's rate of the same round.

Usage (from the repository root; the old tree is e.g. ``git archive OLD | tar -x -C /tmp/old``)::

    python benchmarks/ab_compare.py --old /tmp/old --new . --rounds 3 --json ab.json

Each tree is run with ``PYTHONPATH`` set to it, so the same interpreter and packages serve both.
Host-side only (starts subprocesses); prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# (name, argv after the interpreter) at repeat counts that keep a round to a few minutes
BENCHMARKS: dict[str, list[str]] = {
    # 15 repeats: a 256-env call takes ~2-3 ms, so 3 repeats timed ~8 ms in all and one
    # neighbour's time slice moved the row by 20-40%
    "env": ["benchmarks/env_throughput.py", "--num-envs", "256", "4096", "--repeats", "15"],
    "buffer": ["benchmarks/buffer_throughput.py", "--min-time", "2"],
    "train": [
        "benchmarks/train_throughput.py",
        "--num-envs",
        "32",
        "--updates",
        "3",
        "--compare",
        "jaxued",
    ],
    "es": ["benchmarks/es_throughput.py", "--populations", "256", "--generations", "2"],
    "synth": ["benchmarks/synth_throughput.py", "--env", "cartpole", "--kind", "scb"],
}
# the throughput field of a row (higher is better), by priority
METRICS = ("env_steps_per_s", "steps_per_s", "ops_per_s", "generations_per_s")
# fields that describe a measurement rather than identify the row
NOISE = {
    "median_update_s",
    "median_cpu_s",
    "samples",
    "compile_s",
    "peak_rss_mb",
    "peak_device_bytes",
    "seconds",
    "ops",
    "median_s",
    "real_steps_per_s",
    "plain_rollout_env_steps_per_s",
    "compile_plus_first_s",
    "cpu_s_per_generation",
    "plain_cpu_s_per_generation",
    "hades_over_plain_time_ratio",
    "hades_over_plain_cpu_ratio",
    "ratio",
    "openued_env_steps_per_s",
    "jaxued_env_steps_per_s",
    "wall_s",
}


def _rows(stdout: str) -> list[dict]:
    rows = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(d.get("results"), list):
            rows.extend(
                {**{k: v for k, v in d.items() if k != "results"}, **r} for r in d["results"]
            )
        else:
            rows.append(d)
    return rows


def _key(row: dict) -> tuple:
    return tuple(
        sorted(
            (k, json.dumps(v))
            for k, v in row.items()
            if k not in NOISE and k not in METRICS and not isinstance(v, float)
        )
    )


def _metric(row: dict) -> str | None:
    return next((m for m in METRICS if isinstance(row.get(m), int | float)), None)


def run_one(tree: Path, argv: list[str], timeout: float) -> tuple[list[dict], float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, *argv, "--json"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if res.returncode:
        raise RuntimeError(f"{tree}: {' '.join(argv)} failed:\n{res.stderr[-2000:]}")
    return _rows(res.stdout), time.perf_counter() - t0


def run_peer(shared: Path, timeout: float) -> dict:
    res = subprocess.run(
        [
            sys.executable,
            "jaxued_plr_step.py",
            "--num-envs",
            "32",
            "--num-steps",
            "256",
            "--updates",
            "3",
            "--modes",
            "dr",
            "replay",
        ],
        cwd=shared / "bench",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if res.returncode:
        raise RuntimeError(f"peer step failed:\n{res.stderr[-2000:]}")
    return _rows(res.stdout)[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="source tree of the old code")
    ap.add_argument("--new", type=Path, default=Path("."), help="source tree of the new code")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="subset of benchmarks")
    ap.add_argument("--peer", action="store_true", help="also run ../shared/bench's jaxued step")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark run")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error(f"--rounds must be >= 1, got {args.rounds}")
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    names = args.only or list(BENCHMARKS)
    # ratios[(bench, key)] -> list of per-round new/old ratios; values[...] -> per-tree values
    ratios: dict[tuple, list[float]] = {}
    cpu_ratios: dict[tuple, list[float]] = {}
    values: dict[tuple, dict[str, list[float]]] = {}
    labels: dict[tuple, str] = {}
    peer_ratios: dict[str, dict[str, list[float]]] = {}
    for r in range(args.rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        shared = Path(__file__).resolve().parents[2] / "shared"
        peer = run_peer(shared, args.timeout) if args.peer else None
        for name in names:
            got = {}
            for which in order:
                rows, wall = run_one(trees[which], BENCHMARKS[name], args.timeout)
                got[which] = {_key(x): x for x in rows if _metric(x)}
                print(
                    f"round {r + 1} {name:6s} {which}: {len(rows)} rows in {wall:.0f} s", flush=True
                )
            for k, old_row in got["old"].items():
                new_row = got["new"].get(k)
                if new_row is None:
                    continue
                m = _metric(old_row)
                kk = (name, k)
                labels[kk] = (
                    f"{name}: "
                    + ", ".join(
                        f"{a}={json.loads(b)}"
                        for a, b in k
                        if a not in ("device", "backend", "platform", "machine", "cpu_count")
                    )
                    + f" [{m}]"
                )
                ratios.setdefault(kk, []).append(new_row[m] / old_row[m])
                oc, nc = old_row.get("median_cpu_s"), new_row.get("median_cpu_s")
                if isinstance(oc, int | float) and isinstance(nc, int | float) and nc > 0:
                    # speed ratio by CPU time (higher is better, like the throughput ratio)
                    cpu_ratios.setdefault(kk, []).append(oc / nc)
                v = values.setdefault(kk, {"old": [], "new": []})
                v["old"].append(old_row[m])
                v["new"].append(new_row[m])
                if peer is not None and name == "train" and old_row.get("impl") == "openued":
                    kind = old_row.get("update_kind")
                    pk = {"replay": "replay", "new": "dr"}.get(kind)
                    if pk and old_row.get("curriculum") == "robust-plr":
                        p = peer["env_steps_per_s"][pk]["median"]
                        d = peer_ratios.setdefault(kind, {"old": [], "new": [], "peer": []})
                        d["old"].append(old_row[m] / p)
                        d["new"].append(new_row[m] / p)
                        d["peer"].append(p)
    out = []
    print(f"\n{'row':90s} {'old':>12s} {'new':>12s} {'new/old (median of rounds)':>28s}")
    for kk, rs in ratios.items():
        v = values[kk]
        rec = {
            "row": labels[kk],
            "old_median": statistics.median(v["old"]),
            "new_median": statistics.median(v["new"]),
            "ratios": rs,
            "median_ratio": statistics.median(rs),
        }
        if kk in cpu_ratios:
            rec["cpu_ratios"] = cpu_ratios[kk]
            rec["median_cpu_ratio"] = statistics.median(cpu_ratios[kk])
        out.append(rec)
        print(
            f"{labels[kk][:90]:90s} {rec['old_median']:12.4g} {rec['new_median']:12.4g} "
            f"{rec['median_ratio']:10.3f}  ({', '.join(f'{x:.3f}' for x in rs)})"
            + (
                f"  cpu {rec['median_cpu_ratio']:.3f} "
                f"({', '.join(f'{x:.3f}' for x in cpu_ratios[kk])})"
                if kk in cpu_ratios
                else ""
            )
        )
    peer_out = {}
    for kind, d in peer_ratios.items():
        peer_out[kind] = {
            "peer_env_steps_per_s": d["peer"],
            "old_over_peer": d["old"],
            "new_over_peer": d["new"],
            "old_over_peer_median": statistics.median(d["old"]),
            "new_over_peer_median": statistics.median(d["new"]),
        }
        print(
            f"trainer robust-plr {kind} vs ../shared/bench jaxued step: old "
            f"{statistics.median(d['old']):.2f}x, new {statistics.median(d['new']):.2f}x "
            f"(peer {', '.join(f'{x:,.0f}' for x in d['peer'])} env steps/s)"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": out, "peer": peer_out}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
