"""The benchmark protocols P1-P4, each exactly as written in the project's protocol sheet.

A protocol turns real files into two ``Task``s: validation (for model selection) and test (read
once, at the end). A task says what the model fits on, what it is asked (users, or item
histories for anonymous sessions), what counts as a hit, and what is excluded from the ranking.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mercato.data import Dataset, ShopSource, Store, frame_source, get_adapter, ingest
from mercato.errors import ConfigError, DataError
from mercato.evaluate._splits import targets_matrix

__all__ = ["PROTOCOLS", "Protocol", "Task", "data_root", "get_protocol"]


@dataclass(frozen=True)
class Task:
    """One scoring job: fit on ``train``, rank every item for each query, compare to targets.

    Exactly one of ``users`` (dense user ids, scored from their training history) and
    ``histories`` (item-id sequences, oldest first) is set.
    """

    train: Dataset
    targets: sp.csr_matrix
    users: np.ndarray | None = None
    histories: list[np.ndarray] | None = None
    exclude: sp.csr_matrix | None = None
    cold_items: np.ndarray | None = None

    @property
    def n_queries(self) -> int:
        return int(self.targets.shape[0])


@dataclass(frozen=True)
class Protocol:
    """A named protocol: its metrics, its selection metric, and how to build its tasks."""

    name: str
    metrics: tuple[str, ...]
    selection_metric: str
    build: Callable[[Path], tuple[Task, Task]] = field(repr=False)
    ci_metrics: tuple[str, ...] = ()


def data_root(path: Path | str | None = None) -> Path:
    """The public-data folder: the argument, else ``$MERCATO_DATA``, else ``../shared/data``."""
    root = Path(path or os.environ.get("MERCATO_DATA") or Path("..") / "shared" / "data")
    if not root.exists():
        raise DataError(
            "the public datasets folder does not exist",
            file=root,
            fix="pass --data-root or set MERCATO_DATA to the folder holding the datasets",
        )
    return root


def _load(format_name: str, folder: Path) -> Dataset:
    return _dataset_of(get_adapter(format_name).read(folder))


def _dataset_of(source: ShopSource) -> Dataset:
    """Ingest through the ordinary pipeline into a throwaway store, and load it."""
    with tempfile.TemporaryDirectory(prefix="mercato-protocol-") as workdir:
        store = Path(workdir) / "store.duckdb"
        ingest(source, store)
        return Store(store).dataset()


def _sequences(events: pd.DataFrame) -> pd.DataFrame:
    """Events of known users in time order, with each event's rank from the end of its user."""
    events = events[events["user_idx"] >= 0]
    events = events.sort_values(["user_idx", "timestamp", "position"], kind="stable")
    return events.assign(from_end=events.groupby("user_idx").cumcount(ascending=False))


def _leave_one_out_tasks(dataset: Dataset) -> tuple[Task, Task]:
    """Last item = test target, second-to-last = validation target, the rest = training.

    At test time the model is fitted on everything before the test target; the input sequence's
    items are excluded from the ranking in both tasks.
    """
    events = _sequences(dataset.events)
    return (
        _loo_task(dataset, events, held=1),
        _loo_task(dataset, events, held=0),
    )


def _loo_task(dataset: Dataset, events: pd.DataFrame, held: int) -> Task:
    train = events[events["from_end"] > held]
    target = events[events["from_end"] == held]
    users = np.unique(target["user_idx"].to_numpy())
    users = np.intersect1d(users, np.unique(train["user_idx"].to_numpy()))
    fitted = dataset.with_events(train.drop(columns="from_end"))
    seen = fitted.user_items(binary=True)[users]
    return Task(
        train=fitted,
        users=users,
        targets=targets_matrix(target, users, dataset.n_items),
        exclude=seen,
    )


def _beauty(root: Path) -> tuple[Task, Task]:
    return _leave_one_out_tasks(_load("amazon-seq", root / "amazon-seq-iclrec"))


def _movielens(root: Path) -> tuple[Task, Task]:
    return _leave_one_out_tasks(_load("movielens", root / "movielens-100k-recbole"))


def _read_sessions(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as handle:
        return [line.split() for line in handle if line.strip()]


def _read_prefixes(path: Path) -> tuple[list[list[str]], list[str]]:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    return [prefix.split() for prefix in frame["prefix"]], list(frame["target"])


def _session_dataset(sessions: list[list[str]], catalogue: list[str]) -> Dataset:
    """Training sessions as users (one row of the user-item matrix each), in file order."""
    lengths = [len(session) for session in sessions]
    events = pd.DataFrame(
        {
            "user_id": np.repeat([f"s{number}" for number in range(len(sessions))], lengths),
            "item_id": [item for session in sessions for item in session],
            "event_type": "view",
        }
    )
    items = pd.DataFrame({"item_id": catalogue})
    return _dataset_of(frame_source("diginetica", {"events": events, "items": items}))


def _prefix_task(
    train: Dataset, sessions: list[list[str]], targets: list[str] | None = None
) -> Task:
    """Every prefix of each session predicts its next item, or the given targets follow them."""
    if targets is None:
        prefixes = [s[:cut] for s in sessions for cut in range(1, len(s))]
        targets = [s[cut] for s in sessions for cut in range(1, len(s))]
    else:
        prefixes = sessions
    # One lookup for all prefixes: building the id index per prefix would dominate the run.
    flat = train.item_index([item for prefix in prefixes for item in prefix])
    histories = np.split(flat, np.cumsum([len(prefix) for prefix in prefixes])[:-1])
    target_idx = train.item_index(targets)
    matrix = sp.csr_matrix(
        (np.ones(len(target_idx), dtype=np.float32), (np.arange(len(target_idx)), target_idx)),
        shape=(len(target_idx), train.n_items),
    )
    return Task(train=train, histories=histories, targets=matrix)


def _diginetica(root: Path) -> tuple[Task, Task]:
    """P2: validation fits on the first 90% of training sessions and asks their last 10%."""
    folder = root / "diginetica-gcegnn"
    sessions = _read_sessions(folder / "train_sessions.txt")
    prefixes, targets = _read_prefixes(folder / "test_prefixes.tsv")
    seen = {item for session in sessions for item in session}
    seen |= {item for prefix in prefixes for item in prefix} | set(targets)
    catalogue = sorted(seen, key=int)

    cut = math.floor(len(sessions) * 0.9)
    valid = _prefix_task(_session_dataset(sessions[:cut], catalogue), sessions[cut:])
    test = _prefix_task(_session_dataset(sessions, catalogue), prefixes, targets)
    return valid, test


def _day_cutoff(days: pd.Series) -> pd.Timestamp:
    """The 90th percentile of purchase days as numbers, rounded up to a whole day."""
    numbers = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    return pd.Timestamp(np.datetime64(math.ceil(np.percentile(numbers, 90)), "D"))


def _catalogue_only(dataset: Dataset) -> Dataset:
    """Restrict the item space to catalogue articles (those with a row in the items file)."""
    in_catalogue = dataset.items["title"].notna().to_numpy()
    new_index = np.full(dataset.n_items, -1, dtype=np.int64)
    new_index[in_catalogue] = np.arange(int(in_catalogue.sum()))
    events = dataset.events[in_catalogue[dataset.events["item_idx"].to_numpy()]].copy()
    events["item_idx"] = new_index[events["item_idx"].to_numpy()].astype(np.int32)
    items = dataset.items[in_catalogue].reset_index(drop=True).rename_axis("item_idx")
    return Dataset(
        name=dataset.name,
        events=events.reset_index(drop=True),
        items=items,
        users=dataset.users,
        reviews=dataset.reviews.iloc[0:0],
        queries=dataset.queries.iloc[0:0],
        item_ids=dataset.item_ids[in_catalogue],
        user_ids=dataset.user_ids,
        session_ids=dataset.session_ids,
    )


def _temporal_task(dataset: Dataset, events: pd.DataFrame) -> Task:
    cutoff = _day_cutoff(events["timestamp"])
    train = events[events["timestamp"] < cutoff]
    test = events[events["timestamp"] >= cutoff]
    users = np.intersect1d(test["user_idx"].unique(), train["user_idx"].unique())
    fitted = dataset.with_events(train)
    cold = np.ones(dataset.n_items, dtype=bool)
    cold[train["item_idx"].unique()] = False
    return Task(
        train=fitted,
        users=users,
        targets=targets_matrix(test, users, dataset.n_items),
        cold_items=cold,
    )


def _hm(root: Path) -> tuple[Task, Task]:
    """P3: global temporal split at the 90th percentile of purchase days; nothing excluded."""
    dataset = _catalogue_only(_load("hm", root / "hm-fashion-sample"))
    purchases = dataset.events[dataset.events["event_type"] == "purchase"]
    test = _temporal_task(dataset, purchases)
    inner = purchases[purchases["timestamp"] < _day_cutoff(purchases["timestamp"])]
    valid = _temporal_task(dataset, inner)
    return valid, test


PROTOCOLS: dict[str, Protocol] = {
    protocol.name: protocol
    for protocol in (
        Protocol(
            "beauty-loo",
            ("HR@10", "NDCG@10", "HR@20", "NDCG@20"),
            "NDCG@10",
            _beauty,
        ),
        Protocol(
            "diginetica-session",
            ("P@20", "MRR@20", "HR@10", "NDCG@10"),
            "MRR@20",
            _diginetica,
        ),
        Protocol(
            "hm-multimodal",
            ("Recall@12", "NDCG@12", "MAP@12", "ColdRecall@12"),
            "MAP@12",
            _hm,
        ),
        Protocol("ml100k-loo", ("HR@10", "NDCG@10"), "NDCG@10", _movielens),
    )
}


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ConfigError(
            f"unknown protocol {name!r}; protocols are {', '.join(PROTOCOLS)}"
        ) from None
