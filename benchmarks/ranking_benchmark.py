"""Full-ranking evaluation of P2 (60,858 prefixes x 43,097 items) with a dot-product model.

Fits ALS (a dot-product model: user factors folded in from each prefix, times item factors) on
the P2 training sessions, then times the evaluation alone — scoring every item for every test
prefix in user chunks, top-k selection, metrics — and reports the process's peak memory.

Usage::

    .venv/bin/python benchmarks/ranking_benchmark.py [--chunk-size 1024]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

from mercato.evaluate import data_root, evaluate_model, get_protocol
from mercato.models import get_model

OUT = Path(__file__).resolve().parent / "out" / "ranking.json"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--data-root", type=Path, default=None)
    args = parser.parse_args()

    protocol = get_protocol("diginetica-session")
    _, test = protocol.build(data_root(args.data_root))
    model = get_model("als", factors=64, iterations=10).fit(test.train)
    before = peak_rss_mb()

    started = time.perf_counter()
    per_user = evaluate_model(model, test, protocol.metrics, chunk_size=args.chunk_size)
    seconds = time.perf_counter() - started

    result = {
        "queries": test.n_queries,
        "items": test.train.n_items,
        "chunk_size": args.chunk_size,
        "evaluation_seconds": round(seconds, 1),
        "peak_rss_mb_before_evaluation": round(before, 0),
        "peak_rss_mb": round(peak_rss_mb(), 0),
        "metrics": {name: float(np.mean(values)) for name, values in per_user.items()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
