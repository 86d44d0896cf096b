"""Models by name: what the CLI, benchmarks and the server build and load."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from mercato.errors import ConfigError, DataError
from mercato.models._artifact import read_artifact
from mercato.models._base import Recommender
from mercato.models._ease import EASE
from mercato.models._implicit import ALS, BPR
from mercato.models._knn import ItemKNN, UserKNN
from mercato.models._popularity import Popularity, RecentPopularity
from mercato.models._session_knn import SessionKNN

__all__ = ["get_model", "load_model", "model_class", "model_names"]

_MODELS: dict[str, type[Recommender[Any]]] = {
    model.name: model
    for model in (
        Popularity,
        RecentPopularity,
        ItemKNN,
        UserKNN,
        SessionKNN,
        EASE,
        ALS,
        BPR,
    )
}

#: Models built on torch, imported on first use so that the CF baselines, the CLI and the
#: service start without loading torch (and work where the ``features`` extra is not installed).
_LAZY_MODELS: dict[str, tuple[str, str]] = {
    "caser": ("mercato.models.sequence", "Caser"),
    "content-knn": ("mercato.models._content_knn", "ContentKNN"),
    "gru4rec": ("mercato.models.sequence", "GRU4Rec"),
    "hybrid-ranker": ("mercato.models._hybrid_ranker", "HybridRanker"),
    "multimodal": ("mercato.models.sequence", "MultimodalSASRec"),
    "multimodal-caser": ("mercato.models.sequence", "MultimodalCaser"),
    "multimodal-gru4rec": ("mercato.models.sequence", "MultimodalGRU4Rec"),
    "sasrec": ("mercato.models.sequence", "SASRec"),
    "two-tower": ("mercato.models.sequence", "TwoTower"),
}


def model_names() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted({*_MODELS, *_LAZY_MODELS})


def model_class(name: str) -> type[Recommender[Any]]:
    """The model class registered as ``name``."""
    if name in _LAZY_MODELS and name not in _MODELS:
        module, attribute = _LAZY_MODELS[name]
        try:
            _MODELS[name] = getattr(import_module(module), attribute)
        except ImportError as error:
            raise ConfigError(
                f"model {name!r} needs torch ({error}); install it with "
                "pip install 'mercato[features]'"
            ) from error
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
    if name not in model_names():
        raise DataError(
            "the artifact holds a model this mercato version does not know",
            file=Path(path) / "model.json",
            found=name,
            expected=f"one of {', '.join(model_names())}",
        )
    return model_class(name).load(path)
