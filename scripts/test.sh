#!/usr/bin/env bash
# Set everything up, then run the whole test suite (unit, integration, plugin, hooks, real tools).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -n 2 -q "$@"
