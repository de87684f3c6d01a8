#!/usr/bin/env bash
# Calibration baselines (issue: "is the calibration gain more than temperature
# scaling would give?"): CE, uniform LS (ε 0.1), Online Label Smoothing (Zhang
# et al. 2021), and temperature scaling (Guo et al. 2017) of CE and of LS, fitted
# on dev. Compared on ECE, NLL and accuracy against temperature-scaled CE, on each
# dataset, then ranked across datasets (Friedman, Nemenyi CD diagram).
#
#   bash examples/calibration.sh --quick   # TREC subset, 1 seed (~1 min)
#   bash examples/calibration.sh           # TREC and AG News, fastText, 5 seeds
#
# Scale knobs (env): TRAIN_EXTRA, DATASETS, MODEL (fasttext; textcnn runs
# --preset kim2014), SEEDS, EPOCHS, PATIENCE, TRAIN_CAP and TEST_CAP (rows per
# class; 0 = all), ROUNDS, OUT (default runs/calibration), FRESH=1.
# Data: ${LSCTL_DATA:-../shared/datasets}. Writes $OUT/results.md and $OUT/cd-ece.png.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
parse_args "$@"
require_lsctl

OUT=${OUT:-runs/calibration}
if [ "$QUICK" = 1 ]; then
	DATASETS=${DATASETS:-trec} MODEL=${MODEL:-fasttext} SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-3}
	PATIENCE=${PATIENCE:-0} TRAIN_CAP=${TRAIN_CAP:-100} TEST_CAP=${TEST_CAP:-30} ROUNDS=${ROUNDS:-200}
else
	DATASETS=${DATASETS:-trec ag_news} MODEL=${MODEL:-fasttext} SEEDS=${SEEDS:-1 2 3 4 5}
	EPOCHS=${EPOCHS:-40} PATIENCE=${PATIENCE:-5} TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0}
	ROUNDS=${ROUNDS:-2000}
fi
require_data $DATASETS
DATA_KEY="train cap $TRAIN_CAP, test cap $TEST_CAP"
mkdir -p "$OUT/cmp"
RESULTS="$OUT/results.md"
{
	echo "# Calibration: CE, LS, OLS and temperature scaling ($MODEL)"
	echo
	echo "Datasets: $DATASETS. Seeds: $SEEDS. At most $EPOCHS epochs, patience $PATIENCE."
	echo "ce-ts and ls-ts: one temperature per run fitted on dev (NLL), applied to test."
	echo "Comparisons: each system vs ce-ts; paired bootstrap ($ROUNDS rounds, seeds nested), Holm."
} >"$RESULTS"

model_train_opts "$MODEL"
all_preds=()
for ds in $DATASETS; do
	D="$OUT/data/$ds"
	if [ ! -f "$D/test.parquet" ]; then
		step "$ds: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
		prep "$ds" "$TRAIN_CAP" "$TEST_CAP"
	fi
	saved=$OUT
	OUT="$saved/$ds"
	step "$ds: ce, ls, ols, ce-ts, ls-ts × seeds {$SEEDS}"
	for seed in $SEEDS; do
		fit_eval ce "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" --loss ce
		fit_eval ls "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" --loss ce --label-smoothing 0.1
		fit_eval ols "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" --loss ols
		for base in ce ls; do
			ts="$OUT/preds/$base-ts-s$seed.parquet"
			[ -z "${FRESH:-}" ] && [ -f "$ts" ] && continue
			note "temperature scaling of $base (seed $seed) on dev"
			lsctl eval "$OUT/runs/$base-s$seed" "$D/test.parquet" --calibrate "$D/dev.parquet" \
				-o "$ts" --name "$base-ts" -q
		done
	done
	OUT=$saved
	{
		echo
		echo "## $ds"
		echo
		md_table metrics "$OUT/$ds"/preds/*.parquet
		for metric in ece nll accuracy; do
			lsctl compare "$OUT/$ds"/preds/*.parquet --baseline ce-ts --metric "$metric" \
				-o "$OUT/cmp/$ds-$metric.parquet" --rounds "$ROUNDS" -q
			echo
			echo "### $metric vs ce-ts"
			echo
			md_table compare "$OUT/cmp/$ds-$metric.parquet"
		done
	} >>"$RESULTS"
	all_preds+=("$OUT/$ds"/preds/*.parquet)
done
set -- $DATASETS
if [ $# -ge 2 ]; then
	step "rank across datasets (ECE)"
	{
		echo
		echo "## Across datasets: ECE ranks (Friedman, Nemenyi)"
		echo
		echo '```text'
		lsctl rank "${all_preds[@]}" --metric ece --plot "$OUT/cd-ece.png"
		echo '```'
	} >>"$RESULTS" 2>&1
fi
step "done in $((SECONDS - T_START)) s: $RESULTS"
cat "$RESULTS" >&2
