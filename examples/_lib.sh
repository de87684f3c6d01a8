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

# model_train_opts MODEL [MORE…]: sets TRAIN_OPTS for the grids: the model, EPOCHS,
# PATIENCE and MORE; textcnn runs Kim's recipe (--preset kim2014), fasttext and
# lstm their own defaults.
model_train_opts() {
	local model=$1
	shift
	TRAIN_OPTS=(--model "$model" --epochs "$EPOCHS" --patience "$PATIENCE" "$@")
	if [ "$model" = textcnn ]; then TRAIN_OPTS+=(--preset kim2014); fi
}

# The aux loss (eq. 9) is divided by (1+α)² = 4. Adam and Adadelta do not see a
# constant loss scale, but plain SGD (fastText's optimizer) takes 4× shorter
# steps with it (TREC, seed 1: KWLS 77.6% at lr 2, 88.4% at lr 8). fastText's
# aux-loss runs therefore get 4× its lr (2 → 8): every method trains with the
# same effective step, as under the authors' Adam.
aux_opts() {
	case $1 in
	fasttext) echo "--lr 8" ;;
	*) echo "" ;;
	esac
}

# JOBS (env, default 1): how many runs of a grid train at once. Each of the JOBS
# copies of a run loop (in_jobs) takes the runs that no other process holds (one
# lock per run), so JOBS=2 with TRAIN_EXTRA="--threads 1" keeps both cores of a
# 2-core machine busy. Two invocations on the same OUT share the runs the same way.
JOBS=${JOBS:-1}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a whole number ≥ 1, not '$JOBS'"

# claim NAME: take $OUT/preds/NAME.lock for this process; fails while a live
# process holds it. A lock whose process is gone (killed, crashed) is taken over.
claim() {
	local lock="$OUT/preds/$1.lock" pid
	mkdir -p "$OUT/preds"
	if ! mkdir "$lock" 2>/dev/null; then
		pid=$(cat "$lock/pid" 2>/dev/null || true)
		if [ -z "$pid" ]; then
			# Just made by a process that has not written its pid yet, unless old.
			[ -n "$(find "$lock" -maxdepth 0 -mmin +1 2>/dev/null)" ] || return 1
		elif kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		rm -rf "$lock"
		mkdir "$lock" 2>/dev/null || return 1
	fi
	echo "$BASHPID" >"$lock/pid"
}

# release NAME: let go of NAME's lock (taken by claim).
release() { rm -rf "$OUT/preds/$1.lock"; }

# holder NAME: the live process holding NAME's lock, or nothing.
holder() {
	local pid
	pid=$(cat "$OUT/preds/$1.lock/pid" 2>/dev/null || true)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
	return 0
}

# in_jobs COMMAND…: runs COMMAND (a loop of fit_eval calls) in $JOBS processes at
# once; each skips the runs another one holds, so together they train each run
# once. Returns when every run under $OUT is finished, including runs that
# another invocation on the same OUT was training; stops all of them if one fails.
in_jobs() {
	if [ "$JOBS" = 1 ]; then
		"$@"
	else
		local pids=() i p
		for ((i = 0; i < JOBS; i++)); do
			"$@" &
			pids+=($!)
		done
		for ((i = 0; i < JOBS; i++)); do
			if ! wait -n; then
				for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; done
				kill "${pids[@]}" 2>/dev/null || true
				die "a parallel run failed (its error is above); the others were stopped"
			fi
		done
	fi
	local lock name pid
	for lock in "$OUT"/preds/*.lock; do
		[ -d "$lock" ] || continue
		name=$(basename "$lock" .lock)
		pid=$(holder "$name")
		[ -n "$pid" ] || continue
		note "wait for $name, which process $pid is training"
		while [ -n "$(holder "$name")" ]; do sleep 5; done
	done
}

# fit_eval NAME SEED TRAIN DEV TEST [lsctl train options…]
# Trains $OUT/runs/NAME-sSEED and writes $OUT/preds/NAME-sSEED.parquet.
# TRAIN_OPTS (array): options common to every run; TRAIN_EXTRA (env, words):
# more of them from the user, e.g. TRAIN_EXTRA="--embed-dim 128 --threads 2".
# PLOT_SEED: the seed whose eval also draws $OUT/plots/reliability-NAME.png.
fit_eval() {
	local name=$1 seed=$2 train=$3 dev=$4 test=$5
	shift 5
	local run="$OUT/runs/$name-s$seed"
	# What the run is trained from; kept beside its predictions, so resuming a grid
	# with other options (EPOCHS, TRAIN_EXTRA, …) or other data (DATA_KEY: the
	# script's caps, noise rate, …) cannot mix old and new runs.
	# shellcheck disable=SC2086
	local opts
	opts=$(printf '%s\n' "${DATA_KEY:-}" "$train" "$dev" "$test" "${TRAIN_OPTS[@]}" ${TRAIN_EXTRA:-} "$@")
	local stamp="$OUT/preds/$name-s$seed.options"
	# Resumable grids: a run whose predictions were written is finished and kept
	# (FRESH=1 retrains); anything else starts afresh from this invocation's options.
	if [ -z "${FRESH:-}" ] && [ -f "$OUT/preds/$name-s$seed.parquet" ]; then
		if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$opts" ]; then
			local changes was now
			changes=$(diff "$stamp" <(echo "$opts") || true)
			was=$(sed -n 's/^< //p' <<<"$changes" | paste -sd ' ')
			now=$(sed -n 's/^> //p' <<<"$changes" | paste -sd ' ')
			die "$OUT/preds/$name-s$seed.parquet was trained with other options (then: $was; now: $now); use the same options, another OUT, or FRESH=1"
		fi
		note "keep $name (seed $seed): $OUT/preds/$name-s$seed.parquet exists"
		return 0
	fi
	if ! claim "$name-s$seed"; then
		note "skip $name (seed $seed): process $(holder "$name-s$seed") is training it"
		return 0
	fi
	if [ -f "$OUT/preds/$name-s$seed.parquet" ] && [ -z "${FRESH:-}" ]; then
		# Finished by another process between the check above and the lock.
		release "$name-s$seed"
		return 0
	fi
	# A run stopped part-way (the grid was killed, the machine went away) continues
	# from its last epoch's checkpoint when it was started with these same options:
	# lsctl train --resume continues it bit-identically. Anything else starts afresh.
	local started="$OUT/runs/$name-s$seed.options" resume=()
	if [ -z "${FRESH:-}" ] && [ -f "$run/checkpoint/state.pt" ] && [ -f "$started" ] &&
		[ "$(cat "$started")" = "$opts" ]; then
		resume=(--resume)
		note "resume $name (seed $seed) from its last checkpoint"
	else
		rm -rf "$run"
		mkdir -p "$OUT/runs" "$OUT/preds"
		echo "$opts" >"$started"
		note "train $name (seed $seed)"
	fi
	# shellcheck disable=SC2086 # TRAIN_EXTRA is a list of words on purpose
	if ! labelled "$name s$seed" lsctl train "$train" --dev "$dev" -o "$run" --seed "$seed" \
		"${TRAIN_OPTS[@]}" ${TRAIN_EXTRA:-} "$@" "${resume[@]}"; then
		# The divergence guard (e.g. a runaway NLS loss) stops a run but keeps its last
		# good epoch: that epoch is the run's result. Any other failure stops the script.
		grep -q '"status": "diverged"' "$run/config.json" 2>/dev/null ||
			die "lsctl train failed for $name (seed $seed)"
		if [ ! -f "$run/model.safetensors" ]; then
			# Diverged before any selectable epoch: no result for this run; listed in
			# $OUT/diverged.txt so the tables can say which runs are missing and why.
			note "$name (seed $seed) diverged before any selectable epoch; no result"
			echo "$name seed $seed" >>"$OUT/diverged.txt"
			release "$name-s$seed"
			return 0
		fi
		note "$name (seed $seed) diverged; evaluating the epoch the guard kept"
	fi
	local plot=()
	if [ "$seed" = "$PLOT_SEED" ]; then
		mkdir -p "$OUT/plots"
		plot=(--plot "$OUT/plots/reliability-$name.png")
	fi
	lsctl eval "$run" "$test" -o "$OUT/preds/$name-s$seed.parquet" --name "$name" -q "${plot[@]}"
	echo "$opts" >"$stamp"
	# The checkpoint only serves --resume of an unfinished run; a grid of hundreds of
	# runs would keep gigabytes of them (fastText's 2M-row bigram table is 80 MB).
	rm -rf "$run/checkpoint" "$started"
	release "$name-s$seed"
}

# labelled LABEL COMMAND…: runs COMMAND; with JOBS > 1 its stderr lines (progress)
# start with [LABEL], since parallel runs' lines interleave.
labelled() {
	local label=$1
	shift
	if [ "$JOBS" = 1 ]; then
		"$@"
	else
		"$@" 2> >(sed -u "s/^/[$label] /" >&2)
	fi
}

md_table() { "$PYTHON" "$EXAMPLES_DIR/_md_table.py" "$@"; }

# results_file: the script writes its tables to $RESULTS, a file of its own
# beside $OUT/results.md; results_done moves it into place and prints it. So two
# invocations sharing an OUT (JOBS) each leave a whole results.md, never two
# interleaved, and a script that stops half-way leaves the previous one intact.
results_file() {
	RESULTS_TMP="$OUT/.results.md.$$" RESULTS="$OUT/.results.md.$$"
	trap 'rm -f "$RESULTS_TMP"' EXIT
}
results_done() {
	RESULTS="$OUT/results.md"
	mv "$RESULTS_TMP" "$RESULTS"
	step "done in $((SECONDS - T_START)) s: $RESULTS"
	cat "$RESULTS" >&2
}

# compare_tables GROUP BASELINE: compare the systems under $OUT/GROUP/preds with
# BASELINE (writes $OUT/cmp/GROUP.parquet), then print their metrics and
# comparison tables as Markdown on stdout.
compare_tables() {
	local group=$1 baseline=$2
	lsctl compare "$OUT/$group"/preds/*.parquet --baseline "$baseline" \
		-o "$OUT/cmp/$group.parquet" --rounds "$ROUNDS"
	md_table metrics "$OUT/$group"/preds/*.parquet
	echo
	md_table compare "$OUT/cmp/$group.parquet"
}

# parse_args "$@": --quick sets QUICK=1; -h prints the script's header comment.
QUICK=0
parse_args() {
	for arg in "$@"; do
		case $arg in
		--quick) QUICK=1 ;;
		-h | --help)
			awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
			exit 0
			;;
		*) die "unknown argument $arg (use --quick, or nothing for the full run)" ;;
		esac
	done
}

# labels_of FILE: the dataset's labels, one per line, in label order.
labels_of() {
	lsctl data info "$1" --json |
		"$PYTHON" -c 'import json, sys; print("\n".join(c["label"] for c in json.load(sys.stdin)["classes"]))'
}

# cap_each IN OUT M [LABEL…]: at most M rows of every class (seeded); pass the
# labels when known, to save a process.
cap_each() {
	local in=$1 out=$2 m=$3 args=() l
	shift 3
	if [ $# = 0 ]; then mapfile -t labels < <(labels_of "$in") && set -- "${labels[@]}"; fi
	for l in "$@"; do args+=(--cap "$l=$m"); done
	lsctl data sample "$in" -o "$out" "${args[@]}" --seed 0 -q
}

# prep NAME TRAIN_CAP TEST_CAP: import $DATA/NAME into $OUT/data/NAME/{train,dev,test}.parquet.
# Empty texts are dropped; dev is 10% of train (stratified) unless the dataset has one;
# a cap of 0 keeps every row, otherwise at most that many rows per class.
prep() {
	local name=$1 train_cap=$2 test_cap=$3 dir="$OUT/data/$1" split
	mkdir -p "$dir"
	for split in train dev test; do
		[ -f "$DATA/$name/$split.parquet" ] || continue
		lsctl data import "$DATA/$name/$split.parquet" -o "$dir/$split.full.parquet" --drop-empty -q
	done
	if [ ! -f "$dir/dev.full.parquet" ]; then
		lsctl data split "$dir/train.full.parquet" -o "$dir/split" --dev 0.1 --test 0 --seed 0 -q
		mv "$dir/split/train.parquet" "$dir/train.full.parquet"
		mv "$dir/split/dev.parquet" "$dir/dev.full.parquet"
		rmdir "$dir/split"
	fi
	local labels=()
	[ "$train_cap$test_cap" = 00 ] || mapfile -t labels < <(labels_of "$dir/train.full.parquet")
	for split in train:$train_cap dev:$train_cap test:$test_cap; do
		local s=${split%%:*} cap=${split##*:}
		if [ "$cap" = 0 ]; then
			mv "$dir/$s.full.parquet" "$dir/$s.parquet"
		else
			# dev keeps the train cap's proportion (1/9 of train, as a 10% split would).
			[ "$s" = dev ] && cap=$(((cap + 8) / 9))
			cap_each "$dir/$s.full.parquet" "$dir/$s.parquet" "$cap" "${labels[@]}"
			rm -f "$dir/$s.full.parquet"
		fi
	done
	note "$name: imported into $dir"
}
