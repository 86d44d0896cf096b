"""Evaluation a reviewer can trust: protocols, splitters, full-ranking metrics, intervals, tests.

Every accuracy figure mercato prints comes from ``evaluate_model`` over a full ranking of the
catalogue (never sampled negatives), with bootstrap intervals over users.
"""

from mercato.evaluate._leaderboard import Leaderboard, evaluate_models
from mercato.evaluate._metrics import (
    METRIC_FAMILIES,
    catalogue_coverage,
    evaluate_by_segment,
    evaluate_topk,
    intra_list_diversity,
    mean_metrics,
    novelty,
    popularity_bias,
    targets_from_lists,
)
from mercato.evaluate._protocols import PROTOCOLS, Protocol, Task, data_root, get_protocol
from mercato.evaluate._ranking import rank_topk, rank_topk_dot
from mercato.evaluate._runner import BenchmarkResult, evaluate_model, expand_grid, run_benchmark
from mercato.evaluate._splits import (
    Split,
    cold_item_split,
    cold_user_split,
    global_temporal_split,
    leave_last_out,
    per_user_temporal_split,
    random_split,
    targets_matrix,
)
from mercato.evaluate._stats import PairedResult, bootstrap_ci, paired_test

__all__ = [
    "METRIC_FAMILIES",
    "PROTOCOLS",
    "BenchmarkResult",
    "Leaderboard",
    "PairedResult",
    "Protocol",
    "Split",
    "Task",
    "bootstrap_ci",
    "catalogue_coverage",
    "cold_item_split",
    "cold_user_split",
    "data_root",
    "evaluate_by_segment",
    "evaluate_model",
    "evaluate_models",
    "evaluate_topk",
    "expand_grid",
    "get_protocol",
    "global_temporal_split",
    "intra_list_diversity",
    "leave_last_out",
    "mean_metrics",
    "novelty",
    "paired_test",
    "per_user_temporal_split",
    "popularity_bias",
    "random_split",
    "rank_topk",
    "rank_topk_dot",
    "run_benchmark",
    "targets_from_lists",
    "targets_matrix",
]
