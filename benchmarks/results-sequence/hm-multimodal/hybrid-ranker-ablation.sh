#!/bin/bash
# P3 ablation of hybrid-ranker at its chosen point (test split, single-point grids, no tuning):
# one run per item_modalities list. hybrid-ranker.json holds the validation grid that chose it.
set -e
cd "$(dirname "$0")/../../.."
export MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
BASE='"text_encoder":["minilm"],"image_encoder":["efficientnet"],"n_windows":[24],"window_days":[28.0],"n_trees":[50],"num_leaves":[7]'
VARIANTS=(
  'all|"text","image","video","category","brand","attributes"'
  'no-text|"image","video","category","brand","attributes"'
  'no-image|"text","video","category","brand","attributes"'
  'no-codes|"text","image","video"'
  'behaviour-only|'
)
OUT=benchmarks/results-sequence/hm-multimodal/hybrid-ranker
mkdir -p $OUT benchmarks/out/p3
for spec in "${VARIANTS[@]}"; do
  name=${spec%%|*}; mods=${spec#*|}
  echo "== $name"
  .venv/bin/mercato benchmark hm-multimodal --model hybrid-ranker \
    --grid "{$BASE,\"item_modalities\":[[$mods]]}" \
    --out $OUT/$name.json --topk $OUT/$name.npz --quiet > benchmarks/out/p3/hybrid_$name.log 2>&1
  tail -9 benchmarks/out/p3/hybrid_$name.log | head -6 | tr -d '│' | tr -s ' ' | paste -sd' '
done
