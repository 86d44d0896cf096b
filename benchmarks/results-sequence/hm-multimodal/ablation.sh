#!/bin/bash
# P3 ablation of the multimodal model, test split, single-point grids (no tuning).
set -e
cd "$(dirname "$0")/../../.."
source benchmarks/results-sequence/hm-multimodal/variants.sh
export MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p benchmarks/out/p3
OUT=benchmarks/results-sequence/hm-multimodal/ablation
for spec in "${VARIANTS[@]}"; do
  name=${spec%%|*}; mods=${spec#*|}
  echo "== $name"
  /usr/bin/time -f "cpu %U+%S s, wall %e s" nice -n 5 .venv/bin/mercato -v benchmark hm-multimodal --model multimodal \
    --grid "{$BASE,\"item_modalities\":[$mods]}" \
    --out $OUT/$name.json --topk benchmarks/out/p3/abl_$name.npz --quiet > benchmarks/out/p3/abl_$name.log 2>&1
  tail -9 benchmarks/out/p3/abl_$name.log | head -6 | tr -d '│' | tr -s ' ' | paste -sd' '
done
