"""Paired test of two models' P3 (`hm-multimodal`) test lists, user by user.

Reads two top-k files written by ``mercato benchmark hm-multimodal --topk FILE.npz``, rebuilds
the P3 test task (targets and cold items) from the data files, checks that both files rank the
same test users and carry the same targets, scores each list with the project's metrics, and
prints :func:`mercato.evaluate.paired_test` of A - B for MAP@12, NDCG@12, Recall@12 and
ColdRecall@12 (the last over the users with a cold target only).

Usage (the top-k files of the committed P3 runs are in
``benchmarks/results-sequence/hm-multimodal/topk/``)::

    MERCATO_CACHE=benchmarks/out/features .venv/bin/mercato benchmark hm-multimodal \\
        --model multimodal --grid '{"negative_sampler": ["uniform"], "id_dropout": [0.5],
        "lr": [0.003]}' --topk benchmarks/out/p3/multimodal.npz
    .venv/bin/mercato benchmark hm-multimodal --model userknn --tune \\
        --topk benchmarks/out/p3/userknn.npz
    .venv/bin/python benchmarks/p3_paired.py benchmarks/out/p3/multimodal.npz \\
        benchmarks/out/p3/userknn.npz [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mercato.evaluate import Task, data_root, evaluate_topk, get_protocol, paired_test

PROTOCOL = "hm-multimodal"
METRICS = ("MAP@12", "NDCG@12", "Recall@12", "ColdRecall@12")


def load_topk(path: Path, task: Task) -> np.ndarray:
    """The lists of one top-k file as item indices ``[Q, k]`` (``-1`` padded), in task order.

    Raises ``SystemExit`` if the file's queries or targets are not those of the P3 test task.
    """
    saved = np.load(path)
    assert task.users is not None  # P3 asks users, not histories
    expected_users = task.train.user_ids[task.users].astype(str)
    if not np.array_equal(saved["queries"], expected_users):
        raise SystemExit(f"{path}: its queries are not the P3 test users in protocol order")
    item_ids = task.train.item_ids.astype(str)
    expected_targets = [" ".join(item_ids[row.indices]) for row in task.targets]
    if list(saved["targets"]) != expected_targets:
        raise SystemExit(f"{path}: its targets are not the P3 test targets")

    lists = saved["topk"]
    flat = task.train.item_index([item for item in lists.ravel() if item])
    topk = np.full(lists.shape, -1, dtype=np.int64)
    topk[lists != ""] = flat
    return topk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="top-k file of model A (.npz)")
    parser.add_argument("b", type=Path, help="top-k file of model B (.npz)")
    parser.add_argument("--data-root", type=Path, default=None, help="the public datasets folder")
    parser.add_argument("--n-resamples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    _, test = get_protocol(PROTOCOL).build(data_root(args.data_root))
    per_model = {
        name: evaluate_topk(
            load_topk(path, test), test.targets, list(METRICS), cold_items=test.cold_items
        )
        for name, path in (("a", args.a), ("b", args.b))
    }

    print(f"A = {args.a}\nB = {args.b}")
    figures = compare(per_model["a"], per_model["b"], args.n_resamples, args.seed)
    if args.json is not None:
        record = {"protocol": PROTOCOL, "a": str(args.a), "b": str(args.b), "tests": figures}
        write_record(args.json, record)


def write_record(path: Path, record: dict[str, object]) -> None:
    """Writes one comparison's figures as indented JSON, making the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def compare(
    per_user_a: dict[str, np.ndarray],
    per_user_b: dict[str, np.ndarray],
    n_resamples: int,
    seed: int,
) -> dict[str, dict[str, object]]:
    """Prints the paired test of A - B for every metric, and returns its figures."""
    header = f"{'metric':<14} {'A':>8} {'B':>8} {'A - B':>8}  {'95% interval':<20} {'p':>7}"
    print(f"{header} {'Wilcoxon p':>10} {'users':>6}")
    figures: dict[str, dict[str, object]] = {}
    for metric in METRICS:
        a, b = per_user_a[metric], per_user_b[metric]
        result = paired_test(a, b, n_resamples=n_resamples, seed=seed)
        low, high = result.ci
        print(
            f"{metric:<14} {a.mean():8.4f} {b.mean():8.4f} {result.mean_difference:+8.4f}  "
            f"[{low:+.4f}, {high:+.4f}]   {result.p_value:7.4f} "
            f"{result.wilcoxon_p_value:10.4f} {result.n_users:6d}"
        )
        figures[metric] = {
            "a": float(a.mean()),
            "b": float(b.mean()),
            "mean_difference": result.mean_difference,
            "ci95": [low, high],
            "p_value": result.p_value,
            "wilcoxon_p_value": result.wilcoxon_p_value,
            "n_users": result.n_users,
            "a_better_users": int(np.sum(a > b)),
            "b_better_users": int(np.sum(b > a)),
            "users_hit": [int(np.sum(a > 0)), int(np.sum(b > 0))],
        }
    return figures


if __name__ == "__main__":
    main()
