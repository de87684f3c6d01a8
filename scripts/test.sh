#!/usr/bin/env bash
# Set up .venv and run the whole test suite. `.ci/run` calls exactly this.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
.venv/bin/ruff check lsctl tests benchmarks scripts examples || exit 1
.venv/bin/ruff format --check lsctl tests benchmarks scripts examples || exit 1
.venv/bin/python -m pytest -q "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  # pytest's "no tests collected" means the suite is broken, not green.
  echo "test.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
