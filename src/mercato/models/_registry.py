"""Models by name: what the CLI, benchmarks and the server build and load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mercato.errors import ConfigError, DataError
from mercato.models._artifact import read_artifact
from mercato.models._base import Recommender
from mercato.models._ease import EASE
from mercato.models._implicit import ALS, BPR
from mercato.models._knn import ItemKNN, UserKNN
from mercato.models._popularity import Popularity, RecentPopularity

__all__ = ["get_model", "load_model", "model_class", "model_names"]

_MODELS: dict[str, type[Recommender[Any]]] = {
    model.name: model for model in (Popularity, RecentPopularity, ItemKNN, UserKNN, EASE, ALS, BPR)
}


def model_names() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_MODELS)


def model_class(name: str) -> type[Recommender[Any]]:
    """The model class registered as ``name``."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}; choose one of {', '.join(model_names())}."
        ) from None


def get_model(name: str, **overrides: Any) -> Recommender[Any]:
    """An unfitted model ``name`` with its default config changed by ``overrides``.

    Example:
        >>> get_model("itemknn", k_neighbours=50).config.k_neighbours
        50
    """
    return model_class(name)(**overrides)


def load_model(path: str | Path) -> Recommender[Any]:
    """The model saved at ``path``, whatever its kind (read from its ``model.json``)."""
    meta, _ = read_artifact(path)
    name = meta["name"]
    if name not in _MODELS:
        raise DataError(
            "the artifact holds a model this mercato version does not know",
            file=Path(path) / "model.json",
            found=name,
            expected=f"one of {', '.join(model_names())}",
        )
    return _MODELS[name].load(path)
