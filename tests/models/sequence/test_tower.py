"""The item tower seam: a model built over another tower trains, saves and loads through it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from mercato.models import SASRec
from mercato.models.sequence import ItemTower

from .planted import cycles


class FeatureTower(ItemTower):
    """An id embedding plus a projected per-item feature, the shape of a multimodal tower."""

    features: Tensor

    def __init__(self, n_items: int, dim: int) -> None:
        super().__init__(n_items, dim)
        # A fixed feature per item (row 0: padding), kept as a buffer so it is saved too.
        self.register_buffer("features", torch.linspace(0.0, 1.0, n_items + 1)[:, None])
        self.project = nn.Linear(1, dim)

    def forward(self, items: Tensor) -> Tensor:
        fused: Tensor = self.ids(items) + self.project(self.features[items])
        return fused * (items > 0).unsqueeze(-1)

    def item_vectors(self) -> Tensor:
        return self.forward(torch.arange(1, self.n_items + 1))


class FeatureSASRec(SASRec):
    def _build_tower(self, n_items: int) -> ItemTower:
        return FeatureTower(n_items, self.config.embedding_dim)


def test_a_replacement_tower_trains_saves_and_loads(tmp_path: Path) -> None:
    _, train, _, _ = cycles(n_sequences=40)
    settings = {"embedding_dim": 8, "max_len": 6, "n_blocks": 1, "max_epochs": 2}
    users = np.arange(train.n_users)

    model = FeatureSASRec(**settings).fit(train)
    plain = SASRec(**settings).fit(train)
    assert not np.array_equal(model.score_users(users), plain.score_users(users))

    loaded = FeatureSASRec.load(model.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.score_users(users), model.score_users(users))
