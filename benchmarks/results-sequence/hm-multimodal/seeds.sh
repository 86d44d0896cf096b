#!/bin/bash
# Seed repeats of the P3 ablation rows (test split, single-point grids), to read the ablation against seed noise.
set -e
cd "$(dirname "$0")/../../.."
source benchmarks/results-sequence/hm-multimodal/variants.sh
export MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p benchmarks/out/p3
OUT=benchmarks/results-sequence/hm-multimodal/ablation/seeds
for seed in 1 2; do
  for spec in "${VARIANTS[@]}"; do
    name=${spec%%|*}; mods=${spec#*|}
    /usr/bin/time -f "$name seed $seed cpu %U+%S s" nice -n 5 .venv/bin/mercato -v benchmark hm-multimodal --model multimodal \
      --grid "{$BASE,\"seed\":[$seed],\"item_modalities\":[$mods]}" \
      --out $OUT/$name-seed$seed.json --topk benchmarks/out/p3/seed_$name-$seed.npz --quiet > benchmarks/out/p3/seed_$name-$seed.log 2>&1
    tail -1 benchmarks/out/p3/seed_$name-$seed.log
  done
done
