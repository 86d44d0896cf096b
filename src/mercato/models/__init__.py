"""Recommenders: one contract (:class:`Recommender`) for every model, and a registry by name.

A typical session::

    from mercato.models import get_model, load_model

    model = get_model("itemknn", k_neighbours=50).fit(dataset)
    top = model.recommend(users, k=10)  # top.items [U, 10], top.scores [U, 10]
    model.save("models/itemknn")
    same = load_model("models/itemknn")
"""

from typing import Any as _Any

from mercato.models._base import Recommender
from mercato.models._config import ModelConfig
from mercato.models._ease import EASE, EASEConfig
from mercato.models._implicit import ALS, BPR, ALSConfig, BPRConfig
from mercato.models._knn import ItemKNN, ItemKNNConfig, UserKNN, UserKNNConfig
from mercato.models._popularity import (
    Popularity,
    PopularityConfig,
    RecentPopularity,
    RecentPopularityConfig,
)
from mercato.models._recommendations import Recommendations
from mercato.models._registry import get_model, load_model, model_class, model_names
from mercato.models._session_knn import SessionKNN, SessionKNNConfig

#: Names served from ``mercato.models.sequence`` on first access, so importing this package does
#: not load torch.
_SEQUENCE_NAMES = frozenset(
    {
        "Caser",
        "CaserConfig",
        "GRU4Rec",
        "GRU4RecConfig",
        "MultimodalCaser",
        "MultimodalCaserConfig",
        "MultimodalConfig",
        "MultimodalGRU4Rec",
        "MultimodalGRU4RecConfig",
        "MultimodalSASRec",
        "SASRec",
        "SASRecConfig",
        "TwoTower",
        "TwoTowerConfig",
    }
)


#: The content neighbourhood model, served from its module on first access for the same reason.
_CONTENT_KNN_NAMES = frozenset({"ContentKNN", "ContentKNNConfig"})


def __getattr__(name: str) -> _Any:
    if name in _SEQUENCE_NAMES:
        from mercato.models import sequence

        return getattr(sequence, name)
    if name in _CONTENT_KNN_NAMES:
        from mercato.models import _content_knn

        return getattr(_content_knn, name)
    raise AttributeError(f"module 'mercato.models' has no attribute {name!r}")


__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "ALSConfig",
    "BPRConfig",
    "Caser",
    "CaserConfig",
    "ContentKNN",
    "ContentKNNConfig",
    "EASEConfig",
    "GRU4Rec",
    "GRU4RecConfig",
    "ItemKNN",
    "ItemKNNConfig",
    "ModelConfig",
    "MultimodalCaser",
    "MultimodalCaserConfig",
    "MultimodalConfig",
    "MultimodalGRU4Rec",
    "MultimodalGRU4RecConfig",
    "MultimodalSASRec",
    "Popularity",
    "PopularityConfig",
    "RecentPopularity",
    "RecentPopularityConfig",
    "Recommendations",
    "Recommender",
    "SASRec",
    "SASRecConfig",
    "SessionKNN",
    "SessionKNNConfig",
    "TwoTower",
    "TwoTowerConfig",
    "UserKNN",
    "UserKNNConfig",
    "get_model",
    "load_model",
    "model_class",
    "model_names",
]
