#!/usr/bin/env bash
# KWLS paper (Liu et al., COLING 2022), Tables 2 and 4: CE vs LS-Classic vs
# LS-TFIDF vs LS-Distill vs KWLS, on AG News and IMDb, with TextCNN and BiLSTM,
# balanced and under-sampled (§5.5: the first class kept at 1:100 in TRAIN).
#
#   bash examples/kwls_table.sh --quick   # AG News subset, TextCNN, balanced, 1 seed (~1 min)
#   bash examples/kwls_table.sh           # everything, 3 seeds (hours on CPU; use a GPU box)
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASETS, MODELS,
# SETTINGS, SEEDS, EPOCHS, TRAIN_CAP and TEST_CAP (rows per class; 0 = all),
# MAXLEN, ROUNDS, OUT (default runs/kwls_table).
# Data: ${LSCTL_DATA:-../shared/datasets}. Writes $OUT/results.md.
#
# Methods and losses (only the targets differ where the loss is the same):
#   ce        hard labels, cross-entropy
#   ls        uniform ε=0.1, soft-target CE (LS-Classic)
#   tfidf     LS-TFIDF targets, KWLS loss (eq. 9, α=1)
#   distill   0.6·onehot + 0.4·softmax(teacher logits / 4) (--mix 0.4), soft-target
#             CE: exactly Zhang & Sabuncu's (1−α)·CE + α·CE(d, o) with α = 0.4;
#             the teacher is the first seed's ce run predicting TRAIN (in-sample)
#   kwls      KWLS targets, KWLS loss (eq. 9, α=1)
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
parse_args "$@"
require_lsctl

OUT=${OUT:-runs/kwls_table}
if [ "$QUICK" = 1 ]; then
	DATASETS=${DATASETS:-ag_news} MODELS=${MODELS:-textcnn} SETTINGS=${SETTINGS:-balanced}
	SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-1} TRAIN_CAP=${TRAIN_CAP:-100} TEST_CAP=${TEST_CAP:-100}
	ROUNDS=${ROUNDS:-200} MAXLEN=${MAXLEN:-64}
else
	DATASETS=${DATASETS:-ag_news imdb} MODELS=${MODELS:-textcnn lstm}
	SETTINGS=${SETTINGS:-balanced undersampled}
	SEEDS=${SEEDS:-1 2 3} EPOCHS=${EPOCHS:-5} TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0}
	ROUNDS=${ROUNDS:-2000} MAXLEN=${MAXLEN:-256}
fi
require_data $DATASETS
rm -rf "$OUT/data" "$OUT/cmp"
mkdir -p "$OUT/cmp"
RESULTS="$OUT/results.md"
{
	echo "# KWLS paper Tables 2/4: CE vs LS-Classic, LS-TFIDF, LS-Distill, KWLS"
	echo
	echo "Datasets: $DATASETS. Models: $MODELS. Settings: $SETTINGS. Seeds: $SEEDS."
	echo "Epochs: $EPOCHS, max length $MAXLEN, train cap per class: $TRAIN_CAP, test cap: $TEST_CAP (0 = all)."
	echo "Δ, CI and p-values: accuracy vs ce, paired bootstrap ($ROUNDS rounds, seeds nested), t-test and Wilcoxon over seeds, McNemar, Holm."
} >"$RESULTS"

for ds in $DATASETS; do
	step "$ds: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
	prep "$ds" "$TRAIN_CAP" "$TEST_CAP"
	base="$OUT/data/$ds"
	for setting in $SETTINGS; do
		D="$base/$setting"
		mkdir -p "$D"
		if [ "$setting" = undersampled ]; then
			first=$(labels_of "$base/train.parquet" | head -n 1)
			step "$ds/$setting: keep 1 in 100 '$first' rows of TRAIN (dev and test stay as they are)"
			lsctl data sample "$base/train.parquet" -o "$D/train.parquet" --ratio "$first=0.01" --seed 0 -q
		else
			cp "$base/train.parquet" "$D/train.parquet"
		fi
		step "$ds/$setting: soft labels (uniform, tfidf, kwls)"
		lsctl softlabel "$D/train.parquet" -o "$D/soft.ls.parquet" --method uniform --epsilon 0.1 -q
		lsctl softlabel "$D/train.parquet" -o "$D/soft.tfidf.parquet" --method tfidf -q
		lsctl softlabel "$D/train.parquet" -o "$D/soft.kwls.parquet" --method kwls -q
		for model in $MODELS; do
			tag="$ds-$setting-$model"
			TRAIN_OPTS=(--model "$model" --epochs "$EPOCHS" --max-length "$MAXLEN")
			PLOT_SEED=
			step "$tag: ce, ls, tfidf, distill, kwls × seeds {$SEEDS}"
			saved=$OUT
			OUT="$saved/$tag"
			rm -rf "$OUT"
			for seed in $SEEDS; do
				fit_eval ce "$seed" "$D/train.parquet" "$base/dev.parquet" "$base/test.parquet" --loss ce
				if [ ! -f "$OUT/soft.distill.parquet" ]; then
					note "distill teacher: ce seed $seed predicting TRAIN"
					lsctl eval "$OUT/runs/ce-s$seed" "$D/train.parquet" -o "$OUT/teacher.parquet" --name teacher -q
					lsctl softlabel "$D/train.parquet" -o "$OUT/soft.distill.parquet" --method distill \
						--teacher "$OUT/teacher.parquet" --temperature 4 --mix 0.4 -q
				fi
				fit_eval ls "$seed" "$D/soft.ls.parquet" "$base/dev.parquet" "$base/test.parquet" --loss soft
				fit_eval tfidf "$seed" "$D/soft.tfidf.parquet" "$base/dev.parquet" "$base/test.parquet" --loss aux --alpha 1
				fit_eval distill "$seed" "$OUT/soft.distill.parquet" "$base/dev.parquet" "$base/test.parquet" --loss soft
				fit_eval kwls "$seed" "$D/soft.kwls.parquet" "$base/dev.parquet" "$base/test.parquet" --loss aux --alpha 1
			done
			OUT=$saved
			{
				echo
				echo "## $ds, $setting, $model"
				echo
				compare_tables "$tag" ce
			} >>"$RESULTS"
		done
	done
done
step "done in $((SECONDS - T_START)) s: $RESULTS"
cat "$RESULTS" >&2
