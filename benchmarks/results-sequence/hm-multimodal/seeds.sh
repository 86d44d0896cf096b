#!/bin/bash
# Seed repeats of the P3 ablation rows (test split, single-point grids), to read the ablation against seed noise.
cd "$(dirname "$0")/../../.."
export MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p benchmarks/out/p3
OUT=benchmarks/results-sequence/hm-multimodal/ablation/seeds
BASE='"negative_sampler":["targets"],"shared_negatives":[false],"refit":[true],"id_dropout":[0.5],"lr":[0.003]'
for seed in 1 2; do
for spec in \
  'all|["id","text","image","video","category","brand","attributes","price"]' \
  'content-only|["text","image","video","category","brand","attributes","price"]' \
  'id-only|["id"]' \
  'no-text|["id","image","video","category","brand","attributes","price"]' \
  'no-image|["id","text","video","category","brand","attributes","price"]' \
  'no-codes|["id","text","image","video","price"]'; do
  name=${spec%%|*}; mods=${spec#*|}
  /usr/bin/time -f "$name seed $seed cpu %U+%S s" nice -n 5 .venv/bin/mercato -v benchmark hm-multimodal --model multimodal \
    --grid "{$BASE,\"seed\":[$seed],\"item_modalities\":[$mods]}" \
    --out $OUT/$name-seed$seed.json --topk benchmarks/out/p3/seed_$name-$seed.npz --quiet > benchmarks/out/p3/seed_$name-$seed.log 2>&1
  tail -1 benchmarks/out/p3/seed_$name-$seed.log
done; done
