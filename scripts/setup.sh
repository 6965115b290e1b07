#!/usr/bin/env bash
# Idempotent setup: system tools from Debian, a virtualenv with the package and every Python-shipped
# tool (kubectl with kustomize, sops, kubernetes-validate). Safe to run again; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "setup: need root (or sudo) to install Debian packages: $*" >&2; exit 2; fi; }

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null; then PY="$candidate"; break; fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python 3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 2; }

missing=()
command -v age >/dev/null || missing+=(age)
command -v age-keygen >/dev/null || missing+=(age)
command -v git >/dev/null || missing+=(git)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v openssl >/dev/null || missing+=(openssl)
# The HTML report's test opens it in a real headless browser.
command -v chromium >/dev/null || missing+=(chromium)
# Real gpg keys for the secret scanner's test corpus.
command -v gpg >/dev/null || missing+=(gnupg)
"$PY" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.overlay-parity-installed
want="$(sha256sum pyproject.toml | cut -c1-16)-compat"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing overlay-parity[dev] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # compat: a plain path entry in a .pth file. The default editable finder imports pathlib from site.py in
  # every process (~15 ms of start-up for each command, hook and xdist worker, and a start-up window in
  # which Ctrl-C prints a KeyboardInterrupt traceback from site.py).
  # A setuptools without the compat mode gets the default editable install (correct, only slower to start).
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]" --config-settings editable_mode=compat \
    || .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
  # No longer a dependency (it made a .benchmarks/ directory in every project pytest ran in): remove it from
  # virtualenvs made before.
  .venv/bin/python -m pip uninstall -q -y pytest-benchmark >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
fi
# pip does not byte-compile an editable install, and where PYTHONDONTWRITEBYTECODE is set (many CI images)
# every command would recompile the harness (~50 ms a call): compile once here (a no-op when up to date).
.venv/bin/python -m compileall -q -j 0 harness renderer benchmarks >/dev/null
for tool in kubectl sops; do
  [ -x ".venv/bin/$tool" ] || { echo "setup: .venv/bin/$tool missing after install" >&2; exit 2; }
done
