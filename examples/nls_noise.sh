#!/usr/bin/env bash
# NLS (Wei et al., ICML 2022): symmetric label noise r ∈ {0.2, 0.4, 0.6} ×
# smoothing rate ∈ {0.4, 0.2, 0, −0.2, −0.4, −0.8}, TextCNN with a CE warm-up
# before the switch to (possibly negative) smoothed targets.
#
#   bash examples/nls_noise.sh --quick   # AG News subset, r=0.4, rates 0 and −0.4, 2 epochs (~30 s)
#   bash examples/nls_noise.sh           # the full grid on AG News, 3 seeds
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASET (ag_news or
# sst2), NOISES, RATES, SEEDS, EPOCHS, WARMUP (CE epochs first), TRAIN_CAP and
# TEST_CAP (rows per class; 0 = all), MAXLEN, ROUNDS, OUT (default
# runs/nls_noise).
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
DATASET=${DATASET:-ag_news}
if [ "$QUICK" = 1 ]; then
	NOISES=${NOISES:-0.4} RATES=${RATES:-0 -0.4} SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-2} WARMUP=${WARMUP:-1}
	TRAIN_CAP=${TRAIN_CAP:-100} TEST_CAP=${TEST_CAP:-100} MAXLEN=${MAXLEN:-64} ROUNDS=${ROUNDS:-200}
else
	NOISES=${NOISES:-0.2 0.4 0.6} RATES=${RATES:-0.4 0.2 0 -0.2 -0.4 -0.8} SEEDS=${SEEDS:-1 2 3}
	EPOCHS=${EPOCHS:-8} WARMUP=${WARMUP:-3} TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0}
	MAXLEN=${MAXLEN:-256} ROUNDS=${ROUNDS:-2000}
fi
case " $RATES " in *" 0 "*) ;; *) die "RATES must include 0 (the CE baseline)" ;; esac
require_data "$DATASET"
rm -rf "$OUT/data" "$OUT/cmp"
mkdir -p "$OUT/cmp"
RESULTS="$OUT/results.md"
{
	echo "# NLS under symmetric label noise (Wei et al. 2022), TextCNN on $DATASET"
	echo
	echo "Noise rates r: $NOISES (symmetric, off-diagonal convention, TRAIN only)."
	echo "Smoothing rates: $RATES (system nls<rate>; nls0 = CE). Seeds: $SEEDS."
	echo "Epochs: $EPOCHS, of which the first $WARMUP are CE warm-up. Max length $MAXLEN."
	echo "Train cap per class: $TRAIN_CAP, test cap: $TEST_CAP (0 = all)."
} >"$RESULTS"

step "$DATASET: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
prep "$DATASET" "$TRAIN_CAP" "$TEST_CAP"
D="$OUT/data/$DATASET"
TRAIN_OPTS=(--model textcnn --epochs "$EPOCHS" --max-length "$MAXLEN" --warmup-epochs "$WARMUP")
for r in $NOISES; do
	step "noise r=$r: inject, then rates {$RATES} × seeds {$SEEDS}"
	lsctl noise "$D/train.parquet" -o "$D/train.noise$r.parquet" --kind symmetric --rate "$r" --seed 0 -q
	saved=$OUT
	OUT="$saved/noise$r"
	rm -rf "$OUT"
	for seed in $SEEDS; do
		for rate in $RATES; do
			fit_eval "nls$rate" "$seed" "$D/train.noise$r.parquet" "$D/dev.parquet" "$D/test.parquet" \
				--loss soft --label-smoothing "$rate"
		done
	done
	OUT=$saved
	{
		echo
		echo "## noise r = $r"
		echo
		compare_tables "noise$r" nls0
	} >>"$RESULTS"
done
step "done in $((SECONDS - T_START)) s: $RESULTS"
cat "$RESULTS" >&2
