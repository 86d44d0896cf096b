"""Score P1 (beauty-loo) top-k lists again, independently of mercato's split and metric code.

This script reads ``Beauty.txt`` itself, builds the leave-one-out test targets itself, checks
that no list contains an item of the user's input sequence, and recomputes HR@k and NDCG@k in
plain Python. It imports nothing from mercato.

Usage::

    .venv/bin/mercato benchmark beauty-loo --model ease --tune \\
        --out benchmarks/results/beauty-loo/ease.json --topk benchmarks/out/beauty-loo-ease-topk.npz
    .venv/bin/python benchmarks/verify_beauty.py \\
        benchmarks/results/beauty-loo/ease.json benchmarks/out/beauty-loo-ease-topk.npz
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np


def read_sequences(path: Path) -> dict[str, list[str]]:
    sequences = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            user, *items = line.split()
            sequences[user] = items
    return sequences


def score(lists: dict[str, list[str]], sequences: dict[str, list[str]]) -> dict[str, float]:
    totals = {"HR@10": 0.0, "NDCG@10": 0.0, "HR@20": 0.0, "NDCG@20": 0.0}
    for user, items in sequences.items():
        target, history = items[-1], set(items[:-1])
        ranked = lists[user]
        leaked = history.intersection(ranked)
        if leaked:
            raise SystemExit(f"user {user}: list contains input items {sorted(leaked)[:3]}")
        for k in (10, 20):
            top = ranked[:k]
            if target in top:
                totals[f"HR@{k}"] += 1.0
                totals[f"NDCG@{k}"] += 1.0 / math.log2(top.index(target) + 2)
    return {name: total / len(sequences) for name, total in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("topk", type=Path)
    default_root = Path(os.environ.get("MERCATO_DATA", "../shared/data"))
    parser.add_argument("--data-root", type=Path, default=default_root)
    args = parser.parse_args()

    sequences = read_sequences(args.data_root / "amazon-seq-iclrec" / "Beauty.txt")
    saved = np.load(args.topk)
    lists = {
        str(user): [item for item in row if item]
        for user, row in zip(saved["queries"], saved["topk"], strict=True)
    }
    if set(lists) != set(sequences):
        raise SystemExit(f"lists cover {len(lists)} users, the file has {len(sequences)}")

    recomputed = score(lists, sequences)
    reported = json.loads(args.results.read_text())["metrics"]
    failures = 0
    for name, value in recomputed.items():
        same = round(value, 4) == round(reported[name], 4)
        failures += not same
        verdict = "ok" if same else "DIFFERENT"
        print(f"{name:8} independent {value:.4f}  mercato {reported[name]:.4f}  {verdict}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
