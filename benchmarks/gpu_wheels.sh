#!/usr/bin/env bash
# Fill a wheel folder for benchmarks/gpu_suite.sh, on a machine that reaches the package index:
# every dependency of the project's bench extra, as wheels for the GPU machine's Python and
# platform (compiled ones included), plus the project itself. JAX, jaxlib and the CUDA wheels
# are left out: the GPU image brings its own (its Python and JAX may be newer than this
# machine's: 3.12 and jax 0.11.2 have been seen).
#
#   benchmarks/gpu_wheels.sh [DIR] [PYTHON_VERSION ...]     (default: benchmarks/wheels 3.11 3.12)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-benchmarks/wheels}
shift || true
VERSIONS=("$@")
[ ${#VERSIONS[@]} -eq 0 ] && VERSIONS=(3.11 3.12)
PY=${PYTHON:-python3}
mkdir -p "$DIR"
# the requirements of the project and its bench extra, read from pyproject.toml
REQS=$("$PY" - <<'PYEOF'
import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(p["dependencies"] + p["optional-dependencies"]["bench"]))
PYEOF
)
printf '%s\n' "$REQS" > "$DIR/requirements.txt"
for v in "${VERSIONS[@]}"; do
  abi="cp${v/./}"
  echo "wheels for Python $v (manylinux x86_64)" >&2
  "$PY" -m pip download --quiet --dest "$DIR" --only-binary=:all: \
    --python-version "$v" --implementation cp --abi "$abi" \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform any \
    -r "$DIR/requirements.txt"
done
# the project itself (pure Python)
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$DIR" .
# the GPU image brings these: a second copy here would only be ignored or, worse, replace them
rm -f "$DIR"/jax-*.whl "$DIR"/jaxlib-*.whl "$DIR"/jax_cuda*.whl "$DIR"/jax_plugins*.whl \
  "$DIR"/nvidia_*.whl
echo "$(ls "$DIR"/*.whl | wc -l) wheels in $DIR" >&2
