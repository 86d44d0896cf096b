"""Recommenders: one contract (:class:`Recommender`) for every model, and a registry by name.

A typical session::

    from mercato.models import get_model, load_model

    model = get_model("itemknn", k_neighbours=50).fit(dataset)
    top = model.recommend(users, k=10)  # top.items [U, 10], top.scores [U, 10]
    model.save("models/itemknn")
    same = load_model("models/itemknn")
"""

from mercato.models._base import Recommendations, Recommender
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
from mercato.models._registry import get_model, load_model, model_class, model_names

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "ALSConfig",
    "BPRConfig",
    "EASEConfig",
    "ItemKNN",
    "ItemKNNConfig",
    "ModelConfig",
    "Popularity",
    "PopularityConfig",
    "RecentPopularity",
    "RecentPopularityConfig",
    "Recommendations",
    "Recommender",
    "UserKNN",
    "UserKNNConfig",
    "get_model",
    "load_model",
    "model_class",
    "model_names",
]
