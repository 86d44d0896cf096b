"""Every registered model against the shared recommender contract."""

from __future__ import annotations

from typing import Any

import pytest

from mercato.models import Recommender, get_model, model_names

from .contract import MakeModel, RecommenderContract, shop, split  # noqa: F401  (fixtures)
from .sequence.test_contract import TINY

# The sequence models run the same contract in tests/models/sequence/test_contract.py, with
# configs sized for tiny data, and content-knn and hybrid-ranker in their own files beside them,
# on a shop with a catalogue; every other registered model runs it here.
RUN_ELSEWHERE = frozenset({*TINY, "content-knn", "hybrid-ranker"})

# Settings that keep the iterative models quick on a 24 x 16 shop.
FAST: dict[str, dict[str, Any]] = {
    "als": {"factors": 8, "iterations": 4, "num_threads": 1},
    "bpr": {"factors": 8, "iterations": 20},
}

# The model whose scores a cold user gets: popularity, except where a model says otherwise.
FALLBACK = {"pop-recent": "pop-recent"}


@pytest.fixture(params=[name for name in model_names() if name not in RUN_ELSEWHERE])
def model_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_model(model_name: str) -> MakeModel:
    def build(**overrides: Any) -> Recommender[Any]:
        return get_model(model_name, **{**FAST.get(model_name, {}), **overrides})

    return build


@pytest.fixture
def fallback_name(model_name: str) -> str:
    return FALLBACK.get(model_name, "pop")


class TestContract(RecommenderContract):
    pass
