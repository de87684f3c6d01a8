#!/usr/bin/env bash
# KWLS leakage: soft labels computed in-sample (the paper's way: every text's own
# words are in its class statistics) vs out-of-fold (`--cross-fit 5`), on clean
# and on 20%-noisy training labels, then TextCNN (KWLS loss, eq. 9) on each.
#
#   bash examples/leakage.sh --quick   # AG News subset, 1 epoch, 1 seed (~40 s)
#   bash examples/leakage.sh           # all of AG News train, 3 seeds
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASET, FOLDS,
# NOISE, SEEDS, EPOCHS, TRAIN_CAP and TEST_CAP (rows per class; 0 = all), MAXLEN,
# ROUNDS, OUT (default runs/leakage).
# Data: ${LSCTL_DATA:-../shared/datasets}. Writes $OUT/results.md.
#
# The symptom: in-sample, a soft label's argmax is nearly always the training
# label, whatever the text says, so on noisy data it copies the noise. Out of
# fold, the statistics never saw the text, so the target can disagree with a
# wrong label.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
parse_args "$@"
require_lsctl

OUT=${OUT:-runs/leakage}
DATASET=${DATASET:-ag_news} FOLDS=${FOLDS:-5} NOISE=${NOISE:-0.2}
if [ "$QUICK" = 1 ]; then
	SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-1} TRAIN_CAP=${TRAIN_CAP:-100} TEST_CAP=${TEST_CAP:-100}
	MAXLEN=${MAXLEN:-64} ROUNDS=${ROUNDS:-200} SETTINGS=${SETTINGS:-noisy}
else
	SEEDS=${SEEDS:-1 2 3} EPOCHS=${EPOCHS:-5} TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0}
	MAXLEN=${MAXLEN:-256} ROUNDS=${ROUNDS:-2000} SETTINGS=${SETTINGS:-clean noisy}
fi
require_data "$DATASET"
rm -rf "$OUT/data" "$OUT/cmp"
mkdir -p "$OUT/cmp"
RESULTS="$OUT/results.md"
{
	echo "# KWLS leakage: in-sample vs out-of-fold (--cross-fit $FOLDS) soft labels, $DATASET"
	echo
	echo "Settings: $SETTINGS (noisy = ${NOISE} symmetric noise on TRAIN). Seeds: $SEEDS."
	echo "TextCNN, $EPOCHS epochs, max length $MAXLEN; train cap per class $TRAIN_CAP, test cap $TEST_CAP (0 = all)."
} >"$RESULTS"

step "$DATASET: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
prep "$DATASET" "$TRAIN_CAP" "$TEST_CAP"
D="$OUT/data/$DATASET"
TRAIN_OPTS=(--model textcnn --epochs "$EPOCHS" --max-length "$MAXLEN")
for setting in $SETTINGS; do
	if [ "$setting" = noisy ]; then
		lsctl noise "$D/train.parquet" -o "$D/train.$setting.parquet" --kind symmetric --rate "$NOISE" --seed 0 -q
	else
		cp "$D/train.parquet" "$D/train.$setting.parquet"
	fi
	TRAIN="$D/train.$setting.parquet"
	step "$setting: KWLS soft labels in-sample and with --cross-fit $FOLDS"
	lsctl softlabel "$TRAIN" -o "$D/kwls.$setting.parquet" --method kwls -q
	lsctl softlabel "$TRAIN" -o "$D/kwls-cf.$setting.parquet" --method kwls --cross-fit "$FOLDS" --seed 0 -q
	saved=$OUT
	OUT="$saved/$setting"
	rm -rf "$OUT"
	step "$setting: TextCNN ce, kwls (in-sample), kwls-cf (cross-fit) × seeds {$SEEDS}"
	for seed in $SEEDS; do
		fit_eval ce "$seed" "$TRAIN" "$D/dev.parquet" "$D/test.parquet" --loss ce
		fit_eval kwls "$seed" "$D/kwls.$setting.parquet" "$D/dev.parquet" "$D/test.parquet" --loss aux --alpha 1
		fit_eval kwls-cf "$seed" "$D/kwls-cf.$setting.parquet" "$D/dev.parquet" "$D/test.parquet" --loss aux --alpha 1
	done
	OUT=$saved
	{
		echo
		echo "## $setting training labels"
		echo
		echo "Soft labels on TRAIN:"
		echo
		md_table targets "kwls=$D/kwls.$setting.parquet" "kwls-cf=$D/kwls-cf.$setting.parquet"
		echo
		compare_tables "$setting" ce
	} >>"$RESULTS"
done
step "done in $((SECONDS - T_START)) s: $RESULTS"
cat "$RESULTS" >&2
