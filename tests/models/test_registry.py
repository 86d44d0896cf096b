"""The model registry and the package's public surface."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

import mercato.models
from mercato.errors import ConfigError, DataError
from mercato.models import EASE, ItemKNN, Recommender, get_model, load_model, model_names

from .data import tiny_shop


def test_every_baseline_is_registered() -> None:
    baselines = {"als", "bpr", "ease", "itemknn", "pop", "pop-recent", "userknn"}
    assert baselines <= set(model_names())
    assert model_names() == sorted(model_names())
    for name in model_names():
        model = get_model(name)
        assert isinstance(model, Recommender) and model.name == name


def test_get_model_passes_overrides_and_rejects_unknown_names() -> None:
    model = get_model("itemknn", k_neighbours=5)
    assert isinstance(model, ItemKNN) and model.config.k_neighbours == 5
    with pytest.raises(ConfigError, match="unknown model 'wavenet'; choose one of als, bpr"):
        get_model("wavenet")


def test_load_model_reads_the_name_from_the_artifact(tmp_path: Path) -> None:
    path = EASE(l2=10.0).fit(tiny_shop()).save(tmp_path / "ease")
    loaded = load_model(path)
    assert isinstance(loaded, EASE) and loaded.config.l2 == 10.0

    meta = path / "model.json"
    meta.write_text(meta.read_text().replace('"ease"', '"wavenet"'))
    with pytest.raises(DataError, match=r"does not know.*wavenet"):
        load_model(path)


def test_public_surface_is_sorted_and_complete() -> None:
    exported = mercato.models.__all__
    # The project's (and ruff's) order: CONSTANTS, then Classes, then functions.
    assert exported == sorted(
        exported, key=lambda name: (not name.isupper(), name[0].islower(), name)
    )
    public = {
        name
        for name, value in vars(mercato.models).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    # Torch-backed names are served lazily by the package's __getattr__.
    lazy = mercato.models._SEQUENCE_NAMES | mercato.models._CONTENT_KNN_NAMES
    assert set(exported) == public | lazy
    assert all(getattr(mercato.models, name) is not None for name in exported)
