#!/usr/bin/env bash
# Regenerate everything derived from the app: docs/cli.md and completions/.
# Run after adding or changing a command or option; tests fail until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" scripts/gen_cli_docs.py
"$PY" scripts/gen_completions.py
