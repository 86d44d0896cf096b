"""Model configs: validation, keyword construction, JSON round trip."""

from __future__ import annotations

import pytest

from mercato.data import DEFAULT_EVENT_WEIGHTS, EventType
from mercato.errors import ConfigError
from mercato.models import ItemKNN, ItemKNNConfig, get_model


def test_keyword_settings_and_config_objects_build_the_same_model() -> None:
    assert ItemKNN(k_neighbours=50).config == ItemKNN(ItemKNNConfig(k_neighbours=50)).config
    assert ItemKNN(ItemKNNConfig(k_neighbours=50), shrinkage=0).config.shrinkage == 0.0


def test_errors_name_the_setting_and_its_range() -> None:
    with pytest.raises(ConfigError, match=r"k_neighbours must be an integer >= 1; got 0\."):
        ItemKNNConfig(k_neighbours=0)
    with pytest.raises(ConfigError, match=r"shrinkage must be a finite number in \[0.0, inf\)"):
        ItemKNNConfig(shrinkage=float("nan"))
    with pytest.raises(ConfigError, match="its settings are event_weights, k_neighbours"):
        ItemKNN(k_neigbours=5)


def test_event_weights_are_checked_and_frozen() -> None:
    weights = {"purchase": 5, EventType.VIEW: 1.0}
    config = ItemKNNConfig(event_weights=weights)
    weights["purchase"] = 100.0  # the caller's dict changing later must not reach the config
    assert config.weights == {EventType.PURCHASE: 5.0, EventType.VIEW: 1.0}
    with pytest.raises(TypeError):
        config.event_weights["view"] = 3.0  # type: ignore[index]

    with pytest.raises(ConfigError, match=r"teleport.*use view, click"):
        ItemKNNConfig(event_weights={"teleport": 1.0})
    with pytest.raises(ConfigError, match=r"event_weights\['view'\] must be a finite number >= 0"):
        ItemKNNConfig(event_weights={"view": -1.0})
    with pytest.raises(ConfigError, match="at least one event type a weight > 0"):
        ItemKNNConfig(event_weights={"view": 0.0})


def test_default_weights_are_the_datasets() -> None:
    assert ItemKNNConfig().weights is DEFAULT_EVENT_WEIGHTS


def test_to_dict_round_trips() -> None:
    config = ItemKNNConfig(k_neighbours=7, event_weights={"cart": 2.0}, seed=5)
    assert ItemKNNConfig.from_dict(config.to_dict()) == config
    assert get_model("itemknn", **config.to_dict()).config == config
    assert config.to_dict()["event_weights"] == {"cart": 2.0}
