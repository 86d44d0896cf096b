"""Latency of one shopper's top-10 over a P2-sized catalogue (43,097 items), on one core.

The model's weights do not change the work done per request, so SASRec (with dot-product and
with cosine scores), GRU4Rec with cosine scores and ALS are fitted for one pass on a small
synthetic shop with the P2 catalogue size; then one session of 10 items is scored against every
item and the top 10 selected, ``--requests`` times, single-threaded.

Usage::

    .venv/bin/python benchmarks/latency_benchmark.py [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from mercato.data import Dataset, Store, frame_source, ingest
from mercato.models import get_model

N_ITEMS = 43_097
OUT = Path(__file__).resolve().parent / "out" / "latency.json"


def synthetic_shop(n_sessions: int = 2_000, length: int = 10, seed: int = 0) -> Dataset:
    """Sessions over the P2 catalogue size; every item appears in the catalogue."""
    rng = np.random.default_rng(seed)
    items = rng.integers(0, N_ITEMS, n_sessions * length)
    events = pd.DataFrame(
        {
            "user_id": np.repeat([f"s{n}" for n in range(n_sessions)], length),
            "item_id": [f"i{item}" for item in items],
            "event_type": "view",
        }
    )
    catalogue = pd.DataFrame({"item_id": [f"i{item}" for item in range(N_ITEMS)]})
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "s.duckdb"
        ingest(frame_source("latency", {"events": events, "items": catalogue}), store)
        return Store(store).dataset()


def median_ms(model_name: str, dataset: Dataset, requests: int, **config: object) -> float:
    model = get_model(model_name, **config).fit(dataset)
    session = dataset.item_index([f"i{item}" for item in range(10)])
    model.recommend(histories=[session], k=10)  # warm-up: first-call allocations
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        model.recommend(histories=[session], k=10)
        timings.append(time.perf_counter() - started)
    return float(np.median(timings) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    torch.set_num_threads(1)
    dataset = synthetic_shop()
    with threadpool_limits(1):
        result = {
            "items": dataset.n_items,
            "requests": args.requests,
            "threads": 1,
            "median_ms": {
                "sasrec": median_ms(
                    "sasrec", dataset, args.requests, max_epochs=1, embedding_dim=64, max_len=50
                ),
                "sasrec-cosine": median_ms(
                    "sasrec",
                    dataset,
                    args.requests,
                    max_epochs=1,
                    embedding_dim=64,
                    max_len=50,
                    score_temperature=0.07,
                ),
                "gru4rec-cosine": median_ms(
                    "gru4rec",
                    dataset,
                    args.requests,
                    max_epochs=1,
                    embedding_dim=128,
                    max_len=20,
                    score_temperature=0.07,
                ),
                "als": median_ms("als", dataset, args.requests, factors=64, iterations=1),
            },
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
