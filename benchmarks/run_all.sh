#!/usr/bin/env bash
# Reproduce benchmarks/RESULTS.md: every benchmark, one after the other, JSON lines to OUT.
# Needs the bench extra for the side-by-side jaxued runs: pip install -e ".[bench]"
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/out}
mkdir -p "$OUT"
PY=${PYTHON:-python}
$PY benchmarks/env_throughput.py --num-envs 256 4096 --compare jaxued --repeats 7 --json | tee "$OUT/env.jsonl"
$PY benchmarks/buffer_throughput.py --compare jaxued --min-time 4 --json | tee "$OUT/buffer.jsonl"
$PY benchmarks/train_throughput.py --num-envs 32,256 --compare jaxued --updates 5 --json | tee "$OUT/train.jsonl"
$PY benchmarks/train_throughput.py --curriculum paired --compare jaxued --rounds 3 --updates 2 --json --out "$OUT/paired_throughput.json" | tee "$OUT/paired.jsonl"
$PY benchmarks/es_throughput.py --populations 256 1024 --generations 2 --json | tee "$OUT/es.jsonl"
$PY benchmarks/synth_throughput.py --env cartpole --kind scb --json | tee "$OUT/synth.jsonl"
