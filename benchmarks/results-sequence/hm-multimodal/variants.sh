# What the P3 ablation runs: the chosen configuration, and one item_modalities list per variant.
# Sourced by ablation.sh (seed 0) and seeds.sh (seeds 1 and 2).
BASE='"negative_sampler":["targets"],"shared_negatives":[false],"refit":[true],"id_dropout":[0.5],"lr":[0.003]'
VARIANTS=(
  'all|["id","text","image","video","category","brand","attributes","price"]'
  'no-text|["id","image","video","category","brand","attributes","price"]'
  'no-image|["id","text","video","category","brand","attributes","price"]'
  'no-codes|["id","text","image","video","price"]'
  'id-only|["id"]'
  'content-only|["text","image","video","category","brand","attributes","price"]'
)
