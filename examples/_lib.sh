# Shared by the example scripts (sourced, not run).
#
# Each script writes under $OUT: data/ (artifacts), runs/NAME-sSEED/ (lsctl train),
# preds/ (lsctl eval), and a Markdown results file.

EXAMPLES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$EXAMPLES_DIR")"
PYTHON=${PYTHON:-python}
T_START=$SECONDS

# A step header on stderr, with the seconds elapsed so far (bold on a terminal).
if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then B=$'\033[1m' R=$'\033[0m'; else B= R=; fi
step() { printf '\n%s==> [%4ss] %s%s\n' "$B" "$((SECONDS - T_START))" "$*" "$R" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() {
	printf 'Error: %s\n' "$*" >&2
	exit 1
}

# Fail fast, with the step that broke.
trap 'rc=$?; printf "Error: %s failed (exit %s) at line %s: %s\n" "$(basename "$0")" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

require_lsctl() {
	command -v lsctl >/dev/null 2>&1 ||
		die "lsctl is not on PATH; run 'bash scripts/setup.sh' and 'source .venv/bin/activate'"
	PYTHON=$(dirname "$(command -v lsctl)")/python
	[ -x "$PYTHON" ] || PYTHON=python
}

# The shared benchmarks; absent on users' machines.
require_data() {
	DATA=${LSCTL_DATA:-$REPO_DIR/../shared/datasets}
	for d in "$@"; do
		[ -d "$DATA/$d" ] || die "$DATA/$d not found; set LSCTL_DATA to the folder holding the benchmark datasets"
	done
}

TRAIN_OPTS=()
PLOT_SEED=

# fit_eval NAME SEED TRAIN DEV TEST [lsctl train options…]
# Trains $OUT/runs/NAME-sSEED and writes $OUT/preds/NAME-sSEED.parquet.
# TRAIN_OPTS (array): options common to every run. PLOT_SEED: the seed whose
# eval also draws $OUT/plots/reliability-NAME.png.
fit_eval() {
	local name=$1 seed=$2 train=$3 dev=$4 test=$5
	shift 5
	local run="$OUT/runs/$name-s$seed"
	# A fresh run each time: results must come from this invocation's options.
	rm -rf "$run"
	mkdir -p "$OUT/runs" "$OUT/preds"
	note "train $name (seed $seed)"
	lsctl train "$train" --dev "$dev" -o "$run" --seed "$seed" "${TRAIN_OPTS[@]}" "$@" ${LSCTL_Q:+-q}
	local plot=()
	if [ "$seed" = "$PLOT_SEED" ]; then
		mkdir -p "$OUT/plots"
		plot=(--plot "$OUT/plots/reliability-$name.png")
	fi
	lsctl eval "$run" "$test" -o "$OUT/preds/$name-s$seed.parquet" --name "$name" -q "${plot[@]}"
}

md_table() { "$PYTHON" "$EXAMPLES_DIR/_md_table.py" "$@"; }
