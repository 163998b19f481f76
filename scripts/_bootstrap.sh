# Sourced by the scripts: puts `uv` on PATH (installing it into .tools/ with pip if the machine lacks it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! command -v uv >/dev/null 2>&1; then
  if [ ! -x .tools/uv/bin/uv ]; then
    echo "== Installing uv (the package manager) into .tools/uv"
    python3 -m venv .tools/uv
    .tools/uv/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5'
  fi
  export PATH="$ROOT/.tools/uv/bin:$PATH"
fi
export UV_PYTHON="${UV_PYTHON:-python3}"
# Each process imports ~1,500 modules. Where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) no .pyc is ever
# written, so every `nqsync` start compiled them all from source again (~0.5 s of a 2 s start): uv installs the
# packages' bytecode, and sync_env compiles ours.
export UV_COMPILE_BYTECODE=1

sync_env() {
  uv sync --frozen --all-extras --quiet
  uv run --no-sync python -m compileall -q -j 0 shared server node bench >/dev/null
}
