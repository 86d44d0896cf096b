#!/bin/bash
# P3 ablation of content-knn at its chosen point (test split, single-point grids, no tuning):
# one run per item_modalities list. content-knn.json holds the validation grid that chose it.
set -e
cd "$(dirname "$0")/../../.."
export MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
BASE='"text_encoder":["minilm"],"image_encoder":["efficientnet"],"half_life_days":[90.0],"repeat_weight":[4.0],"k_neighbours":[100]'
VARIANTS=(
  'all|["text","image","video","category","brand","attributes"]'
  'text-only|["text"]'
  'image-only|["image"]'
  'codes-only|["category","brand","attributes"]'
  'no-text|["image","video","category","brand","attributes"]'
  'no-image|["text","video","category","brand","attributes"]'
  'no-codes|["text","image","video"]'
)
OUT=benchmarks/results-sequence/hm-multimodal/content-knn
mkdir -p $OUT benchmarks/out/p3
for spec in "${VARIANTS[@]}"; do
  name=${spec%%|*}; mods=${spec#*|}
  echo "== $name"
  .venv/bin/mercato benchmark hm-multimodal --model content-knn \
    --grid "{$BASE,\"item_modalities\":[$mods]}" \
    --out $OUT/$name.json --topk benchmarks/out/p3/cknn_$name.npz --quiet > benchmarks/out/p3/cknn_$name.log 2>&1
  tail -9 benchmarks/out/p3/cknn_$name.log | head -6 | tr -d '│' | tr -s ' ' | paste -sd' '
done
