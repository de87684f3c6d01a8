#!/usr/bin/env bash
# NLS (Wei et al., ICML 2022): symmetric label noise r ∈ {0.2, 0.4, 0.6} ×
# smoothing rate ∈ {0.4, 0.2, 0, −0.2, −0.4, −0.8}, with a CE warm-up before
# the switch to (possibly negative) smoothed targets. The claim tested: the
# best rate moves from positive to negative as the noise grows.
#
#   bash examples/nls_noise.sh --quick   # AG News subset, r=0.4, rates 0 and −0.4, 2 epochs (~30 s)
#   bash examples/nls_noise.sh           # the full grid on TREC and AG News, fastText, 5 seeds
#                                        # (measured time in docs/RESULTS.md)
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASETS, MODEL
# (fasttext; textcnn runs --preset kim2014), NOISES, RATES, SEEDS, EPOCHS,
# WARMUP (CE epochs first), PATIENCE (counted from the switch), TRAIN_CAP and
# TEST_CAP (rows per class; 0 = all), ROUNDS, OUT (default runs/nls_noise),
# FRESH=1 (retrain finished runs; otherwise an interrupted grid resumes), JOBS
# (runs trained at once, default 1; JOBS=2 TRAIN_EXTRA="--threads 1" on 2 cores).
# Data: ${LSCTL_DATA:-../shared/datasets}. Writes $OUT/results.md.
#
# Noise is injected into TRAIN only; dev (model selection) and test stay clean.
# The authors selected on the test set; we select on dev. Within each noise
# level every rate is compared with rate 0 (plain CE with the same warm-up).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
parse_args "$@"
require_lsctl

OUT=${OUT:-runs/nls_noise}
if [ "$QUICK" = 1 ]; then
	DATASETS=${DATASETS:-ag_news} MODEL=${MODEL:-fasttext}
	NOISES=${NOISES:-0.4} RATES=${RATES:-0 -0.4} SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-3} WARMUP=${WARMUP:-1}
	PATIENCE=${PATIENCE:-0} TRAIN_CAP=${TRAIN_CAP:-100} TEST_CAP=${TEST_CAP:-100} ROUNDS=${ROUNDS:-200}
else
	DATASETS=${DATASETS:-trec ag_news} MODEL=${MODEL:-fasttext}
	NOISES=${NOISES:-0.2 0.4 0.6} RATES=${RATES:-0.4 0.2 0 -0.2 -0.4 -0.8} SEEDS=${SEEDS:-1 2 3 4 5}
	EPOCHS=${EPOCHS:-10} WARMUP=${WARMUP:-3} PATIENCE=${PATIENCE:-3}
	TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0} ROUNDS=${ROUNDS:-2000}
fi
case " $RATES " in *" 0 "*) ;; *) die "RATES must include 0 (the CE baseline)" ;; esac
require_data $DATASETS
DATA_KEY="train cap $TRAIN_CAP, test cap $TEST_CAP"
mkdir -p "$OUT/cmp"
results_file
{
	echo "# NLS under symmetric label noise (Wei et al. 2022), $MODEL"
	echo
	echo "Datasets: $DATASETS. Noise rates r: $NOISES (symmetric, off-diagonal convention, TRAIN only)."
	echo "Smoothing rates: $RATES (system nls<rate>; nls0 = CE). Seeds: $SEEDS."
	echo "At most $EPOCHS epochs, of which the first $WARMUP are CE warm-up; patience $PATIENCE after the switch."
	echo "Train cap per class: $TRAIN_CAP, test cap: $TEST_CAP (0 = all)."
} >"$RESULTS"

model_train_opts "$MODEL" --warmup-epochs "$WARMUP"
# noise_runs: every rate × seed on $D/train.noise$r.parquet (resumable).
noise_runs() {
	local seed rate
	for seed in $SEEDS; do
		for rate in $RATES; do
			fit_eval "nls$rate" "$seed" "$D/train.noise$r.parquet" "$D/dev.parquet" "$D/test.parquet" \
				--loss soft --label-smoothing "$rate"
		done
	done
}
for ds in $DATASETS; do
	D="$OUT/data/$ds"
	if [ ! -f "$D/test.parquet" ]; then
		step "$ds: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
		prep "$ds" "$TRAIN_CAP" "$TEST_CAP"
	fi
	for r in $NOISES; do
		step "$ds, noise r=$r: inject, then rates {$RATES} × seeds {$SEEDS}"
		[ -f "$D/train.noise$r.parquet" ] ||
			lsctl noise "$D/train.parquet" -o "$D/train.noise$r.parquet" --kind symmetric --rate "$r" --seed 0 -q
		saved=$OUT
		OUT="$saved/$ds-noise$r"
		in_jobs noise_runs
		OUT=$saved
		{
			echo
			echo "## $ds, noise r = $r"
			echo
			compare_tables "$ds-noise$r" nls0
			if [ -s "$OUT/$ds-noise$r/diverged.txt" ]; then
				echo
				echo "Diverged before any post-warm-up epoch (no result): $(sort -u "$OUT/$ds-noise$r/diverged.txt" | paste -sd, - | sed 's/,/, /g')."
			fi
		} >>"$RESULTS"
	done
done
results_done
