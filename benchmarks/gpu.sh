#!/usr/bin/env bash
# GPU benchmark in one step (at most ~8 minutes on one CUDA GPU):
#   1. throughput of TextCNN, BiLSTM and fastText in fp32 and bf16 (a table);
#   2. the KWLS paper's Table 2 on IMDb for TextCNN and BiLSTM (CE, LS-Classic,
#      LS-TFIDF, KWLS, KWLS cross-fitted), full train and test splits, as many
#      seeds as fit in GRID_BUDGET seconds (the runs a 2-core CPU cannot afford);
#   3. if reqa_squad is there too: the retrieval Table 3 with the BiLSTM dual
#      encoder (O and K targets), seeds while RET_BUDGET seconds last (default 60).
#
#   bash benchmarks/gpu.sh               # on a machine with CUDA
#   bash benchmarks/gpu.sh --cpu-check   # the same steps, tiny, on the CPU (checks the script)
#
# Needs python with torch, typer, rich and pyarrow; lsctl itself runs from this
# checkout (PYTHONPATH), so `pip install --no-deps --no-build-isolation -e .` is
# optional. Data: $LSCTL_DATA (default ../shared/datasets, else .gpu_data) must
# hold imdb/{train,test}.parquet, and may hold reqa_squad/; copy just those
# folders (23 MB) where the whole shared folder cannot travel. Env: GRID_BUDGET
# (default 240 s), RET_BUDGET (60 s), SEEDS (upper bound, default 1 2 3 4 5),
# EPOCHS (5), PATIENCE (2), OUT (runs/gpu), JOBS (grid runs sharing the GPU at
# once, default 4: one small model leaves most of a GPU idle).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PYTHON:-python}
CPU_CHECK=0
for arg in "$@"; do
	case $arg in
	--cpu-check) CPU_CHECK=1 ;;
	-h | --help)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		exit 0
		;;
	*)
		echo "Error: unknown argument $arg (use --cpu-check, or nothing on a GPU machine)" >&2
		exit 1
		;;
	esac
done

if [ "$CPU_CHECK" = 0 ] && ! "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
	echo "Error: no CUDA GPU visible to torch ($PY); this benchmark needs one (--cpu-check runs it tiny on the CPU)" >&2
	exit 1
fi
if [ -z "${LSCTL_DATA:-}" ]; then
	for d in ../shared/datasets .gpu_data; do
		[ -f "$d/imdb/train.parquet" ] && LSCTL_DATA=$(cd "$d" && pwd) && break
	done
fi
[ -f "${LSCTL_DATA:-}/imdb/train.parquet" ] ||
	{
		echo "Error: imdb/train.parquet not found; set LSCTL_DATA (or copy ../shared/datasets/imdb to .gpu_data/imdb)" >&2
		exit 1
	}
export LSCTL_DATA

# lsctl from this checkout, whether or not it is installed.
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
printf '#!/bin/sh\nexec "%s" -m lsctl "$@"\n' "$(command -v "$PY")" >"$BIN/lsctl"
chmod +x "$BIN/lsctl"
export PATH="$BIN:$PATH" PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1
T0=$SECONDS

if [ "$CPU_CHECK" = 1 ]; then
	DEVICE=cpu ROWS=300 TP_EPOCHS=2 GRID_BUDGET=${GRID_BUDGET:-1} SEEDS=${SEEDS:-1 2}
	EPOCHS=${EPOCHS:-1} PATIENCE=${PATIENCE:-0} GRID_CAPS=(TRAIN_CAP=40 TEST_CAP=40) JOBS=${JOBS:-2}
else
	DEVICE=cuda ROWS=10000 TP_EPOCHS=3 GRID_BUDGET=${GRID_BUDGET:-240} SEEDS=${SEEDS:-1 2 3 4 5}
	EPOCHS=${EPOCHS:-5} PATIENCE=${PATIENCE:-2} GRID_CAPS=() JOBS=${JOBS:-4}
fi
# Each parallel run gets an equal share of the CPU cores (tokenizing, batching).
THREADS=$(($(nproc 2>/dev/null || echo 1) / JOBS))
[ "$THREADS" -ge 1 ] || THREADS=1
OUT=${OUT:-runs/gpu}
mkdir -p "$OUT"

echo "==> throughput (fp32 vs bf16)" >&2
"$PY" benchmarks/gpu_throughput.py --data "$LSCTL_DATA/imdb/train.parquet" --device "$DEVICE" \
	--rows "$ROWS" --epochs "$TP_EPOCHS" | tee "$OUT/throughput.txt"

echo "==> IMDb Table 2, TextCNN and BiLSTM, seeds while $GRID_BUDGET s last" >&2
G0=$SECONDS
done_seeds=()
for s in $SEEDS; do
	# The first seed always runs; later ones only while the budget lasts.
	if [ "${#done_seeds[@]}" -gt 0 ] && [ $((SECONDS - G0)) -ge "$GRID_BUDGET" ]; then break; fi
	env "${GRID_CAPS[@]}" OUT="$OUT/table2" DATASETS=imdb SETTINGS=balanced MODELS="textcnn lstm" \
		METHODS="ce ls tfidf kwls kwls-cf" SEEDS="$s" EPOCHS="$EPOCHS" PATIENCE="$PATIENCE" \
		JOBS="$JOBS" TRAIN_EXTRA="--device $DEVICE --threads $THREADS" bash examples/kwls_table.sh >/dev/null
	done_seeds+=("$s")
done
R0=$SECONDS
ret_seeds=()
if [ -f "$LSCTL_DATA/reqa_squad/questions.parquet" ]; then
	echo "==> retrieval (ReQA-SQuAD), BiLSTM dual encoder, O and K, seeds while ${RET_BUDGET:-60} s last" >&2
	mode=()
	ret_epochs=5
	if [ "$CPU_CHECK" = 1 ]; then mode=(--quick) ret_epochs=1; fi
	for s in $SEEDS; do
		if [ "${#ret_seeds[@]}" -gt 0 ] && [ $((SECONDS - R0)) -ge "${RET_BUDGET:-60}" ]; then break; fi
		env OUT="$OUT/retrieval" ENCODERS=lstm TARGETS="none kwls" SEEDS="$s" EPOCHS="$ret_epochs" \
			TRAIN_EXTRA="--device $DEVICE" bash examples/retrieval.sh "${mode[@]}" >/dev/null
		ret_seeds+=("$s")
	done
fi
echo
echo "IMDb Table 2 on $DEVICE, seeds ${done_seeds[*]}, $JOBS runs at once (grid $((R0 - G0)) s, total $((SECONDS - T0)) s):"
cat "$OUT/table2/results.md"
if [ "${#ret_seeds[@]}" -gt 0 ]; then
	echo
	echo "Retrieval, BiLSTM dual encoder, seeds ${ret_seeds[*]} ($((SECONDS - R0)) s):"
	cat "$OUT/retrieval/results.md"
fi
