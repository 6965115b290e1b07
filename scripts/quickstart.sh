#!/usr/bin/env bash
# Set everything up, then run the main job: render all five RelayPoint clusters and check parity.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/overlay-parity check "$@"
