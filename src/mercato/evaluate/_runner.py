"""One evaluation code path: fit, rank the full catalogue, score, and write the results file.

Model selection reads the validation task only; the test task is read once, with the chosen
configuration, at the end. Every figure in the results file comes from here.
"""

from __future__ import annotations

import itertools
import json
import logging
import platform
import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

import mercato
from mercato.evaluate._metrics import (
    catalogue_coverage,
    evaluate_by_segment,
    evaluate_topk,
    intra_list_diversity,
    novelty,
    popularity_bias,
    users_with_targets,
)
from mercato.evaluate._protocols import Protocol, Task, get_protocol
from mercato.evaluate._ranking import rank_topk
from mercato.evaluate._stats import bootstrap_ci
from mercato.models import Recommender, get_model

__all__ = [
    "BenchmarkResult",
    "evaluate_model",
    "expand_grid",
    "rank_task",
    "run_benchmark",
    "save_topk",
]

logger = logging.getLogger(__name__)


@dataclass
class BenchmarkResult:
    """The results file of one protocol run, plus the per-user values behind its means."""

    protocol: str
    model: str
    metrics: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    n_eval_users: int
    train_seconds: float
    peak_rss_mb: float
    config: dict[str, Any]
    tuning: list[dict[str, Any]] = field(default_factory=list)
    eval_seconds: float = 0.0
    beyond_accuracy: dict[str, float] = field(default_factory=dict)
    segments: dict[str, dict[str, float]] = field(default_factory=dict)
    per_user: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The object described by the protocol sheet (metric values as fractions)."""
        return {
            "protocol": self.protocol,
            "model": self.model,
            "metrics": self.metrics,
            "ci95": {name: list(bounds) for name, bounds in self.ci95.items()},
            "n_eval_users": self.n_eval_users,
            "train_seconds": round(self.train_seconds, 3),
            "eval_seconds": round(self.eval_seconds, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "config": self.config,
            "beyond_accuracy": self.beyond_accuracy,
            "segments": self.segments,
            "tuning": self.tuning,
            "versions": _versions(),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(self.to_json(), indent=2, default=_plain) + "\n")
        partial.replace(path)


def expand_grid(grid: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    """Every combination of a small grid ``{setting: [values]}``; one empty config if none."""
    if not grid:
        return [{}]
    names = sorted(grid)
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(grid[n] for n in names))
    ]


def evaluate_model(
    model: Recommender[Any],
    task: Task,
    metrics: Sequence[str],
    *,
    chunk_size: int = 1024,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Per-query metric values of a fitted model on a task, over a full ranking."""
    depth = max(int(spec.split("@")[1]) for spec in metrics)
    topk = rank_task(model, task, depth, chunk_size=chunk_size, progress=progress)
    return evaluate_topk(topk, task.targets, list(metrics), cold_items=task.cold_items)


def rank_task(
    model: Recommender[Any],
    task: Task,
    depth: int,
    *,
    chunk_size: int = 1024,
    progress: bool = False,
) -> np.ndarray:
    """The top ``depth`` items of the full ranking for every query of a task: int64 [Q, depth]."""
    rows = np.arange(task.n_queries, dtype=np.int64)
    return rank_topk(
        lambda chunk: _scores(model, task, chunk),
        rows,
        depth,
        exclude=task.exclude,
        chunk_size=chunk_size,
        progress=progress,
    )


def save_topk(path: Path, task: Task, topk: np.ndarray) -> None:
    """Write the test lists with string ids, so an independent script can score them again.

    The file holds ``queries`` (user ids, or the row number for history queries), ``topk``
    (item ids, ``""`` for padding) and ``targets`` (each query's target item ids joined by
    spaces).
    """
    item_ids = task.train.item_ids.astype(str)
    if task.users is not None:
        queries = task.train.user_ids[task.users].astype(str)
    else:
        queries = np.arange(task.n_queries).astype(str)
    lists = np.where(topk >= 0, item_ids[np.maximum(topk, 0)], "")
    targets = np.array(
        [" ".join(item_ids[row.indices]) for row in task.targets], dtype=object
    ).astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, queries=queries, topk=lists, targets=targets)


def _scores(model: Recommender[Any], task: Task, rows: np.ndarray) -> np.ndarray:
    if task.users is not None:
        return np.array(model.score_users(task.users[rows]), dtype=np.float32)
    assert task.histories is not None  # a task has users or histories
    return np.array(model.score_histories([task.histories[r] for r in rows]), dtype=np.float32)


def run_benchmark(
    protocol_name: str,
    model_name: str,
    *,
    root: Path,
    grid: Mapping[str, Sequence[Any]] | None = None,
    progress: bool = False,
    n_resamples: int = 1000,
    topk_path: Path | None = None,
) -> BenchmarkResult:
    """Tune on validation (grid search on the protocol's selection metric), then test once.

    With ``topk_path`` the test lists are also written (see ``save_topk``).
    """
    protocol = get_protocol(protocol_name)
    valid, test = protocol.build(root)
    configs = expand_grid(grid)
    tuning = _tune(protocol, model_name, valid, configs, progress) if len(configs) > 1 else []
    best = max(tuning, key=lambda run: run["valid"])["config"] if tuning else configs[0]

    started = time.perf_counter()
    model = get_model(model_name, **best).fit(test.train)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    depth = max(int(spec.split("@")[1]) for spec in protocol.metrics)
    topk = rank_task(model, test, depth, progress=progress)
    per_user = evaluate_topk(topk, test.targets, list(protocol.metrics), cold_items=test.cold_items)
    eval_seconds = time.perf_counter() - started
    if topk_path is not None:
        save_topk(topk_path, test, topk)

    result = BenchmarkResult(
        protocol=protocol.name,
        model=model_name,
        metrics={name: float(np.mean(values)) for name, values in per_user.items()},
        ci95={
            name: bootstrap_ci(values, n_resamples=n_resamples) for name, values in per_user.items()
        },
        n_eval_users=int(users_with_targets(test.targets).sum()),
        train_seconds=train_seconds,
        peak_rss_mb=_peak_rss_mb(),
        config=_config_of(model),
        tuning=tuning,
        eval_seconds=eval_seconds,
        beyond_accuracy=beyond_accuracy(test, topk, depth),
        segments=history_segments(test, topk, protocol.selection_metric),
        per_user=per_user,
    )
    logger.info("%s on %s: %s", model_name, protocol.name, result.metrics)
    return result


def beyond_accuracy(task: Task, topk: np.ndarray, k: int) -> dict[str, float]:
    """Coverage, novelty, popularity bias and (with categories) intra-list diversity at ``k``."""
    popularity = np.asarray(task.train.user_items(binary=True).sum(axis=0)).ravel()
    bias = popularity_bias(topk, popularity, k=k)
    figures = {
        f"Coverage@{k}": catalogue_coverage(topk, task.train.n_items, k=k),
        f"Novelty@{k}": float(np.mean(novelty(topk, popularity, k=k))),
        f"PopularityPercentile@{k}": float(np.mean(bias.mean_percentile)),
        f"HeadShare@{k}": float(np.mean(bias.head_share)),
    }
    categories = task.train.items.get("category")
    if categories is not None and categories.notna().any():
        codes = categories.astype("category").cat.codes.to_numpy()
        diversity = intra_list_diversity(topk, item_categories=codes, k=k)
        figures[f"CategoryDiversity@{k}"] = float(np.mean(diversity))
    return figures


#: Training-history length buckets (interactions) that tell new users from regular ones.
HISTORY_BUCKETS = ((1, 4, "1-4"), (5, 9, "5-9"), (10, 19, "10-19"), (20, None, "20+"))


def history_segments(task: Task, topk: np.ndarray, metric: str) -> dict[str, dict[str, float]]:
    """The selection metric by length of the query's history: new users versus regular ones."""
    if task.users is not None:
        lengths = np.diff(task.train.user_items(binary=True).indptr)[task.users]
    else:
        assert task.histories is not None  # a task has users or histories
        lengths = np.array([len(history) for history in task.histories])
    labels = np.full(len(lengths), "", dtype=object)
    for low, high, label in HISTORY_BUCKETS:
        labels[(lengths >= low) & ((lengths <= high) if high is not None else True)] = label
    kept = users_with_targets(task.targets)
    by_segment = evaluate_by_segment(
        topk, task.targets, labels.astype(str), [metric], cold_items=task.cold_items
    )
    counts = {label: int(np.sum(labels[kept] == label)) for _, _, label in HISTORY_BUCKETS}
    return {
        f"{metric} by history length": by_segment[metric],
        "users by history length": {label: float(n) for label, n in counts.items() if n},
    }


def _tune(
    protocol: Protocol,
    model_name: str,
    valid: Task,
    configs: list[dict[str, Any]],
    progress: bool,
) -> list[dict[str, Any]]:
    runs = []
    for config in configs:
        model = get_model(model_name, **config).fit(valid.train)
        per_user = evaluate_model(model, valid, [protocol.selection_metric], progress=progress)
        score = float(np.mean(per_user[protocol.selection_metric]))
        logger.info("validation %s=%.4f for %s", protocol.selection_metric, score, config)
        runs.append({"config": config, "valid": score, "metric": protocol.selection_metric})
    return runs


def _config_of(model: Recommender[Any]) -> dict[str, Any]:
    config = getattr(model, "config", None)
    if config is None or not is_dataclass(config) or isinstance(config, type):
        return {}
    return asdict(config)


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _versions() -> dict[str, str]:
    # Read from package metadata: importing torch only to report its version costs seconds.
    versions = {"mercato": mercato.__version__, "python": platform.python_version()}
    for package in ("numpy", "scipy", "implicit", "torch"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
