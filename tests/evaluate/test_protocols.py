"""The protocols reproduce the counts their sheet states, on the real files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mercato.errors import ConfigError
from mercato.evaluate import PROTOCOLS, get_protocol

DatasetFolder = Callable[[str], Path]


@pytest.mark.realdata
def test_hm_multimodal_reproduces_the_sheet(public_dataset: DatasetFolder, data_root: Path) -> None:
    public_dataset("hm-fashion-sample")

    valid, test = get_protocol("hm-multimodal").build(data_root)

    # Test cutoff 2020-08-28: 8,891 training purchases, 196 users, 807 targets, 548 cold.
    assert len(test.train.events) == 8891
    assert test.train.n_items == 11800
    assert test.n_queries == 196
    assert test.targets.nnz == 807
    assert test.cold_items is not None
    assert test.targets[:, test.cold_items].nnz == 548
    assert test.exclude is None  # people re-buy: nothing is excluded
    # Validation cutoff 2020-07-30: 7,981 training purchases, 199 users, 699 targets.
    assert len(valid.train.events) == 7981
    assert valid.n_queries == 199
    assert valid.targets.nnz == 699


@pytest.mark.realdata
def test_beauty_loo_holds_the_last_two_items(
    public_dataset: DatasetFolder, data_root: Path
) -> None:
    public_dataset("amazon-seq-iclrec")

    valid, test = get_protocol("beauty-loo").build(data_root)

    assert test.n_queries == valid.n_queries == 22363
    assert len(test.train.events) == 198502 - 22363
    assert len(valid.train.events) == 198502 - 2 * 22363
    assert test.exclude is not None
    # Every item of each user's input sequence is excluded from that user's ranking.
    assert test.exclude.nnz == test.train.user_items(binary=True).nnz


@pytest.mark.realdata
def test_ml100k_loo_holds_the_latest_two(public_dataset: DatasetFolder, data_root: Path) -> None:
    public_dataset("movielens-100k-recbole")

    valid, test = get_protocol("ml100k-loo").build(data_root)

    assert test.n_queries == valid.n_queries == 943
    assert len(test.train.events) == 100_000 - 943
    assert len(valid.train.events) == 100_000 - 2 * 943
    # The validation target of each user is in the test task's training events, after the rest.
    train = test.train.events
    latest = train.sort_values(["timestamp", "position"]).groupby("user_idx").tail(1)
    assert valid.targets[np.searchsorted(valid.users, latest["user_idx"]), :].nnz == 943
    held = valid.targets.tocoo()
    pairs = set(zip(np.asarray(valid.users)[held.row], held.col, strict=True))
    assert pairs == set(zip(latest["user_idx"], latest["item_idx"], strict=True))


def test_unknown_protocol_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="beauty-loo"):
        get_protocol("nope")


def test_protocol_metric_keys_follow_the_sheet() -> None:
    assert PROTOCOLS["beauty-loo"].metrics == ("HR@10", "NDCG@10", "HR@20", "NDCG@20")
    assert PROTOCOLS["diginetica-session"].metrics[:2] == ("P@20", "MRR@20")
    assert PROTOCOLS["hm-multimodal"].metrics == ("Recall@12", "NDCG@12", "MAP@12", "ColdRecall@12")
    assert PROTOCOLS["ml100k-loo"].metrics == ("HR@10", "NDCG@10")
