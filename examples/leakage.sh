#!/usr/bin/env bash
# KWLS leakage: soft labels computed in-sample (the paper's way: every text's own
# words are in its class statistics) vs out-of-fold (`--cross-fit 5`), on clean
# and on 20%-noisy training labels, then a classifier (KWLS loss, eq. 9) on each.
#
#   bash examples/leakage.sh --quick   # AG News subset, fastText, 1 epoch, 1 seed (~30 s)
#   bash examples/leakage.sh           # all of AG News train, fastText, 5 seeds
#                                      # (measured time in docs/RESULTS.md §7)
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASET, MODEL
# (fasttext; textcnn runs --preset kim2014), FOLDS, NOISE, SEEDS, EPOCHS, PATIENCE,
# TRAIN_CAP and TEST_CAP (rows per class; 0 = all), MAXLEN (--max-length; empty =
# the model's default), ROUNDS, OUT (default runs/leakage), FRESH=1 (retrain
# finished runs; otherwise an interrupted run resumes), JOBS (runs trained at
# once, default 1; JOBS=2 TRAIN_EXTRA="--threads 1" on 2 cores).
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
DATASET=${DATASET:-ag_news} FOLDS=${FOLDS:-5} NOISE=${NOISE:-0.2} MODEL=${MODEL:-fasttext}
if [ "$QUICK" = 1 ]; then
	SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-1} PATIENCE=${PATIENCE:-0} TRAIN_CAP=${TRAIN_CAP:-100}
	TEST_CAP=${TEST_CAP:-100} MAXLEN=${MAXLEN-64} ROUNDS=${ROUNDS:-200} SETTINGS=${SETTINGS:-noisy}
else
	SEEDS=${SEEDS:-1 2 3 4 5} EPOCHS=${EPOCHS:-10} PATIENCE=${PATIENCE:-3} TRAIN_CAP=${TRAIN_CAP:-0}
	TEST_CAP=${TEST_CAP:-0} MAXLEN=${MAXLEN-} ROUNDS=${ROUNDS:-2000} SETTINGS=${SETTINGS:-clean noisy}
fi
require_data "$DATASET"
DATA_KEY="$DATASET, train cap $TRAIN_CAP, test cap $TEST_CAP, noise $NOISE, folds $FOLDS"
mkdir -p "$OUT/cmp"
results_file
{
	echo "# KWLS leakage: in-sample vs out-of-fold (--cross-fit $FOLDS) soft labels, $DATASET"
	echo
	echo "Settings: $SETTINGS (noisy = ${NOISE} symmetric noise on TRAIN). Seeds: $SEEDS."
	echo "$MODEL, at most $EPOCHS epochs, patience $PATIENCE, max length ${MAXLEN:-(model default)};" \
		"train cap per class $TRAIN_CAP, test cap $TEST_CAP (0 = all)."
} >"$RESULTS"

D="$OUT/data/$DATASET"
if [ ! -f "$D/test.parquet" ]; then
	step "$DATASET: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
	prep "$DATASET" "$TRAIN_CAP" "$TEST_CAP"
fi
length=()
[ -n "$MAXLEN" ] && length=(--max-length "$MAXLEN")
model_train_opts "$MODEL" "${length[@]}"
# leakage_runs: CE, in-sample and cross-fitted KWLS × seeds for one $setting (resumable).
leakage_runs() {
	local seed
	for seed in $SEEDS; do
		fit_eval ce "$seed" "$TRAIN" "$D/dev.parquet" "$D/test.parquet" --loss ce
		fit_eval kwls "$seed" "$D/kwls.$setting.parquet" "$D/dev.parquet" "$D/test.parquet" \
			--loss aux --alpha 1 $(aux_opts "$MODEL")
		fit_eval kwls-cf "$seed" "$D/kwls-cf.$setting.parquet" "$D/dev.parquet" "$D/test.parquet" \
			--loss aux --alpha 1 $(aux_opts "$MODEL")
	done
}
for setting in $SETTINGS; do
	TRAIN="$D/train.$setting.parquet"
	if [ ! -f "$D/kwls-cf.$setting.parquet" ]; then
		if [ "$setting" = noisy ]; then
			lsctl noise "$D/train.parquet" -o "$TRAIN" --kind symmetric --rate "$NOISE" --seed 0 -q
		else
			cp "$D/train.parquet" "$TRAIN"
		fi
		step "$setting: KWLS soft labels in-sample and with --cross-fit $FOLDS"
		lsctl softlabel "$TRAIN" -o "$D/kwls.$setting.parquet" --method kwls -q
		lsctl softlabel "$TRAIN" -o "$D/kwls-cf.$setting.parquet" --method kwls --cross-fit "$FOLDS" --seed 0 -q
	fi
	saved=$OUT
	OUT="$saved/$setting"
	step "$setting: $MODEL ce, kwls (in-sample), kwls-cf (cross-fit) × seeds {$SEEDS}"
	in_jobs leakage_runs
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
results_done
