#!/usr/bin/env bash
# The one-shot benchmark suite for a GPU machine lent for a few minutes (budget: 5 minutes in
# all, compilation included, so that a rerun fits in a 15-minute loan).
#
#   benchmarks/gpu_suite.sh [--wheels DIR] [--cpu-smoke] [--out DIR] [--only STEP ...]
#
# 1. installs the project with its bench extra (jaxued, for the side-by-side rows) into the
#    machine's Python, which already has JAX with CUDA: from DIR (default benchmarks/wheels,
#    filled beforehand by benchmarks/gpu_wheels.sh) with --no-index when the folder exists,
#    else from the package index;
# 2. runs every benchmark at GPU sizes (benchmarks/gpu_suite.py: env at 4096/16384/65536 envs,
#    train at 32 and 256 envs, the PAIRED update, the level buffer, ES at population
#    256/1024/4096, the HaDES CartPole preset end to end, two minutes of maze robust PLR and its
#    validation solve rate), jaxued's equivalents beside ours where they exist;
# 3. prints one table with the card's name and exits non-zero if any step failed.
#
# --cpu-smoke runs every step at tiny sizes on whatever device there is (CI runs it as a step
# of its own, in under 6 minutes) and installs nothing unless --wheels is given.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEELS=""
smoke=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) WHEELS="$2"; shift 2 ;;
    --cpu-smoke) smoke=1; args+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -n "$WHEELS" ] || [ "$smoke" = 0 ]; then
  WHEELS=${WHEELS:-benchmarks/wheels}
  if [ -d "$WHEELS" ]; then
    echo "installing from $WHEELS (no index)" >&2
    "$PY" -m pip install --quiet --no-index --find-links "$WHEELS" -e ".[bench]"
  else
    echo "no wheel folder $WHEELS: installing from the package index" >&2
    "$PY" -m pip install --quiet -e ".[bench]"
  fi
fi
exec "$PY" benchmarks/gpu_suite.py "${args[@]}"
