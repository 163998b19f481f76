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
