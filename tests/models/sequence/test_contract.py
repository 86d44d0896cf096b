"""The sequence models against the shared recommender contract, with configs sized for tiny data."""

from __future__ import annotations

from typing import Any

import pytest

from mercato.models import Recommender, get_model

from ..contract import MakeModel, RecommenderContract, shop, split  # noqa: F401  (fixtures)

# The content models read no content of the tiny shop, which has none; the fast encoders keep
# the feature build to milliseconds all the same.
CONTENT: dict[str, Any] = {"text_encoder": "tfidf", "image_encoder": "none", "progress": False}

# Small enough that every fit in the suite takes a few milliseconds.
TINY: dict[str, dict[str, Any]] = {
    "caser": {"embedding_dim": 8, "max_len": 3, "n_horizontal": 2, "n_vertical": 2},
    "gru4rec": {"embedding_dim": 8, "max_len": 6},
    "sasrec": {"embedding_dim": 8, "max_len": 6, "n_blocks": 1},
    "multimodal": {"embedding_dim": 8, "max_len": 6, "n_blocks": 1, **CONTENT},
    "multimodal-caser": {
        "embedding_dim": 8,
        "max_len": 3,
        "n_horizontal": 2,
        "n_vertical": 2,
        **CONTENT,
    },
    "multimodal-gru4rec": {"embedding_dim": 8, "max_len": 6, **CONTENT},
    "two-tower": {"embedding_dim": 8, "max_len": 6, **CONTENT},
}
SHARED: dict[str, Any] = {"max_epochs": 2, "n_negatives": 4}


@pytest.fixture(params=sorted(TINY))
def model_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_model(model_name: str) -> MakeModel:
    def build(**overrides: Any) -> Recommender[Any]:
        return get_model(model_name, **{**SHARED, **TINY[model_name], **overrides})

    return build


@pytest.fixture
def fallback_name() -> str:
    return "pop"


class TestSequenceContract(RecommenderContract):
    pass
