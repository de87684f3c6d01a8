#!/usr/bin/env bash
# The sentiment paper (Gao et al., arXiv 2312.06522): uniform label smoothing at
# ε ∈ {0.1, 0.2, 0.3, 0.4, 0.5} vs CE, TextCNN from scratch, on SST-2, IMDb and
# TweetEval-hate. Reports test accuracy (with CIs and p-values vs ce) and
# convergence: epochs until dev accuracy first reaches 95% of the run's best,
# read from each run's metrics.parquet.
#
#   bash examples/sentiment_ls.sh --quick   # SST-2 subset, ce vs ε 0.1 and 0.3, 2 epochs (~1 min)
#   bash examples/sentiment_ls.sh           # all three datasets, all ε, 3 seeds, 10 epochs
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASETS, EPSILONS,
# SEEDS, EPOCHS, TRAIN_CAP and TEST_CAP (rows per class; 0 = all), MAXLEN, ROUNDS,
# OUT (default runs/sentiment_ls).
# Data: ${LSCTL_DATA:-../shared/datasets}. Writes $OUT/results.md.
#
# The paper's levels LS1..LS5 are ε = 0.1..0.5 here in the `k` convention
# (torch's label_smoothing): the gold class gets 1−ε+ε/K. Its loss is KL(d‖o),
# which has the same gradients as the soft-target CE that `--label-smoothing` uses.
# Unlike the paper, runs are selected on dev, never on test.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
parse_args "$@"
require_lsctl

OUT=${OUT:-runs/sentiment_ls}
if [ "$QUICK" = 1 ]; then
	DATASETS=${DATASETS:-sst2} EPSILONS=${EPSILONS:-0.1 0.3} SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-2}
	TRAIN_CAP=${TRAIN_CAP:-150} TEST_CAP=${TEST_CAP:-100} MAXLEN=${MAXLEN:-64} ROUNDS=${ROUNDS:-200}
else
	DATASETS=${DATASETS:-sst2 imdb tweet_eval_hate} EPSILONS=${EPSILONS:-0.1 0.2 0.3 0.4 0.5}
	SEEDS=${SEEDS:-1 2 3} EPOCHS=${EPOCHS:-10} TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0}
	MAXLEN=${MAXLEN:-256} ROUNDS=${ROUNDS:-2000}
fi
require_data $DATASETS
rm -rf "$OUT/data" "$OUT/cmp"
mkdir -p "$OUT/cmp"
RESULTS="$OUT/results.md"
{
	echo "# Uniform label smoothing vs CE (Gao et al. 2312.06522), TextCNN"
	echo
	echo "Datasets: $DATASETS. ε: $EPSILONS. Seeds: $SEEDS. Epochs: $EPOCHS, max length $MAXLEN."
	echo "Train cap per class: $TRAIN_CAP, test cap: $TEST_CAP (0 = all). Systems are named ls<ε>."
} >"$RESULTS"

TRAIN_OPTS=(--model textcnn --epochs "$EPOCHS" --max-length "$MAXLEN")
for ds in $DATASETS; do
	step "$ds: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
	prep "$ds" "$TRAIN_CAP" "$TEST_CAP"
	D="$OUT/data/$ds"
	saved=$OUT
	OUT="$saved/$ds"
	rm -rf "$OUT"
	step "$ds: ce and ε ∈ {$EPSILONS} × seeds {$SEEDS}, $EPOCHS epochs"
	for seed in $SEEDS; do
		fit_eval ce "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" --loss ce
		for eps in $EPSILONS; do
			fit_eval "ls$eps" "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" \
				--loss soft --label-smoothing "$eps"
		done
	done
	OUT=$saved
	{
		echo
		echo "## $ds"
		echo
		compare_tables "$ds" ce
		echo
		md_table convergence --frac 0.95 "$OUT/$ds"/runs/*/
	} >>"$RESULTS"
done
step "done in $((SECONDS - T_START)) s: $RESULTS"
cat "$RESULTS" >&2
