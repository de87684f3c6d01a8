#!/usr/bin/env bash
# KWLS paper (Liu et al., COLING 2022), Tables 2 and 4: CE vs LS-Classic vs
# LS-TFIDF vs LS-Distill vs KWLS (in-sample and cross-fitted), balanced and
# under-sampled, on the full available train and test splits. Each grid's
# results.md table compares every method with CE, then KWLS with each method.
#
#   bash examples/kwls_table.sh --quick   # AG News subset, fastText, balanced, 1 seed (~1 min)
#   bash examples/kwls_table.sh           # Table 2 on 5 datasets + Table 4 on AG News and IMDb,
#                                         # fastText, 5 seeds: measured times in docs/RESULTS.md
#
# Scale knobs (env): TRAIN_EXTRA (more lsctl train options), DATASETS, MODELS,
# SETTINGS (balanced and/or undersampled), UNDER_DATASETS (datasets that get the
# under-sampled setting), SEEDS, EPOCHS, PATIENCE, TRAIN_CAP and TEST_CAP (rows
# per class; 0 = all), ROUNDS, METHODS (default: all six below), OUT (default
# runs/kwls_table), FRESH=1 (retrain runs that already finished), JOBS (runs
# trained at once, default 1; JOBS=2 TRAIN_EXTRA="--threads 1" on 2 cores).
# Model options per model: textcnn runs Kim's recipe (--preset kim2014); fasttext and lstm their defaults.
# Data: ${LSCTL_DATA:-../shared/datasets}. Writes $OUT/results.md.
#
# Resumable: a run whose predictions file exists is kept, so an interrupted grid
# continues where it stopped (FRESH=1 retrains everything).
#
# The dev set is 10% of TRAIN (stratified, seed 0), never the test set; every
# run stops after PATIENCE epochs without dev gain and keeps its dev-best epoch.
#
# Methods and losses (only the targets differ where the loss is the same):
#   ce        hard labels, cross-entropy
#   ls        uniform ε=0.1, soft-target CE (LS-Classic)
#   tfidf     LS-TFIDF targets, KWLS loss (eq. 9, α=1)
#   distill   0.6·onehot + 0.4·softmax(teacher logits / 4) (--mix 0.4), soft-target
#             CE: Zhang & Sabuncu's (1−α)·CE + α·CE(d, o) with α = 0.4. The teacher
#             is cross-fitted: 5 CE models (seed 1), each trained on 4/5 of TRAIN
#             (`lsctl data folds`), predict the fifth they did not see
#   kwls      KWLS targets (statistics from all of TRAIN), KWLS loss (eq. 9, α=1)
#   kwls-cf   KWLS targets cross-fitted (--cross-fit 5: each row's statistics
#             leave out its own fold), KWLS loss (eq. 9, α=1)
#   kwls-soft KWLS targets with the soft-target CE of LS-Classic instead of eq. 9
#             (not in the default METHODS: it asks whether the targets or the
#             loss carry KWLS's effect)
#
# Under-sampled (Table 4's protocol): for each class in turn, that class keeps
# 1 in 100 of its TRAIN rows and the others stay whole, which gives K training
# sets (settings under-LABEL); dev and test stay balanced. results.md gives each
# set's table and the average over the K sets.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

# kwls_against_each TAG: KWLS against each other method of the grid but CE
# (the table above), paired by seed (--baseline OTHER): does KWLS beat them too?
kwls_against_each() {
	local P="$OUT/$1/preds" other cmps=()
	[ -f "$P/kwls-s${SEEDS%% *}.parquet" ] || return 0
	for other in $METHODS; do
		case $other in ce | kwls) continue ;; esac
		# A method without predictions (every seed diverged) has no row.
		compgen -G "$P/$other-s[0-9]*.parquet" >/dev/null || continue
		lsctl compare "$P/$other"-s[0-9]*.parquet "$P"/kwls-s[0-9]*.parquet --baseline "$other" \
			-o "$OUT/cmp/$1.kwls-vs-$other.parquet" --rounds "$ROUNDS" -q
		cmps+=("$OUT/cmp/$1.kwls-vs-$other.parquet")
	done
	[ "${#cmps[@]}" -gt 0 ] || return 0
	echo
	echo "KWLS against each other method (one paired test per row, so p Holm is its two-sided bootstrap p):"
	echo
	md_table compare "${cmps[@]}"
}

parse_args "$@"
require_lsctl

OUT=${OUT:-runs/kwls_table}
if [ "$QUICK" = 1 ]; then
	DATASETS=${DATASETS:-ag_news} MODELS=${MODELS:-fasttext} SETTINGS=${SETTINGS:-balanced}
	UNDER_DATASETS=${UNDER_DATASETS:-ag_news}
	SEEDS=${SEEDS:-1} EPOCHS=${EPOCHS:-5} PATIENCE=${PATIENCE:-0} TRAIN_CAP=${TRAIN_CAP:-100}
	TEST_CAP=${TEST_CAP:-100} ROUNDS=${ROUNDS:-200}
else
	DATASETS=${DATASETS:-ag_news dbpedia14_subset trec 20newsgroups imdb}
	MODELS=${MODELS:-fasttext} SETTINGS=${SETTINGS:-balanced undersampled}
	UNDER_DATASETS=${UNDER_DATASETS:-ag_news imdb}
	SEEDS=${SEEDS:-1 2 3 4 5} EPOCHS=${EPOCHS:-10} PATIENCE=${PATIENCE:-3}
	TRAIN_CAP=${TRAIN_CAP:-0} TEST_CAP=${TEST_CAP:-0} ROUNDS=${ROUNDS:-2000}
fi
METHODS=${METHODS:-ce ls tfidf distill kwls kwls-cf}
DATA_KEY="train cap $TRAIN_CAP, test cap $TEST_CAP"
case " $METHODS " in *" ce "*) ;; *) die "METHODS must include ce (the baseline)" ;; esac
require_data $DATASETS
results_file
mkdir -p "$OUT/cmp"
{
	echo "# KWLS paper Tables 2/4: CE vs LS-Classic, LS-TFIDF, LS-Distill, KWLS"
	echo
	echo "Datasets: $DATASETS. Models: $MODELS. Settings: $SETTINGS (under-sampled on: $UNDER_DATASETS). Seeds: $SEEDS."
	echo "At most $EPOCHS epochs, patience $PATIENCE; train cap per class: $TRAIN_CAP, test cap: $TEST_CAP (0 = all)."
	echo "Δ, CI and p-values: accuracy vs ce, paired bootstrap ($ROUNDS rounds, seeds nested), t-test and Wilcoxon over seeds, McNemar, Holm."
} >"$RESULTS"

# grid TAG TRAIN DEV TEST DATADIR: the six methods × seeds for one training set.
grid() {
	local tag=$1 train=$2 dev=$3 test=$4 D=$5 model=$6 saved=$OUT
	OUT="$saved/$tag"
	mkdir -p "$OUT"
	model_train_opts "$model"
	PLOT_SEED=
	if [[ " $METHODS " == *" distill "* ]] && [ ! -f "$OUT/soft.distill.parquet" ]; then
		step "$tag: cross-fitted LS-Distill teacher (5 CE models on 4/5 of TRAIN each)"
		[ -f "$OUT/folds/fold5/heldout.parquet" ] ||
			lsctl data folds "$train" -o "$OUT/folds" --folds 5 --seed 0 -q
		# The 5 teachers are independent runs: in_jobs trains them JOBS at a time and
		# fit_eval keeps the finished ones, as for the grid itself. Each one predicts
		# its held-out fold, under $OUT/teacher/preds/ (not $OUT/preds/, whose files
		# are the grid's systems).
		OUT="$OUT/teacher" in_jobs teacher_runs "$OUT/folds" "$dev"
		local teachers=() f
		for f in 1 2 3 4 5; do teachers+=("$OUT/teacher/preds/fold$f-s1.parquet"); done
		lsctl softlabel "$train" -o "$OUT/soft.distill.parquet" --method distill \
			--teacher "$(
				IFS=,
				echo "${teachers[*]}"
			)" --temperature 4 --mix 0.4 -q
	fi
	step "$tag: ${METHODS// /, } × seeds {$SEEDS}"
	in_jobs grid_runs "$train" "$dev" "$test" "$D" "$model"
	OUT=$saved
}

# teacher_runs FOLDS DEV: the LS-Distill teachers, one CE model per fold (seed 1),
# each evaluated on the fold it did not see (resumable).
teacher_runs() {
	local folds=$1 dev=$2 f
	for f in 1 2 3 4 5; do
		fit_eval "fold$f" 1 "$folds/fold$f/train.parquet" "$dev" "$folds/fold$f/heldout.parquet" --loss ce
	done
}

# grid_runs TRAIN DEV TEST DATADIR MODEL: every method × seed of one grid (resumable).
grid_runs() {
	local train=$1 dev=$2 test=$3 D=$4 model=$5 m seed
	for seed in $SEEDS; do
		for m in $METHODS; do
			case $m in
			ce) fit_eval ce "$seed" "$train" "$dev" "$test" --loss ce ;;
			ls) fit_eval ls "$seed" "$D/soft.ls.parquet" "$dev" "$test" --loss soft ;;
			tfidf) fit_eval tfidf "$seed" "$D/soft.tfidf.parquet" "$dev" "$test" --loss aux --alpha 1 $(aux_opts "$model") ;;
			distill) fit_eval distill "$seed" "$OUT/soft.distill.parquet" "$dev" "$test" --loss soft ;;
			kwls) fit_eval kwls "$seed" "$D/soft.kwls.parquet" "$dev" "$test" --loss aux --alpha 1 $(aux_opts "$model") ;;
			kwls-cf) fit_eval kwls-cf "$seed" "$D/soft.kwls-cf.parquet" "$dev" "$test" --loss aux --alpha 1 $(aux_opts "$model") ;;
			kwls-soft) fit_eval kwls-soft "$seed" "$D/soft.kwls.parquet" "$dev" "$test" --loss soft ;;
			*) die "unknown method $m in METHODS (choose from ce ls tfidf distill kwls kwls-cf kwls-soft)" ;;
			esac
		done
	done
}

soft_labels() {
	local D=$1
	[ -f "$D/soft.kwls-cf.parquet" ] && return 0
	step "$D: soft labels (uniform, tfidf, kwls, kwls cross-fitted)"
	lsctl softlabel "$D/train.parquet" -o "$D/soft.ls.parquet" --method uniform --epsilon 0.1 -q
	lsctl softlabel "$D/train.parquet" -o "$D/soft.tfidf.parquet" --method tfidf -q
	lsctl softlabel "$D/train.parquet" -o "$D/soft.kwls.parquet" --method kwls -q
	lsctl softlabel "$D/train.parquet" -o "$D/soft.kwls-cf.parquet" --method kwls --cross-fit 5 --seed 0 -q
}

for ds in $DATASETS; do
	base="$OUT/data/$ds"
	if [ ! -f "$base/test.parquet" ]; then
		step "$ds: import (train cap $TRAIN_CAP, test cap $TEST_CAP per class)"
		prep "$ds" "$TRAIN_CAP" "$TEST_CAP"
	fi
	for setting in $SETTINGS; do
		sets=()
		if [ "$setting" = undersampled ]; then
			case " $UNDER_DATASETS " in *" $ds "*) ;; *) continue ;; esac
			mapfile -t labs < <(labels_of "$base/train.parquet")
			for lab in "${labs[@]}"; do
				name="under-$(printf '%s' "$lab" | tr -c 'A-Za-z0-9_.-' '_')"
				D="$base/$name"
				if [ ! -f "$D/train.parquet" ]; then
					mkdir -p "$D"
					note "$ds/$name: keep 1 in 100 '$lab' rows of TRAIN (dev and test stay balanced)"
					lsctl data sample "$base/train.parquet" -o "$D/train.parquet" --ratio "$lab=0.01" --seed 0 -q
				fi
				sets+=("$name")
			done
		else
			D="$base/balanced"
			mkdir -p "$D"
			[ -f "$D/train.parquet" ] || cp "$base/train.parquet" "$D/train.parquet"
			sets=(balanced)
		fi
		for name in "${sets[@]}"; do
			soft_labels "$base/$name"
		done
		for model in $MODELS; do
			tags=()
			for name in "${sets[@]}"; do
				tag="$ds-$name-$model"
				grid "$tag" "$base/$name/train.parquet" "$base/dev.parquet" "$base/test.parquet" "$base/$name" "$model"
				{
					echo
					echo "## $ds, $name, $model"
					echo
					compare_tables "$tag" ce
					kwls_against_each "$tag"
				} >>"$RESULTS"
				tags+=("$OUT/$tag/preds")
			done
			if [ "${#sets[@]}" -gt 1 ]; then
				{
					echo
					echo "## $ds, under-sampled, $model: average over the ${#sets[@]} training sets"
					echo
					md_table average --baseline ce "${tags[@]}"
				} >>"$RESULTS"
			fi
		done
	done
done
results_done
