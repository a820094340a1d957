"""One-shot benchmark suite for a machine lent for a few minutes: every benchmark at GPU sizes,
with jaxued's equivalents side by side where they exist, one table at the end. Host only.

Run through ``benchmarks/gpu_suite.sh`` (which installs the project first); ``--cpu-smoke`` runs
every step at tiny sizes, so CI checks that the script works without a GPU. Each step runs in a
subprocess under its own time limit and writes its output to ``OUT/STEP.log`` (and its JSON lines
to ``OUT/STEP.jsonl``); the table gives per step its status, wall time and headline numbers
(the throughput fields of its JSON). The exit status is 1 when any step failed or timed out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# fields of the benchmarks' JSON lines shown in the table, in this order of preference
HEADLINES = ("env_steps_per_s", "generations_per_s", "levels_per_s", "steps_per_s", "ops_per_s")
LABELS = ("impl", "curriculum", "update_kind", "num_envs", "population", "batch", "op")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def steps(smoke: bool, out: Path, jaxued: bool) -> list[tuple[str, list[str], int]]:
    """``(name, argv, time limit in seconds)`` of every step."""
    cmp_ = ["--compare", "jaxued"] if jaxued else []
    ob = [PY, "-m", "experiments.cli"]
    run = str(out / "maze-run")
    if smoke:
        return [
            ("env", [PY, "benchmarks/env_throughput.py", "--num-envs", "64", "--repeats", "1",
                     "--json", *cmp_], 240),
            # jaxued's step needs an episode (250 steps) to end inside the rollout
            ("train", [PY, "benchmarks/train_throughput.py", "--num-envs", "4", "--num-steps",
                       "256" if jaxued else "8", "--updates", "1", "--curricula", "robust-plr", "--network",
                       "small-ff", "--json", *cmp_], 300),
            ("paired", [PY, "benchmarks/train_throughput.py", "--curriculum", "paired",
                        "--num-envs", "4", "--num-steps", "8", "--updates", "1", "--rounds",
                        "1", "--out", "", "--json"], 300),
            ("buffer", [PY, "benchmarks/buffer_throughput.py", "--min-time", "0.05", "--batch",
                        "8", "--json", *cmp_], 180),
            ("es", [PY, "benchmarks/es_throughput.py", "--populations", "8", "--generations",
                    "1", "--bc-steps", "2", "--eval-envs", "1", "--json"], 240),
            ("hades", [*ob, "hades", "train", "cartpole", "--generations", "1", "--population",
                       "4", "--dataset-size", "2", "--inner-steps", "2", "--hidden", "4",
                       "--eval-envs", "1", "--eval-steps", "4", "--eval-policies", "1",
                       "--progress", "false", "--plot", "false", "--out", str(out / "hades")],
             240),
            ("maze", [*ob, "train", "maze-robust-plr", "--maze-size", "5", "--n-walls", "3",
                      "--num-envs", "4", "--num-steps", "8", "--num-updates", "2",
                      "--network", "small-ff", "--num-validation-levels", "8", "--eval-every",
                      "0", "--progress", "false", "--plot", "false", "--out", run], 300),
            ("maze-eval", [*ob, "eval", run], 180),
        ]  # fmt: skip
    return [
        ("env", [PY, "benchmarks/env_throughput.py", "--num-envs", "4096", "16384", "65536",
                 "--repeats", "5", "--json", *cmp_], 300),
        ("train", [PY, "benchmarks/train_throughput.py", "--num-envs", "32,256", "--updates",
                   "3", "--json", *cmp_], 420),
        ("paired", [PY, "benchmarks/train_throughput.py", "--curriculum", "paired", "--rounds",
                    "1", "--updates", "2", "--out", "", "--json", *cmp_], 420),
        ("buffer", [PY, "benchmarks/buffer_throughput.py", "--min-time", "1", "--json", *cmp_],
         240),
        ("es", [PY, "benchmarks/es_throughput.py", "--populations", "256", "1024", "4096",
                "--generations", "2", "--json"], 420),
        ("hades", [*ob, "hades", "train", "cartpole", "--generations", "20", "--progress",
                   "false", "--plot", "false", "--out", str(out / "hades")], 420),
        # two minutes of training (interrupted at a checkpoint), then its validation solve rate
        ("maze", ["timeout", "-s", "INT", "120", *ob, "train", "maze-robust-plr",
                  "--num-updates", "100000", "--checkpoint-every", "25", "--eval-every", "0",
                  "--progress", "false", "--plot", "false", "--out", run], 300),
        ("maze-eval", [*ob, "eval", run], 240),
    ]  # fmt: skip


def headline(lines: list[dict]) -> str:
    """The throughput fields of a step's JSON lines, labelled: ``impl=openued num_envs=4096:
    3.1e+06 env_steps_per_s``; ``eval.json``-like objects give their held-out solve rate."""
    parts = []
    for rec in lines:
        if "headline" in rec and isinstance(rec["headline"], dict):
            h = rec["headline"]
            parts.append(f"{h.get('set')} solve rate {h.get('mean'):.3f} (update {rec.get('update')})")
            continue
        results = rec["results"] if isinstance(rec.get("results"), list) else [rec]
        for res in results:
            key = next((k for k in HEADLINES if isinstance(res.get(k), int | float)), None)
            if key is None:
                continue
            label = " ".join(f"{k}={res[k]}" for k in LABELS if k in res)
            parts.append(f"{label}: {res[key]:.3g} {key}")
    return "; ".join(parts) if parts else ""


def device_name() -> str:
    """The accelerator's name (``nvidia-smi``), else JAX's default device."""
    if shutil.which("nvidia-smi"):
        p = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                           capture_output=True, text=True)  # fmt: skip
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip().splitlines()[0]
    p = subprocess.run([PY, "-c", "import jax; print(jax.devices()[0].device_kind)"],
                       capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    return p.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu-smoke", action="store_true", help="every step at tiny sizes")
    ap.add_argument("--out", default="benchmarks/gpu_suite_out", help="logs and JSON")
    ap.add_argument("--only", nargs="*", default=None, help="run these steps only")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    jaxued = _has("jaxued")
    card = device_name()
    rows, failed = [], False
    t_all = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name, cmd, limit in steps(args.cpu_smoke, out, jaxued):
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=limit)  # fmt: skip
            rc, text = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            rc, text = "timeout", f"{e.stdout or ''}{e.stderr or ''}"
            text = text.decode() if isinstance(text, bytes) else text
        wall = time.perf_counter() - t0
        (out / f"{name}.log").write_text(text)
        recs = []
        for ln in text.splitlines():
            if ln.startswith("{"):
                try:
                    recs.append(json.loads(ln))
                except ValueError:
                    pass
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
        # the two-minute maze run ends by the interrupt (130, at a checkpoint): that is success
        ok = rc == 0 or (name == "maze" and not args.cpu_smoke and rc in (124, 130))
        failed |= not ok
        rows.append((name, "ok" if ok else f"FAILED ({rc})", wall, headline(recs)))
        print(f"{name}: {'ok' if ok else 'FAILED'} in {wall:.0f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - t_all
    mode = "cpu smoke (tiny sizes)" if args.cpu_smoke else "GPU sizes"
    print(f"\nopenued benchmark suite on {card}: {mode}; jaxued side by side: "
          f"{'yes' if jaxued else 'no (not installed)'}; {total:.0f} s in all\n")  # fmt: skip
    print("| step | status | wall s | headline |\n|---|---|---|---|")
    for name, status, wall, head in rows:
        print(f"| {name} | {status} | {wall:.0f} | {head} |")
    summary = {"device": card, "mode": mode, "jaxued": jaxued, "total_s": total,
               "steps": [dict(zip(("step", "status", "wall_s", "headline"), r, strict=True))
                         for r in rows]}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
