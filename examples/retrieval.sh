#!/usr/bin/env bash
# KWLS for answer retrieval (the KWLS paper's Table 3) on ReQA-SQuAD: BM25, then
# dual encoders trained with O (one-hot), C (uniform LS), T (TF-IDF), K (KWLS)
# and D (distilled from that seed's O run) targets over the in-batch candidates,
# ranked on the test fold over the whole pool (ReQA) and the fold's own pool.
#
#   bash examples/retrieval.sh --quick   # fastText-style towers, O and K, 1 epoch, 1 seed (<1 min)
#   bash examples/retrieval.sh           # fastText-style and TextCNN towers, O/C/T/K/D, 5 seeds
#
# Scale knobs (env): ENCODERS, TARGETS (none uniform tfidf kwls distill), SEEDS,
# EPOCHS, POOLS (all fold), ROUNDS, TRAIN_EXTRA (more `lsctl retrieve train`
# options, e.g. "--device cuda --hard-negatives 4"), OUT (default runs/retrieval).
# Data: ${LSCTL_DATA:-../shared/datasets}/reqa_squad. Writes $OUT/results.md.
#
# Resumable: a finished run directory (config.json says "finished") is kept
# and not trained again, so a killed full run continues where it stopped; its
# rankings are kept too when they are newer than the run's model.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
parse_args "$@"
require_lsctl

OUT=${OUT:-runs/retrieval}
if [ "$QUICK" = 1 ]; then
	ENCODERS=${ENCODERS:-fasttext} TARGETS=${TARGETS:-none kwls} SEEDS=${SEEDS:-1}
	EPOCHS=${EPOCHS:-1} ROUNDS=${ROUNDS:-200} POOLS=${POOLS:-all fold}
else
	ENCODERS=${ENCODERS:-fasttext textcnn} TARGETS=${TARGETS:-none uniform tfidf kwls distill}
	SEEDS=${SEEDS:-1 2 3 4 5} EPOCHS=${EPOCHS:-5} ROUNDS=${ROUNDS:-2000} POOLS=${POOLS:-all fold}
fi
require_data reqa_squad
Q="$DATA/reqa_squad/questions.parquet"
S="$DATA/reqa_squad/sentences.parquet"
mkdir -p "$OUT/runs" "$OUT/cmp"
RESULTS="$OUT/results.md"

letter() {
	case $1 in none) echo O ;; uniform) echo C ;; tfidf) echo T ;; kwls) echo K ;; distill) echo D ;; esac
}

# finished RUN: whether RUN holds a completed `lsctl retrieve train` run.
finished() { [ -f "$1/config.json" ] && grep -q '"status": "finished"' "$1/config.json"; }

step "BM25 on the test fold (pools: $POOLS)"
for pool in $POOLS; do
	mkdir -p "$OUT/preds/$pool"
	lsctl retrieve bm25 --questions "$Q" --sentences "$S" --fold test --pool "$pool" \
		-o "$OUT/preds/$pool/bm25.parquet" -q
done

for enc in $ENCODERS; do
	for seed in $SEEDS; do
		for t in $TARGETS; do
			name="$enc-$(letter "$t")"
			run="$OUT/runs/$name-s$seed"
			if finished "$run"; then
				note "$name seed $seed: finished earlier, kept"
			else
				rm -rf "$run"
				extra=()
				if [ "$t" = distill ]; then
					finished "$OUT/runs/$enc-O-s$seed" ||
						die "D needs the finished O run $OUT/runs/$enc-O-s$seed as its teacher; put none before distill in TARGETS"
					extra=(--teacher "$OUT/runs/$enc-O-s$seed")
				fi
				note "train $name (seed $seed)"
				# shellcheck disable=SC2086 # TRAIN_EXTRA is a list of words on purpose
				lsctl retrieve train --questions "$Q" --sentences "$S" -o "$run" --encoder "$enc" \
					--targets "$t" --epochs "$EPOCHS" --seed "$seed" -q "${extra[@]}" ${TRAIN_EXTRA:-}
			fi
			for pool in $POOLS; do
				pred="$OUT/preds/$pool/$name-s$seed.parquet"
				# A kept run's rankings are kept too, unless the run was trained after them.
				if [ -f "$pred" ] && [ "$pred" -nt "$run/model.safetensors" ]; then
					note "$name seed $seed, pool $pool: rankings made earlier, kept"
					continue
				fi
				lsctl retrieve predict "$run" --questions "$Q" --sentences "$S" --fold test \
					--pool "$pool" --name "$name" -o "$pred" -q
			done
		done
	done
done

step "compare"
{
	echo "# KWLS for answer retrieval: ReQA-SQuAD test fold"
	echo
	echo "Encoders: $ENCODERS. Targets: $TARGETS. Seeds: $SEEDS. Epochs: $EPOCHS (best dev-fold MRR kept)."
	echo "Test fold: 1,464 questions. Pool all = all 10,231 sentences (ReQA's protocol); fold = the"
	echo "test fold's own 1,756 sentences (leak-free). O one-hot, C uniform LS, T TF-IDF, K KWLS, D distilled."
	echo
	echo "## Recall@k and MRR"
	echo
	md_table retrieval "$OUT"/preds/*/*.parquet
	for pool in $POOLS; do
		for enc in $ENCODERS; do
			files=("$OUT/preds/$pool/bm25.parquet" "$OUT/preds/$pool/$enc"-*.parquet)
			for metric in recall@1 mrr; do
				lsctl compare "${files[@]}" --baseline "$enc-O" --metric "$metric" \
					--rounds "$ROUNDS" -o "$OUT/cmp/$pool-$enc-$metric.parquet" -q
				echo
				echo "## $enc vs $enc-O, $metric, pool $pool"
				echo
				md_table compare "$OUT/cmp/$pool-$enc-$metric.parquet"
			done
		done
	done
	echo
	echo "The paper's Table 3 (R@1 / R@10 / R@50 / R@100 %, original → KWLS; BERT, TextCNN, LSTM):"
	echo "TextCNN 33.12 / 41.99 / 62.56 / 71.41 → 37.25 / 52.62 / 76.56 / 79.13;"
	echo "LSTM 32.43 / 40.27 / 60.42 / 70.26 → 36.96 / 50.63 / 74.15 / 77.56;"
	echo "BERT 35.27 / 48.48 / 68.21 / 78.85 → 43.87 / 62.32 / 79.72 / 85.28."
} >"$RESULTS"
step "done in $((SECONDS - T_START)) s: $RESULTS"
cat "$RESULTS" >&2
