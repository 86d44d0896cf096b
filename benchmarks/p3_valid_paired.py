"""Paired test of two models on P3's (`hm-multimodal`) validation split, user by user.

`p3_paired.py` compares two models' saved test lists. This script asks the same question of the
validation split, where every P3 model was chosen: it fits both models, each with the
configuration given, on the validation task's training purchases, ranks the full catalogue for
the 199 validation users, and prints :func:`mercato.evaluate.paired_test` of A - B for MAP@12,
NDCG@12, Recall@12 and ColdRecall@12. Reading it beside the test split's paired test shows
whether the two splits agree on which model is better.

Usage (the configurations chosen on validation, from the committed results files)::

    MERCATO_CACHE=benchmarks/out/features OMP_NUM_THREADS=1 .venv/bin/python \\
        benchmarks/p3_valid_paired.py content-knn \\
        '{"text_encoder": "minilm", "image_encoder": "efficientnet", "k_neighbours": 100,
          "half_life_days": 90.0, "repeat_weight": 4.0}' \\
        userknn '{"k_neighbours": 50, "shrinkage": 0.0}' --json OUT.json
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from mercato.evaluate import Task, data_root, evaluate_model, get_protocol
from mercato.models import get_model
from p3_paired import METRICS, PROTOCOL, compare, write_record


def per_user_metrics(name: str, config: dict[str, Any], task: Task) -> dict[str, np.ndarray]:
    """One model, fitted on the task's training data, scored user by user on its targets."""
    model = get_model(name, **config).fit(task.train)
    return evaluate_model(model, task, list(METRICS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_a", help="registered model name of A")
    parser.add_argument("config_a", type=json.loads, help="A's configuration, a JSON object")
    parser.add_argument("model_b", help="registered model name of B")
    parser.add_argument("config_b", type=json.loads, help="B's configuration, a JSON object")
    parser.add_argument("--data-root", type=Path, default=None, help="the public datasets folder")
    parser.add_argument("--n-resamples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    valid, _ = get_protocol(PROTOCOL).build(data_root(args.data_root))
    a = per_user_metrics(args.model_a, args.config_a, valid)
    b = per_user_metrics(args.model_b, args.config_b, valid)

    print(f"validation split: A = {args.model_a} {args.config_a}")
    print(f"B = {args.model_b} {args.config_b}")
    figures = compare(a, b, args.n_resamples, args.seed)
    if args.json is not None:
        record = {
            "protocol": PROTOCOL,
            "split": "validation",
            "a": {"model": args.model_a, "config": args.config_a},
            "b": {"model": args.model_b, "config": args.config_b},
            "tests": figures,
        }
        write_record(args.json, record)


if __name__ == "__main__":
    main()
