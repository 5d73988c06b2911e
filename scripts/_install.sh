# Shared by scripts/run and scripts/test: create .venv and install the project (idempotent).
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv "$ROOT/.venv"
fi
STAMP="$ROOT/.venv/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)-${HOTLEAD_EXTRAS:-dev}"
if [ ! -f "$STAMP" ]; then
  echo "==> installing dependencies (pyproject.toml)"
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[${HOTLEAD_EXTRAS:-dev}]"
  rm -f "$ROOT"/.venv/.installed-*
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
