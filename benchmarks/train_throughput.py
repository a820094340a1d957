"""Env steps/s of full train updates (rollout + GAE + scores + PPO + curriculum) on the Maze.

For each curriculum (``dr``, ``robust-plr``, ``accel``, ``ncc``) and each ``--num-envs``, one jitted
``update(state)`` of the published maze settings (``experiments.kinds.ued``: standard maze network,
LSTM 256, 5 epochs x 1 minibatch, buffer 4000, 256 steps) is compiled (timed separately) and then
called update by update; each update is timed (``block_until_ready``) and classified by the branch
its proposal came from (``new``, ``replay``, ``mutate``). Reported per kind: the median update
time and ``env_steps_per_s = num_envs * num_steps / median``.

Robust PLR's ``new`` updates train on nothing, so the trainer skips the whole gradient step there
(``lax.cond``): that is the update kind where it differs most from implementations that run the
network's update passes and throw the gradient away.

Each row also gives the median process CPU time per update (all threads), a figure that is
less sensitive to other load on a shared machine than the wall-clock rate.

The only deviation from the published settings is ``min_fill = 0`` so replay can start after the
first update instead of after 2000 inserted levels (the buffer work per update is the same: the
capacity stays 4000).

``ncc`` (``curricula.ncc``, the ``maze-ncc`` preset's CPU-scaled defaults: 64 buffer levels, 16
fresh levels and 4 evaluation copies per level at every update) runs the same student, rollout
and PPO settings; every update replays (``update_kind = "replay"``) and, from the second on,
first probes the student on ``4 x (64 + 16)`` levels for one episode limit each and takes the
distribution's step. When ``robust-plr`` and ``ncc`` are both measured a ratio row
(``impl == "ratio"``, ``curriculum == "ncc/robust-plr"``) gives NCC's median update time over
robust PLR's replay update time (and the same for CPU time).

``--compare jaxued`` also runs the published jaxued maze robust-PLR train step, rebuilt on
jaxued's public API (``benchmarks/jaxued_plr.py``; needs the ``bench`` extra), in the same
process right after ours with the same sizes, and prints openued / jaxued ratios per update kind
(JSON rows with ``impl == "ratio"``).

``--curriculum paired`` (``update_kind = "paired"``): one whole PAIRED update
(``curricula.make_paired`` passed to ``ued.make_train``): the teacher's episode of 50 edit steps
in ``ued.editor.EditorEnv`` over ``envs.maze.make_maze_space(cfg, num_edits=50)`` (noise 50, the
``TEACHER_NETWORK``), the protagonist's and the antagonist's rollouts on its levels and three PPO
updates (protagonist, antagonist, teacher), on the 13x13 maze (the space's generator draws 25
blocks; the teacher is not bound by it) with the published student settings and
``PPOConfig()`` / ``PPOParams()`` for the teacher. ``env_steps_per_s`` counts the students'
steps, ``2 * num_envs * num_steps`` per update (jaxued's own count); the teacher's
``num_envs * 50`` editor steps per update are reported separately (``teacher_steps_per_s``).
With ``--compare jaxued`` the peer is ``benchmarks/jaxued_paired_step.py`` (jaxued's
``maze_paired.py`` train step rebuilt on its public API, same settings): both are compiled first,
then timed in ``--rounds`` alternating rounds of ``--updates`` updates each (the order flips
every round); the ratio row gives the median of the per-round ratios of the median update
times. The rows are also written to ``--out`` (default ``benchmarks/paired_throughput.json``).

Peak memory: the process's peak RSS (CPU) and, on accelerators, the device's
``peak_bytes_in_use``.

    python benchmarks/train_throughput.py                       # 32 and 256 envs
    python benchmarks/train_throughput.py --num-envs 32 --updates 5 --json
    python benchmarks/train_throughput.py --curricula robust-plr --compare jaxued
    python benchmarks/train_throughput.py --num-envs 32 --curricula robust-plr,ncc
    python benchmarks/train_throughput.py --curriculum paired --compare jaxued   # 32 envs
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

import jax

from experiments.kinds import ued as P

KINDS = ("new", "replay", "mutate")
CURRICULA = {
    "dr": "maze-dr",
    "robust-plr": "maze-robust-plr",
    "accel": "maze-accel",
    "ncc": "maze-ncc",
}
# the curricula with a level buffer whose min_fill option exists (NCC's buffer starts full)
_MIN_FILL = ("robust-plr", "accel")


def _kind(m) -> str:
    # a curriculum logs only the branches it has (DR: none; robust PLR: no mutate)
    if int(m.get("branch/mutate", 0)) > 0:
        return "mutate"
    if int(m.get("branch/replay", 0)) > 0:
        return "replay"
    return "new"


def _peak_device_bytes():
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:
        return None
    return stats.get("peak_bytes_in_use")


def measure(
    curriculum: str,
    num_envs: int,
    num_steps: int,
    updates: int,
    network: str,
    max_updates: int,
    seed: int = 0,
) -> list[dict]:
    cfg = P.make_config(
        CURRICULA[curriculum],
        dict(
            num_envs=num_envs,
            num_steps=num_steps,
            network=network,
            seed=seed,
            num_validation_levels=0,
            # DR has no level buffer, NCC's starts full (the option does not apply to them)
            **({"min_fill": 0.0} if curriculum in _MIN_FILL else {}),
        ),
    )
    exp = P.build_experiment(cfg)
    tr = exp.trainer
    state = jax.jit(tr.init)(jax.random.key(seed))
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    upd = jax.jit(tr.update).lower(state).compile()
    compile_s = time.perf_counter() - t0
    wanted = {
        "dr": ("new",),
        "robust-plr": ("new", "replay"),
        "accel": ("new", "replay", "mutate"),
        "ncc": ("replay",),
    }[curriculum]
    times: dict[str, list[float]] = {k: [] for k in wanted}
    cpu: dict[str, list[float]] = {k: [] for k in wanted}
    # one warm-up update of each kind is discarded (first-call effects)
    seen: set[str] = set()
    n = 0
    while n < max_updates and any(len(times[k]) < updates for k in wanted):
        t, c = time.perf_counter(), time.process_time()
        state, m = upd(state)
        jax.block_until_ready((state, m))
        dt = time.perf_counter() - t
        dc = time.process_time() - c
        kind = _kind(jax.device_get(m))
        n += 1
        if kind not in seen:
            seen.add(kind)
            continue
        if kind in times and len(times[kind]) < updates:
            times[kind].append(dt)
            cpu[kind].append(dc)
    dev = jax.devices()[0]
    out = []
    for kind in wanted:
        ts = times[kind]
        if not ts:
            continue
        med = statistics.median(ts)
        out.append(
            {
                "impl": "openued",
                "curriculum": curriculum,
                "update_kind": kind,
                "num_envs": num_envs,
                "num_steps": num_steps,
                "network": network,
                "env_steps_per_s": num_envs * num_steps / med,
                "median_update_s": med,
                # process CPU seconds per update (all threads): a load-robust cost figure
                "median_cpu_s": statistics.median(cpu[kind]),
                "samples": len(ts),
                "compile_s": compile_s,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "peak_device_bytes": _peak_device_bytes(),
                "device": f"{dev.platform}:{getattr(dev, 'device_kind', str(dev))}",
            }
        )
    return out


# the maze-paired preset's published settings (jaxued's adv_num_steps 50; minimax's noise 50)
_PAIRED_PRESET = P.make_config("maze-paired", {})
PAIRED_TEACHER_STEPS = _PAIRED_PRESET.teacher_steps
PAIRED_NOISE_DIM = _PAIRED_PRESET.noise_dim
PAIRED_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paired_throughput.json")


def build_paired(num_envs: int, num_steps: int, network: str, seed: int = 0):
    """openued's PAIRED trainer: the ``maze-paired`` preset as ``openued train`` builds it
    (13x13, 25 blocks, view 5, 250 steps; module docstring) at ``num_envs`` x ``num_steps``:
    ``(trainer, experiment config, curriculum, level space)``."""
    cfg = P.make_config(
        "maze-paired",
        dict(
            num_envs=num_envs,
            num_steps=num_steps,
            network=network,
            seed=seed,
            num_validation_levels=0,
        ),
    )
    exp = P.build_experiment(cfg)
    return exp.trainer, cfg, exp.curriculum, exp.space


def prepare_update(fn, state):
    """AOT-compile ``fn(state) -> (state, metrics)``: ``(call, compile_s)``, ``call()`` runs one
    update on the held state (after one discarded warm-up call) -> (wall s, process CPU s)."""
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(state).compile()
    compile_s = time.perf_counter() - t0
    box = {"s": state}

    def call():
        t, c = time.perf_counter(), time.process_time()
        box["s"], m = compiled(box["s"])
        jax.block_until_ready((box["s"], m))
        return time.perf_counter() - t, time.process_time() - c

    call()
    return call, compile_s


def measure_paired(
    num_envs: int,
    num_steps: int,
    updates: int,
    network: str,
    rounds: int,
    compare: str | None,
    seed: int = 0,
) -> list[dict]:
    """Rows for ``update_kind = "paired"``: openued, and with ``compare="jaxued"`` the rebuilt
    jaxued step and the ratio (module docstring)."""
    tr, cfg, _, _ = build_paired(num_envs, num_steps, network, seed)
    state = jax.jit(tr.init)(jax.random.key(seed))
    jax.block_until_ready(state)
    impls = {"openued": prepare_update(tr.update, state)}
    peer_settings = {}
    if compare == "jaxued":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from jaxued_paired_step import prepare_jaxued_paired  # needs the `bench` extra

        call, compile_s, peer_settings = prepare_jaxued_paired(
            num_envs, num_steps, seed, noise_dim=PAIRED_NOISE_DIM, live_noise=True
        )
        impls["jaxued"] = (call, compile_s)
    names = list(impls)
    times: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    round_med: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            ts = [impls[name][0]() for _ in range(updates)]
            times[name] += [t for t, _ in ts]
            cpu[name] += [c for _, c in ts]
            round_med[name].append(statistics.median(t for t, _ in ts))
    dev = jax.devices()[0]
    student_steps = 2 * num_envs * num_steps
    teacher_steps = num_envs * PAIRED_TEACHER_STEPS
    common = {
        "curriculum": "paired",
        "update_kind": "paired",
        "num_envs": num_envs,
        "num_steps": num_steps,
        "teacher_steps": PAIRED_TEACHER_STEPS,
        "noise_dim": PAIRED_NOISE_DIM,
        "maze": f"{cfg.maze_size}x{cfg.maze_size}",
        "n_walls": cfg.n_walls,
        "env_steps_per_update": student_steps,
        "env_steps_counted": "students only: protagonist + antagonist, 2 x num_envs x num_steps",
        "teacher_steps_per_update": teacher_steps,
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', str(dev))}",
    }
    out = []
    for name in names:
        med = statistics.median(times[name])
        row = {
            "impl": name,
            **common,
            "network": network if name == "openued" else "jaxued maze_paired nets",
            "env_steps_per_s": student_steps / med,
            "teacher_steps_per_s": teacher_steps / med,
            "median_update_s": med,
            "median_cpu_s": statistics.median(cpu[name]),
            "round_median_update_s": round_med[name],
            "samples": len(times[name]),
            "compile_s": impls[name][1],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "peak_device_bytes": _peak_device_bytes(),
        }
        if name == "jaxued":
            row["settings"] = peer_settings
        out.append(row)
    if "jaxued" in impls:
        per_round = [t / o for o, t in zip(round_med["openued"], round_med["jaxued"], strict=True)]
        cpu_ratio = statistics.median(cpu["jaxued"]) / statistics.median(cpu["openued"])
        out.append(
            {
                "impl": "ratio",
                **common,
                "ratio": statistics.median(per_round),
                "round_ratios": per_round,
                "rounds": rounds,
                "updates_per_round": updates,
                "cpu_ratio": cpu_ratio,
                "openued_env_steps_per_s": out[0]["env_steps_per_s"],
                "jaxued_env_steps_per_s": out[1]["env_steps_per_s"],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--num-envs",
        default=None,
        help="comma-separated env counts (default 32,256; 32 when only paired is run)",
    )
    p.add_argument("--num-steps", type=int, default=256)
    p.add_argument("--updates", type=int, default=5, help="timed updates per update kind")
    p.add_argument("--max-updates", type=int, default=60, help="give up after this many")
    p.add_argument(
        "--curricula",
        "--curriculum",
        dest="curricula",
        default="dr,robust-plr,accel",
        help=f"comma-separated, from {', '.join([*CURRICULA, 'paired'])}",
    )
    p.add_argument("--rounds", type=int, default=3, help="paired: alternating timing rounds")
    p.add_argument("--out", default=PAIRED_OUT, help="paired: JSON file of its rows ('' = none)")
    p.add_argument("--network", default="maze", help="ued.networks.NETWORK_PRESETS name")
    p.add_argument("--json", action="store_true", help="one JSON object per measurement")
    p.add_argument("--compare", choices=["jaxued"], default=None)
    args = p.parse_args(argv)
    curs = [c for c in args.curricula.split(",") if c]
    for c in curs:
        if c not in CURRICULA and c != "paired":
            p.error(f"--curricula: unknown {c!r}; allowed: {', '.join([*CURRICULA, 'paired'])}")
    if args.num_envs is None:
        args.num_envs = "32" if curs == ["paired"] else "32,256"
    envs = [int(x) for x in args.num_envs.split(",") if x]
    if not args.json:
        print(
            f"device: {jax.devices()[0]}  steps/update: num_envs x {args.num_steps}",
            file=sys.stderr,
        )

    def emit(row):
        if args.json:
            print(json.dumps(row), flush=True)
            return
        if row["impl"] == "ratio" and row["update_kind"] == "paired":
            print(
                f"{'paired':>11s} {'paired':>7s} envs={row['num_envs']:<4d} "
                f"openued / jaxued = {row['ratio']:.2f}x (median of "
                f"{', '.join(f'{r:.2f}' for r in row['round_ratios'])}; CPU-time ratio "
                f"{row['cpu_ratio']:.2f}x)",
                flush=True,
            )
            return
        if row["impl"] == "ratio" and row["curriculum"] == "ncc/robust-plr":
            print(
                f"{'ncc':>11s} {'replay':>7s} envs={row['num_envs']:<4d} update time ncc / "
                f"robust-plr = {row['ratio']:.2f}x (CPU time {row['cpu_ratio']:.2f}x)",
                flush=True,
            )
            return
        if row["impl"] == "ratio":
            print(
                f"{row['curriculum']:>11s} {row['update_kind']:>7s} envs={row['num_envs']:<4d} "
                f"openued / jaxued = {row['ratio']:.2f}x",
                flush=True,
            )
            return
        print(
            f"{row['impl']:>8s} {row['curriculum']:>11s} {row['update_kind']:>7s} "
            f"envs={row['num_envs']:<4d} {row['env_steps_per_s']:>10,.0f} env steps/s  "
            f"(median {row['median_update_s'] * 1e3:.0f} ms over {row['samples']}, "
            f"compile {row['compile_s']:.1f} s, peak RSS {row.get('peak_rss_mb', 0):.0f} MB)"
            + (
                f"  + teacher {row['teacher_steps_per_s']:,.0f} steps/s"
                if "teacher_steps_per_s" in row
                else ""
            ),
            flush=True,
        )

    paired_rows = []
    measured: dict[tuple[str, int], list[dict]] = {}

    for b in envs:
        for c in curs:
            if c == "paired":
                rows = measure_paired(
                    b, args.num_steps, args.updates, args.network, args.rounds, args.compare
                )
                for row in rows:
                    emit(row)
                paired_rows += rows
                continue
            ours = measure(c, b, args.num_steps, args.updates, args.network, args.max_updates)
            for row in ours:
                emit(row)
            measured[(c, b)] = ours
            ratio = _ncc_ratio(measured.get(("ncc", b)), measured.get(("robust-plr", b)))
            if ratio is not None and c in ("ncc", "robust-plr"):
                emit(ratio)
            if args.compare == "jaxued" and c == "robust-plr":
                # the peer runs in the same process right after ours, same sizes and settings
                theirs = _measure_jaxued(b, args.num_steps, args.updates)
                for row in theirs:
                    emit(row)
                for o in ours:
                    for t in theirs:
                        if t["update_kind"] == o["update_kind"]:
                            emit(
                                {
                                    "impl": "ratio",
                                    "curriculum": c,
                                    "update_kind": o["update_kind"],
                                    "num_envs": b,
                                    "num_steps": args.num_steps,
                                    "ratio": o["env_steps_per_s"] / t["env_steps_per_s"],
                                    "openued_env_steps_per_s": o["env_steps_per_s"],
                                    "jaxued_env_steps_per_s": t["env_steps_per_s"],
                                }
                            )
    if paired_rows and args.out:
        with open(args.out, "w") as f:
            json.dump(paired_rows, f, indent=1)
    return 0


def _ncc_ratio(ncc: list[dict] | None, plr: list[dict] | None) -> dict | None:
    """NCC's update time over robust PLR's replay update time (same process and sizes)."""
    if not ncc or not plr:
        return None
    n = next((r for r in ncc if r["update_kind"] == "replay"), None)
    p = next((r for r in plr if r["update_kind"] == "replay"), None)
    if n is None or p is None:
        return None
    return {
        "impl": "ratio",
        "curriculum": "ncc/robust-plr",
        "update_kind": "replay",
        "num_envs": n["num_envs"],
        "num_steps": n["num_steps"],
        "ratio": n["median_update_s"] / p["median_update_s"],
        "cpu_ratio": n["median_cpu_s"] / p["median_cpu_s"],
        "ncc_median_update_s": n["median_update_s"],
        "robust_plr_median_update_s": p["median_update_s"],
    }


def _measure_jaxued(num_envs: int, num_steps: int, updates: int) -> list[dict]:
    import os

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from jaxued_plr import measure_jaxued  # needs the `bench` extra (jaxued)

    rows = measure_jaxued(num_envs, num_steps, updates)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return [dict(r, peak_rss_mb=rss) for r in rows]


if __name__ == "__main__":
    sys.exit(main())
