"""Sequence model settings: validated when built, one error naming the setting."""

from __future__ import annotations

import pytest

from mercato.errors import ConfigError
from mercato.models import CaserConfig, SASRecConfig, get_model


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"sequence_key": "visitor"}, "sequence_key"),
        ({"loss": "bpr"}, "loss"),
        ({"negative_sampler": "zipf"}, "negative_sampler"),
        ({"logq_correction": 1.5}, "logq_correction"),
        ({"score_temperature": 0.0}, "score_temperature"),
        ({"score_temperature": -0.1}, "score_temperature"),
        ({"dropout": 1.0}, "dropout"),
        ({"lr": 0.0}, "lr"),
        ({"time_buckets": 1}, "time_buckets"),
        ({"max_len": 0}, "max_len"),
        ({"n_heads": 3}, "n_heads must divide embedding_dim"),
    ],
)
def test_bad_settings_name_themselves(settings: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        SASRecConfig(**settings)  # type: ignore[arg-type]


def test_defaults_follow_the_papers() -> None:
    sasrec = SASRecConfig()
    assert (sasrec.max_len, sasrec.n_blocks, sasrec.n_heads) == (50, 2, 1)
    assert CaserConfig().max_len == 5  # Caser's window L
    assert SASRecConfig(n_heads=4, embedding_dim=64).n_heads == 4


def test_config_round_trips_through_plain_values() -> None:
    model = get_model("gru4rec", n_layers=2, loss="softmax", lr=3e-3)
    assert type(model.config).from_dict(model.config.to_dict()) == model.config
