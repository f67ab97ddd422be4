#!/usr/bin/env bash
# Usage: scripts/ensure-venv.sh VENV REQUIREMENTS
# Makes VENV a Python venv with exactly the pinned REQUIREMENTS (binary wheels from PyPI). Idempotent: a venv made
# from the same requirements file (its sha256 is stamped inside) is kept; otherwise it is made afresh.
# $PYTHON picks the interpreter (default python3).
set -euo pipefail

VENV=$1
REQ=$2
PYTHON=${PYTHON:-python3}

stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "venv $VENV is up to date"
else
  echo "creating venv $VENV from $REQ"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --only-binary=:all: -r "$REQ"
  echo "$want" > "$stamp"
fi
