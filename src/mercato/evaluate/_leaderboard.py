"""Several models on a shop's own data, one split, one leaderboard with intervals and a paired test.

Each model is scored on the same held-out users, so the best model can be compared with every
other one user by user (a paired test), not only by overlapping intervals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mercato.data import Dataset
from mercato.errors import ConfigError
from mercato.evaluate._protocols import Task
from mercato.evaluate._runner import evaluate_model
from mercato.evaluate._splits import Split, global_temporal_split, leave_last_out, targets_matrix
from mercato.evaluate._stats import PairedResult, bootstrap_ci, paired_test
from mercato.models import get_model

__all__ = ["Leaderboard", "LeaderboardRow", "evaluate_models"]

logger = logging.getLogger(__name__)

SPLITS = ("leave-last-out", "temporal")


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's means, intervals, time, and its paired test against the leader."""

    model: str
    metrics: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    train_seconds: float
    versus_leader: PairedResult | None = None


@dataclass(frozen=True)
class Leaderboard:
    """Models ranked by the first metric, best first."""

    split: str
    n_eval_users: int
    metrics: tuple[str, ...]
    rows: list[LeaderboardRow] = field(default_factory=list)


def evaluate_models(
    dataset: Dataset,
    models: Sequence[str],
    *,
    metrics: Sequence[str] = ("NDCG@10", "HR@10", "MRR@10"),
    split: str = "leave-last-out",
    exclude_seen: bool = True,
    progress: bool = False,
) -> Leaderboard:
    """Fit each named model on the training part of ``split`` and rank them.

    Args:
        dataset: the shop.
        models: registered model names (see ``mercato.models.model_names``).
        metrics: metric specs; the first one orders the leaderboard.
        split: ``leave-last-out`` (each user's last event) or ``temporal`` (the last 10% of the
            time span).
        exclude_seen: leave items a user already interacted with out of their ranking.
        progress: show progress bars.
    """
    task = _task(dataset, split, exclude_seen)
    per_model: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    for name in models:
        started = time.perf_counter()
        model = get_model(name).fit(task.train)
        seconds[name] = time.perf_counter() - started
        per_model[name] = evaluate_model(model, task, metrics, progress=progress)
        logger.info("evaluated %s in %.1fs", name, seconds[name])

    lead_metric = metrics[0]
    order = sorted(per_model, key=lambda name: -float(np.mean(per_model[name][lead_metric])))
    leader = per_model[order[0]][lead_metric]
    rows = [
        LeaderboardRow(
            model=name,
            metrics={spec: float(np.mean(values)) for spec, values in per_model[name].items()},
            ci95={spec: bootstrap_ci(values) for spec, values in per_model[name].items()},
            train_seconds=seconds[name],
            versus_leader=paired_test(leader, per_model[name][lead_metric]) if rank else None,
        )
        for rank, name in enumerate(order)
    ]
    n_eval = len(per_model[order[0]][lead_metric])
    return Leaderboard(split, n_eval, tuple(metrics), rows)


def _task(dataset: Dataset, split: str, exclude_seen: bool) -> Task:
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    parts = leave_last_out(dataset) if split == "leave-last-out" else _temporal(dataset)

    users = np.intersect1d(parts.test_users(), np.unique(parts.train.events["user_idx"]))
    users = users[users >= 0]
    seen = parts.train.user_items(binary=True)
    return Task(
        train=parts.train,
        users=users,
        targets=targets_matrix(parts.test, users, dataset.n_items),
        exclude=seen[users] if exclude_seen else None,
    )


def _temporal(dataset: Dataset) -> Split:
    times = dataset.events["timestamp"].dropna()
    if times.empty:
        return leave_last_out(dataset)
    cutoff = times.min() + (times.max() - times.min()) * 0.9
    return global_temporal_split(dataset, cutoff)
