#!/bin/bash
# P3 ablation of the multimodal model, test split, single-point grids (no tuning).
set -e
cd "$(dirname "$0")/../../.."
export MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p benchmarks/out/p3
OUT=benchmarks/results-sequence/hm-multimodal/ablation
BASE='"negative_sampler":["targets"],"shared_negatives":[false],"refit":[true],"id_dropout":[0.5],"lr":[0.003]'
run() {
  name=$1; mods=$2
  nice -n 5 .venv/bin/mercato -v benchmark hm-multimodal --model multimodal \
    --grid "{$BASE,\"item_modalities\":[$mods]}" \
    --out $OUT/$name.json --topk benchmarks/out/p3/abl_$name.npz --quiet > benchmarks/out/p3/abl_$name.log 2>&1
  tail -9 benchmarks/out/p3/abl_$name.log | head -6 | tr -d '│' | tr -s ' ' | paste -sd' '
}
for spec in \
  'all|["id","text","image","video","category","brand","attributes","price"]' \
  'no-text|["id","image","video","category","brand","attributes","price"]' \
  'no-image|["id","text","video","category","brand","attributes","price"]' \
  'no-codes|["id","text","image","video","price"]' \
  'id-only|["id"]' \
  'content-only|["text","image","video","category","brand","attributes","price"]'; do
  name=${spec%%|*}; mods=${spec#*|}
  echo "== $name"; /usr/bin/time -f "cpu %U+%S s, wall %e s" bash -c "$(declare -f run); BASE='$BASE'; OUT=$OUT; run $name '$mods'"
done
